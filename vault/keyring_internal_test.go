package vault

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

func TestClassifyKeyringError(t *testing.T) {
	tests := []struct {
		in   error
		want error // nil: passed through unchanged
	}{
		{gokeyring.ErrNotFound, ErrNotFound},
		{fmt.Errorf("wrapped: %w", gokeyring.ErrNotFound), ErrNotFound},
		{gokeyring.ErrSetDataTooBig, ErrTooBig},
		{gokeyring.ErrUnsupportedPlatform, ErrKeyringUnavailable},
		{errors.New("dial unix /run/user/1000/bus: connect: no such file or directory"), ErrKeyringUnavailable},
		{errors.New("dial unix /tmp/bus: connect: connection refused"), ErrKeyringUnavailable},
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files"), ErrKeyringUnavailable},
		{errors.New("dbus: couldn't determine address of session bus"), ErrKeyringUnavailable},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrKeyringLocked},
		{errors.New("Cannot create an item in a locked collection"), ErrKeyringLocked},
		{errors.New("prompt dismissed by the user"), ErrKeyringLocked},
		{errors.New("something else entirely"), nil},
	}
	for _, tt := range tests {
		got := classifyKeyringError(tt.in)
		if tt.want == nil {
			if got != tt.in {
				t.Errorf("classifyKeyringError(%q) = %v, want it unchanged", tt.in, got)
			}
			continue
		}
		if !errors.Is(got, tt.want) {
			t.Errorf("classifyKeyringError(%q) = %v, want it to wrap %v", tt.in, got, tt.want)
		}
	}
}

// A keyring call that does not answer gives ErrKeyringLocked after the
// timeout instead of blocking (synctest's fake clock: no real waiting).
func TestSystemKeyringCallTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := &SystemKeyring{Service: "test", Timeout: 5 * time.Second}
		release := make(chan struct{})
		start := time.Now()
		_, err := k.call("get", "billing/secret", func() (string, error) {
			<-release // a password prompt nobody answers
			return "late", nil
		})
		if !errors.Is(err, ErrKeyringLocked) {
			t.Errorf("call that never answers: %v, want ErrKeyringLocked", err)
		}
		if waited := time.Since(start); waited != 5*time.Second {
			t.Errorf("gave up after %v of fake time, want the 5s timeout", waited)
		}
		close(release)
		synctest.Wait()
	})
}

func TestSystemKeyringCallDefaultTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := &SystemKeyring{Service: "test"} // zero: DefaultKeyringTimeout
		release := make(chan struct{})
		start := time.Now()
		_, err := k.call("set", "billing/secret", func() (string, error) { <-release; return "", nil })
		if !errors.Is(err, ErrKeyringLocked) || time.Since(start) != DefaultKeyringTimeout {
			t.Errorf("got %v after %v, want ErrKeyringLocked after %v", err, time.Since(start), DefaultKeyringTimeout)
		}
		close(release)
		synctest.Wait()
	})
}

func TestSystemKeyringCallResult(t *testing.T) {
	k := NewSystemKeyring(DefaultService)
	if k.Timeout != DefaultKeyringTimeout || k.Service != DefaultService {
		t.Errorf("NewSystemKeyring = %+v, want the default service and timeout", k)
	}
	v, err := k.call("get", "x", func() (string, error) { return "value", nil })
	if err != nil || v != "value" {
		t.Errorf("call = %q, %v; want value, nil", v, err)
	}
	_, err = k.call("get", "x", func() (string, error) { return "", gokeyring.ErrNotFound })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("call returning go-keyring's ErrNotFound: %v, want ErrNotFound", err)
	}
}

// Only cached tokens' keys go to the session collection: never a secret,
// whatever a name looks like (names have no "/").
func TestIsTokenKey(t *testing.T) {
	for key, want := range map[string]bool{
		tokenKey("billing", ""):         true,
		tokenKey("billing", "a1b2c3"):   true,
		tokenKey("token", ""):           true,
		secretKey("billing"):            false,
		nextSecretKey("token"):          false,
		newSecretKey("token"):           false,
		secretKey("token"):              false,
		"billing/tokens":                false,
		"token":                         false,
		"":                              false,
		"billing/secret/token":          false,
		"billing/token-old":             false,
		tokenKey("billing", "") + "x/y": false,
	} {
		if got := isTokenKey(key); got != want {
			t.Errorf("isTokenKey(%q) = %v, want %v", key, got, want)
		}
	}
}

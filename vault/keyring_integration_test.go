package vault_test

// Integration tests against the real Secret Service. Run them with an
// unlocked gnome-keyring on a private session bus:
//
//	dbus-run-session -- bash -c 'eval "$(printf %s pw | gnome-keyring-daemon --replace --unlock --components=secrets)";
//	  TOKENTRAY_REQUIRE_KEYRING=1 go test -race -count=1 -run SystemKeyring ./vault/'
//
// Without a session bus they skip, unless TOKENTRAY_REQUIRE_KEYRING=1 (as in
// CI), when they fail.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

const envRequireKeyring = "TOKENTRAY_REQUIRE_KEYRING"

// systemKeyring returns the real keyring under a service name unique to this
// test, and removes whatever the test leaves under it. It skips the test
// when there is no Secret Service, or fails it when TOKENTRAY_REQUIRE_KEYRING
// is 1.
func systemKeyring(t *testing.T) (*vault.SystemKeyring, string) {
	t.Helper()
	unavailable := func(msg string) {
		t.Helper()
		if os.Getenv(envRequireKeyring) == "1" {
			t.Fatalf("%s (%s=1, so this is a failure)", msg, envRequireKeyring)
		}
		t.Skip(msg)
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		unavailable("no session bus: run under dbus-run-session with gnome-keyring, see README")
	}
	if _, err := exec.LookPath("secret-tool"); err != nil {
		unavailable("secret-tool not found (apt-get install libsecret-tools), see README")
	}
	service := "io.github.tokentray.test-" + randomHex(t, 8)
	kr := &vault.SystemKeyring{Service: service, Timeout: 20 * time.Second}
	if _, err := kr.Get("probe"); !errors.Is(err, vault.ErrNotFound) {
		unavailable(fmt.Sprintf("the Secret Service does not answer (%v): run under dbus-run-session with gnome-keyring, see README", err))
	}
	t.Cleanup(func() {
		// Best effort: remove every item of this test's service.
		_ = exec.Command("secret-tool", "clear", "service", service).Run()
	})
	return kr, service
}

// secretTool runs secret-tool with args and returns stdout and stderr
// together (search prints attributes on stderr).
func secretTool(t *testing.T, args ...string) (stdout, all string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(t.Context(), "secret-tool", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("secret-tool %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), out.String() + errb.String()
}

func TestSystemKeyringStore(t *testing.T) {
	kr, service := systemKeyring(t)
	s, err := vault.Open(filepath.Join(t.TempDir(), "tokentray"), kr)
	if err != nil {
		t.Fatal(err)
	}
	secret := "sec-" + randomHex(t, 24)
	mustAdd(t, s, validClient(), secret+"\n")

	if got, err := s.Secret("billing"); err != nil || got != secret {
		t.Errorf("Secret through the store = %q, %v; want the stored secret", got, err)
	}
	// An independent reader sees the same item.
	if got, _ := secretTool(t, "lookup", "service", service, "username", "billing/secret"); got != secret {
		t.Errorf("secret-tool lookup = %q, want the stored secret", got)
	}

	// Token cache round trip with a 4 KiB token.
	tok := sampleToken("eyJ" + strings.Repeat("x", 4096-6) + randomHex(t, 3)[:3])
	if len(tok.AccessToken) != 4096 {
		t.Fatalf("token length %d, want 4096", len(tok.AccessToken))
	}
	if err := s.SetToken("billing", nil, tok); err != nil {
		t.Fatalf("SetToken of a 4 KiB token: %v", err)
	}
	got, err := s.Token("billing", nil)
	if err != nil || !sameToken(got, tok) {
		t.Errorf("Token = %v, %v; want %v back intact", got, err, tok)
	}
	if raw, _ := secretTool(t, "lookup", "service", service, "username", "billing/token"); !strings.Contains(raw, tok.AccessToken) {
		t.Errorf("secret-tool lookup of billing/token (%d bytes) does not hold the whole token", len(raw))
	}
	sub := sampleToken("sub-" + randomHex(t, 16))
	if err := s.SetToken("billing", []string{"chat:read"}, sub); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNextSecret("billing", "next-"+randomHex(t, 8)); err != nil {
		t.Fatal(err)
	}

	_, before := secretTool(t, "search", "--all", "service", service)
	for _, key := range []string{"billing/secret", "billing/token", "billing/next-secret", vault.TokenKey("billing", []string{"chat:read"})} {
		if !strings.Contains(before, "attribute.username = "+key+"\n") {
			t.Errorf("secret-tool search before Remove does not list %s:\n%s", key, before)
		}
	}

	if err := s.Remove("billing"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, after := secretTool(t, "search", "--all", "service", service); strings.Contains(after, "billing/") {
		t.Errorf("secret-tool search after Remove still finds items of billing:\n%s", after)
	}
	if _, err := s.Secret("billing"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Secret after Remove: %v, want ErrNotFound", err)
	}
}

func TestSystemKeyringErrors(t *testing.T) {
	kr, _ := systemKeyring(t)
	if _, err := kr.Get("missing/secret"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Get of a missing key: %v, want ErrNotFound", err)
	}
	if err := kr.Delete("missing/secret"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Delete of a missing key: %v, want ErrNotFound", err)
	}
	if err := kr.Set("k/secret", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := kr.Set("k/secret", "v2"); err != nil { // replaces, no duplicate
		t.Fatal(err)
	}
	if v, err := kr.Get("k/secret"); err != nil || v != "v2" {
		t.Errorf("Get after two Sets = %q, %v; want v2", v, err)
	}
	if err := kr.Delete("k/secret"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, err := kr.Get("k/secret"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
}

// The real keyring holds the secrets; the configuration directory holds
// none of them, before or after Remove.
func TestSystemKeyringNoSecretsOnDisk(t *testing.T) {
	kr, _ := systemKeyring(t)
	s, err := vault.Open(filepath.Join(t.TempDir(), "tokentray"), kr)
	if err != nil {
		t.Fatal(err)
	}
	checkNoSecretsOnDisk(t, s, kr)
}

// With the session bus address pointing to a socket that does not exist,
// the keyring fails fast with ErrKeyringUnavailable. It runs in a fresh
// process because go-keyring's D-Bus library keeps its session connection
// for the life of the process.
func TestSystemKeyringUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	sock := filepath.Join(t.TempDir(), "no-such-bus")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a guard against a hang, not a measurement
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envRole+"=keyring-unavailable", "DBUS_SESSION_BUS_ADDRESS=unix:path="+sock)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
}

// keyringUnavailableHelper runs in the helper process of
// TestSystemKeyringUnavailable. Its timeout is long: an error wrapping
// ErrKeyringUnavailable (not ErrKeyringLocked, which a timeout gives) shows
// the call failed at once rather than hanging until the timeout.
func keyringUnavailableHelper() error {
	kr := &vault.SystemKeyring{Service: "io.github.tokentray.test-unavailable", Timeout: time.Minute}
	calls := []struct {
		op string
		f  func() error
	}{
		{"get", func() error { _, err := kr.Get("x/secret"); return err }},
		{"set", func() error { return kr.Set("x/secret", "v") }},
		{"delete", func() error { return kr.Delete("x/secret") }},
	}
	for _, c := range calls {
		err := c.f()
		if !errors.Is(err, vault.ErrKeyringUnavailable) {
			return fmt.Errorf("%s with no session bus: %v, want an error wrapping ErrKeyringUnavailable", c.op, err)
		}
		if strings.Contains(err.Error(), `"v"`) {
			return fmt.Errorf("%s: error shows the value: %v", c.op, err)
		}
	}
	return nil
}

// TestSystemKeyringFastGet checks the three-call read path against items
// go-keyring wrote: it must find them (not fall back), return them byte for
// byte, and report a missing item as not found.
func TestSystemKeyringFastGet(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fast path is the Linux Secret Service's")
	}
	kr, service := systemKeyring(t)
	values := map[string]string{
		"c1/secret": "s3cr+t/%=& with space",
		"c1/token":  strings.Repeat("eyJhbGciOi", 410), // 4,100 bytes
		"c2/secret": "ünïcödé ✓",
	}
	for key, v := range values {
		if err := kr.Set(key, v); err != nil {
			t.Fatalf("Set %s: %v", key, err)
		}
	}
	for key, want := range values {
		got, ok, err := vault.FastGet(service, key)
		if !ok || err != nil || got != want {
			t.Errorf("FastGet(%s) = %d bytes, ok %v, err %v; want %d bytes, ok, nil", key, len(got), ok, err, len(want))
		}
	}
	if _, ok, err := vault.FastGet(service, "c3/secret"); !ok || err == nil {
		t.Errorf("FastGet(missing) ok %v, err %v; want ok and a not-found error", ok, err)
	}
	if _, err := kr.Get("c3/secret"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Get(missing) = %v; want ErrNotFound", err)
	}
}

// The real Secret Service lists the store's items by service, tells when an
// item was written, and a store on it finds and deletes orphans.
func TestSystemKeyringOrphans(t *testing.T) {
	kr, _ := systemKeyring(t)
	s, err := vault.Open(t.TempDir(), kr)
	if err != nil {
		t.Fatal(err)
	}
	c := vault.Client{Name: "billing", ClientID: "id", TokenURL: "https://auth.example.com/token"}
	if err := s.Add(c, "secret"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"gone/secret", "gone/token", "stytch/project-test-1"} {
		if err := kr.Set(k, "v"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Orphans()
	if want := []string{"gone/secret", "gone/token"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Orphans = %q, %v; want %q", got, err, want)
	}
	if _, err := s.DeleteOrphans(); err != nil {
		t.Fatal(err)
	}
	keys, err := kr.Keys()
	slices.Sort(keys)
	if want := []string{"billing/secret", "stytch/project-test-1"}; err != nil || !slices.Equal(keys, want) {
		t.Errorf("Keys after DeleteOrphans = %q, %v; want %q", keys, err, want)
	}
	mod, err := kr.Modified("billing/secret")
	if err != nil || mod.IsZero() || time.Since(mod) > time.Hour || time.Until(mod) > time.Minute {
		t.Errorf("Modified = %v, %v; want about now", mod, err)
	}
	if ms, err := s.SecretDateMismatches(); err != nil || len(ms) != 0 {
		t.Errorf("SecretDateMismatches = %+v, %v; want none", ms, err)
	}
	if _, err := kr.Modified("gone/secret"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Modified of a deleted item: %v, want ErrNotFound", err)
	}
}

package rotation_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokentray/tokentray/hydratest"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// testKeyring returns the real Secret Service (under a service of the
// test's own, cleared afterwards) when a session bus is there and answers,
// else the in-memory fake.
// It also returns the service name ("" for the fake).
func testKeyring(t *testing.T) (vault.Keyring, string) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		service := "io.github.tokentray.test-rotation-" + randomHex(t, 6)
		kr := &vault.SystemKeyring{Service: service, Timeout: 20 * time.Second}
		if _, err := kr.Get("probe"); errors.Is(err, vault.ErrNotFound) {
			t.Cleanup(func() {
				if _, err := exec.LookPath("secret-tool"); err == nil {
					_ = exec.Command("secret-tool", "clear", "service", service).Run()
				}
			})
			return kr, service
		} else {
			t.Logf("the Secret Service does not answer (%v): using the in-memory keyring", err)
		}
	}
	return vaulttest.New(), ""
}

// TestHydraRotation rotates a client whose secret was changed through
// Hydra's admin API (which rejects the old secret at once), against a real
// Hydra and, under dbus-run-session with gnome-keyring, the real Secret
// Service.
func TestHydraRotation(t *testing.T) {
	srv := hydratest.Start(t)
	kr, service := testKeyring(t)
	t.Logf("keyring: Secret Service %v (service %q)", service != "", service)
	ctx := t.Context()

	id := "rotation-" + randomHex(t, 4)
	oldS, newS, wrongS := "old-"+randomHex(t, 16), "new-"+randomHex(t, 16), "wrong-"+randomHex(t, 16)
	srv.CreateClient(t, id, oldS, scopes, hydratest.AuthBasic)

	st, err := vault.Open(filepath.Join(t.TempDir(), "tokentray"), kr)
	if err != nil {
		t.Fatal(err)
	}
	c := vault.Client{Name: "hydra", ClientID: id, TokenURL: srv.TokenURL(), Scopes: scopes, AuthStyle: vault.AuthHeader}
	if err := st.Add(c, oldS); err != nil {
		t.Fatal(err)
	}
	ref := refresher.New(refresher.Options{Store: st})
	defer ref.Close()
	if _, err := ref.Token(ctx, "hydra", refresher.TokenOptions{}); err != nil {
		t.Fatalf("token with the old secret: %v", err)
	}

	// The admin rotates at the provider: the old secret stops working.
	srv.SetClientSecret(t, id, newS)
	c, _ = st.Get("hydra")
	var re *refresher.Error
	if _, err := refresher.Exchange(ctx, nil, c, oldS, nil); !errors.As(err, &re) || re.Class != refresher.ClassRejected {
		t.Fatalf("exchange with the old secret after the change: %v; want rejected", err)
	}

	rot := rotation.New(st)
	// A mistyped secret fails the proof against Hydra and changes nothing.
	if _, err := rot.Rotate(ctx, "hydra", wrongS, rotation.SwitchOptions{}); !errors.As(err, &re) || re.Class != refresher.ClassRejected {
		t.Fatalf("rotate with a wrong secret: %v; want rejected", err)
	}
	if got, _ := st.Secret("hydra"); got != oldS {
		t.Errorf("after a failed proof the current secret changed")
	}

	// The right one goes through; the baseline comes from the cached token.
	if err := rot.Stage("hydra", newS); err != nil {
		t.Fatalf("Stage: %v", err)
	}
	p, err := rot.Prove(ctx, "hydra")
	if err != nil {
		t.Fatalf("Prove: %v", err)
	}
	if p.BaselineFrom != rotation.FromCachedToken || p.Differs() {
		t.Errorf("baseline from %q, missing %v, extra %v; want the cached token, no difference", p.BaselineFrom, p.Missing, p.Extra)
	}
	res, err := rot.Switch(ctx, p, rotation.SwitchOptions{})
	if err != nil || len(res.Warnings) > 0 {
		t.Fatalf("Switch: %v, warnings %v", err, res.Warnings)
	}

	// The old secret is gone from the keyring; tokens come from the new one.
	c, _ = st.Get("hydra")
	for _, key := range vault.KeyringKeys(c) {
		v, err := kr.Get(key)
		if err != nil && !errors.Is(err, vault.ErrNotFound) {
			t.Fatalf("keyring get %s: %v", key, err)
		}
		if v == oldS {
			t.Errorf("keyring item %s still holds the old secret", key)
		}
	}
	if got, _ := st.Secret("hydra"); got != newS {
		t.Errorf("current secret is not the new one")
	}
	if service != "" {
		// A second, independent reader of the Secret Service.
		out, err := exec.Command("secret-tool", "lookup", "service", service, "username", vault.SecretKey("hydra")).Output()
		if err != nil || string(out) != newS {
			t.Errorf("secret-tool lookup of the secret: %v; want the new secret", err)
		}
	}
	if s, err := rot.Status("hydra"); err != nil || s.InProgress || s.Rotation.State != vault.RotationOK {
		t.Errorf("status after rotation: %+v, %v; want ok, not in progress", s, err)
	}
	if err := ref.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	fresh, err := ref.Refresh(ctx, "hydra")
	if err != nil {
		t.Fatalf("refresh with the new secret: %v", err)
	}
	if len(fresh.Missing) != 0 || fresh.Source != refresher.FromFetch {
		t.Errorf("fresh token: source %q, missing %v; want fetched, none missing", fresh.Source, fresh.Missing)
	}
}

package demo

// Integration test against the real Secret Service: the demo store as
// `tokentray demo` uses it (its own keyring service, recorded in the config
// directory). Run it with an unlocked gnome-keyring on a private session bus:
//
//	dbus-run-session -- bash -c 'eval "$(printf %s pw | gnome-keyring-daemon --replace --unlock --components=secrets)";
//	  TOKENTRAY_REQUIRE_KEYRING=1 go test -race -count=1 -run SystemKeyring ./demo/'
//
// Without a session bus it skips, unless TOKENTRAY_REQUIRE_KEYRING=1.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

func TestSystemKeyringDemoStore(t *testing.T) {
	unavailable := func(msg string) {
		t.Helper()
		if os.Getenv("TOKENTRAY_REQUIRE_KEYRING") == "1" {
			t.Fatalf("%s (TOKENTRAY_REQUIRE_KEYRING=1, so this is a failure)", msg)
		}
		t.Skip(msg)
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		unavailable("no session bus: run under dbus-run-session with gnome-keyring")
	}
	if _, err := exec.LookPath("secret-tool"); err != nil {
		unavailable("secret-tool not found (apt-get install libsecret-tools)")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	service := "io.github.tokentray.demo-test-" + hex.EncodeToString(b)
	dir := filepath.Join(t.TempDir(), "demo")
	if err := vault.SetServiceFor(dir, service); err != nil {
		t.Fatal(err)
	}
	st, err := vault.OpenSystem(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Secret("probe"); !errors.Is(err, vault.ErrNotFound) {
		unavailable(fmt.Sprintf("the Secret Service does not answer (%v)", err))
	}
	t.Cleanup(func() { _ = exec.Command("secret-tool", "clear", "service", service).Run() })

	s := startServer(t, demoserver.Options{Clients: demoserver.DefaultClients()})
	if err := Seed(s, st); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	r := newRefresher(t, st)
	for _, c := range s.Clients() {
		// An independent reader sees the secret under the demo's own service.
		out, err := exec.CommandContext(t.Context(), "secret-tool", "lookup", "service", service, "username", vault.SecretKey(c.Name)).Output()
		if err != nil || string(out) != c.Secret {
			t.Errorf("%s: secret-tool lookup gave %d bytes (err %v); want the demo secret", c.Name, len(out), err)
		}
		res, err := r.Token(t.Context(), c.Name, refresher.TokenOptions{})
		if err != nil {
			t.Fatalf("%s: Token: %v", c.Name, err)
		}
		cached, err := st.Token(c.Name, nil)
		if err != nil || cached.AccessToken != res.Token.AccessToken {
			t.Errorf("%s: token cached in the real keyring: %v, same %v", c.Name, err, cached.AccessToken == res.Token.AccessToken)
		}
	}
	// Nothing under the app's real service.
	if out, _ := exec.CommandContext(t.Context(), "secret-tool", "lookup", "service", vault.DefaultService, "username", vault.SecretKey("chat-bot")).Output(); len(out) != 0 {
		t.Errorf("a demo secret is under the real service %s", vault.DefaultService)
	}
}

package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/hydratest"
	"github.com/tokentray/tokentray/jwtinfo"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

// envRequireKeyring, when "1", turns a missing Secret Service into a test
// failure (CI sets it).
const envRequireKeyring = "TOKENTRAY_REQUIRE_KEYRING"

// realKeyringService returns a keyring service of the test's own on the
// real Secret Service, cleared afterwards; it skips the test when there is
// no session bus or no answer, unless TOKENTRAY_REQUIRE_KEYRING=1.
func realKeyringService(t *testing.T) string {
	t.Helper()
	unavailable := func(why string) {
		if os.Getenv(envRequireKeyring) == "1" {
			t.Fatalf("%s, and %s=1", why, envRequireKeyring)
		}
		t.Skip(why + ": run under dbus-run-session with gnome-keyring (see scripts/test.sh)")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		unavailable("no D-Bus session bus")
	}
	b := make([]byte, 6)
	rand.Read(b)
	service := "io.github.tokentray.test-cli-" + hex.EncodeToString(b)
	kr := &vault.SystemKeyring{Service: service, Timeout: 20 * time.Second}
	if _, err := kr.Get("probe"); !errors.Is(err, vault.ErrNotFound) {
		unavailable("the Secret Service does not answer: " + err.Error())
	}
	t.Cleanup(func() {
		if _, err := exec.LookPath("secret-tool"); err == nil {
			_ = exec.Command("secret-tool", "clear", "service", service).Run()
		}
	})
	return service
}

// secretToolLookup reads a keyring item with secret-tool, a second and
// independent Secret Service client; "" when there is none.
func secretToolLookup(t *testing.T, service, key string) string {
	t.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Log("secret-tool not installed: skipping the independent read")
		return ""
	}
	out, _ := exec.Command("secret-tool", "lookup", "service", service, "username", key).Output()
	return string(out)
}

// TestScenarioHydra walks the command line through a client's life against
// a real OAuth 2.0 server (Ory Hydra) and the real Secret Service, with the
// default keyring path (the service named in the config dir, as the demo
// does): add (secret on stdin) -> token -> header -> exec -> list --json ->
// status --due -> export/import -> set-secret -> a rejected secret ->
// remove.
func TestScenarioHydra(t *testing.T) {
	service := realKeyringService(t)
	srv := hydratest.Start(t)
	dir := t.TempDir()
	if err := vault.SetServiceFor(dir, service); err != nil {
		t.Fatal(err)
	}

	b := make([]byte, 4)
	rand.Read(b)
	clientID := "m2m-client-test-cli-" + hex.EncodeToString(b)
	secret := "hydra-cli-secret-" + hex.EncodeToString(b) + "-0123456789"
	srv.CreateClient(t, clientID, secret, []string{"models:read", "chat:invoke"}, hydratest.AuthBasic)

	var tokens []string
	run := func(want int, stdin string, args ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		e := env{
			stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
			getenv:  os.Getenv,
			environ: func() []string { return []string{"PATH=" + os.Getenv("PATH")} },
			// keyring nil: the OS keyring under the service recorded in dir.
		}
		code := run(context.Background(), e, append([]string{"--config", dir}, args...))
		stdout, stderr := out.String(), errb.String()
		if code != want {
			t.Fatalf("tokentray %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout, stderr)
		}
		if strings.Contains(stdout, secret) || strings.Contains(stderr, secret) {
			t.Fatalf("tokentray %s: the secret appears in the output", strings.Join(args, " "))
		}
		for _, tok := range tokens {
			if strings.Contains(stderr, tok) {
				t.Fatalf("tokentray %s: a token appears on stderr", strings.Join(args, " "))
			}
		}
		return stdout, stderr
	}

	// add: a real exchange with the secret from stdin.
	_, stderr := run(0, secret+"\n", "add", "hydra", "--token-url", srv.TokenURL(), "--client-id", clientID,
		"--scope", "models:read", "--auth", "header")
	if !strings.Contains(stderr, "granted scopes: models:read") {
		t.Errorf("add stderr %q; want the granted scopes", stderr)
	}
	if got := secretToolLookup(t, service, vault.SecretKey("hydra")); got != "" && got != secret {
		t.Errorf("secret-tool reads a different secret for hydra/secret")
	}
	beforeDoctor := srv.TokenRequests()

	// doctor: every check passes on the real Secret Service and Hydra.
	stdout, _ := run(0, "", "doctor")
	for _, want := range []string{"ok    session bus", "ok    secret service", "ok    keyring round trip", "ok    secret of hydra", "ok    endpoint "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, stdout)
		}
	}
	// doctor's endpoint check is one POST to the token endpoint, without
	// credentials.
	afterAdd := srv.TokenRequests()
	if reqs := srv.Requests(); afterAdd != beforeDoctor+1 || reqs[len(reqs)-1].Basic || reqs[len(reqs)-1].BodySecret {
		t.Errorf("doctor made %d token requests (last %+v); want 1, without credentials", afterAdd-beforeDoctor, reqs[len(reqs)-1])
	}

	// token: the JWT from add's test exchange, cached in the Secret Service.
	stdout, _ = run(0, "", "token", "hydra")
	token := strings.TrimSuffix(stdout, "\n")
	tokens = append(tokens, token)
	if n := srv.TokenRequests(); n != afterAdd {
		t.Errorf("token after add made %d new requests; want 0 (cached)", n-afterAdd)
	}
	info, err := jwtinfo.Parse(token)
	if err != nil {
		t.Fatalf("token is not a JWT: %v", err)
	}
	if scopes, _ := info.Scopes(); !slices.Equal(scopes, []string{"models:read"}) || info.String("sub") != clientID {
		t.Errorf("token claims: scopes %v, sub %q; want [models:read], %s", scopes, info.String("sub"), clientID)
	}

	stdout, _ = run(0, "", "header", "hydra")
	if stdout != "Authorization: Bearer "+token+"\n" {
		t.Errorf("header = %q; want the same token", stdout)
	}
	stdout, _ = run(0, "", "exec", "hydra", "--", "sh", "-c", `printf %s "$TOKENTRAY_TOKEN"`)
	if stdout != token {
		t.Errorf("exec printed %q; want the token", stdout)
	}

	stdout, _ = run(0, "", "list", "--json")
	var list []rotation.Report
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("list --json: %v\n%s", err, stdout)
	}
	if len(list) != 1 || list[0].ClientID != clientID || list[0].TokenExpiresAt == nil || list[0].Rotation.Status != "ok" {
		t.Errorf("list --json = %+v", list)
	}

	run(0, "", "status", "--due")
	old := time.Now().Add(-100 * 24 * time.Hour).UTC().Format(time.RFC3339)
	run(0, "", "edit", "hydra", "--secret-set-at", old)
	run(ExitError, "", "status", "--due")

	// export, remove (the keyring items go), import (metadata only), and
	// set-secret to use it again.
	exported, _ := run(0, "", "export")
	file := filepath.Join(t.TempDir(), "clients.json")
	if err := os.WriteFile(file, []byte(exported), 0o600); err != nil {
		t.Fatal(err)
	}
	run(0, "", "remove", "hydra", "--yes")
	if got := secretToolLookup(t, service, vault.SecretKey("hydra")); got != "" {
		t.Errorf("the secret is still in the Secret Service after remove")
	}
	run(ExitNoClient, "", "token", "hydra")
	run(0, "", "import", file)
	_, stderr = run(ExitError, "", "token", "hydra")
	if !strings.Contains(stderr, "set-secret") {
		t.Errorf("token without a secret: stderr %q; want a pointer to set-secret", stderr)
	}
	run(0, secret, "set-secret", "hydra")
	stdout, _ = run(0, "", "token", "hydra")
	tokens = append(tokens, strings.TrimSpace(stdout))

	// The provider rotates the secret: the stored one is rejected (exit 4).
	srv.SetClientSecret(t, clientID, secret+"-rotated")
	_, stderr = run(ExitRejected, "", "refresh", "hydra")
	if !strings.Contains(stderr, "set-secret") && !strings.Contains(stderr, "rotate") {
		t.Errorf("refresh with a rejected secret: stderr %q; want what to do", stderr)
	}

	run(0, "", "remove", "hydra", "--yes")
	stdout, _ = run(0, "", "list", "--json")
	if strings.TrimSpace(stdout) != "[]" {
		t.Errorf("list after remove = %q; want []", stdout)
	}
}

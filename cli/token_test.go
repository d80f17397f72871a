package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

func TestTokenAndHeader(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing", "models:read")

	stdout, stderr := h.mustRun(0, "", "token", "billing")
	issued := h.ts.tokens()
	if len(issued) != 1 {
		t.Fatalf("token server issued %d tokens; want 1", len(issued))
	}
	if stdout != issued[0]+"\n" {
		t.Errorf("token stdout = %q; want exactly the token and a newline", stdout)
	}
	if stderr != "" {
		t.Errorf("token stderr = %q; want nothing", stderr)
	}
	cached, err := h.store().Token("billing", nil)
	if err != nil || cached.AccessToken != issued[0] {
		t.Errorf("cached token: %v, %v; want the issued one in the keyring", cached, err)
	}

	// Warm: from the keyring cache, no second request.
	stdout, _ = h.mustRun(0, "", "token", "billing")
	if stdout != issued[0]+"\n" || h.ts.requests() != 1 {
		t.Errorf("second token call: %q after %d requests; want the cached token and 1 request", stdout, h.ts.requests())
	}
	stdout, _ = h.mustRun(0, "", "header", "billing")
	if stdout != "Authorization: Bearer "+issued[0]+"\n" || h.ts.requests() != 1 {
		t.Errorf("header = %q after %d requests; want the header line with the cached token", stdout, h.ts.requests())
	}

	// A cached token with 30 of 60 minutes left is fresh, but not for
	// --min-ttl 40m (given after NAME).
	now := time.Now()
	half := vault.Token{AccessToken: "half-used-token", TokenType: "bearer", Expiry: now.Add(30 * time.Minute), FetchedAt: now.Add(-30 * time.Minute)}
	if err := h.store().SetToken("billing", nil, half); err != nil {
		t.Fatal(err)
	}
	stdout, _ = h.mustRun(0, "", "token", "billing")
	if stdout != half.AccessToken+"\n" || h.ts.requests() != 1 {
		t.Errorf("token with 30m left: %q after %d requests; want the cached one", stdout, h.ts.requests())
	}
	stdout, _ = h.mustRun(0, "", "token", "billing", "--min-ttl", "40m")
	if h.ts.requests() != 2 || stdout != h.ts.tokens()[1]+"\n" {
		t.Errorf("token --min-ttl 40m: %q after %d requests; want a new token", stdout, h.ts.requests())
	}

	// refresh fetches again and prints nothing on stdout.
	stdout, stderr = h.mustRun(0, "", "refresh", "billing")
	if stdout != "" || !strings.Contains(stderr, "new token") || h.ts.requests() != 3 {
		t.Errorf("refresh: stdout %q stderr %q after %d requests", stdout, stderr, h.ts.requests())
	}
	h.addClient("other")
	h.mustRun(0, "", "refresh", "--all")
	if h.ts.requests() != 5 {
		t.Errorf("refresh --all made %d requests in all; want 5", h.ts.requests())
	}

	// inspect NAME shows the cached token's claims.
	stdout, _ = h.mustRun(0, "", "inspect", "billing", "--json")
	var info inspectJSON
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatal(err)
	}
	if info.Client != "billing" || info.Claims["sub"] != "m2m-client-test-billing" || info.Source == "" {
		t.Errorf("inspect billing = %+v", info)
	}
}

func TestTokenErrorClasses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness)
		args  []string
		want  int
	}{
		{"no such client", func(h *harness) {}, []string{"token", "nobody"}, ExitNoClient},
		{"rejected", func(h *harness) { h.ts.register("m2m-client-test-billing", "rotated-elsewhere", "models:read") }, []string{"token", "billing"}, ExitRejected},
		{"scope", func(h *harness) {}, []string{"token", "billing", "--scope", "org:admin"}, ExitScope},
		{"server error", func(h *harness) { h.ts.failWith("m2m-client-test-billing", http.StatusServiceUnavailable) }, []string{"header", "billing"}, ExitEndpoint},
		{"rate limited", func(h *harness) { h.ts.failWith("m2m-client-test-billing", http.StatusTooManyRequests) }, []string{"token", "billing"}, ExitEndpoint},
		{"unreachable", func(h *harness) { h.ts.Close() }, []string{"token", "billing"}, ExitEndpoint},
		{"keyring locked", func(h *harness) {
			h.kr.FailWith(func(op, key string) error { return vault.ErrKeyringLocked })
		}, []string{"token", "billing"}, ExitKeyring},
		{"keyring unavailable", func(h *harness) {
			h.kr.FailWith(func(op, key string) error { return vault.ErrKeyringUnavailable })
		}, []string{"exec", "billing", "--", "true"}, ExitKeyring},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.addClient("billing", "models:read")
			tt.setup(h)
			code, stdout, stderr := h.run("", tt.args...)
			if code != tt.want {
				t.Errorf("%q: exit %d; want %d\nstderr: %s", tt.args, code, tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("%q: stdout %q; want nothing on failure", tt.args, stdout)
			}
			if !strings.HasPrefix(stderr, "tokentray: ") {
				t.Errorf("%q: stderr %q; want a message", tt.args, stderr)
			}
		})
	}
}

func TestAddWithTestExchange(t *testing.T) {
	h := newHarness(t)
	secret := "correct-horse-battery"
	h.secrets = append(h.secrets, secret)
	h.ts.register("m2m-client-live-7", secret, "models:read", "chat:invoke")
	url := h.ts.tokenURL()

	code, stdout, stderr := h.run("wrong-secret-value\n", "add", "live", "--token-url", url, "--client-id", "m2m-client-live-7", "--scope", "models:read")
	h.secrets = append(h.secrets, "wrong-secret-value")
	if code != ExitRejected || stdout != "" || !strings.Contains(stderr, "nothing was saved") {
		t.Errorf("add with a wrong secret: exit %d, stdout %q, stderr %q; want %d and nothing saved", code, stdout, stderr, ExitRejected)
	}
	if _, err := h.store().Get("live"); err == nil {
		t.Errorf("a client whose test failed was saved")
	}
	code, _, _ = h.run(secret, "add", "live", "--token-url", url, "--client-id", "m2m-client-live-7", "--scope", "billing:admin")
	if code != ExitScope {
		t.Errorf("add with a scope not allowed: exit %d; want %d", code, ExitScope)
	}

	stdout, stderr = h.mustRun(0, secret+"\n", "add", "live", "--token-url", url, "--client-id", "m2m-client-live-7", "--scope", "models:read", "--auth", "body")
	if stdout != "" || !strings.Contains(stderr, "granted scopes: models:read") || !strings.Contains(stderr, "live environment") {
		t.Errorf("add: stdout %q, stderr %q; want the granted scopes on stderr", stdout, stderr)
	}
	// The test token is cached: token needs no new request.
	n := h.ts.requests()
	h.mustRun(0, "", "token", "live")
	if h.ts.requests() != n {
		t.Errorf("token after add made a request; want the test exchange's token from the cache")
	}
}

// TestExecEnvironment runs a child that prints its own environment and
// command line from /proc: the token is there under the asked name, the
// secret nowhere.
func TestExecEnvironment(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc")
	}
	h := newHarness(t)
	secret := h.addClient("billing", "models:read")
	h.environ = append(h.environ, EnvToken+"=stale-value-from-parent")

	// $$ is the shell itself: the direct child of exec.
	script := `tr '\0' '\n' < /proc/$$/environ; echo ---; tr '\0' ' ' < /proc/$$/cmdline`
	stdout, stderr := h.mustRun(0, "", "exec", "billing", "--", "sh", "-c", script)
	if stderr != "" {
		t.Errorf("exec stderr %q", stderr)
	}
	token := h.ts.tokens()[0]
	environ, cmdline, _ := strings.Cut(stdout, "---")
	if strings.Contains(stdout, secret) {
		t.Errorf("the secret appears in the child's environ or cmdline")
	}
	if strings.Contains(cmdline, token) {
		t.Errorf("the token appears in the child's command line")
	}
	vars := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(environ), "\n") {
		k, v, _ := strings.Cut(l, "=")
		if _, dup := vars[k]; dup {
			t.Errorf("%s appears twice in the child's environment", k)
		}
		vars[k] = v
		if k != EnvToken && strings.Contains(v, token) {
			t.Errorf("the token appears in %s", k)
		}
	}
	if vars[EnvToken] != token || vars[EnvClient] != "billing" || vars[EnvExec] != "1" {
		t.Errorf("child environment %v; want the token, client and exec marker", vars)
	}
	exp, err := time.Parse(time.RFC3339, vars[EnvTokenExpiresAt])
	if err != nil || time.Until(exp) < 50*time.Minute {
		t.Errorf("%s = %q (%v); want an RFC 3339 time about an hour ahead", EnvTokenExpiresAt, vars[EnvTokenExpiresAt], err)
	}

	// --env names the variable; the exit code is propagated; stdin passes through.
	code, stdout, stderr := h.run("piped input", "exec", "billing", "--env", "API_TOKEN", "--", "sh", "-c", `cat; echo to-stderr >&2; test "$API_TOKEN" = "`+token+`" && test -z "$TOKENTRAY_TOKEN" && exit 17`)
	if code != 17 || stdout != "piped input" || stderr != "to-stderr\n" {
		t.Errorf("exec --env: exit %d, stdout %q, stderr %q; want 17 and the streams passed through", code, stdout, stderr)
	}
	// Without "--" the command starts at the first argument after NAME.
	code, _, _ = h.run("", "exec", "billing", "false")
	if code != 1 {
		t.Errorf("exec billing false: exit %d; want 1", code)
	}
	code, _, stderr = h.run("", "exec", "billing", "--", "no-such-command-xyz")
	if code != 127 || !strings.Contains(stderr, "no-such-command-xyz: command not found") {
		t.Errorf("exec of a missing command: exit %d, stderr %q", code, stderr)
	}
}

// TestMissingConfigDir: a configuration directory that does not exist yet
// is created and holds no clients.
func TestMissingConfigDir(t *testing.T) {
	h := newHarness(t)
	h.dir = h.dir + "/sub/dir"
	stdout, _ := h.mustRun(0, "", "list", "--json")
	if strings.TrimSpace(stdout) != "[]" {
		t.Errorf("list --json on an empty store = %q; want []", stdout)
	}
}

// TestTokenStaleWhileFailing: a cached token inside the refresh margin but
// still valid is printed when the refresh fails, with a warning on stderr.
func TestTokenStaleWhileFailing(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing")
	now := time.Now()
	old := vault.Token{AccessToken: "old-but-valid-token", TokenType: "bearer", Expiry: now.Add(8 * time.Minute), FetchedAt: now.Add(-52 * time.Minute)}
	if err := h.store().SetToken("billing", nil, old); err != nil {
		t.Fatal(err)
	}
	h.ts.failWith("m2m-client-test-billing", http.StatusBadGateway)
	stdout, stderr := h.mustRun(0, "", "token", "billing")
	if stdout != old.AccessToken+"\n" {
		t.Errorf("stdout %q; want the still valid cached token", stdout)
	}
	if !strings.Contains(stderr, "warning: billing: refreshing failed") {
		t.Errorf("stderr %q; want a warning about the failing refresh", stderr)
	}
	// A script that needs 10 minutes gets an error instead.
	code, stdout, _ := h.run("", "token", "billing", "--min-ttl", "10m")
	if code != ExitEndpoint || stdout != "" {
		t.Errorf("token --min-ttl 10m: exit %d, stdout %q; want %d and nothing", code, stdout, ExitEndpoint)
	}
	// An explicit refresh reports the failure rather than the old token.
	code, _, stderr = h.run("", "refresh", "billing")
	if code != ExitEndpoint || strings.Contains(stderr, "new token") {
		t.Errorf("refresh while failing: exit %d, stderr %q; want %d and no new token", code, stderr, ExitEndpoint)
	}
}

// TestRefreshAllReportsEachFailure: refresh --all goes on after a failure,
// names the failing client and exits with the first failure's code.
func TestRefreshAllReportsEachFailure(t *testing.T) {
	h := newHarness(t)
	h.addClient("alpha")
	h.addClient("beta")
	h.ts.register("m2m-client-test-alpha", "changed-at-the-provider")
	code, stdout, stderr := h.run("", "refresh", "--all")
	if code != ExitRejected || stdout != "" {
		t.Errorf("refresh --all: exit %d, stdout %q; want %d and nothing", code, stdout, ExitRejected)
	}
	if !strings.Contains(stderr, "tokentray: alpha: ") || !strings.Contains(stderr, "beta: new token") {
		t.Errorf("refresh --all stderr %q; want alpha's failure and beta's new token", stderr)
	}
	if _, err := h.store().Token("beta", nil); err != nil {
		t.Errorf("beta's token after refresh --all: %v", err)
	}
}

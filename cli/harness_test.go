package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// envTestChild makes the test binary act as a child for exec's tests.
const envTestChild = "TOKENTRAY_CLI_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envTestChild) == "signal" {
		signalChild()
	}
	os.Exit(m.Run())
}

// childCodes are the exit codes of signalChild, by the signal it got.
var childCodes = map[os.Signal]int{syscall.SIGTERM: 42, syscall.SIGHUP: 43, syscall.SIGQUIT: 44, syscall.SIGINT: 45}

// signalChild says "ready", waits for one of the signals of childCodes and
// exits with its code.
func signalChild() {
	c := make(chan os.Signal, 1)
	for s := range childCodes {
		signal.Notify(c, s)
	}
	fmt.Println("ready")
	os.Exit(childCodes[<-c])
}

// tokenServer is an httptest RFC 6749 token endpoint for the
// client-credentials grant. It issues unsigned JWT-shaped tokens with a
// space-separated scope claim, and remembers every token it issued so the
// tests can look for them in output.
//
// Not demoserver: the tests need what it does not give. checkLeaks needs
// every token issued (to find one in output that must not hold it), the
// --param tests read the last request's whole form, and failWith shapes
// answers demoserver never sends (a 5xx with a plain-text body). The
// refresher, authproxy, demo and interop tests run on demoserver itself.
type tokenServer struct {
	*httptest.Server
	mu       sync.Mutex          // guards the fields below
	clients  map[string]tsClient // client id -> registration
	issued   []string            // every access token issued
	calls    int                 // token requests answered
	lastForm url.Values          // the form of the last token request
}

type tsClient struct {
	secret  string
	allowed []string // scopes the client may get
	status  int      // when non-zero, answer every request with this HTTP status
}

func newTokenServer(t testing.TB) *tokenServer {
	t.Helper()
	ts := &tokenServer{clients: map[string]tsClient{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

// URL of the token endpoint.
func (ts *tokenServer) tokenURL() string { return ts.URL + "/oauth2/token" }

func (ts *tokenServer) register(id, secret string, allowed ...string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.clients[id] = tsClient{secret: secret, allowed: allowed}
}

func (ts *tokenServer) failWith(id string, status int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	c := ts.clients[id]
	c.status = status
	ts.clients[id] = c
}

func (ts *tokenServer) tokens() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.issued)
}

func (ts *tokenServer) form() url.Values {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.lastForm
}

func (ts *tokenServer) requests() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.calls
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.calls++
	_ = r.ParseForm()
	ts.lastForm = r.PostForm
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "30")
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"error_description":"test server says %s"}`, code, code)
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		fail(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, known := ts.clients[id]
	switch {
	case known && c.status >= 500:
		w.WriteHeader(c.status)
		io.WriteString(w, "upstream trouble")
		return
	case known && c.status == http.StatusTooManyRequests:
		fail(c.status, "rate_limited")
		return
	case !known || c.secret != secret:
		fail(http.StatusUnauthorized, "invalid_client")
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	for _, s := range scopes {
		if !slices.Contains(c.allowed, s) {
			fail(http.StatusBadRequest, "invalid_scope")
			return
		}
	}
	tok := fakeJWT(id, scopes, time.Now().Add(time.Hour))
	ts.issued = append(ts.issued, tok)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": 3600, "scope": strings.Join(scopes, " "),
	})
}

// fakeJWT returns an unsigned JWT-shaped token with a random jti.
func fakeJWT(sub string, scopes []string, exp time.Time) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	jti := make([]byte, 12)
	rand.Read(jti)
	return enc(map[string]any{"alg": "RS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"sub": sub, "scope": strings.Join(scopes, " "), "exp": exp.Unix(), "jti": hex.EncodeToString(jti)}) +
		"." + base64.RawURLEncoding.EncodeToString([]byte("signature-"+hex.EncodeToString(jti)))
}

// harness runs the command line against a fresh store in a temp dir, the
// fake keyring and a token server. Every run checks that no secret appears
// in stdout or stderr, and no whole token in stderr (nor in stdout, except
// for the commands that print one).
type harness struct {
	t       testing.TB
	dir     string
	kr      *vaulttest.Keyring
	ts      *tokenServer
	environ []string          // the process environment exec's child starts from
	vars    map[string]string // what getenv sees
	secrets []string          // every secret the test used
	http    *http.Client      // token requests; nil: the refresher's default
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		dir:     t.TempDir(),
		kr:      vaulttest.New(),
		ts:      newTokenServer(t),
		environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C"},
		vars:    map[string]string{},
	}
	return h
}

func (h *harness) env(stdin io.Reader, stdout, stderr io.Writer) env {
	return env{
		stdin:      stdin,
		stdout:     stdout,
		stderr:     stderr,
		getenv:     func(k string) string { return h.vars[k] },
		environ:    func() []string { return slices.Clone(h.environ) },
		keyring:    h.kr,
		httpClient: h.http,
	}
}

// loopbackOnly returns an HTTP client that refuses to connect anywhere but
// the local machine, for tests whose input may name any host.
func loopbackOnly() *http.Client {
	var d net.Dialer
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					return nil, fmt.Errorf("test: no connections to %s outside loopback", host)
				}
				return d.DialContext(ctx, network, addr)
			},
		},
	}
}

// run runs args with stdin and returns the exit code and both outputs.
func (h *harness) run(stdin string, args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"--config", h.dir}, args...)
	code = run(context.Background(), h.env(strings.NewReader(stdin), &out, &errb), args)
	stdout, stderr = out.String(), errb.String()
	h.checkLeaks(args, stdout, stderr)
	return code, stdout, stderr
}

func (h *harness) checkLeaks(args []string, stdout, stderr string) {
	h.t.Helper()
	for _, s := range h.secrets {
		if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
			h.t.Errorf("%q: a client secret appears in the output:\nstdout: %s\nstderr: %s", args, stdout, stderr)
		}
	}
	cmd := ""
	for i := 2; i < len(args); i++ { // after --config DIR
		if !strings.HasPrefix(args[i], "-") {
			cmd = args[i]
			break
		}
	}
	for _, tok := range h.ts.tokens() {
		if strings.Contains(stderr, tok) {
			h.t.Errorf("%q: a whole token appears on stderr: %s", args, stderr)
		}
		if cmd != "token" && cmd != "header" && cmd != "exec" && strings.Contains(stdout, tok) {
			h.t.Errorf("%q: a whole token appears on stdout: %s", args, stdout)
		}
	}
}

// mustRun runs args and fails the test unless the exit code is want.
func (h *harness) mustRun(want int, stdin string, args ...string) (stdout, stderr string) {
	h.t.Helper()
	code, stdout, stderr := h.run(stdin, args...)
	if code != want {
		h.t.Fatalf("tokentray %s: exit code %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

// addClient registers a client at the token server and adds it without a
// test exchange; it returns the secret.
func (h *harness) addClient(name string, scopes ...string) string {
	h.t.Helper()
	secret := "s3cret-" + name + "-" + hex.EncodeToString([]byte(name))
	h.secrets = append(h.secrets, secret)
	id := "m2m-client-test-" + name
	h.ts.register(id, secret, append(scopes, "extra:scope")...)
	args := []string{"add", name, "--token-url", h.ts.tokenURL(), "--client-id", id, "--no-test"}
	for _, s := range scopes {
		args = append(args, "--scope", s)
	}
	h.mustRun(0, secret+"\n", args...)
	return secret
}

// store opens the harness's store directly.
func (h *harness) store() *vault.Store {
	h.t.Helper()
	s, err := vault.Open(h.dir, h.kr)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

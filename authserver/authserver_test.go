package authserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/authserver"
	"github.com/tokentray/tokentray/vault"
)

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		desc, doc string
		ok        bool
		style     vault.AuthStyle
	}{
		{"both methods", `{"issuer":"https://a.example","token_endpoint":"https://a.example/token","token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","private_key_jwt"]}`, true, vault.AuthAuto},
		{"basic only", `{"token_endpoint":"https://a.example/token","token_endpoint_auth_methods_supported":["client_secret_basic"]}`, true, vault.AuthHeader},
		{"post only", `{"token_endpoint":"https://a.example/token","token_endpoint_auth_methods_supported":["client_secret_post"]}`, true, vault.AuthBody},
		{"no list: RFC 8414's default", `{"token_endpoint":"https://a.example/token"}`, true, vault.AuthHeader},
		{"loopback http", `{"token_endpoint":"http://127.0.0.1:4444/token"}`, true, vault.AuthHeader},
		{"plain http elsewhere", `{"token_endpoint":"http://a.example/token"}`, false, ""},
		{"no token endpoint", `{"issuer":"https://a.example"}`, false, ""},
		{"token endpoint a number", `{"token_endpoint":7}`, false, ""},
		{"methods a string", `{"token_endpoint":"https://a.example/t","token_endpoint_auth_methods_supported":"client_secret_basic"}`, false, ""},
		{"array", `[{"token_endpoint":"https://a.example/t"}]`, false, ""},
		{"javascript scheme", `{"token_endpoint":"javascript:alert(1)"}`, false, ""},
		{"trailing garbage", `{"token_endpoint":"https://a.example/t"} x`, false, ""},
		{"too big", `{"token_endpoint":"https://a.example/t","x":"` + strings.Repeat("a", authserver.MaxMetadataBytes) + `"}`, false, ""},
	}
	for _, tt := range tests {
		m, err := authserver.ParseMetadata([]byte(tt.doc))
		if !tt.ok {
			if err == nil || !errors.Is(err, authserver.ErrMetadata) {
				t.Errorf("%s: got %+v, %v; want an error wrapping ErrMetadata", tt.desc, m, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.desc, err)
			continue
		}
		if got, err := m.AuthStyle(); got != tt.style || err != nil {
			t.Errorf("%s: AuthStyle = %q, %v; want %q", tt.desc, got, err, tt.style)
		}
	}
	m, err := authserver.ParseMetadata([]byte(`{"token_endpoint":"https://a.example/t","token_endpoint_auth_methods_supported":["private_key_jwt"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.AuthStyle(); err == nil || !strings.Contains(err.Error(), "private_key_jwt") {
		t.Errorf("AuthStyle of a private_key_jwt-only server: %v; want an error naming what it supports", err)
	}
}

func TestWellKnownURLs(t *testing.T) {
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://a.example", []string{"https://a.example/.well-known/openid-configuration", "https://a.example/.well-known/oauth-authorization-server"}},
		{"https://a.example/", []string{"https://a.example/.well-known/openid-configuration", "https://a.example/.well-known/oauth-authorization-server"}},
		{"https://a.example/realms/x", []string{"https://a.example/realms/x/.well-known/openid-configuration", "https://a.example/.well-known/oauth-authorization-server/realms/x"}},
		{"https://a.example/.well-known/openid-configuration", []string{"https://a.example/.well-known/openid-configuration"}},
		{"http://127.0.0.1:3000", []string{"http://127.0.0.1:3000/.well-known/openid-configuration", "http://127.0.0.1:3000/.well-known/oauth-authorization-server"}},
	}
	for _, tt := range tests {
		got, err := authserver.WellKnownURLs(tt.issuer)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("WellKnownURLs(%q) = %q, %v; want %q", tt.issuer, got, err, tt.want)
		}
	}
	for _, bad := range []string{"http://a.example", "a.example", "https://u:p@a.example", "https://a.example/?x=1", "ftp://a.example", ""} {
		if got, err := authserver.WellKnownURLs(bad); err == nil {
			t.Errorf("WellKnownURLs(%q) = %q; want an error", bad, got)
		}
	}
}

// metadataServer serves doc at path (with the issuer substituted for
// ISSUER) and 404 elsewhere.
func metadataServer(t *testing.T, path, doc string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, strings.ReplaceAll(doc, "ISSUER", srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscover(t *testing.T) {
	ctx := context.Background()
	doc := `{"issuer":"ISSUER","token_endpoint":"ISSUER/oauth2/token","token_endpoint_auth_methods_supported":["client_secret_post"]}`

	oidc := metadataServer(t, "/.well-known/openid-configuration", doc)
	m, err := authserver.Discover(ctx, nil, oidc.URL, 0)
	if err != nil || m.TokenEndpoint != oidc.URL+"/oauth2/token" || m.URL != oidc.URL+"/.well-known/openid-configuration" {
		t.Errorf("OIDC discovery: %+v, %v", m, err)
	}
	rfc := metadataServer(t, "/.well-known/oauth-authorization-server", doc)
	m, err = authserver.Discover(ctx, nil, rfc.URL+"/", 0)
	if err != nil || m.TokenEndpoint != rfc.URL+"/oauth2/token" {
		t.Errorf("RFC 8414 discovery after a 404: %+v, %v", m, err)
	}

	other := metadataServer(t, "/.well-known/openid-configuration", `{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}`)
	if _, err := authserver.Discover(ctx, nil, other.URL, 0); err == nil || !strings.Contains(err.Error(), "https://evil.example") {
		t.Errorf("metadata of another issuer: %v; want refused, naming it", err)
	}
	none := metadataServer(t, "/nothing", doc)
	if _, err := authserver.Discover(ctx, nil, none.URL, 0); err == nil || !strings.Contains(err.Error(), "--token-url") || !strings.Contains(err.Error(), "404") {
		t.Errorf("no metadata: %v; want what each address answered and the fix", err)
	}
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>login</html>")
	}))
	defer html.Close()
	if _, err := authserver.Discover(ctx, nil, html.URL, 0); err == nil || !strings.Contains(err.Error(), "web page") {
		t.Errorf("a web page: %v; want refused", err)
	}
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"token_endpoint":"https://a.example/t","x":"`)
		for range 400 {
			fmt.Fprint(w, strings.Repeat("a", 1024))
		}
		fmt.Fprint(w, `"}`)
	}))
	defer huge.Close()
	if _, err := authserver.Discover(ctx, nil, huge.URL, 0); err == nil || !errors.Is(err, authserver.ErrMetadata) {
		t.Errorf("a 400 KiB document: %v; want refused", err)
	}
	// A redirect to another host is not followed (localhost and 127.0.0.1
	// are different hosts to the client).
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(oidc.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusFound)
	}))
	defer redirect.Close()
	if _, err := authserver.Discover(ctx, nil, redirect.URL, 0); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("a redirect to another host: %v; want not followed", err)
	}
	// A redirect within the host is followed.
	same := httptest.NewServer(nil)
	defer same.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/meta.json", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/meta.json", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.ReplaceAll(doc, "ISSUER", same.URL))
	})
	same.Config.Handler = mux
	if m, err := authserver.Discover(ctx, nil, same.URL, 0); err != nil || m.TokenEndpoint != same.URL+"/oauth2/token" {
		t.Errorf("a redirect within the host: %+v, %v; want followed", m, err)
	}
	if _, err := authserver.Discover(ctx, nil, "http://auth.example.com", 0); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("plain http issuer: %v; want refused before any request", err)
	}
}

func TestProbeTokenEndpoint(t *testing.T) {
	tests := []struct {
		desc    string
		handler http.HandlerFunc
		want    authserver.Verdict
		detail  string
	}{
		{"401 invalid_client", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.PostFormValue("grant_type") != "client_credentials" || r.Header.Get("Authorization") != "" {
				http.Error(w, "bad probe", http.StatusTeapot)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
		}, authserver.TokenEndpoint, "invalid_client"},
		{"400 invalid_request", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_request","error_description":"no client authentication"}`)
		}, authserver.TokenEndpoint, "invalid_request"},
		{"404", http.NotFound, authserver.WrongURL, "404"},
		{"405", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(405) }, authserver.WrongURL, "405"},
		{"a login page", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "<!DOCTYPE html><html><body>Sign in</body></html>")
		}, authserver.WrongURL, "web page"},
		{"400 HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(400)
			fmt.Fprint(w, `<html>{"error":"x"}</html>`)
		}, authserver.WrongURL, "web page"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/login", http.StatusFound)
		}, authserver.WrongURL, "/login"},
		{"200 JSON without a token", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"ok":true}`) }, authserver.WrongURL, "200"},
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, authserver.Failing, "500"},
		{"429", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) }, authserver.Failing, "429"},
		{"error not a string", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"code":1}}`)
		}, authserver.WrongURL, "400"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(tt.handler)
		p := authserver.ProbeTokenEndpoint(context.Background(), nil, srv.URL+"/token", 0)
		srv.Close()
		if p.Verdict != tt.want || !strings.Contains(p.Detail, tt.detail) {
			t.Errorf("%s: %+v; want verdict %d and %q in the detail", tt.desc, p, tt.want, tt.detail)
		}
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if p := authserver.ProbeTokenEndpoint(context.Background(), nil, url, 0); p.Verdict != authserver.Unreachable || p.Detail == "" {
		t.Errorf("closed port: %+v; want Unreachable", p)
	}
}

// FuzzParseMetadata: never panics; what parses has a usable token endpoint,
// and AuthStyle gives a valid style or an error.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://a.example","token_endpoint":"https://a.example/token","token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"],"grant_types_supported":["client_credentials"]}`))
	f.Add([]byte(`{"token_endpoint":"http://127.0.0.1:1/t","token_endpoint_auth_methods_supported":null}`))
	f.Add([]byte(`{"token_endpoint":"http://[::1]:1/t","token_endpoint_auth_methods_supported":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := authserver.ParseMetadata(data)
		if err != nil {
			if !errors.Is(err, authserver.ErrMetadata) {
				t.Fatalf("error %v does not wrap ErrMetadata", err)
			}
			return
		}
		if err := vault.ValidateTokenURL(m.TokenEndpoint); err != nil {
			t.Fatalf("accepted token endpoint %q: %v", m.TokenEndpoint, err)
		}
		if s, err := m.AuthStyle(); err == nil {
			if _, err := vault.ParseAuthStyle(string(s)); err != nil {
				t.Fatalf("AuthStyle %q is not a style", s)
			}
		}
		_ = m.SupportsClientCredentials()
	})
}

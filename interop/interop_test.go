package interop_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/authserver"
	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/hydratest"
	"github.com/tokentray/tokentray/jwtinfo"
	"github.com/tokentray/tokentray/oidctest"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// The resource (RFC 8707) or audience every server is set up to accept.
const api = "https://api.tokentray.test/"

// secretChars are the characters that break Basic auth done without RFC
// 6749's URL-encoding, in every test secret.
const secretChars = ": + / % & ="

// client is a registered client with its secret.
type client struct {
	id, secret string
	style      vault.AuthStyle
}

// server is one authorization server under test, with the clients the
// table needs; a nil client (and its reason) means the server has no such
// thing.
type server struct {
	name, version string
	issuer        string // for discovery
	tokenURL      string // through the counting proxy
	directURL     string // the server's own token endpoint
	requests      *atomic.Int64
	// param is the endpoint parameter naming the API (resource or
	// audience); badParam names one the server does not know.
	param, badParam  url.Values
	basic, post      *client // registered for Basic and for the form body
	short            *client // 300 s tokens
	noGrant, expired *client
	na               map[string]string // feature -> why the server cannot have it
}

// counting puts a reverse proxy in front of base that counts the POSTs to
// path.
func counting(t *testing.T, base, path string) (string, *atomic.Int64) {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	n := &atomic.Int64{}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == path {
			n.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + path, n
}

func secret(tag string) string { return "s3:cr+t/%&=" + tag + "-" + demoserver.NewSecret()[:12] }

func hydraServer(t *testing.T) *server {
	h := hydratest.Start(t)
	s := &server{name: "Ory Hydra", version: "v2.3.0", issuer: h.Issuer(), directURL: h.DirectTokenURL(),
		param: url.Values{"audience": {api}}, badParam: url.Values{"audience": {"https://other.tokentray.test/"}},
		na: map[string]string{"expired secret": "no client secret expiry in Hydra"}}
	if v := os.Getenv("TOKENTRAY_HYDRA_VERSION"); v != "" {
		s.version = v
	}
	s.tokenURL, s.requests = counting(t, strings.TrimSuffix(h.Issuer(), "/"), hydratest.TokenPath)
	scopes := []string{"models:read", "chat:invoke"}
	mk := func(id, method string, style vault.AuthStyle) *client {
		c := &client{id: id, secret: secret(id), style: style}
		reg := h.CreateClient(t, id, c.secret, scopes, method)
		reg.Audience = []string{api}
		h.UpdateClient(t, reg)
		return c
	}
	s.basic = mk("interop-basic", hydratest.AuthBasic, vault.AuthHeader)
	s.post = mk("interop-post", hydratest.AuthPost, vault.AuthBody)
	s.short = mk("interop-short", hydratest.AuthBasic, vault.AuthHeader)
	h.SetTokenLifespan(t, s.short.id, 300*time.Second)
	s.noGrant = mk("interop-nogrant", hydratest.AuthBasic, vault.AuthHeader)
	reg := h.GetClient(t, s.noGrant.id)
	reg.GrantTypes, reg.ResponseTypes = []string{"authorization_code"}, []string{"code"}
	h.UpdateClient(t, reg)
	return s
}

func oidcServer(t *testing.T) *server {
	cs := map[string]*client{}
	var regs []oidctest.Client
	for _, c := range []struct {
		id, method string
		style      vault.AuthStyle
		reg        oidctest.Client
	}{
		{"interop-basic", oidctest.AuthBasic, vault.AuthHeader, oidctest.Client{}},
		{"interop-post", oidctest.AuthPost, vault.AuthBody, oidctest.Client{}},
		{"interop-short", oidctest.AuthBasic, vault.AuthHeader, oidctest.Client{TokenTTL: 300 * time.Second}},
		{"interop-nogrant", oidctest.AuthBasic, vault.AuthHeader, oidctest.Client{GrantTypes: []string{"authorization_code"}}},
		{"interop-expired", oidctest.AuthBasic, vault.AuthHeader, oidctest.Client{SecretExpiresAt: time.Now().Add(-24 * time.Hour)}},
	} {
		cs[c.id] = &client{id: c.id, secret: secret(c.id), style: c.style}
		r := c.reg
		r.ID, r.Secret, r.AuthMethod, r.Scopes = c.id, cs[c.id].secret, c.method, []string{"models:read", "chat:invoke"}
		regs = append(regs, r)
	}
	o := oidctest.Start(t, oidctest.Options{Clients: regs, Resources: map[string]oidctest.Resource{
		api: {Scopes: []string{"models:read", "chat:invoke"}},
	}})
	s := &server{name: "oidc-provider", version: o.Version(), issuer: o.Issuer(), directURL: o.TokenURL(),
		param: url.Values{"resource": {api}}, badParam: url.Values{"resource": {"https://other.tokentray.test/"}},
		basic: cs["interop-basic"], post: cs["interop-post"], short: cs["interop-short"],
		noGrant: cs["interop-nogrant"], expired: cs["interop-expired"]}
	s.tokenURL, s.requests = counting(t, o.Issuer(), oidctest.TokenPath)
	return s
}

func demoServer(t *testing.T) *server {
	s := &server{name: "demo server", version: "fosite (this repository)",
		param: url.Values{"audience": {api}}, badParam: url.Values{"audience": {"https://other.tokentray.test/"}},
		na: map[string]string{
			"no client_credentials grant": "every demo client has the grant",
			"expired secret":              "no client secret expiry in the demo server",
		}}
	start := func(ttl time.Duration, clients ...demoserver.Client) *demoserver.Server {
		d, err := demoserver.New(demoserver.Options{Clients: clients, TokenTTL: ttl, Audience: api})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	scopes := []string{"models:read", "chat:invoke"}
	s.basic = &client{id: "interop-basic", secret: secret("basic"), style: vault.AuthHeader}
	s.post = &client{id: "interop-post", secret: secret("post"), style: vault.AuthBody}
	d := start(time.Hour,
		demoserver.Client{ID: s.basic.id, Secret: s.basic.secret, Scopes: scopes, Auth: demoserver.AuthBasic},
		demoserver.Client{ID: s.post.id, Secret: s.post.secret, Scopes: scopes, Auth: demoserver.AuthPost})
	s.issuer, s.directURL = d.URL(), d.TokenURL()
	s.tokenURL, s.requests = counting(t, d.URL(), demoserver.TokenPath)
	// The demo server has one lifetime for all its clients: a second one
	// issues the 300 s tokens, behind the same counter.
	s.short = &client{id: "interop-short", secret: secret("short"), style: vault.AuthHeader}
	d2 := start(300*time.Second, demoserver.Client{ID: s.short.id, Secret: s.short.secret, Scopes: scopes, Auth: demoserver.AuthBasic})
	shortURL, _ := counting(t, d2.URL(), demoserver.TokenPath)
	s.short.id = "interop-short@" + shortURL // see vaultClient
	return s
}

// vaultClient is c as Tokentray stores it, at s.
func (s *server) vaultClient(c *client, style vault.AuthStyle, scopes ...string) vault.Client {
	id, tokenURL := c.id, s.tokenURL
	if i := strings.Index(id, "@"); i > 0 {
		id, tokenURL = id[:i], id[i+1:]
	}
	return vault.Client{Name: "interop", ClientID: id, TokenURL: tokenURL, AuthStyle: style, Scopes: scopes}
}

// exchange does one token request and sums it up: "ok" and what the token
// is, or the OAuth error code.
func (s *server) exchange(c *client, style vault.AuthStyle, params url.Values, scopes ...string) (refresher.Result, string) {
	vc := s.vaultClient(c, style, scopes...)
	vc.EndpointParams = params
	res, err := refresher.Exchange(context.Background(), nil, vc, c.secret, nil)
	if err != nil {
		var re *refresher.Error
		if errors.As(err, &re) && re.Code != "" {
			return res, fmt.Sprintf("refused: %d %s", re.Status, re.Code)
		}
		return res, "error: " + err.Error()
	}
	return res, "ok"
}

// feature is one row of the table: run returns the result for s, want the
// result expected from each server (by name; "" for any server not named).
type feature struct {
	name string
	run  func(t *testing.T, s *server) string
	want map[string]string
}

func features() []feature {
	all := func(v string) map[string]string {
		return map[string]string{"Ory Hydra": v, "oidc-provider": v, "demo server": v}
	}
	format := func(res refresher.Result) string {
		if _, err := jwtinfo.Parse(res.Token.AccessToken); err == nil {
			return "JWT"
		}
		return "opaque"
	}
	return []feature{
		{"client_secret_basic (secret with " + secretChars + ")", func(t *testing.T, s *server) string {
			_, r := s.exchange(s.basic, vault.AuthHeader, nil, "models:read")
			return r
		}, all("ok")},
		{"client_secret_post (secret with " + secretChars + ")", func(t *testing.T, s *server) string {
			_, r := s.exchange(s.post, vault.AuthBody, nil, "models:read")
			return r
		}, all("ok")},
		{"auth auto-detect, a post-only client", func(t *testing.T, s *server) string {
			_, r := s.exchange(s.post, vault.AuthAuto, nil, "models:read")
			return r
		}, all("ok")},
		{"scopes granted (asked: models:read)", func(t *testing.T, s *server) string {
			res, r := s.exchange(s.basic, vault.AuthHeader, nil, "models:read")
			if r != "ok" {
				return r
			}
			if res.Token.ScopesAssumed {
				return "granted (assumed): " + strings.Join(res.Token.Scopes, " ")
			}
			return "granted: " + strings.Join(res.Token.Scopes, " ")
		}, all("granted: models:read")},
		{"scope not allowed (asked: billing:admin)", func(t *testing.T, s *server) string {
			res, r := s.exchange(s.basic, vault.AuthHeader, nil, "billing:admin")
			if r != "ok" {
				return r
			}
			return fmt.Sprintf("ok, granted %q, assumed %v, missing %q", strings.Join(res.Token.Scopes, " "), res.Token.ScopesAssumed, strings.Join(res.Missing, " "))
		}, map[string]string{
			"Ory Hydra":   "refused: 400 invalid_scope",
			"demo server": "refused: 400 invalid_scope",
			// oidc-provider grants what it can (nothing), omits scope and
			// issues an opaque token: nothing tells what was granted.
			"oidc-provider": `ok, granted "billing:admin", assumed true, missing ""`,
		}},
		{"token format", func(t *testing.T, s *server) string {
			res, r := s.exchange(s.basic, vault.AuthHeader, nil, "models:read")
			if r != "ok" {
				return r
			}
			return format(res)
		}, map[string]string{"Ory Hydra": "JWT", "oidc-provider": "opaque", "demo server": "JWT"}},
		{"resource / audience parameter (--param)", func(t *testing.T, s *server) string {
			res, r := s.exchange(s.basic, vault.AuthHeader, s.param, "models:read")
			if r != "ok" {
				return r
			}
			info, err := jwtinfo.Parse(res.Token.AccessToken)
			if err != nil {
				return "ok, " + format(res)
			}
			if slices.Contains(info.Audience(), api) {
				return "JWT with aud = the API"
			}
			return fmt.Sprintf("JWT with aud %q", info.Audience())
		}, all("JWT with aud = the API")},
		{"unknown resource / audience", func(t *testing.T, s *server) string {
			_, r := s.exchange(s.basic, vault.AuthHeader, s.badParam, "models:read")
			vc := s.vaultClient(s.basic, vault.AuthHeader, "models:read")
			vc.EndpointParams = s.badParam
			_, err := refresher.Exchange(context.Background(), nil, vc, s.basic.secret, nil)
			var re *refresher.Error
			if errors.As(err, &re) && re.Class == refresher.ClassTarget && !strings.Contains(re.Message(), "tokentray edit interop --param resource=") {
				t.Errorf("%s: invalid_target says %q; want the command that changes the parameter", s.name, re.Message())
			}
			return r
		}, map[string]string{
			"Ory Hydra":     "refused: 400 invalid_request",
			"oidc-provider": "refused: 400 invalid_target",
			"demo server":   "refused: 400 invalid_request",
		}},
		{"300 s token: 5 token calls", func(t *testing.T, s *server) string {
			return s.reuse(t)
		}, all("5 calls, 1 token request")},
		{"wrong auth method (Basic client sends body)", func(t *testing.T, s *server) string {
			_, r := s.exchange(s.basic, vault.AuthBody, nil, "models:read")
			return r
		}, map[string]string{
			"Ory Hydra":   "refused: 401 invalid_client",
			"demo server": "refused: 401 invalid_client",
			// oidc-provider accepts any method it supports, whatever the
			// client registered.
			"oidc-provider": "ok",
		}},
		{"unknown client", func(t *testing.T, s *server) string {
			_, r := s.exchange(&client{id: "interop-nobody", secret: secret("nobody")}, vault.AuthHeader, nil)
			return r
		}, all("refused: 401 invalid_client")},
		{"no client_credentials grant", func(t *testing.T, s *server) string {
			_, r := s.exchange(s.noGrant, vault.AuthHeader, nil, "models:read")
			return r
		}, map[string]string{
			"Ory Hydra":     "refused: 400 unauthorized_client",
			"oidc-provider": "refused: 400 invalid_request",
		}},
		{"expired secret", func(t *testing.T, s *server) string {
			_, r := s.exchange(s.expired, vault.AuthHeader, nil, "models:read")
			return r
		}, map[string]string{"oidc-provider": "refused: 400 invalid_client"}}, // 400, not RFC 6749's 401 (no Authorization header was refused)
		{"doctor: token URL right / wrong path", func(t *testing.T, s *server) string {
			ctx := context.Background()
			right := authserver.ProbeTokenEndpoint(ctx, nil, s.directURL, 0)
			u, _ := url.Parse(s.directURL)
			u.Path = "/oauth2/wrong-token"
			wrong := authserver.ProbeTokenEndpoint(ctx, nil, u.String(), 0)
			verdict := map[authserver.Verdict]string{authserver.TokenEndpoint: "token endpoint", authserver.WrongURL: "wrong URL",
				authserver.Failing: "failing", authserver.Unreachable: "unreachable"}
			return fmt.Sprintf("right: %s (%d %s); wrong: %s (%d)", verdict[right.Verdict], right.Status, right.OAuthError, verdict[wrong.Verdict], wrong.Status)
		}, all("right: token endpoint (400 invalid_request); wrong: wrong URL (404)")},
		{"discovery from the issuer", func(t *testing.T, s *server) string {
			m, err := authserver.Discover(context.Background(), nil, s.issuer, 0)
			if err != nil {
				return "error: " + err.Error()
			}
			style, err := m.AuthStyle()
			if err != nil {
				return "error: " + err.Error()
			}
			where := "OIDC discovery"
			if strings.HasSuffix(m.URL, "oauth-authorization-server") {
				where = "RFC 8414"
			}
			ok := "the token URL"
			if m.TokenEndpoint != s.directURL {
				ok = "another token URL: " + m.TokenEndpoint
			}
			return fmt.Sprintf("%s: %s, auth %s", where, ok, style)
		}, map[string]string{
			"Ory Hydra":     "OIDC discovery: the token URL, auth auto",
			"oidc-provider": "OIDC discovery: the token URL, auth auto",
			"demo server":   "RFC 8414: the token URL, auth auto",
		}},
	}
}

// reuse makes 5 Token calls for a client with 300 s tokens, each through a
// new refresher on the same store (as 5 `tokentray token` runs), and counts
// the token requests.
func (s *server) reuse(t *testing.T) string {
	st, err := vault.Open(t.TempDir(), vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	vc := s.vaultClient(s.short, vault.AuthHeader, "models:read")
	vc.Name = "short"
	if err := st.Add(vc, s.short.secret); err != nil {
		t.Fatal(err)
	}
	n := &atomic.Int64{}
	hc := &http.Client{Transport: countingTransport{n: n, base: http.DefaultTransport}}
	for range 5 {
		// A refresher per call, as each `tokentray token` process has its
		// own: the token comes from the store's cache, not from memory.
		r := refresher.New(refresher.Options{Store: st, HTTPClient: hc})
		_, err := r.Token(context.Background(), "short", refresher.TokenOptions{})
		r.Close()
		if err != nil {
			return "error: " + err.Error()
		}
	}
	reqs := "requests"
	if n.Load() == 1 {
		reqs = "request"
	}
	return fmt.Sprintf("5 calls, %d token %s", n.Load(), reqs)
}

type countingTransport struct {
	n    *atomic.Int64
	base http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		c.n.Add(1)
	}
	return c.base.RoundTrip(r)
}

// TestInterop runs the table against the three servers and prints it as
// Markdown rows (go test -v -run TestInterop ./interop/ | grep '^|').
func TestInterop(t *testing.T) {
	servers := []struct {
		name  string
		start func(*testing.T) *server
	}{
		{"Ory Hydra", hydraServer},
		{"oidc-provider", oidcServer},
		{"demo server", demoServer},
	}
	var rows []string
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			for _, f := range features() {
				want, expected := f.want[s.name]
				var got string
				if why, na := s.na[f.name]; na {
					got = "n/a: " + why
				} else if !expected {
					t.Errorf("%s: %s: no expected result in the table", s.name, f.name)
					continue
				} else {
					got = f.run(t, s)
					if got != want {
						t.Errorf("%s: %s: got %q; want %q", s.name, f.name, got, want)
					}
				}
				rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", s.name, s.version, f.name, got))
			}
		})
	}
	t.Logf("interop table:\n| server | version | feature | result |\n|---|---|---|---|\n%s", strings.Join(rows, "\n"))
}

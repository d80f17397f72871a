package demoserver

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokentray/tokentray/jwtinfo"
)

// testKey is one RSA key shared by the tests' servers, so each starts fast.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// Clients of the test servers, with fixed secrets.
var (
	chatBot  = Client{Name: "chat-bot", ID: "m2m-client-test-chat", Secret: "chat-secret", Scopes: []string{"chat:invoke", "models:read"}, Auth: AuthBoth}
	dataSync = Client{Name: "data-sync", ID: "m2m-client-test-data", Secret: "data-secret", Scopes: []string{"datasets:read", "files:read"}, Auth: AuthPost}
	orgAdmin = Client{Name: "org-admin", ID: "m2m-client-test-org", Secret: "org/secret+&=", Scopes: []string{"org:admin"}, Auth: AuthBasic}
)

// start returns a started server for opts (test clients and key by default),
// closed when the test ends.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Clients == nil {
		opts.Clients = []Client{chatBot, dataSync, orgAdmin}
	}
	if opts.Key == nil {
		opts.Key = testKey()
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// fetch asks s for a token for c with x/oauth2's clientcredentials. Each
// call uses a fresh transport, so no kept-alive connection outlives Down.
func fetch(t *testing.T, s *Server, c Client, style oauth2.AuthStyle, scopes ...string) (*oauth2.Token, error) {
	t.Helper()
	cfg := clientcredentials.Config{
		ClientID:     c.ID,
		ClientSecret: c.Secret,
		TokenURL:     s.TokenURL(),
		Scopes:       scopes,
		AuthStyle:    style,
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, hc)
	return cfg.Token(ctx)
}

// retrieveError returns the RFC 6749 error of err, failing the test if err
// is not one.
func retrieveError(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v (%T); want *oauth2.RetrieveError", err, err)
	}
	return re
}

func TestTokenExchange(t *testing.T) {
	s := start(t, Options{})
	wrong := chatBot
	wrong.Secret = "not-the-secret"
	unknown := chatBot
	unknown.ID = "m2m-client-test-nobody"
	tests := []struct {
		name      string
		client    Client
		style     oauth2.AuthStyle
		scopes    []string
		wantScope string // granted, when no error
		wantCode  string // RFC 6749 error code
		wantHTTP  int
	}{
		{name: "basic, no scope: all granted", client: chatBot, style: oauth2.AuthStyleInHeader, wantScope: "chat:invoke models:read"},
		{name: "body, no scope", client: chatBot, style: oauth2.AuthStyleInParams, wantScope: "chat:invoke models:read"},
		{name: "scope subset", client: chatBot, style: oauth2.AuthStyleInHeader, scopes: []string{"models:read"}, wantScope: "models:read"},
		{name: "all scopes asked", client: dataSync, style: oauth2.AuthStyleInParams, scopes: []string{"files:read", "datasets:read"}, wantScope: "files:read datasets:read"},
		{name: "post-only client, body", client: dataSync, style: oauth2.AuthStyleInParams, wantScope: "datasets:read files:read"},
		{name: "post-only client, basic", client: dataSync, style: oauth2.AuthStyleInHeader, wantCode: "invalid_client", wantHTTP: 401},
		{name: "basic-only client, basic, escaped secret", client: orgAdmin, style: oauth2.AuthStyleInHeader, wantScope: "org:admin"},
		{name: "basic-only client, body", client: orgAdmin, style: oauth2.AuthStyleInParams, wantCode: "invalid_client", wantHTTP: 401},
		{name: "auto-detect falls back to body", client: dataSync, style: oauth2.AuthStyleAutoDetect, wantScope: "datasets:read files:read"},
		{name: "wrong secret, basic", client: wrong, style: oauth2.AuthStyleInHeader, wantCode: "invalid_client", wantHTTP: 401},
		{name: "wrong secret, body", client: wrong, style: oauth2.AuthStyleInParams, wantCode: "invalid_client", wantHTTP: 401},
		{name: "unknown client", client: unknown, style: oauth2.AuthStyleInHeader, wantCode: "invalid_client", wantHTTP: 401},
		{name: "unknown scope", client: chatBot, style: oauth2.AuthStyleInHeader, scopes: []string{"chat:write"}, wantCode: "invalid_scope", wantHTTP: 400},
		{name: "another client's scope", client: chatBot, style: oauth2.AuthStyleInParams, scopes: []string{"models:read", "org:admin"}, wantCode: "invalid_scope", wantHTTP: 400},
		{name: "no wildcard matching", client: chatBot, style: oauth2.AuthStyleInHeader, scopes: []string{"chat:*"}, wantCode: "invalid_scope", wantHTTP: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := fetch(t, s, tt.client, tt.style, tt.scopes...)
			if tt.wantCode != "" {
				re := retrieveError(t, err)
				if re.ErrorCode != tt.wantCode || re.Response.StatusCode != tt.wantHTTP {
					t.Errorf("error = %s (HTTP %d); want %s (HTTP %d)", re.ErrorCode, re.Response.StatusCode, tt.wantCode, tt.wantHTTP)
				}
				return
			}
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if got := tok.Extra("scope"); got != tt.wantScope {
				t.Errorf("scope = %q; want %q", got, tt.wantScope)
			}
			if got := tok.Type(); got != "Bearer" {
				t.Errorf("token type = %q; want Bearer", got)
			}
			info, err := jwtinfo.Parse(tok.AccessToken)
			if err != nil {
				t.Fatalf("jwtinfo.Parse: %v", err)
			}
			if got, _ := info.Scopes(); strings.Join(got, " ") != tt.wantScope {
				t.Errorf("token scopes = %q; want %q", got, tt.wantScope)
			}
		})
	}
}

// post sends a raw token request and decodes the JSON answer.
func post(t *testing.T, s *Server, method string, form url.Values, basic ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, s.TokenURL(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("answer %q is not JSON: %v", body, err)
	}
	return resp, m
}

func TestResponseShape(t *testing.T) {
	for _, ttl := range []time.Duration{time.Hour, 2 * time.Minute, 90 * time.Second} {
		t.Run(ttl.String(), func(t *testing.T) {
			s := start(t, Options{TokenTTL: ttl})
			resp, m := post(t, s, http.MethodPost, url.Values{
				"grant_type": {"client_credentials"}, "client_id": {chatBot.ID}, "client_secret": {chatBot.Secret},
				"scope": {"chat:invoke models:read"},
			})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d (%v); want 200", resp.StatusCode, m)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q; want no-store", got)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range m {
					if !yield(k) {
						return
					}
				}
			})
			if want := []string{"access_token", "expires_in", "scope", "token_type"}; !slices.Equal(keys, want) {
				t.Errorf("fields = %q; want %q", keys, want)
			}
			if got := m["token_type"]; got != "bearer" {
				t.Errorf("token_type = %v; want bearer", got)
			}
			if got, want := m["expires_in"], ttl.Seconds(); got != want {
				t.Errorf("expires_in = %v; want %v", got, want)
			}
			if got := m["scope"]; got != "chat:invoke models:read" {
				t.Errorf("scope = %v; want %q", got, "chat:invoke models:read")
			}
			info, err := jwtinfo.Parse(m["access_token"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Time("exp").Sub(info.Time("iat")); got != ttl {
				t.Errorf("exp - iat = %v; want %v", got, ttl)
			}
		})
	}
}

// platformClaims are the claims of the platform's tokens.
type platformClaims struct {
	josejwt.Claims
	Scope string `json:"scope"`
}

func TestTokenVerifiesAgainstJWKS(t *testing.T) {
	s := start(t, Options{TokenTTL: 10 * time.Minute})
	before := time.Now().Truncate(time.Second)
	tok, err := fetch(t, s, chatBot, oauth2.AuthStyleInHeader)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	after := time.Now()

	resp, err := http.Get(s.JWKSURL())
	if err != nil {
		t.Fatalf("GET %s: %v", s.JWKSURL(), err)
	}
	defer resp.Body.Close()
	var set josev4.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID == "" || set.Keys[0].Use != "sig" || set.Keys[0].Algorithm != "RS256" || !set.Keys[0].IsPublic() {
		t.Fatalf("JWKS = %+v; want one public RS256 signing key with a kid", set.Keys)
	}

	parsed, err := josejwt.ParseSigned(tok.AccessToken, []josev4.SignatureAlgorithm{josev4.RS256})
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	kid := parsed.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("token kid %q: %d keys in the JWKS; want 1", kid, len(keys))
	}
	var c platformClaims
	if err := parsed.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("signature does not verify against the JWKS: %v", err)
	}
	if err := c.Validate(josejwt.Expected{Issuer: s.URL(), AnyAudience: []string{DefaultAudience}, Subject: chatBot.ID}); err != nil {
		t.Errorf("claims %+v: %v", c, err)
	}
	if c.Scope != "chat:invoke models:read" {
		t.Errorf("scope = %q; want %q", c.Scope, "chat:invoke models:read")
	}
	if c.ID == "" || c.IssuedAt == nil || c.NotBefore == nil || c.Expiry == nil {
		t.Fatalf("jti, iat, nbf, exp = %q, %v, %v, %v; want all set", c.ID, c.IssuedAt, c.NotBefore, c.Expiry)
	}
	iat := c.IssuedAt.Time()
	if iat.Before(before) || iat.After(after) {
		t.Errorf("iat = %v; want between %v and %v", iat, before, after)
	}
	if !c.NotBefore.Time().Equal(iat) {
		t.Errorf("nbf = %v; want iat %v", c.NotBefore.Time(), iat)
	}
	if got := c.Expiry.Time().Sub(iat); got != 10*time.Minute {
		t.Errorf("exp - iat = %v; want 10m", got)
	}
	// A token of another server (another key) must not verify with this JWKS.
	if err := parsed.Claims(&otherKey(t).PublicKey, &c); err == nil {
		t.Error("token verified with an unrelated key; want a signature error")
	}
}

func otherKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAudienceParameter(t *testing.T) {
	s := start(t, Options{Audience: "https://api.example.test"})
	tests := []struct {
		name     string
		audience string
		wantCode string
	}{
		{name: "default", audience: ""},
		{name: "the registered audience", audience: "https://api.example.test"},
		{name: "another audience", audience: "https://evil.example.test", wantCode: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}}
			if tt.audience != "" {
				form.Set("audience", tt.audience)
			}
			resp, m := post(t, s, http.MethodPost, form, chatBot.ID, chatBot.Secret)
			if tt.wantCode != "" {
				if m["error"] != tt.wantCode || resp.StatusCode != 400 {
					t.Errorf("answer %d %v; want 400 %s", resp.StatusCode, m, tt.wantCode)
				}
				return
			}
			info, err := jwtinfo.Parse(m["access_token"].(string))
			if err != nil {
				t.Fatalf("answer %v: %v", m, err)
			}
			if got := info.Audience(); !slices.Equal(got, []string{"https://api.example.test"}) {
				t.Errorf("aud = %q; want [https://api.example.test]", got)
			}
		})
	}
}

func TestRFC6749Errors(t *testing.T) {
	s := start(t, Options{})
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {chatBot.ID}, "client_secret": {chatBot.Secret}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vals := range good {
			f[key] = slices.Clone(vals)
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name     string
		method   string
		form     url.Values
		basic    []string
		wantHTTP int
		wantCode string
	}{
		{name: "unsupported grant type", method: "POST", form: with("grant_type", "password"), wantHTTP: 400, wantCode: "unsupported_grant_type"},
		{name: "two grant types", method: "POST", form: with("grant_type", "client_credentials password"), wantHTTP: 400, wantCode: "unsupported_grant_type"},
		{name: "no grant type", method: "POST", form: with("grant_type", ""), wantHTTP: 400, wantCode: "invalid_request"},
		{name: "GET", method: "GET", form: good, wantHTTP: 400, wantCode: "invalid_request"},
		{name: "empty body", method: "POST", form: url.Values{}, wantHTTP: 400, wantCode: "invalid_request"},
		{name: "no client id", method: "POST", form: with("client_id", ""), wantHTTP: 400, wantCode: "invalid_request"},
		{name: "no secret", method: "POST", form: with("client_secret", ""), wantHTTP: 401, wantCode: "invalid_client"},
		{name: "wrong secret in basic", method: "POST", form: url.Values{"grant_type": {"client_credentials"}}, basic: []string{chatBot.ID, "nope"}, wantHTTP: 401, wantCode: "invalid_client"},
		{name: "bad grant and bad secret: client first", method: "POST", form: url.Values{"grant_type": {"password"}, "client_id": {chatBot.ID}, "client_secret": {"nope"}}, wantHTTP: 401, wantCode: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, m := post(t, s, tt.method, tt.form, tt.basic...)
			if resp.StatusCode != tt.wantHTTP || m["error"] != tt.wantCode {
				t.Errorf("answer %d %v; want %d %s", resp.StatusCode, m["error"], tt.wantHTTP, tt.wantCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
			if _, ok := m["access_token"]; ok {
				t.Errorf("error answer holds an access token: %v", m)
			}
		})
	}
}

// isRefused reports whether err is a refused TCP connection.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func TestTroubleModes(t *testing.T) {
	type want struct {
		http       int    // 0: the request succeeds
		code       string // RFC 6749 error code
		retryAfter string
		scope      string // granted, on success
		refused    bool
	}
	tests := []struct {
		name   string
		set    func(*Server) error
		client Client
		scopes []string
		want   want
	}{
		{name: "none", set: func(*Server) error { return nil }, client: chatBot, want: want{scope: "chat:invoke models:read"}},
		{name: "reject this secret", set: func(s *Server) error { s.RejectSecret(chatBot.ID); return nil }, client: chatBot, want: want{http: 401, code: "invalid_client"}},
		{name: "reject another's secret", set: func(s *Server) error { s.RejectSecret(dataSync.ID); return nil }, client: chatBot, want: want{scope: "chat:invoke models:read"}},
		{name: "reject every secret", set: func(s *Server) error { s.RejectSecret(AllClients); return nil }, client: orgAdmin, want: want{http: 401, code: "invalid_client"}},
		{name: "reject then accept", set: func(s *Server) error { s.RejectSecret(chatBot.ID); s.AcceptSecret(chatBot.ID); return nil }, client: chatBot, want: want{scope: "chat:invoke models:read"}},
		{name: "dropped scope asked", set: func(s *Server) error { s.DropScope(chatBot.ID, "models:read"); return nil }, client: chatBot, scopes: []string{"models:read"}, want: want{http: 400, code: "invalid_scope"}},
		{name: "dropped scope among others", set: func(s *Server) error { s.DropScope(chatBot.ID, "models:read"); return nil }, client: chatBot, scopes: []string{"chat:invoke", "models:read"}, want: want{http: 400, code: "invalid_scope"}},
		{name: "other scope still granted", set: func(s *Server) error { s.DropScope(chatBot.ID, "models:read"); return nil }, client: chatBot, scopes: []string{"chat:invoke"}, want: want{scope: "chat:invoke"}},
		{name: "no scope asked: the rest granted", set: func(s *Server) error { s.DropScope(AllClients, "models:read"); return nil }, client: chatBot, want: want{scope: "chat:invoke"}},
		{name: "scope restored", set: func(s *Server) error {
			s.DropScope(chatBot.ID, "models:read")
			s.RestoreScope(chatBot.ID, "models:read")
			return nil
		}, client: chatBot, scopes: []string{"models:read"}, want: want{scope: "models:read"}},
		{name: "rate limit", set: func(s *Server) error { s.RateLimit(90 * time.Second); return nil }, client: dataSync, want: want{http: 429, code: "rate_limited", retryAfter: "90"}},
		{name: "rate limit rounds up", set: func(s *Server) error { s.RateLimitClient(chatBot.ID, 1500*time.Millisecond); return nil }, client: chatBot, want: want{http: 429, code: "rate_limited", retryAfter: "2"}},
		{name: "rate limit of another client", set: func(s *Server) error { s.RateLimitClient(dataSync.ID, time.Minute); return nil }, client: chatBot, want: want{scope: "chat:invoke models:read"}},
		{name: "rate limit lifted", set: func(s *Server) error { s.RateLimit(time.Minute); s.RateLimit(0); return nil }, client: chatBot, want: want{scope: "chat:invoke models:read"}},
		{name: "down", set: func(s *Server) error { return s.Down() }, client: chatBot, want: want{refused: true}},
		{name: "down twice", set: func(s *Server) error { _ = s.Down(); return s.Down() }, client: chatBot, want: want{refused: true}},
		{name: "down then up", set: func(s *Server) error { _ = s.Down(); return s.Up() }, client: chatBot, want: want{scope: "chat:invoke models:read"}},
		{name: "everything then reset", set: func(s *Server) error {
			s.RejectSecret(AllClients)
			s.DropScope(chatBot.ID, "chat:invoke")
			s.RateLimit(time.Minute)
			_ = s.Down()
			return s.Reset()
		}, client: chatBot, scopes: []string{"chat:invoke"}, want: want{scope: "chat:invoke"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{})
			url0 := s.URL()
			if err := tt.set(s); err != nil {
				t.Fatalf("set trouble: %v", err)
			}
			tok, err := fetch(t, s, tt.client, oauth2.AuthStyleAutoDetect, tt.scopes...)
			if got := s.URL(); got != url0 {
				t.Errorf("URL = %s after trouble; want %s (same port)", got, url0)
			}
			switch {
			case tt.want.refused:
				if !isRefused(err) {
					t.Errorf("error = %v; want connection refused", err)
				}
			case tt.want.http != 0:
				re := retrieveError(t, err)
				if re.Response.StatusCode != tt.want.http || re.ErrorCode != tt.want.code {
					t.Errorf("error = %d %q; want %d %q", re.Response.StatusCode, re.ErrorCode, tt.want.http, tt.want.code)
				}
				if got := re.Response.Header.Get("Retry-After"); got != tt.want.retryAfter {
					t.Errorf("Retry-After = %q; want %q", got, tt.want.retryAfter)
				}
			default:
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				if got := tok.Extra("scope"); got != tt.want.scope {
					t.Errorf("scope = %v; want %q", got, tt.want.scope)
				}
			}
		})
	}
}

func TestDownUpKeepsPort(t *testing.T) {
	s := start(t, Options{})
	url0 := s.URL()
	for i := range 3 {
		if err := s.Down(); err != nil {
			t.Fatalf("Down %d: %v", i, err)
		}
		if !s.IsDown() {
			t.Fatalf("IsDown = false after Down")
		}
		if _, err := fetch(t, s, chatBot, oauth2.AuthStyleInHeader); !isRefused(err) {
			t.Fatalf("while down: error = %v; want connection refused", err)
		}
		if err := s.Up(); err != nil {
			t.Fatalf("Up %d: %v", i, err)
		}
		if s.URL() != url0 {
			t.Fatalf("URL = %s; want %s", s.URL(), url0)
		}
		if _, err := fetch(t, s, chatBot, oauth2.AuthStyleInHeader); err != nil {
			t.Fatalf("after Up: %v", err)
		}
	}
}

func TestTroubleFromOptions(t *testing.T) {
	s := start(t, Options{Trouble: map[string]Trouble{
		chatBot.ID: {RejectSecret: true},
		AllClients: {DropScopes: []string{"files:read"}},
	}})
	_, err := fetch(t, s, chatBot, oauth2.AuthStyleInHeader)
	if re := retrieveError(t, err); re.ErrorCode != "invalid_client" {
		t.Errorf("chat-bot: %s; want invalid_client", re.ErrorCode)
	}
	_, err = fetch(t, s, dataSync, oauth2.AuthStyleInParams, "files:read")
	if re := retrieveError(t, err); re.ErrorCode != "invalid_scope" {
		t.Errorf("data-sync files:read: %s; want invalid_scope", re.ErrorCode)
	}
	got := s.Effective(dataSync.ID)
	if !slices.Equal(got.DropScopes, []string{"files:read"}) || got.RejectSecret {
		t.Errorf("Effective(data-sync) = %+v; want files:read dropped only", got)
	}
	if got := s.Trouble(chatBot.ID); !got.RejectSecret || len(got.DropScopes) != 0 {
		t.Errorf("Trouble(chat-bot) = %+v; want RejectSecret only (not merged)", got)
	}

	if _, err := New(Options{Key: testKey(), Clients: []Client{chatBot}, Trouble: map[string]Trouble{"nobody": {RejectSecret: true}}}); err == nil {
		t.Error("New with trouble for an unknown client: no error; want one")
	}
}

func TestStats(t *testing.T) {
	s := start(t, Options{})
	wrong := chatBot
	wrong.Secret = "nope"
	for _, c := range []Client{chatBot, chatBot, wrong} {
		_, _ = fetch(t, s, c, oauth2.AuthStyleInHeader)
	}
	s.RateLimit(time.Minute)
	_, _ = fetch(t, s, chatBot, oauth2.AuthStyleInParams)
	got := s.Stats(chatBot.ID)
	if got.Requests != 4 || got.Issued != 2 || got.Failed != 2 || got.LastStatus != 429 || got.LastError != "rate_limited" || got.LastAt.IsZero() {
		t.Errorf("Stats(chat-bot) = %+v; want 4 requests, 2 issued, 2 failed, last 429 rate_limited", got)
	}
	if got := s.Stats(dataSync.ID); got != (Stats{}) {
		t.Errorf("Stats(data-sync) = %+v; want zero", got)
	}
	if got := s.Stats("nobody"); got != (Stats{}) {
		t.Errorf("Stats(nobody) = %+v; want zero", got)
	}
}

func TestConcurrentRequestsAndTrouble(t *testing.T) {
	s := start(t, Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c := []Client{chatBot, dataSync}[i%2]
			_, _ = fetch(t, s, c, oauth2.AuthStyleAutoDetect)
		})
		wg.Go(func() {
			s.RejectSecret(chatBot.ID)
			s.DropScope(AllClients, "files:read")
			s.RateLimitClient(dataSync.ID, time.Second)
			_ = s.Reset()
		})
	}
	wg.Wait()
	if got := s.Stats(chatBot.ID).Requests + s.Stats(dataSync.ID).Requests; got < 8 {
		t.Errorf("requests counted = %d; want at least 8", got)
	}
}

func TestRotateSecret(t *testing.T) {
	s := start(t, Options{})
	old := chatBot
	secret, err := s.RotateSecret(chatBot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if secret == old.Secret || secret == "" {
		t.Fatalf("new secret %q; want a new non-empty one", secret)
	}
	next := chatBot
	next.Secret = secret
	for _, c := range []Client{old, next} {
		if _, err := fetch(t, s, c, oauth2.AuthStyleInHeader); err != nil {
			t.Errorf("before retiring, secret %d chars: %v", len(c.Secret), err)
		}
	}
	if err := s.RetireOldSecrets(chatBot.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := fetch(t, s, old, oauth2.AuthStyleInHeader); retrieveError(t, err).ErrorCode != "invalid_client" {
		t.Errorf("old secret after retiring: %v; want invalid_client", err)
	}
	if _, err := fetch(t, s, next, oauth2.AuthStyleInHeader); err != nil {
		t.Errorf("new secret after retiring: %v", err)
	}
	i := slices.IndexFunc(s.Clients(), func(c Client) bool { return c.ID == chatBot.ID })
	if got := s.Clients()[i].Secret; got != secret {
		t.Errorf("Clients() secret is not the new one")
	}
	if _, err := s.RotateSecret("nobody"); err == nil {
		t.Error("RotateSecret(nobody): no error")
	}
}

func TestLifecycle(t *testing.T) {
	s, err := New(Options{Key: testKey(), Clients: []Client{chatBot}})
	if err != nil {
		t.Fatal(err)
	}
	if s.URL() != "" || s.TokenURL() != "" || s.Issuer() != "" {
		t.Errorf("before Start: URL %q, TokenURL %q, Issuer %q; want empty", s.URL(), s.TokenURL(), s.Issuer())
	}
	if err := s.Down(); err == nil {
		t.Error("Down before Start: no error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err == nil {
		t.Error("second Start: no error")
	}
	u, err := url.Parse(s.URL())
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "0" || u.Scheme != "http" {
		t.Errorf("URL = %q; want http://127.0.0.1:<port>", s.URL())
	}
	if got, want := s.TokenURL(), s.URL()+TokenPath; got != want {
		t.Errorf("TokenURL = %q; want %q", got, want)
	}
	if got, want := s.JWKSURL(), s.URL()+JWKSPath; got != want {
		t.Errorf("JWKSURL = %q; want %q", got, want)
	}
	cancel()
	if err := s.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, f := range map[string]func() error{"Start": func() error { return s.Start(t.Context()) }, "Up": s.Up, "Down": s.Down} {
		if err := f(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", name, err)
		}
	}
	if _, err := fetch(t, s, chatBot, oauth2.AuthStyleInHeader); !isRefused(err) {
		t.Errorf("after Close: %v; want connection refused", err)
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "non-loopback address", opts: Options{Addr: "0.0.0.0:0"}},
		{name: "host name", opts: Options{Addr: "example.com:0"}},
		{name: "no port", opts: Options{Addr: "127.0.0.1"}},
		{name: "duplicate id", opts: Options{Clients: []Client{chatBot, chatBot}}},
		{name: "no secret", opts: Options{Clients: []Client{{ID: "x"}}}},
		{name: "no id", opts: Options{Clients: []Client{{Secret: "x"}}}},
		{name: "bad auth method", opts: Options{Clients: []Client{{ID: "x", Secret: "y", Auth: "private_key_jwt"}}}},
		{name: "bad scope", opts: Options{Clients: []Client{{ID: "x", Secret: "y", Scopes: []string{"a b"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Key = testKey()
			s, err := New(tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("New: no error; want one")
			}
			if !strings.HasPrefix(err.Error(), "demoserver: ") {
				t.Errorf("error %q; want the demoserver: prefix", err)
			}
		})
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		if _, err := New(Options{Addr: addr, Key: testKey()}); err != nil {
			t.Errorf("New(Addr %q): %v; want no error", addr, err)
		}
	}
}

func TestMetadata(t *testing.T) {
	s := start(t, Options{})
	resp, err := http.Get(s.URL() + MetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Issuer        string   `json:"issuer"`
		TokenEndpoint string   `json:"token_endpoint"`
		JWKSURI       string   `json:"jwks_uri"`
		Scopes        []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Issuer != s.URL() || m.TokenEndpoint != s.TokenURL() || m.JWKSURI != s.JWKSURL() {
		t.Errorf("metadata = %+v; want issuer %s, token %s, jwks %s", m, s.URL(), s.TokenURL(), s.JWKSURL())
	}
	if want := []string{"chat:invoke", "datasets:read", "files:read", "models:read", "org:admin"}; !slices.Equal(m.Scopes, want) {
		t.Errorf("scopes_supported = %q; want %q", m.Scopes, want)
	}
}

func TestDefaultClients(t *testing.T) {
	now := time.Now()
	got := DefaultClients()
	want := []struct {
		name   string
		scopes []string
		age    time.Duration
		auth   AuthMethod
	}{
		{"chat-bot", []string{"chat:invoke", "models:read"}, DueSoonAge, AuthBoth},
		{"data-sync", []string{"datasets:read", "files:read"}, OverdueAge, AuthPost},
		{"org-admin", []string{"org:admin"}, FreshAge, AuthBasic},
	}
	if len(got) != len(want) {
		t.Fatalf("%d clients; want %d", len(got), len(want))
	}
	again := DefaultClients()
	for i, w := range want {
		c := got[i]
		if c.Name != w.name || !slices.Equal(c.Scopes, w.scopes) {
			t.Errorf("client %d = %s %q; want %s %q", i, c.Name, c.Scopes, w.name, w.scopes)
		}
		if !strings.HasPrefix(c.ID, "m2m-client-test-") || c.ID != again[i].ID {
			t.Errorf("id %q; want a fixed m2m-client-test-... id", c.ID)
		}
		if len(c.Secret) < 32 || c.Secret == again[i].Secret {
			t.Errorf("%s: secret of %d chars, same as next call %v; want a fresh random one", c.Name, len(c.Secret), c.Secret == again[i].Secret)
		}
		if age := now.Sub(c.SecretSetAt); age < w.age-time.Minute || age > w.age+time.Minute {
			t.Errorf("%s: secret age %v; want %v", c.Name, age, w.age)
		}
		if strings.Contains(c.String(), c.Secret) || strings.Contains(c.GoString(), c.Secret) {
			t.Errorf("%s: String() or GoString() shows the secret", c.Name)
		}
		if c.Auth != w.auth {
			t.Errorf("%s: auth %q; want %q", c.Name, c.Auth, w.auth)
		}
	}

	// The default clients work against a server started with them.
	s := start(t, Options{Clients: got})
	for _, c := range got {
		if _, err := fetch(t, s, c, oauth2.AuthStyleAutoDetect); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}

func TestFixedAddr(t *testing.T) {
	first := start(t, Options{})
	u, err := url.Parse(first.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s := start(t, Options{Addr: u.Host})
	if s.URL() != first.URL() {
		t.Errorf("URL = %s; want %s", s.URL(), first.URL())
	}
	if _, err := fetch(t, s, chatBot, oauth2.AuthStyleInHeader); err != nil {
		t.Errorf("Token on a fixed address: %v", err)
	}
	busy, err := New(Options{Addr: u.Host, Key: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	if err := busy.Start(t.Context()); err == nil {
		busy.Close()
		t.Error("Start on a busy port: no error")
	}
}

func TestLogHasNoSecrets(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	s := start(t, Options{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil))})
	wrong := chatBot
	wrong.Secret = "wrong-secret-value"
	tok, err := fetch(t, s, chatBot, oauth2.AuthStyleInParams)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fetch(t, s, wrong, oauth2.AuthStyleInHeader)
	mu.Lock()
	log := buf.String()
	mu.Unlock()
	for _, want := range []string{"client_id=" + chatBot.ID, "status=200", "status=401", "error=invalid_client"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, secret := range []string{chatBot.Secret, wrong.Secret, tok.AccessToken} {
		if strings.Contains(log, secret) {
			t.Errorf("log holds a secret or token:\n%s", log)
		}
	}
}

// lockedWriter serialises writes of concurrent handlers.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

package refresher

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokentray/tokentray/vault"
)

// Credentials with characters that RFC 6749 2.3.1 requires to be
// URL-encoded in the Basic header.
const (
	testID     = "m2m-client-test-a+b/c%d=e"
	testSecret = "s3cr+t/with%odd=chars"
)

func testClient(tokenURL string, style vault.AuthStyle) vault.Client {
	return vault.Client{
		Name:           "billing",
		ClientID:       testID,
		TokenURL:       tokenURL,
		Scopes:         []string{"models:read", "chat:invoke"},
		AuthStyle:      style,
		EndpointParams: url.Values{"audience": {"https://api.example.com"}},
	}
}

// makeJWT returns an unsigned-looking JWT with claims (signature is junk:
// nothing here verifies it).
func makeJWT(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func tokenOK(w http.ResponseWriter, extra map[string]any) {
	body := map[string]any{"access_token": "opaque-token-1", "token_type": "Bearer", "expires_in": 3600}
	for k, v := range extra {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func TestExchangeAuthStyles(t *testing.T) {
	tests := []struct {
		name  string
		style vault.AuthStyle
	}{
		{"header", vault.AuthHeader},
		{"body", vault.AuthBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					t.Errorf("method = %s; want POST", r.Method)
				}
				if got, want := r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"; got != want {
					t.Errorf("Content-Type = %q; want %q", got, want)
				}
				if err := r.ParseForm(); err != nil {
					t.Errorf("ParseForm: %v", err)
				}
				user, pass, hasBasic := r.BasicAuth()
				switch tt.style {
				case vault.AuthHeader:
					if !hasBasic {
						t.Errorf("no Basic header")
					}
					if want := url.QueryEscape(testID); user != want {
						t.Errorf("Basic user = %q; want %q (URL-encoded)", user, want)
					}
					if want := url.QueryEscape(testSecret); pass != want {
						t.Errorf("Basic password is not the URL-encoded secret")
					}
					if r.PostForm.Has("client_secret") {
						t.Errorf("client_secret in the body with the header style")
					}
				case vault.AuthBody:
					if hasBasic {
						t.Errorf("Basic header sent with the body style")
					}
					if got := r.PostForm.Get("client_id"); got != testID {
						t.Errorf("client_id = %q; want %q", got, testID)
					}
					if r.PostForm.Get("client_secret") != testSecret {
						t.Errorf("client_secret in the body is not the secret")
					}
				}
				for k, want := range map[string]string{
					"grant_type": "client_credentials",
					"scope":      "models:read chat:invoke",
					"audience":   "https://api.example.com",
				} {
					if got := r.PostForm.Get(k); got != want {
						t.Errorf("%s = %q; want %q", k, got, want)
					}
				}
				tokenOK(w, map[string]any{"scope": "models:read chat:invoke"})
			}))
			defer ts.Close()
			res, err := Exchange(context.Background(), NewHTTPClient(5*time.Second), testClient(ts.URL, tt.style), testSecret, nil)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if got, want := res.Token.AccessToken, "opaque-token-1"; got != want {
				t.Errorf("AccessToken = %q; want %q", got, want)
			}
			if got, want := res.Token.Scopes, []string{"models:read", "chat:invoke"}; !slices.Equal(got, want) {
				t.Errorf("Scopes = %v; want %v", got, want)
			}
			if len(res.Missing) != 0 {
				t.Errorf("Missing = %v; want none", res.Missing)
			}
			if res.Source != FromFetch {
				t.Errorf("Source = %q; want %q", res.Source, FromFetch)
			}
		})
	}
}

func TestExchangeAutoDetectFallsBackToBody(t *testing.T) {
	var calls []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if _, _, ok := r.BasicAuth(); ok {
			calls = append(calls, "header")
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		calls = append(calls, "body")
		tokenOK(w, nil)
	}))
	defer ts.Close()
	if _, err := Exchange(context.Background(), nil, testClient(ts.URL, vault.AuthAuto), testSecret, nil); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if want := []string{"header", "body"}; !slices.Equal(calls, want) {
		t.Errorf("calls = %v; want %v", calls, want)
	}
}

func TestExchangeScopeParameter(t *testing.T) {
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = append(got, r.PostForm.Get("scope"))
		tokenOK(w, nil)
	}))
	defer ts.Close()
	c := testClient(ts.URL, vault.AuthHeader)
	for _, scopes := range [][]string{nil, {"models:read"}, {}} {
		if _, err := Exchange(context.Background(), nil, c, testSecret, scopes); err != nil {
			t.Fatalf("Exchange(%v): %v", scopes, err)
		}
	}
	if want := []string{"models:read chat:invoke", "models:read", ""}; !slices.Equal(got, want) {
		t.Errorf("scope parameters = %q; want %q", got, want)
	}
}

func TestExchangeFailures(t *testing.T) {
	retryDate := time.Now().Add(2 * time.Minute).UTC().Truncate(time.Second)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		class     Class
		status    int
		code      string
		contains  []string
		retryIn   time.Duration // RetryAt - now, approximately; 0: unset
		retryDate time.Time
	}{
		{
			name: "401 invalid_client",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed"})
			},
			class: ClassRejected, status: 401, code: "invalid_client",
			contains: []string{`127.0.0.1`, `rejected the secret tried for "billing" (HTTP 401 invalid_client: Client authentication failed); nothing was saved`, "copy the secret again"},
		},
		{
			name:    "401 without a body",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) },
			class:   ClassRejected, status: 401,
			contains: []string{"(HTTP 401)", "copy the secret again"},
		},
		{
			name: "400 invalid_client",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, map[string]string{"error": "invalid_client"})
			},
			class: ClassRejected, status: 400, code: "invalid_client",
		},
		{
			name: "400 invalid_scope",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, map[string]string{"error": "invalid_scope", "error_description": "scope chat:invoke not allowed"})
			},
			class: ClassScope, status: 400, code: "invalid_scope",
			contains: []string{"refused the scope chat:invoke for", "tokentray edit billing --scope models:read"},
		},
		{
			name: "403 with the platform's detail",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 403, map[string]string{"detail": "Missing required scope: chat:invoke"})
			},
			class: ClassScope, status: 403,
			contains: []string{"refused the scope chat:invoke for", "(HTTP 403)"},
		},
		{
			name: "429 Retry-After seconds",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(429)
			},
			class: ClassRateLimited, status: 429, retryIn: 30 * time.Second,
			contains: []string{"rate-limiting", "the server asks to wait: try again after"},
		},
		{
			name: "429 Retry-After date",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", retryDate.Format(http.TimeFormat))
				w.WriteHeader(429)
			},
			class: ClassRateLimited, status: 429, retryDate: retryDate,
		},
		{
			name:    "500",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
			class:   ClassTransient, status: 500,
			contains: []string{"HTTP 500", "try again: tokentray refresh billing"},
		},
		{
			name: "10 MB body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				chunk := []byte(strings.Repeat("x", 64<<10))
				for range 160 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
			class:    ClassTransient,
			contains: []string{"larger than 1048576 bytes"},
		},
		{
			name: "invalid JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"access_token": "x",`)
			},
			class:    ClassTransient,
			contains: []string{"not a valid token response"},
		},
		{
			name:     "missing access_token",
			handler:  func(w http.ResponseWriter, r *http.Request) { tokenOK(w, map[string]any{"access_token": nil}) },
			class:    ClassTransient,
			contains: []string{"no access_token"},
		},
		{
			name:     "token_type mac",
			handler:  func(w http.ResponseWriter, r *http.Request) { tokenOK(w, map[string]any{"token_type": "mac"}) },
			class:    ClassTransient,
			contains: []string{`"mac"`},
		},
		{
			name: "200 with an error field",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]string{"error": "invalid_client"})
			},
			class: ClassRejected, status: 200, code: "invalid_client",
		},
		{
			name: "404",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.NotFound(w, r)
			},
			class: ClassEndpoint, status: 404,
			contains: []string{"HTTP 404", "no token endpoint at that URL", "tokentray edit billing --token-url URL"},
		},
		{
			name: "secret echoed in the description",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "bad secret " + testSecret})
			},
			class: ClassRejected, status: 401, code: "invalid_client",
			contains: []string{"[redacted]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(tt.handler)
			defer ts.Close()
			before := time.Now()
			_, err := Exchange(context.Background(), NewHTTPClient(5*time.Second), testClient(ts.URL, vault.AuthHeader), testSecret, nil)
			after := time.Now()
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T); want *Error", err, err)
			}
			if e.Class != tt.class {
				t.Errorf("Class = %q; want %q (err: %v)", e.Class, tt.class, err)
			}
			if e.Status != tt.status {
				t.Errorf("Status = %d; want %d", e.Status, tt.status)
			}
			if e.Code != tt.code {
				t.Errorf("Code = %q; want %q", e.Code, tt.code)
			}
			msg := err.Error()
			for _, s := range tt.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("Error() = %q; want it to contain %q", msg, s)
				}
			}
			if strings.Contains(msg, testSecret) || strings.Contains(fmt.Sprint(e.Err), testSecret) {
				t.Errorf("Error() contains the secret: %q", msg)
			}
			if strings.Contains(msg, "retr") {
				t.Errorf("Error() = %q; a one-shot exchange retries nothing and must not say so", msg)
			}
			if !strings.HasPrefix(msg, "refresher: ") {
				t.Errorf("Error() = %q; want the refresher: prefix", msg)
			}
			if tt.retryIn > 0 {
				lo, hi := before.Add(tt.retryIn-time.Second), after.Add(tt.retryIn+time.Second)
				if e.RetryAt.Before(lo) || e.RetryAt.After(hi) {
					t.Errorf("RetryAt = %v; want within [%v, %v]", e.RetryAt, lo, hi)
				}
			}
			if !tt.retryDate.IsZero() && !e.RetryAt.Equal(tt.retryDate) {
				t.Errorf("RetryAt = %v; want %v", e.RetryAt, tt.retryDate)
			}
			if tt.retryIn == 0 && tt.retryDate.IsZero() && !e.RetryAt.IsZero() {
				t.Errorf("RetryAt = %v; want zero from Exchange", e.RetryAt)
			}
		})
	}
}

func TestExchangeHangingServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	_, err := Exchange(context.Background(), NewHTTPClient(200*time.Millisecond), testClient(ts.URL, vault.AuthHeader), testSecret, nil)
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassTransient {
		t.Fatalf("err = %v; want a transient *Error", err)
	}
	if !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("Error() = %q; want it to say no answer in time", err)
	}
}

// A token request follows no redirect, whatever the auth style and the
// target: the Location's host receives nothing (it would get the secret),
// and the error names the Location and the command that updates the URL.
func TestExchangeFollowsNoRedirect(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, style := range []vault.AuthStyle{vault.AuthHeader, vault.AuthBody, vault.AuthAuto} {
			t.Run(fmt.Sprintf("%d %s", status, style), func(t *testing.T) {
				var got atomic.Int32
				other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					got.Add(1)
					tokenOK(w, nil)
				}))
				defer other.Close()
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+"/token", status)
				}))
				defer ts.Close()
				for _, hc := range []*http.Client{NewHTTPClient(5 * time.Second), {Timeout: 5 * time.Second}} {
					_, err := Exchange(context.Background(), hc, testClient(ts.URL, style), testSecret, nil)
					var e *Error
					if !errors.As(err, &e) || e.Class != ClassEndpoint || e.Status != status {
						t.Fatalf("err = %v; want an endpoint *Error with status %d", err, status)
					}
					msg := err.Error()
					for _, want := range []string{"redirect to " + other.URL + "/token", "tokentray edit billing --token-url " + other.URL + "/token"} {
						if !strings.Contains(msg, want) {
							t.Errorf("Error() = %q; want it to contain %q", msg, want)
						}
					}
					if w := e.Words(); w.Action != ActionEditURL {
						t.Errorf("Action = %q; want %q", w.Action, ActionEditURL)
					}
				}
				if n := got.Load(); n != 0 {
					t.Errorf("the redirect's target received %d requests; want none", n)
				}
			})
		}
	}
}

func TestExchangeResponseShapes(t *testing.T) {
	jwt := makeJWT(map[string]any{"scp": []string{"models:read"}, "exp": time.Now().Add(30 * time.Minute).Unix()})
	tests := []struct {
		name        string
		extra       map[string]any
		wantLife    time.Duration // expiry - fetch time, within 2s
		wantScopes  []string
		wantMissing []string
	}{
		{"bearer lower case", map[string]any{"token_type": "bearer"}, time.Hour, []string{"models:read", "chat:invoke"}, nil},
		{"Bearer", map[string]any{"token_type": "Bearer"}, time.Hour, []string{"models:read", "chat:invoke"}, nil},
		{"expires_in as a string", map[string]any{"expires_in": "1800"}, 30 * time.Minute, []string{"models:read", "chat:invoke"}, nil},
		{"expires_in missing, opaque token", map[string]any{"expires_in": nil}, DefaultLifetime, []string{"models:read", "chat:invoke"}, nil},
		{"expires_in missing, JWT exp", map[string]any{"expires_in": nil, "access_token": jwt}, 30 * time.Minute, []string{"models:read"}, []string{"chat:invoke"}},
		{"scope field wins over the JWT", map[string]any{"access_token": jwt, "scope": "chat:invoke"}, time.Hour, []string{"chat:invoke"}, []string{"models:read"}},
		{"empty scope field", map[string]any{"scope": ""}, time.Hour, []string{}, []string{"models:read", "chat:invoke"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tokenOK(w, tt.extra) }))
			defer ts.Close()
			res, err := Exchange(context.Background(), nil, testClient(ts.URL, vault.AuthHeader), testSecret, nil)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if got := res.Token.Expiry.Sub(res.Token.FetchedAt); got < tt.wantLife-2*time.Second || got > tt.wantLife+2*time.Second {
				t.Errorf("lifetime = %v; want about %v", got, tt.wantLife)
			}
			if got := res.Token.TokenType; got != "Bearer" {
				t.Errorf("TokenType = %q; want Bearer", got)
			}
			if !slices.Equal(res.Token.Scopes, tt.wantScopes) && !(len(res.Token.Scopes) == 0 && len(tt.wantScopes) == 0) {
				t.Errorf("Scopes = %v; want %v", res.Token.Scopes, tt.wantScopes)
			}
			if !slices.Equal(res.Missing, tt.wantMissing) {
				t.Errorf("Missing = %v; want %v", res.Missing, tt.wantMissing)
			}
		})
	}
}

func TestExchangeClockSkew(t *testing.T) {
	const ahead = 10 * time.Minute
	tests := []struct {
		name  string
		skew  time.Duration
		extra func() map[string]any
		life  time.Duration
		want  time.Duration // reported skew, rounded to minutes
	}{
		{"server ahead, JWT exp only", ahead, func() map[string]any {
			return map[string]any{"expires_in": nil, "access_token": makeJWT(map[string]any{"exp": time.Now().Add(ahead + time.Hour).Unix()})}
		}, time.Hour, ahead},
		{"server behind, expires_in", -ahead, func() map[string]any { return nil }, time.Hour, -ahead},
		{"server 10s off: not reported", 10 * time.Second, func() map[string]any { return nil }, time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", time.Now().Add(tt.skew).UTC().Format(http.TimeFormat))
				tokenOK(w, tt.extra())
			}))
			defer ts.Close()
			res, err := Exchange(context.Background(), nil, testClient(ts.URL, vault.AuthHeader), testSecret, nil)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if got := res.Skew.Round(time.Minute); got != tt.want {
				t.Errorf("Skew = %v; want about %v", res.Skew, tt.want)
			}
			if got := res.Token.Expiry.Sub(res.Token.FetchedAt); got < tt.life-3*time.Second || got > tt.life+3*time.Second {
				t.Errorf("lifetime on the local clock = %v; want about %v", got, tt.life)
			}
		})
	}
}

func TestExchangeValidatesClient(t *testing.T) {
	c := testClient("http://auth.example.com/token", vault.AuthHeader) // plain http off loopback
	_, err := Exchange(context.Background(), nil, c, testSecret, nil)
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassConfig {
		t.Fatalf("err = %v; want a config *Error", err)
	}
	_, err = Exchange(context.Background(), nil, testClient("https://auth.example.com/t", vault.AuthHeader), "", nil)
	if !errors.As(err, &e) || e.Class != ClassConfig {
		t.Fatalf("empty secret: err = %v; want a config *Error", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"30", 30 * time.Second, true},
		{"0", 0, true},
		{"-5", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"999999999", 24 * time.Hour, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"30", "Wed, 21 Oct 2015 07:28:00 GMT", "", "-1", "1e9", " 5 "} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 || d > 24*time.Hour {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want within [0, 24h]", s, d, ok)
		}
		if !ok && d != 0 {
			t.Errorf("parseRetryAfter(%q) = %v, false; want 0 when not ok", s, d)
		}
	})
}

func FuzzDetailOf(f *testing.F) {
	for _, s := range []string{`{"detail": "Missing required scope: chat:invoke"}`, `{"message":"x"}`, `{"detail":`, `"detail" "`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := detailOf(b)
		if len(d) > len(b) {
			t.Errorf("detailOf returned %d bytes from %d", len(d), len(b))
		}
	})
}

// FuzzExchangeResponse feeds arbitrary token responses to Exchange: it must
// not panic, must not succeed without a token or an expiry, and its error
// must not hold the secret.
func FuzzExchangeResponse(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"access_token":"a","token_type":"bearer","expires_in":"60","scope":"x y"}`))
	f.Add(200, "application/x-www-form-urlencoded", []byte(`access_token=a&token_type=bearer&expires_in=60`))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client","error_description":"`+testSecret+`"}`))
	f.Add(429, "text/plain", []byte(`slow down`))
	f.Add(200, "application/json", []byte(`{"access_token":"`+makeJWT(map[string]any{"scp": []string{"a"}, "exp": 1e10})+`"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"a","expires_in":1e300}`))
	f.Add(200, "application/json", []byte(`{"access_token":"a","expires_in":-100}`))
	f.Add(200, "application/json", []byte(`{"access_token":"a\u001b[2J","expires_in":60}`))
	f.Add(200, "application/x-www-form-urlencoded", []byte(`access_token=a%0Ab&expires_in=1e300`))
	f.Add(307, "text/html", []byte(`<a href="https://evil.example.com/">moved</a>`))
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		hc := &http.Client{Transport: handlerTransport{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = w.Write(body)
		})}}
		res, err := Exchange(context.Background(), hc, testClient("https://auth.example.com/token", vault.AuthHeader), testSecret, nil)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T; want *Error", err)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error holds the secret: %v", err)
			}
			return
		}
		if res.Token.AccessToken == "" || res.Token.Expiry.IsZero() || res.Token.TokenType != "Bearer" {
			t.Errorf("success with token %v (%q, expiry %v)", res.Token, res.Token.TokenType, res.Token.Expiry)
		}
		if why := checkAccessToken(res.Token.AccessToken); why != "" {
			t.Errorf("success with a token a bearer token cannot be: %s", why)
		}
		if life := res.Token.Lifetime(); life <= 0 || life > MaxLifetime {
			t.Errorf("success with a lifetime of %v; want in (0, %v]", life, MaxLifetime)
		}
	})
}

// TestExchangeErrorHoldsNoSecret: a failed exchange's error says nothing of
// the secret, in any encoding the request carried it (a server that echoes
// the form body), and the *oauth2.RetrieveError it wraps no longer reaches
// the request (Authorization header, re-readable form body).
func TestExchangeErrorHoldsNoSecret(t *testing.T) {
	for _, style := range []vault.AuthStyle{vault.AuthHeader, vault.AuthBody} {
		t.Run(string(style), func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				writeJSON(w, 401, map[string]string{"error": "invalid_client",
					"error_description": "rejected " + string(body) + " " + r.Header.Get("Authorization")})
			}))
			defer ts.Close()
			_, err := Exchange(context.Background(), NewHTTPClient(5*time.Second), testClient(ts.URL, style), testSecret, nil)
			if err == nil {
				t.Fatal("Exchange: nil error; want invalid_client")
			}
			basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testID) + ":" + url.QueryEscape(testSecret)))
			forms := []string{testSecret, url.QueryEscape(testSecret), basic}
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("err %v does not wrap *oauth2.RetrieveError", err)
			}
			texts := []string{err.Error(), re.Error(), string(re.Body)}
			if resp := re.Response; resp != nil && resp.Request != nil {
				texts = append(texts, resp.Request.Header.Get("Authorization"))
				if resp.Request.GetBody != nil {
					if rc, err := resp.Request.GetBody(); err == nil {
						b, _ := io.ReadAll(rc)
						texts = append(texts, string(b))
					}
				}
			}
			for _, text := range texts {
				for _, s := range forms {
					if strings.Contains(text, s) {
						t.Errorf("the error reaches the secret as %q in %q", s, text)
					}
				}
			}
			if re.Response == nil || re.Response.StatusCode != 401 {
				t.Errorf("RetrieveError.Response = %v; want the status kept", re.Response)
			}
		})
	}
}

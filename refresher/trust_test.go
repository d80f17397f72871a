package refresher

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// A secret with every kind of character an encoding changes: RFC 6749
// 2.3.1 escapes, a quote, a backslash, non-ASCII, a percent escape.
const oddSecret = `Sx9+q/w"e\rtz%41é€:ü=&<p>-tail-0123456789`

// secretForms lists, independently of the redactor, the forms in which a
// secret may come back in an error answer.
func secretForms(id, secret string) []string {
	j, _ := json.Marshal(secret)
	js := string(j[1 : len(j)-1])
	var ascii, all strings.Builder
	for _, r := range secret {
		if r > 0x7e {
			fmt.Fprintf(&ascii, `\u%04x`, r)
		} else {
			ascii.WriteRune(r)
		}
		fmt.Fprintf(&all, `\u%04x`, r)
	}
	dec, _ := url.QueryUnescape(secret)
	forms := []string{secret, url.QueryEscape(secret), strings.ToLower(url.QueryEscape(secret)), url.PathEscape(secret), dec,
		js, strings.ReplaceAll(js, "/", `\/`), ascii.String(), all.String(), html.EscapeString(secret)}
	for _, cred := range []string{secret, url.QueryEscape(id) + ":" + url.QueryEscape(secret), id + ":" + secret} {
		forms = append(forms, base64.StdEncoding.EncodeToString([]byte(cred)), base64.RawURLEncoding.EncodeToString([]byte(cred)))
	}
	return forms
}

// leak returns a piece of one of forms (redactWindow bytes, or a whole
// shorter form) found in text, or "".
func leak(text string, forms []string) string {
	for _, f := range forms {
		if len(f) < redactWindow {
			if strings.Contains(text, f) {
				return f
			}
			continue
		}
		for i := 0; i+redactWindow <= len(f); i++ {
			if strings.Contains(text, f[i:i+redactWindow]) {
				return f[i : i+redactWindow]
			}
		}
	}
	return ""
}

// A server that echoes the secret, in every form, in every field of an
// error answer (and in fields that are not RFC 6749's) gets none of it into
// the error's words, nor into the error chain.
func TestExchangeRedactsTheSecretEverywhere(t *testing.T) {
	forms := secretForms(testID, oddSecret)
	// Echoes: every form, its first 12 bytes, and the part before a quote.
	var echoes []string
	for _, f := range forms {
		echoes = append(echoes, f, f[:min(12, len(f))], "x"+f[2:])
	}
	echoes = append(echoes, oddSecret[:strings.IndexByte(oddSecret, '"')])
	for _, style := range []vault.AuthStyle{vault.AuthHeader, vault.AuthBody} {
		for _, field := range []string{"error", "error_description", "error_uri", "detail"} {
			for _, status := range []int{400, 401, 403, 429, 500} {
				t.Run(fmt.Sprintf("%s %s %d", style, field, status), func(t *testing.T) {
					ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						_ = r.ParseForm()
						all := strings.Join(echoes, " | ") + " body=" + r.PostForm.Encode() + " auth=" + r.Header.Get("Authorization")
						if field == "error_uri" {
							all = "https://auth.example.com/e?" + all
						}
						body := map[string]string{"error": "invalid_request", field: all}
						writeJSON(w, status, body)
					}))
					defer ts.Close()
					_, err := Exchange(context.Background(), NewHTTPClient(5*time.Second), testClient(ts.URL, style), oddSecret, nil)
					var e *Error
					if !errors.As(err, &e) {
						t.Fatalf("err = %v; want *Error", err)
					}
					w := e.Words()
					for _, text := range []string{err.Error(), e.Message(), w.Title, w.Detail, w.Fix, fmt.Sprint(e.Err), e.Code, e.Description, e.URI} {
						if l := leak(text, forms); l != "" {
							t.Fatalf("%q of the secret appears in %q", l, text)
						}
					}
					if field == "detail" && strings.Contains(err.Error(), "tail") {
						t.Errorf("a non-RFC 6749 field is shown: %q", err)
					}
				})
			}
		}
	}
}

func TestRedactorKeepsOtherText(t *testing.T) {
	r := newRedactor(testID, oddSecret)
	for _, s := range []string{"scope chat:invoke is not allowed", "Client authentication failed (e.g. unknown client)", ""} {
		if got := r.clean(s, 200); got != s {
			t.Errorf("clean(%q) = %q; want it unchanged", s, got)
		}
	}
	if got := r.clean("a\x1b[31mred\nline", 200); got != "a [31mred line" {
		t.Errorf("clean of control characters = %q", got)
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("id", oddSecret, "before ", " after")
	f.Add("m2m", "short", "", "")
	f.Fuzz(func(t *testing.T, id, secret, before, after string) {
		if len(secret) < redactWindow {
			return
		}
		r := newRedactor(id, secret)
		for _, f := range []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))} {
			got := r.redact(before + f + after)
			if strings.Contains(got, f) {
				t.Errorf("redact left %q in %q", f, got)
			}
		}
	})
}

// auth=auto tries the other auth style only after an answer that rejects
// the client authentication; never after a rate limit, a 5xx, a timeout or
// a refused scope, and remembers the style that worked.
func TestExchangeAutoProbesOnlyAfterAuthRejection(t *testing.T) {
	tests := []struct {
		name    string
		header  func(w http.ResponseWriter) // the answer to the Basic header
		probes  bool
		class   Class
		retryAt bool
	}{
		{"401", func(w http.ResponseWriter) { w.WriteHeader(401) }, true, "", false},
		{"400 invalid_client", func(w http.ResponseWriter) { writeJSON(w, 400, map[string]string{"error": "invalid_client"}) }, true, "", false},
		{"400 unauthorized_client", func(w http.ResponseWriter) { writeJSON(w, 400, map[string]string{"error": "unauthorized_client"}) }, true, "", false},
		{"429", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "30"); w.WriteHeader(429) }, false, ClassRateLimited, true},
		{"503", func(w http.ResponseWriter) { w.WriteHeader(503) }, false, ClassTransient, false},
		{"invalid_scope", func(w http.ResponseWriter) { writeJSON(w, 400, map[string]string{"error": "invalid_scope"}) }, false, ClassScope, false},
		{"invalid_target", func(w http.ResponseWriter) { writeJSON(w, 400, map[string]string{"error": "invalid_target"}) }, false, ClassTarget, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls []string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				mu.Lock()
				defer mu.Unlock()
				if _, _, ok := r.BasicAuth(); ok {
					calls = append(calls, "header")
					tt.header(w)
					return
				}
				calls = append(calls, "body")
				tokenOK(w, nil)
			}))
			defer ts.Close()
			c := testClient(ts.URL, vault.AuthAuto)
			c.ClientID = "auto-" + strings.ReplaceAll(tt.name, " ", "-")
			_, err := Exchange(context.Background(), nil, c, testSecret, nil)
			want := []string{"header"}
			if tt.probes {
				want = append(want, "body")
			}
			mu.Lock()
			got := strings.Join(calls, " ")
			mu.Unlock()
			if got != strings.Join(want, " ") {
				t.Errorf("requests %q; want %q", got, strings.Join(want, " "))
			}
			var e *Error
			switch {
			case tt.probes && err != nil:
				t.Errorf("Exchange: %v; want the body style to work", err)
			case !tt.probes && (!errors.As(err, &e) || e.Class != tt.class):
				t.Errorf("err = %v; want class %q", err, tt.class)
			case !tt.probes && tt.retryAt && e.RetryAt.IsZero():
				t.Errorf("RetryAt not set from Retry-After")
			}
			if !tt.probes {
				return
			}
			// The body style is remembered: the next exchange starts with it.
			if _, err := Exchange(context.Background(), nil, c, testSecret, nil); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			got = strings.Join(calls, " ")
			mu.Unlock()
			if want := "header body body"; got != want {
				t.Errorf("requests after a second exchange %q; want %q", got, want)
			}
		})
	}
}

// Both attempts of auth=auto share one deadline: a Basic attempt answered
// late with 401 and a body attempt that hangs end at the client's timeout,
// not at twice it.
func TestExchangeAutoOneDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, _, ok := r.BasicAuth(); ok {
				time.Sleep(10 * time.Second)
				w.WriteHeader(401)
				return
			}
			<-r.Context().Done()
		})
		hc := &http.Client{Transport: ctxTransport{h}, Timeout: 15 * time.Second}
		start := time.Now()
		_, err := Exchange(context.Background(), hc, testClient("https://auth.example.com/token", vault.AuthAuto), testSecret, nil)
		var e *Error
		if !errors.As(err, &e) || e.Class != ClassTransient {
			t.Fatalf("err = %v; want a transient *Error", err)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("the exchange took %v; want at most the 15s timeout", took)
		}
	})
}

// ctxTransport serves requests in memory and honours their context while
// the handler blocks.
type ctxTransport struct{ h http.Handler }

func (t ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	done := make(chan *http.Response, 1)
	go func() {
		rec := httptest.NewRecorder()
		t.h.ServeHTTP(rec, req)
		done <- rec.Result()
	}()
	select {
	case res := <-done:
		res.Request = req
		return res, nil
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
}

// Access tokens outside RFC 6750's characters and lifetimes that make no
// sense are refused (exit 6, nothing cached); huge lifetimes are clamped.
func TestExchangeTokenAndLifetimeRules(t *testing.T) {
	tests := []struct {
		name    string
		extra   map[string]any
		body    string // raw body instead of extra
		ok      bool
		life    time.Duration // when ok
		message string        // in the error when not ok
	}{
		{name: "newline", extra: map[string]any{"access_token": "abc\ndef"}, message: "control character"},
		{name: "ESC", extra: map[string]any{"access_token": "abc\x1b[2Jdef"}, message: "control character"},
		{name: "space", extra: map[string]any{"access_token": "abc def"}, message: "bearer token cannot have"},
		{name: "header injection", extra: map[string]any{"access_token": "abc\r\nX-Evil: 1"}, message: "control character"},
		{name: "non-ASCII", extra: map[string]any{"access_token": "abcé"}, message: "bearer token cannot have"},
		{name: "token68 with padding", extra: map[string]any{"access_token": "a-b.c_d~e+f/g=="}, ok: true, life: time.Hour},
		{name: "expires_in -100", extra: map[string]any{"expires_in": -100}, message: "expires_in is -100"},
		{name: "expires_in 0", extra: map[string]any{"expires_in": 0}, message: "expires_in is 0"},
		{name: "expires_in 1e300", body: `{"access_token":"t","token_type":"bearer","expires_in":1e300}`, ok: true, life: MaxLifetime},
		{name: "expires_in 10 years", extra: map[string]any{"expires_in": 10 * 365 * 24 * 3600}, ok: true, life: MaxLifetime},
		{name: "expires_in string", extra: map[string]any{"expires_in": "300"}, ok: true, life: 5 * time.Minute},
		{name: "expires_in missing", extra: map[string]any{"expires_in": nil}, ok: true, life: DefaultLifetime},
		{name: "expires_in garbage", extra: map[string]any{"expires_in": "soon"}, ok: true, life: DefaultLifetime},
		{name: "JWT exp in the past", extra: map[string]any{"expires_in": nil, "access_token": makeJWT(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})},
			message: "exp claim is in the past"},
		{name: "form expires_in -100", body: "form:access_token=t&token_type=bearer&expires_in=-100", message: "expires_in is -100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasPrefix(tt.body, "form:"):
					w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
					fmt.Fprint(w, strings.TrimPrefix(tt.body, "form:"))
				case tt.body != "":
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprint(w, tt.body)
				default:
					tokenOK(w, tt.extra)
				}
			}))
			defer ts.Close()
			res, err := Exchange(context.Background(), NewHTTPClient(5*time.Second), testClient(ts.URL, vault.AuthHeader), testSecret, nil)
			if tt.ok {
				if err != nil {
					t.Fatalf("Exchange: %v; want a token", err)
				}
				if got := res.Token.Lifetime(); got < tt.life-time.Second || got > tt.life+time.Second {
					t.Errorf("lifetime %v; want %v", got, tt.life)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Class != ClassTransient {
				t.Fatalf("err = %v; want a transient *Error (exit 6)", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Error() = %q; want it to say %q", err, tt.message)
			}
			if strings.ContainsAny(err.Error(), "\n\r\x1b") {
				t.Errorf("Error() holds control characters: %q", err)
			}
		})
	}
}

// A token refused for its characters is not cached: Token fails, and the
// keyring holds nothing.
func TestTokenRefusedTokenIsNotCached(t *testing.T) {
	f := newFixture(t)
	f.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		tokenOK(w, map[string]any{"access_token": "evil\nX-Injected: 1"})
	})
	_, err := f.r.Token(context.Background(), "billing", TokenOptions{})
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassTransient {
		t.Fatalf("err = %v; want a transient *Error", err)
	}
	if _, err := f.store.Token("billing", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("keyring token: err %v; want none cached", err)
	}
}

// An untrusted certificate is said as such, with the host and the fix, not
// as a network error.
func TestExchangeUntrustedCertificate(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tokenOK(w, nil) }))
	defer ts.Close()
	_, err := Exchange(context.Background(), NewHTTPClient(5*time.Second), testClient(ts.URL, vault.AuthHeader), testSecret, nil)
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassTransient {
		t.Fatalf("err = %v; want a transient *Error", err)
	}
	host := strings.TrimPrefix(ts.URL, "https://")
	w := e.Words()
	for _, want := range []string{"the certificate of " + host + " is not trusted", "x509", "SSL_CERT_FILE", "system trust store"} {
		if !strings.Contains(e.Message(), want) {
			t.Errorf("Message() = %q; want it to contain %q", e.Message(), want)
		}
	}
	if w.Title != "Certificate not trusted" || strings.Contains(e.Message(), "network error") {
		t.Errorf("Words = %+v; want a certificate title and no 'network error'", w)
	}
}

// A connection refused names the host it could not reach.
func TestExchangeConnectionRefused(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	u := ts.URL
	ts.Close()
	_, err := Exchange(context.Background(), NewHTTPClient(5*time.Second), testClient(u, vault.AuthHeader), testSecret, nil)
	host := strings.TrimPrefix(u, "http://")
	if err == nil || !strings.Contains(err.Error(), "can't reach "+host+": connection refused") {
		t.Errorf("err = %v; want it to say it can't reach %s", err, host)
	}
}

// Only the scheduler retries: its errors say when; a Token call of a
// process without a running scheduler (the command line) promises nothing.
func TestErrorSaysRetryOnlyWhenPlanned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(503) })
		_, err := b.r.Token(context.Background(), "billing", TokenOptions{})
		var e *Error
		if !errors.As(err, &e) || e.Retrying || strings.Contains(e.Message(), "retr") {
			t.Fatalf("one-shot Token: err %v (Retrying %v); want no retry promised", err, e != nil && e.Retrying)
		}
		b.start(t)
		defer b.stop(t)
		time.Sleep(backoffMax) // past the one-shot call's backoff: the scheduler's own attempt
		synctest.Wait()
		st, _ := b.r.State("billing")
		if st.Err == nil || !st.Err.Retrying || st.Err.RetryAt.IsZero() || !strings.Contains(st.Err.Words().Fix, "Tokentray retries at") {
			t.Errorf("scheduler's error %+v; want Retrying with RetryAt and a fix saying when", st.Err)
		}
	})
}

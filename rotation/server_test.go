package rotation_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// tokenServer is an httptest token endpoint that accepts only the secrets
// currently allowed, each granting its own scopes (as a provider does during
// a rotation overlap).
//
// Not demoserver: the tests choose the new secret themselves, give it other
// scopes than the old one, revoke the old one, and ask which secret earned a
// token (secretOf); demoserver makes its own secrets (RotateSecret) with the
// client's scopes.
type tokenServer struct {
	*httptest.Server
	clientID string
	mu       sync.Mutex          // guards secrets and issued
	secrets  map[string][]string // valid secret -> scopes it may be granted
	issued   map[string]string   // access token -> secret that earned it
}

func newTokenServer(t *testing.T, clientID string) *tokenServer {
	t.Helper()
	ts := &tokenServer{clientID: clientID, secrets: map[string][]string{}, issued: map[string]string{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) allow(secret string, scopes ...string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.secrets[secret] = scopes
}

func (ts *tokenServer) revoke(secret string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.secrets, secret)
}

// secretOf returns the secret an access token was issued for.
func (ts *tokenServer) secretOf(token string) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.issued[token]
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	ts.mu.Lock()
	allowed, valid := ts.secrets[secret]
	ts.mu.Unlock()
	if id != ts.clientID || !valid {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "client authentication failed"})
		return
	}
	granted := allowed
	if s := r.PostForm.Get("scope"); s != "" {
		granted = nil
		for _, sc := range strings.Fields(s) {
			if slices.Contains(allowed, sc) {
				granted = append(granted, sc)
			}
		}
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"sub": id, "scope": strings.Join(granted, " "), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": rand16(),
	})
	token := b64(`{"alg":"RS256","typ":"JWT"}`) + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + b64("sig")
	ts.mu.Lock()
	ts.issued[token] = secret
	ts.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": strings.Join(granted, " "),
	})
}

var (
	jtiMu sync.Mutex
	jtiN  int
)

func rand16() int {
	jtiMu.Lock()
	defer jtiMu.Unlock()
	jtiN++
	return jtiN
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Names and secrets used throughout.
const (
	name      = "billing"
	clientID  = "m2m-client-test-5f2c"
	oldSecret = "old-secret-0123456789"
	newSecret = "new-secret-abcdefghij"
)

var scopes = []string{"models:read", "chat:invoke"}

// fixture is a store with one client on a token server that accepts the
// old secret.
type fixture struct {
	t   *testing.T
	dir string
	kr  *vaulttest.Keyring
	ts  *tokenServer
	st  *vault.Store
	rot *rotation.Rotator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), kr: vaulttest.New(), ts: newTokenServer(t, clientID)}
	f.ts.allow(oldSecret, scopes...)
	f.reopen()
	c := vault.Client{Name: name, ClientID: clientID, TokenURL: f.ts.URL + "/oauth2/token", Scopes: scopes, AuthStyle: vault.AuthHeader}
	if err := f.st.Add(c, oldSecret); err != nil {
		t.Fatalf("Add: %v", err)
	}
	return f
}

// reopen opens the store afresh from the same directory and keyring, as a
// new process after a crash would.
func (f *fixture) reopen() {
	f.t.Helper()
	st, err := vault.Open(f.dir, f.kr)
	if err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.st = st
	f.rot = &rotation.Rotator{Store: st, HTTPClient: f.ts.Client()}
}

// exchange does a real token exchange with the client's current secret.
func (f *fixture) exchange() (refresher.Result, error) {
	f.t.Helper()
	c, err := f.st.Get(name)
	if err != nil {
		f.t.Fatalf("Get: %v", err)
	}
	secret, err := f.st.Secret(name)
	if err != nil {
		f.t.Fatalf("Secret: %v", err)
	}
	return refresher.Exchange(context.Background(), f.ts.Client(), c, secret, nil)
}

// mustWork asserts that the client gets tokens with its current secret and
// that they were earned with want.
func (f *fixture) mustWork(want string) {
	f.t.Helper()
	res, err := f.exchange()
	if err != nil {
		f.t.Fatalf("exchange with the current secret: %v; want a token", err)
	}
	if got := f.ts.secretOf(res.Token.AccessToken); got != want {
		f.t.Errorf("token earned with secret %q; want %q", got, want)
	}
}

// secrets returns the current and staged secrets as the keyring holds them.
func (f *fixture) secrets() (cur, next string) {
	items := f.kr.Items()
	return items[vault.SecretKey(name)], items[name+"/next-secret"]
}

func (f *fixture) status() rotation.Status {
	f.t.Helper()
	s, err := f.rot.Status(name)
	if err != nil {
		f.t.Fatalf("Status: %v", err)
	}
	return s
}

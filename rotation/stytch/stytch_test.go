package stytch_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/rotation/stytch"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

var _ rotation.Provider = (*stytch.Client)(nil)

const (
	projectID     = "project-test-6c20cd16-73d5-44f7-852c-9a7e7b2ccf62"
	projectSecret = "secret-test-project-0123456789"
	clientID      = "m2m-client-test-d731954d-dab3-4a2b-bdee-07f3ad545cf4"
	firstSecret   = "first-client-secret-abcdef"
)

// fakeStytch follows the documented shapes of Stytch's M2M rotation API and
// serves an M2M token endpoint that accepts the client's secret and, during
// a rotation, its next secret.
type fakeStytch struct {
	*httptest.Server
	mu     sync.Mutex // guards the fields below
	secret string     // the client's current secret
	next   string     // the next secret while a rotation is pending
	n      int        // secrets generated
	calls  []string   // rotation endpoints called
}

func newFakeStytch(t *testing.T) *fakeStytch {
	f := &fakeStytch{secret: firstSecret}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/m2m/clients/{id}/secrets/rotate/start", f.rotation("start"))
	mux.HandleFunc("POST /v1/m2m/clients/{id}/secrets/rotate", f.rotation("rotate"))
	mux.HandleFunc("POST /v1/m2m/clients/{id}/secrets/rotate/cancel", f.rotation("cancel"))
	mux.HandleFunc("GET /v1/m2m/clients/{id}", f.rotation("get"))
	mux.HandleFunc("POST /v1/public/{project}/oauth2/token", f.token)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func last4(s string) string {
	if len(s) < 4 {
		return s
	}
	return s[len(s)-4:]
}

func (f *fakeStytch) fail(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{
		"status_code": status, "request_id": "request-id-test-1", "error_type": typ,
		"error_message": msg, "error_url": "https://stytch.com/docs/api/errors/" + fmt.Sprint(status),
	})
}

func (f *fakeStytch) rotation(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, s, ok := r.BasicAuth(); !ok || p != projectID || s != projectSecret {
			f.fail(w, http.StatusUnauthorized, "unauthorized_credentials", "Unauthorized credentials.")
			return
		}
		if r.PathValue("id") != clientID {
			f.fail(w, http.StatusNotFound, "m2m_client_not_found", "M2M client not found.")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if op != "get" {
			f.calls = append(f.calls, op)
		}
		m := map[string]any{"client_id": clientID, "client_name": "billing", "status": "active",
			"scopes": []string{"models:read"}, "trusted_metadata": map[string]any{}}
		switch op {
		case "start":
			f.n++
			f.next = fmt.Sprintf("next-client-secret-%d-xyz", f.n)
			m["next_client_secret"] = f.next
		case "rotate", "cancel":
			if f.next == "" {
				f.fail(w, http.StatusBadRequest, "m2m_client_secret_rotation_not_started", "No secret rotation is in progress.")
				return
			}
			if op == "rotate" {
				f.secret = f.next
			}
			f.next = ""
		}
		m["client_secret_last_four"] = last4(f.secret)
		m["next_client_secret_last_four"] = last4(f.next)
		writeJSON(w, http.StatusOK, map[string]any{"request_id": "request-id-test-2", "status_code": 200, "m2m_client": m})
	}
}

func (f *fakeStytch) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	f.mu.Lock()
	valid := id == clientID && (secret == f.secret || f.next != "" && secret == f.next)
	f.mu.Unlock()
	if !valid {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	claims, _ := json.Marshal(map[string]any{"sub": id, "scope": "models:read", "exp": 4102444800, "sec": last4(secret)})
	tok := enc(`{"alg":"RS256"}`) + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + enc("s")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 3600, "scope": "models:read"})
}

func (f *fakeStytch) state() (secret, next string, calls []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secret, f.next, append([]string(nil), f.calls...)
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newClient(t *testing.T, f *fakeStytch, kr vault.Keyring) *stytch.Client {
	t.Helper()
	if err := stytch.SaveProjectSecret(kr, projectID, projectSecret); err != nil {
		t.Fatalf("SaveProjectSecret: %v", err)
	}
	c, err := stytch.FromKeyring(kr, projectID)
	if err != nil {
		t.Fatalf("FromKeyring: %v", err)
	}
	if c.BaseURL != stytch.TestBaseURL {
		t.Errorf("BaseURL %q; want %q for a test project", c.BaseURL, stytch.TestBaseURL)
	}
	c.BaseURL, c.HTTPClient = f.URL, f.Client()
	return c
}

func TestClientRotation(t *testing.T) {
	f := newFakeStytch(t)
	c := newClient(t, f, vaulttest.New())
	ctx := context.Background()

	m, err := c.RotateStart(ctx, clientID)
	if err != nil {
		t.Fatalf("RotateStart: %v", err)
	}
	_, next, _ := f.state()
	if m.NextClientSecret != next || !m.Rotating() || m.NextClientSecretLastFour != last4(next) || m.ClientSecretLastFour != last4(firstSecret) {
		t.Errorf("RotateStart = %v (next %q); want next %q, last fours %q/%q", m, m.NextClientSecret, next, last4(firstSecret), last4(next))
	}
	if s := fmt.Sprintf("%v %+v %#v", m, m, m); strings.Contains(s, next) {
		t.Errorf("formatting the client shows the next secret: %s", s)
	}
	m, err = c.Rotate(ctx, clientID)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if m.Rotating() || m.ClientSecretLastFour != last4(next) || m.NextClientSecret != "" {
		t.Errorf("Rotate = %v; want the next secret current and none pending", m)
	}
	_, err = c.RotateCancel(ctx, clientID)
	var ae *stytch.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Type != "m2m_client_secret_rotation_not_started" {
		t.Errorf("RotateCancel with nothing pending: %v; want a 400 APIError", err)
	}
	if _, err := c.Rotate(ctx, "m2m-client-test-other"); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("Rotate(unknown client): %v; want a 404 APIError", err)
	}
	bad, _ := stytch.New(projectID, "wrong-project-secret")
	bad.BaseURL, bad.HTTPClient = f.URL, f.Client()
	_, err = bad.RotateStart(ctx, clientID)
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("RotateStart with a wrong project secret: %v; want a 401 APIError", err)
	}
	if strings.Contains(err.Error(), "wrong-project-secret") {
		t.Errorf("error shows the project secret: %v", err)
	}
}

// rotationFixture is a store with one client on the fake Stytch.
func rotationFixture(t *testing.T) (*fakeStytch, *stytch.Client, *vault.Store, *rotation.Rotator) {
	t.Helper()
	f := newFakeStytch(t)
	kr := vaulttest.New()
	sc := newClient(t, f, kr)
	st, err := vault.Open(t.TempDir(), kr)
	if err != nil {
		t.Fatal(err)
	}
	c := vault.Client{Name: "billing", ClientID: clientID, TokenURL: f.URL + "/v1/public/" + projectID + "/oauth2/token",
		Scopes: []string{"models:read"}, AuthStyle: vault.AuthHeader}
	if err := st.Add(c, firstSecret); err != nil {
		t.Fatal(err)
	}
	return f, sc, st, &rotation.Rotator{Store: st, HTTPClient: f.Client()}
}

// works does a real exchange with the client's current secret.
func works(t *testing.T, st *vault.Store, hc *http.Client) {
	t.Helper()
	c, _ := st.Get("billing")
	secret, err := st.Secret("billing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresher.Exchange(context.Background(), hc, c, secret, nil); err != nil {
		t.Fatalf("exchange with the current secret: %v; want a token", err)
	}
}

func TestRotatorWithStytch(t *testing.T) {
	f, sc, st, rot := rotationFixture(t)
	ctx := context.Background()
	if err := rot.StageFromProvider(ctx, "billing", sc); err != nil {
		t.Fatalf("StageFromProvider: %v", err)
	}
	_, next, _ := f.state()
	if got, _ := st.NextSecret("billing"); got != next {
		t.Errorf("staged secret ...%s; want Stytch's next secret ...%s", last4(got), last4(next))
	}
	works(t, st, f.Client())
	res, err := rot.Finish(ctx, "billing", rotation.SwitchOptions{Provider: sc})
	if err != nil || len(res.Warnings) != 0 {
		t.Fatalf("Finish: %v, warnings %v", err, res.Warnings)
	}
	secret, pending, calls := f.state()
	if got, _ := st.Secret("billing"); got != next || secret != next || pending != "" {
		t.Errorf("after finish: local ...%s, Stytch ...%s, pending %q; want ...%s everywhere, none pending", last4(got), last4(secret), pending, last4(next))
	}
	if want := "start rotate"; strings.Join(calls, " ") != want {
		t.Errorf("Stytch calls %v; want %s", calls, want)
	}
	works(t, st, f.Client()) // the old secret is revoked at Stytch now
}

func TestRotatorWithStytchCancel(t *testing.T) {
	f, sc, st, rot := rotationFixture(t)
	ctx := context.Background()
	if err := rot.StageFromProvider(ctx, "billing", sc); err != nil {
		t.Fatalf("StageFromProvider: %v", err)
	}
	if err := rot.Cancel(ctx, "billing", sc); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	secret, pending, calls := f.state()
	if secret != firstSecret || pending != "" || strings.Join(calls, " ") != "start cancel" {
		t.Errorf("Stytch: secret ...%s, pending %q, calls %v; want the first secret, none pending, start cancel", last4(secret), pending, calls)
	}
	if _, err := st.NextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("after cancel: staged secret %v; want none", err)
	}
	works(t, st, f.Client())
}

// An interrupted switch already uses the new secret: cancelling at Stytch
// would revoke it, so Cancel refuses and Finish completes.
func TestRotatorWithStytchInterruptedSwitch(t *testing.T) {
	f, sc, st, rot := rotationFixture(t)
	ctx := context.Background()
	if err := rot.StageFromProvider(ctx, "billing", sc); err != nil {
		t.Fatal(err)
	}
	next, _ := st.NextSecret("billing")
	if err := st.Keyring().Set(vault.SecretKey("billing"), next); err != nil {
		t.Fatal(err)
	}
	if err := rot.Cancel(ctx, "billing", sc); !errors.Is(err, rotation.ErrAlreadySwitched) {
		t.Fatalf("Cancel after an interrupted switch: %v; want ErrAlreadySwitched", err)
	}
	works(t, st, f.Client())
	if _, err := rot.Finish(ctx, "billing", rotation.SwitchOptions{Provider: sc}); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	works(t, st, f.Client())
}

// Staging fails after Stytch handed out a new secret: the rotation is
// cancelled at Stytch again, so no secret nobody holds stays valid.
func TestStageFromProviderKeyringFails(t *testing.T) {
	f := newFakeStytch(t)
	kr := vaulttest.New()
	sc := newClient(t, f, kr)
	st, _ := vault.Open(t.TempDir(), kr)
	c := vault.Client{Name: "billing", ClientID: clientID, TokenURL: f.URL + "/v1/public/p/oauth2/token", AuthStyle: vault.AuthHeader}
	if err := st.Add(c, firstSecret); err != nil {
		t.Fatal(err)
	}
	kr.FailWith(func(op, key string) error {
		if op == "set" && key == "billing/next-secret" {
			return vault.ErrKeyringLocked
		}
		return nil
	})
	rot := &rotation.Rotator{Store: st, HTTPClient: f.Client()}
	if err := rot.StageFromProvider(context.Background(), "billing", sc); !errors.Is(err, vault.ErrKeyringLocked) {
		t.Fatalf("StageFromProvider: %v; want ErrKeyringLocked", err)
	}
	kr.FailWith(nil)
	if _, pending, calls := f.state(); pending != "" || strings.Join(calls, " ") != "start cancel" {
		t.Errorf("Stytch pending %q, calls %v; want none pending after start cancel", pending, calls)
	}
	works(t, st, f.Client())
}

func TestProjectSecretKeyring(t *testing.T) {
	kr := vaulttest.New()
	if _, err := stytch.FromKeyring(kr, projectID); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("FromKeyring before saving: %v; want ErrNotFound", err)
	}
	if err := stytch.SaveProjectSecret(kr, projectID, projectSecret+"\n"); err != nil {
		t.Fatal(err)
	}
	if got := kr.Items()["stytch/"+projectID]; got != projectSecret {
		t.Errorf("keyring holds %q; want the trimmed project secret", got)
	}
	if err := stytch.DeleteProjectSecret(kr, projectID); err != nil {
		t.Fatal(err)
	}
	if err := stytch.DeleteProjectSecret(kr, projectID); err != nil {
		t.Errorf("deleting twice: %v; want nil", err)
	}
	for _, id := range []string{"", "secret", "project-x-1", "project-test-", "../project-test-1", "project-test-a/b"} {
		var ve *vault.ValidationError
		if err := stytch.SaveProjectSecret(kr, id, projectSecret); !errors.As(err, &ve) {
			t.Errorf("SaveProjectSecret(%q): %v; want a validation error", id, err)
		}
	}
	if got := stytch.BaseURL("project-live-1234"); got != stytch.LiveBaseURL {
		t.Errorf("BaseURL(live) = %q; want %q", got, stytch.LiveBaseURL)
	}
}

// A crash after the local switch and before Rotate leaves the rotation
// pending at Stytch; CompletePending finishes it only for the secret in use.
func TestCompletePending(t *testing.T) {
	f := newFakeStytch(t)
	c := newClient(t, f, vaulttest.New())
	ctx := context.Background()
	if done, err := c.CompletePending(ctx, clientID, firstSecret); done || err != nil {
		t.Errorf("nothing pending: CompletePending = %v, %v; want false, nil", done, err)
	}
	next, err := c.StartRotation(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := c.CompletePending(ctx, clientID, firstSecret); done || err != nil {
		t.Errorf("pending for another secret: CompletePending = %v, %v; want false, nil", done, err)
	}
	if done, err := c.CompletePending(ctx, clientID, next); !done || err != nil {
		t.Errorf("pending for the secret in use: CompletePending = %v, %v; want true, nil", done, err)
	}
	if secret, pending, _ := f.state(); secret != next || pending != "" {
		t.Errorf("Stytch: secret ...%s, pending %q; want ...%s, none", last4(secret), pending, last4(next))
	}
	m, err := c.Get(ctx, clientID)
	if err != nil || m.Rotating() || m.ClientSecretLastFour != last4(next) {
		t.Errorf("Get = %v, %v; want no rotation pending, secret ...%s", m, err, last4(next))
	}
}

package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// testKey is one RSA key shared by the tests' servers, so each starts fast.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// startServer returns a started demo server for opts (the default clients
// and a shared key unless set), closed when the test ends.
func startServer(t *testing.T, opts demoserver.Options) *demoserver.Server {
	t.Helper()
	if opts.Key == nil {
		k, err := testKey()
		if err != nil {
			t.Fatal(err)
		}
		opts.Key = k
	}
	s, err := demoserver.New(opts)
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

// demoStore returns a store in a temporary directory holding the server's
// clients, as `tokentray demo` fills its demo store.
func demoStore(t *testing.T, s *demoserver.Server) *vault.Store {
	t.Helper()
	st, err := vault.Open(t.TempDir(), vaulttest.New())
	if err != nil {
		t.Fatalf("vault.Open: %v", err)
	}
	if err := Seed(s, st); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return st
}

func newRefresher(t *testing.T, st *vault.Store) *refresher.Refresher {
	t.Helper()
	r := refresher.New(refresher.Options{Store: st, HTTPClient: refresher.NewHTTPClient(10 * time.Second)})
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestRefresherAgainstDemoServer(t *testing.T) {
	clients := demoserver.DefaultClients()
	clients[len(clients)-1].Secret = "org/secret+&=" // escaped differently in a Basic header and a form body
	s := startServer(t, demoserver.Options{TokenTTL: 30 * time.Minute, Clients: clients})
	st := demoStore(t, s)
	r := newRefresher(t, st)
	for _, c := range s.Clients() {
		t.Run(c.Name, func(t *testing.T) {
			vc := StoreClient(c, s.TokenURL())
			res, err := refresher.Exchange(t.Context(), nil, vc, c.Secret, nil)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if !slices.Equal(res.Token.Scopes, c.Scopes) || len(res.Missing) != 0 {
				t.Errorf("Exchange granted %q, missing %q; want %q, none", res.Token.Scopes, res.Missing, c.Scopes)
			}
			if left := time.Until(res.Token.Expiry); left < 29*time.Minute || left > 30*time.Minute {
				t.Errorf("Exchange token expires in %v; want about 30m", left)
			}

			before := s.Stats(c.ID).Requests
			got, err := r.Token(t.Context(), c.Name, refresher.TokenOptions{})
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if got.Source != refresher.FromFetch || !slices.Equal(got.Token.Scopes, c.Scopes) {
				t.Errorf("Token: source %s, scopes %q; want fetched, %q", got.Source, got.Token.Scopes, c.Scopes)
			}
			again, err := r.Token(t.Context(), c.Name, refresher.TokenOptions{})
			if err != nil {
				t.Fatalf("second Token: %v", err)
			}
			if again.Source != refresher.FromMemory || again.Token.AccessToken != got.Token.AccessToken {
				t.Errorf("second Token: source %s, same token %v; want memory, same", again.Source, again.Token.AccessToken == got.Token.AccessToken)
			}
			if n := s.Stats(c.ID).Requests - before; n != 1 {
				t.Errorf("server saw %d requests for two Token calls; want 1", n)
			}
		})
	}

	sub, err := r.Token(t.Context(), "chat-bot", refresher.TokenOptions{Scopes: []string{"models:read"}})
	if err != nil {
		t.Fatalf("Token with a scope subset: %v", err)
	}
	if !slices.Equal(sub.Token.Scopes, []string{"models:read"}) {
		t.Errorf("subset granted %q; want [models:read]", sub.Token.Scopes)
	}
}

func TestRefresherClassifiesTrouble(t *testing.T) {
	tests := []struct {
		name       string
		set        func(*demoserver.Server) error
		wantClass  refresher.Class
		wantStatus int
		wantCode   string
		wantRetry  time.Duration // RetryAt - now, within a few seconds
	}{
		{name: "rejected secret", set: func(s *demoserver.Server) error { s.RejectSecret(s.Clients()[0].ID); return nil }, wantClass: refresher.ClassRejected, wantStatus: 401, wantCode: "invalid_client"},
		{name: "dropped scope", set: func(s *demoserver.Server) error { s.DropScope(s.Clients()[0].ID, "models:read"); return nil }, wantClass: refresher.ClassScope, wantStatus: 400, wantCode: "invalid_scope"},
		{name: "rate limited", set: func(s *demoserver.Server) error { s.RateLimit(45 * time.Second); return nil }, wantClass: refresher.ClassRateLimited, wantStatus: 429, wantRetry: 45 * time.Second},
		{name: "down", set: func(s *demoserver.Server) error { return s.Down() }, wantClass: refresher.ClassTransient},
	}
	check := func(t *testing.T, what string, err error, want refresher.Class, status int, code string, retry time.Duration) {
		t.Helper()
		var e *refresher.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v (%T); want *refresher.Error", what, err, err)
		}
		if e.Class != want || e.Status != status || (code != "" && e.Code != code) {
			t.Errorf("%s: class %s, status %d, code %q; want %s, %d, %q", what, e.Class, e.Status, e.Code, want, status, code)
		}
		if retry > 0 {
			if d := time.Until(e.RetryAt); d < retry-5*time.Second || d > retry {
				t.Errorf("%s: retry in %v; want about %v", what, d, retry)
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, demoserver.Options{})
			st := demoStore(t, s)
			if err := tt.set(s); err != nil {
				t.Fatal(err)
			}
			c := s.Clients()[0]
			_, err := refresher.Exchange(t.Context(), nil, StoreClient(c, s.TokenURL()), c.Secret, nil)
			check(t, "Exchange", err, tt.wantClass, tt.wantStatus, tt.wantCode, tt.wantRetry)

			r := newRefresher(t, st)
			_, err = r.Token(t.Context(), c.Name, refresher.TokenOptions{})
			check(t, "Token", err, tt.wantClass, tt.wantStatus, tt.wantCode, tt.wantRetry)

			// Trouble over: an explicit refresh recovers.
			if err := s.Reset(); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Token(t.Context(), c.Name, refresher.TokenOptions{Force: true}); err != nil {
				t.Errorf("Token after Reset: %v", err)
			}
		})
	}
}

// TestRefresherAfterUp checks that a refresher whose kept-alive connection
// was cut by Down recovers once the server is up again.
func TestRefresherAfterUp(t *testing.T) {
	s := startServer(t, demoserver.Options{})
	r := newRefresher(t, demoStore(t, s))
	ctx := context.Background()
	first, err := r.Token(ctx, "chat-bot", refresher.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	// An explicit refresh fails with a transient error (refresher.Refresh
	// reports a failure even while the last good token is valid); a plain
	// Token call still serves the last good token.
	_, err = r.Token(ctx, "chat-bot", refresher.TokenOptions{Force: true})
	var rerr *refresher.Error
	if !errors.As(err, &rerr) || rerr.Class != refresher.ClassTransient {
		t.Fatalf("forced Token while down: %v; want a transient *refresher.Error", err)
	}
	stale, err := r.Token(ctx, "chat-bot", refresher.TokenOptions{})
	if err != nil || stale.Token.AccessToken != first.Token.AccessToken {
		t.Fatalf("Token while down: %v, same token %v; want the last good token", err, stale.Token.AccessToken == first.Token.AccessToken)
	}
	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	fresh, err := r.Token(ctx, "chat-bot", refresher.TokenOptions{Force: true})
	if err != nil || fresh.RefreshErr != nil || fresh.Source != refresher.FromFetch {
		t.Errorf("Token after Up: source %s, RefreshErr %v, err %v; want a fetched token", fresh.Source, fresh.RefreshErr, err)
	}
}

// TestSeedAgain is a second `tokentray demo` run: a new server (new port,
// secrets and key) re-seeds the same store, and the clients work at once.
func TestSeedAgain(t *testing.T) {
	first := startServer(t, demoserver.Options{Clients: demoserver.DefaultClients()})
	st := demoStore(t, first)
	if err := st.Add(vault.Client{Name: "mine", ClientID: "m2m-client-live-x", TokenURL: "https://auth.example.com/token"}, "s"); err != nil {
		t.Fatal(err)
	}
	r1 := newRefresher(t, st)
	if _, err := r1.Token(t.Context(), "chat-bot", refresher.TokenOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Token("chat-bot", nil); err != nil {
		t.Fatalf("no cached token after the first run: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := startServer(t, demoserver.Options{Clients: demoserver.DefaultClients()})
	if err := Seed(second, st); err != nil {
		t.Fatalf("second Seed: %v", err)
	}
	if _, err := st.Token("chat-bot", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("cached token of the first run: %v; want ErrNotFound", err)
	}
	if _, err := st.Get("mine"); err != nil {
		t.Errorf("a client of the user's was touched: %v", err)
	}
	for _, c := range second.Clients() {
		got, err := st.Get(c.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got.TokenURL != second.TokenURL() || !got.SecretSetAt.Equal(c.SecretSetAt) {
			t.Errorf("%s: token URL %s, secret set %v; want %s, %v", c.Name, got.TokenURL, got.SecretSetAt, second.TokenURL(), c.SecretSetAt)
		}
		if secret, err := st.Secret(c.Name); err != nil || secret != c.Secret {
			t.Errorf("%s: stored secret is not the new server's (err %v)", c.Name, err)
		}
	}
	r2 := newRefresher(t, st)
	for _, c := range second.Clients() {
		if res, err := r2.Token(t.Context(), c.Name, refresher.TokenOptions{}); err != nil || res.Source != refresher.FromFetch {
			t.Errorf("%s after re-seeding: source %s, err %v; want a fetched token", c.Name, res.Source, err)
		}
	}

	idle, err := demoserver.New(demoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Seed(idle, st); err == nil {
		t.Error("Seed before Start: no error")
	}
}

// TestStoreClient checks the default clients as the demo store keeps them:
// valid, in the test environment, the auth style their method allows, and
// secrets dated so that one is due soon, one overdue and one fresh.
func TestStoreClient(t *testing.T) {
	now := time.Now()
	want := map[string]struct {
		style    vault.AuthStyle
		rotation vault.RotationState
	}{
		"chat-bot":  {vault.AuthAuto, vault.RotationDueSoon},
		"data-sync": {vault.AuthBody, vault.RotationOverdue},
		"org-admin": {vault.AuthHeader, vault.RotationOK},
	}
	clients := demoserver.DefaultClients()
	if len(clients) != len(want) {
		t.Fatalf("%d default clients; want %d", len(clients), len(want))
	}
	for _, c := range clients {
		w, ok := want[c.Name]
		if !ok {
			t.Fatalf("unexpected default client %s", c.Name)
		}
		vc := StoreClient(c, "http://127.0.0.1:1234/oauth2/token")
		if _, err := vc.Normalize(); err != nil {
			t.Errorf("%s: StoreClient does not validate: %v", c.Name, err)
		}
		if vc.AuthStyle != w.style || vc.Environment() != vault.EnvTest || !vc.SecretSetAt.Equal(c.SecretSetAt) || vc.ClientID != c.ID || !slices.Equal(vc.Scopes, c.Scopes) {
			t.Errorf("%s: StoreClient = %+v; want style %s, test environment, SecretSetAt %v", c.Name, vc, w.style, c.SecretSetAt)
		}
		if got := vault.Rotation(vc.SecretSetAt, now, vault.DefaultRotationPolicy).State; got != w.rotation {
			t.Errorf("%s: rotation state %s; want %s", c.Name, got, w.rotation)
		}
	}
}

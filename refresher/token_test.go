package refresher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// fakeClock is a settable wall clock for tests outside synctest bubbles.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now().Round(0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tokenServer is a token endpoint that counts requests and issues
// numbered tokens; respond, when set, answers instead.
//
// Not demoserver: these tests shape exact responses (numbered tokens, an
// error description that quotes the secret, an answer per request number)
// and the scheduler tests serve it in memory inside a synctest bubble,
// recording when each request arrived on the bubble's clock; demoserver
// listens on a real socket, which synctest's fake clock does not go with.
type tokenServer struct {
	mu      sync.Mutex // guards the fields below
	n       int
	times   []time.Time // when each request arrived (the fake clock in bubbles)
	scopes  []string    // the scope parameter of each request
	respond func(w http.ResponseWriter, r *http.Request, n int)
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.n++
	n := s.n
	s.times = append(s.times, time.Now())
	s.scopes = append(s.scopes, r.PostForm.Get("scope"))
	respond := s.respond
	s.mu.Unlock()
	if respond != nil {
		respond(w, r, n)
		return
	}
	tokenOK(w, map[string]any{"access_token": fmt.Sprintf("token-%d", n), "scope": r.PostForm.Get("scope")})
}

func (s *tokenServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *tokenServer) setRespond(f func(w http.ResponseWriter, r *http.Request, n int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = f
}

type fixture struct {
	srv   *tokenServer
	url   string
	kr    *vaulttest.Keyring
	store *vault.Store
	clock *fakeClock
	r     *Refresher
}

// newFixture starts an httptest token endpoint and a store with one client
// "billing" (scopes models:read chat:invoke) whose secret is set.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{srv: &tokenServer{}, kr: vaulttest.New(), clock: newFakeClock()}
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	var err error
	f.store, err = vault.Open(t.TempDir(), f.kr, vault.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Add(testClient(ts.URL, vault.AuthHeader), testSecret); err != nil {
		t.Fatal(err)
	}
	f.r = f.newRefresher()
	return f
}

func (f *fixture) newRefresher() *Refresher {
	return New(Options{Store: f.store, Now: f.clock.Now, HTTPClient: NewHTTPClient(5 * time.Second), Jitter: -1})
}

func TestTokenMemoryKeyringFetch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	steps := []struct {
		name    string
		r       *Refresher
		advance time.Duration
		want    Origin
		wantN   int // requests so far
	}{
		{"first call fetches", f.r, 0, FromFetch, 1},
		{"second call from memory", f.r, 0, FromMemory, 1},
		{"new process reads the keyring", f.newRefresher(), 0, FromKeyring, 1},
		{"just before the margin: memory", f.r, 48*time.Minute - time.Second, FromMemory, 1},
		{"inside the margin: fetch", f.r, 2 * time.Second, FromFetch, 2},
	}
	for _, st := range steps {
		f.clock.Add(st.advance)
		res, err := st.r.Token(ctx, "billing", TokenOptions{})
		if err != nil {
			t.Fatalf("%s: Token: %v", st.name, err)
		}
		if res.Source != st.want {
			t.Errorf("%s: Source = %q; want %q", st.name, res.Source, st.want)
		}
		if got := f.srv.count(); got != st.wantN {
			t.Errorf("%s: requests = %d; want %d", st.name, got, st.wantN)
		}
		if !slices.Equal(res.Requested, []string{"models:read", "chat:invoke"}) {
			t.Errorf("%s: Requested = %v", st.name, res.Requested)
		}
	}
}

// The margin is max(5m, 20% of the lifetime) but at most half of it: every
// token is reused for at least half of its life, whatever its lifetime, and
// many calls while it is fresh make one request.
func TestTokenMarginRule(t *testing.T) {
	tests := []struct {
		life, margin time.Duration
	}{
		{30 * time.Second, 15 * time.Second}, // half of the lifetime
		{5 * time.Minute, 150 * time.Second}, // half, not the 5-minute floor
		{10 * time.Minute, 5 * time.Minute},  // the 5-minute floor, exactly half
		{time.Hour, 12 * time.Minute},        // 20% of 1h
		{24 * time.Hour, 288 * time.Minute},  // 20% of 1 day
	}
	for _, tt := range tests {
		t.Run(tt.life.String(), func(t *testing.T) {
			if tt.margin > tt.life/2 {
				t.Fatalf("bad test: margin %v is more than half of %v", tt.margin, tt.life)
			}
			f := newFixture(t)
			f.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
				tokenOK(w, map[string]any{"access_token": fmt.Sprintf("t%d", n), "expires_in": int(tt.life.Seconds())})
			})
			ctx := context.Background()
			// N calls at once on an empty cache, then N more while it is fresh.
			const n = 20
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					if _, err := f.r.Token(ctx, "billing", TokenOptions{}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			for range n {
				if res, err := f.r.Token(ctx, "billing", TokenOptions{}); err != nil || res.Source == FromFetch {
					t.Fatalf("call on a fresh token: Source %q, err %v; want the cache", res.Source, err)
				}
			}
			if got := f.srv.count(); got != 1 {
				t.Fatalf("%d calls made %d token requests; want 1", 2*n, got)
			}
			if st, _ := f.r.State("billing"); st.Margin != tt.margin {
				t.Errorf("State.Margin = %v; want %v", st.Margin, tt.margin)
			}
			// A second process (another Refresher on the store) reuses it too.
			if res, err := f.newRefresher().Token(ctx, "billing", TokenOptions{}); err != nil || res.Source != FromKeyring {
				t.Errorf("another process: Source %q, err %v; want the keyring's token", res.Source, err)
			}
			f.clock.Add(tt.life - tt.margin - time.Second)
			if res, _ := f.r.Token(ctx, "billing", TokenOptions{}); res.Source != FromMemory {
				t.Errorf("1s before the margin: Source = %q; want memory", res.Source)
			}
			f.clock.Add(time.Second)
			if res, _ := f.r.Token(ctx, "billing", TokenOptions{}); res.Source != FromFetch {
				t.Errorf("at the margin: Source = %q; want fetched", res.Source)
			}
			if got := f.srv.count(); got != 2 {
				t.Errorf("token requests = %d; want 2", got)
			}
		})
	}
}

func TestMarginOf(t *testing.T) {
	tests := []struct {
		life, want time.Duration
	}{
		{0, 0},
		{-time.Minute, 0},
		{time.Second, 500 * time.Millisecond},
		{30 * time.Second, 15 * time.Second},
		{5 * time.Minute, 150 * time.Second},
		{10 * time.Minute, 5 * time.Minute},
		{20 * time.Minute, 5 * time.Minute},
		{time.Hour, 12 * time.Minute},
		{24 * time.Hour, 288 * time.Minute},
	}
	for _, tt := range tests {
		if got := marginOf(tt.life, 5*time.Minute, 0.2); got != tt.want {
			t.Errorf("marginOf(%v) = %v; want %v", tt.life, got, tt.want)
		}
	}
}

func TestTokenMinTTLAndForce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.r.Token(ctx, "billing", TokenOptions{}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(10 * time.Minute) // 50 minutes left
	tests := []struct {
		opts  TokenOptions
		want  Origin
		wantN int
	}{
		{TokenOptions{MinTTL: 45 * time.Minute}, FromMemory, 1},
		{TokenOptions{MinTTL: 55 * time.Minute}, FromFetch, 2},
		{TokenOptions{Force: true}, FromFetch, 3},
		{TokenOptions{}, FromMemory, 3},
	}
	for _, tt := range tests {
		res, err := f.r.Token(ctx, "billing", tt.opts)
		if err != nil {
			t.Fatalf("Token(%+v): %v", tt.opts, err)
		}
		if res.Source != tt.want || f.srv.count() != tt.wantN {
			t.Errorf("Token(%+v): Source = %q, requests = %d; want %q, %d", tt.opts, res.Source, f.srv.count(), tt.want, tt.wantN)
		}
	}
	_, err := f.r.Token(ctx, "billing", TokenOptions{MinTTL: 2 * time.Hour})
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassConfig || !strings.Contains(err.Error(), "less than the 2h0m0s asked for") {
		t.Errorf("MinTTL beyond the lifetime: err = %v; want a config error saying so", err)
	}
}

func TestTokenScopeSubsets(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		scopes    []string
		wantParam string // the scope parameter sent; "-" for no request
		wantKey   string
	}{
		{nil, "models:read chat:invoke", vault.TokenKey("billing", nil)},
		{[]string{"chat:invoke", "models:read"}, "-", vault.TokenKey("billing", nil)}, // same set, other order: default entry
		{[]string{"models:read"}, "models:read", vault.TokenKey("billing", []string{"models:read"})},
		{[]string{"models:read"}, "-", vault.TokenKey("billing", []string{"models:read"})},
	}
	for _, tt := range tests {
		before := f.srv.count()
		res, err := f.r.Token(ctx, "billing", TokenOptions{Scopes: tt.scopes})
		if err != nil {
			t.Fatalf("Token(%v): %v", tt.scopes, err)
		}
		if tt.wantParam == "-" {
			if f.srv.count() != before {
				t.Errorf("Token(%v): a request was made; want the cached token", tt.scopes)
			}
		} else {
			f.srv.mu.Lock()
			got := f.srv.scopes[len(f.srv.scopes)-1]
			f.srv.mu.Unlock()
			if got != tt.wantParam {
				t.Errorf("Token(%v): scope parameter = %q; want %q", tt.scopes, got, tt.wantParam)
			}
		}
		if _, ok := f.kr.Items()[tt.wantKey]; !ok {
			t.Errorf("Token(%v): keyring has no %s", tt.scopes, tt.wantKey)
		}
		if tt.scopes != nil && !vault.SameScopes(res.Token.Scopes, tt.scopes) {
			t.Errorf("Token(%v): granted %v", tt.scopes, res.Token.Scopes)
		}
	}
	_, err := f.r.Token(ctx, "billing", TokenOptions{Scopes: []string{"org:admin"}})
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassScope || !slices.Equal(e.Scopes, []string{"org:admin"}) ||
		!strings.Contains(err.Error(), "org:admin are not among its scopes; add them to the client first: tokentray edit billing --scope") {
		t.Errorf("scope outside the client's: err = %v; want a scope error naming org:admin", err)
	}
}

func TestTokenConcurrentCallsFetchOnce(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	f.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		<-release
		tokenOK(w, map[string]any{"access_token": fmt.Sprintf("t%d", n)})
	})
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := f.r.Token(context.Background(), "billing", TokenOptions{})
			errs <- err
		})
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Token: %v", err)
		}
	}
	if got := f.srv.count(); got != 1 {
		t.Errorf("requests = %d; want 1", got)
	}
}

func TestTokenKeyringRefusesToken(t *testing.T) {
	tests := []struct {
		name  string
		setup func(kr *vaulttest.Keyring)
		want  error
	}{
		{"too big", func(kr *vaulttest.Keyring) { kr.SetMaxSize(30) }, vault.ErrTooBig}, // the secret fits, the token JSON does not
		{"locked for writing", func(kr *vaulttest.Keyring) {
			kr.FailWith(func(op, key string) error {
				if op == "set" {
					return vault.ErrKeyringLocked
				}
				return nil
			})
		}, vault.ErrKeyringLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(f.kr)
			ctx := context.Background()
			res, err := f.r.Token(ctx, "billing", TokenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(res.NotCached, tt.want) {
				t.Errorf("NotCached = %v; want %v", res.NotCached, tt.want)
			}
			res, err = f.r.Token(ctx, "billing", TokenOptions{})
			if err != nil || res.Source != FromMemory {
				t.Errorf("second call: Source = %q, err = %v; want memory", res.Source, err)
			}
			if !errors.Is(res.NotCached, tt.want) {
				t.Errorf("second call: NotCached = %v; want %v still reported", res.NotCached, tt.want)
			}
			if got := f.srv.count(); got != 1 {
				t.Errorf("requests = %d; want 1", got)
			}
		})
	}
}

func TestTokenLocalFailures(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *fixture)
		client   string
		class    Class
		noClient bool
		contains string
	}{
		{name: "unknown client", client: "nope", noClient: true, contains: "tokentray list"},
		{name: "no secret", client: "billing", class: ClassConfig, contains: "tokentray set-secret billing",
			setup: func(f *fixture) { _ = f.kr.Delete(vault.SecretKey("billing")) }},
		{name: "keyring locked", client: "billing", class: ClassKeyring, contains: "tokentray doctor",
			setup: func(f *fixture) {
				f.kr.FailWith(func(op, key string) error { return vault.ErrKeyringLocked })
			}},
		// The per-client lock file cannot be created: a local problem, not
		// the network (exit 1, not 6).
		{name: "lock file impossible", client: "billing", class: ClassConfig, contains: "lock file",
			setup: func(f *fixture) {
				if err := os.WriteFile(filepath.Join(f.store.Dir(), "locks"), nil, 0o600); err != nil {
					panic(err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			_, err := f.r.Token(context.Background(), tt.client, TokenOptions{})
			if tt.noClient {
				if !errors.Is(err, vault.ErrNoClient) {
					t.Errorf("err = %v; want ErrNoClient", err)
				}
			} else {
				var e *Error
				if !errors.As(err, &e) || e.Class != tt.class {
					t.Fatalf("err = %v; want class %q", err, tt.class)
				}
			}
			if !strings.Contains(fmt.Sprint(err), tt.contains) {
				t.Errorf("err = %v; want it to contain %q", err, tt.contains)
			}
			if f.srv.count() != 0 {
				t.Errorf("requests = %d; want 0", f.srv.count())
			}
		})
	}
}

func TestTokenRejectedHoldsUntilForceOrNewSecret(t *testing.T) {
	f := newFixture(t)
	f.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
	})
	ctx := context.Background()
	for i := range 3 {
		_, err := f.r.Token(ctx, "billing", TokenOptions{})
		var e *Error
		if !errors.As(err, &e) || e.Class != ClassRejected {
			t.Fatalf("call %d: err = %v; want rejected", i, err)
		}
	}
	if got := f.srv.count(); got != 1 {
		t.Errorf("requests after 3 calls = %d; want 1 (no retry while rejected)", got)
	}
	if st, _ := f.r.State("billing"); st.Phase != PhaseRejected {
		t.Errorf("Phase = %q; want rejected", st.Phase)
	}
	if _, err := f.r.Refresh(ctx, "billing"); err == nil {
		t.Fatal("Refresh: nil error; want rejected")
	}
	if got := f.srv.count(); got != 2 {
		t.Errorf("requests after Refresh = %d; want 2", got)
	}
	// A new secret, then Reload: the next call tries again and succeeds.
	f.srv.setRespond(nil)
	f.clock.Add(time.Second)
	if err := f.store.SetSecret("billing", "new-secret"); err != nil { // by another process: no Reload here
		t.Fatal(err)
	}
	res, err := f.r.Token(ctx, "billing", TokenOptions{})
	if err != nil || res.Source != FromFetch {
		t.Fatalf("after a new secret: Source = %q, err = %v; want a fetch", res.Source, err)
	}
	if st, _ := f.r.State("billing"); st.Phase != PhaseFresh || st.Err != nil {
		t.Errorf("State = %q, Err %v; want fresh without error", st.Phase, st.Err)
	}
}

func TestTokenServesLastGoodTokenWhileFailing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, err := f.r.Token(ctx, "billing", TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	f.clock.Add(50 * time.Minute) // inside the margin, 10 minutes left
	res, err := f.r.Token(ctx, "billing", TokenOptions{})
	if err != nil {
		t.Fatalf("Token: %v; want the last good token", err)
	}
	if res.Token.AccessToken != first.Token.AccessToken || res.RefreshErr == nil || res.RefreshErr.Class != ClassTransient {
		t.Errorf("got %v, RefreshErr %v; want the first token with a transient RefreshErr", res.Token, res.RefreshErr)
	}
	if !strings.Contains(res.RefreshErr.Error(), "the last good token stays valid until") {
		t.Errorf("RefreshErr = %q; want it to say until when the last token is valid", res.RefreshErr)
	}
	st, _ := f.r.State("billing")
	if st.Phase != PhaseStale || !st.StaleSince.Equal(f.clock.Now()) || st.NextAttempt.IsZero() {
		t.Errorf("State: phase %q, stale since %v, next %v; want stale since now with a next attempt", st.Phase, st.StaleSince, st.NextAttempt)
	}
	// Needing more than is left: the error, not the token.
	if _, err := f.r.Token(ctx, "billing", TokenOptions{MinTTL: 20 * time.Minute}); err == nil {
		t.Errorf("MinTTL 20m with 10m left while failing: nil error")
	}
	f.clock.Add(11 * time.Minute) // expired
	f.clock.Add(backoffMax)       // past any backoff
	if _, err := f.r.Token(ctx, "billing", TokenOptions{}); err == nil {
		t.Errorf("after expiry while failing: nil error")
	}
	if st, _ := f.r.State("billing"); st.Phase != PhaseExpired || !st.Expiry.IsZero() {
		t.Errorf("after expiry: phase %q, expiry %v; want expired, zero", st.Phase, st.Expiry)
	}
}

func TestTokenRereadsKeyringAfterLock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := f.newRefresher() // another process on the same store
	if _, err := f.r.Token(ctx, "billing", TokenOptions{}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(50 * time.Minute)
	if _, err := other.Token(ctx, "billing", TokenOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.count(); got != 2 {
		t.Fatalf("requests = %d; want 2", got)
	}
	res, err := f.r.Token(ctx, "billing", TokenOptions{})
	if err != nil || res.Source != FromKeyring {
		t.Errorf("Source = %q, err %v; want the other process's token from the keyring", res.Source, err)
	}
	if got := f.srv.count(); got != 2 {
		t.Errorf("requests = %d; want still 2", got)
	}
}

func (s *tokenServer) requestTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.times)
}

// TestRefreshReportsFailureDespiteLastGoodToken: an explicit refresh (Force)
// that fails returns the error, not the last good token as if it were new:
// "Refresh now" in the window and `tokentray refresh` must not report
// success when the server is down.
func TestRefreshReportsFailureDespiteLastGoodToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.r.Token(ctx, "billing", TokenOptions{}); err != nil {
		t.Fatal(err)
	}
	f.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	res, err := f.r.Refresh(ctx, "billing")
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassTransient {
		t.Fatalf("Refresh while the server fails: token %v, err %v; want a transient *Error", res.Token, err)
	}
	if !strings.Contains(err.Error(), "the last good token stays valid until") {
		t.Errorf("err = %q; want it to say the last good token is still valid", err)
	}
	// A plain Token call still gets the last good token.
	res, err = f.r.Token(ctx, "billing", TokenOptions{})
	if err != nil || res.Token.AccessToken != "token-1" {
		t.Errorf("Token after the failed refresh: %v, %v; want token-1", res.Token, err)
	}
}

// TestTokenNewProcessServesCachedTokenWhileFailing: a refresher that has
// never fetched (a new `tokentray token` process) finds in the keyring a
// token inside the margin but still valid, and the endpoint fails. For a
// transient failure or a rate limit it returns that token with RefreshErr
// set, as a long-running process does from memory; a token not valid for
// MinTTL, or credentials rejected, give the error.
func TestTokenNewProcessServesCachedTokenWhileFailing(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		minTTL time.Duration
		class  Class
		serve  bool
	}{
		{name: "502", status: http.StatusBadGateway, class: ClassTransient, serve: true},
		{name: "429", status: http.StatusTooManyRequests, class: ClassRateLimited, serve: true},
		{name: "502 needing more than is left", status: http.StatusBadGateway, minTTL: 10 * time.Minute, class: ClassTransient},
		{name: "rejected", status: http.StatusUnauthorized, code: "invalid_client", class: ClassRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			now := f.clock.Now()
			old := vault.Token{AccessToken: "old-but-valid", TokenType: "Bearer", Expiry: now.Add(8 * time.Minute),
				FetchedAt: now.Add(-52 * time.Minute), Scopes: []string{"models:read", "chat:invoke"}}
			if err := f.store.SetToken("billing", nil, old); err != nil {
				t.Fatal(err)
			}
			f.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.code != "" {
					writeJSON(w, tt.status, map[string]string{"error": tt.code})
					return
				}
				w.WriteHeader(tt.status)
			})
			res, err := f.r.Token(context.Background(), "billing", TokenOptions{MinTTL: tt.minTTL})
			if f.srv.count() != 1 {
				t.Errorf("%d token requests; want 1", f.srv.count())
			}
			if !tt.serve {
				var e *Error
				if !errors.As(err, &e) || e.Class != tt.class || res.Token.AccessToken != "" {
					t.Errorf("Token = %v, %v; want no token and a %s error", res.Token, err, tt.class)
				}
				return
			}
			if err != nil {
				t.Fatalf("Token: %v; want the cached token", err)
			}
			if res.Token.AccessToken != old.AccessToken || res.Source != FromKeyring {
				t.Errorf("Token = %v from %s; want %v from the keyring", res.Token, res.Source, old)
			}
			if res.RefreshErr == nil || res.RefreshErr.Class != tt.class {
				t.Fatalf("RefreshErr = %v; want a %s error", res.RefreshErr, tt.class)
			}
			if !strings.Contains(res.RefreshErr.Error(), "the last good token stays valid until") {
				t.Errorf("RefreshErr = %q; want it to say until when the cached token is valid", res.RefreshErr)
			}
			if st, _ := f.r.State("billing"); st.Phase != PhaseStale || !st.Expiry.Equal(old.Expiry) {
				t.Errorf("State: phase %q, expiry %v; want stale, %v", st.Phase, st.Expiry, old.Expiry)
			}
			// Within the backoff the same token comes from memory, without a request.
			res, err = f.r.Token(context.Background(), "billing", TokenOptions{})
			if err != nil || res.Token.AccessToken != old.AccessToken || res.RefreshErr == nil || f.srv.count() != 1 {
				t.Errorf("second Token = %v, RefreshErr %v, err %v after %d requests; want the cached token again and 1 request",
					res.Token, res.RefreshErr, err, f.srv.count())
			}
		})
	}
}

// TestEditDuringFetchDropsTheOldToken: the client's scopes are narrowed
// (store update and Reload, as the window does) while a fetch for the old
// scopes is in flight. The token it brings back was issued for the old
// scopes: it must be neither kept in memory nor cached in the keyring, so
// the next call fetches one for the new scopes.
func TestEditDuringFetchDropsTheOldToken(t *testing.T) {
	f := newFixture(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	f.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			close(arrived)
			<-release
		}
		tokenOK(w, map[string]any{"access_token": fmt.Sprintf("token-%d", n), "scope": r.PostForm.Get("scope")})
	})
	done := make(chan error, 1)
	go func() {
		_, err := f.r.Token(context.Background(), "billing", TokenOptions{})
		done <- err
	}()
	<-arrived
	if err := f.store.Update("billing", func(c *vault.Client) error { c.Scopes = []string{"models:read"}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	if cached, err := f.store.Token("billing", nil); err == nil && cached.AccessToken == "token-1" {
		t.Errorf("keyring holds token-1, issued for the old scopes %v", cached.Scopes)
	}
	res, err := f.r.Token(context.Background(), "billing", TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Token.AccessToken != "token-2" || !slices.Equal(res.Token.Scopes, []string{"models:read"}) {
		t.Errorf("Token after the edit = %v with scopes %v; want token-2 for [models:read]", res.Token, res.Token.Scopes)
	}
}

// TestEditAfterFetchCachedDropsTheOldToken: the edit lands after the fetch
// re-read the client but before it returned (while it caches the token):
// the refresher notices on return and drops the token from memory and
// from the keyring before the caller gets it.
func TestEditAfterFetchCachedDropsTheOldToken(t *testing.T) {
	f := newFixture(t)
	caching, edited := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.kr.FailWith(func(op, key string) error {
		if op == "set" && key == vault.TokenKey("billing", nil) {
			once.Do(func() { close(caching); <-edited })
		}
		return nil
	})
	done := make(chan error, 1)
	go func() {
		_, err := f.r.Token(context.Background(), "billing", TokenOptions{})
		done <- err
	}()
	<-caching
	if err := f.store.Update("billing", func(c *vault.Client) error { c.Scopes = []string{"models:read"}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	close(edited)
	if err := <-done; err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	if cached, err := f.store.Token("billing", nil); err == nil && cached.AccessToken == "token-1" {
		t.Errorf("keyring holds token-1, issued for the old scopes %v", cached.Scopes)
	}
	res, err := f.r.Token(context.Background(), "billing", TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Token.AccessToken != "token-2" || !slices.Equal(res.Token.Scopes, []string{"models:read"}) {
		t.Errorf("Token after the edit = %v with scopes %v; want token-2 for [models:read]", res.Token, res.Token.Scopes)
	}
}

package refresher_test

// Integration tests against a real OAuth 2.0 server, Ory Hydra (package
// hydratest; build it with scripts/build-hydra.sh). Each test starts its own
// Hydra on loopback with in-memory storage; requests go through hydratest's
// counting proxy, so the tests can say how many token requests were made.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/hydratest"
	"github.com/tokentray/tokentray/jwtinfo"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// hydraSecret needs URL-encoding in a Basic header (RFC 6749 2.3.1) and in a
// form body: + / % = & and a space.
const hydraSecret = "s+e/c%r=e&t w1th-Sp3cials"

// hydraScopes are the scopes every test client is registered with.
var hydraScopes = []string{"models:read", "chat:invoke", "files:write"}

// hydraClock is a settable wall clock, safe for concurrent use.
type hydraClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *hydraClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *hydraClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hydraEnv is one Hydra, one store in t.TempDir() on a fake keyring, and a
// refresher on a settable clock with a margin suited to short-lived tokens.
type hydraEnv struct {
	h     *hydratest.Server
	kr    *vaulttest.Keyring
	store *vault.Store
	clock *hydraClock
	r     *refresher.Refresher
}

func newHydraEnv(t *testing.T, o hydratest.Options) *hydraEnv {
	t.Helper()
	e := &hydraEnv{h: hydratest.Start(t, o), kr: vaulttest.New(), clock: &hydraClock{t: time.Now().Round(0)}}
	var err error
	e.store, err = vault.Open(t.TempDir(), e.kr, vault.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.r = refresher.New(refresher.Options{
		Store:          e.store,
		HTTPClient:     refresher.NewHTTPClient(10 * time.Second),
		MarginMin:      time.Second,
		MarginFraction: 0.2,
		Now:            e.clock.Now,
		Jitter:         -1,
	})
	t.Cleanup(func() { _ = e.r.Close() })
	return e
}

// addClient registers id at Hydra with authMethod and all hydraScopes, and
// stores it locally as name with the given auth style, scopes and secret.
func (e *hydraEnv) addClient(t *testing.T, name, authMethod string, style vault.AuthStyle, scopes []string, secret string) vault.Client {
	t.Helper()
	id := "m2m-client-test-" + name
	e.h.CreateClient(t, id, hydraSecret, hydraScopes, authMethod)
	c := vault.Client{Name: name, ClientID: id, TokenURL: e.h.TokenURL(), Scopes: scopes, AuthStyle: style}
	if err := e.store.Add(c, secret); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// jwtScopes returns the scopes in a Hydra access token.
func jwtScopes(t *testing.T, token string) []string {
	t.Helper()
	info, err := jwtinfo.Parse(token)
	if err != nil {
		t.Fatalf("access token is not a JWT: %v", err)
	}
	s, ok := info.Scopes()
	if !ok {
		t.Fatalf("access token has no scope claim: %v", info.Claims)
	}
	return s
}

// wantHydraError checks that err is a *refresher.Error of class with the code,
// and that its message hides the secret.
func wantHydraError(t *testing.T, err error, class refresher.Class, code string, status int) *refresher.Error {
	t.Helper()
	var re *refresher.Error
	if !errors.As(err, &re) {
		t.Fatalf("got error %v (%T); want a *refresher.Error of class %s", err, err, class)
	}
	if re.Class != class || re.Code != code || re.Status != status {
		t.Errorf("got class %s code %q status %d; want %s %q %d (%v)", re.Class, re.Code, re.Status, class, code, status, err)
	}
	if strings.Contains(err.Error(), hydraSecret) {
		t.Errorf("error message reveals the secret: %v", err)
	}
	return re
}

// Both registered auth methods, each used both ways: the registered one
// (and auto-detect) gets a token, the other one invalid_client. The secret
// needs URL-encoding either way.
func TestHydraAuthMethods(t *testing.T) {
	e := newHydraEnv(t, hydratest.Options{})
	ctx := context.Background()
	tests := []struct {
		name       string
		registered string
		style      vault.AuthStyle
		wantOK     bool
		wantBasic  bool // the first request carried a Basic header
	}{
		{"basic-header", hydratest.AuthBasic, vault.AuthHeader, true, true},
		{"post-body", hydratest.AuthPost, vault.AuthBody, true, false},
		{"basic-body", hydratest.AuthBasic, vault.AuthBody, false, false},
		{"post-header", hydratest.AuthPost, vault.AuthHeader, false, true},
		{"basic-auto", hydratest.AuthBasic, vault.AuthAuto, true, true},
		{"post-auto", hydratest.AuthPost, vault.AuthAuto, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.addClient(t, tt.name, tt.registered, tt.style, hydraScopes, hydraSecret)
			for _, via := range []string{"Exchange", "Token"} {
				before := e.h.TokenRequests()
				var (
					res refresher.Result
					err error
				)
				if via == "Exchange" {
					res, err = refresher.Exchange(ctx, nil, c, hydraSecret, nil)
				} else {
					res, err = e.r.Token(ctx, tt.name, refresher.TokenOptions{})
				}
				reqs := e.h.Requests()[before:]
				if len(reqs) == 0 {
					t.Fatalf("%s: no token request reached Hydra (err %v)", via, err)
				}
				wantBasic := tt.wantBasic
				if tt.name == "post-auto" && via == "Token" {
					wantBasic = false // auto remembers that the body worked
				}
				if first := reqs[0]; first.Basic != wantBasic || first.BodySecret == wantBasic || first.GrantType != "client_credentials" {
					t.Errorf("%s: first request %+v; want basic=%v, secret in body=%v, grant client_credentials", via, first, wantBasic, !wantBasic)
				}
				if !tt.wantOK {
					wantHydraError(t, err, refresher.ClassRejected, "invalid_client", 401)
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", via, err)
				}
				if res.Source != refresher.FromFetch || !strings.EqualFold(res.Token.TokenType, "bearer") {
					t.Errorf("%s: source %q type %q; want fetched, bearer", via, res.Source, res.Token.TokenType)
				}
				if got := jwtScopes(t, res.Token.AccessToken); !vault.SameScopes(got, hydraScopes) {
					t.Errorf("%s: JWT scopes %q; want %q", via, got, hydraScopes)
				}
				// Hydra says expires_in 3599 for its default 1h.
				if life := res.Token.Expiry.Sub(res.Token.FetchedAt); life < 59*time.Minute || life > time.Hour {
					t.Errorf("%s: lifetime %v; want about 1h", via, life)
				}
			}
		})
	}
}

// The client's scopes and a subset are separate cache entries, each
// fetched once; a second refresher (another run) finds both in the keyring.
func TestHydraScopeSubsets(t *testing.T) {
	e := newHydraEnv(t, hydratest.Options{})
	ctx := context.Background()
	e.addClient(t, "sub", hydratest.AuthBasic, vault.AuthHeader, hydraScopes, hydraSecret)
	subset := []string{"models:read"}

	tests := []struct {
		name       string
		scopes     []string
		wantSource refresher.Origin
		wantReqs   int // token requests so far
	}{
		{"all fetched", nil, refresher.FromFetch, 1},
		{"subset fetched", subset, refresher.FromFetch, 2},
		{"all from memory", nil, refresher.FromMemory, 2},
		{"subset from memory", subset, refresher.FromMemory, 2},
	}
	tokens := map[string]string{}
	for _, tt := range tests {
		res, err := e.r.Token(ctx, "sub", refresher.TokenOptions{Scopes: tt.scopes})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want := tt.scopes
		if want == nil {
			want = hydraScopes
		}
		if res.Source != tt.wantSource || e.h.TokenRequests() != tt.wantReqs {
			t.Errorf("%s: source %q after %d requests; want %q after %d", tt.name, res.Source, e.h.TokenRequests(), tt.wantSource, tt.wantReqs)
		}
		if got := jwtScopes(t, res.Token.AccessToken); !vault.SameScopes(got, want) {
			t.Errorf("%s: JWT scopes %q; want %q", tt.name, got, want)
		}
		if !vault.SameScopes(res.Token.Scopes, want) || len(res.Missing) != 0 {
			t.Errorf("%s: granted %q missing %q; want %q, none", tt.name, res.Token.Scopes, res.Missing, want)
		}
		key := vault.TokenKey("sub", tt.scopes)
		if prev, ok := tokens[key]; ok && prev != res.Token.AccessToken {
			t.Errorf("%s: token %s; want the cached %s", tt.name, vault.Fingerprint(res.Token.AccessToken), vault.Fingerprint(prev))
		}
		tokens[key] = res.Token.AccessToken
	}
	if len(tokens) != 2 || tokens[vault.TokenKey("sub", nil)] == tokens[vault.TokenKey("sub", subset)] {
		t.Fatalf("want two distinct cache entries, got %d", len(tokens))
	}
	items := e.kr.Items()
	for key, tok := range tokens {
		if !strings.Contains(items[key], tok) {
			t.Errorf("keyring item %s does not hold the token %s", key, vault.Fingerprint(tok))
		}
	}

	r2 := refresher.New(refresher.Options{Store: e.store, MarginMin: time.Second, Now: e.clock.Now, Jitter: -1})
	t.Cleanup(func() { _ = r2.Close() })
	for _, scopes := range [][]string{nil, subset} {
		res, err := r2.Token(ctx, "sub", refresher.TokenOptions{Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		if res.Source != refresher.FromKeyring || res.Token.AccessToken != tokens[vault.TokenKey("sub", scopes)] {
			t.Errorf("second refresher, scopes %q: source %q token %s; want keyring %s", scopes, res.Source,
				vault.Fingerprint(res.Token.AccessToken), vault.Fingerprint(tokens[vault.TokenKey("sub", scopes)]))
		}
	}
	if got := e.h.TokenRequests(); got != 2 {
		t.Errorf("token requests: got %d; want 2", got)
	}
}

// A scope the client is not registered for gets invalid_scope from Hydra,
// classified as a scope problem that names the scope; nothing is cached.
func TestHydraUnregisteredScope(t *testing.T) {
	e := newHydraEnv(t, hydratest.Options{})
	ctx := context.Background()
	const extra = "billing:write"
	c := e.addClient(t, "scoped", hydratest.AuthBasic, vault.AuthHeader, append(slices.Clone(hydraScopes), extra), hydraSecret)

	_, err := refresher.Exchange(ctx, nil, c, hydraSecret, nil)
	re := wantHydraError(t, err, refresher.ClassScope, "invalid_scope", 400)
	if !slices.Contains(re.Scopes, extra) || !strings.Contains(err.Error(), extra) {
		t.Errorf("Exchange: scopes %q, message %q; want both to name %s", re.Scopes, err, extra)
	}

	_, err = e.r.Token(ctx, "scoped", refresher.TokenOptions{})
	re = wantHydraError(t, err, refresher.ClassScope, "invalid_scope", 400)
	if !slices.Contains(re.Scopes, extra) || !strings.Contains(err.Error(), extra) {
		t.Errorf("Token: scopes %q, message %q; want both to name %s", re.Scopes, err, extra)
	}
	if _, err := e.store.Token("scoped", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("after invalid_scope the keyring holds a token (err %v)", err)
	}

	// The registered scopes alone still work.
	res, err := e.r.Token(ctx, "scoped", refresher.TokenOptions{Scopes: hydraScopes})
	if err != nil {
		t.Fatalf("registered subset: %v", err)
	}
	if got := jwtScopes(t, res.Token.AccessToken); !vault.SameScopes(got, hydraScopes) {
		t.Errorf("JWT scopes %q; want %q", got, hydraScopes)
	}
}

// A wrong secret is rejected (invalid_client) once: no retry loop until the
// secret changes, after which a token comes.
func TestHydraWrongSecret(t *testing.T) {
	e := newHydraEnv(t, hydratest.Options{})
	ctx := context.Background()
	const wrong = "not+the/secret"
	c := e.addClient(t, "wrong", hydratest.AuthBasic, vault.AuthHeader, hydraScopes, wrong)

	_, err := refresher.Exchange(ctx, nil, c, wrong, nil)
	wantHydraError(t, err, refresher.ClassRejected, "invalid_client", 401)

	before := e.h.TokenRequests()
	for i := range 3 {
		_, err := e.r.Token(ctx, "wrong", refresher.TokenOptions{})
		wantHydraError(t, err, refresher.ClassRejected, "invalid_client", 401)
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("call %d: the message reveals the secret: %v", i, err)
		}
	}
	if got := e.h.TokenRequests() - before; got != 1 {
		t.Errorf("three Token calls with a rejected secret made %d token requests; want 1 (no retry loop)", got)
	}
	if st, ok := e.r.State("wrong"); !ok || st.Phase != refresher.PhaseRejected {
		t.Errorf("state %q (known %v); want %q", st.Phase, ok, refresher.PhaseRejected)
	}

	// The user pastes the right secret a moment later (Reload sees the
	// secret change through SecretSetAt, on the store's clock).
	e.clock.Add(time.Second)
	if err := e.store.SetSecret("wrong", hydraSecret); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Reload(); err != nil {
		t.Fatal(err)
	}
	res, err := e.r.Token(ctx, "wrong", refresher.TokenOptions{})
	if err != nil {
		t.Fatalf("after the secret was fixed: %v", err)
	}
	if res.Source != refresher.FromFetch || e.h.TokenRequests()-before != 2 {
		t.Errorf("source %q after %d token requests; want fetched after 2", res.Source, e.h.TokenRequests()-before)
	}
}

// Granted scopes come from the response's scope field when Hydra sends it,
// else from the JWT: its scope string or its scp list. The proxy drops one
// requested scope before Hydra sees the request, so the granted set differs
// from the requested one and only a reader of the real answer gets it right.
func TestHydraGrantedScopes(t *testing.T) {
	dropped := "files:write"
	granted := []string{"models:read", "chat:invoke"}
	tests := []struct {
		name      string
		opts      hydratest.Options
		wantClaim string // the JWT claim that holds the scopes
	}{
		{"response scope", hydratest.Options{ScopeClaim: hydratest.ScopeClaimBoth, DropScopes: []string{dropped}}, "scope"},
		{"jwt scope string", hydratest.Options{ScopeClaim: hydratest.ScopeClaimString, StripResponseScope: true, DropScopes: []string{dropped}}, "scope"},
		{"jwt scp list", hydratest.Options{ScopeClaim: hydratest.ScopeClaimList, StripResponseScope: true, DropScopes: []string{dropped}}, "scp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHydraEnv(t, tt.opts)
			ctx := context.Background()
			c := e.addClient(t, "granted", hydratest.AuthBasic, vault.AuthHeader, hydraScopes, hydraSecret)
			results := map[string]refresher.Result{}
			var err error
			if results["Exchange"], err = refresher.Exchange(ctx, nil, c, hydraSecret, nil); err != nil {
				t.Fatal(err)
			}
			if results["Token"], err = e.r.Token(ctx, "granted", refresher.TokenOptions{}); err != nil {
				t.Fatal(err)
			}
			for via, res := range results {
				info, err := jwtinfo.Parse(res.Token.AccessToken)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := info.Claims[tt.wantClaim]; !ok {
					t.Fatalf("%s: JWT has no %q claim: %v", via, tt.wantClaim, info.Claims)
				}
				if got := jwtScopes(t, res.Token.AccessToken); !vault.SameScopes(got, granted) {
					t.Fatalf("%s: Hydra granted %q; want %q (the proxy drops %s)", via, got, granted, dropped)
				}
				if !vault.SameScopes(res.Token.Scopes, granted) || !slices.Equal(res.Missing, []string{dropped}) {
					t.Errorf("%s: granted %q missing %q; want %q, [%s]", via, res.Token.Scopes, res.Missing, granted, dropped)
				}
			}
			if st, _ := e.r.State("granted"); !slices.Equal(st.Missing, []string{dropped}) {
				t.Errorf("state missing %q; want [%s]", st.Missing, dropped)
			}
		})
	}
}

// With a 10 s token and a 2 s margin (20%), a token is served from memory
// until less than the margin remains; then Token fetches a new one. The
// refresher's clock is moved instead of sleeping.
func TestHydraRefreshAfterMargin(t *testing.T) {
	e := newHydraEnv(t, hydratest.Options{AccessTokenTTL: 10 * time.Second})
	ctx := context.Background()
	e.addClient(t, "short", hydratest.AuthPost, vault.AuthBody, hydraScopes, hydraSecret)

	first, err := e.r.Token(ctx, "short", refresher.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := jwtinfo.Parse(first.Token.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	// Hydra counts from when it took the request and signs a moment later.
	if life := info.Time("exp").Sub(info.Time("iat")); life < 8*time.Second || life > 10*time.Second {
		t.Fatalf("Hydra issued a token for %v; want 10s", life)
	}
	if life := first.Token.Lifetime(); life < 8*time.Second || life > 10*time.Second {
		t.Fatalf("refresher computed a lifetime of %v; want about 10s", life)
	}

	steps := []struct {
		advance    time.Duration
		wantSource refresher.Origin
		wantReqs   int
	}{
		{0, refresher.FromMemory, 1},
		{5 * time.Second, refresher.FromMemory, 1},        // 4-5 s left > 2 s margin
		{3500 * time.Millisecond, refresher.FromFetch, 2}, // under 2 s left: due
		{0, refresher.FromMemory, 2},                      // the new token is fresh
		{8500 * time.Millisecond, refresher.FromFetch, 3}, // due again
	}
	prev := first.Token.AccessToken
	for i, st := range steps {
		e.clock.Add(st.advance)
		res, err := e.r.Token(ctx, "short", refresher.TokenOptions{})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if res.Source != st.wantSource || e.h.TokenRequests() != st.wantReqs {
			t.Errorf("step %d: source %q after %d requests; want %q after %d", i, res.Source, e.h.TokenRequests(), st.wantSource, st.wantReqs)
		}
		if changed := res.Token.AccessToken != prev; changed != (st.wantSource == refresher.FromFetch) {
			t.Errorf("step %d: token changed %v; want %v", i, changed, st.wantSource == refresher.FromFetch)
		}
		if left := res.Token.Expiry.Sub(e.clock.Now()); left <= 2*time.Second {
			t.Errorf("step %d: Token returned a token with %v left, inside the 2s margin", i, left)
		}
		prev = res.Token.AccessToken
		cached, err := e.store.Token("short", nil)
		if err != nil || cached.AccessToken != prev {
			t.Errorf("step %d: keyring holds %s (%v); want %s", i, vault.Fingerprint(cached.AccessToken), err, vault.Fingerprint(prev))
		}
	}

	// The scheduler's path: a sweep after the margin fetches on its own,
	// and Token then serves the new token from memory.
	e.clock.Add(8500 * time.Millisecond)
	if due := e.r.Sweep(ctx); due != 1 || e.h.TokenRequests() != 4 {
		t.Errorf("sweep after the margin: %d due, %d token requests; want 1, 4", due, e.h.TokenRequests())
	}
	res, err := e.r.Token(ctx, "short", refresher.TokenOptions{})
	if err != nil || res.Source != refresher.FromMemory || res.Token.AccessToken == prev {
		t.Errorf("after the sweep: source %q, same token %v (%v); want a new token from memory", res.Source, res.Token.AccessToken == prev, err)
	}
	if due := e.r.Sweep(ctx); due != 0 || e.h.TokenRequests() != 4 {
		t.Errorf("sweep with a fresh token: %d due, %d token requests; want 0, 4", due, e.h.TokenRequests())
	}

	// MinTTL beyond what Hydra issues: one attempt, then a config error.
	_, err = e.r.Token(ctx, "short", refresher.TokenOptions{MinTTL: 15 * time.Second})
	var re *refresher.Error
	if !errors.As(err, &re) || re.Class != refresher.ClassConfig {
		t.Errorf("MinTTL 15s with 10s tokens: err %v; want a config error (the server cannot give that)", err)
	}
	if got := e.h.TokenRequests(); got != 5 {
		t.Errorf("MinTTL beyond the lifetime: %d token requests; want 5 (one attempt)", got)
	}
}

// With auth=auto, a refused scope stays a refused scope (exit 5): the other
// auth style is tried only after Hydra rejects the client authentication,
// so a client registered for Basic is never answered invalid_client for
// the body attempt a blind probe would make; a client registered for the
// body gets its invalid_scope after the one probe.
func TestHydraAutoRefusedScopeStaysInvalidScope(t *testing.T) {
	e := newHydraEnv(t, hydratest.Options{})
	ctx := context.Background()
	const extra = "billing:write"
	for _, method := range []string{hydratest.AuthBasic, hydratest.AuthPost} {
		t.Run(method, func(t *testing.T) {
			name := "auto-" + strings.ReplaceAll(method, "_", "-")
			c := e.addClient(t, name, method, vault.AuthAuto, append(slices.Clone(hydraScopes), extra), hydraSecret)
			before := e.h.TokenRequests()
			_, err := refresher.Exchange(ctx, nil, c, hydraSecret, nil)
			re := wantHydraError(t, err, refresher.ClassScope, "invalid_scope", 400)
			if w := re.Words(); w.Action != refresher.ActionEditScopes || !strings.Contains(w.Detail, extra) || strings.Contains(re.Message(), "rotate") {
				t.Errorf("Words %+v; want the refused scope named and an edit-scopes fix", w)
			}
			want := 1
			if method == hydratest.AuthPost {
				want = 2 // Basic refused with 401, then the body
			}
			if got := e.h.TokenRequests() - before; got != want {
				t.Errorf("%d token requests; want %d", got, want)
			}
			_, err = e.r.Token(ctx, name, refresher.TokenOptions{})
			wantHydraError(t, err, refresher.ClassScope, "invalid_scope", 400)
		})
	}
}

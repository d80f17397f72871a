package ui

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// fakeClock is a Clock moved by hand; Advance fires due timers in order.
type fakeClock struct {
	mu     sync.Mutex // guards now and timers
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock by d, calling the functions of the timers that
// come due (synchronously, like fyne.Do in the test driver).
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			due = append(due, t)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// fakeSource serves fixed states and tokens.
type fakeSource struct {
	mu        sync.Mutex
	states    []refresher.State
	tokens    map[string]refresher.Result
	errs      map[string]error
	calls     []string // names Token was called for
	opts      []refresher.TokenOptions
	reloads   int
	store     *vault.Store    // Reload reads it when set
	fromStore map[string]bool // clients Reload took from the store
}

func (s *fakeSource) States() []refresher.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.states)
}
func (s *fakeSource) Subscribe() *refresher.Subscription { return nil }
func (s *fakeSource) Token(_ context.Context, name string, opts refresher.TokenOptions) (refresher.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, name)
	s.opts = append(s.opts, opts)
	if err := s.errs[name]; err != nil {
		return refresher.Result{}, err
	}
	return s.tokens[name], nil
}
func (s *fakeSource) Refresh(ctx context.Context, name string) (refresher.Result, error) {
	return s.Token(ctx, name, refresher.TokenOptions{Force: true})
}

// Reload takes the clients of the store, like the refresher: new ones
// appear without a token, removed ones go.
func (s *fakeSource) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reloads++
	if s.store == nil {
		return nil
	}
	clients, err := s.store.List()
	if err != nil {
		return err
	}
	var out []refresher.State
	for _, c := range clients {
		st := refresher.State{Client: c, Phase: refresher.PhaseNone}
		if i := slices.IndexFunc(s.states, func(x refresher.State) bool { return x.Client.Name == c.Name }); i >= 0 {
			st = s.states[i]
			st.Client = c
		}
		out = append(out, st)
	}
	for _, st := range s.states {
		if _, err := s.store.Get(st.Client.Name); err != nil && !s.fromStore[st.Client.Name] {
			out = append(out, st) // a state the test made up, not a removed client
		}
	}
	for _, c := range clients {
		s.fromStore[c.Name] = true
	}
	s.states = out
	return nil
}

// rig is a UI on the Fyne test driver with a fake clock and an in-memory
// keyring; notifications are recorded, goroutine work runs inline and the
// tickers only tick when the test says so.
type rig struct {
	t     testing.TB
	app   fyne.App
	ui    *UI
	clock *fakeClock
	src   *fakeSource
	store *vault.Store
	kr    *vaulttest.Keyring
	sent  []*fyne.Notification
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newRig(t testing.TB, states ...refresher.State) *rig {
	t.Helper()
	a := test.NewTempApp(t)
	r := &rig{t: t, app: a, clock: &fakeClock{now: t0}, src: &fakeSource{states: states, tokens: map[string]refresher.Result{}, errs: map[string]error{}}, kr: vaulttest.New()}
	store, err := vault.Open(t.TempDir(), r.kr, vault.WithClock(r.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	r.store = store
	r.src.store, r.src.fromStore = store, map[string]bool{}
	r.ui = New(a, Options{Store: store, Source: r.src, Clock: r.clock, Title: "Tokentray test"})
	r.ui.async = func(f func()) { f() }
	r.ui.send = func(n *fyne.Notification) { r.sent = append(r.sent, n) }
	r.ui.every = func(context.Context, time.Duration, func()) {}
	r.ui.Start()
	t.Cleanup(r.ui.Stop)
	return r
}

// client returns a test client called name with a secret set at setAt.
func client(name string, setAt time.Time) vault.Client {
	return vault.Client{
		Name: name, ClientID: "m2m-client-test-" + name, TokenURL: "https://auth.example.com/oauth2/token",
		Scopes: []string{"models:read", "chat:invoke"}, AuthStyle: vault.AuthAuto, SecretSetAt: setAt,
	}
}

// state returns a state of a fresh client whose token expires after left.
func state(name string, phase refresher.Phase, left time.Duration) refresher.State {
	st := refresher.State{Client: client(name, t0.Add(-10*24*time.Hour)), Phase: phase, At: t0}
	if left != 0 {
		st.Expiry = t0.Add(left)
		st.FetchedAt = st.Expiry.Add(-time.Hour)
	}
	return st
}

// rowTexts returns, for each client row on screen, its countdown text.
func (r *rig) rowTexts() map[string]string {
	out := map[string]string{}
	for _, row := range r.ui.rows {
		if row.name != "" {
			out[row.name] = row.countdown.Text
		}
	}
	return out
}

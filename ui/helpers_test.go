package ui

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// fakeTime is a TimeSource moved by hand; Advance fires due timers in order.
type fakeTime struct {
	mu     sync.Mutex // guards now and timers
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeTime
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

func (c *fakeTime) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeTime) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the time by d, calling the functions of the timers that
// come due (synchronously, like fyne.Do in the test driver).
func (c *fakeTime) Advance(d time.Duration) {
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

// rig is a UI on the Fyne test driver with a fake time source and an in-memory
// keyring; notifications are recorded, goroutine work runs inline and the
// tickers only tick when the test says so.
type rig struct {
	t     testing.TB
	app   fyne.App
	ui    *UI
	time  *fakeTime
	src   *fakeSource
	store *vault.Store
	kr    *vaulttest.Keyring
	sent  []*fyne.Notification
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newRig(t testing.TB, states ...refresher.State) *rig {
	t.Helper()
	a := test.NewTempApp(t)
	r := &rig{t: t, app: a, time: &fakeTime{now: t0}, src: &fakeSource{states: states, tokens: map[string]refresher.Result{}, errs: map[string]error{}}, kr: vaulttest.New()}
	store, err := vault.Open(t.TempDir(), r.kr, vault.WithClock(r.time.Now))
	if err != nil {
		t.Fatal(err)
	}
	r.store = store
	r.src.store, r.src.fromStore = store, map[string]bool{}
	r.ui = New(a, Options{Store: store, Refresher: r.src, TimeSource: r.time, Title: "Tokentray test"})
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

// tokenServer is a client-credentials endpoint that grants the scopes in
// grant (of those asked) to id/secret and rejects anything else.
//
// Not demoserver: the form's "Granted / Not granted" lines need a server
// that grants part of the scopes asked and silently leaves out the rest,
// where demoserver, like fosite, refuses the whole request with
// invalid_scope.
func tokenServer(t *testing.T, id, secret string, grant []string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		gotID, gotSecret, ok := r.BasicAuth()
		if !ok {
			gotID, gotSecret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if gotID != id || gotSecret != secret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
			return
		}
		var granted []string
		for _, s := range strings.Fields(r.PostForm.Get("scope")) {
			if slices.Contains(grant, s) {
				granted = append(granted, s)
			}
		}
		claims, _ := json.Marshal(map[string]any{"iss": "test", "sub": id, "scope": strings.Join(granted, " "), "exp": time.Now().Add(time.Hour).Unix()})
		jwt := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": jwt, "token_type": "bearer", "expires_in": 3600, "scope": strings.Join(granted, " ")})
	}))
	t.Cleanup(ts.Close)
	return ts
}

// walk calls f for o and everything it is drawn with.
func walk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	if o == nil {
		return
	}
	f(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, f)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, f)
		}
	}
}

// allText is every text drawn in o, one per line.
func allText(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *canvas.Text:
			b.WriteString(x.Text + "\n")
		case *widget.RichText:
			for _, seg := range x.Segments {
				if ts, ok := seg.(*widget.TextSegment); ok {
					b.WriteString(ts.Text + "\n")
				}
			}
		}
	})
	return b.String()
}

// tapButton taps the first button called label in o (the test fails
// when there is none).
func tapButton(t *testing.T, o fyne.CanvasObject, label string) {
	t.Helper()
	b := findButton(o, label)
	if b == nil {
		t.Fatalf("no button %q in %s", label, allText(o))
	}
	test.Tap(b)
}

// findPasswordEntry is the first password entry in o.
func findPasswordEntry(t *testing.T, o fyne.CanvasObject) *widget.Entry {
	t.Helper()
	var found *widget.Entry
	walk(o, func(o fyne.CanvasObject) {
		if e, ok := o.(*escEntry); ok && e.Password && found == nil {
			found = &e.Entry
		}
		if e, ok := o.(*widget.Entry); ok && e.Password && found == nil {
			found = e
		}
	})
	if found == nil {
		t.Fatal("no password entry")
	}
	return found
}

// top is the overlay on top of the window (a dialog), or nil.
func (r *rig) top() fyne.CanvasObject { return r.ui.win.Canvas().Overlays().Top() }

// closeOverlays removes every overlay from the window.
func (r *rig) closeOverlays() {
	for r.top() != nil {
		r.ui.win.Canvas().Overlays().Remove(r.top())
	}
}

// findButton is the first button called label in o, or nil.
func findButton(o fyne.CanvasObject, label string) *widget.Button {
	var found *widget.Button
	walk(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == label && found == nil {
			found = b
		}
	})
	return found
}

// menuShortcut returns the shortcut of the main menu item called label.
func (r *rig) menuItem(label string) *fyne.MenuItem {
	for _, m := range r.ui.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.Label == label {
				return it
			}
		}
	}
	r.t.Fatalf("no menu item %q", label)
	return nil
}

func titles(ns []*fyne.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Title)
	}
	return out
}

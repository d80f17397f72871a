package ui

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

func TestRotationNotificationsOncePerStage(t *testing.T) {
	day := 24 * time.Hour
	n := newNotifier()
	p := notifyPrefs{rotation: true, failures: true, failAfter: 10 * time.Minute}
	st := state("alpha", refresher.PhaseFresh, time.Hour)
	st.Client.SecretSetAt = t0
	// Sweep every 30 minutes for 95 days, with a snapshot each time.
	got := map[int][]string{} // secret age in days -> notification titles
	for now := t0; now.Before(t0.Add(95 * day)); now = now.Add(30 * time.Minute) {
		for _, m := range n.check(st, now, p) {
			age := int(now.Sub(t0) / day)
			got[age] = append(got[age], m.Title)
		}
	}
	want := map[int][]string{
		76: {"Rotate alpha's secret soon"},             // entering due soon, 14 days left
		83: {"Rotate alpha's secret soon"},             // 7 days left
		89: {"Rotate alpha's secret soon"},             // 1 day left
		90: {"alpha's secret is overdue for rotation"}, // overdue, then once a day
		91: {"alpha's secret is overdue for rotation"},
		92: {"alpha's secret is overdue for rotation"},
		93: {"alpha's secret is overdue for rotation"},
		94: {"alpha's secret is overdue for rotation"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("notifications by secret age:\ngot  %v\nwant %v", got, want)
	}

	// After a rotation the cycle starts again.
	st.Client.SecretSetAt = t0.Add(95 * day)
	if ms := n.check(st, t0.Add(95*day), p); len(ms) != 0 {
		t.Errorf("right after rotating: got %v; want none", titles(ms))
	}
	if ms := n.check(st, t0.Add((95+76)*day), p); len(ms) != 1 {
		t.Errorf("76 days after rotating: got %v; want one due-soon notification", titles(ms))
	}
}

func TestRotationNotificationStartingLate(t *testing.T) {
	// A client already 5 days from its due date when the app starts gets
	// one notification, not three.
	n := newNotifier()
	st := state("alpha", refresher.PhaseFresh, time.Hour)
	st.Client.SecretSetAt = t0.Add(-85 * 24 * time.Hour)
	p := notifyPrefs{rotation: true, failures: true}
	var sent int
	for i := range 100 {
		sent += len(n.check(st, t0.Add(time.Duration(i)*time.Minute), p))
	}
	if sent != 1 {
		t.Errorf("notifications over 100 sweeps: got %d; want 1", sent)
	}
}

func TestFailureNotificationsDeduplicated(t *testing.T) {
	n := newNotifier()
	p := notifyPrefs{rotation: true, failures: true, failAfter: 10 * time.Minute}
	fresh := state("alpha", refresher.PhaseFresh, time.Hour)
	rejected := fresh
	rejected.Phase = refresher.PhaseRejected
	rejected.Err = &refresher.Error{Class: refresher.ClassRejected}
	stale := fresh
	stale.Phase = refresher.PhaseStale
	stale.StaleSince = t0
	expired := stale
	expired.Phase = refresher.PhaseExpired

	type step struct {
		st    refresher.State
		times int
		at    time.Duration // from t0, for each repetition +1 s
	}
	steps := []step{
		{fresh, 50, 0},
		{rejected, 200, time.Minute},     // rejected: once
		{fresh, 50, 2 * time.Minute},     // recovered: once
		{stale, 100, 3 * time.Minute},    // failing for less than 10 min: nothing
		{stale, 100, 11 * time.Minute},   // failing longer: once
		{expired, 100, 30 * time.Minute}, // same failure episode: nothing new
		{fresh, 100, 40 * time.Minute},   // recovered: once
		{fresh, 100, 50 * time.Minute},   // still fresh: nothing
	}
	var got []string
	for _, s := range steps {
		for i := range s.times {
			for _, m := range n.check(s.st, t0.Add(s.at+time.Duration(i)*time.Second), p) {
				got = append(got, m.Title)
			}
		}
	}
	want := []string{"alpha: credentials rejected", "alpha: recovered", "alpha: token refresh failing", "alpha: recovered"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("notifications over %d snapshots:\ngot  %q\nwant %q", 800, got, want)
	}
}

func TestNotificationsSwitchedOffAreNotReplayed(t *testing.T) {
	n := newNotifier()
	st := state("alpha", refresher.PhaseRejected, 0)
	if ms := n.check(st, t0, notifyPrefs{}); len(ms) != 0 {
		t.Errorf("with notifications off: got %v; want none", titles(ms))
	}
	if ms := n.check(st, t0.Add(time.Minute), notifyPrefs{rotation: true, failures: true}); len(ms) != 0 {
		t.Errorf("switched on later, same condition: got %v; want none", titles(ms))
	}
}

func TestUINotifiesOnceOverManySweeps(t *testing.T) {
	st := state("alpha", refresher.PhaseRejected, 0)
	st.Client.SecretSetAt = t0.Add(-95 * 24 * time.Hour)
	r := newRig(t, st)
	for range 500 {
		r.time.Advance(30 * time.Second)
		r.ui.sweep()
		r.ui.apply([]refresher.State{st})
	}
	// 250 minutes: one rejected, one overdue (same day).
	want := []string{"alpha's secret is overdue for rotation", "alpha: credentials rejected"}
	if got := titles(r.sent); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("notifications over 500 sweeps: got %q; want %q", got, want)
	}
}

// TestWithRealRefresher runs the window on a real refresher fetching from
// an httptest token server, with snapshots arriving over its subscription.
func TestWithRealRefresher(t *testing.T) {
	ts := tokenServer(t, "m2m-client-test-alpha", "secret-a", []string{"models:read"})
	r := newRig(t)
	r.ui.Stop()
	store, err := vault.Open(t.TempDir(), vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	c := client("alpha", time.Time{})
	c.TokenURL = ts.URL + "/token"
	c.Scopes = []string{"models:read", "chat:read"}
	if err := store.Add(c, "secret-a"); err != nil {
		t.Fatal(err)
	}
	bad := client("bravo", time.Time{})
	bad.TokenURL = ts.URL + "/token"
	if err := store.Add(bad, "wrong"); err != nil {
		t.Fatal(err)
	}
	ref := refresher.New(refresher.Options{Store: store, HTTPClient: http.DefaultClient})
	if err := ref.Reload(); err != nil {
		t.Fatal(err)
	}
	ui := New(r.app, Options{Store: store, Refresher: ref, TimeSource: realTime{}})
	ui.async = func(f func()) { f() }
	ui.send = func(n *fyne.Notification) { r.sent = append(r.sent, n) }
	ui.every = func(context.Context, time.Duration, func()) {}
	onUI := make(chan func(), 100)
	ui.do = func(f func()) { onUI <- f }
	ui.Start()
	defer ui.Stop()

	ctx := context.Background()
	if _, err := ref.Token(ctx, "alpha", refresher.TokenOptions{}); err != nil {
		t.Fatalf("alpha token: %v", err)
	}
	if _, err := ref.Token(ctx, "bravo", refresher.TokenOptions{}); err == nil {
		t.Fatalf("bravo token: got no error; want rejected")
	}
	// Run what the subscription reader hands to the UI thread until both
	// clients show their outcome.
	timeout := time.After(20 * time.Second)
	re := regexp.MustCompile(`^(59:[0-5]\d|1:00:00)$`)
	for {
		texts := map[string]string{}
		for _, row := range ui.rows {
			texts[row.name] = row.countdown.Text
		}
		if re.MatchString(texts["alpha"]) && texts["bravo"] == "rejected" {
			break
		}
		select {
		case f := <-onUI:
			f()
		case <-timeout:
			t.Fatalf("rows never showed a fresh and a rejected client: %v", texts)
		}
	}
	ui.selectClient("alpha")
	text := allText(ui.details.root)
	for _, w := range []string{"chat:read", "NOT GRANTED", "List and view models", ts.URL + "/token",
		"JWT claims (decoded, not verified)", "m2m-client-test-alpha", "Token expires in 59:"} {
		if !strings.Contains(text, w) {
			t.Errorf("details of alpha: want %q in\n%s", w, text)
		}
	}
	ui.copyToken("alpha", false)
	if got := r.app.Clipboard().Content(); strings.Count(got, ".") != 2 {
		t.Errorf("clipboard after copy: got %q; want alpha's JWT", got)
	}
	r.app.Clipboard().SetContent("")
	ui.copyToken("bravo", false)
	if got := r.app.Clipboard().Content(); got != "" {
		t.Errorf("clipboard after copying rejected bravo: got %q; want nothing", got)
	}
}

func BenchmarkApply1000Clients(b *testing.B) {
	var states []refresher.State
	for i := range 1000 {
		states = append(states, state(fmt.Sprintf("client-%04d", i), refresher.PhaseFresh, time.Duration(i)*time.Second+time.Minute))
	}
	r := newRig(b, states...)
	b.ResetTimer()
	for i := range b.N {
		st := states[i%1000]
		st.Expiry = st.Expiry.Add(time.Hour)
		r.ui.apply([]refresher.State{st})
	}
}

func BenchmarkTick1000Clients(b *testing.B) {
	var states []refresher.State
	for i := range 1000 {
		states = append(states, state(fmt.Sprintf("client-%04d", i), refresher.PhaseFresh, time.Hour))
	}
	r := newRig(b, states...)
	b.ResetTimer()
	for range b.N {
		r.time.Advance(time.Second)
		r.ui.tick()
	}
}

// A failure with no valid token left notifies at once (work stops now), not
// after the fixed delay; with a valid one, at the delay at the latest.
func TestFailureNotifiesWhenWorkStops(t *testing.T) {
	n := newNotifier()
	p := notifyPrefs{failures: true, failAfter: 10 * time.Minute}
	st := state("alpha", refresher.PhaseExpired, 0)
	st.StaleSince = t0
	st.Err = &refresher.Error{Class: refresher.ClassScope, Client: "alpha", Host: "api.example.com", Status: 403, Scopes: []string{"chat:invoke"}}
	if got := n.check(st, t0.Add(time.Second), p); len(got) != 1 {
		t.Errorf("failing with no valid token: %d notifications; want one at once", len(got))
	}
	valid := state("beta", refresher.PhaseStale, 2*time.Minute)
	valid.StaleSince = t0
	valid.Err = st.Err
	if got := n.check(valid, t0.Add(time.Minute), p); len(got) != 0 {
		t.Errorf("failing with a valid token: %d notifications; want none yet", len(got))
	}
	expired := valid
	expired.Phase, expired.Expiry = refresher.PhaseExpired, time.Time{}
	if got := n.check(expired, t0.Add(2*time.Minute), p); len(got) != 1 {
		t.Errorf("at the last good token's expiry: %d notifications; want one", len(got))
	}
}

// One outage of a server sends one notification, not one per client.
func TestOutageNotifiesOncePerHost(t *testing.T) {
	n := newNotifier()
	p := notifyPrefs{failures: true, failAfter: 10 * time.Minute}
	var got []string
	for _, name := range []string{"a", "b", "c"} {
		st := state(name, refresher.PhaseExpired, 0)
		st.StaleSince = t0
		st.Err = &refresher.Error{Class: refresher.ClassTransient, Client: name, Host: "127.0.0.1:40581"}
		for _, m := range n.check(st, t0.Add(time.Second), p) {
			got = append(got, m.Title)
		}
	}
	if len(got) != 1 || got[0] != "Can't reach 127.0.0.1:40581" {
		t.Errorf("notifications for three clients of one host: %q; want one about the host", got)
	}
}

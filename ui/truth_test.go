package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/vault"

	"github.com/tokentray/tokentray/refresher"
)

func TestExpiryLineTellsTheTruth(t *testing.T) {
	rejected := &refresher.Error{Class: refresher.ClassRejected, Host: "auth.example.com", Status: 401, Code: "invalid_client"}
	outage := &refresher.Error{Class: refresher.ClassTransient, Host: "127.0.0.1:40581"}
	exp := t0.Add(-time.Minute)
	loc := func(t time.Time, f string) string { return t.Local().Format(f) }
	tests := []struct {
		name string
		st   refresher.State
		last time.Time
		want string
	}{
		{"expired, rejected", refresher.State{Phase: refresher.PhaseRejected, Err: rejected}, exp,
			"Expired at " + loc(exp, "15:04:05") + " — refresh failing: credentials rejected"},
		{"expired, outage with a retry", refresher.State{Phase: refresher.PhaseExpired, Err: outage, NextAttempt: t0.Add(time.Minute)}, exp,
			"Expired at " + loc(exp, "15:04:05") + " — refresh failing: can't reach 127.0.0.1:40581, retries at " + loc(t0.Add(time.Minute), "15:04:05")},
		{"retry time past is not shown", refresher.State{Phase: refresher.PhaseExpired, Err: outage, NextAttempt: t0.Add(-time.Second)}, exp,
			"Expired at " + loc(exp, "15:04:05") + " — refresh failing: can't reach 127.0.0.1:40581"},
		{"never had one", refresher.State{Phase: refresher.PhaseNone}, time.Time{}, "No token yet"},
		{"valid, rejected", refresher.State{Phase: refresher.PhaseRejected, Err: rejected, Expiry: t0.Add(41 * time.Second)}, time.Time{},
			"Token expires in 00:41 (at " + loc(t0.Add(41*time.Second), "15:04") + ") — refresh failing: credentials rejected"},
	}
	for _, tt := range tests {
		if got := expiryLine(tt.st, tt.last, t0); got != tt.want {
			t.Errorf("%s: got %q; want %q", tt.name, got, tt.want)
		}
	}
}

// The details of a client whose token expired say when, not "No token yet".
func TestDetailsSayWhenTheTokenExpired(t *testing.T) {
	st := state("alpha", refresher.PhaseStale, time.Minute)
	r := newRig(t, st)
	r.ui.selectClient("alpha")
	r.time.Advance(2 * time.Minute)
	gone := st
	gone.Phase, gone.Expiry, gone.FetchedAt = refresher.PhaseRejected, time.Time{}, time.Time{}
	gone.Err = &refresher.Error{Class: refresher.ClassRejected, Host: "auth.example.com", Status: 401, Code: "invalid_client"}
	r.ui.apply([]refresher.State{gone})
	if got := r.ui.details.expires.Text; !strings.HasPrefix(got, "Expired at "+t0.Add(time.Minute).Local().Format("15:04:05")) {
		t.Errorf("details after expiry: %q; want when it expired", got)
	}
}

func TestScopesNeverAllGrantedWhileOneIsRefused(t *testing.T) {
	st := state("alpha", refresher.PhaseStale, time.Hour)
	st.Granted = []string{"models:read", "chat:invoke"} // the last good token had both
	st.Err = &refresher.Error{Class: refresher.ClassScope, Host: "api.example.com", Status: 403,
		Scopes: []string{"models:read", "chat:invoke"}, Description: "Missing required scope: chat:invoke"}
	if got := scopeSummary(st); strings.Contains(got, "all granted") || !strings.Contains(got, "refused: chat:invoke") {
		t.Errorf("scope summary %q; want chat:invoke named as refused", got)
	}
	r := newRig(t, st)
	r.ui.selectClient("alpha")
	if text := allText(r.ui.details.root); !strings.Contains(text, "REFUSED") {
		t.Errorf("details: %q; want the refused scope marked", text)
	}
}

// A server that names no granted scopes (oidc-provider omits scope and its
// token carries no claim) is not taken as granting them all.
func TestScopesTakenOnTrustSaySo(t *testing.T) {
	st := state("alpha", refresher.PhaseFresh, time.Hour)
	st.Granted, st.ScopesAssumed = slices.Clone(st.Client.Scopes), true
	if got := scopeSummary(st); strings.Contains(got, "all granted") || !strings.Contains(got, "granted (assumed)") {
		t.Errorf("scope summary %q; want granted (assumed)", got)
	}
	r := newRig(t, st)
	r.ui.selectClient("alpha")
	if text := allText(r.ui.details.root); !strings.Contains(text, "granted (assumed)") {
		t.Errorf("details: %q; want the scopes marked as assumed", text)
	}
}

func TestFilterHidingTheSelectionClearsDetails(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour), state("beta", refresher.PhaseFresh, time.Hour))
	r.ui.selectClient("alpha")
	r.ui.onFilter("beta")
	if r.ui.selected != "" || r.ui.details.name != "" {
		t.Errorf("after filtering alpha out: selected %q, details of %q; want none", r.ui.selected, r.ui.details.name)
	}
}

func TestListSaysRotationInProgress(t *testing.T) {
	st := state("alpha", refresher.PhaseFresh, time.Hour)
	st.Client.RotationStartedAt = t0.Add(-time.Hour)
	r := newRig(t, st)
	test.NewTempWindow(t, r.ui.list).Resize(r.ui.win.Canvas().Size())
	r.ui.list.Refresh()
	found := false
	for _, row := range r.ui.rows {
		if row.name == "alpha" && row.rotation.Text() == "rotation in progress" {
			found = true
		}
	}
	if !found {
		t.Errorf("no row of alpha says rotation in progress")
	}
}

// The Last error section's "retries at" disappears once that time passed.
func TestDetailsDropAPastRetryTime(t *testing.T) {
	st := state("alpha", refresher.PhaseStale, time.Hour)
	st.Err = &refresher.Error{Class: refresher.ClassRateLimited, Host: "auth.example.com", Status: 429, RetryAt: t0.Add(time.Minute)}
	r := newRig(t, st)
	r.ui.selectClient("alpha")
	at := "retries at " + t0.Add(time.Minute).Local().Format("15:04")
	if text := allText(r.ui.details.root); !strings.Contains(text, at) {
		t.Fatalf("details: %q; want %q", text, at)
	}
	r.time.Advance(2 * time.Minute)
	r.ui.tick()
	if text := allText(r.ui.details.root); strings.Contains(text, at) {
		t.Errorf("details after the retry time: %q; want no %q", text, at)
	}
}

// The status bar counts down to the clipboard's clearing and then drops the
// message: no "clears in 30 s" after it cleared.
func TestStatusCountsDownTheClipboardAndExpires(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok", Expiry: t0.Add(time.Hour)}}
	r.ui.copyToken("alpha", false)
	r.time.Advance(10 * time.Second)
	r.ui.tick()
	if got := r.ui.status.Text; !strings.Contains(got, "the clipboard clears in 20 s") {
		t.Errorf("status 10 s after copying: %q; want a countdown at 20 s", got)
	}
	r.time.Advance(20 * time.Second)
	r.ui.tick()
	if got := r.ui.status.Text; strings.Contains(got, "clears in") || got != r.ui.overall {
		t.Errorf("status after the clipboard cleared: %q; want the overall line %q", got, r.ui.overall)
	}
}

// absPos is o's position inside root (both drawn, root an ancestor), or
// false when o is not inside root.
func absPos(root, o fyne.CanvasObject) (fyne.Position, bool) {
	if root == o {
		return fyne.Position{}, true
	}
	var kids []fyne.CanvasObject
	switch x := root.(type) {
	case *fyne.Container:
		kids = x.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(x).Objects()
	}
	for _, k := range kids {
		if p, ok := absPos(k, o); ok {
			return p.Add(k.Position()), true
		}
	}
	return fyne.Position{}, false
}

// At the list's width in an 800-pixel window a long name shortens: the
// environment badge, the countdown, the scopes and the rotation badge do
// not overlap, and each is drawn whole.
func TestListRowFitsANarrowList(t *testing.T) {
	st := state("billing-production-eu-west-frankfurt", refresher.PhaseFresh, 47*time.Minute)
	st.Client.ClientID = "m2m-client-live-billing"
	st.Client.Scopes = []string{"models:read", "chat:invoke", "files:read", "files:write"}
	st.Client.SecretSetAt = t0.Add(-102 * 24 * time.Hour)
	r := newRig(t, st)
	obj := r.ui.newRow()
	row := r.ui.rows[obj]
	const width = 330 // the list's side of an 800-pixel window, minus the scroll bar
	row.bind(state("a", refresher.PhaseFresh, time.Hour), t0)
	obj.Resize(fyne.NewSize(width, obj.MinSize().Height))
	row.bind(st, t0) // a row on screen takes another client (as the list reuses rows)
	box := func(o fyne.CanvasObject) (left, right float32) {
		p, ok := absPos(obj, o)
		if !ok {
			t.Fatalf("%T not in the row", o)
		}
		return p.X, p.X + o.Size().Width
	}
	tl, tr := box(row.title)
	el, er := box(row.env)
	cl, cr := box(row.countdown)
	sl, sr := box(row.scopes)
	rl, rr := box(row.rotation)
	if row.env.Text() != "live" || row.rotation.Text() == "" {
		t.Fatalf("badges %q %q; want live and a rotation state", row.env.Text(), row.rotation.Text())
	}
	for _, c := range []struct {
		what      string
		a, b      float32
		wantOrder bool
	}{
		{"name ends before the environment badge", tr, el + 0.5, true},
		{"environment badge ends before the countdown", er, cl + 0.5, true},
		{"countdown inside the row", cr, width + 0.5, true},
		{"scopes end before the rotation badge", sr, rl + 0.5, true},
		{"rotation badge inside the row", rr, width + 0.5, true},
	} {
		if c.a > c.b {
			t.Errorf("%s: %.1f > %.1f", c.what, c.a, c.b)
		}
	}
	if w := er - el; w < row.env.MinSize().Width-0.5 {
		t.Errorf("environment badge %.1f wide; want its whole %.1f", w, row.env.MinSize().Width)
	}
	if w := rr - rl; w < row.rotation.MinSize().Width-0.5 {
		t.Errorf("rotation badge %.1f wide; want its whole %.1f", w, row.rotation.MinSize().Width)
	}
	if tl < 0 || sl < 0 {
		t.Errorf("name at %.1f, scopes at %.1f: outside the row", tl, sl)
	}
}

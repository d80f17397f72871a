package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

func TestListShowsClientsWithCountdown(t *testing.T) {
	r := newRig(t,
		state("alpha", refresher.PhaseFresh, 47*time.Minute+12*time.Second),
		state("bravo", refresher.PhaseRefreshing, 2*time.Minute),
		state("charlie", refresher.PhaseRejected, 0),
		state("delta", refresher.PhaseExpired, 0),
		state("echo", refresher.PhaseStale, 90*time.Minute+5*time.Second),
	)
	want := map[string]string{"alpha": "47:12", "bravo": "refreshing…", "charlie": "rejected", "delta": "expired", "echo": "1:30:05"}
	got := r.rowTexts()
	for name, w := range want {
		if got[name] != w {
			t.Errorf("row %s: got countdown %q; want %q", name, got[name], w)
		}
	}

	r.time.Advance(time.Second)
	r.ui.tick()
	if got := r.rowTexts()["alpha"]; got != "47:11" {
		t.Errorf("after a tick: got %q; want %q", got, "47:11")
	}
	r.time.Advance(48 * time.Minute)
	r.ui.tick()
	if got := r.rowTexts()["alpha"]; got != "expired" {
		t.Errorf("after expiry: got %q; want %q", got, "expired")
	}
}

func TestFilterAndSort(t *testing.T) {
	a := state("alpha", refresher.PhaseFresh, 50*time.Minute)
	b := state("bravo", refresher.PhaseFresh, 10*time.Minute)
	b.Client.ClientID = "m2m-client-live-bravo"
	c := state("charlie", refresher.PhaseRejected, 0)
	c.Client.SecretSetAt = t0.Add(-95 * 24 * time.Hour)
	r := newRig(t, a, b, c)
	names := func() string {
		var n []string
		for _, st := range r.ui.view {
			n = append(n, st.Client.Name)
		}
		return strings.Join(n, " ")
	}
	tests := []struct {
		filter, sort, want string
	}{
		{"", sortName, "alpha bravo charlie"},
		{"", sortExpiry, "charlie bravo alpha"},
		{"", sortRotation, "charlie alpha bravo"},
		{"live", sortName, "bravo"},
		{"CHAR", sortName, "charlie"},
		{"test models:read", sortName, "alpha charlie"},
		{"nothing-matches", sortName, ""},
	}
	for _, tt := range tests {
		r.ui.onSort(tt.sort)
		r.ui.onFilter(tt.filter)
		if got := names(); got != tt.want {
			t.Errorf("filter %q sort %s: got %q; want %q", tt.filter, tt.sort, got, tt.want)
		}
	}
}

func TestCopyTokenClearsClipboardAfterDelay(t *testing.T) {
	tests := []struct {
		name        string
		userCopies  string // what the user copies after us; "" for nothing
		header      bool
		wantCopied  string
		wantAtClear string
	}{
		{name: "cleared", wantCopied: "tok-alpha", wantAtClear: ""},
		{name: "header cleared", header: true, wantCopied: "Authorization: Bearer tok-alpha", wantAtClear: ""},
		{name: "user copied something else", userCopies: "my own text", wantCopied: "tok-alpha", wantAtClear: "my own text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, state("alpha", refresher.PhaseFresh, 47*time.Minute+12*time.Second))
			r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok-alpha", TokenType: "Bearer", Expiry: t0.Add(47*time.Minute + 12*time.Second)}}
			clip := r.app.Clipboard()
			clip.SetContent("before")

			r.ui.copyToken("alpha", tt.header)
			if got := clip.Content(); got != tt.wantCopied {
				t.Fatalf("after copy: clipboard %q; want %q", got, tt.wantCopied)
			}
			if len(r.sent) != 1 || r.sent[0].Content != "Copied alpha "+map[bool]string{false: "token", true: "header"}[tt.header]+", expires in 47:12" {
				t.Errorf("copy notification: got %v; want one saying it expires in 47:12", r.sent)
			}
			btn, label := r.ui.details.copyBtn, "Copy token"
			if tt.header {
				btn, label = r.ui.details.headerBtn, "Copy as header"
			}
			if btn.Text != "Copied" {
				t.Errorf("button after copy: got %q; want %q", btn.Text, "Copied")
			}
			if tt.userCopies != "" {
				clip.SetContent(tt.userCopies)
			}
			r.time.Advance(29 * time.Second)
			if btn.Text != label {
				t.Errorf("button 29 s after copy: got %q; want %q back", btn.Text, label)
			}
			if got, want := clip.Content(), clip.Content(); tt.userCopies == "" && got != tt.wantCopied {
				t.Errorf("after 29 s: clipboard %q; want %q still", got, want)
			}
			r.time.Advance(time.Second)
			if got := clip.Content(); got != tt.wantAtClear {
				t.Errorf("after 30 s: clipboard %q; want %q", got, tt.wantAtClear)
			}
		})
	}
}

func TestCopyClearDelayIsAPreference(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.app.Preferences().SetInt(prefClipboardClear, 10)
	r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok", Expiry: t0.Add(time.Hour)}}
	r.ui.copyToken("alpha", false)
	r.time.Advance(10 * time.Second)
	if got := r.app.Clipboard().Content(); got != "" {
		t.Errorf("after the 10 s preference: clipboard %q; want it cleared", got)
	}
}

func TestQuitClearsOurTokenOnly(t *testing.T) {
	for _, userCopied := range []bool{false, true} {
		r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
		r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok", Expiry: t0.Add(time.Hour)}}
		r.ui.copyToken("alpha", false)
		want := ""
		if userCopied {
			r.app.Clipboard().SetContent("mine")
			want = "mine"
		}
		r.ui.Quit()
		if got := r.app.Clipboard().Content(); got != want {
			t.Errorf("user copied %v: after quit clipboard %q; want %q", userCopied, got, want)
		}
	}
}

func TestCopyRefusesRejectedAndExpired(t *testing.T) {
	rejected := state("bad", refresher.PhaseRejected, 0)
	rejected.Err = &refresher.Error{Class: refresher.ClassRejected, Status: 401, Code: "invalid_client", Host: "auth.example.com"}
	expiredTok := state("old", refresher.PhaseExpired, 0)
	failing := state("down", refresher.PhaseExpired, 0)
	tests := []struct {
		name      string
		st        refresher.State
		res       refresher.Result
		err       error
		wantCall  bool
		wantInMsg string
	}{
		{name: "rejected", st: rejected, wantInMsg: "rejected bad's credentials and its last token has expired"},
		{name: "expired token", st: expiredTok, wantCall: true,
			res: refresher.Result{Token: vault.Token{AccessToken: "stale", Expiry: t0.Add(-time.Minute)}}, wantInMsg: "has expired"},
		{name: "fetch fails", st: failing, wantCall: true,
			err: &refresher.Error{Class: refresher.ClassTransient, Host: "auth.example.com", Err: errors.New("connection refused")}, wantInMsg: "from auth.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.st)
			name := tt.st.Client.Name
			r.src.tokens[name] = tt.res
			if tt.err != nil {
				r.src.errs[name] = tt.err
			}
			r.app.Clipboard().SetContent("untouched")
			r.ui.copyToken(name, false)
			if got := r.app.Clipboard().Content(); got != "untouched" {
				t.Errorf("clipboard: got %q; want it untouched", got)
			}
			if called := len(r.src.calls) > 0; called != tt.wantCall {
				t.Errorf("Token called: got %v; want %v", called, tt.wantCall)
			}
			if got := r.ui.status.Text; !strings.Contains(got, "Not copied") || !strings.Contains(got, tt.wantInMsg) {
				t.Errorf("message: got %q; want it to say Not copied and %q", got, tt.wantInMsg)
			}
		})
	}
}

// With the secret rejected and the last good token still valid, Copy token
// (window and tray) hands out that token with a visible warning.
func TestCopyWhileRejectedHandsOutTheLastGoodToken(t *testing.T) {
	st := state("bad", refresher.PhaseRejected, 41*time.Second)
	rej := &refresher.Error{Class: refresher.ClassRejected, Status: 401, Code: "invalid_client", Host: "auth.example.com"}
	st.Err = rej
	for _, tray := range []bool{false, true} {
		r := newRig(t, st)
		r.src.tokens["bad"] = refresher.Result{Token: vault.Token{AccessToken: "last-good", Expiry: st.Expiry}, RefreshErr: rej}
		if tray {
			r.ui.hideWindow()
			r.sent = nil
			r.ui.tray.menu.Items[0].Action()
		} else {
			r.ui.selectClient("bad")
			tapButton(t, r.ui.details.root, "Copy token")
		}
		if got := r.app.Clipboard().Content(); got != "last-good" {
			t.Errorf("tray %v: clipboard %q; want the last good token", tray, got)
		}
		if got := r.ui.status.Text; !strings.Contains(got, "last good token, valid until") || !strings.Contains(got, "credentials rejected") || r.ui.status.Importance != widget.WarningImportance {
			t.Errorf("tray %v: status %q (importance %v); want a warning naming the rejection", tray, got, r.ui.status.Importance)
		}
		if tray && (len(r.sent) != 1 || !strings.Contains(r.sent[0].Content, "credentials rejected")) {
			t.Errorf("tray copy with a hidden window: notifications %v; want one warning", r.sent)
		}
	}
}

func TestCopyFromTrayWithHiddenWindowNotifiesRefusal(t *testing.T) {
	st := state("bad", refresher.PhaseRejected, 0)
	r := newRig(t, st)
	r.ui.hideWindow()
	r.sent = nil
	r.ui.copyToken("bad", false)
	if len(r.sent) != 1 || !strings.Contains(r.sent[0].Content, "rejected") {
		t.Errorf("notifications: got %v; want one explaining the rejection", r.sent)
	}
}

func TestRotationBadgeAtDayBoundaries(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		age  time.Duration
		want string
		sev  severity
	}{
		{0, "rotation ok", sevOK},
		{76*day - time.Nanosecond, "rotation ok", sevOK},
		{76 * day, "due in 14 days", sevWarn},
		{83 * day, "due in 7 days", sevWarn},
		{89 * day, "due in 1 day", sevWarn},
		{90*day - time.Nanosecond, "due in 1 day", sevWarn},
		{90 * day, "overdue since today", sevError},
		{91 * day, "overdue by 1 day", sevError},
		{100 * day, "overdue by 10 days", sevError},
	}
	for _, tt := range tests {
		st := state("alpha", refresher.PhaseFresh, time.Hour)
		st.Client.SecretSetAt = t0.Add(-tt.age)
		r := newRig(t, st)
		var got string
		for _, row := range r.ui.rows {
			if row.name == "alpha" {
				got = row.rotation.Text()
			}
		}
		if got != tt.want {
			t.Errorf("secret age %v: got badge %q; want %q", tt.age, got, tt.want)
		}
		if sev := rotationSeverity(rotationAt(st, t0)); sev != tt.sev {
			t.Errorf("secret age %v: got severity %d; want %d", tt.age, sev, tt.sev)
		}
	}
}

func TestTrayItemsMatchClients(t *testing.T) {
	var states []refresher.State
	for i := range 12 {
		states = append(states, state(fmt.Sprintf("client-%02d", i), refresher.PhaseFresh, time.Hour))
	}
	states[3].Phase = refresher.PhaseRejected
	r := newRig(t, states...)
	var labels []string
	for _, it := range r.ui.tray.menu.Items {
		if !it.IsSeparator {
			labels = append(labels, it.Label)
		}
	}
	var want []string
	for i := range maxTrayClients {
		l := fmt.Sprintf("Copy token: client-%02d (60 min left)", i)
		if i == 3 {
			l = "Copy token: client-03 (60 min left, rejected)"
		}
		want = append(want, l)
	}
	want = append(want, "More… (12 clients)", "Copy as header", "Refresh all", "Rotation overview…", "12 clients · 1 rejected", "Show window", "Quit")
	if strings.Join(labels, "\n") != strings.Join(want, "\n") {
		t.Errorf("tray items:\ngot  %q\nwant %q", labels, want)
	}
	if it := r.ui.tray.menu.Items[len(r.ui.tray.menu.Items)-1]; !it.IsQuit {
		t.Errorf("last tray item %q: got IsQuit false; want true", it.Label)
	}

	// Countdown ticks and repeated identical snapshots do not rebuild it.
	before := r.ui.tray.refreshes
	for range 120 {
		r.time.Advance(time.Second)
		r.ui.tick()
		r.ui.apply([]refresher.State{states[0]})
	}
	if got := r.ui.tray.refreshes; got-before > 2 {
		t.Errorf("tray rebuilds over 120 ticks and snapshots: got %d; want at most 2 (the minutes left changed twice)", got-before)
	}
	before = r.ui.tray.refreshes
	// A change of state does.
	fixed := states[3]
	fixed.Phase = refresher.PhaseFresh
	r.ui.apply([]refresher.State{fixed})
	if got := r.ui.tray.refreshes; got != before+1 {
		t.Errorf("tray rebuilds after a state change: got %d; want 1", got-before)
	}
	if got := r.ui.tray.menu.Items[3].Label; got != "Copy token: client-03 (58 min left)" {
		t.Errorf("tray item 3 after the fix: got %q; want %q", got, "Copy token: client-03 (58 min left)")
	}
}

func TestTrayCopyItemCopies(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok-alpha", Expiry: t0.Add(time.Hour)}}
	r.ui.tray.menu.Items[0].Action()
	if got := r.app.Clipboard().Content(); got != "tok-alpha" {
		t.Errorf("clipboard after the tray item: got %q; want %q", got, "tok-alpha")
	}
}

func TestOverallStatus(t *testing.T) {
	due := state("due", refresher.PhaseFresh, time.Hour)
	due.Client.SecretSetAt = t0.Add(-80 * 24 * time.Hour)
	due.Rotation = vault.Rotation(due.Client.SecretSetAt, t0, vault.DefaultRotationPolicy)
	tests := []struct {
		name     string
		states   []refresher.State
		wantSev  severity
		wantLine string
	}{
		{"none", nil, sevOK, "No clients yet"},
		{"fresh", []refresher.State{state("a", refresher.PhaseFresh, time.Hour), state("b", refresher.PhaseRefreshing, time.Hour)}, sevOK, "2 clients, all tokens fresh"},
		{"due", []refresher.State{due}, sevWarn, "1 due for rotation"},
		{"stale", []refresher.State{state("a", refresher.PhaseStale, time.Hour)}, sevWarn, "1 failing"},
		{"rejected", []refresher.State{state("a", refresher.PhaseRejected, 0), due}, sevError, "1 rejected · 1 due for rotation"},
	}
	for _, tt := range tests {
		sev, line := overall(tt.states, t0)
		if sev != tt.wantSev || line != tt.wantLine {
			t.Errorf("%s: got %d %q; want %d %q", tt.name, sev, line, tt.wantSev, tt.wantLine)
		}
		if icon := trayIcon(sev); icon == nil {
			t.Errorf("%s: no tray icon", tt.name)
		}
	}
}

func TestCountdownTickerStopsWhileHidden(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	var tickers []context.Context
	r.ui.every = func(ctx context.Context, d time.Duration, _ func()) {
		if d == time.Second {
			tickers = append(tickers, ctx)
		}
	}
	r.ui.hideWindow()
	r.ui.showWindow()
	if len(tickers) != 1 || tickers[0].Err() != nil {
		t.Fatalf("after showing the window: got %d tickers; want 1 running", len(tickers))
	}
	r.ui.showWindow() // shown twice: still one ticker
	if len(tickers) != 1 {
		t.Errorf("after showing twice: got %d tickers; want 1", len(tickers))
	}
	r.ui.hideWindow()
	if tickers[0].Err() == nil {
		t.Errorf("after hiding the window: ticker still running; want it stopped")
	}
	if r.ui.win.Content().Visible() && r.ui.visible {
		t.Errorf("after hiding: visible flag still set")
	}
}

func TestCopyNotificationCanBeTurnedOff(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.app.Preferences().SetBool(prefNotifyCopy, false)
	r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok", Expiry: t0.Add(time.Hour)}}
	r.ui.copyToken("alpha", false)
	if got := r.app.Clipboard().Content(); got != "tok" {
		t.Fatalf("clipboard: got %q; want the token", got)
	}
	if len(r.sent) != 0 {
		t.Errorf("notifications with copy notifications off: got %v; want none", titles(r.sent))
	}
}

func TestApplyPreferences(t *testing.T) {
	r := newRig(t)
	var o refresher.Options
	ApplyPreferences(r.app.Preferences(), &o)
	if o.MarginMin != 5*time.Minute || o.SweepInterval != 30*time.Second {
		t.Errorf("defaults: got margin %v sweep %v; want 5m0s 30s", o.MarginMin, o.SweepInterval)
	}
	r.app.Preferences().SetInt(prefMarginMinutes, 10)
	r.app.Preferences().SetInt(prefSweepSeconds, 60)
	ApplyPreferences(r.app.Preferences(), &o)
	if o.MarginMin != 10*time.Minute || o.SweepInterval != time.Minute {
		t.Errorf("set: got margin %v sweep %v; want 10m0s 1m0s", o.MarginMin, o.SweepInterval)
	}
}

func TestNotificationsNotRepeatedAfterRestart(t *testing.T) {
	st := state("alpha", refresher.PhaseFresh, time.Hour)
	st.Client.SecretSetAt = t0.Add(-80 * 24 * time.Hour)
	r := newRig(t, st)
	if len(r.sent) != 1 {
		t.Fatalf("first start: got %v; want one due-soon notification", titles(r.sent))
	}
	// A second UI on the same app (same preferences), as after a restart.
	again := New(r.app, Options{Store: r.store, Refresher: r.src, TimeSource: r.time})
	var sent []string
	again.send = func(n *fyne.Notification) { sent = append(sent, n.Title) }
	again.every = func(context.Context, time.Duration, func()) {}
	again.Start()
	defer again.Stop()
	if len(sent) != 0 {
		t.Errorf("after a restart: got %v; want no repeat", sent)
	}
}

type demo struct {
	ran       []string
	rejecting bool
}

func (d *demo) Actions() []DemoAction {
	return []DemoAction{
		{Label: "Reject secrets", Do: func() error { d.ran = append(d.ran, "reject"); d.rejecting = !d.rejecting; return nil },
			Active: func() bool { return d.rejecting }},
		{Label: "Fail with 500", Do: func() error { return errors.New("demo server gone") }},
	}
}

func TestDemoMenu(t *testing.T) {
	a := test.NewTempApp(t)
	d := &demo{}
	u := New(a, Options{Title: "Tokentray demo", Demo: d, TimeSource: &fakeTime{now: t0}})
	u.async = func(f func()) { f() }
	menu := u.win.MainMenu()
	last := menu.Items[len(menu.Items)-1]
	if last.Label != "Demo" || len(last.Items) != 2 {
		t.Fatalf("main menu: got last menu %q with %d items; want Demo with 2", last.Label, len(last.Items))
	}
	if last.Items[0].Checked {
		t.Errorf("toggle before use: checked; want unchecked")
	}
	last.Items[0].Action()
	if len(d.ran) != 1 {
		t.Errorf("demo action ran %d times; want 1", len(d.ran))
	}
	if !last.Items[0].Checked || !strings.HasSuffix(u.status.Text, ": on") {
		t.Errorf("toggle switched on: checked %v, status %q; want a check mark and \": on\"", last.Items[0].Checked, u.status.Text)
	}
	last.Items[0].Action()
	if last.Items[0].Checked || !strings.HasSuffix(u.status.Text, ": off") {
		t.Errorf("toggle switched off: checked %v, status %q; want no check mark and \": off\"", last.Items[0].Checked, u.status.Text)
	}
	last.Items[1].Action()
	if got := u.status.Text; !strings.Contains(got, "demo server gone") {
		t.Errorf("status after a failing demo action: got %q; want the error", got)
	}
	noDemo := New(a, Options{})
	for _, m := range noDemo.win.MainMenu().Items {
		if m.Label == "Demo" {
			t.Errorf("without Options.Demo: got a Demo menu; want none")
		}
	}
}

// The window says what happened with the refresher's words and what to do
// with its own buttons: never a command line.
func TestExplainErrors(t *testing.T) {
	retry := time.Date(2026, 3, 2, 14, 5, 0, 0, time.Local)
	valid := time.Date(2026, 3, 2, 15, 0, 0, 0, time.Local)
	tests := []struct {
		name     string
		err      *refresher.Error
		lastGood time.Time
		wantTodo string
	}{
		{"401", &refresher.Error{Class: refresher.ClassRejected, Client: "a", Host: "auth.example.com", Status: 401, Code: "invalid_client"}, time.Time{},
			"with Rotate secret"},
		{"403 scope", &refresher.Error{Class: refresher.ClassScope, Client: "a", Host: "api.example.com", Status: 403, Scopes: []string{"chat:invoke"}}, time.Time{},
			"Remove chat:invoke with Edit, or ask the platform admin"},
		{"invalid_scope naming one of two", &refresher.Error{Class: refresher.ClassScope, Client: "a", Host: "127.0.0.1:1234", Status: 400, Code: "invalid_scope",
			Scopes: []string{"datasets:read", "files:read"}, Description: "The OAuth 2.0 Client is not allowed to request scope 'files:read'."}, time.Time{},
			"Remove files:read with Edit"},
		{"429", &refresher.Error{Class: refresher.ClassRateLimited, Client: "a", Host: "auth.example.com", Status: 429, RetryAt: retry}, valid,
			"Tokentray retries at 14:05. The last good token stays valid until 15:00."},
		{"network", &refresher.Error{Class: refresher.ClassTransient, Client: "a", Host: "auth.example.com", Err: errors.New("connection refused")}, valid,
			"retries with backoff later; check the network or the server, or press Refresh now. The last good token stays valid until 15:00."},
		{"keyring", &refresher.Error{Class: refresher.ClassKeyring, Client: "a"}, time.Time{}, "Unlock the keyring"},
	}
	for _, tt := range tests {
		what, todo := explain(tt.err, tt.lastGood)
		if want := sentence(tt.err.Words().Detail); what != want || !strings.Contains(todo, tt.wantTodo) {
			t.Errorf("%s: got %q / %q; want %q / containing %q", tt.name, what, todo, want, tt.wantTodo)
		}
		if strings.Contains(what+todo, "tokentray ") {
			t.Errorf("%s: %q / %q names a command line; want the window's buttons", tt.name, what, todo)
		}
	}
	if got := sentence("auth.example.com refused it"); got != "auth.example.com refused it." {
		t.Errorf("sentence of a host: %q; want the host as it is", got)
	}
}

// Refresh now that fails while the last good token is still valid gets the
// old token back with RefreshErr set (no error): it must say it failed,
// not "Refreshed".
func TestRefreshNowSaysWhenItFailed(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseStale, 3*time.Minute))
	r.ui.hideWindow() // tell notifies instead of opening a dialog
	// Refresh returns a failure as an error even while the last good token
	// is valid (the refresher's contract).
	r.src.errs["alpha"] = &refresher.Error{Class: refresher.ClassRateLimited, Host: "auth.example.com", Status: 429,
		ValidUntil: t0.Add(3 * time.Minute)}
	r.ui.refreshNow("alpha")
	got := r.ui.status.Text
	if strings.HasPrefix(got, "Refreshed") || !strings.Contains(got, "rate-limiting") || !strings.Contains(got, "stays valid until") {
		t.Errorf("status after a failed refresh: %q; want the failure explained with the last good token's expiry", got)
	}
	if len(r.sent) != 1 || !strings.Contains(r.sent[0].Content, "rate-limiting") {
		t.Errorf("notifications: %v; want one explaining the failure", r.sent)
	}
}

// A demo action may change the store (the demo's "Issue a new secret"
// stages one): the list is re-read afterwards so the details show it.
func TestDemoActionReloads(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	before := r.src.reloads
	r.ui.runDemo(DemoAction{Label: "Issue a new secret for alpha", Do: func() error { return nil }})
	if r.src.reloads != before+1 {
		t.Errorf("reloads after a demo action: %d; want %d", r.src.reloads, before+1)
	}
}

// TestStopWaitsForTickers: Stop returns only after the tickers' goroutines
// ended, and no ticker calls its function after Stop.
func TestStopWaitsForTickers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &UI{}
		u.ctx, u.cancel = context.WithCancel(context.Background())
		entered, release := make(chan struct{}, 1), make(chan struct{})
		u.do = func(f func()) { entered <- struct{}{}; <-release; f() }
		ticks := 0
		u.startTicker(u.ctx, time.Second, func() { ticks++ })
		time.Sleep(time.Second) // the first tick: the ticker is inside do
		<-entered
		var stopped atomic.Bool
		go func() { u.Stop(); stopped.Store(true) }()
		synctest.Wait()
		if stopped.Load() {
			t.Fatal("Stop returned while a ticker's goroutine still ran")
		}
		close(release)
		synctest.Wait()
		if !stopped.Load() {
			t.Fatal("Stop did not return after the ticker ended")
		}
		if ticks != 0 {
			t.Errorf("the ticker called its function %d times after Stop; want 0", ticks)
		}
		u.startTicker(u.ctx, time.Second, func() { ticks++ }) // after Stop: starts nothing
		time.Sleep(2 * time.Second)
		if ticks != 0 {
			t.Errorf("a ticker started after Stop ran %d times", ticks)
		}
	})
}

// sampleDemo is a demo that offers a sample client.
type sampleDemo struct{ demo }

func (sampleDemo) Sample() (DemoSample, error) {
	return DemoSample{TokenURL: "http://127.0.0.1:9/oauth2/token", ClientID: "m2m-client-test-sample", Secret: "sample-secret-123", Scopes: []string{"chat:invoke"}}, nil
}

// The demo shows a sample client id and secret to practise Add client: the
// values can be copied (the secret is cleared from the clipboard later) and
// Add client opens from there.
func TestDemoSampleClient(t *testing.T) {
	a := test.NewTempApp(t)
	u := New(a, Options{Title: "Tokentray demo", Demo: &sampleDemo{}, TimeSource: &fakeTime{now: t0}})
	menu := u.win.MainMenu().Items
	demoMenu := menu[len(menu)-1]
	var item *fyne.MenuItem
	for _, it := range demoMenu.Items {
		if strings.HasPrefix(it.Label, "Sample client") {
			item = it
		}
	}
	if item == nil {
		t.Fatal("the Demo menu offers no sample client")
	}
	item.Action()
	d := u.win.Canvas().Overlays().Top()
	if text := allText(d); !strings.Contains(text, "m2m-client-test-sample") || !strings.Contains(text, "sample-secret-123") || !strings.Contains(text, "/oauth2/token") {
		t.Fatalf("sample dialog: %q; want the token URL, client id and secret", text)
	}
	var copies []*widget.Button
	walk(d, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "" {
			copies = append(copies, b)
		}
	})
	if len(copies) != 4 {
		t.Fatalf("%d copy buttons; want 4", len(copies))
	}
	test.Tap(copies[2])
	if got := a.Clipboard().Content(); got != "sample-secret-123" || !u.clip.holds("sample-secret-123") {
		t.Errorf("clipboard after copying the secret: %q (guarded %v); want the secret, to be cleared later", got, u.clip.holds("sample-secret-123"))
	}
	tapButton(t, d, "Open Add client")
	if top := u.win.Canvas().Overlays().Top(); top == nil || !strings.Contains(allText(top), "Client secret") {
		t.Error("Open Add client did not open the form")
	}
	if m := New(a, Options{Demo: &demo{}}).win.MainMenu().Items; len(m[len(m)-1].Items) != 2 {
		t.Error("a demo without a sample got a sample entry")
	}
}

// TestFollowAppliesOneBatchAtATime: while an apply waits for the UI thread,
// the snapshots arriving meanwhile are not queued as applies of their own
// (each apply redraws the list and tray for every client: one per snapshot
// was quadratic in a refresh wave) but applied together next.
func TestFollowAppliesOneBatchAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		onUI := make(chan func(), 100)
		r.ui.do = func(f func()) { onUI <- f }
		c := make(chan refresher.State, 500)
		r.ui.wg.Add(1)
		go r.ui.follow(c)

		c <- state("c000", refresher.PhaseFresh, time.Hour)
		synctest.Wait()
		if n := len(onUI); n != 1 {
			t.Fatalf("%d applies queued for one snapshot; want 1", n)
		}
		for i := 1; i < 300; i++ {
			c <- state(fmt.Sprintf("c%03d", i), refresher.PhaseFresh, time.Hour)
		}
		synctest.Wait()
		if n := len(onUI); n != 1 {
			t.Fatalf("%d applies queued while the first had not run; want 1", n)
		}
		(<-onUI)()
		synctest.Wait()
		if n := len(onUI); n != 1 {
			t.Fatalf("%d applies queued for the 299 snapshots that waited; want 1", n)
		}
		(<-onUI)()
		if n := len(r.ui.states); n != 300 {
			t.Errorf("%d clients known after both applies; want 300", n)
		}
	})
}

package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/autostart"
	"github.com/tokentray/tokentray/refresher"
)

func TestHiddenStartThenShow(t *testing.T) {
	a := test.NewTempApp(t)
	src := &fakeSource{states: []refresher.State{state("alpha", refresher.PhaseFresh, time.Hour)}}
	u := New(a, Options{Refresher: src, TimeSource: &fakeTime{now: t0}, Hidden: true})
	u.every = func(context.Context, time.Duration, func()) {}
	u.do = func(f func()) { f() }
	u.Start()
	t.Cleanup(u.Stop)
	if u.visible {
		t.Fatal("hidden start: the window is shown")
	}
	u.Show() // a second launch asked
	if !u.visible {
		t.Error("after Show: the window is not shown")
	}
}

func TestRecentRequests(t *testing.T) {
	r := newRig(t)
	r.ui.do = func(f func()) { f() }
	reqs := []agent.Request{{Client: "alpha", At: t0, Fingerprint: "0a1b2c3d", Outcome: "ok"}}
	r.ui.SetAgent(func() []agent.Request { return reqs })
	r.ui.showRecent()
	if r.ui.recentList == nil || r.ui.recentList.Length() != 1 {
		t.Fatalf("recent list shows %v rows, want 1", r.ui.recentList)
	}
	reqs = append([]agent.Request{{Client: "beta", At: t0.Add(time.Second), Outcome: "rejected"}}, reqs...)
	r.ui.AgentRequest(reqs[0])
	if n := r.ui.recentList.Length(); n != 2 {
		t.Errorf("after a new request the list shows %d rows, want 2", n)
	}
	for _, tc := range []struct {
		r    agent.Request
		want []string
	}{
		{reqs[1], []string{"09:00:00", "alpha", "token 0a1b2c3d", "served"}},
		{reqs[0], []string{"beta", "no token", "refused: rejected"}},
	} {
		got := recentLine(tc.r, t0)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("recentLine(%+v) = %q, want it to contain %q", tc.r, got, w)
			}
		}
	}
}

// fakeLogin is start at login in memory.
type fakeLogin struct {
	on   bool
	sets int
}

func (f *fakeLogin) Status() (autostart.State, error) { return autostart.State{On: f.on}, nil }
func (f *fakeLogin) Set(on bool) (autostart.State, error) {
	f.on = on
	f.sets++
	return autostart.State{On: on}, nil
}

func TestStartAtLoginAskedOnce(t *testing.T) {
	r := newRig(t)
	login := &fakeLogin{}
	r.ui.login = login
	r.ui.offerStartAtLogin()
	d := r.ui.win.Canvas().Overlays().Top()
	if d == nil {
		t.Fatal("no dialog")
	}
	if !strings.Contains(allText(d), "Start Tokentray when you log in?") {
		t.Fatalf("no question asked: %s", allText(d))
	}
	tapButton(t, d, "Yes")
	if !login.on || !r.app.Preferences().Bool(prefAskedLogin) {
		t.Fatalf("after Yes: on=%v asked=%v", login.on, r.app.Preferences().Bool(prefAskedLogin))
	}
	login.on = false // turned off elsewhere: never asked again
	r.ui.offerStartAtLogin()
	if login.sets != 1 || r.ui.win.Canvas().Overlays().Top() != nil {
		t.Errorf("asked again: sets=%d", login.sets)
	}
	// The Settings switch.
	c := r.ui.startAtLoginCheck()
	c.SetChecked(true)
	if !login.on || login.sets != 2 {
		t.Errorf("Settings switch: on=%v sets=%d", login.on, login.sets)
	}
}

// Escape closes the start-at-login question like any dialog; it is not
// asked again.
func TestStartAtLoginEscape(t *testing.T) {
	r := newRig(t)
	login := &fakeLogin{}
	r.ui.login = login
	r.ui.offerStartAtLogin()
	if r.top() == nil {
		t.Fatal("no dialog")
	}
	r.ui.onEscape()
	if r.top() != nil || login.on || !r.app.Preferences().Bool(prefAskedLogin) {
		t.Errorf("after Escape: shown %v, on %v, asked %v; want closed, off, asked", r.top() != nil, login.on, r.app.Preferences().Bool(prefAskedLogin))
	}
}

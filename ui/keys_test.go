package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// The menus show the shortcuts; the desktop driver triggers a main-menu
// shortcut before the focused widget, so the filter cannot swallow them.
func TestMenusCarryTheShortcuts(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	for label, want := range map[string]fyne.Shortcut{
		"Copy token": keyCopy, "Copy as header": keyHeader, "Refresh now": keyRefresh, "Rotate secret…": keyRotate,
		"Edit…": keyEdit, "Filter clients": keyFilter, "Add client…": keyAdd, "Rotation overview…": keyOverview,
		"Settings…": keySettings, "Hide window": keyHide, "Quit": keyQuit,
	} {
		if got := r.menuItem(label).Shortcut; got == nil || got.ShortcutName() != want.ShortcutName() {
			t.Errorf("menu item %q: shortcut %v; want %s", label, got, want.ShortcutName())
		}
	}
}

// Ctrl+Shift+C copies the selected client's token, also while the filter
// has the focus; Ctrl+F puts the focus in the filter.
func TestCopyShortcutAndFilterShortcut(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok-alpha", Expiry: t0.Add(time.Hour)}}
	c := r.ui.win.Canvas()
	c.(fyne.Shortcutable).TypedShortcut(keyFilter)
	if c.Focused() != r.ui.search {
		t.Fatalf("after Ctrl+F: focused %T; want the filter", c.Focused())
	}
	r.ui.selectClient("alpha")
	r.menuItem("Copy token").Action() // what the driver runs for Ctrl+Shift+C
	if got := r.app.Clipboard().Content(); got != "tok-alpha" {
		t.Errorf("after Ctrl+Shift+C: clipboard %q; want tok-alpha", got)
	}
	c.(fyne.Shortcutable).TypedShortcut(keyCopy)
	if got := len(r.src.calls); got != 2 {
		t.Errorf("Token calls after the canvas shortcut too: %d; want 2", got)
	}
}

// Choosing a client with the keyboard keeps the focus on the list, and Tab
// reaches Copy token.
func TestFocusStaysAfterChoosingAClient(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour), state("beta", refresher.PhaseFresh, time.Hour))
	c := r.ui.win.Canvas()
	c.Focus(r.ui.list)
	r.ui.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	r.ui.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if r.ui.selected != "beta" {
		t.Fatalf("after Down, Space: selected %q; want beta", r.ui.selected)
	}
	if c.Focused() != r.ui.list {
		t.Fatalf("after choosing: focused %T; want the list", c.Focused())
	}
	c.FocusNext()
	if c.Focused() != r.ui.details.copyBtn {
		t.Errorf("Tab after the list: focused %T %v; want Copy token", c.Focused(), c.Focused())
	}
}

// Escape closes Settings, the Remove confirmation and the rotation wizard,
// and clears the filter when nothing is open.
func TestEscapeClosesDialogs(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	esc := func() {
		r.ui.win.Canvas().(interface{ OnTypedKey() func(*fyne.KeyEvent) }).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	}
	for name, open := range map[string]func(){
		"Settings":   r.ui.showSettings,
		"Remove":     func() { r.ui.confirmRemove("alpha") },
		"Not copied": func() { r.ui.visible = true; r.ui.tell("Not copied", "why") },
	} {
		open()
		if r.top() == nil {
			t.Fatalf("%s: nothing shown", name)
		}
		esc()
		if r.top() != nil {
			t.Errorf("%s: still shown after Escape", name)
		}
	}
	test.Type(r.ui.search, "zzz")
	r.ui.search.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if r.ui.search.Text != "" || len(r.ui.view) != 1 {
		t.Errorf("Escape in the filter: text %q, %d rows; want it cleared", r.ui.search.Text, len(r.ui.view))
	}
}

// Settings shows the margin the refresher uses, not only the setting.
func TestSettingsShowTheMarginInUse(t *testing.T) {
	st := state("demo", refresher.PhaseFresh, 2*time.Minute)
	st.Margin = time.Minute
	r := newRig(t, st)
	r.ui.showSettings()
	if text := allText(r.top()); !strings.Contains(text, "demo 1m0s before expiry") {
		t.Errorf("Settings: %q; want the margin in use", text)
	}
}

// The tray offers Copy as header per client, Refresh all and the overview.
func TestTrayCopyAsHeaderAndRefreshAll(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok-alpha", Expiry: t0.Add(time.Hour)}}
	var header, all *fyne.MenuItem
	for _, it := range r.ui.tray.menu.Items {
		switch it.Label {
		case "Copy as header":
			header = it
		case "Refresh all":
			all = it
		}
	}
	if header == nil || all == nil || header.ChildMenu == nil || len(header.ChildMenu.Items) != 1 {
		t.Fatalf("tray: Copy as header %v, Refresh all %v; want both, with one client under Copy as header", header, all)
	}
	header.ChildMenu.Items[0].Action()
	if got := r.app.Clipboard().Content(); got != "Authorization: Bearer tok-alpha" {
		t.Errorf("tray Copy as header: clipboard %q", got)
	}
	all.Action()
	if got := r.ui.status.Text; got != "Refreshed 1 client" {
		t.Errorf("after Refresh all: status %q; want Refreshed 1 client", got)
	}
}

func TestCloseToTrayHintOnce(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.sent = nil
	r.ui.closeToTray()
	r.ui.showWindow()
	r.ui.closeToTray()
	if len(r.sent) != 1 || !strings.Contains(r.sent[0].Title, "keeps running in the tray") {
		t.Errorf("notifications after closing twice: %v; want the tray hint once", r.sent)
	}
}

// With "copy at least valid for N minutes" set, Copy asks the refresher for
// a token with that much left (a fresh one when the cached one has less).
func TestCopyAsksForMinimumLifetime(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok", Expiry: t0.Add(time.Hour)}}
	r.app.Preferences().SetInt(prefCopyMinMinutes, 15)
	r.ui.copyToken("alpha", false)
	if len(r.src.opts) != 1 || r.src.opts[0].MinTTL != 15*time.Minute {
		t.Errorf("Token options %v; want MinTTL 15m", r.src.opts)
	}
}

func TestListHasALegend(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	if w := listLegend().MinSize().Width; w > 360 {
		t.Errorf("legend min width %v; want it to fit the list's side of an 800-pixel window (360)", w)
	}
	text := allText(r.ui.win.Content())
	for _, want := range []string{"fresh", "due or failing", "expired or rejected", "time left on the token"} {
		if !strings.Contains(text, want) {
			t.Errorf("window text lacks the legend's %q", want)
		}
	}
}

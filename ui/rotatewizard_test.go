package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

// rotateRig is a rig with one client whose secret "old-secret" the token
// server no longer accepts (the provider already issued "new-secret").
func rotateRig(t *testing.T, grant []string) *rig {
	t.Helper()
	ts := tokenServer(t, "m2m-client-test-billing", "new-secret", grant)
	r := newRig(t)
	c := client("billing", t0.Add(-80*24*time.Hour))
	c.TokenURL = ts.URL + "/token"
	if err := r.store.Add(c, "old-secret"); err != nil {
		t.Fatal(err)
	}
	stored, _ := r.store.Get("billing")
	r.ui.states["billing"] = refresher.State{Client: stored, Phase: refresher.PhaseRejected}
	return r
}

func TestRotateWizardStagesProvesSwitches(t *testing.T) {
	r := rotateRig(t, []string{"models:read", "chat:invoke"})
	r.ui.showRotate("billing")
	d := r.top()
	if text := allText(d); !strings.Contains(text, "due in 10 days") || !strings.Contains(text, "Settings -> API Access") {
		t.Errorf("status step: %q; want the due date and where a new secret comes from", text)
	}
	test.Type(findPasswordEntry(t, d), "new-secret")
	tapButton(t, d, "Stage and prove")
	if text := allText(d); !strings.Contains(text, "The new secret works") {
		t.Fatalf("after Stage and prove: %q; want the proof", text)
	}
	if got, _ := r.store.Secret("billing"); got != "old-secret" {
		t.Errorf("after proving: current secret %q; want old-secret until the switch", got)
	}
	tapButton(t, d, "Switch to the new secret")
	if text := allText(d); !strings.Contains(text, "Rotated") {
		t.Fatalf("after Switch: %q; want Rotated", text)
	}
	if got, _ := r.store.Secret("billing"); got != "new-secret" {
		t.Errorf("after Switch: current secret %q; want new-secret", got)
	}
	if _, err := r.store.NextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("after Switch: staged secret %v; want none", err)
	}
	if st, _ := rotation.New(r.store).Status("billing"); st.Rotation.State != vault.RotationOK {
		t.Errorf("after Switch: rotation state %q; want ok", st.Rotation.State)
	}
	c, _ := r.store.Get("billing")
	if _, err := refresher.Exchange(t.Context(), nil, c, "new-secret", nil); err != nil {
		t.Errorf("exchange with the stored secret: %v", err)
	}
}

// A wrong new secret is refused by the server: it is not left staged, the
// wizard says so in one plain sentence (no error chain, no command line), and
// offers no Finish for it.
func TestRotateWizardWrongSecretIsNotStaged(t *testing.T) {
	r := rotateRig(t, []string{"models:read", "chat:invoke"})
	r.ui.showRotate("billing")
	d := r.top()
	test.Type(findPasswordEntry(t, d), "wrong-secret")
	tapButton(t, d, "Stage and prove")
	text := allText(d)
	if !strings.Contains(text, "refused the new secret (HTTP 401 invalid_client)") || !strings.Contains(text, "It was not kept") {
		t.Fatalf("after a wrong secret: %q; want the refusal said plainly", text)
	}
	for _, bad := range []string{"rotation:", "refresher:", "tokentray ", "nothing changed"} {
		if strings.Contains(text, bad) {
			t.Errorf("after a wrong secret the wizard says %q; want no %q", text, bad)
		}
	}
	if findButton(d, "Finish") != nil || strings.Contains(text, "rotation is in progress") {
		t.Errorf("after a wrong secret: %q; want no rotation in progress and no Finish", text)
	}
	if _, err := r.store.NextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("after a refused secret: staged %v; want nothing staged", err)
	}
	if got, _ := r.store.Secret("billing"); got != "old-secret" {
		t.Errorf("after a refused secret: current secret %q; want old-secret", got)
	}
	// The corrected secret then goes through.
	test.Type(findPasswordEntry(t, r.top()), "new-secret")
	tapButton(t, r.top(), "Stage and prove")
	if text := allText(r.top()); !strings.Contains(text, "The new secret works") {
		t.Fatalf("after the right secret: %q; want the proof", text)
	}
}

// A proven staged secret is never replaced without asking, and a refused
// replacement leaves it staged.
func TestRotateWizardAsksBeforeReplacingAStagedSecret(t *testing.T) {
	r := rotateRig(t, []string{"models:read", "chat:invoke"})
	r.ui.showRotate("billing")
	test.Type(findPasswordEntry(t, r.top()), "new-secret")
	tapButton(t, r.top(), "Stage and prove")
	tapButton(t, r.top(), "Later")
	r.closeOverlays()

	r.ui.showRotate("billing")
	d := r.top()
	if findButton(d, "Finish") == nil || findButton(d, "Stage and prove") != nil {
		t.Fatalf("reopened with a staged secret: %q; want Finish and no plain Stage and prove", allText(d))
	}
	test.Type(findPasswordEntry(t, d), "wrong-secret")
	tapButton(t, d, "Replace the staged secret…")
	confirm := r.top()
	if confirm == d || !strings.Contains(allText(confirm), "Replace the staged secret?") {
		t.Fatalf("Replace did not ask first: top overlay says %q", allText(confirm))
	}
	if next, _ := r.store.NextSecret("billing"); next != "new-secret" {
		t.Fatalf("before the answer: staged %q; want new-secret untouched", next)
	}
	tapButton(t, confirm, "Yes")
	if text := allText(r.top()); !strings.Contains(text, "the secret staged before stays staged") {
		t.Errorf("after a refused replacement: %q; want it said that the earlier one stays", text)
	}
	if next, _ := r.store.NextSecret("billing"); next != "new-secret" {
		t.Errorf("after a refused replacement: staged %q; want new-secret back", next)
	}
}

// Finish on a staged secret the server refuses discards it.
func TestRotateWizardFinishRefusedDiscards(t *testing.T) {
	r := rotateRig(t, []string{"models:read", "chat:invoke"})
	if err := rotation.New(r.store).Stage("billing", "wrong-secret"); err != nil {
		t.Fatal(err)
	}
	r.ui.showRotate("billing")
	tapButton(t, r.top(), "Finish")
	if text := allText(r.top()); !strings.Contains(text, "It was not kept") || findButton(r.top(), "Finish") != nil {
		t.Errorf("after Finish of a refused secret: %q; want it discarded and no Finish", text)
	}
	if _, err := r.store.NextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("after Finish refused: staged %v; want nothing staged", err)
	}
}

func TestRotateWizardScopeChangeNeedsConfirmation(t *testing.T) {
	r := rotateRig(t, []string{"models:read"}) // chat:invoke no longer granted
	r.ui.showRotate("billing")
	d := r.top()
	test.Type(findPasswordEntry(t, d), "new-secret")
	tapButton(t, d, "Stage and prove")
	if text := allText(d); !strings.Contains(text, "no longer granted: chat:invoke") {
		t.Fatalf("proof: %q; want the missing scope named", text)
	}
	sw := findButton(d, "Switch to the new secret")
	if sw == nil || !sw.Disabled() {
		t.Fatalf("Switch button %v; want it disabled until the change is accepted", sw)
	}
	var check *widget.Check
	walk(d, func(o fyne.CanvasObject) {
		if c, ok := o.(*widget.Check); ok && check == nil {
			check = c
		}
	})
	if check == nil {
		t.Fatal("no confirmation check box")
	}
	test.Tap(check)
	if sw.Disabled() {
		t.Fatalf("Switch still disabled after accepting")
	}
	test.Tap(sw)
	if got, _ := r.store.Secret("billing"); got != "new-secret" {
		t.Errorf("after accepting and switching: current secret %q; want new-secret", got)
	}
}

func TestRotateWizardSecretDate(t *testing.T) {
	r := rotateRig(t, nil)
	for _, tc := range []struct {
		text    string
		wantSet time.Time // zero: unchanged
		wantMsg string    // in the message when unchanged
	}{
		{"31/01/2026", time.Time{}, "e.g. 2026-01-31"},
		{t0.Add(48 * time.Hour).Format(time.DateOnly), time.Time{}, "in the future"},
		{"2025-12-20", time.Date(2025, 12, 20, 0, 0, 0, 0, time.Local), ""},
	} {
		before, _ := r.store.Get("billing")
		r.ui.showRotate("billing")
		d := r.top()
		var date *escEntry
		walk(d, func(o fyne.CanvasObject) {
			if e, ok := o.(*escEntry); ok && !e.Password && date == nil {
				date = e
			}
		})
		if date == nil {
			t.Fatal("no date entry")
		}
		test.Type(date, tc.text)
		tapButton(t, d, "Set date")
		after, _ := r.store.Get("billing")
		want := tc.wantSet
		if want.IsZero() {
			want = before.SecretSetAt
			if text := allText(d); !strings.Contains(text, tc.wantMsg) {
				t.Errorf("date %q: dialog says %q; want %q", tc.text, text, tc.wantMsg)
			}
		}
		if !after.SecretSetAt.Equal(want.UTC()) {
			t.Errorf("date %q: SecretSetAt %v; want %v", tc.text, after.SecretSetAt, want.UTC())
		}
		r.closeOverlays()
	}
}

func TestDetailsRotateButtonOpensWizard(t *testing.T) {
	r := rotateRig(t, []string{"models:read"})
	r.ui.selectClient("billing")
	btn := findButton(r.ui.details.root, "Rotate secret")
	if btn == nil {
		t.Fatal("the details pane has no Rotate secret button")
	}
	test.Tap(btn)
	if r.top() == nil || !strings.Contains(allText(r.top()), "Stage and prove") {
		t.Fatalf("Rotate secret did not open the rotation wizard")
	}
}

// The "secret created on" row must not squeeze its label into a column one
// character wide (a wrapping label beside an entry gets no width of its
// own): the dialog then grows taller than any screen and hides its buttons.
func TestRotateWizardDateRowIsCompact(t *testing.T) {
	r := rotateRig(t, []string{"models:read"})
	w := &rotateWizard{u: r.ui, name: "billing"}
	row := w.secretDateRow()
	win := test.NewTempWindow(t, row)
	win.Resize(fyne.NewSize(560, 400))
	row.Refresh()
	if got, limit := row.MinSize().Height, float32(160); got > limit {
		t.Errorf("date row min height %v; want at most %v (label squeezed into a narrow column?)", got, limit)
	}
}

// A rotation in progress (a staged secret, perhaps left by a crash) shows on
// the details' secret button, which opens the wizard on Finish and Cancel.
func TestDetailsShowRotationInProgress(t *testing.T) {
	r := rotateRig(t, []string{"models:read"})
	if err := rotation.New(r.store).Stage("billing", "new-secret"); err != nil {
		t.Fatal(err)
	}
	stored, _ := r.store.Get("billing")
	r.ui.apply([]refresher.State{{Client: stored, Phase: refresher.PhaseFresh}})
	r.ui.selectClient("billing")
	btn := findButton(r.ui.details.root, "Finish rotation")
	if btn == nil {
		t.Fatalf("details of a client with a staged secret: no Finish rotation button in\n%s", allText(r.ui.details.root))
	}
	test.Tap(btn)
	if text := allText(r.top()); !strings.Contains(text, "Finish") || !strings.Contains(text, "Cancel rotation") {
		t.Errorf("wizard on a rotation in progress: %q; want Finish and Cancel rotation", text)
	}
}

// Escape in the wizard's secret field closes the wizard (a plain entry
// would keep the key).
func TestRotateWizardEscapeFromTheSecretField(t *testing.T) {
	r := rotateRig(t, []string{"models:read"})
	r.ui.showRotate("billing")
	var e *escEntry
	walk(r.top(), func(o fyne.CanvasObject) {
		if x, ok := o.(*escEntry); ok && x.Password {
			e = x
		}
	})
	if e == nil {
		t.Fatal("the wizard has no secret field that closes on Escape")
	}
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if r.top() != nil {
		t.Error("the wizard is still shown after Escape in its secret field")
	}
}

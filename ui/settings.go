package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
)

// Preference keys (fyne Preferences, stored per app ID).
const (
	prefClipboardClear = "clipboard.clear_seconds"
	prefNotifyRotation = "notify.rotation"
	prefNotifyFailures = "notify.failures"
	prefNotifyCopy     = "notify.copy"
	prefCopyMinMinutes = "copy.minMinutes" // fetch a fresh token before copying one with less left (0: off)
	prefFailAfter      = "notify.fail_after_minutes"
	prefMarginMinutes  = "refresh.margin_minutes"
	prefSweepSeconds   = "refresh.sweep_seconds"
)

// Defaults of the settings.
const (
	defaultClipboardClear = 30 * time.Second
	defaultFailAfter      = 10 * time.Minute
	defaultMargin         = 5 * time.Minute
	defaultSweep          = 30 * time.Second
)

// settings reads the preferences with their defaults.
type settings struct{ p fyne.Preferences }

func (s settings) clipboardClear() time.Duration {
	return time.Duration(s.p.IntWithFallback(prefClipboardClear, int(defaultClipboardClear/time.Second))) * time.Second
}
func (s settings) notifyCopy() bool { return s.p.BoolWithFallback(prefNotifyCopy, true) }

// copyMinTTL is how long a copied token must stay valid at least: a cached
// token with less left is replaced by a fresh one first (0: any valid one).
func (s settings) copyMinTTL() time.Duration {
	return time.Duration(s.p.IntWithFallback(prefCopyMinMinutes, 0)) * time.Minute
}
func (s settings) notify() notifyPrefs {
	return notifyPrefs{
		rotation:  s.p.BoolWithFallback(prefNotifyRotation, true),
		failures:  s.p.BoolWithFallback(prefNotifyFailures, true),
		failAfter: time.Duration(s.p.IntWithFallback(prefFailAfter, int(defaultFailAfter/time.Minute))) * time.Minute,
	}
}
func (s settings) margin() time.Duration {
	return time.Duration(s.p.IntWithFallback(prefMarginMinutes, int(defaultMargin/time.Minute))) * time.Minute
}
func (s settings) sweep() time.Duration {
	return time.Duration(s.p.IntWithFallback(prefSweepSeconds, int(defaultSweep/time.Second))) * time.Second
}

// ApplyPreferences sets the refresher options the Settings window controls
// (refresh margin, sweep interval) from the app's preferences. main calls it
// before refresher.New; changes take effect at the next start.
func ApplyPreferences(p fyne.Preferences, o *refresher.Options) {
	s := settings{p}
	o.MarginMin = s.margin()
	o.SweepInterval = s.sweep()
}

var clearChoices = []struct {
	label string
	secs  int
}{{"10 seconds", 10}, {"30 seconds", 30}, {"1 minute", 60}, {"2 minutes", 120}, {"5 minutes", 300}, {"never", 0}}

// showSettings opens the Settings dialog.
func (u *UI) showSettings() {
	s := settings{u.app.Preferences()}
	p := u.app.Preferences()

	var labels []string
	current := ""
	for _, c := range clearChoices {
		labels = append(labels, c.label)
		if time.Duration(c.secs)*time.Second == s.clipboardClear() {
			current = c.label
		}
	}
	clearSel := widget.NewSelect(labels, func(v string) {
		for _, c := range clearChoices {
			if c.label == v {
				p.SetInt(prefClipboardClear, c.secs)
			}
		}
	})
	if current == "" {
		current = fmt.Sprintf("%d seconds", int(s.clipboardClear()/time.Second))
	}
	clearSel.PlaceHolder = current
	clearSel.Selected = current

	check := func(label, key string, on bool) *widget.Check {
		c := widget.NewCheck(label, func(v bool) { p.SetBool(key, v) })
		c.Checked = on
		return c
	}
	np := s.notify()
	number := func(key string, value int, min, max int) (*widget.Entry, *widget.Label) {
		e := widget.NewEntry()
		e.SetText(strconv.Itoa(value))
		msg := widget.NewLabel("")
		msg.Importance = widget.DangerImportance
		msg.Hide()
		e.OnChanged = func(v string) {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < min || n > max {
				msg.SetText(fmt.Sprintf("use a whole number from %d to %d", min, max))
				msg.Show()
				return
			}
			msg.Hide()
			p.SetInt(key, n)
		}
		return e, msg
	}
	failE, failMsg := number(prefFailAfter, int(np.failAfter/time.Minute), 1, 24*60)
	marginE, marginMsg := number(prefMarginMinutes, int(s.margin()/time.Minute), 1, 60)
	sweepE, sweepMsg := number(prefSweepSeconds, int(s.sweep()/time.Second), 5, 3600)
	copyE, copyMsg := number(prefCopyMinMinutes, int(s.copyMinTTL()/time.Minute), 0, 60)

	form := widget.NewForm(
		widget.NewFormItem("", u.startAtLoginCheck()),
		widget.NewFormItem("Clear clipboard after", clearSel),
		widget.NewFormItem("", widget.NewLabel("Only if it still holds the token Tokentray put there; also on quit.")),
		widget.NewFormItem("Notify", container.NewVBox(
			check("Rotation due soon and overdue", prefNotifyRotation, np.rotation),
			check("Credentials rejected, refresh failing, recovered", prefNotifyFailures, np.failures),
			check("After copying a token", prefNotifyCopy, s.notifyCopy()),
		)),
		widget.NewFormItem("Copy at least valid for (minutes)", container.NewVBox(copyE, copyMsg)),
		widget.NewFormItem("", widget.NewLabel("A cached token with less left is replaced by a fresh one before copying (0: off).")),
		widget.NewFormItem("Failing for (minutes)", container.NewVBox(failE, failMsg)),
		widget.NewFormItem("Refresh margin (minutes)", container.NewVBox(marginE, marginMsg)),
		widget.NewFormItem("Sweep interval (seconds)", container.NewVBox(sweepE, sweepMsg)),
		widget.NewFormItem("", widget.NewLabel("Margin and sweep interval take effect at the next start.")),
		widget.NewFormItem("Margin in use", widget.NewLabel(u.marginsInUse())),
	)
	d := dialog.NewCustom("Settings", "Close", form, u.win)
	d.Resize(fyne.NewSize(560, 0))
	u.showDialog(d)
}

// marginsInUse says the refresh margin the refresher actually uses per
// client (capped at half a token's life, so short-lived tokens refresh
// earlier than the setting says).
func (u *UI) marginsInUse() string {
	var parts []string
	for _, st := range u.sortedStates() {
		if st.Margin > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", st.Client.Name, st.Margin.Round(time.Second)))
		}
	}
	if len(parts) == 0 {
		return "no token yet"
	}
	return strings.Join(parts, ", ") + " before expiry"
}

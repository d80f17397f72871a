package ui

import (
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/autostart"
)

// prefAskedLogin records that the first run asked about start at login.
const prefAskedLogin = "autostart.asked"

// loginItem is start at login (package autostart); tests pass their own.
type loginItem interface {
	Status() (autostart.State, error)
	Set(on bool) (autostart.State, error)
}

// systemLogin is the real one: this program, started with --hidden.
type systemLogin struct{}

func (systemLogin) Status() (autostart.State, error) { return autostart.Status() }

func (systemLogin) Set(on bool) (autostart.State, error) {
	if !on {
		return autostart.Disable()
	}
	exe, err := autostart.Executable()
	if err != nil {
		return autostart.State{}, err
	}
	return autostart.Enable(exe)
}

func (u *UI) loginItem() loginItem {
	if u.login == nil {
		return systemLogin{}
	}
	return u.login
}

// setStartAtLogin turns start at login on or off and says how it went.
func (u *UI) setStartAtLogin(on bool) {
	st, err := u.loginItem().Set(on)
	switch {
	case err != nil:
		u.tell("Start at login", err.Error())
	case st.On:
		u.setStatus("Tokentray starts in the tray when you log in")
	default:
		u.setStatus("Tokentray no longer starts when you log in")
	}
}

// startAtLoginCheck is the Settings switch.
func (u *UI) startAtLoginCheck() *widget.Check {
	c := widget.NewCheck("Start Tokentray when I log in", u.setStartAtLogin)
	if st, err := u.loginItem().Status(); err == nil {
		c.Checked = st.On
	}
	return c
}

// offerStartAtLogin asks once, on the first real run, whether Tokentray
// should start at login (a tray app that does not run warns nobody).
func (u *UI) offerStartAtLogin() {
	p := u.app.Preferences()
	if p.Bool(prefAskedLogin) {
		return
	}
	if st, err := u.loginItem().Status(); err == nil && st.On {
		p.SetBool(prefAskedLogin, true)
		return
	}
	p.SetBool(prefAskedLogin, true) // asked once, however the dialog closes (Escape too)
	u.showDialog(dialog.NewConfirm("Start Tokentray when you log in?",
		"Tokentray refreshes tokens and warns about expiring secrets only while it runs.\n"+
			"Start it in the tray (no window) when you log in? Settings can change this later.",
		func(yes bool) {
			if yes {
				u.setStartAtLogin(true)
			}
		}, u.win))
}

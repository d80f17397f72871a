package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tokentray/tokentray/assets"
	"github.com/tokentray/tokentray/refresher"
)

// trayState is the tray as last installed: the menu is rebuilt only when
// its signature (status line, icon, entries) changes, never on a countdown
// tick.
type trayState struct {
	host      trayHost // nil when the driver has no tray (tests, mobile)
	menu      *fyne.Menu
	icon      fyne.Resource
	sig       string
	refreshes int // how often the menu was rebuilt (tests)
}

// trayHost shows the tray icon and menu: Fyne's desktop.App, or the UI's
// own StatusNotifierItem where the driver loop parks (tray_unix.go).
type trayHost interface {
	SetSystemTrayIcon(icon fyne.Resource)
	SetSystemTrayMenu(menu *fyne.Menu)
}

// trayIcon picks the tray icon for an overall severity.
func trayIcon(s severity) fyne.Resource {
	switch s {
	case sevError:
		return assets.TrayError
	case sevWarn:
		return assets.TrayWarn
	}
	return assets.TrayOK
}

// trayLabel is the tray entry of one client: its state and, while its
// token is valid, the time left in whole minutes (the menu is rebuilt when
// the text changes, at most once a minute, never on a countdown tick).
func trayLabel(st refresher.State, now time.Time) string {
	l := "Copy token: " + st.Client.Name
	switch {
	case st.Phase == refresher.PhaseRejected && validUntil(st, now).IsZero():
		return l + " (rejected)"
	case st.Phase == refresher.PhaseExpired || (!st.Expiry.IsZero() && !now.Before(st.Expiry)):
		return l + " (expired)"
	case st.Expiry.IsZero():
		return l
	}
	left := fmt.Sprintf("%d min left", int(st.Expiry.Sub(now)/time.Minute))
	if st.Expiry.Sub(now) < time.Minute {
		left = "< 1 min left"
	}
	switch {
	case st.Phase == refresher.PhaseRejected:
		left += ", rejected"
	case st.Err != nil:
		left += ", failing"
	}
	return l + " (" + left + ")"
}

// buildTrayMenu returns the tray menu for the current states and the
// signature that decides whether it changed.
func (u *UI) buildTrayMenu() (*fyne.Menu, fyne.Resource, string) {
	names := make([]string, 0, len(u.states))
	all := make([]refresher.State, 0, len(u.states))
	for name, st := range u.states {
		names = append(names, name)
		all = append(all, st)
	}
	slices.Sort(names)
	sev, line := overall(all, u.time.Now())
	u.overall = fmt.Sprintf("%s · %s", plural(len(all), "client"), line)
	if strings.Contains(line, "client") {
		u.overall = line
	}
	u.showOverall()
	var items []*fyne.MenuItem
	var sig strings.Builder
	fmt.Fprintf(&sig, "%d|%s", sev, u.overall)
	for i, name := range names {
		st := u.states[name]
		if i == maxTrayClients {
			items = append(items, fyne.NewMenuItem(fmt.Sprintf("More… (%d clients)", len(all)), u.showWindow))
			sig.WriteString("|more")
			break
		}
		label := trayLabel(st, u.time.Now())
		sig.WriteString("|" + label)
		items = append(items, fyne.NewMenuItem(label, func() { u.copyToken(name, false) }))
	}
	if len(all) > 0 {
		items = append(items, fyne.NewMenuItemSeparator())
	}
	if len(all) > 0 {
		var headers []*fyne.MenuItem
		for i, name := range names {
			if i == maxTrayClients {
				break
			}
			headers = append(headers, fyne.NewMenuItem(name, func() { u.copyToken(name, true) }))
		}
		header := fyne.NewMenuItem("Copy as header", nil)
		header.ChildMenu = fyne.NewMenu("", headers...)
		items = append(items, header,
			fyne.NewMenuItem("Refresh all", u.refreshEvery),
			fyne.NewMenuItem("Rotation overview…", func() { u.showWindow(); u.showRotation() }),
			fyne.NewMenuItemSeparator())
	}
	status := fyne.NewMenuItem(u.overall, u.showWindow)
	items = append(items, status, fyne.NewMenuItem("Show window", u.showWindow), fyne.NewMenuItemSeparator())
	quit := fyne.NewMenuItem("Quit", u.Quit)
	quit.IsQuit = true
	items = append(items, quit)
	return fyne.NewMenu("Tokentray", items...), trayIcon(sev), sig.String()
}

// updateTray rebuilds the tray menu and icon if they changed.
func (u *UI) updateTray() {
	menu, icon, sig := u.buildTrayMenu()
	if sig == u.tray.sig {
		return
	}
	u.tray.sig = sig
	u.tray.refreshes++
	if u.tray.menu == nil {
		u.tray.menu = menu
	} else {
		u.tray.menu.Items = menu.Items
	}
	if u.tray.host == nil {
		return
	}
	if icon != u.tray.icon {
		u.tray.icon = icon
		u.tray.host.SetSystemTrayIcon(icon)
	}
	u.tray.host.SetSystemTrayMenu(u.tray.menu)
}

// refreshEvery fetches a new token for every client (the tray's Refresh
// all), one after the other off the UI thread, and says how it went.
func (u *UI) refreshEvery() {
	if u.refresher == nil {
		return
	}
	names := make([]string, 0, len(u.states))
	for name := range u.states {
		names = append(names, name)
	}
	slices.Sort(names)
	u.setStatus("Refreshing every client…")
	u.async(func() {
		var failed []string
		for _, name := range names {
			if _, err := u.refresher.Refresh(u.ctx, name); err != nil {
				failed = append(failed, name)
			}
		}
		uiDo(func() {
			if len(failed) == 0 {
				u.setStatus(fmt.Sprintf("Refreshed %s", plural(len(names), "client")))
				return
			}
			u.tell("Refresh all", fmt.Sprintf("Refreshed %d of %d; failing: %s (see each client's details).", len(names)-len(failed), len(names), strings.Join(failed, ", ")))
		})
	})
}

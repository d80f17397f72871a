//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/systray"
)

// trayParks says whether the driver loop may park while the window is
// hidden (park.go): here the tray is a StatusNotifierItem served on D-Bus
// from goroutines, so it answers while the loop sleeps.
const trayParks = true

// sniTray is the tray icon and menu as a StatusNotifierItem with a
// com.canonical.dbusmenu menu (package fyne.io/systray, the one Fyne uses),
// installed by the UI itself rather than through Fyne's desktop.App: Fyne
// runs every menu click on its driver loop, which is parked while the
// window is hidden; here a click hands the item's action to do (uiDo),
// which wakes the loop.
type sniTray struct {
	title string
	onTap func()       // a click on the icon itself (from a D-Bus goroutine)
	do    func(func()) // runs an action on the UI thread
	// started is set once the item is on the bus (first menu).
	started bool
}

// newTrayHost returns the tray of the window w, which a click on the icon
// shows through show; do runs menu actions on the UI thread.
func newTrayHost(_ fyne.App, _ fyne.Window, title string, show func(), do func(func())) trayHost {
	return &sniTray{title: title, onTap: show, do: do}
}

// SetSystemTrayIcon sets the icon (PNG) shown in the tray.
func (t *sniTray) SetSystemTrayIcon(icon fyne.Resource) {
	systray.SetIcon(icon.Content())
}

// SetSystemTrayMenu replaces the tray's menu, putting the item on the bus
// the first time. Call it on the UI thread.
func (t *sniTray) SetSystemTrayMenu(m *fyne.Menu) {
	if !t.started {
		t.started = true
		systray.SetOnTapped(t.onTap) // before start: it decides ItemIsMenu
		start, _ := systray.RunWithExternalLoop(nil, nil)
		start()
		// Some StatusNotifierHosts crash on an item without a title (Fyne #3678).
		systray.SetTitle(t.title)
	}
	systray.ResetMenu() // closes the old items' ClickedCh: their readers end
	t.add(m.Items, nil)
}

// add puts items on the menu (parent nil) or on parent's submenu.
func (t *sniTray) add(items []*fyne.MenuItem, parent *systray.MenuItem) {
	for _, i := range items {
		if i.IsSeparator {
			if parent == nil {
				systray.AddSeparator()
			} else {
				parent.AddSeparator()
			}
			continue
		}
		var item *systray.MenuItem
		switch {
		case parent == nil && i.Checked:
			item = systray.AddMenuItemCheckbox(i.Label, "", true)
		case parent == nil:
			item = systray.AddMenuItem(i.Label, "")
		case i.Checked:
			item = parent.AddSubMenuItemCheckbox(i.Label, "", true)
		default:
			item = parent.AddSubMenuItem(i.Label, "")
		}
		if i.Disabled {
			item.Disable()
		}
		if i.ChildMenu != nil {
			t.add(i.ChildMenu.Items, item)
		}
		if act := i.Action; act != nil {
			go func() {
				for range item.ClickedCh {
					t.do(act)
				}
			}()
		}
	}
}

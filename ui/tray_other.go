//go:build !(linux || freebsd || openbsd || netbsd)

package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// trayParks says whether the driver loop may park while the window is
// hidden (park.go): on macOS and Windows the tray's menu is served by the
// main thread's event loop, which Fyne's driver loop pumps, so it may not.
const trayParks = false

// newTrayHost returns Fyne's own tray for the window w (a click on the icon
// shows it).
func newTrayHost(a fyne.App, w fyne.Window, _ string, _ func(), _ func(func())) trayHost {
	desk := a.(desktop.App)
	desk.SetSystemTrayWindow(w)
	return desk
}

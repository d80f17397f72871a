// Package assets embeds Tokentray's icons: the 512x512 app icon and the PNG
// tray icons whose look tells the overall state (the Linux tray shows nothing
// for an SVG).
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

var (
	//go:embed icon.png
	iconPNG []byte
	//go:embed tray-ok.png
	trayOKPNG []byte
	//go:embed tray-warn.png
	trayWarnPNG []byte
	//go:embed tray-error.png
	trayErrorPNG []byte
)

// Icons as Fyne resources.
var (
	// AppIcon is the application icon (window, notifications, package).
	AppIcon = fyne.NewStaticResource("tokentray.png", iconPNG)
	// TrayOK shows that every token is fresh and no rotation is due.
	TrayOK = fyne.NewStaticResource("tray-ok.png", trayOKPNG)
	// TrayWarn shows that a rotation is due soon or a refresh is failing
	// while the last good token is still valid.
	TrayWarn = fyne.NewStaticResource("tray-warn.png", trayWarnPNG)
	// TrayError shows credentials rejected, an expired token or an overdue
	// rotation.
	TrayError = fyne.NewStaticResource("tray-error.png", trayErrorPNG)
)

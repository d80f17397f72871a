//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"fmt"
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"

	"github.com/tokentray/tokentray/assets"
)

// TestSNITrayOnTheBus installs the UI's own tray on the session bus (the
// real fyne.io/systray StatusNotifierItem and dbusmenu) and drives it as a
// tray host does: the menu's labels and submenu as built, a click on an
// item and on the icon reach the UI's do, and a new menu replaces the old.
func TestSNITrayOnTheBus(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("TOKENTRAY_REQUIRE_KEYRING") != "" {
			t.Fatal("no D-Bus session bus")
		}
		t.Skip("no D-Bus session bus")
	}
	clicks := make(chan string, 8)
	do := func(f func()) { f() } // the action itself reports, from the click's goroutine
	host := newTrayHost(nil, nil, "Tokentray test", func() { clicks <- "icon" }, do)
	host.SetSystemTrayIcon(assets.TrayOK)
	header := fyne.NewMenuItem("Copy as header", nil)
	header.ChildMenu = fyne.NewMenu("", fyne.NewMenuItem("billing", func() { clicks <- "header billing" }))
	host.SetSystemTrayMenu(fyne.NewMenu("Tokentray",
		fyne.NewMenuItem("Copy token: billing (59 min left)", func() { clicks <- "copy billing" }),
		fyne.NewMenuItemSeparator(), header,
		fyne.NewMenuItem("Quit", func() { clicks <- "quit" })))

	conn, err := dbus.ConnectSessionBus() // a connection of its own: authenticated, Hello sent
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	name := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", os.Getpid())
	menu := conn.Object(name, "/StatusNotifierMenu")
	layout := func() map[string]int32 {
		t.Helper()
		var rev uint32
		var root struct {
			V0 int32
			V1 map[string]dbus.Variant
			V2 []dbus.Variant
		}
		if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
			t.Fatalf("GetLayout: %v", err)
		}
		ids := map[string]int32{}
		var walk func(children []dbus.Variant, prefix string)
		walk = func(children []dbus.Variant, prefix string) {
			for _, c := range children {
				v, ok := c.Value().([]any)
				if !ok || len(v) != 3 {
					t.Fatalf("menu item %v: not (id, props, children)", c)
				}
				props, _ := v[1].(map[string]dbus.Variant)
				label, _ := props["label"].Value().(string)
				if typ, _ := props["type"].Value().(string); typ == "separator" {
					label = "---"
				}
				ids[prefix+label] = v[0].(int32)
				kids, _ := v[2].([]dbus.Variant)
				walk(kids, prefix+label+" > ")
			}
		}
		walk(root.V2, "")
		return ids
	}
	ids := layout()
	for _, want := range []string{"Copy token: billing (59 min left)", "---", "Copy as header", "Copy as header > billing", "Quit"} {
		if _, ok := ids[want]; !ok {
			t.Fatalf("menu on the bus lacks %q: %v", want, ids)
		}
	}
	click := func(id int32) {
		t.Helper()
		if err := menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
			t.Fatalf("Event clicked: %v", err)
		}
	}
	want := func(s string) {
		t.Helper()
		select {
		case got := <-clicks:
			if got != s {
				t.Fatalf("click ran %q, want %q", got, s)
			}
		case <-time.After(10 * time.Second): // a hang detector
			t.Fatalf("click on %q never reached the UI", s)
		}
	}
	click(ids["Copy token: billing (59 min left)"])
	want("copy billing")
	click(ids["Copy as header > billing"])
	want("header billing")
	if err := conn.Object(name, "/StatusNotifierItem").Call("org.kde.StatusNotifierItem.Activate", 0, int32(0), int32(0)).Err; err != nil {
		t.Fatalf("Activate: %v", err)
	}
	want("icon")

	// A new menu replaces the old one; the old items are gone.
	host.SetSystemTrayMenu(fyne.NewMenu("Tokentray", fyne.NewMenuItem("Copy token: billing (58 min left)", func() { clicks <- "copy billing 2" })))
	ids = layout()
	if _, ok := ids["Copy token: billing (59 min left)"]; ok || len(ids) != 1 {
		t.Fatalf("menu after replace = %v, want only the new entry", ids)
	}
	click(ids["Copy token: billing (58 min left)"])
	want("copy billing 2")
}

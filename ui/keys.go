package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Keyboard shortcuts of the window. They sit on the main menu's items,
// where the menus show them and where the desktop driver looks first, so a
// focused entry (the filter) does not swallow them; the same shortcuts are
// on the canvas for drivers without a main menu.
var (
	keyCopy     = &desktop.CustomShortcut{KeyName: fyne.KeyC, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	keyHeader   = &desktop.CustomShortcut{KeyName: fyne.KeyH, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	keyRefresh  = &desktop.CustomShortcut{KeyName: fyne.KeyR, Modifier: fyne.KeyModifierShortcutDefault}
	keyRotate   = &desktop.CustomShortcut{KeyName: fyne.KeyR, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	keyEdit     = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}
	keyFilter   = &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}
	keyAdd      = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	keyOverview = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	keySettings = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}
	keyHide     = &desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault}
	keyQuit     = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
)

// menuItem is a main-menu item with a shortcut, also installed on the
// window's canvas.
func (u *UI) menuItem(label string, key *desktop.CustomShortcut, f func()) *fyne.MenuItem {
	item := fyne.NewMenuItem(label, f)
	if key != nil {
		item.Shortcut = key
		u.win.Canvas().AddShortcut(key, func(fyne.Shortcut) { f() })
	}
	return item
}

// escEntry is an entry on which Escape calls onEscape (a focused entry
// otherwise takes Escape, and the window never sees it).
type escEntry struct {
	widget.Entry
	onEscape func()
}

func newEscEntry(password bool, onEscape func()) *escEntry {
	e := &escEntry{onEscape: onEscape}
	e.Password = password
	e.Wrapping = fyne.TextWrapOff
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey handles Escape, and passes every other key to the entry.
func (e *escEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

// showDialog shows d over the window; Escape closes the top one.
func (u *UI) showDialog(d dialog.Dialog) {
	u.dialogs = append(u.dialogs, d)
	d.SetOnClosed(func() {
		if i := slices.Index(u.dialogs, d); i >= 0 {
			u.dialogs = slices.Delete(u.dialogs, i, i+1)
		}
	})
	d.Show()
}

// onEscape closes the dialog on top, else clears the filter.
func (u *UI) onEscape() {
	if n := len(u.dialogs); n > 0 {
		u.dialogs[n-1].Hide()
		return
	}
	if u.search.Text != "" {
		u.search.SetText("")
	}
	u.win.Canvas().Focus(u.list)
}

// escapeCloses makes Escape close a window of its own (when no entry has
// the focus, or an escEntry has).
func escapeCloses(w fyne.Window) {
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			w.Close()
		}
	})
}

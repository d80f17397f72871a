package ui

import (
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// build creates the window and its widgets (not shown yet).
func (u *UI) build() {
	u.win = u.app.NewWindow(u.opts.Title)
	u.win.SetIcon(u.appIcon())
	u.win.SetCloseIntercept(u.hideWindow)

	search := newEscEntry(false, u.onEscape)
	u.search = search
	search.SetPlaceHolder("Filter by name, client id, scope, environment…")
	search.ActionItem = widget.NewIcon(theme.SearchIcon())
	search.OnChanged = u.onFilter
	sortSel := widget.NewSelect(sortModes, u.onSort)
	sortSel.Selected = u.sortMode

	add := &widget.Button{Text: "Add client", Icon: theme.ContentAddIcon(), Importance: widget.HighImportance, OnTapped: func() { u.showForm(nil) }}
	rotation := &widget.Button{Text: "Rotation", Icon: theme.HistoryIcon(), OnTapped: u.showRotation}
	settingsBtn := &widget.Button{Icon: theme.SettingsIcon(), OnTapped: u.showSettings}
	sortBox := container.NewHBox(widget.NewLabel("Sort"), sortSel)
	top := container.NewBorder(nil, nil, nil, container.NewHBox(sortBox, add, rotation, settingsBtn), search)

	u.list = &widget.List{
		Length:     func() int { return len(u.view) },
		CreateItem: u.newRow,
		UpdateItem: func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(u.view) {
				u.rows[o].bind(u.view[id], u.time.Now())
			}
		},
		OnSelected: func(id widget.ListItemID) {
			if id < len(u.view) {
				u.selectClient(u.view[id].Client.Name)
			}
			// Keep the focus where the keyboard user is (the details'
			// rebuild must not drop it): Tab goes on to Copy token.
			if c := u.win.Canvas(); c.Focused() == nil {
				c.Focus(u.list)
			}
		},
	}
	u.list.ExtendBaseWidget(u.list)

	u.details = newDetailsPane(u)
	emptyTitle := widget.NewLabelWithStyle("No clients yet", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	emptyTitle.SizeName = theme.SizeNameSubHeadingText
	u.empty = container.NewCenter(container.NewVBox(
		emptyTitle,
		widget.NewLabelWithStyle("Add a client-credentials client: its secret goes to the OS keyring,\nand Tokentray keeps its access token fresh.", fyne.TextAlignCenter, fyne.TextStyle{}),
		container.NewCenter(&widget.Button{Text: "Add client", Icon: theme.ContentAddIcon(), Importance: widget.HighImportance, OnTapped: func() { u.showForm(nil) }}),
		widget.NewLabelWithStyle("Or try it first: tokentray demo", fyne.TextAlignCenter, fyne.TextStyle{Italic: true}),
	))
	u.empty.Hide()

	split := container.NewHSplit(container.NewBorder(listLegend(), nil, nil, nil, container.NewStack(u.list, u.empty)), u.details.root)
	split.Offset = 0.46
	u.status = widget.NewLabel("")
	u.status.Truncation = fyne.TextTruncateEllipsis
	u.status.SizeName = theme.SizeNameCaptionText
	u.win.SetContent(container.NewBorder(
		container.NewVBox(container.NewPadded(top), widget.NewSeparator()),
		container.NewVBox(widget.NewSeparator(), u.status),
		nil, nil, split))
	u.win.Resize(fyne.NewSize(1080, 680))
	u.win.CenterOnScreen()

	u.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			u.onEscape()
		}
	})
	u.win.SetMainMenu(u.mainMenu())
}

// mainMenu is the window's menu bar.
func (u *UI) mainMenu() *fyne.MainMenu {
	quit := u.menuItem("Quit", keyQuit, u.Quit)
	quit.IsQuit = true
	sel := func(f func(string)) func() { return func() { u.withSelected(f) } }
	file := fyne.NewMenu("File",
		u.menuItem("Add client…", keyAdd, func() { u.showForm(nil) }),
		u.menuItem("Filter clients", keyFilter, func() { u.win.Canvas().Focus(u.search) }),
		u.menuItem("Rotation overview…", keyOverview, u.showRotation),
		fyne.NewMenuItem("Recent token requests…", u.showRecent),
		u.menuItem("Settings…", keySettings, u.showSettings),
		fyne.NewMenuItemSeparator(),
		u.menuItem("Hide window", keyHide, u.hideWindow),
		quit,
	)
	client := fyne.NewMenu("Client",
		u.menuItem("Copy token", keyCopy, sel(func(n string) { u.copyToken(n, false) })),
		u.menuItem("Copy as header", keyHeader, sel(func(n string) { u.copyToken(n, true) })),
		u.menuItem("Refresh now", keyRefresh, sel(u.refreshNow)),
		fyne.NewMenuItemSeparator(),
		u.menuItem("Rotate secret…", keyRotate, sel(u.showRotate)),
		u.menuItem("Edit…", keyEdit, sel(u.editClient)),
		u.menuItem("Remove…", nil, sel(u.confirmRemove)),
	)
	menus := []*fyne.Menu{file, client}
	if u.opts.Demo != nil {
		u.demoActs = u.opts.Demo.Actions()
		u.demoItems = nil
		for _, a := range u.demoActs {
			item := fyne.NewMenuItem(a.Label, func() { u.runDemo(a) })
			item.Checked = a.Active != nil && a.Active()
			u.demoItems = append(u.demoItems, item)
		}
		items := u.demoItems
		if s, ok := u.opts.Demo.(DemoSampler); ok {
			items = append(items[:len(items):len(items)], fyne.NewMenuItemSeparator(),
				fyne.NewMenuItem("Sample client to practise Add client…", func() { u.showDemoSample(s) }))
		}
		menus = append(menus, fyne.NewMenu("Demo", items...))
	}
	return fyne.NewMainMenu(menus...)
}

// runDemo runs a demo action off the UI thread and says how it went.
func (u *UI) runDemo(a DemoAction) {
	u.async(func() {
		err := a.Do()
		uiDo(func() {
			if err != nil {
				u.tell("Demo", a.Label+" failed: "+err.Error())
				return
			}
			msg := "Demo: " + a.Label
			switch {
			case a.Active == nil:
			case a.Active():
				msg += ": on"
			default:
				msg += ": off"
			}
			u.setStatus(msg)
			u.checkDemoMenu()
			u.reload() // an action may change the store (a staged secret)
		})
	})
}

// checkDemoMenu puts a check mark on the Demo menu's toggles that are on
// (one action may switch others: Clear all trouble).
func (u *UI) checkDemoMenu() {
	if len(u.demoItems) == 0 {
		return
	}
	for i, a := range u.demoActs {
		u.demoItems[i].Checked = a.Active != nil && a.Active()
	}
	if m := u.win.MainMenu(); m != nil {
		m.Refresh()
	}
}

// withSelected calls f with the selected client, or says to select one.
func (u *UI) withSelected(f func(name string)) {
	if u.selected == "" {
		u.setStatus("Select a client first")
		return
	}
	f(u.selected)
}

func (u *UI) onFilter(s string) {
	u.filter = s
	u.rebuildView()
}

func (u *UI) onSort(s string) {
	u.sortMode = s
	u.rebuildView()
}

// rebuildView filters and sorts the states into what the list shows and
// keeps the selection on the same client.
func (u *UI) rebuildView() {
	view := u.view[:0]
	for _, st := range u.states {
		if matches(st, u.filter) {
			view = append(view, st)
		}
	}
	sortStates(view, u.sortMode, u.time.Now())
	u.view = view
	if len(u.states) == 0 {
		u.empty.Show()
		u.list.Hide()
	} else {
		u.empty.Hide()
		u.list.Show()
	}
	u.list.Refresh()
	sel := -1
	for i, st := range u.view {
		if st.Client.Name == u.selected {
			sel = i
			break
		}
	}
	if sel >= 0 {
		u.list.Select(sel)
	} else {
		u.list.UnselectAll()
		if u.selected != "" {
			// Filtered out: the details must not show a client the list hides.
			u.selected = ""
			u.details.clear()
		}
	}
}

// reveal shows the window with the client called name selected (the
// filter is cleared when it hides that client).
func (u *UI) reveal(name string) {
	u.showWindow()
	if _, ok := u.states[name]; !ok {
		return
	}
	if !slices.ContainsFunc(u.view, func(st refresher.State) bool { return st.Client.Name == name }) {
		u.search.SetText("")
		u.onFilter("")
	}
	for i, st := range u.view {
		if st.Client.Name == name {
			u.list.Select(i)
			u.list.ScrollTo(i)
			break
		}
	}
}

// selectClient shows a client's details.
func (u *UI) selectClient(name string) {
	if name == u.selected {
		return
	}
	u.selected = name
	if st, ok := u.states[name]; ok {
		u.details.show(st)
	}
}

// clientRow is one line of the client list.
type clientRow struct {
	name      string // client bound to the row
	dot       *canvas.Circle
	title     *widget.Label
	env       *badge
	scopes    *widget.RichText
	countdown *canvas.Text
	rotation  *badge
	box       *fyne.Container // both lines, laid out again when their texts change
	shown     string          // name, environment and rotation badge the lines were laid out for
	lastSev   severity
}

func (u *UI) newRow() fyne.CanvasObject {
	r := &clientRow{
		dot:       canvas.NewCircle(theme.Color(theme.ColorNameSuccess)),
		title:     &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis},
		env:       newBadge(),
		scopes:    dimText("", theme.SizeNameCaptionText),
		countdown: canvas.NewText("", theme.Color(theme.ColorNameForeground)),
		rotation:  newBadge(),
	}
	r.countdown.TextStyle = fyne.TextStyle{Monospace: true, Bold: true}
	r.countdown.Alignment = fyne.TextAlignTrailing
	dot := container.New(layout.NewCustomPaddedLayout(0, 0, 4, 0), container.NewCenter(container.NewGridWrap(fyne.NewSize(10, 10), r.dot)))
	// Line 1: the name (shortened first), its environment, the countdown;
	// line 2: the scopes (shortened) and the rotation badge. Nothing
	// overlaps however narrow the list gets.
	cd := container.NewGridWrap(fyne.NewSize(96, 22), r.countdown)
	line1 := container.NewBorder(nil, nil, nil, container.NewCenter(cd), container.New(titleLayout{}, r.title, container.NewCenter(r.env)))
	line2 := container.NewBorder(nil, nil, nil, container.NewCenter(r.rotation), r.scopes)
	r.box = container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()*2), line1, line2)
	// Room on the right for the list's scroll bar.
	obj := container.NewBorder(nil, nil, dot, nil, container.New(layout.NewCustomPaddedLayout(0, 0, 0, 2*theme.Padding()), r.box))
	u.rows[obj] = r
	return obj
}

// titleLayout places a truncating label and a badge right after it: the
// label gets the width its text needs, or what is left beside the badge.
type titleLayout struct{}

func (titleLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l, b := objs[0].(*widget.Label), objs[1]
	bw := float32(0)
	if b.Visible() {
		bw = b.MinSize().Width
	}
	whole := &widget.Label{Text: l.Text, TextStyle: l.TextStyle, SizeName: l.SizeName} // not truncated
	need := whole.MinSize().Width + 2                                                  // the ellipsis kicks in at the exact width
	lw := min(need, max(size.Width-bw, 0))
	h := l.MinSize().Height
	l.Resize(fyne.NewSize(lw, h))
	l.Move(fyne.NewPos(0, (size.Height-h)/2))
	b.Resize(fyne.NewSize(bw, b.MinSize().Height))
	b.Move(fyne.NewPos(lw, (size.Height-b.MinSize().Height)/2))
}

func (titleLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := max(objs[0].MinSize().Height, objs[1].MinSize().Height)
	return fyne.NewSize(objs[0].MinSize().Width, h)
}

// bind shows st in the row.
func (r *clientRow) bind(st refresher.State, now time.Time) {
	c := st.Client
	r.name = c.Name
	r.title.Text = c.Name
	env := c.Environment()
	if env == vault.EnvUnknown {
		r.env.Hide()
	} else {
		r.env.set(string(env), envColor(env))
		r.env.Show()
	}
	setDim(r.scopes, teamText(c)+scopesText(c.Scopes))
	rot := rotationAt(st, now)
	if c.RotationStartedAt.IsZero() {
		r.rotation.set(rotationBadge(rot), sevColor(rotationSeverity(rot)))
	} else {
		r.rotation.set("rotation in progress", sevColor(sevWarn))
	}
	if shown := c.Name + "|" + string(env) + "|" + r.rotation.Text(); shown != r.shown {
		r.shown = shown
		r.box.Refresh() // the widths changed: lay both lines out again
	}
	r.lastSev = -1
	r.tick(st, now)
}

// tick updates the countdown (once a second while shown).
func (r *clientRow) tick(st refresher.State, now time.Time) {
	text := countdown(st, now)
	if r.countdown.Text != text {
		r.countdown.Text = text
		r.countdown.Refresh()
	}
	if sev := tokenSeverity(st, now); sev != r.lastSev {
		r.lastSev = sev
		r.dot.FillColor = sevColor(sev)
		r.dot.Refresh()
		fg := theme.Color(theme.ColorNameForeground)
		if sev == sevError || sev == sevWarn {
			fg = sevColor(sev)
		}
		r.countdown.Color = fg
		r.countdown.Refresh()
	}
}

// listLegend explains the list's status dots and its countdown column.
func listLegend() fyne.CanvasObject {
	dot := func(sev severity, label string) fyne.CanvasObject {
		c := canvas.NewCircle(sevColor(sev))
		l := dimText(label, theme.SizeNameCaptionText)
		l.Truncation = fyne.TextTruncateOff
		return container.NewHBox(container.NewCenter(container.NewGridWrap(fyne.NewSize(8, 8), c)), l)
	}
	right := dimText("right: time left on the token", theme.SizeNameCaptionText)
	right.Truncation = fyne.TextTruncateEllipsis
	// Narrow enough for the list's side of an 800-pixel window.
	return container.New(layout.NewCustomPaddedVBoxLayout(0),
		container.NewHBox(dot(sevOK, "fresh"), dot(sevWarn, "due or failing"), dot(sevError, "expired or rejected")),
		right)
}

// badge is a small rounded label with a tinted background.
type badge struct {
	widget.BaseWidget
	bg  *canvas.Rectangle
	txt *canvas.Text
}

func newBadge() *badge {
	b := &badge{bg: canvas.NewRectangle(color.Transparent), txt: canvas.NewText("", theme.Color(theme.ColorNameForeground))}
	b.bg.CornerRadius = 9
	b.txt.TextSize = theme.CaptionTextSize()
	b.txt.TextStyle = fyne.TextStyle{Bold: true}
	b.ExtendBaseWidget(b)
	return b
}

func (b *badge) set(text string, c color.Color) {
	if b.txt.Text == text && b.txt.Color == c {
		return
	}
	b.txt.Text = text
	b.txt.Color = c
	b.bg.FillColor = tint(c, 0x30)
	b.Refresh()
}

// Text returns the badge's text.
func (b *badge) Text() string { return b.txt.Text }

func (b *badge) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(b.bg, container.New(layout.NewCustomPaddedLayout(2, 2, 8, 8), b.txt)))
}

func tint(c color.Color, alpha uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: alpha}
}

// sevColor is the theme colour of a severity.
func sevColor(s severity) color.Color {
	switch s {
	case sevError:
		return theme.Color(theme.ColorNameError)
	case sevWarn:
		return theme.Color(theme.ColorNameWarning)
	case sevInfo:
		return theme.Color(theme.ColorNameDisabled)
	}
	return theme.Color(theme.ColorNameSuccess)
}

func envColor(e vault.Environment) color.Color {
	if e == vault.EnvLive {
		return color.NRGBA{R: 0xd8, G: 0x3b, B: 0x8a, A: 0xff}
	}
	return theme.Color(theme.ColorNamePrimary)
}

// showInfo shows a short message in a dialog over w.
func showInfo(title, msg string, w fyne.Window) { infoDialog(title, msg, w).Show() }

// infoDialog is a short message with OK.
func infoDialog(title, msg string, w fyne.Window) dialog.Dialog {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom(title, "OK", l, w)
	d.Resize(fyne.NewSize(460, 0))
	return d
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// setText sets a label's text, skipping the costly refresh when unchanged.
func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}

// dimText is secondary text: the theme's placeholder colour, truncated
// with an ellipsis when it does not fit.
func dimText(s string, size fyne.ThemeSizeName) *widget.RichText {
	rt := widget.NewRichText(&widget.TextSegment{Text: s, Style: widget.RichTextStyle{
		ColorName: theme.ColorNamePlaceHolder, SizeName: size, Inline: true,
	}})
	rt.Truncation = fyne.TextTruncateEllipsis
	return rt
}

// setDim changes the text of a dimText.
func setDim(rt *widget.RichText, s string) {
	seg := rt.Segments[0].(*widget.TextSegment)
	if seg.Text != s {
		seg.Text = s
		rt.Refresh()
	}
}

// teamText is the "team" badge and source name shown before a team
// client's scopes ("team acme · "), or "" for a local client; a broken team
// entry says so.
func teamText(c vault.Client) string {
	switch {
	case c.Source == "":
		return ""
	case c.Problem != "":
		return "team " + c.Source + " · broken: " + c.Problem + " · "
	}
	return "team " + c.Source + " · "
}

// scopesText is the list's one-line scope summary.
func scopesText(scopes []string) string {
	if len(scopes) == 0 {
		return "no scopes requested"
	}
	return strings.Join(scopes, "  ")
}

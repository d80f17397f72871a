package ui

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/catalog"
	"github.com/tokentray/tokentray/jwtinfo"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// detailsPane shows the selected client: its token, scopes, claims, last
// error and rotation, with the actions.
type detailsPane struct {
	u       *UI
	root    *fyne.Container // head pinned above the scrolling sections
	head    *fyne.Container
	scroll  *container.Scroll
	hint    *fyne.Container // "select a client", shown instead of scroll
	box     *fyne.Container
	expires *widget.Label // countdown line, ticked
	claims  *fyne.Container
	// claimsFor is the fingerprint whose claims are shown or being loaded.
	claimsFor  string
	lastClaims []string // claim rows of claimsFor, once loaded
	lastNote   string
	name       string
	shown      refresher.State // the state on screen, to skip redrawing an unchanged one
	shownRot   string          // and its rotation badge (which moves with the date)
	copyBtn    *widget.Button  // Copy token, for the "Copied" feedback
	headerBtn  *widget.Button  // Copy as header
	// retryAt is the retry time the Last error section names; the section
	// is redrawn without it once it is past.
	retryAt time.Time
}

// copied shows on the copy button that the copy worked, for 2 seconds.
func (d *detailsPane) copied(name string, header bool) {
	b, text := d.copyBtn, "Copy token"
	if header {
		b, text = d.headerBtn, "Copy as header"
	}
	if d.name != name || b == nil {
		return
	}
	b.SetIcon(theme.ConfirmIcon())
	b.SetText("Copied")
	d.u.time.AfterFunc(2*time.Second, func() {
		d.u.do(func() {
			b.SetIcon(theme.ContentCopyIcon())
			b.SetText(text)
		})
	})
}

func newDetailsPane(u *UI) *detailsPane {
	d := &detailsPane{u: u, box: container.NewVBox(), head: container.NewVBox()}
	d.scroll = container.NewVScroll(container.NewPadded(d.box))
	d.hint = container.NewCenter(widget.NewLabelWithStyle("Select a client to see its token, scopes and rotation.", fyne.TextAlignCenter, fyne.TextStyle{Italic: true}))
	// The head (with the actions) comes first in the tree, so that Tab from
	// the list reaches Copy token before the selectable values below.
	head := container.NewPadded(d.head)
	d.root = container.New(layout.NewBorderLayout(head, nil, nil, nil), head, container.NewStack(d.scroll, d.hint))
	d.clear()
	return d
}

// clear shows the hint to select a client.
func (d *detailsPane) clear() {
	d.name, d.claimsFor = "", ""
	d.expires, d.shown, d.shownRot = nil, refresher.State{}, ""
	d.head.Objects = nil
	d.head.Refresh()
	d.box.Objects = nil
	d.box.Refresh()
	d.scroll.Hide()
	d.hint.Show()
}

// show renders st; called on selection and whenever a snapshot of the
// selected client arrives (not every second: tick does the countdown).
func (d *detailsPane) show(st refresher.State) {
	u := d.u
	now := u.time.Now()
	c := st.Client
	rot := rotationAt(st, now)
	if d.name == c.Name && d.shownRot == rotationBadge(rot) && reflect.DeepEqual(d.shown, st) {
		return // nothing changed since the last drawing
	}
	d.shown, d.shownRot = st, rotationBadge(rot)
	d.retryAt = time.Time{} // set again below while the error names one
	if d.name != c.Name {
		d.claimsFor, d.lastClaims, d.lastNote = "", nil, ""
	}
	d.name = c.Name

	title := widget.NewLabelWithStyle(c.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	head := container.NewHBox(title)
	if env := c.Environment(); env != vault.EnvUnknown {
		b := newBadge()
		b.set(string(env), envColor(env))
		head.Add(container.NewCenter(b))
	}
	if c.Source != "" {
		tb := newBadge()
		tb.set("team "+c.Source, theme.Color(theme.ColorNamePrimary))
		head.Add(container.NewCenter(tb))
	}
	rb := newBadge()
	rb.set(rotationBadge(rot), sevColor(rotationSeverity(rot)))
	head.Add(container.NewCenter(rb))

	d.expires = widget.NewLabel("")
	d.expires.TextStyle = fyne.TextStyle{Bold: true}
	d.tick(st, now)

	name := c.Name
	copyBtn := &widget.Button{Text: "Copy token", Icon: theme.ContentCopyIcon(), Importance: widget.HighImportance, OnTapped: func() { u.copyToken(name, false) }}
	headerBtn := &widget.Button{Text: "Copy as header", Icon: theme.ContentCopyIcon(), OnTapped: func() { u.copyToken(name, true) }}
	refreshBtn := &widget.Button{Text: "Refresh now", Icon: theme.ViewRefreshIcon(), OnTapped: func() { u.refreshNow(name) }}
	secretBtn := &widget.Button{Text: "Rotate secret", Icon: theme.LoginIcon(), OnTapped: func() { u.showRotate(name) }}
	editBtn := &widget.Button{Text: "Edit", Icon: theme.DocumentCreateIcon(), OnTapped: func() { u.editClient(name) }}
	removeBtn := &widget.Button{Text: "Remove", Icon: theme.DeleteIcon(), Importance: widget.DangerImportance, OnTapped: func() { u.confirmRemove(name) }}
	if st.Phase == refresher.PhaseRejected {
		secretBtn.Importance = widget.WarningImportance
		copyBtn.Importance = widget.MediumImportance
	}
	if !c.RotationStartedAt.IsZero() { // a staged secret waits (perhaps since a crash)
		secretBtn.Text = "Finish rotation"
		secretBtn.Importance = widget.WarningImportance
	}
	d.copyBtn, d.headerBtn = copyBtn, headerBtn
	actions := container.NewGridWithColumns(3, copyBtn, headerBtn, refreshBtn, secretBtn, editBtn, removeBtn)

	d.hint.Hide()
	d.scroll.Show()
	d.head.Objects = []fyne.CanvasObject{head, d.expires, actions}
	d.head.Refresh()
	var objs []fyne.CanvasObject

	if st.Err != nil {
		e := st.Err
		if !e.RetryAt.IsZero() {
			if now.Before(e.RetryAt) {
				d.retryAt = e.RetryAt
			} else {
				c := *e
				c.RetryAt = time.Time{} // past: say no time rather than a wrong one
				e = &c
			}
		}
		what, todo := explain(e, validUntil(st, now))
		l1 := widget.NewLabel(what)
		l1.Wrapping = fyne.TextWrapWord
		l1.Importance = widget.DangerImportance
		if st.Err.Class == refresher.ClassRateLimited || st.Err.Class == refresher.ClassTransient {
			l1.Importance = widget.WarningImportance
		}
		l2 := widget.NewLabel(todo)
		l2.Wrapping = fyne.TextWrapWord
		ago := ""
		if !st.StaleSince.IsZero() && st.Phase != refresher.PhaseFresh {
			ago = "failing since " + st.StaleSince.Local().Format("15:04") + " (" + agoText(st.StaleSince, now) + ")"
		}
		errBox := container.NewVBox(l1, l2)
		if label := actionLabel(e.Words().Action); label != "" {
			act := e.Words().Action
			errBox.Add(container.NewHBox(&widget.Button{Text: label, Importance: widget.WarningImportance, OnTapped: func() { u.onAction(name, act) }}))
		}
		objs = append(objs, section("Last error", ago, errBox))
	}

	objs = append(objs, section("Scopes", scopeSummary(st), scopeList(st)))

	// Absolute times only: the live countdown is the pinned line above, and a
	// relative time here would go stale between snapshots.
	tok := []string{"Fetched", timeText(st.FetchedAt), "Expires", timeText(st.Expiry), "Fingerprint", orDash(st.Fingerprint)}
	if !st.FetchedAt.IsZero() && st.Expiry.After(st.FetchedAt) {
		tok = append(tok, "Lifetime", st.Expiry.Sub(st.FetchedAt).Round(time.Second).String())
	}
	if st.Skew != 0 {
		tok = append(tok, "TimeSource skew", st.Skew.Round(time.Second).String()+" (server minus this machine)")
	}
	d.claims = container.NewVBox()
	objs = append(objs, section("Token", "", container.NewVBox(grid(tok...), d.claims)))
	d.loadClaims(st)
	objs = append(objs, section("Local proxy", "", u.proxySection(c.Name)))

	rotText := []string{"Status", rotationBadge(rot)}
	if !rot.SetAt.IsZero() {
		rotText = append(rotText,
			"Secret set", rot.SetAt.Local().Format("Mon 2 Jan 2006")+" ("+plural(rot.AgeDays, "day")+" ago)",
			"Due", rot.DueAt.Local().Format("Mon 2 Jan 2006")+" ("+dueText(rot)+")")
	}
	if !c.RotationStartedAt.IsZero() {
		rotText = append(rotText, "In progress", "a new secret is staged since "+c.RotationStartedAt.Local().Format("2 Jan 15:04"))
	}
	note := dimText("Rotate: create a new secret in the provider's dashboard, then Rotate secret: it is proven by a real token exchange before the old one is dropped. Tokens issued with the old secret stay valid until they expire.", theme.SizeNameText)
	note.Truncation, note.Wrapping = fyne.TextTruncateOff, fyne.TextWrapWord
	objs = append(objs, section("Rotation", "every 90 days", container.NewVBox(grid(rotText...), note)))

	objs = append(objs, section("Client", "", grid(
		"Token URL", c.TokenURL,
		"Client ID", c.ClientID,
		"Auth style", authStyleText(c.AuthStyle),
		"Endpoint parameters", orDash(strings.Join(vault.FormatParams(c.EndpointParams), "\n")),
		"Environment", string(c.Environment()),
		"Source", sourceText(c),
	)))
	d.box.Objects = objs
	d.box.Refresh()
}

// tick updates the countdown line. It says what is true at now: a token
// that expired says when, with why no new one came; a planned retry shows
// only until its time.
func (d *detailsPane) tick(st refresher.State, now time.Time) {
	if d.expires == nil {
		return
	}
	if d.retryAt != (time.Time{}) && !now.Before(d.retryAt) {
		// The "retries at" of the Last error section is past: redraw it.
		d.shown, d.retryAt = refresher.State{}, time.Time{}
		d.show(st)
		return
	}
	s := expiryLine(st, d.u.lastExpiry[st.Client.Name], now)
	if d.expires.Text != s {
		d.expires.SetText(s)
		d.expires.Importance = widget.MediumImportance
		if sev := tokenSeverity(st, now); sev == sevError {
			d.expires.Importance = widget.DangerImportance
		} else if sev == sevWarn {
			d.expires.Importance = widget.WarningImportance
		}
		d.expires.Refresh()
	}
}

// expiryLine is the details' pinned token line at now; lastExpiry is the
// expiry of the client's last token seen (the state forgets an expired one).
func expiryLine(st refresher.State, lastExpiry, now time.Time) string {
	failing := ""
	if st.Err != nil {
		failing = " — refresh failing: " + failureShort(st.Err)
		if at := st.NextAttempt; !at.IsZero() && now.Before(at) {
			failing += ", retries at " + at.Local().Format("15:04:05")
		}
	}
	valid := !st.Expiry.IsZero() && now.Before(st.Expiry)
	switch {
	case st.Phase == refresher.PhaseRefreshing:
		return "Refreshing…"
	case valid:
		s := "Token expires in " + hms(st.Expiry.Sub(now)) + " (at " + st.Expiry.Local().Format("15:04") + ")"
		if failing == "" && st.Phase == refresher.PhaseStale {
			return s + ", refresh due"
		}
		return s + failing
	case st.Expiry.IsZero() && st.Phase == refresher.PhaseFresh:
		return "Token fresh (no expiry given)"
	}
	exp := st.Expiry
	if exp.IsZero() {
		exp = lastExpiry
	}
	if exp.IsZero() || exp.After(now) {
		if failing != "" {
			return "No token" + failing
		}
		return "No token yet"
	}
	return "Expired at " + exp.Local().Format("15:04:05") + failing
}

// loadClaims reads the cached token from the keyring (off the UI thread:
// keyrings can be slow; never a network request) and shows its JWT claims.
func (d *detailsPane) loadClaims(st refresher.State) {
	u := d.u
	fp := st.Fingerprint
	if fp == "" || u.opts.Store == nil {
		d.claimsFor = ""
		return
	}
	name := st.Client.Name
	show := func(rows []string, note string) {
		if d.name != name || d.claimsFor != fp {
			return // the selection moved on
		}
		d.claims.Objects = nil
		if len(rows) > 0 {
			sub := widget.NewLabelWithStyle("JWT claims (decoded, not verified)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			d.claims.Add(sub)
			d.claims.Add(grid(rows...))
		}
		if note != "" {
			l := dimText(note, theme.SizeNameText)
			l.Truncation, l.Wrapping = fyne.TextTruncateOff, fyne.TextWrapWord
			d.claims.Add(l)
		}
		d.claims.Refresh()
	}
	if d.claimsFor == fp && (d.lastClaims != nil || d.lastNote != "") {
		show(d.lastClaims, d.lastNote)
		return
	}
	d.claimsFor, d.lastClaims, d.lastNote = fp, nil, ""
	store := u.opts.Store
	u.async(func() {
		tok, err := store.Token(name, nil)
		var rows []string
		note := ""
		switch {
		case err != nil:
			note = "The cached token could not be read from the keyring to show its claims."
		case tok.Fingerprint() != fp:
			note = ""
		default:
			rows, note = claimRows(tok.AccessToken)
		}
		uiDo(func() {
			d.lastClaims, d.lastNote = rows, note
			show(rows, note)
		})
	})
}

// claimRows decodes the claims worth showing from a raw token.
func claimRows(raw string) ([]string, string) {
	info, err := jwtinfo.Parse(raw)
	if err != nil {
		return nil, "The token is opaque (not a JWT): it has no claims to show."
	}
	var rows []string
	for _, k := range []string{"iss", "sub", "aud", "iat", "exp", "scope"} {
		v, ok := info.Claims[k]
		if !ok {
			continue
		}
		var s string
		switch k {
		case "iat", "exp":
			t := info.Time(k)
			s = t.Local().Format("2006-01-02 15:04:05")
		case "aud":
			s = strings.Join(info.Audience(), " ")
		case "scope":
			sc, _ := info.Scopes()
			s = strings.Join(sc, " ")
		default:
			s = info.String(k)
			if s == "" {
				b, _ := json.Marshal(v)
				s = string(b)
			}
		}
		rows = append(rows, k, s)
	}
	if _, ok := info.Claims["scope"]; !ok {
		if sc, ok := info.Scopes(); ok {
			rows = append(rows, "scp", strings.Join(sc, " "))
		}
	}
	return rows, ""
}

// section is a titled block of the details pane.
func section(title, subtitle string, content fyne.CanvasObject) fyne.CanvasObject {
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameSubHeadingText
	head := container.NewHBox(t)
	if subtitle != "" {
		s := dimText(subtitle, theme.SizeNameText)
		s.Truncation = fyne.TextTruncateOff
		head.Add(s)
	}
	return container.NewVBox(widget.NewSeparator(), head, content)
}

// grid lays out label/value pairs.
func grid(pairs ...string) *fyne.Container {
	g := container.New(layout.NewFormLayout())
	for i := 0; i+1 < len(pairs); i += 2 {
		k := dimText(pairs[i], theme.SizeNameText)
		k.Truncation = fyne.TextTruncateOff
		v := widget.NewLabel(pairs[i+1])
		v.Wrapping = fyne.TextWrapBreak
		v.Selectable = true
		g.Add(k)
		g.Add(v)
	}
	return g
}

// scopeSummary says how granted and requested scopes compare.
func scopeSummary(st refresher.State) string {
	if st.FetchedAt.IsZero() && len(st.Granted) == 0 {
		return fmt.Sprintf("%d requested", len(st.Client.Scopes))
	}
	if refused := refusedScopes(st); len(refused) > 0 {
		return fmt.Sprintf("%d requested, refused: %s", len(st.Client.Scopes), strings.Join(refused, " "))
	}
	missing := missingScopes(st)
	if len(missing) > 0 {
		return fmt.Sprintf("%d requested, %d missing", len(st.Client.Scopes), len(missing))
	}
	if st.ScopesAssumed {
		return fmt.Sprintf("%d requested, granted (assumed): the server did not say which", len(st.Client.Scopes))
	}
	return fmt.Sprintf("%d requested, all granted", len(st.Client.Scopes))
}

func missingScopes(st refresher.State) []string {
	var out []string
	switch {
	case st.Missing != nil:
		out = slices.Clone(st.Missing)
	case st.Granted != nil:
		out = vault.MissingScopes(st.Client.Scopes, st.Granted)
	}
	for _, s := range refusedScopes(st) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// refusedScopes are the scopes the last failed request was refused (an
// invalid_scope failure), as narrowed as the server's message allows.
func refusedScopes(st refresher.State) []string {
	if st.Err == nil || st.Err.Class != refresher.ClassScope {
		return nil
	}
	return namedScopes(st.Err.Scopes, st.Err.Description)
}

// scopeList shows each requested scope with its catalogue description and
// whether it was granted, then scopes granted without being asked for.
func scopeList(st refresher.State) fyne.CanvasObject {
	box := container.NewVBox()
	known := !st.FetchedAt.IsZero() || st.Granted != nil
	missing := missingScopes(st)
	refused := refusedScopes(st)
	if len(st.Client.Scopes) == 0 {
		l := widget.NewLabel("No scopes requested: the server grants its default scopes for this client.")
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	rows := container.New(layout.NewFormLayout()) // names in one column, descriptions aligned
	row := func(icon fyne.Resource, name, desc string, imp widget.Importance) {
		n := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		n.Importance = imp
		dl := dimText(desc, theme.SizeNameText)
		if imp == widget.DangerImportance {
			dl.Segments[0].(*widget.TextSegment).Style.ColorName = theme.ColorNameError
		}
		rows.Add(container.NewHBox(widget.NewIcon(icon), n))
		rows.Add(dl)
	}
	box.Add(rows)
	for _, s := range st.Client.Scopes {
		switch {
		case slices.Contains(refused, s):
			row(theme.ErrorIcon(), s, "REFUSED · "+catalog.Describe(s), widget.DangerImportance)
		case slices.Contains(missing, s):
			row(theme.ErrorIcon(), s, "NOT GRANTED · "+catalog.Describe(s), widget.DangerImportance)
		case known && st.ScopesAssumed:
			row(theme.QuestionIcon(), s, "granted (assumed) · "+catalog.Describe(s), widget.MediumImportance)
		case known:
			row(theme.ConfirmIcon(), s, catalog.Describe(s), widget.MediumImportance)
		default:
			row(theme.RadioButtonIcon(), s, catalog.Describe(s), widget.MediumImportance)
		}
	}
	for _, s := range st.Granted {
		if !slices.Contains(st.Client.Scopes, s) {
			row(theme.InfoIcon(), s, "granted without being requested · "+catalog.Describe(s), widget.MediumImportance)
		}
	}
	for _, w := range catalog.Warnings(st.Client.Scopes) {
		l := widget.NewLabel("⚠ " + w)
		l.Importance = widget.WarningImportance
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	return box
}

func validUntil(st refresher.State, now time.Time) time.Time {
	if !st.Expiry.IsZero() && now.Before(st.Expiry) {
		return st.Expiry
	}
	return time.Time{}
}

func authStyleText(a vault.AuthStyle) string {
	switch a {
	case vault.AuthHeader:
		return "HTTP Basic header"
	case vault.AuthBody:
		return "in the request body"
	}
	return "auto-detect"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sourceText says where a client comes from: this computer, or a team's
// Vault (with why its entry is broken, if it is).
func sourceText(c vault.Client) string {
	switch {
	case c.Source == "":
		return "this computer"
	case c.Problem != "":
		return "team " + c.Source + " (HashiCorp Vault), broken: " + c.Problem
	}
	return "team " + c.Source + " (HashiCorp Vault)"
}

// hostOf is the host (and port) of a URL, "" when it does not parse.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

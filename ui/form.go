package ui

import (
	"errors"
	"image/color"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/catalog"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// Form field names, as vault.ValidationError.Field spells them.
const (
	fieldName     = "name"
	fieldTokenURL = "token_url"
	fieldClientID = "client_id"
	fieldSecret   = "secret"
	fieldScopes   = "scopes"
	fieldParams   = "endpoint_params"
	fieldOther    = "other"
)

var authChoices = []string{"auto-detect", "HTTP Basic header", "in the request body"}

// clientForm is the Add / Edit client dialog, over the main window.
type clientForm struct {
	u    *UI
	orig *vault.Client // the client edited; nil when adding
	d    *dialog.CustomDialog

	// Entries on which Escape closes the dialog (a plain entry keeps it).
	name, tokenURL, clientID, secret, epParams, custom *escEntry
	auth                                               *widget.Select
	checks                                             map[string]*widget.Check
	errs                                               map[string]*widget.Label // field -> its message
	touched                                            map[string]bool          // fields the user changed
	warnings                                           *widget.Label
	result                                             *widget.Label // outcome of Test
	testBtn, saveBtn                                   *widget.Button
	ready                                              bool // all widgets built: validate may run
	saveAnyway                                         bool // a test before saving failed: Save saves regardless
	body                                               *fyne.Container
	scroll                                             *container.Scroll // around body
	disc                                               *discoverRow      // Issuer URL … Discover
}

// showForm opens the form to add a client (c nil) or edit c, as a dialog
// over the window (Escape closes it).
func (u *UI) showForm(c *vault.Client) {
	f := u.newForm(c)
	u.showDialog(f.d)
	if c != nil {
		u.win.Canvas().Focus(f.tokenURL)
	} else {
		u.win.Canvas().Focus(f.name)
	}
}

func (u *UI) newForm(c *vault.Client) *clientForm {
	title := "Add client"
	if c != nil {
		title = "Edit " + c.Name
	}
	f := &clientForm{
		u: u, orig: c,
		checks:   map[string]*widget.Check{},
		errs:     map[string]*widget.Label{},
		touched:  map[string]bool{},
		warnings: &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.WarningImportance},
		result:   &widget.Label{Wrapping: fyne.TextWrapWord},
	}
	entry := func(field, placeholder string, e *escEntry) *escEntry {
		e.SetPlaceHolder(placeholder)
		e.OnChanged = func(string) { f.touched[field] = true; f.untested(); f.validate() }
		f.errs[field] = &widget.Label{Importance: widget.DangerImportance, Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameCaptionText}
		f.errs[field].Hide()
		return e
	}
	esc := func() { f.d.Hide() }
	f.name = entry(fieldName, "e.g. billing-prod (a-z, 0-9, . _ -)", newEscEntry(false, esc))
	f.tokenURL = entry(fieldTokenURL, "e.g. https://auth.example.com/oauth2/token", newEscEntry(false, esc))
	f.clientID = entry(fieldClientID, "e.g. m2m-client-live-…", newEscEntry(false, esc))
	f.secret = entry(fieldSecret, "paste the client secret: it goes to the OS keyring", newEscEntry(true, esc))
	f.custom = entry(fieldScopes, "optional: other scopes, separated by spaces", newEscEntry(false, esc))
	multi := newEscEntry(false, esc)
	multi.MultiLine, multi.Wrapping = true, fyne.TextWrapWord
	f.epParams = entry(fieldParams, "optional, one KEY=VALUE per line, e.g.\nresource=https://api.example.com", multi)
	f.epParams.SetMinRowsVisible(2)
	f.errs[fieldOther] = &widget.Label{Importance: widget.DangerImportance, Wrapping: fyne.TextWrapWord}
	f.errs[fieldOther].Hide()
	f.auth = widget.NewSelect(authChoices, func(string) { f.validate() })
	f.auth.SetSelectedIndex(0)

	scopeBox := container.NewVBox()
	for _, s := range catalog.Scopes {
		chk := widget.NewCheck(s.Name, func(bool) { f.validate() })
		desc := dimText(s.Description, theme.SizeNameText)
		if s.Broad || s.Billable {
			desc.Segments[0].(*widget.TextSegment).Style.ColorName = theme.ColorNameWarning
		}
		f.checks[s.Name] = chk
		scopeBox.Add(container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(210, chk.MinSize().Height), chk), nil, desc))
	}

	secretHint := "Stored in the OS keyring and never shown again."
	if c != nil {
		f.name.SetText(c.Name)
		f.name.Disable()
		f.tokenURL.SetText(c.TokenURL)
		f.clientID.SetText(c.ClientID)
		f.epParams.SetText(strings.Join(vault.FormatParams(c.EndpointParams), "\n"))
		switch c.AuthStyle {
		case vault.AuthHeader:
			f.auth.SetSelectedIndex(1)
		case vault.AuthBody:
			f.auth.SetSelectedIndex(2)
		}
		var custom []string
		for _, s := range c.Scopes {
			if chk, ok := f.checks[s]; ok {
				chk.SetChecked(true)
			} else {
				custom = append(custom, s)
			}
		}
		f.custom.SetText(strings.Join(custom, " "))
		// One way to change a secret in the window: the rotation wizard,
		// which proves the new one before the old one is dropped.
		f.secret.Hide()
		secretHint = "Kept in the OS keyring. To change it, close this form and use Rotate secret: the new secret is proven before the old one is dropped."
		f.touched = map[string]bool{}
	}
	hint := dimText(secretHint, theme.SizeNameCaptionText)

	f.testBtn = &widget.Button{Text: "Test", Icon: theme.MediaPlayIcon(), OnTapped: f.onTest}
	f.saveBtn = &widget.Button{Text: "Save", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: f.onSave}
	cancel := &widget.Button{Text: "Cancel", OnTapped: func() { f.d.Hide() }}

	withErr := func(o fyne.CanvasObject, field string) fyne.CanvasObject {
		return container.NewVBox(o, f.errs[field])
	}
	form := widget.NewForm(
		widget.NewFormItem("Name", withErr(f.name, fieldName)),
		widget.NewFormItem("Issuer URL", f.newDiscoverRow()),
		widget.NewFormItem("Token URL", withErr(f.tokenURL, fieldTokenURL)),
		widget.NewFormItem("Client ID", withErr(f.clientID, fieldClientID)),
		widget.NewFormItem("Client secret", container.NewVBox(f.secret, hint, f.errs[fieldSecret])),
		widget.NewFormItem("Auth style", f.auth),
		widget.NewFormItem("Endpoint parameters", withErr(f.epParams, fieldParams)),
		widget.NewFormItem("Scopes", scopeBox),
		widget.NewFormItem("Custom scopes", withErr(f.custom, fieldScopes)),
	)
	body := container.NewVBox(form, f.warnings, f.errs[fieldOther], f.result)
	f.body = body
	buttons := container.NewHBox(f.testBtn, layout.NewSpacer(), cancel, f.saveBtn)
	f.scroll = container.NewVScroll(container.NewPadded(body))
	content := container.NewBorder(nil, container.NewPadded(buttons), nil, nil, f.scroll)
	// Example text in the entries is dimmer than typed text, so an empty
	// field beside its "required" error does not look filled in.
	f.d = dialog.NewCustomWithoutButtons(title, container.NewThemeOverride(content, formTheme{u.app.Settings().Theme()}), u.win)
	f.d.Resize(fyne.NewSize(680, 760)) // the dialog shrinks to a smaller window
	f.ready = true
	f.validate()
	return f
}

// client is the client the form describes (not validated).
func (f *clientForm) client() vault.Client {
	var c vault.Client
	if f.orig != nil {
		c = f.orig.Clone()
	}
	c.Name = strings.TrimSpace(f.name.Text)
	c.TokenURL = strings.TrimSpace(f.tokenURL.Text)
	c.ClientID = strings.TrimSpace(f.clientID.Text)
	c.AuthStyle = []vault.AuthStyle{vault.AuthAuto, vault.AuthHeader, vault.AuthBody}[max(f.auth.SelectedIndex(), 0)]
	c.Scopes = nil
	for _, s := range catalog.Scopes {
		if f.checks[s.Name].Checked {
			c.Scopes = append(c.Scopes, s.Name)
		}
	}
	c.Scopes = append(c.Scopes, strings.FieldsFunc(f.custom.Text, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })...)
	c.EndpointParams, _ = vault.ParseParamLines(f.epParams.Text) // problems reports an error
	return c
}

// problems validates the form field by field, as vault would on save.
func (f *clientForm) problems() map[string]string {
	p := map[string]string{}
	c := f.client()
	if f.orig == nil {
		if err := vault.ValidateName(c.Name); err != nil {
			p[fieldName] = problem(err)
		} else if _, ok := f.u.states[c.Name]; ok {
			p[fieldName] = "a client called " + c.Name + " already exists: pick another name, or edit that one"
		}
	}
	if err := vault.ValidateTokenURL(c.TokenURL); err != nil {
		p[fieldTokenURL] = problem(err)
	}
	if c.ClientID == "" {
		p[fieldClientID] = "a client id is required: copy it from your provider's dashboard"
	}
	if f.orig == nil || f.secret.Text != "" {
		if _, err := vault.NormalizeSecret(f.secret.Text); err != nil {
			p[fieldSecret] = problem(err)
		}
	}
	if _, err := vault.NormalizeScopes(c.Scopes); err != nil {
		p[fieldScopes] = problem(err)
	}
	if _, err := vault.ParseParamLines(f.epParams.Text); err != nil {
		p[fieldParams] = problem(err)
	}
	if len(p) == 0 {
		if _, err := c.Normalize(); err != nil {
			var ve *vault.ValidationError
			field := fieldOther
			if errors.As(err, &ve) {
				if _, ok := f.errs[ve.Field]; ok {
					field = ve.Field
				}
			}
			p[field] = problem(err)
		}
	}
	return p
}

// validate shows the problems of touched fields and the warnings; it
// reports whether the form can be saved.
func (f *clientForm) validate() bool {
	if !f.ready {
		return false
	}
	p := f.problems()
	relayout := false
	for field, l := range f.errs {
		msg, bad := p[field]
		show := bad && (f.touched[field] || field == fieldOther)
		if show != l.Visible() {
			relayout = true
		}
		if show {
			l.SetText(msg)
			l.Show()
		} else {
			l.Hide()
		}
	}
	defer func() {
		if relayout {
			f.body.Refresh() // the form's rows change height
		}
	}()
	c := f.client()
	warn := catalog.Warnings(c.Scopes)
	if u, err := url.Parse(c.TokenURL); err == nil && u.Scheme == "http" && vault.ValidateTokenURL(c.TokenURL) == nil {
		warn = append(warn, "plain http sends the secret unencrypted: use it only for a local test server")
	}
	if c.Environment() == vault.EnvLive {
		warn = append(warn, "this is a live client: its tokens act on live data")
	}
	if len(warn) == 0 {
		f.warnings.Hide()
	} else {
		f.warnings.SetText("⚠ " + strings.Join(warn, "\n⚠ "))
		f.warnings.Show()
	}
	return len(p) == 0
}

// touchAll shows every problem (on Save and Test).
func (f *clientForm) touchAll() {
	for field := range f.errs {
		f.touched[field] = true
	}
}

// testSecret returns a function (to call off the UI thread: the keyring may
// be slow) giving the secret to test with: the entry's, or the stored one
// when editing with the entry left empty.
func (f *clientForm) testSecret() func() (string, error) {
	typed := f.secret.Text
	if typed != "" || f.orig == nil || f.u.opts.Store == nil {
		return func() (string, error) { return vault.NormalizeSecret(typed) }
	}
	store, name := f.u.opts.Store, f.orig.Name
	return func() (string, error) { return store.Secret(name) }
}

// onTest does one real token exchange with what the form holds and shows
// the scopes granted, before anything is saved.
func (f *clientForm) onTest() {
	f.touchAll()
	p := f.problems()
	delete(p, fieldName) // a test needs no valid name
	if len(p) > 0 {
		f.validate()
		f.result.Importance = widget.DangerImportance
		f.result.SetText("Fix the fields marked above before testing.")
		return
	}
	cl := f.client()
	if vault.ValidateName(cl.Name) != nil {
		cl.Name = "test" // an exchange needs no name; Save will ask for a good one
	}
	c, err := cl.Normalize()
	if err != nil {
		f.result.Importance = widget.DangerImportance
		f.result.SetText("Fix this before testing: " + problem(err))
		return
	}
	f.result.Importance = widget.MediumImportance
	f.result.SetText("Requesting a token from " + hostOf(c.TokenURL) + "…")
	f.scroll.ScrollToBottom() // the result shows below the scopes
	f.testBtn.Disable()
	u := f.u
	secretOf := f.testSecret()
	u.async(func() {
		secret, err := secretOf()
		var res refresher.Result
		if err == nil {
			res, err = refresher.Exchange(u.ctx, u.opts.HTTPClient, c, secret, nil)
		}
		uiDo(func() { f.showTest(c, res, err) })
	})
}

func (f *clientForm) showTest(c vault.Client, res refresher.Result, err error) {
	f.testBtn.Enable()
	defer f.scroll.ScrollToBottom() // the result may have grown
	if err != nil {
		var re *refresher.Error
		msg := err.Error()
		if errors.As(err, &re) {
			what, todo := explain(re, res.Token.Expiry)
			switch re.Class { // the advice for a stored client says "with Edit"
			case refresher.ClassRejected:
				todo = "Check the client id, the secret and the auth style."
			case refresher.ClassScope:
				todo = "Untick " + strings.Join(namedScopes(re.Scopes, re.Description), " ") + ", or ask the platform admin to allow it for this client."
			}
			msg = what + " " + todo
		}
		f.result.Importance = widget.DangerImportance
		f.result.SetText("✗ Test failed: " + msg)
		return
	}
	granted := res.Token.Scopes
	missing := res.Missing
	if missing == nil {
		missing = vault.MissingScopes(c.Scopes, granted)
	}
	msg := "✓ Token received"
	if !res.Token.Expiry.IsZero() {
		msg += ", valid for " + hms(res.Token.Expiry.Sub(res.Token.FetchedAt))
	}
	msg += ".\nGranted: " + orDash(strings.Join(granted, " "))
	f.result.Importance = widget.SuccessImportance
	if len(missing) > 0 {
		msg += "\nNot granted: " + strings.Join(missing, " ") + " (the server does not allow them for this client)"
		f.result.Importance = widget.WarningImportance
	}
	f.result.SetText(msg)
}

// onSave validates and stores the client (and its secret), then closes.
func (f *clientForm) onSave() {
	f.touchAll()
	if !f.validate() {
		return
	}
	c, _ := f.client().Normalize()
	secret, _ := vault.NormalizeSecret(f.secret.Text)
	if f.u.opts.Store == nil {
		return
	}
	if f.orig != nil && !f.saveAnyway && (secret != "" || changesRequest(*f.orig, c)) {
		f.testThenSave(c, secret)
		return
	}
	f.save(c, secret)
}

// untested takes back "Save anyway" after a change: the next Save tests
// again.
func (f *clientForm) untested() {
	if f.saveAnyway {
		f.saveAnyway = false
		f.saveBtn.SetText("Save")
	}
}

// changesRequest reports whether an edit changes what a token request
// sends (then Save tests it first).
func changesRequest(old, c vault.Client) bool {
	return old.TokenURL != c.TokenURL || old.ClientID != c.ClientID || old.AuthStyle != c.AuthStyle ||
		!vault.SameScopes(old.Scopes, c.Scopes) || old.EndpointParams.Encode() != c.EndpointParams.Encode()
}

// testThenSave makes a real token request with the edited settings and
// saves only if it works; after a failure it says which part was refused
// and Save becomes "Save anyway".
func (f *clientForm) testThenSave(c vault.Client, secret string) {
	u := f.u
	f.saveBtn.Disable()
	f.result.Importance = widget.MediumImportance
	f.result.SetText("Testing the changes with a real token request to " + hostOf(c.TokenURL) + " before saving…")
	secretOf := f.testSecret()
	u.async(func() {
		s, err := secretOf()
		var res refresher.Result
		if err == nil {
			res, err = refresher.Exchange(u.ctx, u.opts.HTTPClient, c, s, nil)
		}
		uiDo(func() {
			f.saveBtn.Enable()
			f.showTest(c, res, err)
			if err != nil {
				f.result.SetText(f.result.Text + "\nNot saved. Fix it above, or press Save anyway.")
				f.saveAnyway = true
				f.saveBtn.SetText("Save anyway")
				return
			}
			f.save(c, secret)
		})
	})
}

// save stores the client (and its secret), then closes.
func (f *clientForm) save(c vault.Client, secret string) {
	store := f.u.opts.Store
	adding := f.orig == nil
	f.saveBtn.Disable()
	f.u.async(func() { // the keyring may be slow, or ask for a password
		var err error
		if adding {
			err = store.Add(c, secret)
		} else {
			err = store.Update(c.Name, func(old *vault.Client) error {
				old.TokenURL, old.ClientID, old.AuthStyle = c.TokenURL, c.ClientID, c.AuthStyle
				old.Scopes, old.EndpointParams = c.Scopes, c.EndpointParams
				return nil
			})
			if err == nil && secret != "" {
				err = store.SetSecret(c.Name, secret)
			}
		}
		saved := c
		if err == nil {
			if got, gerr := store.Get(c.Name); gerr == nil {
				saved = got // with the dates the store set
			}
		}
		uiDo(func() { f.saved(saved, err) })
	})
}

// saved closes the form after a successful save, or shows why it failed.
func (f *clientForm) saved(c vault.Client, err error) {
	f.saveBtn.Enable()
	if err != nil {
		l := f.errs[fieldOther]
		var ve *vault.ValidationError
		if errors.As(err, &ve) {
			if fl, ok := f.errs[ve.Field]; ok {
				l = fl
			}
		}
		l.SetText(problem(err))
		l.Show()
		f.body.Refresh()
		return
	}
	f.ready = false
	f.secret.SetText("") // never kept in the widget after saving
	f.d.Hide()
	u := f.u
	verb := "Added "
	if f.orig != nil {
		verb = "Saved "
	}
	u.setStatus(verb + c.Name)
	st, ok := u.states[c.Name]
	if !ok {
		st = refresher.State{Phase: refresher.PhaseNone}
	}
	st.Client, st.Rotation = c, rotationAt(refresher.State{Client: c}, u.time.Now())
	u.states[c.Name] = st
	u.selected = ""
	u.refreshAll()
	u.selectClient(c.Name)
	u.rebuildView()
	u.reload()
}

// formTheme is the app's theme with placeholder text at half the
// foreground's strength: examples in empty entries must not read as values.
type formTheme struct{ fyne.Theme }

// Color dims the placeholder colour; every other colour is the app's.
func (t formTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNamePlaceHolder {
		return tint(t.Theme.Color(theme.ColorNameForeground, v), 0x73)
	}
	return t.Theme.Color(n, v)
}

package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

// fill types values into the form's entries and ticks scopes.
func fill(f *clientForm, name, tokenURL, clientID, secret string, scopes ...string) {
	for _, e := range []struct {
		entry interface{ SetText(string) }
		v     string
	}{{f.name, name}, {f.tokenURL, tokenURL}, {f.clientID, clientID}} {
		e.entry.SetText("")
		if e.v != "" {
			e.entry.SetText(e.v)
		}
	}
	f.secret.SetText("")
	if secret != "" {
		test.Type(f.secret, secret)
	}
	for _, s := range scopes {
		if chk, ok := f.checks[s]; ok {
			test.Tap(chk)
		} else {
			f.custom.SetText(strings.TrimSpace(f.custom.Text + " " + s))
		}
	}
}

func TestFormValidation(t *testing.T) {
	tests := []struct {
		name                    string
		client, url, id, secret string
		scopes                  []string
		wantField               string // field with an error; "" for a valid form
		wantInErr               string
		wantWarn                []string
	}{
		{name: "valid", client: "billing", url: "https://auth.example.com/token", id: "m2m-client-test-1", secret: "s3cret", scopes: []string{"models:read"}},
		{name: "bad name", client: "Billing Prod", url: "https://auth.example.com/token", id: "x", secret: "s", wantField: fieldName, wantInErr: "lower-case"},
		{name: "http not loopback", client: "a", url: "http://auth.example.com/token", id: "x", secret: "s", wantField: fieldTokenURL, wantInErr: "use https"},
		{name: "http loopback warns", client: "a", url: "http://127.0.0.1:8080/token", id: "x", secret: "s", wantWarn: []string{"plain http"}},
		{name: "no client id", client: "a", url: "https://auth.example.com/token", secret: "s", wantField: fieldClientID, wantInErr: "client id is required"},
		{name: "no secret", client: "a", url: "https://auth.example.com/token", id: "x", wantField: fieldSecret, wantInErr: "secret is empty"},
		{name: "taken name", client: "existing", url: "https://auth.example.com/token", id: "x", secret: "s", wantField: fieldName, wantInErr: "already exists"},
		{name: "broad scopes warn", client: "a", url: "https://auth.example.com/token", id: "m2m-client-live-1", secret: "s",
			scopes:   []string{"org:admin", "files:write", "chat:invoke", "custom:write"},
			wantWarn: []string{"org:admin grants organization admin", "files:write can create", "chat:invoke is billable", "custom:write looks broad", "live client"}},
		{name: "custom scope with quote", client: "a", url: "https://auth.example.com/token", id: "x", secret: "s", scopes: []string{`bad"scope`}, wantField: fieldScopes, wantInErr: "space or quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, state("existing", refresher.PhaseFresh, time.Hour))
			f := r.ui.newForm(nil)
			fill(f, tt.client, tt.url, tt.id, tt.secret, tt.scopes...)
			test.Tap(f.saveBtn)

			for field, l := range f.errs {
				shown := l.Visible() && l.Text != ""
				if want := field == tt.wantField; shown != want {
					t.Errorf("field %s: error shown %v (%q); want %v", field, shown, l.Text, want)
				}
			}
			if tt.wantField != "" && !strings.Contains(f.errs[tt.wantField].Text, tt.wantInErr) {
				t.Errorf("field %s: got error %q; want it to contain %q", tt.wantField, f.errs[tt.wantField].Text, tt.wantInErr)
			}
			for _, w := range tt.wantWarn {
				if !f.warnings.Visible() || !strings.Contains(f.warnings.Text, w) {
					t.Errorf("warnings: got %q (shown %v); want %q", f.warnings.Text, f.warnings.Visible(), w)
				}
			}
			if len(tt.wantWarn) == 0 && f.warnings.Visible() {
				t.Errorf("warnings: got %q; want none", f.warnings.Text)
			}

			_, err := r.store.Get(tt.client)
			saved := err == nil && tt.client != "existing"
			if want := tt.wantField == ""; saved != want {
				t.Errorf("saved: got %v (%v); want %v", saved, err, want)
			}
			if saved {
				got, err := r.store.Secret(tt.client)
				if err != nil || got != tt.secret {
					t.Errorf("stored secret: got %q, %v; want %q", got, err, tt.secret)
				}
				if f.secret.Text != "" {
					t.Errorf("secret entry after saving: got %q; want it emptied", f.secret.Text)
				}
				if _, ok := r.ui.states[tt.client]; !ok || r.ui.selected != tt.client {
					t.Errorf("after saving: client in list %v, selected %q; want it listed and selected", ok, r.ui.selected)
				}
				if r.src.reloads == 0 {
					t.Errorf("source reloads after saving: got 0; want at least 1")
				}
			}
		})
	}
}

func TestFormHidesErrorsUntilTouched(t *testing.T) {
	r := newRig(t)
	f := r.ui.newForm(nil)
	for field, l := range f.errs {
		if l.Visible() {
			t.Errorf("fresh form: field %s shows %q; want no error before it is touched", field, l.Text)
		}
	}
	f.tokenURL.SetText("ftp://x")
	if !f.errs[fieldTokenURL].Visible() {
		t.Errorf("after typing a bad URL: got no error; want one")
	}
	if f.errs[fieldName].Visible() {
		t.Errorf("name untouched: got error %q; want none yet", f.errs[fieldName].Text)
	}
}

func TestFormEditKeepsSecretAndUpdates(t *testing.T) {
	r := newRig(t)
	c := client("billing", time.Time{})
	c.TokenURL = tokenServer(t, c.ClientID, "old-secret", []string{"models:read", "chat:invoke", "files:read"}).URL + "/token"
	if err := r.store.Add(c, "old-secret"); err != nil {
		t.Fatal(err)
	}
	stored, _ := r.store.Get("billing")
	r.ui.states["billing"] = refresher.State{Client: stored, Phase: refresher.PhaseFresh}
	f := r.ui.newForm(&stored)
	if f.name.Disabled() != true {
		t.Errorf("edit form: name entry enabled; want it disabled (a client cannot be renamed)")
	}
	if got := f.selectedScopesForTest(); !slices.Equal(got, []string{"chat:invoke", "models:read"}) {
		t.Errorf("edit form scopes: got %v; want the client's", got)
	}
	test.Tap(f.checks["files:read"])
	f.epParams.SetText("audience=https://api.example.com")
	test.Tap(f.saveBtn)
	got, err := r.store.Get("billing")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got.Scopes, "files:read") || got.Audience() != "https://api.example.com" {
		t.Errorf("after edit: scopes %v audience %q; want files:read added and the audience set", got.Scopes, got.Audience())
	}
	if s, _ := r.store.Secret("billing"); s != "old-secret" {
		t.Errorf("secret after edit with an empty secret field: got %q; want it kept", s)
	}
}

// Edit tests a change with a real token request before saving it; a
// refused change is not saved until the user insists.
func TestFormEditTestsBeforeSaving(t *testing.T) {
	r := newRig(t)
	c := client("billing", time.Time{})
	c.TokenURL = tokenServer(t, c.ClientID, "old-secret", []string{"models:read", "chat:invoke"}).URL + "/token"
	if err := r.store.Add(c, "old-secret"); err != nil {
		t.Fatal(err)
	}
	stored, _ := r.store.Get("billing")
	r.ui.states["billing"] = refresher.State{Client: stored, Phase: refresher.PhaseFresh}
	f := r.ui.newForm(&stored)
	f.clientID.SetText("m2m-client-test-wrong")
	test.Tap(f.saveBtn)
	if got, _ := r.store.Get("billing"); got.ClientID != c.ClientID {
		t.Fatalf("after Save of a refused change: client id %q; want it unchanged", got.ClientID)
	}
	if !strings.Contains(f.result.Text, "Not saved") || f.saveBtn.Text != "Save anyway" {
		t.Fatalf("after a refused change: result %q, button %q; want Not saved and Save anyway", f.result.Text, f.saveBtn.Text)
	}
	if strings.Contains(f.result.Text, "tokentray ") {
		t.Errorf("result %q names a command line; want the form's own buttons", f.result.Text)
	}
	test.Tap(f.saveBtn)
	if got, _ := r.store.Get("billing"); got.ClientID != "m2m-client-test-wrong" {
		t.Errorf("after Save anyway: client id %q; want the change saved", got.ClientID)
	}
}

func (f *clientForm) selectedScopesForTest() []string {
	var out []string
	for name, chk := range f.checks {
		if chk.Checked {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func TestFormTestButtonDoesARealExchange(t *testing.T) {
	ts := tokenServer(t, "m2m-client-test-1", "right-secret", []string{"models:read"})
	tests := []struct {
		name, secret string
		wantIn       []string
	}{
		{"granted and missing", "right-secret", []string{"Token received", "Granted: models:read", "Not granted: chat:read"}},
		{"rejected", "wrong-secret", []string{"Test failed", "rejected the secret tried", "Check the client id, the secret and the auth style"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			f := r.ui.newForm(nil)
			fill(f, "billing", ts.URL+"/token", "m2m-client-test-1", tt.secret, "models:read", "chat:read")
			test.Tap(f.testBtn)
			for _, w := range tt.wantIn {
				if !strings.Contains(f.result.Text, w) {
					t.Errorf("test result: got %q; want it to contain %q", f.result.Text, w)
				}
			}
			if strings.Contains(f.result.Text, "with Edit") {
				t.Errorf("test result: got %q; want no advice to use Edit inside the form", f.result.Text)
			}
			// The result sits below the scopes: the form scrolls to it.
			if f.scroll.Offset.Y <= 0 {
				t.Errorf("form scroll offset after Test: %v; want it scrolled down to the result", f.scroll.Offset.Y)
			}
			if _, err := r.store.Get("billing"); !errors.Is(err, vault.ErrNoClient) {
				t.Errorf("after Test: got %v; want nothing saved (ErrNoClient)", err)
			}
		})
	}
}

func TestRemoveSaysWhatIsDeletedAndDeletesIt(t *testing.T) {
	r := newRig(t)
	c := client("billing", time.Time{})
	if err := r.store.Add(c, "secret"); err != nil {
		t.Fatal(err)
	}
	if err := r.store.SetToken("billing", nil, vault.Token{AccessToken: "tok", Expiry: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	stored, _ := r.store.Get("billing")
	r.ui.apply([]refresher.State{{Client: stored, Phase: refresher.PhaseFresh}})
	r.ui.confirmRemove("billing")
	d := r.ui.win.Canvas().Overlays().Top()
	text := allText(d)
	for _, w := range []string{"billing/secret", "billing/next-secret", "billing/token", "client secret", "stays registered at the provider"} {
		if !strings.Contains(text, w) {
			t.Errorf("confirmation: got %q; want it to mention %q", text, w)
		}
	}
	if b := findButton(d, "Remove"); b == nil || b.Importance != widget.DangerImportance {
		t.Errorf("confirmation's Remove button: %v; want it marked dangerous", b)
	}
	tapButton(t, d, "Remove")
	if _, err := r.store.Get("billing"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("after Remove: got %v; want ErrNoClient", err)
	}
	if _, err := r.store.Secret("billing"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("secret after Remove: got %v; want ErrNotFound", err)
	}
	if _, err := r.store.Token("billing", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("token after Remove: got %v; want ErrNotFound", err)
	}
	if len(r.ui.view) != 0 {
		t.Errorf("list after Remove: got %d rows; want 0", len(r.ui.view))
	}
}

func TestRotationExportHasNoSecrets(t *testing.T) {
	day := 24 * time.Hour
	a := state("alpha", refresher.PhaseFresh, time.Hour)
	a.Client.SecretSetAt = t0.Add(-10 * day)
	b := state("bravo", refresher.PhaseFresh, time.Hour)
	b.Client.SecretSetAt = t0.Add(-95 * day)
	c := state("charlie", refresher.PhaseFresh, time.Hour)
	c.Client.SecretSetAt = t0.Add(-80 * day)
	rows := rotationRows([]refresher.State{a, b, c}, t0)
	var order []string
	for _, r := range rows {
		order = append(order, r.Name+":"+string(r.Rotation.Status))
	}
	if got, want := strings.Join(order, " "), "bravo:overdue charlie:due-soon alpha:ok"; got != want {
		t.Errorf("rotation rows: got %q; want %q", got, want)
	}
	var csvBuf, jsonBuf bytes.Buffer
	if err := rotation.WriteCSV(&csvBuf, reports(rows)); err != nil {
		t.Fatal(err)
	}
	if err := rotation.WriteJSON(&jsonBuf, reports(rows)); err != nil {
		t.Fatal(err)
	}
	wantCSV := strings.Join(rotation.CSVColumns, ",") + "\n" +
		"bravo,m2m-client-test-bravo,"
	if got := csvBuf.String(); !strings.HasPrefix(got, wantCSV) {
		t.Errorf("CSV:\ngot  %q\nwant prefix %q", got, wantCSV)
	}
	if got := csvBuf.String(); !strings.Contains(got, ",2025-11-27T09:00:00Z,,,overdue,2026-02-25T09:00:00Z,-5,95,false\n") {
		t.Errorf("CSV: got %q; want bravo's rotation columns", got)
	}
	var doc []rotation.Report
	if err := json.Unmarshal(jsonBuf.Bytes(), &doc); err != nil {
		t.Fatalf("JSON export does not parse: %v", err)
	}
	if len(doc) != 3 || doc[0].Name != "bravo" || doc[0].Rotation.DaysLeft == nil || *doc[0].Rotation.DaysLeft != -5 {
		t.Errorf("JSON clients: got %+v; want 3 with bravo first, 5 days overdue", doc)
	}
	for _, out := range []string{csvBuf.String(), jsonBuf.String()} {
		if strings.Contains(out, "secret\"") || strings.Contains(strings.ToLower(out), "access_token") {
			t.Errorf("export holds a secret or token field: %s", out)
		}
	}
}

func TestFormTestUsesStoredSecretWhenEditing(t *testing.T) {
	ts := tokenServer(t, "m2m-client-test-billing", "stored-secret", []string{"models:read", "chat:invoke"})
	r := newRig(t)
	c := client("billing", time.Time{})
	c.TokenURL = ts.URL + "/token"
	if err := r.store.Add(c, "stored-secret"); err != nil {
		t.Fatal(err)
	}
	stored, _ := r.store.Get("billing")
	f := r.ui.newForm(&stored)
	test.Tap(f.testBtn)
	if want := "Granted: chat:invoke models:read"; !strings.Contains(f.result.Text, "Token received") || !strings.Contains(f.result.Text, want) {
		t.Errorf("test result with the stored secret: got %q; want success and %q", f.result.Text, want)
	}
}

func TestFormEndpointParameters(t *testing.T) {
	r := newRig(t)
	f := r.ui.newForm(nil)
	for text, bad := range map[string]bool{
		"resource=https://api.example.com\naudience=x": false,
		"scope=models:read":                            true,
		"resource":                                     true,
		"":                                             false,
	} {
		f.epParams.SetText(text)
		if got := f.errs[fieldParams].Visible(); got != bad {
			t.Errorf("parameters %q: error shown %v (%q); want %v", text, got, f.errs[fieldParams].Text, bad)
		}
	}
	f.epParams.SetText("resource=https://a.example\nresource=https://b.example")
	if got := f.client().EndpointParams["resource"]; !slices.Equal(got, []string{"https://a.example", "https://b.example"}) {
		t.Errorf("client's resource parameters %q; want both lines, in order", got)
	}
}

// Add and Edit open as dialogs over the window (no window of their own),
// Escape in a focused entry closes them, and example text in an empty
// entry is drawn dimmer than typed text.
func TestFormIsADialogOverTheWindow(t *testing.T) {
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	windows := len(r.app.Driver().AllWindows())
	for name, open := range map[string]func(){
		"Add":  func() { r.ui.showForm(nil) },
		"Edit": func() { r.ui.editClient("alpha") },
	} {
		open()
		if got := len(r.app.Driver().AllWindows()); got != windows {
			t.Errorf("%s: %d windows; want %d (the form is a dialog)", name, got, windows)
		}
		d := r.top()
		if d == nil || !strings.Contains(allText(d), "Client ID") {
			t.Fatalf("%s: no form over the window", name)
		}
		focused, ok := r.ui.win.Canvas().Focused().(*escEntry)
		if !ok {
			t.Fatalf("%s: focused %T; want one of the form's entries", name, r.ui.win.Canvas().Focused())
		}
		focused.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
		if r.top() != nil {
			t.Errorf("%s: still shown after Escape in an entry", name)
		}
	}
	th := formTheme{test.Theme()}
	_, _, _, ph := th.Color(theme.ColorNamePlaceHolder, theme.VariantDark).RGBA()
	_, _, _, fg := th.Color(theme.ColorNameForeground, theme.VariantDark).RGBA()
	if ph*2 > fg {
		t.Errorf("placeholder alpha %d, foreground %d: example text must be at most half as strong", ph, fg)
	}
}

// The rotation overview sorts by the heading tapped (again: reversed), its
// rows open the client or start its rotation, and an export says how it
// went in the overview's own window.
func TestRotationOverviewSortsAndActs(t *testing.T) {
	a := state("alpha", refresher.PhaseFresh, time.Hour)
	a.Client.SecretSetAt = t0.Add(-10 * 24 * time.Hour)
	b := state("bravo", refresher.PhaseFresh, time.Hour)
	b.Client.SecretSetAt = t0.Add(-95 * 24 * time.Hour)
	c := state("charlie", refresher.PhaseFresh, time.Hour)
	c.Client.SecretSetAt = t0.Add(-50 * 24 * time.Hour)
	r := newRig(t, a, b, c)
	names := func(o *overview) string {
		var n []string
		for _, row := range o.rows {
			n = append(n, row.Name)
		}
		return strings.Join(n, " ")
	}
	o := r.ui.newOverview()
	if got := names(o); got != "bravo charlie alpha" {
		t.Errorf("opened: %s; want the rotation order (overdue first)", got)
	}
	for _, step := range []struct {
		col  int
		want string
	}{{0, "alpha bravo charlie"}, {0, "charlie bravo alpha"}, {2, "alpha charlie bravo"}, {2, "bravo charlie alpha"}, {4, "bravo charlie alpha"}} {
		o.sortBy(step.col)
		if got := names(o); got != step.want {
			t.Errorf("sorted by %s (desc %v): %s; want %s", overviewCols[step.col], o.desc, got, step.want)
		}
	}
	if h := o.headerText(4); h != "Due ▲" {
		t.Errorf("heading of the sorted column: %q; want an arrow", h)
	}
	if !o.openBtn.Disabled() || !o.rotBtn.Disabled() {
		t.Error("row buttons enabled with no row chosen")
	}
	o.table.Select(widget.TableCellID{Row: 1, Col: 2}) // charlie
	if o.openBtn.Disabled() || o.selected != "charlie" {
		t.Fatalf("after choosing a row: chosen %q, Open enabled %v", o.selected, !o.openBtn.Disabled())
	}
	r.ui.onFilter("alpha") // the main list hides charlie
	test.Tap(o.openBtn)
	if r.ui.selected != "charlie" || r.ui.search.Text != "" {
		t.Errorf("Open client: selected %q, filter %q; want charlie shown, filter cleared", r.ui.selected, r.ui.search.Text)
	}

	o = r.ui.newOverview()
	o.table.Select(widget.TableCellID{Row: 0, Col: 0}) // bravo
	test.Tap(o.rotBtn)
	if r.ui.selected != "bravo" || r.top() == nil || !strings.Contains(allText(r.top()), "Rotate the secret of bravo") {
		t.Errorf("Rotate: selected %q, top %v; want bravo's rotation wizard over the window", r.ui.selected, r.top())
	}
	r.closeOverlays()

	o = r.ui.newOverview()
	o.exported("/tmp/report.csv", nil)
	if !strings.Contains(o.status.Text, "Exported to /tmp/report.csv") || o.w.Canvas().Overlays().Top() == nil {
		t.Errorf("after an export: overview says %q, overlay %v; want the path, in the overview's window", o.status.Text, o.w.Canvas().Overlays().Top())
	}
	if r.top() != nil {
		t.Error("the export's confirmation shows over the main window")
	}
}

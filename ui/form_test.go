package ui

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
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

// tokenServer is a client-credentials endpoint that grants the scopes in
// grant (of those asked) to id/secret and rejects anything else.
//
// Not demoserver: the form's "Granted / Not granted" lines need a server
// that grants part of the scopes asked and silently leaves out the rest,
// where demoserver, like fosite, refuses the whole request with
// invalid_scope.
func tokenServer(t *testing.T, id, secret string, grant []string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		gotID, gotSecret, ok := r.BasicAuth()
		if !ok {
			gotID, gotSecret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if gotID != id || gotSecret != secret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
			return
		}
		var granted []string
		for _, s := range strings.Fields(r.PostForm.Get("scope")) {
			if slices.Contains(grant, s) {
				granted = append(granted, s)
			}
		}
		claims, _ := json.Marshal(map[string]any{"iss": "test", "sub": id, "scope": strings.Join(granted, " "), "exp": time.Now().Add(time.Hour).Unix()})
		jwt := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": jwt, "token_type": "bearer", "expires_in": 3600, "scope": strings.Join(granted, " ")})
	}))
	t.Cleanup(ts.Close)
	return ts
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

// walk calls f for o and everything it is drawn with.
func walk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	if o == nil {
		return
	}
	f(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, f)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, f)
		}
	}
}

func allText(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *canvas.Text:
			b.WriteString(x.Text + "\n")
		case *widget.RichText:
			for _, seg := range x.Segments {
				if ts, ok := seg.(*widget.TextSegment); ok {
					b.WriteString(ts.Text + "\n")
				}
			}
		}
	})
	return b.String()
}

func tapButton(t *testing.T, o fyne.CanvasObject, label string) {
	t.Helper()
	var found *widget.Button
	walk(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == label && found == nil {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no button %q in %s", label, allText(o))
	}
	test.Tap(found)
}

func findPasswordEntry(t *testing.T, o fyne.CanvasObject) *widget.Entry {
	t.Helper()
	var found *widget.Entry
	walk(o, func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok && e.Password && found == nil {
			found = e
		}
	})
	if found == nil {
		t.Fatal("no password entry")
	}
	return found
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

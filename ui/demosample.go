package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// DemoSample is a client of the demo's token server that a person may add
// under a name of their own to practise Add client.
type DemoSample struct {
	TokenURL string
	ClientID string
	Secret   string
	Scopes   []string
}

// DemoSampler is a DemoControl that can show a sample client: the Demo
// menu then offers "Sample client to practise Add client…".
type DemoSampler interface {
	Sample() (DemoSample, error)
}

// showDemoSample shows the demo's sample client with a Copy button for
// each value, and a button to open Add client.
func (u *UI) showDemoSample(s DemoSampler) {
	sample, err := s.Sample()
	if err != nil {
		u.tell("Demo", "No sample client: "+err.Error())
		return
	}
	var d *dialog.CustomDialog
	rows := container.New(layout.NewFormLayout())
	row := func(label, value string, copyIt func()) {
		v := &widget.Label{Text: value, Selectable: true, Wrapping: fyne.TextWrapBreak, TextStyle: fyne.TextStyle{Monospace: true}}
		rows.Add(widget.NewLabelWithStyle(label, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		rows.Add(container.NewBorder(nil, nil, nil, &widget.Button{Icon: theme.ContentCopyIcon(), Importance: widget.LowImportance, OnTapped: copyIt}, v))
	}
	plain := func(label, value string) func() {
		return func() {
			u.app.Clipboard().SetContent(value)
			u.setStatus("Copied the sample " + label)
		}
	}
	row("Token URL", sample.TokenURL, plain("token URL", sample.TokenURL))
	row("Client ID", sample.ClientID, plain("client id", sample.ClientID))
	row("Client secret", sample.Secret, func() {
		u.clip.copy(sample.Secret, u.prefs.clipboardClear()) // a secret: cleared like a token
		u.setStatus("Copied the sample client secret; the clipboard clears as after copying a token")
	})
	row("Scopes", strings.Join(sample.Scopes, " "), plain("scopes", strings.Join(sample.Scopes, " ")))
	intro := widget.NewLabel("The demo's token server accepts this client under any name. Open Add client, give it a name of your own (e.g. my-first-client), paste these values, press Test, then Save. It is a demo secret: never use it elsewhere.")
	intro.Wrapping = fyne.TextWrapWord
	open := &widget.Button{Text: "Open Add client", Icon: theme.ContentAddIcon(), Importance: widget.HighImportance, OnTapped: func() {
		d.Hide()
		u.showForm(nil)
	}}
	closeBtn := &widget.Button{Text: "Close", OnTapped: func() { d.Hide() }}
	d = dialog.NewCustomWithoutButtons("Sample client to practise Add client", container.NewVBox(intro, rows), u.win)
	d.SetButtons([]fyne.CanvasObject{closeBtn, open})
	d.Resize(fyne.NewSize(640, 0))
	u.showDialog(d)
}

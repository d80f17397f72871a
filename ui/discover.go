package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/authserver"
	"github.com/tokentray/tokentray/vault"
)

// discoverRow is the form's "Issuer URL … Discover" row: it fills the token
// URL and the auth style from the server's metadata (/.well-known/).
type discoverRow struct {
	issuer *widget.Entry
	btn    *widget.Button
	status *widget.Label // what discovery found, or why it failed
}

// newDiscoverRow builds the row for f.
func (f *clientForm) newDiscoverRow() fyne.CanvasObject {
	d := &discoverRow{
		issuer: widget.NewEntry(),
		status: &widget.Label{Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameCaptionText},
	}
	d.issuer.SetPlaceHolder("optional: https://auth.example.com, to discover the token URL")
	d.btn = &widget.Button{Text: "Discover", Icon: theme.SearchIcon(), OnTapped: f.onDiscover}
	d.status.Hide()
	f.disc = d
	return container.NewVBox(container.NewBorder(nil, nil, nil, d.btn, d.issuer), d.status)
}

// onDiscover reads the issuer's metadata off the UI thread, then sets the
// token URL and auth style.
func (f *clientForm) onDiscover() {
	d, u := f.disc, f.u
	issuer := d.issuer.Text
	d.btn.Disable()
	d.status.Importance = widget.MediumImportance
	d.status.SetText("Reading the server's metadata…")
	d.status.Show()
	u.async(func() {
		m, err := authserver.Discover(u.ctx, u.opts.HTTPClient, issuer, authserver.DefaultTimeout)
		var style vault.AuthStyle
		if err == nil {
			style, err = m.AuthStyle()
		}
		uiDo(func() { f.showDiscovered(m, style, err) })
	})
}

func (f *clientForm) showDiscovered(m authserver.Metadata, style vault.AuthStyle, err error) {
	d := f.disc
	d.btn.Enable()
	if err != nil {
		d.status.Importance = widget.DangerImportance
		d.status.SetText(err.Error())
		return
	}
	f.tokenURL.SetText(m.TokenEndpoint)
	f.auth.SetSelectedIndex(map[vault.AuthStyle]int{vault.AuthAuto: 0, vault.AuthHeader: 1, vault.AuthBody: 2}[style])
	d.status.Importance = widget.SuccessImportance
	d.status.SetText("Token URL and auth style set from " + m.URL)
}

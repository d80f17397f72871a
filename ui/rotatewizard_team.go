package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/teamkv"
	"github.com/tokentray/tokentray/vault"
)

// teamOf returns the team source that owns the client c, or nil for a local
// client.
func (u *UI) teamOf(c vault.Client) *teamkv.Team {
	if c.Source == "" || u.opts.Store == nil {
		return nil
	}
	for _, src := range u.opts.Store.Sources() {
		if t, ok := src.(*teamkv.Team); ok && t.Name() == c.Source {
			return t
		}
	}
	return nil
}

// showTeam is the wizard of a team's client: the new secret is proven with a
// real token request and written to the team's Vault as a new version with
// check-and-set, in one step (as `tokentray rotate` does); every member
// switches at their next sync. There is nothing staged to finish or cancel.
func (w *rotateWizard) showTeam(c vault.Client, team *teamkv.Team) {
	line := fmt.Sprintf("%s belongs to team %s: the new secret is proven with a real token request, then written to the team's Vault; every member switches at their next sync.", c.Name, team.Name())
	if c.Problem != "" {
		w.show([]fyne.CanvasObject{w.closeButton("Close")},
			wrapped(line, widget.MediumImportance),
			wrapped("The team's entry is broken: "+c.Problem+". A team admin fixes it in Vault first.", widget.DangerImportance))
		return
	}
	entry := widget.NewPasswordEntry()
	entry.SetPlaceHolder("paste the new client secret")
	write := &widget.Button{Text: "Prove and write to Vault", Importance: widget.HighImportance}
	write.OnTapped = func() { w.onTeamRotate(c, team, entry.Text) }
	entry.OnSubmitted = func(string) { write.OnTapped() }
	w.show([]fyne.CanvasObject{w.closeButton("Close"), write},
		wrapped(line, widget.MediumImportance),
		wrapped(rotation.SecretSourceHelp, widget.LowImportance),
		entry)
	w.u.win.Canvas().Focus(entry)
}

func (w *rotateWizard) onTeamRotate(c vault.Client, team *teamkv.Team, secret string) {
	if strings.TrimSpace(secret) == "" {
		w.say(widget.DangerImportance, "Paste the new secret first.")
		return
	}
	hc := w.u.opts.HTTPClient
	w.busy("Proving the new secret and writing it to the team's Vault…", func() func() {
		res, err := team.Rotate(context.Background(), c.Name, secret, func(ctx context.Context, c vault.Client, secret string) error {
			_, err := refresher.Exchange(ctx, hc, c, secret, nil)
			return err
		})
		return func() {
			if err != nil {
				w.say(widget.DangerImportance, teamRotateProblem(err))
				return
			}
			done := fmt.Sprintf("Rotated: team version %d → %d. This computer uses the new secret now; every member switches at their next sync.", res.FromVersion, res.Version)
			if res.IndexWarning != "" {
				done += " " + res.IndexWarning
			}
			w.say(widget.SuccessImportance, done)
			w.show([]fyne.CanvasObject{w.closeButton("Done")})
			w.u.reload()
		}
	})
}

// teamRotateProblem is the one sentence the wizard shows for a failed team
// rotation: the refresher's words when the new secret was refused, else the
// team source's own sentence (403, a lost check-and-set, an expired Vault
// token) without its package prefix.
func teamRotateProblem(err error) string {
	var re *refresher.Error
	if errors.As(err, &re) {
		return "The new secret did not work, so nothing was written to Vault: " + re.Words().Detail
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "teamkv: rotate "); ok {
		if _, after, ok := strings.Cut(rest, ": "); ok {
			msg = after
		}
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

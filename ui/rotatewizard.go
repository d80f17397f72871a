package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

// rotateWizard is the "Rotate secret" dialog: package rotation's flow step
// by step (status, stage, prove, switch), with Finish and Cancel for a
// rotation in progress. Its fields belong to the UI thread; the keyring and
// the token requests run off it through u.async.
type rotateWizard struct {
	u       *UI
	name    string
	rot     *rotation.Rotator
	d       *dialog.CustomDialog
	content *fyne.Container // the current step's widgets
	msg     *widget.Label   // progress and errors
}

// showRotate opens the rotation wizard for a client.
func (u *UI) showRotate(name string) {
	if u.opts.Store == nil {
		return
	}
	w := &rotateWizard{
		u:       u,
		name:    name,
		rot:     &rotation.Rotator{Store: u.opts.Store, HTTPClient: u.opts.HTTPClient},
		content: container.NewVBox(),
		msg:     &widget.Label{Wrapping: fyne.TextWrapWord},
	}
	w.d = dialog.NewCustomWithoutButtons("Rotate the secret of "+name, container.NewVBox(w.content, w.msg), u.win)
	w.d.Resize(fyne.NewSize(560, 0))
	if c, err := u.opts.Store.Get(name); err == nil && c.Source != "" {
		if team := u.teamOf(c); team != nil {
			w.showTeam(c, team)
		} else {
			w.say(widget.DangerImportance, fmt.Sprintf("%s belongs to team %s, which is not configured on this computer: tokentray team add %s", name, c.Source, c.Source))
			w.show([]fyne.CanvasObject{w.closeButton("Close")})
		}
		u.showDialog(w.d)
		return
	}
	w.loadStatus()
	u.showDialog(w.d)
}

// busy shows a progress message and runs f off the UI thread; f's result is
// applied with then on the UI thread.
func (w *rotateWizard) busy(text string, f func() func()) {
	w.say(widget.MediumImportance, text)
	w.u.async(func() {
		then := f()
		uiDo(then)
	})
}

func (w *rotateWizard) say(imp widget.Importance, text string) {
	w.msg.Importance = imp
	w.msg.SetText(text)
}

func (w *rotateWizard) show(buttons []fyne.CanvasObject, objs ...fyne.CanvasObject) {
	w.content.Objects = objs
	w.content.Refresh()
	w.d.SetButtons(buttons)
}

func wrapped(text string, imp widget.Importance) *widget.Label {
	return &widget.Label{Text: text, Wrapping: fyne.TextWrapWord, Importance: imp}
}

// loadStatus is step 1: the status, and Finish/Cancel when a rotation is
// in progress.
func (w *rotateWizard) loadStatus() {
	w.busy("Reading the status…", func() func() {
		st, err := w.rot.Status(w.name)
		return func() {
			if err != nil {
				w.say(widget.DangerImportance, err.Error())
				w.show([]fyne.CanvasObject{w.closeButton("Close")})
				return
			}
			w.say(widget.MediumImportance, "")
			w.showStatus(st)
		}
	})
}

func (w *rotateWizard) showStatus(st rotation.Status) {
	rs := st.Rotation
	line := "Secret date unknown: the 90-day clock starts with this rotation."
	if !rs.SetAt.IsZero() {
		line = fmt.Sprintf("Secret set %s (%s ago), due %s: %s.",
			rs.SetAt.Local().Format("2 Jan 2006"), plural(rs.AgeDays, "day"), rs.DueAt.Local().Format("2 Jan 2006"), rs.Label())
	}
	objs := []fyne.CanvasObject{wrapped(line, widget.MediumImportance)}
	buttons := []fyne.CanvasObject{w.closeButton("Close")}
	if st.InProgress {
		since := ""
		if !st.StartedAt.IsZero() {
			since = " since " + st.StartedAt.Local().Format("2 Jan 15:04")
		}
		text := "A rotation is in progress" + since + ": a new secret is staged. Finish proves it with a real token request and switches to it; Cancel rotation discards it and keeps the current secret."
		if !st.Staged {
			text = "An interrupted rotation" + since + " left no staged secret: Cancel rotation clears it, or stage a new secret below."
		}
		objs = append(objs, wrapped(text, widget.WarningImportance))
		buttons = append(buttons, &widget.Button{Text: "Cancel rotation", OnTapped: w.onCancel})
		if st.Staged {
			buttons = append(buttons, &widget.Button{Text: "Finish", Importance: widget.HighImportance, OnTapped: w.onProve})
		}
	}
	entry := newEscEntry(true, func() { w.d.Hide() }) // Escape closes the wizard from the field too
	entry.SetPlaceHolder("paste the new client secret")
	stage := &widget.Button{Text: "Stage and prove", Importance: widget.HighImportance, OnTapped: func() { w.onStage(entry.Text, false) }}
	if st.InProgress && st.Staged {
		// The staged secret may be a proven one: replacing it is asked first.
		stage.Importance = widget.MediumImportance
		stage.Text = "Replace the staged secret…"
		stage.OnTapped = func() { w.confirmReplace(entry.Text) }
	}
	entry.OnSubmitted = func(string) { stage.OnTapped() }
	objs = append(objs,
		widget.NewSeparator(),
		wrapped(rotation.SecretSourceHelp, widget.LowImportance),
		entry,
	)
	if !st.InProgress {
		objs = append(objs, widget.NewSeparator(), w.secretDateRow())
	}
	w.show(append(buttons, stage), objs...)
	w.u.win.Canvas().Focus(entry)
}

// secretDateRow corrects the date of the current secret, for a secret
// older than its entry in Tokentray ("secret created on ...").
func (w *rotateWizard) secretDateRow() fyne.CanvasObject {
	date := newEscEntry(false, func() { w.d.Hide() })
	date.SetPlaceHolder("YYYY-MM-DD")
	set := &widget.Button{Text: "Set date", OnTapped: func() {
		day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(date.Text), time.Local)
		if err != nil {
			w.say(widget.DangerImportance, "Give the date as YYYY-MM-DD, e.g. 2026-01-31.")
			return
		}
		w.busy("Saving the date…", func() func() {
			err := rotation.SetSecretDate(w.u.opts.Store, w.name, day)
			return func() {
				if err != nil {
					w.say(widget.DangerImportance, problem(err))
					return
				}
				w.u.reload()
				w.loadStatus()
			}
		})
	}}
	// The label goes above the entry: beside it, a wrapping label gets no
	// width and wraps one character per line.
	return container.NewVBox(
		wrapped("Secret older than its entry here? Give the date it was created on:", widget.LowImportance),
		container.NewBorder(nil, nil, nil, set, date))
}

// onStage is step 2, followed by step 3: a secret the server refuses is
// not kept staged (rotation.StageAndProve). replace confirms replacing a
// secret staged earlier.
func (w *rotateWizard) onStage(text string, replace bool) {
	secret, err := vault.NormalizeSecret(text)
	if err != nil {
		w.say(widget.DangerImportance, problem(err))
		return
	}
	w.busy("Staging the new secret and proving it with a real token request…", func() func() {
		p, err := w.rot.StageAndProve(w.u.ctx, w.name, secret, replace)
		return w.afterProof(p, err)
	})
}

// confirmReplace asks before a new secret replaces the staged one (which
// may have been proven already).
func (w *rotateWizard) confirmReplace(text string) {
	if _, err := vault.NormalizeSecret(text); err != nil {
		w.say(widget.DangerImportance, problem(err))
		return
	}
	dialog.ShowConfirm("Replace the staged secret?",
		"A new secret is staged already (perhaps proven). Replace it with the one you pasted? If the server refuses the new one, the staged one is kept.",
		func(ok bool) {
			if ok {
				w.onStage(text, true)
			}
		}, w.u.win)
}

func (w *rotateWizard) onProve() {
	w.busy("Proving the staged secret with a real token request…", func() func() {
		p, err := w.rot.ProveStaged(w.u.ctx, w.name)
		return w.afterProof(p, err)
	})
}

// afterProof returns what to show after step 3 (it runs off the UI thread
// and returns the UI change).
func (w *rotateWizard) afterProof(p *rotation.Proof, err error) func() {
	if err == nil {
		return func() { w.showProof(p) }
	}
	return func() {
		w.say(widget.DangerImportance, proofProblem(err))
		w.loadStatusKeepMsg()
		w.u.reload()
	}
}

// proofProblem says in one plain sentence what went wrong when staging or
// proving a new secret, and what to do.
func proofProblem(err error) string {
	var refused *rotation.RefusedError
	switch {
	case errors.As(err, &refused):
		host := refused.Err.Host
		if host == "" {
			host = "The token endpoint"
		}
		kept := "It was not kept"
		if refused.Restored {
			kept = "It was not kept, and the secret staged before stays staged"
		}
		return fmt.Sprintf("%s refused the new secret (%s). %s; the current secret keeps serving tokens. Check that you pasted the whole new secret, or create another one, and paste it again.",
			host, refusalCode(refused.Err), kept)
	case errors.Is(err, rotation.ErrSameSecret):
		return "That is the current secret. Create a new secret at the provider and paste that one."
	case errors.Is(err, rotation.ErrAlreadyStaged):
		return "Another new secret is staged already: finish or cancel that rotation first."
	}
	var re *refresher.Error
	if errors.As(err, &re) {
		host := re.Host
		if host == "" {
			host = "the token endpoint"
		}
		return "The new secret could not be proven because " + host + " could not be reached or asked to wait, so it stays staged: the current secret keeps serving tokens; press Finish to try again."
	}
	return "Nothing changed: " + problem(err)
}

// refusalCode is the short technical reason of a refusal ("HTTP 401
// invalid_client").
func refusalCode(e *refresher.Error) string {
	switch {
	case e.Status != 0 && e.Code != "":
		return fmt.Sprintf("HTTP %d %s", e.Status, e.Code)
	case e.Status != 0:
		return fmt.Sprintf("HTTP %d", e.Status)
	case e.Code != "":
		return e.Code
	}
	return string(e.Class)
}

// loadStatusKeepMsg re-reads the status without clearing the message.
func (w *rotateWizard) loadStatusKeepMsg() {
	msg, imp := w.msg.Text, w.msg.Importance
	w.u.async(func() {
		st, err := w.rot.Status(w.name)
		uiDo(func() {
			if err == nil {
				w.showStatus(st)
			}
			w.say(imp, msg)
		})
	})
}

func (w *rotateWizard) showProof(p *rotation.Proof) {
	w.say(widget.MediumImportance, "")
	objs := []fyne.CanvasObject{
		wrapped("The new secret works: a real token request was granted: "+orDash(strings.Join(p.Granted(), " "))+".", widget.SuccessImportance),
		wrapped("The current secret grants: "+orDash(strings.Join(p.Baseline, " "))+" (from the "+string(p.BaselineFrom)+").", widget.MediumImportance),
	}
	switchBtn := &widget.Button{Text: "Switch to the new secret", Importance: widget.HighImportance}
	accept := false
	if p.Differs() {
		var parts []string
		if len(p.Missing) > 0 {
			parts = append(parts, "no longer granted: "+strings.Join(p.Missing, " "))
		}
		if len(p.Extra) > 0 {
			parts = append(parts, "newly granted: "+strings.Join(p.Extra, " "))
		}
		objs = append(objs, wrapped("The scopes differ ("+strings.Join(parts, "; ")+"). Check the client's scopes at the provider before switching.", widget.WarningImportance))
		switchBtn.Disable()
		objs = append(objs, widget.NewCheck("Switch anyway: I accept the scope change", func(on bool) {
			accept = on
			if on {
				switchBtn.Enable()
			} else {
				switchBtn.Disable()
			}
		}))
	}
	objs = append(objs, wrapped("Switching makes the new secret the current one and drops the old one from the keyring. Tokens issued with the old secret stay valid until they expire.", widget.LowImportance))
	switchBtn.OnTapped = func() { w.onSwitch(p, accept) }
	w.show([]fyne.CanvasObject{
		w.closeButton("Later"),
		&widget.Button{Text: "Cancel rotation", OnTapped: w.onCancel},
		switchBtn,
	}, objs...)
}

// onSwitch is step 4.
func (w *rotateWizard) onSwitch(p *rotation.Proof, accept bool) {
	w.busy("Switching…", func() func() {
		res, err := w.rot.Switch(w.u.ctx, p, rotation.SwitchOptions{AcceptScopeChange: accept})
		return func() {
			if err != nil {
				msg := "Not switched, the current secret stays: " + err.Error()
				if errors.Is(err, rotation.ErrStaleProof) || errors.Is(err, vault.ErrNoNextSecret) {
					msg += " Open Rotate secret again."
				}
				w.say(widget.DangerImportance, msg)
				return
			}
			w.showDone(res)
			w.u.reload()
		}
	})
}

func (w *rotateWizard) showDone(res rotation.Result) {
	w.say(widget.MediumImportance, "")
	objs := []fyne.CanvasObject{wrapped("Rotated: the new secret of "+w.name+" is proven and in use, and the 90-day clock restarted. The old secret is no longer stored.", widget.SuccessImportance)}
	if !res.OldTokenExpiry.IsZero() {
		objs = append(objs, wrapped("Tokens issued with the old secret stay valid until "+res.OldTokenExpiry.Local().Format("2 Jan 15:04")+".", widget.MediumImportance))
	}
	for _, warn := range res.Warnings {
		objs = append(objs, wrapped(warn.Error(), widget.WarningImportance))
	}
	w.u.setStatus("Rotated the secret of " + w.name)
	w.show([]fyne.CanvasObject{w.closeButton("Done")}, objs...)
}

func (w *rotateWizard) onCancel() {
	w.busy("Cancelling…", func() func() {
		err := w.rot.Cancel(w.u.ctx, w.name, nil)
		return func() {
			if err != nil {
				w.say(widget.DangerImportance, err.Error())
				return
			}
			w.say(widget.MediumImportance, "")
			w.show([]fyne.CanvasObject{w.closeButton("Close")}, wrapped("Cancelled: the staged secret is discarded and the current secret stays.", widget.MediumImportance))
			w.u.setStatus("Cancelled the rotation of " + w.name)
			w.u.reload()
		}
	})
}

func (w *rotateWizard) closeButton(text string) *widget.Button {
	return &widget.Button{Text: text, OnTapped: func() { w.d.Hide() }}
}

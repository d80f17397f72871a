package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// refuseCopy says why a client's token must not be copied now, or "": the
// credentials were rejected and no last good token is left. While the last
// good token is valid it is handed out (with a warning, see finishCopy).
func refuseCopy(st refresher.State, now time.Time) string {
	rejected := st.Phase == refresher.PhaseRejected || (st.Err != nil && st.Err.Class == refresher.ClassRejected && st.Phase != refresher.PhaseFresh)
	if rejected && validUntil(st, now).IsZero() {
		host := hostOf(st.Client.TokenURL)
		if host == "" {
			host = "the token endpoint"
		}
		return host + " rejected " + st.Client.Name + "'s credentials and its last token has expired, so there is no token to copy. Rotate the secret, or correct the client with Edit."
	}
	return ""
}

// copyToken copies a valid token of the client (or the Authorization header
// line) to the clipboard, clearing it after the configured delay. A
// rejected client's or an expired token is never copied: the user is told
// why instead. Runs on the UI thread; the token request runs off it.
func (u *UI) copyToken(name string, header bool) {
	st, ok := u.states[name]
	if !ok {
		u.tell("Not copied", "there is no client called "+name+" any more")
		return
	}
	if why := refuseCopy(st, u.time.Now()); why != "" {
		u.tell("Not copied", why)
		return
	}
	if u.refresher == nil {
		u.tell("Not copied", "tokens are not available")
		return
	}
	u.setStatus("Getting a token for " + name + "…")
	minTTL := u.prefs.copyMinTTL()
	if life := st.Expiry.Sub(st.FetchedAt); !st.FetchedAt.IsZero() && life > 0 {
		// Never more than half a token's life: the server could not honour it.
		minTTL = min(minTTL, life/2)
	}
	u.async(func() {
		res, err := u.refresher.Token(u.ctx, name, refresher.TokenOptions{MinTTL: minTTL})
		uiDo(func() { u.finishCopy(name, header, res, err) })
	})
}

func (u *UI) finishCopy(name string, header bool, res refresher.Result, err error) {
	now := u.time.Now()
	if err != nil {
		var re *refresher.Error
		if errors.As(err, &re) {
			what, todo := explain(re, validUntil(u.states[name], now))
			u.tell("Not copied", what+" "+todo)
			return
		}
		u.tell("Not copied", "could not get a token for "+name+": "+err.Error())
		return
	}
	if !res.Token.Valid(now) {
		u.tell("Not copied", name+"'s token has expired and no new one could be fetched. Press Refresh now to see why.")
		return
	}
	text := res.Token.AccessToken
	what := "token"
	if header {
		text = "Authorization: Bearer " + text
		what = "header"
	}
	delay := u.prefs.clipboardClear()
	u.clip.copy(text, delay)
	left := "no expiry"
	if !res.Token.Expiry.IsZero() {
		left = "expires in " + hms(res.Token.Expiry.Sub(now))
	}
	msg := fmt.Sprintf("Copied %s %s, %s", name, what, left)
	if delay > 0 {
		msg += fmt.Sprintf("; the clipboard clears in %d s", int(delay.Seconds()))
	}
	// live counts the clipboard's clearing down, and ends with it.
	live := func(prefix string) func(time.Time) string {
		clearAt := now.Add(delay)
		return func(t time.Time) string {
			if delay <= 0 || !u.clip.holds(text) || !t.Before(clearAt) {
				return ""
			}
			return fmt.Sprintf("%s; the clipboard clears in %d s", prefix, int((clearAt.Sub(t)+time.Second-1)/time.Second))
		}
	}
	if re := res.RefreshErr; re != nil {
		// The last good token, while refreshing fails: usable, but say so.
		warn := fmt.Sprintf("Copied %s's last good %s, valid until %s: refreshing it fails (%s).",
			name, what, res.Token.Expiry.Local().Format("15:04"), failureShort(re))
		u.setStatus(warn)
		u.statusLive = live(warn)
		u.statusWarn(true)
		u.details.copied(name, header)
		if !u.visible || u.prefs.notifyCopy() {
			u.send(&fyne.Notification{Title: "Tokentray: copied the last good token", Content: warn})
		}
		return
	}
	u.setStatus(msg)
	u.statusLive = live(fmt.Sprintf("Copied %s %s, %s", name, what, left))
	u.details.copied(name, header)
	if u.prefs.notifyCopy() {
		u.send(&fyne.Notification{Title: "Tokentray", Content: fmt.Sprintf("Copied %s %s, %s", name, what, left)})
	}
}

// refreshNow fetches a new token for the client.
func (u *UI) refreshNow(name string) {
	if u.refresher == nil {
		return
	}
	u.setStatus("Refreshing " + name + "…")
	u.async(func() {
		res, err := u.refresher.Refresh(u.ctx, name)
		uiDo(func() {
			if err != nil {
				var re *refresher.Error
				if errors.As(err, &re) {
					what, todo := explain(re, validUntil(u.states[name], u.time.Now()))
					u.tell("Refresh failed", what+" "+todo)
					return
				}
				u.tell("Refresh failed", err.Error())
				return
			}
			msg := "Refreshed " + name
			if !res.Token.Expiry.IsZero() {
				msg += ": new token valid until " + res.Token.Expiry.Local().Format("15:04")
			}
			if len(res.Missing) > 0 {
				msg += "; not granted: " + strings.Join(res.Missing, " ")
			}
			u.setStatus(msg)
		})
	})
}

// reload tells the source that the store changed and shows the new list.
func (u *UI) reload() {
	if u.refresher == nil {
		return
	}
	u.async(func() {
		err := u.refresher.Reload()
		uiDo(func() {
			if err != nil {
				u.tell("Reload failed", err.Error())
			}
			u.resync()
		})
	})
}

// confirmRemove asks, then removes the client and its keyring items.
func (u *UI) confirmRemove(name string) {
	st, ok := u.states[name]
	if !ok || u.opts.Store == nil {
		return
	}
	keys := vault.KeyringKeys(st.Client)
	msg := fmt.Sprintf("This deletes from the OS keyring %s's client secret, any staged new secret and its cached tokens (%s), and removes it from Tokentray's list.\n\nThe client itself stays registered at the provider, and tokens already copied stay valid until they expire.",
		name, strings.Join(keys, ", "))
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Remove "+name+"?", "Remove", "Cancel", l, func(ok bool) {
		if ok {
			u.removeClient(name)
		}
	}, u.win)
	d.SetConfirmImportance(widget.DangerImportance)
	d.Resize(fyne.NewSize(520, 0))
	u.showDialog(d)
}

// removeClient removes the client from the store and the list.
func (u *UI) removeClient(name string) {
	store := u.opts.Store
	u.async(func() {
		err := store.Remove(name)
		uiDo(func() {
			var pe *vault.PartialError
			switch {
			case errors.As(err, &pe):
				u.tell("Removed with leftovers", fmt.Sprintf("%s is gone from the list, but these keyring items could not be deleted: %s. Delete them with your keyring manager (service %s).", name, strings.Join(pe.Left, ", "), vault.DefaultService))
			case err != nil:
				u.tell("Not removed", err.Error())
				return
			default:
				u.setStatus("Removed " + name + " and its keyring items")
			}
			delete(u.states, name)
			u.notes.forget(name)
			u.forgetProxy(name)
			if u.selected == name {
				u.selected = ""
				u.details.clear()
			}
			u.refreshAll()
			u.reload()
		})
	})
}

// editClient opens the form on a stored client.
func (u *UI) editClient(name string) {
	st, ok := u.states[name]
	if !ok {
		return
	}
	c := st.Client
	u.showForm(&c)
}

// problem is a validation error's message without the package prefix.
func problem(err error) string {
	var ve *vault.ValidationError
	if errors.As(err, &ve) {
		return ve.Problem
	}
	return err.Error()
}

// onAction runs the window's answer to an error's action for a client.
func (u *UI) onAction(name string, a refresher.Action) {
	switch a {
	case refresher.ActionRotate:
		u.showRotate(name)
	case refresher.ActionEditScopes, refresher.ActionEditURL, refresher.ActionEditParams:
		u.editClient(name)
	case refresher.ActionRetry, refresher.ActionUnlockKeyring:
		u.refreshNow(name)
	}
}

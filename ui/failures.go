package ui

// How the window renders a refresher error: the words are the refresher's
// (refresher.Error.Words, the one place failures are phrased); the window
// adds only what to press.

import (
	"strings"
	"time"

	"github.com/tokentray/tokentray/refresher"
)

// explain says a refresher error for the window: what happened is the
// refresher's own sentence (Words().Detail, the one place failures are
// phrased); what to do names the window's own buttons, never a command
// line. lastGood is the expiry of the last good token (zero when none).
func explain(e *refresher.Error, lastGood time.Time) (what, todo string) {
	if e == nil {
		return "", ""
	}
	w := e.Words()
	what = sentence(w.Detail)
	valid := ""
	if !lastGood.IsZero() && e.ValidUntil.IsZero() {
		valid = " The last good token stays valid until " + lastGood.Local().Format("15:04") + "."
	}
	retry := " later"
	if !e.RetryAt.IsZero() {
		retry = " at " + e.RetryAt.Local().Format("15:04")
	}
	switch w.Action {
	case refresher.ActionRotate:
		todo = "Paste the current secret from the provider's dashboard with Rotate secret, or correct the client id or auth style with Edit."
	case refresher.ActionEditScopes:
		todo = "Remove " + strings.Join(refusedOf(e), " ") + " with Edit, or ask the platform admin to allow it for this client."
	case refresher.ActionEditURL:
		todo = "Correct the token URL with Edit."
	case refresher.ActionEditParams:
		todo = "Correct the endpoint parameters (resource, audience) with Edit."
	case refresher.ActionWait:
		todo = "Nothing to do: Tokentray retries" + retry + "."
	case refresher.ActionUnlockKeyring:
		todo = "Unlock the keyring (log in to your desktop session's keyring), then press Refresh now."
	case refresher.ActionRetry:
		todo = "Tokentray retries with backoff" + retry + "; check the network or the server, or press Refresh now."
	default:
		todo = "Check the client with Edit, then press Refresh now."
	}
	return what, todo + valid
}

// actionLabel is the window's button for an error's action ("" for none).
func actionLabel(a refresher.Action) string {
	switch a {
	case refresher.ActionRotate:
		return "Rotate secret…"
	case refresher.ActionEditScopes:
		return "Edit scopes…"
	case refresher.ActionEditURL:
		return "Edit token URL…"
	case refresher.ActionEditParams:
		return "Edit parameters…"
	case refresher.ActionRetry, refresher.ActionUnlockKeyring:
		return "Retry now"
	}
	return ""
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	if first, _, _ := strings.Cut(s, " "); !strings.ContainsAny(first, ".:0123456789") {
		s = strings.ToUpper(s[:1]) + s[1:] // not a host name
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// refusedOf are the scopes a ClassScope error refused.
func refusedOf(e *refresher.Error) []string {
	refused := namedScopes(e.Scopes, e.Description)
	if len(refused) == 0 {
		return []string{"the refused scope"}
	}
	return refused
}

// failureShort is a few words for a failure, for a status line: the
// refresher's title in lower case ("credentials rejected"), or "can't
// reach HOST" when the endpoint did not answer at all.
func failureShort(e *refresher.Error) string {
	if e.Class == refresher.ClassTransient && e.Status == 0 && e.Host != "" {
		return "can't reach " + e.Host
	}
	return strings.ToLower(e.Words().Title)
}

// namedScopes narrows the scopes of a refused request to those the
// server's message names (refresher.RefusedScopes); when it names none, all
// of them.
func namedScopes(requested []string, description string) []string {
	refused, _ := refresher.RefusedScopes(requested, description)
	return refused
}

package ui

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// severity orders how much attention something needs; the tray icon, the
// badge colours and the sort order all use it.
type severity int

const (
	sevOK severity = iota
	sevInfo
	sevWarn
	sevError
)

// countdown is the text of a client's expiry column at now: "47:12",
// "1:02:03", "refreshing…", "expired", "rejected" or "no token".
func countdown(st refresher.State, now time.Time) string {
	switch st.Phase {
	case refresher.PhaseRefreshing:
		return "refreshing…"
	case refresher.PhaseRejected:
		return "rejected"
	case refresher.PhaseExpired:
		return "expired"
	}
	if st.Expiry.IsZero() {
		if st.Phase == refresher.PhaseFresh {
			return "no expiry"
		}
		return "no token"
	}
	left := st.Expiry.Sub(now)
	if left <= 0 {
		return "expired"
	}
	return clock(left)
}

// clock formats d as m:ss below an hour and h:mm:ss above, rounding down.
func clock(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// tokenSeverity says how worrying a client's token state is at now.
func tokenSeverity(st refresher.State, now time.Time) severity {
	switch st.Phase {
	case refresher.PhaseRejected, refresher.PhaseExpired:
		return sevError
	case refresher.PhaseStale:
		return sevWarn
	case refresher.PhaseRefreshing, refresher.PhaseNone:
		return sevInfo
	}
	if !st.Expiry.IsZero() && !now.Before(st.Expiry) {
		return sevError
	}
	return sevOK
}

// rotationSeverity maps a rotation state to a badge colour.
func rotationSeverity(r vault.RotationStatus) severity {
	switch r.State {
	case vault.RotationOverdue:
		return sevError
	case vault.RotationDueSoon:
		return sevWarn
	case vault.RotationOK:
		return sevOK
	}
	return sevInfo
}

// rotationBadge is the short text of the rotation badge.
func rotationBadge(r vault.RotationStatus) string {
	if r.State == vault.RotationOK {
		return "rotation ok"
	}
	if r.State == "" || r.State == vault.RotationUnknown {
		return "rotation ?"
	}
	if r.State == vault.RotationOverdue && r.DaysLeft == 0 {
		return "overdue since today"
	}
	return r.Label()
}

// overall is the tray's view of all clients: the worst severity and a one
// line status.
func overall(states []refresher.State, now time.Time) (severity, string) {
	if len(states) == 0 {
		return sevOK, "No clients yet"
	}
	var rejected, expired, failing, overdue, dueSoon int
	worst := sevOK
	for _, st := range states {
		switch st.Phase {
		case refresher.PhaseRejected:
			rejected++
		case refresher.PhaseExpired:
			expired++
		case refresher.PhaseStale:
			failing++
		}
		rot := rotationAt(st, now)
		switch rot.State {
		case vault.RotationOverdue:
			overdue++
		case vault.RotationDueSoon:
			dueSoon++
		}
		worst = max(worst, tokenSeverity(st, now), rotationSeverity(rot))
	}
	if worst == sevInfo {
		worst = sevOK // refreshing or waiting for a first token is normal
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(rejected, "rejected")
	add(expired, "expired")
	add(failing, "failing")
	add(overdue, "overdue for rotation")
	add(dueSoon, "due for rotation")
	if len(parts) == 0 {
		if len(states) == 1 {
			return worst, "1 client, token fresh"
		}
		return worst, fmt.Sprintf("%d clients, all tokens fresh", len(states))
	}
	return worst, strings.Join(parts, " · ")
}

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
	refused, _ := refresher.RefusedScopes(e.Scopes, e.Description)
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

// matches reports whether the client matches the filter text (every word,
// case-insensitive, in its name, client id, environment, scopes or host).
func matches(st refresher.State, filter string) bool {
	words := strings.Fields(strings.ToLower(filter))
	if len(words) == 0 {
		return true
	}
	c := st.Client
	hay := strings.ToLower(strings.Join([]string{
		c.Name, c.ClientID, string(c.Environment()), strings.Join(c.Scopes, " "), hostOf(c.TokenURL),
		string(st.Phase), string(st.Rotation.State),
	}, " "))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// Sort orders of the client list.
const (
	sortName     = "Name"
	sortExpiry   = "Expiry"
	sortRotation = "Rotation"
)

var sortModes = []string{sortName, sortExpiry, sortRotation}

// sortStates sorts states in place by mode; ties go by name. It sorts
// pointers and moves each (large) State once.
func sortStates(states []refresher.State, mode string, now time.Time) {
	ptrs := make([]*refresher.State, len(states))
	for i := range states {
		ptrs[i] = &states[i]
	}
	sortStatePtrs(ptrs, mode, now)
	sorted := make([]refresher.State, len(states))
	for i, p := range ptrs {
		sorted[i] = *p
	}
	copy(states, sorted)
}

func sortStatePtrs(states []*refresher.State, mode string, now time.Time) {
	byName := func(a, b *refresher.State) int { return strings.Compare(a.Client.Name, b.Client.Name) }
	switch mode {
	case sortExpiry:
		slices.SortStableFunc(states, func(a, b *refresher.State) int {
			sa, sb := tokenSeverity(*a, now), tokenSeverity(*b, now)
			if d := int(sb) - int(sa); d != 0 && (sa == sevError || sb == sevError) {
				return d // rejected and expired first
			}
			ea, eb := a.Expiry, b.Expiry
			switch {
			case ea.IsZero() && !eb.IsZero():
				return 1
			case !ea.IsZero() && eb.IsZero():
				return -1
			}
			if c := ea.Compare(eb); c != 0 {
				return c
			}
			return byName(a, b)
		})
	case sortRotation:
		slices.SortStableFunc(states, func(a, b *refresher.State) int {
			return compareRotation(a.Client.Name, rotationAt(*a, now), b.Client.Name, rotationAt(*b, now))
		})
	default:
		slices.SortStableFunc(states, byName)
	}
}

// compareRotation puts overdue first, then due soon, then unknown, then ok,
// each by days left, then by name.
func compareRotation(na string, a vault.RotationStatus, nb string, b vault.RotationStatus) int {
	if d := b.State.Severity() - a.State.Severity(); d != 0 {
		return d
	}
	if d := a.DaysLeft - b.DaysLeft; d != 0 {
		return d
	}
	return strings.Compare(na, nb)
}

// scopesText is the list's one-line scope summary.
func scopesText(scopes []string) string {
	if len(scopes) == 0 {
		return "no scopes requested"
	}
	return strings.Join(scopes, "  ")
}

// ago is a coarse "how long ago" for status lines.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

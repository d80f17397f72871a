package ui

// What the list, the tray and the badges say about a client's state, and
// how much attention it needs.

import (
	"fmt"
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
	return hms(left)
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

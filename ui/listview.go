package ui

// Which clients the list shows (the filter) and in which order.

import (
	"slices"
	"strings"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

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

package vault

import (
	"strconv"
	"time"
)

// RotationPolicy says how often secrets must be rotated and from when a
// rotation counts as due soon.
type RotationPolicy struct {
	Period  int // days a secret may live: 90 on the platform
	DueSoon int // from this day of its life a secret is due soon: 76
}

// DefaultRotationPolicy is the platform's rule: rotate every 90 days; warn
// from day 76 (two weeks ahead).
var DefaultRotationPolicy = RotationPolicy{Period: 90, DueSoon: 76}

// RotationState is ok, due soon or overdue (unknown without a date).
type RotationState string

// Rotation states, in increasing severity.
const (
	RotationUnknown RotationState = "unknown"
	RotationOK      RotationState = "ok"
	RotationDueSoon RotationState = "due-soon"
	RotationOverdue RotationState = "overdue"
)

// Severity orders states for sorting: overdue first.
func (s RotationState) Severity() int {
	switch s {
	case RotationOverdue:
		return 3
	case RotationDueSoon:
		return 2
	case RotationUnknown:
		return 1
	}
	return 0
}

// RotationStatus is a client's rotation status at one moment.
type RotationStatus struct {
	State RotationState
	// AgeDays is how many whole days the secret has lived (day 0 is the day
	// it was set).
	AgeDays int
	// DaysLeft is Period minus AgeDays: negative when overdue.
	DaysLeft int
	SetAt    time.Time
	DueAt    time.Time // SetAt plus Period days
}

// Rotation computes the rotation status of a secret set at setAt, as of now.
// It is a pure function: whole days are counted in 24-hour steps from setAt.
func Rotation(setAt, now time.Time, p RotationPolicy) RotationStatus {
	if setAt.IsZero() {
		return RotationStatus{State: RotationUnknown}
	}
	age := max(int(now.Sub(setAt)/(24*time.Hour)), 0)
	st := RotationStatus{
		AgeDays:  age,
		DaysLeft: p.Period - age,
		SetAt:    setAt,
		DueAt:    setAt.Add(time.Duration(p.Period) * 24 * time.Hour),
	}
	switch {
	case age >= p.Period:
		st.State = RotationOverdue
	case age >= p.DueSoon:
		st.State = RotationDueSoon
	default:
		st.State = RotationOK
	}
	return st
}

// Label is a short text for badges: "ok", "due in 5 days", "overdue since
// today" (on the due date), "overdue by 3 days".
func (s RotationStatus) Label() string {
	switch s.State {
	case RotationOverdue:
		if s.DaysLeft == 0 {
			return "overdue since today"
		}
		return "overdue by " + DaysText(-s.DaysLeft)
	case RotationDueSoon:
		return "due in " + DaysText(s.DaysLeft)
	case RotationOK:
		return "ok"
	}
	return "unknown"
}

// DaysText is n days in words: "1 day", "5 days". The command line and the
// window word every count of days with it.
func DaysText(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

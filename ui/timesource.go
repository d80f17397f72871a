package ui

import "time"

// TimeSource is the time source of the UI: the clipboard timer, the countdowns
// and the notification rules read it, so tests can move time by hand.
type TimeSource interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, unless stopped.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call; it reports whether it did.
	Stop() bool
}

type realTime struct{}

func (realTime) Now() time.Time                            { return time.Now() }
func (realTime) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

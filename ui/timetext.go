package ui

// How times and durations are written in the window.

import (
	"fmt"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// hms formats d as m:ss below an hour and h:mm:ss above, rounding down.
func hms(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
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

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func agoText(t, now time.Time) string {
	if t.After(now) {
		d := t.Sub(now)
		if d < time.Hour {
			return "in " + hms(d)
		}
		return "in " + d.Round(time.Minute).String()
	}
	return ago(t, now)
}

func dueText(r vault.RotationStatus) string {
	if r.DaysLeft < 0 {
		return "overdue by " + vault.DaysText(-r.DaysLeft)
	}
	return dueIn(r.DaysLeft)
}

func dueIn(daysLeft int) string {
	switch {
	case daysLeft <= 0:
		return "today"
	case daysLeft == 1:
		return "tomorrow"
	}
	return "in " + vault.DaysText(daysLeft)
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02")
}

package rotation

import (
	"fmt"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// Schedule says on which days of a secret's life a rotation reminder is due:
// each of Days, then every day from Period on (overdue).
//
// A reminder is identified by the age of the
// secret in whole days when it falls due (76, 83, 89, 90, 91, ...). The
// reminder due now is the latest one whose day has been reached; it is due
// only if it is later than the last one sent for the same secret. So a
// machine asleep from day 70 to day 85 sends the day-83 reminder once (not
// 76 and 83), and an overdue secret gets one reminder a day. A new secret
// (a different SecretSetAt) starts again from nothing.
type Schedule struct {
	Days   []int // reminder days before the due date, ascending
	Period int   // from this day on, one reminder a day
}

// DefaultSchedule reminds on days 76, 83 and 89 of a secret's life, then
// daily from day 90 (overdue), matching vault.DefaultRotationPolicy.
var DefaultSchedule = Schedule{Days: []int{76, 83, 89}, Period: 90}

// Sent records the last reminder sent for a client: the SecretSetAt of the
// secret it was about and its Day. The zero Sent means none was sent. The
// caller persists it (it is not secret).
type Sent struct {
	SetAt time.Time `json:"set_at"`
	Day   int       `json:"day"`
}

// Reminder is a reminder due for a client.
type Reminder struct {
	Day     int                  // the secret's age in days that made it due
	Overdue bool                 // Day >= Period
	Status  vault.RotationStatus // the status it was computed from
}

// Sent returns the record to keep once r has been delivered.
func (r Reminder) Sent() Sent { return Sent{SetAt: r.Status.SetAt, Day: r.Day} }

// Title is a notification title for the client called name.
func (r Reminder) Title(name string) string {
	if r.Overdue {
		return fmt.Sprintf("Rotate the secret of %s now", name)
	}
	return fmt.Sprintf("Rotate the secret of %s soon", name)
}

// Body is a notification body: the status and the due date.
func (r Reminder) Body() string {
	due := r.Status.DueAt.Local().Format("2 Jan 2006")
	if r.Overdue {
		return fmt.Sprintf("The secret is %s (it was due on %s). Open Rotate secret to replace it.", r.Status.Label(), due)
	}
	return fmt.Sprintf("The secret is %s (on %s). Open Rotate secret to replace it.", r.Status.Label(), due)
}

// Due returns the reminder due for a client with status st, given the last
// reminder sent, and whether one is due. It is a pure function.
func (s Schedule) Due(st vault.RotationStatus, last Sent) (Reminder, bool) {
	if st.SetAt.IsZero() || st.State == vault.RotationUnknown {
		return Reminder{}, false
	}
	lastDay := last.Day
	if !last.SetAt.Equal(st.SetAt) {
		lastDay = -1 // a reminder about another secret
	}
	day := -1
	if s.Period > 0 && st.AgeDays >= s.Period {
		day = st.AgeDays
	} else {
		for _, d := range s.Days {
			if d <= st.AgeDays {
				day = max(day, d)
			}
		}
	}
	if day < 0 || day <= lastDay {
		return Reminder{}, false
	}
	return Reminder{Day: day, Overdue: s.Period > 0 && day >= s.Period, Status: st}, true
}

// DueReminder is DefaultSchedule.Due.
func DueReminder(st vault.RotationStatus, last Sent) (Reminder, bool) {
	return DefaultSchedule.Due(st, last)
}

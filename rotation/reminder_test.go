package rotation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

func TestDueReminder(t *testing.T) {
	setAt := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	other := setAt.Add(-100 * 24 * time.Hour)
	day := func(n int) vault.RotationStatus {
		return vault.Rotation(setAt, setAt.Add(time.Duration(n)*24*time.Hour+time.Hour), vault.DefaultRotationPolicy)
	}
	tests := []struct {
		name    string
		st      vault.RotationStatus
		last    rotation.Sent
		wantDay int // 0: none due
	}{
		{"unknown date", vault.RotationStatus{State: vault.RotationUnknown}, rotation.Sent{}, 0},
		{"day 0", day(0), rotation.Sent{}, 0},
		{"day 75", day(75), rotation.Sent{}, 0},
		{"day 76 first", day(76), rotation.Sent{}, 76},
		{"day 76 already sent", day(76), rotation.Sent{SetAt: setAt, Day: 76}, 0},
		{"day 80 after 76", day(80), rotation.Sent{SetAt: setAt, Day: 76}, 0},
		{"day 83 after 76", day(83), rotation.Sent{SetAt: setAt, Day: 76}, 83},
		{"asleep 70 to 85", day(85), rotation.Sent{}, 83},
		{"day 89 after 83", day(89), rotation.Sent{SetAt: setAt, Day: 83}, 89},
		{"day 90 overdue", day(90), rotation.Sent{SetAt: setAt, Day: 89}, 90},
		{"day 91 daily", day(91), rotation.Sent{SetAt: setAt, Day: 90}, 91},
		{"day 91 already sent", day(91), rotation.Sent{SetAt: setAt, Day: 91}, 0},
		{"day 120 after a week off", day(120), rotation.Sent{SetAt: setAt, Day: 113}, 120},
		{"last sent about an older secret", day(77), rotation.Sent{SetAt: other, Day: 95}, 76},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := rotation.DueReminder(tt.st, tt.last)
			got := 0
			if ok {
				got = r.Day
			}
			if got != tt.wantDay {
				t.Fatalf("DueReminder(age %d, last %+v) = day %d (due %v); want day %d", tt.st.AgeDays, tt.last, got, ok, tt.wantDay)
			}
			if !ok {
				return
			}
			if want := tt.wantDay >= 90; r.Overdue != want {
				t.Errorf("Overdue %v; want %v", r.Overdue, want)
			}
			if s := r.Sent(); !s.SetAt.Equal(setAt) || s.Day != tt.wantDay {
				t.Errorf("Sent() = %+v; want {%v %d}", s, setAt, tt.wantDay)
			}
			if _, again := rotation.DueReminder(tt.st, r.Sent()); again {
				t.Errorf("a reminder is due again right after sending it")
			}
			title, body := r.Title(name), r.Body()
			if !strings.Contains(title, name) || !strings.Contains(body, tt.st.Label()) {
				t.Errorf("title %q, body %q; want the name and %q", title, body, tt.st.Label())
			}
		})
	}
}

package vault_test

import (
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

func TestRotationBoundaries(t *testing.T) {
	setAt := time.Date(2026, 1, 10, 9, 30, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		desc     string
		now      time.Time
		state    vault.RotationState
		age      int
		daysLeft int
		label    string
	}{
		{"just set", setAt, vault.RotationOK, 0, 90, "ok"},
		{"before it was set (clock skew)", setAt.Add(-time.Hour), vault.RotationOK, 0, 90, "ok"},
		{"day 75 starts", setAt.Add(75 * day), vault.RotationOK, 75, 15, "ok"},
		{"last second of day 75", setAt.Add(76*day - time.Second), vault.RotationOK, 75, 15, "ok"},
		{"day 76 starts", setAt.Add(76 * day), vault.RotationDueSoon, 76, 14, "due in 14 days"},
		{"day 88", setAt.Add(88 * day), vault.RotationDueSoon, 88, 2, "due in 2 days"},
		{"day 89 starts", setAt.Add(89 * day), vault.RotationDueSoon, 89, 1, "due in 1 day"},
		{"last second of day 89", setAt.Add(90*day - time.Second), vault.RotationDueSoon, 89, 1, "due in 1 day"},
		{"day 90 starts", setAt.Add(90 * day), vault.RotationOverdue, 90, 0, "overdue since today"},
		{"day 91", setAt.Add(91 * day), vault.RotationOverdue, 91, -1, "overdue by 1 day"},
		{"day 100", setAt.Add(100 * day), vault.RotationOverdue, 100, -10, "overdue by 10 days"},
	}
	wantDue := setAt.Add(90 * day)
	for _, tt := range tests {
		got := vault.Rotation(setAt, tt.now, vault.DefaultRotationPolicy)
		if got.State != tt.state || got.AgeDays != tt.age || got.DaysLeft != tt.daysLeft {
			t.Errorf("%s: got state %s, age %d, days left %d; want %s, %d, %d",
				tt.desc, got.State, got.AgeDays, got.DaysLeft, tt.state, tt.age, tt.daysLeft)
		}
		if l := got.Label(); l != tt.label {
			t.Errorf("%s: Label() = %q, want %q", tt.desc, l, tt.label)
		}
		if !got.DueAt.Equal(wantDue) || !got.SetAt.Equal(setAt) {
			t.Errorf("%s: DueAt %v, SetAt %v; want %v, %v", tt.desc, got.DueAt, got.SetAt, wantDue, setAt)
		}
	}
}

func TestRotationUnknownWithoutDate(t *testing.T) {
	got := vault.Rotation(time.Time{}, time.Now(), vault.DefaultRotationPolicy)
	if got.State != vault.RotationUnknown || got.Label() != "unknown" {
		t.Errorf("Rotation(zero time) = %+v (label %q), want state unknown", got, got.Label())
	}
}

func TestRotationCustomPolicy(t *testing.T) {
	setAt := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p := vault.RotationPolicy{Period: 30, DueSoon: 20}
	tests := []struct {
		days  int
		state vault.RotationState
	}{{19, vault.RotationOK}, {20, vault.RotationDueSoon}, {29, vault.RotationDueSoon}, {30, vault.RotationOverdue}}
	for _, tt := range tests {
		got := vault.Rotation(setAt, setAt.AddDate(0, 0, tt.days), p)
		if got.State != tt.state {
			t.Errorf("day %d of a 30-day policy: got %s, want %s", tt.days, got.State, tt.state)
		}
	}
}

func TestRotationStateSeverity(t *testing.T) {
	order := []vault.RotationState{vault.RotationOK, vault.RotationUnknown, vault.RotationDueSoon, vault.RotationOverdue}
	for i := 1; i < len(order); i++ {
		if order[i-1].Severity() >= order[i].Severity() {
			t.Errorf("Severity(%s) = %d, want less than Severity(%s) = %d",
				order[i-1], order[i-1].Severity(), order[i], order[i].Severity())
		}
	}
}

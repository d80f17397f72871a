package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/refresher"
)

// A stale token only says "refresh failing" when a refresh did fail; a token
// merely inside its margin says the refresh is due.
func TestDetailsStaleLine(t *testing.T) {
	due := state("due", refresher.PhaseStale, 2*time.Minute)
	failing := state("failing", refresher.PhaseStale, 2*time.Minute)
	failing.Err = &refresher.Error{Class: refresher.ClassTransient, Client: "failing"}
	failing.StaleSince = t0.Add(-time.Minute)
	r := newRig(t, due, failing)
	for _, tt := range []struct{ name, want, not string }{
		{"due", "refresh due", "failing"},
		{"failing", "refresh failing", "refresh due"},
	} {
		r.ui.selectClient(tt.name)
		text := allText(r.ui.details.root)
		if !strings.Contains(text, tt.want) || strings.Contains(text, tt.not) {
			t.Errorf("%s: details say\n%s\nwant %q and not %q", tt.name, text, tt.want, tt.not)
		}
	}
}

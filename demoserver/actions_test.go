package demoserver

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestActionsToggle(t *testing.T) {
	s := start(t, Options{})
	actions := s.Actions()
	if len(actions) != 9 {
		t.Fatalf("%d actions; want 9 (3 secrets, 3 scopes, rate limit, down, clear)", len(actions))
	}
	byLabel := func(sub string) Action {
		t.Helper()
		for _, a := range actions {
			if strings.Contains(a.Label, sub) {
				return a
			}
		}
		t.Fatalf("no action labelled with %q", sub)
		return Action{}
	}
	// outcome of a chat-bot request for scopes: "" (success), an error code, or "refused".
	outcome := func(scopes ...string) string {
		_, err := fetch(t, s, chatBot, oauth2.AuthStyleInHeader, scopes...)
		switch {
		case err == nil:
			return ""
		case isRefused(err):
			return "refused"
		}
		return retrieveError(t, err).ErrorCode
	}
	tests := []struct {
		label  string
		scopes []string
		want   string
	}{
		{label: "secret of chat-bot", want: "invalid_client"},
		{label: "models:read of chat-bot", scopes: []string{"models:read"}, want: "invalid_scope"},
		{label: "Rate-limit", want: "rate_limited"},
		{label: "server down", want: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			a := byLabel(tt.label)
			if a.Active == nil {
				t.Fatalf("no Active func; want a toggle")
			}
			if a.Active() {
				t.Fatalf("before toggling: Active() = true; want off")
			}
			for i, want := range []string{tt.want, "", tt.want} {
				if err := a.Do(); err != nil {
					t.Fatalf("Do %d: %v", i+1, err)
				}
				if got := outcome(tt.scopes...); got != want {
					t.Errorf("after %d toggles: %q; want %q", i+1, got, want)
				}
				if got, wantOn := a.Active(), want != ""; got != wantOn {
					t.Errorf("after %d toggles: Active() = %v; want %v", i+1, got, wantOn)
				}
			}
			if err := byLabel("Clear all trouble").Do(); err != nil {
				t.Fatal(err)
			}
			if got := outcome(tt.scopes...); got != "" {
				t.Errorf("after Clear: %q; want success", got)
			}
		})
	}
	if got := outcome(); got != "" {
		t.Errorf("another client's toggles affect chat-bot? %q", got)
	}
	if err := byLabel("secret of data-sync").Do(); err != nil {
		t.Fatal(err)
	}
	if got := outcome(); got != "" {
		t.Errorf("rejecting data-sync's secret: chat-bot gets %q; want success", got)
	}
}

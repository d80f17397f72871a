package refresher

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Words is the one place failures are phrased: a title, a detail with the
// facts, a fix naming a command that exists, an action for a button.
func TestErrorWords(t *testing.T) {
	at := time.Date(2026, 3, 4, 15, 4, 5, 0, time.Local)
	tests := []struct {
		name   string
		err    *Error
		title  string
		detail []string
		fix    []string // "" entries: Fix must be empty
		action Action
		not    []string // in neither Detail nor Fix
	}{
		{"rejected", &Error{Class: ClassRejected, Client: "billing", Host: "auth.example.com", Status: 401, Code: "invalid_client"},
			"Credentials rejected", []string{`auth.example.com rejected the credentials of "billing" (HTTP 401 invalid_client)`},
			[]string{"tokentray rotate billing"}, ActionRotate, []string{"set-secret"}},
		{"rejected new secret", &Error{Class: ClassRejected, Client: "billing", Host: "auth.example.com", Status: 401, Code: "invalid_client", NewSecret: true},
			"Secret rejected", []string{"rejected the secret tried for", "nothing was saved"},
			[]string{"copy the secret again"}, ActionNone, []string{"set-secret", "tokentray rotate"}},
		{"scope named by the server", &Error{Class: ClassScope, Client: "billing", Host: "auth.example.com", Status: 400, Code: "invalid_scope",
			Description: "scope 'org:admin' is not allowed", Scopes: []string{"chat:invoke", "org:admin"}, requested: []string{"chat:invoke", "org:admin"}},
			"Scope refused", []string{"refused the scope org:admin for"},
			[]string{"tokentray edit billing --scope chat:invoke"}, ActionEditScopes, []string{"one of"}},
		{"scope not named", &Error{Class: ClassScope, Client: "billing", Host: "auth.example.com", Status: 400, Code: "invalid_scope", Scopes: []string{"chat:invoke", "org:admin"}},
			"Scope refused", []string{"refused one of the scopes chat:invoke org:admin for"},
			[]string{"tokentray edit billing"}, ActionEditScopes, nil},
		{"invalid_target", &Error{Class: ClassTarget, Client: "billing", Host: "auth.example.com", Status: 400, Code: "invalid_target"},
			"Resource refused", []string{"refused the resource or audience parameter"},
			[]string{"tokentray edit billing"}, ActionEditParams, nil},
		{"rate limited, scheduler retries", &Error{Class: ClassRateLimited, Client: "billing", Host: "auth.example.com", Status: 429, RetryAt: at, Retrying: true},
			"Rate limited", []string{"rate-limiting"}, []string{"Tokentray retries at 2026-03-04 15:04:05"}, ActionWait, nil},
		{"rate limited, one-shot", &Error{Class: ClassRateLimited, Client: "billing", Host: "auth.example.com", Status: 429, RetryAt: at},
			"Rate limited", []string{"rate-limiting"}, []string{"try again after 2026-03-04 15:04:05"}, ActionWait, []string{"retries", "retrying"}},
		{"rate limited without Retry-After", &Error{Class: ClassRateLimited, Client: "billing", Status: 429},
			"Rate limited", []string{"the token endpoint is rate-limiting"}, []string{"try again"}, ActionWait, []string{"retrying", "backoff"}},
		{"transient, scheduler retries", &Error{Class: ClassTransient, Client: "billing", Host: "auth.example.com", Err: errors.New("connection refused"),
			RetryAt: at, Retrying: true, ValidUntil: at.Add(time.Hour)},
			"Token endpoint failing", []string{"(connection refused)", "the last good token stays valid until 2026-03-04 16:04:05"},
			[]string{"Tokentray retries at 2026-03-04 15:04:05"}, ActionRetry, nil},
		{"transient, one-shot", &Error{Class: ClassTransient, Client: "billing", Host: "auth.example.com", Err: errors.New("connection refused"), RetryAt: at},
			"Token endpoint failing", []string{"(connection refused)"}, []string{"tokentray refresh billing"}, ActionRetry, []string{"retries", "retrying", "backoff"}},
		{"keyring", &Error{Class: ClassKeyring, Client: "billing"},
			"Keyring locked", []string{"locked or unavailable"}, []string{"unlock the keyring", "tokentray doctor"}, ActionUnlockKeyring, nil},
		{"config", &Error{Class: ClassConfig, Client: "billing", Err: errors.New("something local")},
			"Cannot get a token", []string{`cannot get a token for "billing": something local`}, []string{""}, ActionNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.err.Words()
			if w.Title != tt.title || w.Action != tt.action {
				t.Errorf("Title %q, Action %q; want %q, %q", w.Title, w.Action, tt.title, tt.action)
			}
			for _, s := range tt.detail {
				if !strings.Contains(w.Detail, s) {
					t.Errorf("Detail = %q; want it to contain %q", w.Detail, s)
				}
			}
			for _, s := range tt.fix {
				if s == "" && w.Fix != "" || !strings.Contains(w.Fix, s) {
					t.Errorf("Fix = %q; want it to contain %q", w.Fix, s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(w.Detail+w.Fix, s) {
					t.Errorf("Words %+v; want no %q", w, s)
				}
			}
			msg := tt.err.Message()
			if want := strings.TrimSuffix(w.Detail+"; "+w.Fix, "; "); msg != want {
				t.Errorf("Message() = %q; want Detail; Fix = %q", msg, want)
			}
			if got := tt.err.Error(); got != "refresher: "+msg {
				t.Errorf("Error() = %q; want the prefix and Message()", got)
			}
		})
	}
}

package refresher

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestErrorMessages(t *testing.T) {
	at := time.Date(2026, 3, 4, 15, 4, 5, 0, time.Local)
	tests := []struct {
		err  *Error
		want []string
	}{
		{&Error{Class: ClassRejected, Client: "billing", Host: "auth.example.com", Status: 401, Code: "invalid_client"},
			[]string{`refresher: the secret of "billing" was rejected by auth.example.com (invalid_client): it may have been rotated or the client deactivated; run: tokentray set-secret billing`}},
		{&Error{Class: ClassScope, Client: "billing", Host: "auth.example.com", Status: 400, Code: "invalid_scope", Scopes: []string{"chat:invoke", "org:admin"}},
			[]string{"chat:invoke org:admin may not be granted", "tokentray edit billing"}},
		{&Error{Class: ClassRateLimited, Client: "billing", Host: "auth.example.com", Status: 429, RetryAt: at},
			[]string{"rate-limiting", "retrying at 2026-03-04 15:04:05"}},
		{&Error{Class: ClassRateLimited, Client: "billing", Status: 429},
			[]string{"the token endpoint is rate-limiting", "retrying with backoff"}},
		{&Error{Class: ClassTransient, Client: "billing", Host: "auth.example.com", Err: errors.New("connection refused"), RetryAt: at, ValidUntil: at.Add(time.Hour)},
			[]string{"(connection refused)", "retrying with backoff, next at 2026-03-04 15:04:05", "the last good token stays valid until 2026-03-04 16:04:05"}},
		{&Error{Class: ClassKeyring, Client: "billing"},
			[]string{"unlock the keyring", "run: tokentray doctor"}},
		{&Error{Class: ClassConfig, Client: "billing", Err: errors.New("something local")},
			[]string{`cannot get a token for "billing": something local`}},
	}
	for _, tt := range tests {
		got := tt.err.Error()
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: Error() = %q; want it to contain %q", tt.err.Class, got, w)
			}
		}
		if got != "refresher: "+tt.err.Message() {
			t.Errorf("Error() = %q; want the prefix and Message()", got)
		}
	}
}

package stytch_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tokentray/tokentray/rotation/stytch"
)

const startBody = `{"request_id":"request-id-test-1","status_code":200,"m2m_client":{"client_id":"m2m-client-test-1",
"client_name":"billing","client_description":"","status":"active","scopes":["read:users"],
"client_secret_last_four":"abcd","next_client_secret_last_four":"wxyz","next_client_secret":"s3cr3t-wxyz",
"trusted_metadata":{"team":"a"}}}`

const rotateBody = `{"request_id":"r","status_code":200,"m2m_client":{"client_id":"m2m-client-test-1","status":"active",
"client_secret_last_four":"wxyz","next_client_secret_last_four":""}}`

const errorBody = `{"status_code":401,"request_id":"request-id-test-2","error_type":"unauthorized_credentials",
"error_message":"Unauthorized credentials.","error_url":"https://stytch.com/docs/api/errors/401"}`

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantNext bool
		want     string // client id, or "" for an error
		wantAPI  int    // APIError status, 0 if not one
	}{
		{"start", 200, startBody, true, "m2m-client-test-1", 0},
		{"rotate", 200, rotateBody, false, "m2m-client-test-1", 0},
		{"start without next secret", 200, rotateBody, true, "", 0},
		{"no m2m_client", 200, `{"status_code":200}`, false, "", 0},
		{"not json", 200, `<html>`, false, "", 0},
		{"error", 401, errorBody, false, "", 401},
		{"error not json", 502, `bad gateway`, false, "", 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := stytch.ParseResponse(tt.status, []byte(tt.body), tt.wantNext)
			var ae *stytch.APIError
			if errors.As(err, &ae) != (tt.wantAPI != 0) || ae != nil && ae.Status != tt.wantAPI {
				t.Errorf("error %v; want an APIError with status %d: %v", err, tt.wantAPI, tt.wantAPI != 0)
			}
			got := ""
			if err == nil {
				got = m.ClientID
			}
			if got != tt.want {
				t.Errorf("ParseResponse = %q, %v; want client %q", got, err, tt.want)
			}
		})
	}
	m, _ := stytch.ParseResponse(200, []byte(startBody), true)
	if m.NextClientSecret != "s3cr3t-wxyz" || m.ClientSecretLastFour != "abcd" || m.NextClientSecretLastFour != "wxyz" {
		t.Errorf("start parsed as %+v (next %q); want next s3cr3t-wxyz, last fours abcd/wxyz", m, m.NextClientSecret)
	}
	// Only rotate/start may hand out a secret.
	m, _ = stytch.ParseResponse(200, []byte(startBody), false)
	if m.NextClientSecret != "" {
		t.Errorf("rotate answer kept next_client_secret; want it dropped")
	}
	_, err := stytch.ParseResponse(401, []byte(errorBody), false)
	if want := "unauthorized_credentials"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v; want it to name %s", err, want)
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, b := range []string{startBody, rotateBody, errorBody, `{}`, `null`, `{"m2m_client":null}`,
		`{"error_message":"\u0000\u001b[31m` + strings.Repeat("x", 500) + `"}`} {
		f.Add(200, []byte(b), true)
		f.Add(400, []byte(b), false)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, wantNext bool) {
		m, err := stytch.ParseResponse(status, body, wantNext)
		if err != nil {
			if m != nil {
				t.Fatalf("an error and a client")
			}
			msg := err.Error()
			if len(msg) > 600 || !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\x1b\n") {
				t.Fatalf("error message not short, clean text: %q", msg)
			}
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("status %d parsed as success", status)
		}
		if m.ClientID == "" || wantNext && m.NextClientSecret == "" || !wantNext && m.NextClientSecret != "" {
			t.Fatalf("success without the required fields: %v", m)
		}
	})
}

package oidctest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/oidctest"
)

// TestStart: the server answers a client-credentials request for a client
// registered through Options, with the lifetime asked for, and refuses a
// wrong secret.
func TestStart(t *testing.T) {
	s := oidctest.Start(t, oidctest.Options{Clients: []oidctest.Client{
		{ID: "c", Secret: "s3cret", Scopes: []string{"models:read"}, TokenTTL: 300 * time.Second},
	}})
	if s.Version() != "9.13.3" {
		t.Errorf("version %q; want the pinned 9.13.3", s.Version())
	}
	post := func(secret string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"models:read"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("c", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, body := post("s3cret"); code != 200 || body["expires_in"] != float64(300) || body["scope"] != "models:read" {
		t.Errorf("token request: %d %v; want 200, expires_in 300, scope models:read", code, body)
	}
	if code, body := post("wrong"); code != 401 || body["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v; want 401 invalid_client", code, body)
	}
}

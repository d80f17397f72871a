package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDoctorWrongTokenURL: doctor tells a token endpoint from a wrong path
// by a POST without credentials, and names the right URL when the server's
// metadata gives it.
func TestDoctorWrongTokenURL(t *testing.T) {
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
	})
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, srv.URL, srv.URL+"/oauth2/token")
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>Sign in</title>")
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		path   string
		ok     bool
		detail string
		fix    string
	}{
		{"/oauth2/token", true, "401 Unauthorized invalid_client", ""},
		{"/token", false, "404 Not Found", "tokentray edit c --token-url " + srv.URL + "/oauth2/token"},
		{"/login", false, "web page", "tokentray edit c --token-url " + srv.URL + "/oauth2/token"},
		{"/moved", false, "a redirect to " + srv.URL + "/login", "tokentray edit c --token-url " + srv.URL + "/oauth2/token"},
	}
	for _, tt := range tests {
		h := newHarness(t)
		h.vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/run/user/1000/bus"
		h.secrets = append(h.secrets, "doctor-secret")
		h.mustRun(0, "doctor-secret", "add", "c", "--token-url", srv.URL+tt.path, "--client-id", "x", "--no-test")
		code, stdout, _ := h.run("", "doctor")
		line := "ok    endpoint " + srv.URL + tt.path
		if !tt.ok {
			line = "FAIL  endpoint " + srv.URL + tt.path
		}
		if (code == 0) != tt.ok || !strings.Contains(stdout, line) || !strings.Contains(stdout, tt.detail) || !strings.Contains(stdout, tt.fix) {
			t.Errorf("%s: exit %d\n%s\nwant %q, %q and the fix %q", tt.path, code, stdout, line, tt.detail, tt.fix)
		}
		if !tt.ok && code != ExitEndpoint {
			t.Errorf("%s: exit %d; want %d", tt.path, code, ExitEndpoint)
		}
	}

	// Without metadata, the fix says how to find the URL.
	bare := httptest.NewServer(http.NotFoundHandler())
	defer bare.Close()
	h := newHarness(t)
	h.vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/run/user/1000/bus"
	h.secrets = append(h.secrets, "doctor-secret")
	h.mustRun(0, "doctor-secret", "add", "c", "--token-url", bare.URL+"/token", "--client-id", "x", "--no-test")
	_, stdout, _ := h.run("", "doctor")
	if !strings.Contains(stdout, "--issuer") || !strings.Contains(stdout, "tokentray edit c --token-url URL") {
		t.Errorf("a 404 without metadata:\n%s\nwant discovery and the edit command named", stdout)
	}
}

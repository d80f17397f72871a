package ui

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestFormDiscover(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q,"token_endpoint_auth_methods_supported":["client_secret_post"]}`, srv.URL, srv.URL+"/oauth2/token")
	}))
	defer srv.Close()
	r := newRig(t)
	f := r.ui.newForm(nil)
	f.disc.issuer.SetText(srv.URL)
	test.Tap(f.disc.btn)
	if f.tokenURL.Text != srv.URL+"/oauth2/token" || f.auth.SelectedIndex() != 2 {
		t.Errorf("after Discover: token URL %q, auth %q; want the metadata's endpoint and the body", f.tokenURL.Text, f.auth.Selected)
	}
	if !strings.Contains(f.disc.status.Text, "/.well-known/openid-configuration") {
		t.Errorf("discover status %q; want where it came from", f.disc.status.Text)
	}

	f = r.ui.newForm(nil)
	f.disc.issuer.SetText(srv.URL + "/nowhere")
	test.Tap(f.disc.btn)
	if f.tokenURL.Text != "" || !strings.Contains(f.disc.status.Text, "no metadata found") || f.disc.btn.Disabled() {
		t.Errorf("a failed discovery: token URL %q, status %q", f.tokenURL.Text, f.disc.status.Text)
	}
}

package cli

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// TestParams: --param on add and edit, sent with the token request, shown
// by list --json, and a change drops the cached tokens.
func TestParams(t *testing.T) {
	h := newHarness(t)
	secret := "param-secret-1234"
	h.secrets = append(h.secrets, secret)
	h.ts.register("m2m-client-test-9", secret, "models:read")
	tokenURL := h.ts.tokenURL()

	code, _, stderr := h.run(secret, "add", "r", "--token-url", tokenURL, "--client-id", "m2m-client-test-9", "--param", "scope=x")
	if code != ExitUsage || !strings.Contains(stderr, `"scope" is set by Tokentray itself`) {
		t.Errorf("add --param scope=x: exit %d, stderr %q; want %d and the reason", code, stderr, ExitUsage)
	}
	code, _, stderr = h.run(secret, "add", "r", "--token-url", tokenURL, "--client-id", "m2m-client-test-9", "--param", "resource")
	if code != ExitUsage || !strings.Contains(stderr, "KEY=VALUE") {
		t.Errorf("add --param resource: exit %d, stderr %q; want %d and the form KEY=VALUE", code, stderr, ExitUsage)
	}

	h.mustRun(0, secret, "add", "r", "--token-url", tokenURL, "--client-id", "m2m-client-test-9",
		"--param", "resource=https://a.example/api", "--param", "resource=https://b.example/", "--audience", "aud-1")
	form := h.ts.form()
	if got := form["resource"]; len(got) != 2 || got[0] != "https://a.example/api" || got[1] != "https://b.example/" {
		t.Errorf("the test exchange sent resource=%q; want both, in order", got)
	}
	if got := form.Get("audience"); got != "aud-1" {
		t.Errorf("the test exchange sent audience=%q; want aud-1 (--audience is --param audience=)", got)
	}
	s := h.store()
	if _, err := s.Token("r", nil); err != nil {
		t.Fatalf("the test token is not cached: %v", err)
	}

	stdout, _ := h.mustRun(0, "", "list", "--json")
	var list []struct {
		Audience string              `json:"audience"`
		Params   map[string][]string `json:"params"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("list --json: %v\n%s", err, stdout)
	}
	if list[0].Audience != "aud-1" || len(list[0].Params["resource"]) != 2 || list[0].Params["audience"][0] != "aud-1" {
		t.Errorf("list --json: audience %q, params %v", list[0].Audience, list[0].Params)
	}

	// A notes edit keeps the token; a parameter edit drops it.
	h.mustRun(0, "", "edit", "r", "--notes", "n")
	if _, err := s.Token("r", nil); err != nil {
		t.Errorf("token after a notes edit: %v; want it kept", err)
	}
	h.mustRun(0, "", "edit", "r", "--param", "resource=https://c.example/", "--param", "audience=")
	c, _ := s.Get("r")
	want := url.Values{"resource": {"https://c.example/"}}
	if c.EndpointParams.Encode() != want.Encode() {
		t.Errorf("after edit: params %v; want %v (resource replaced, audience removed)", c.EndpointParams, want)
	}
	if _, err := s.Token("r", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("cached token after a parameter edit: %v; want it dropped", err)
	}
	h.mustRun(0, "", "token", "r")
	if got := h.ts.form()["resource"]; len(got) != 1 || got[0] != "https://c.example/" {
		t.Errorf("token sent resource=%q after the edit; want [https://c.example/]", got)
	}
	if err := s.SetToken("r", nil, vault.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h.mustRun(0, "", "edit", "r", "--param", "resource=https://c.example/")
	if _, err := s.Token("r", nil); err != nil {
		t.Errorf("token after an edit that set the same parameter: %v; want it kept", err)
	}

	code, _, stderr = h.run("", "edit", "r", "--param", "client_secret=oops")
	if code != ExitUsage || strings.Contains(stderr, "oops") {
		t.Errorf("edit --param client_secret=...: exit %d, stderr %q; want %d without the value", code, stderr, ExitUsage)
	}

	// export and import keep the parameters.
	csv, _ := h.mustRun(0, "", "export", "--format", "csv")
	clients, err := decodeImport([]byte(csv))
	if err != nil || len(clients) != 1 || clients[0].EndpointParams.Encode() != want.Encode() {
		t.Errorf("CSV round trip: %v, %v; want params %v\n%s", clients, err, want, csv)
	}
	old := "name,client_id,token_url,audience\nx,id,https://a.example/t,aud-old\n"
	clients, err = decodeImport([]byte(old))
	if err != nil || len(clients) != 1 || clients[0].Audience() != "aud-old" {
		t.Errorf("an old CSV with an audience column: %v, %v", clients, err)
	}
}

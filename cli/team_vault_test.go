package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/hcvaultdev"
)

// TestTeamCommandsAgainstVault runs the team commands against a real Vault
// dev server: add, login from VAULT_TOKEN, list with the badge, a token,
// a member's rotate refused with the clear 403 message, remove.
func TestTeamCommandsAgainstVault(t *testing.T) {
	vs := hcvaultdev.Start(t)
	team := vs.NewTeam("tokentray/")
	h := newHarness(t)
	secret := "team-secret-0123456789"
	h.ts.register("m2m-client-test-billing", secret, "chat:invoke")
	h.secrets = append(h.secrets, secret, team.MemberToken, team.AdminToken)
	vs.PutKV("tokentray/billing", map[string]any{
		"client_id": "m2m-client-test-billing", "client_secret": secret, "token_url": h.ts.tokenURL(), "scopes": "chat:invoke",
	})
	vs.PutKV("tokentray/broken", map[string]any{"client_id": "x", "token_url": h.ts.tokenURL()})

	h.mustRun(2, "", "team", "add", "acme", "--addr", "http://vault.example.com", "--mount", "secret")
	h.mustRun(0, "", "team", "add", "acme", "--addr", vs.URL(), "--mount", "secret", "--prefix", "tokentray/")
	h.vars["VAULT_TOKEN"] = team.MemberToken
	_, stderr := h.mustRun(0, "", "team", "login", "acme")
	if !strings.Contains(stderr, "2 clients") {
		t.Fatalf("login: stderr = %q, want 2 clients", stderr)
	}
	delete(h.vars, "VAULT_TOKEN")

	stdout, _ := h.mustRun(0, "", "list")
	if !strings.Contains(stdout, "acme.billing [team acme]") || !strings.Contains(stdout, "broken: client_secret is missing") {
		t.Fatalf("list:\n%s\nwant the team badge and the broken entry", stdout)
	}
	stdout, _ = h.mustRun(0, "", "list", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0]["source"] != "acme" || rows[0]["team"] != true {
		t.Fatalf("list --json = %v, want team clients with source acme", rows)
	}
	stdout, _ = h.mustRun(0, "", "token", "acme.billing")
	if strings.TrimSpace(stdout) == "" {
		t.Fatal("token: empty")
	}

	next := "team-secret-new-987654321"
	h.secrets = append(h.secrets, next)
	h.ts.register("m2m-client-test-billing", next, "chat:invoke")
	code, _, stderr := h.run(next, "rotate", "acme.billing")
	if code == 0 || !strings.Contains(stderr, "you can read this team's clients but not rotate them") {
		t.Fatalf("member rotate: code %d, stderr %q; want the clear 403 message", code, stderr)
	}

	h.mustRun(0, team.AdminToken, "team", "login", "acme")
	_, stderr = h.mustRun(0, next, "rotate", "acme.billing")
	if !strings.Contains(stderr, "version 1 -> 2") {
		t.Fatalf("admin rotate: stderr %q", stderr)
	}
	stdout, _ = h.mustRun(0, "", "team", "list", "--json")
	if !strings.Contains(stdout, `"clients": 2`) || !strings.Contains(stdout, `"broken": 1`) {
		t.Fatalf("team list --json = %s", stdout)
	}
	h.mustRun(0, "", "team", "remove", "acme")
	stdout, _ = h.mustRun(0, "", "list")
	if strings.Contains(stdout, "acme.") {
		t.Fatalf("list after team remove:\n%s", stdout)
	}
	for key := range h.kr.Items() {
		if strings.HasPrefix(key, "team/acme/") {
			t.Fatalf("keyring item %q left after team remove", key)
		}
	}
}

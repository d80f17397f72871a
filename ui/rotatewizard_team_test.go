package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/hcvaultdev"
	"github.com/tokentray/tokentray/teamkv"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// teamStore is one laptop's store with team acme (a real Vault dev server)
// logged in with token and synced.
func teamStore(t *testing.T, cfg teamkv.Config, token string) *vault.Store {
	t.Helper()
	dir := t.TempDir()
	kr := vaulttest.New()
	if err := teamkv.SaveConfig(dir, []teamkv.Config{cfg}); err != nil {
		t.Fatal(err)
	}
	teams, err := teamkv.OpenAll(dir, kr)
	if err != nil || len(teams) != 1 {
		t.Fatalf("OpenAll: %d teams, %v", len(teams), err)
	}
	if _, err := teams[0].SetToken(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if _, err := teams[0].Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := vault.Open(dir, kr, vault.WithSources(teamkv.Sources(teams)...))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The wizard of a team's client proves the new secret against a real OAuth
// server and writes it to a real Vault; a member whose policy only reads is
// told so in one sentence, and a wrong secret writes nothing.
func TestRotateWizardForTeamClients(t *testing.T) {
	vs := hcvaultdev.Start(t)
	team := vs.NewTeam("tokentray/")
	c := demoserver.Client{Name: "billing", ID: "m2m-client-test-billing", Secret: demoserver.NewSecret(),
		Scopes: []string{"chat:invoke"}, Auth: demoserver.AuthBasic}
	oauth, err := demoserver.New(demoserver.Options{Clients: []demoserver.Client{c}})
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = oauth.Close() })
	vs.PutKV("tokentray/billing", map[string]any{
		"client_id": c.ID, "client_secret": c.Secret, "token_url": oauth.TokenURL(),
		"scopes": "chat:invoke", "auth_style": "header",
	})
	cfg := teamkv.Config{Name: "acme", Addr: vs.URL(), Mount: "secret", Prefix: "tokentray/"}
	next, err := oauth.RotateSecret(c.ID)
	if err != nil {
		t.Fatal(err)
	}

	wizard := func(token string) (*rig, func(secret string) string) {
		r := newRig(t)
		r.ui.opts.Store = teamStore(t, cfg, token)
		r.ui.showRotate("acme.billing")
		d := r.top()
		if text := allText(d); !strings.Contains(text, "belongs to team acme") {
			t.Fatalf("team wizard: %q; want it to say the client is the team's", text)
		}
		return r, func(secret string) string {
			e := findPasswordEntry(t, d)
			e.SetText(secret)
			tapButton(t, d, "Prove and write to Vault")
			return allText(d)
		}
	}

	// A member reads but may not write.
	_, try := wizard(team.MemberToken)
	if text := try(next); !strings.Contains(text, "You can read this team's clients but not rotate them") || strings.Contains(text, "teamkv:") {
		t.Errorf("member: %q; want the one-sentence 403", text)
	}

	// The admin: a wrong secret writes nothing, the right one a version.
	_, try = wizard(team.AdminToken)
	if text := try("not-the-new-secret-0123"); !strings.Contains(text, "nothing was written to Vault") {
		t.Errorf("wrong secret: %q; want nothing written", text)
	}
	if text := try(next); !strings.Contains(text, "Rotated: team version 1 → 2") {
		t.Errorf("admin: %q; want version 1 → 2", text)
	}
	var meta struct {
		Data struct {
			CurrentVersion int `json:"current_version"`
		} `json:"data"`
	}
	if err := vs.Do("GET", "/v1/secret/metadata/tokentray/billing", vs.RootToken(), nil, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Data.CurrentVersion != 2 {
		t.Errorf("Vault holds version %d; want 2 (one rotation written)", meta.Data.CurrentVersion)
	}
}

package vault_test

import (
	"errors"
	"testing"

	"github.com/tokentray/tokentray/vault"
)

// An import is all or nothing: a clash or an identity change leaves the
// index as it was; a failing write imports nothing.
func TestImportAllOrNothing(t *testing.T) {
	s, _, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	a, b := validClient(), validClient()
	a.Name, b.Name = "alpha", "billing"
	before := readFile(t, s.IndexPath())
	if _, _, err := s.Import([]vault.Client{a, b}, vault.ImportOptions{}); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("Import with a clash: %v, want ErrExists", err)
	}
	if after := readFile(t, s.IndexPath()); string(after) != string(before) {
		t.Errorf("a refused import changed the index")
	}
	failNthWrite(s, 1)
	if _, _, err := s.Import([]vault.Client{a}, vault.ImportOptions{}); err == nil {
		t.Fatalf("Import with a failing write succeeded")
	}
	vault.SetBeforeReplace(s, nil)
	if _, err := s.Get("alpha"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("a failed import left alpha (%v)", err)
	}
	added, replaced, err := s.Import([]vault.Client{a, b}, vault.ImportOptions{Replace: true})
	if err != nil || len(added) != 1 || len(replaced) != 1 {
		t.Errorf("Import --replace = %v, %v, %v; want alpha added, billing replaced", added, replaced, err)
	}
	if sec, _ := s.Secret("billing"); sec != "x" {
		t.Errorf("the replaced client's secret = %q, want it kept", sec)
	}
}

// A replace that moves a client to another token URL host or client id
// needs AllowIdentityChange, and then drops its cached tokens.
func TestImportIdentityChange(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *vault.Client)
	}{
		{"host", func(c *vault.Client) { c.TokenURL = "https://evil.example.net/oauth2/token" }},
		{"client id", func(c *vault.Client) { c.ClientID = "someone-else" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, kr, _ := newStore(t)
			mustAdd(t, s, validClient(), "x")
			if err := s.SetToken("billing", nil, vault.Token{AccessToken: "t"}); err != nil {
				t.Fatal(err)
			}
			c := validClient()
			tc.edit(&c)
			var ice *vault.IdentityChangeError
			if _, _, err := s.Import([]vault.Client{c}, vault.ImportOptions{Replace: true}); !errors.As(err, &ice) {
				t.Fatalf("Import moving billing: %v, want an *IdentityChangeError", err)
			}
			if got := mustGet(t, s, "billing"); got.TokenURL != validClient().TokenURL || got.ClientID != validClient().ClientID {
				t.Errorf("the refused import changed billing: %+v", got)
			}
			if _, _, err := s.Import([]vault.Client{c}, vault.ImportOptions{Replace: true, AllowIdentityChange: true}); err != nil {
				t.Fatal(err)
			}
			if _, ok := kr.Items()[vault.TokenKey("billing", nil)]; ok {
				t.Errorf("the token for the old identity is still cached")
			}
		})
	}
}

package vault_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// An index written by a newer version carries fields this one does not
// know: a write by this version keeps them, at the top level and per client.
func TestIndexKeepsFieldsOfNewerVersions(t *testing.T) {
	dir := t.TempDir()
	const file = `{
  "schema": 1,
  "team_sources": [{"name": "platform", "addr": "https://vault.example.com"}],
  "clients": [
    {"name": "billing", "client_id": "m2m-client-test-1", "token_url": "https://auth.example.com/oauth2/token",
     "secret_set_at": "2026-10-01T00:00:00Z", "created_at": "2026-10-01T00:00:00Z",
     "origin": {"kind": "team", "version": 7}, "labels": ["a", "b"]}
  ]
}`
	if err := os.WriteFile(filepath.Join(dir, vault.IndexFile), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := vault.Open(dir, vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update("billing", func(c *vault.Client) error { c.Notes = "edited"; return nil }); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, vault.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		TeamSources json.RawMessage              `json:"team_sources"`
		Clients     []map[string]json.RawMessage `json:"clients"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if string(compact(t, got.TeamSources)) != `[{"addr":"https://vault.example.com","name":"platform"}]` {
		t.Errorf("top-level team_sources = %s; want it kept", got.TeamSources)
	}
	c := got.Clients[0]
	if string(compact(t, c["origin"])) != `{"kind":"team","version":7}` || string(compact(t, c["labels"])) != `["a","b"]` {
		t.Errorf("client's unknown fields = origin %s, labels %s; want them kept", c["origin"], c["labels"])
	}
	if string(c["notes"]) != `"edited"` {
		t.Errorf("notes = %s; want the edit saved", c["notes"])
	}
	// Known fields are not doubled by a key in another case.
	for k := range c {
		if k == "Name" || k == "NAME" {
			t.Errorf("key %q appears beside name", k)
		}
	}
}

func TestIndexUnknownFieldsDoNotShadowKnownOnes(t *testing.T) {
	dir := t.TempDir()
	// "Notes" matches the notes field (encoding/json ignores case): it is
	// that field, not an unknown one written back beside it.
	const file = `{"schema": 1, "clients": [{"name": "a", "client_id": "id", "token_url": "https://auth.example.com/t",
	  "secret_set_at": "2026-10-01T00:00:00Z", "created_at": "2026-10-01T00:00:00Z", "Notes": "old"}]}`
	if err := os.WriteFile(filepath.Join(dir, vault.IndexFile), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := vault.Open(dir, vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update("a", func(c *vault.Client) error { c.Notes = "new"; return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := s.Get("a")
	if err != nil || c.Notes != "new" {
		t.Errorf("Get = %q, %v; want notes new", c.Notes, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, vault.IndexFile))
	var raw struct{ Clients []map[string]json.RawMessage }
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if _, dup := raw.Clients[0]["Notes"]; dup {
		t.Errorf("the index has both notes and Notes:\n%s", b)
	}
}

// A write killed after creating its temporary file leaves it behind; the
// next write removes it (and nothing else).
func TestWriteRemovesTempFilesOfKilledWrites(t *testing.T) {
	s, _, _ := newStore(t)
	dir := s.Dir()
	stale := []string{".clients.json5577006791947779410", ".clients.json.bak8674665223082153551", ".clients.json.tmp123"}
	keep := []string{".clients.json.note", "clients.json.orig", ".clients.jsonx1"}
	for _, n := range append(append([]string{}, stale...), keep...) {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(vault.Client{Name: "a", ClientID: "id", TokenURL: "https://auth.example.com/t"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s: %v; want it removed", n, err)
		}
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v; want it kept", n, err)
		}
	}
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	out, _ := json.Marshal(v)
	return out
}

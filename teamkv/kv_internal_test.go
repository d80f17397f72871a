package teamkv

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLILinksNoVaultClientLibrary: every tokentray start pays the package
// initialisation of what the binary links. Vault's api package alone cost
// about 3,400 allocations and 315 KB per start, so teamkv speaks Vault's
// HTTP API itself and the CLI must not link it again.
func TestCLILinksNoVaultClientLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/tokentray/tokentray").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/hashicorp/") {
			t.Errorf("the tokentray binary links %s; keep HashiCorp's client libraries off the CLI's start-up", p)
		}
	}
}

func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Name: "acme", Addr: "https://vault.example.com:8200", Mount: "secret"}

	cfg.CAFile = filepath.Join(dir, "missing.pem")
	if _, err := newKV(cfg, "", nil); err == nil || !strings.Contains(err.Error(), "teamkv: CA file "+cfg.CAFile) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing CA file: err = %v", err)
	}

	cfg.CAFile = filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(cfg.CAFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newKV(cfg, "", nil); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("junk CA file: err = %v", err)
	}
}

func TestClassifyStatus(t *testing.T) {
	for _, c := range []struct {
		code  int
		words []string
		want  error
	}{
		{403, []string{"permission denied"}, ErrForbidden},
		{400, []string{"check-and-set parameter did not match the current version"}, ErrConflict},
		{404, nil, ErrNoEntry},
		{503, []string{"Vault is sealed"}, ErrOffline},
		{429, nil, ErrOffline},
	} {
		err := classify(&statusError{Code: c.code, Errors: c.words})
		if !errors.Is(err, c.want) {
			t.Errorf("HTTP %d: %v, want %v", c.code, err, c.want)
		}
	}
	err := classify(&statusError{Code: 400, Errors: []string{strings.Repeat("x", 1000)}})
	if !strings.HasPrefix(err.Error(), "HTTP 400: ") || len(err.Error()) > 320 {
		t.Errorf("long words: %q", err)
	}
}

// FuzzDecodeSecret: Vault's answer is hostile bytes; decoding never panics
// and what read, list and lookup take from it is type-checked.
func FuzzDecodeSecret(f *testing.F) {
	f.Add([]byte(`{"data":{"data":{"client_id":"a"},"metadata":{"version":3,"created_time":"2024-01-02T03:04:05.5Z"}}}`))
	f.Add([]byte(`{"data":{"keys":["a","b/"]}}`))
	f.Add([]byte(`{"auth":{"client_token":"hvs.x","lease_duration":3600}}`))
	f.Add([]byte(`{"data":{"ttl":1e400}}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSecret(b, "secret/data/x")
		if err != nil || s == nil {
			return
		}
		if data, ok := s.Data["data"].(map[string]any); ok {
			_ = intOf(data["version"])
		}
		_ = intOf(s.Data["ttl"])
		_ = intOf(s.Data["current_version"])
	})
}

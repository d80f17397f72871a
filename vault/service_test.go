package vault_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokentray/tokentray/vault"
)

func TestServiceFor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if got, err := vault.ServiceFor(dir); err != nil || got != vault.DefaultService {
		t.Errorf("ServiceFor without a file = %q, %v; want %q", got, err, vault.DefaultService)
	}
	if err := vault.SetServiceFor(dir, "io.github.tokentray.demo"); err != nil {
		t.Fatal(err)
	}
	if got, err := vault.ServiceFor(dir); err != nil || got != "io.github.tokentray.demo" {
		t.Errorf("ServiceFor after SetServiceFor = %q, %v", got, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, vault.ServiceFile)); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("service file mode %v, want 0600", fi.Mode().Perm())
	}
	s, err := vault.OpenSystem(dir) // Open reads only the index: no D-Bus needed
	if err != nil {
		t.Fatal(err)
	}
	if kr, ok := s.Keyring().(*vault.SystemKeyring); !ok || kr.Service != "io.github.tokentray.demo" || kr.Timeout != vault.DefaultKeyringTimeout {
		t.Errorf("OpenSystem keyring = %#v, want the system keyring of the recorded service", s.Keyring())
	}
	for _, bad := range []string{"", "  \n", "two words"} {
		if err := os.WriteFile(filepath.Join(dir, vault.ServiceFile), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := vault.ServiceFor(dir); err == nil {
			t.Errorf("ServiceFor with %q in the file = %q, want an error", bad, got)
		}
		if _, err := vault.OpenSystem(dir); err == nil {
			t.Errorf("OpenSystem with %q in the service file: got no error", bad)
		}
	}
}

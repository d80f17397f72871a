//go:build unix && !darwin

package vault_test

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/vault"
)

func TestFindSessionBus(t *testing.T) {
	withSocket := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(withSocket, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	empty := t.TempDir()
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		fromEnv bool
	}{
		{"variable set", map[string]string{vault.EnvSessionBus: "unix:path=/x/bus", "XDG_RUNTIME_DIR": empty}, "unix:path=/x/bus", true},
		{"systemd user bus", map[string]string{"XDG_RUNTIME_DIR": withSocket}, "unix:path=" + filepath.Join(withSocket, "bus"), false},
		{"autolaunch is not an address", map[string]string{vault.EnvSessionBus: "autolaunch:", "XDG_RUNTIME_DIR": withSocket}, "unix:path=" + filepath.Join(withSocket, "bus"), false},
		{"nothing", map[string]string{"XDG_RUNTIME_DIR": empty}, "", false},
		{"autolaunch and nothing", map[string]string{vault.EnvSessionBus: "autolaunch:", "XDG_RUNTIME_DIR": empty}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fromEnv, err := vault.FindSessionBus(func(k string) string { return tt.env[k] })
			if tt.want == "" {
				if !errors.Is(err, vault.ErrNoSessionBus) || !errors.Is(err, vault.ErrKeyringUnavailable) || !strings.Contains(err.Error(), "dbus-run-session") {
					t.Errorf("FindSessionBus = %q, %v; want ErrNoSessionBus saying what to run", got, err)
				}
				return
			}
			if err != nil || got != tt.want || fromEnv != tt.fromEnv {
				t.Errorf("FindSessionBus = %q, %v, %v; want %q, %v", got, fromEnv, err, tt.want, tt.fromEnv)
			}
		})
	}
}

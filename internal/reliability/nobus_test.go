//go:build linux

package reliability

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// dbusDaemons returns the pids of the running dbus-daemon processes.
func dbusDaemons(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err == nil && strings.TrimSpace(string(comm)) == "dbus-daemon" {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// Without a session bus (cron, ssh) every keyring command fails at once
// with exit 7 and says what to set; it never autolaunches a bus: the
// dbus-launch on PATH here records any call, and no dbus-daemon is left.
func TestReliabilityNoSessionBus(t *testing.T) {
	bin := t.TempDir()
	called := filepath.Join(t.TempDir(), "dbus-launch-called")
	launch := "#!/bin/sh\ntouch " + called + "\nexec /usr/bin/dbus-launch \"$@\" 2>/dev/null || exit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(launch), 0o755); err != nil {
		t.Fatal(err)
	}
	runtimeDir := t.TempDir() // no "bus" socket in it
	cfg := t.TempDir()
	env := []string{
		"PATH=" + bin + ":/usr/bin:/bin",
		"HOME=" + t.TempDir(),
		"LANG=en_US.UTF-8",
		"XDG_RUNTIME_DIR=" + runtimeDir,
		"TOKENTRAY_CONFIG_DIR=" + cfg,
	}
	index := `{"schema": 1, "clients": [{"name": "billing", "client_id": "m2m-client-test-1", "token_url": "http://127.0.0.1:9/oauth2/token", "secret_set_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(filepath.Join(cfg, "clients.json"), []byte(index), 0o600); err != nil {
		t.Fatal(err)
	}
	before := dbusDaemons(t)
	cases := []struct {
		stdin string
		args  []string
	}{
		{"", []string{"token", "billing"}},
		{"", []string{"header", "billing"}},
		{"", []string{"exec", "billing", "--", "true"}},
		{"s3cret\n", []string{"set-secret", "billing", "--no-test"}},
		{"s3cret\n", []string{"add", "other", "--token-url", "http://127.0.0.1:9/t", "--client-id", "id-2", "--no-test"}},
	}
	for _, tc := range cases {
		r := run(t, env, tc.stdin, 20*time.Second, tc.args...)
		name := strings.Join(tc.args, " ")
		if r.code != 7 {
			t.Errorf("tokentray %s: exit %d, want 7; stderr: %s", name, r.code, r.stderr)
		}
		for _, want := range []string{"no D-Bus session bus", "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/", "dbus-run-session"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("tokentray %s: stderr lacks %q: %s", name, want, r.stderr)
			}
		}
	}
	if _, err := os.Stat(called); err == nil {
		t.Errorf("dbus-launch was run: tokentray autolaunched a session bus")
	}
	for _, pid := range dbusDaemons(t) {
		if !slices.Contains(before, pid) {
			t.Errorf("dbus-daemon %s was left running", pid)
		}
	}
	data, err := os.ReadFile(filepath.Join(cfg, "clients.json"))
	if err != nil || !strings.Contains(string(data), `"billing"`) || strings.Contains(string(data), `"other"`) {
		t.Errorf("the index changed although every command failed: %s (%v)", data, err)
	}
	// A remove without a keyring takes the client off the list and keeps
	// its keyring items listed for deletion, for the next command to retry.
	r := run(t, env, "", 20*time.Second, "remove", "billing", "--yes")
	if r.code != 7 || !strings.Contains(r.stderr, "no D-Bus session bus") {
		t.Errorf("remove without a bus: exit %d, stderr %s; want 7 and the bus message", r.code, r.stderr)
	}
	data, err = os.ReadFile(filepath.Join(cfg, "clients.json"))
	if err != nil || strings.Contains(string(data), `"name": "billing"`) || !strings.Contains(string(data), `"billing/secret"`) {
		t.Errorf("after remove without a bus the index is %s (%v); want billing gone and its secret listed for deletion", data, err)
	}
	if r := run(t, env, "", 20*time.Second, "remove", "billing", "--yes"); r.code != 7 {
		t.Errorf("second remove without a bus: exit %d (%s), want 7: the removal is pending, not 'no such client'", r.code, r.stderr)
	}
}

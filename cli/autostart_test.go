package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestAutostartCommand(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("checks the XDG entry")
	}
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	entry := filepath.Join(cfg, "autostart", "io.github.tokentray.desktop")
	h := newHarness(t)
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb strings.Builder
		e := h.env(strings.NewReader(""), &out, &errb)
		e.executable = func() (string, error) { return "/opt/token tray/tokentray", nil }
		if code := run(t.Context(), e, args); code != want {
			t.Fatalf("tokentray %q: exit %d, want %d; stderr: %s", args, code, want, errb.String())
		}
		return out.String()
	}
	if out := run(0, "autostart", "status"); !strings.HasPrefix(out, "start at login: off") {
		t.Errorf("status before: %q", out)
	}
	if out := run(0, "autostart", "on"); !strings.Contains(out, `on (`+entry+` runs "/opt/token tray/tokentray" --hidden)`) {
		t.Errorf("on: %q", out)
	}
	if data, err := os.ReadFile(entry); err != nil || !strings.Contains(string(data), "Exec=\"/opt/token tray/tokentray\" --hidden\n") {
		t.Errorf("entry: %q, %v", data, err)
	}
	if out := run(0, "autostart", "status"); !strings.HasPrefix(out, "start at login: on") {
		t.Errorf("status after on: %q", out)
	}
	if out := run(0, "autostart", "off"); !strings.HasPrefix(out, "start at login: off") {
		t.Errorf("off: %q", out)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Errorf("entry left after off: %v", err)
	}
	run(2, "autostart")
	run(2, "autostart", "maybe")
}

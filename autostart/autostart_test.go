package autostart

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDesktopEntryValidates(t *testing.T) {
	for _, exe := range []string{
		"/usr/local/bin/tokentray",
		"/home/a user/bin/token tray",
		`/opt/we"ird/$HOME/100%/back\slash/tokentray`,
	} {
		data, err := DesktopEntry(exe)
		if err != nil {
			t.Fatalf("DesktopEntry(%q): %v", exe, err)
		}
		if !bytes.Contains(data, []byte(" --hidden\n")) {
			t.Errorf("DesktopEntry(%q) does not start hidden:\n%s", exe, data)
		}
		if got := unquoteExec(t, commandOf(data)); got != exe {
			t.Errorf("Exec of %q reads back as %q", exe, got)
		}
		validate(t, data)
	}
	if _, err := DesktopEntry("tokentray"); err == nil {
		t.Error("a relative path was accepted")
	}
	if _, err := DesktopEntry("/tmp/go-build123/b001/exe/tokentray"); err == nil {
		t.Error("a go run binary was accepted")
	}
}

// unquoteExec undoes execQuote for the first argument of an Exec value.
func unquoteExec(t *testing.T, v string) string {
	t.Helper()
	v = strings.ReplaceAll(v, `\\`, `\`)
	if !strings.HasPrefix(v, `"`) {
		exe, _, _ := strings.Cut(v, " ")
		return exe
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
		case c == '%' && i+1 < len(v) && v[i+1] == '%':
			i++
			b.WriteByte('%')
		case c == '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	t.Fatalf("unterminated quote in %q", v)
	return ""
}

// validate runs desktop-file-validate (Debian desktop-file-utils) on an
// entry named as Enable names it.
func validate(t *testing.T, data []byte) {
	t.Helper()
	bin, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		if os.Getenv("TOKENTRAY_REQUIRE_DESKTOP_FILE_VALIDATE") == "1" {
			t.Fatal("desktop-file-validate is not installed (scripts/setup-debian.sh --tests)")
		}
		t.Skip("desktop-file-validate is not installed")
	}
	path := filepath.Join(t.TempDir(), ID+".desktop")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("desktop-file-validate: %v\n%s\n%s", err, out, data)
	}
}

func TestLaunchAgent(t *testing.T) {
	data, err := LaunchAgent("/Applications/Token <tray>.app/Contents/MacOS/tokentray")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<string>io.github.tokentray</string>",
		"<string>/Applications/Token &lt;tray&gt;.app/Contents/MacOS/tokentray</string>\n\t\t<string>--hidden</string>",
		"<key>RunAtLoad</key>\n\t<true/>",
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("plist lacks %q:\n%s", want, data)
		}
	}
	if bin, err := exec.LookPath("xmllint"); err == nil {
		cmd := exec.Command(bin, "--noout", "-")
		cmd.Stdin = bytes.NewReader(data)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, out)
		}
	}
}

func TestRunValue(t *testing.T) {
	for _, tc := range []struct{ exe, want string }{
		{`C:\Program Files\Tokentray\tokentray.exe`, `"C:\Program Files\Tokentray\tokentray.exe" --hidden`},
		{`C:/Users/a/tokentray.exe`, `"C:/Users/a/tokentray.exe" --hidden`},
	} {
		if got, err := RunValue(tc.exe); err != nil || got != tc.want {
			t.Errorf("RunValue(%q) = %q, %v; want %q", tc.exe, got, err, tc.want)
		}
	}
	for _, bad := range []string{`tokentray.exe`, `C:\a"b\tokentray.exe`} {
		if got, err := RunValue(bad); err == nil {
			t.Errorf("RunValue(%q) = %q, want an error", bad, got)
		}
	}
}

func TestEnableDisableStatus(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("writes the XDG entry")
	}
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	path := filepath.Join(cfg, "autostart", ID+".desktop")
	if st, err := Status(); err != nil || st.On || st.Where != path {
		t.Fatalf("Status before = %+v, %v; want off at %s", st, err, path)
	}
	st, err := Enable("/usr/bin/tokentray")
	if err != nil || !st.On || st.Command != "/usr/bin/tokentray --hidden" {
		t.Fatalf("Enable = %+v, %v", st, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, data)
	// The desktop's own switch turns it off without removing it.
	os.WriteFile(path, append(data, "Hidden=true\n"...), 0o644)
	if st, _ := Status(); st.On {
		t.Error("an entry with Hidden=true counts as on")
	}
	if st, err := Disable(); err != nil || st.On {
		t.Fatalf("Disable = %+v, %v", st, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("entry still there after Disable: %v", err)
	}
	if _, err := Disable(); err != nil {
		t.Errorf("second Disable: %v", err)
	}
}

// Package autostart starts Tokentray when the user logs in, hidden in the
// tray (`--hidden`): an XDG autostart entry on Linux and other free
// desktops ($XDG_CONFIG_HOME/autostart/io.github.tokentray.desktop), a
// LaunchAgent on macOS (~/Library/LaunchAgents/io.github.tokentray.plist),
// the per-user Run key on Windows (HKCU\Software\Microsoft\Windows\
// CurrentVersion\Run, value Tokentray). It knows nothing of Fyne: the
// command line (`tokentray autostart`) and the Settings window share it.
//
// What each system gets is built by the portable functions DesktopEntry,
// LaunchAgent and RunValue, so all three are tested on any system; Enable,
// Disable and Status write, remove and read them on the system at hand.
package autostart

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ID is the app ID every entry is named after.
const ID = "io.github.tokentray"

// HiddenFlag makes the app start in the tray without showing its window.
const HiddenFlag = "--hidden"

// State is whether start at login is on, and where it is recorded.
type State struct {
	On      bool
	Where   string // the file, or the registry value
	Command string // the command it runs; "" when off
}

// Executable returns the absolute, symlink-free path of the running
// program, which the entry starts.
func Executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("autostart: cannot tell this program's path: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return exe, nil
}

// checkExe refuses a path an entry cannot run reliably.
func checkExe(exe string) error {
	switch {
	case !filepath.IsAbs(exe):
		return fmt.Errorf("autostart: %q is not an absolute path", exe)
	case strings.ContainsAny(exe, "\x00\n\r"):
		return errors.New("autostart: the program path holds a control character")
	case strings.Contains(exe, string(filepath.Separator)+"go-build"):
		return fmt.Errorf("autostart: %s is a temporary build (go run): install tokentray first (scripts/install.sh)", exe)
	}
	return nil
}

// DesktopEntry returns the XDG autostart entry that starts exe hidden.
func DesktopEntry(exe string) ([]byte, error) {
	if err := checkExe(exe); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=Tokentray\n")
	b.WriteString("Comment=Keep OAuth 2.0 client-credentials tokens fresh, from the tray\n")
	b.WriteString("Exec=" + execQuote(exe) + " " + HiddenFlag + "\n")
	b.WriteString("Icon=" + ID + "\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return []byte(b.String()), nil
}

// execQuote quotes an argument for a desktop entry's Exec key (Desktop
// Entry Specification, "The Exec key"): inside double quotes, ", `, $ and \
// are escaped with a backslash, % is doubled; then the value's own escape
// rule doubles every backslash.
func execQuote(s string) string {
	plain := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '`', '$', '\\':
			b.WriteByte('\\')
		case '%':
			b.WriteByte('%')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return strings.ReplaceAll(b.String(), `\`, `\\`)
}

// LaunchAgent returns the macOS LaunchAgent property list that starts exe
// hidden at login.
func LaunchAgent(exe string) ([]byte, error) {
	if err := checkExe(exe); err != nil {
		return nil, err
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + ID + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + xmlEscape(exe) + `</string>
		<string>` + HiddenFlag + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`), nil
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// RunValueName is the name of the Windows Run key value.
const RunValueName = "Tokentray"

// RunValue returns the command line the Windows Run key holds: the program
// quoted (paths under Program Files have spaces), then --hidden.
func RunValue(exe string) (string, error) {
	if !(len(exe) > 2 && exe[1] == ':' && (exe[2] == '\\' || exe[2] == '/')) && !strings.HasPrefix(exe, `\\`) && !filepath.IsAbs(exe) {
		return "", fmt.Errorf("autostart: %q is not an absolute path", exe)
	}
	if strings.ContainsAny(exe, "\"\x00\n\r") {
		return "", errors.New("autostart: the program path holds a quote or control character")
	}
	return `"` + exe + `" ` + HiddenFlag, nil
}

// disabledEntry reports whether a desktop entry says not to start (Hidden=true,
// or X-GNOME-Autostart-enabled=false, as desktops write when the user turns
// an entry off in their own settings).
func disabledEntry(data []byte) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if bytes.Equal(line, []byte("Hidden=true")) || bytes.Equal(line, []byte("X-GNOME-Autostart-enabled=false")) {
			return true
		}
	}
	return false
}

// commandOf returns the Exec line of a desktop entry, or the program path of
// a property list (first <string> after ProgramArguments), for display.
func commandOf(data []byte) string {
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("Exec=")); ok {
			return string(v)
		}
	}
	if _, rest, ok := bytes.Cut(data, []byte("<key>ProgramArguments</key>")); ok {
		if _, rest, ok := bytes.Cut(rest, []byte("<string>")); ok {
			if v, _, ok := bytes.Cut(rest, []byte("</string>")); ok {
				return string(v) + " " + HiddenFlag
			}
		}
	}
	return ""
}

package vault

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// EnvSessionBus names the D-Bus session bus. When it is unset, godbus (under
// go-keyring) runs dbus-launch, which starts a dbus-daemon that outlives the
// command: a cron job would leave one behind on every run.
const EnvSessionBus = "DBUS_SESSION_BUS_ADDRESS"

// FindSessionBus returns the address of the D-Bus session bus without ever
// starting one: $DBUS_SESSION_BUS_ADDRESS when set (and not "autolaunch:"),
// else the systemd user bus $XDG_RUNTIME_DIR/bus (/run/user/UID/bus when
// XDG_RUNTIME_DIR is unset) when that socket exists. Otherwise the error
// wraps ErrNoSessionBus (and so ErrKeyringUnavailable) and says what a cron job or ssh session should
// set. fromEnv reports whether the address came from the variable.
func FindSessionBus(getenv func(string) string) (addr string, fromEnv bool, err error) {
	if a := getenv(EnvSessionBus); a != "" && !strings.HasPrefix(a, "autolaunch:") {
		return a, true, nil
	}
	dir := getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
	}
	sock := filepath.Join(dir, "bus")
	if fi, err := os.Stat(sock); err == nil && fi.Mode().Type() == fs.ModeSocket {
		return "unix:path=" + sock, false, nil
	}
	return "", false, fmt.Errorf("%w (%s is not set and there is no %s): "+
		"run from a desktop session, or set %s=unix:path=/run/user/%d/bus (the systemd user bus; "+
		"loginctl enable-linger keeps it up for cron), or run the command under dbus-run-session with a keyring daemon",
		ErrNoSessionBus, EnvSessionBus, sock, EnvSessionBus, os.Getuid())
}

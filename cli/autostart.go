package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/autostart"
)

func (a *app) autostartCommand() *ffcli.Command {
	fs := a.newFlagSet("autostart")
	return &ffcli.Command{
		Name:       "autostart",
		ShortUsage: "tokentray autostart on|off|status",
		ShortHelp:  "Start Tokentray in the tray when you log in (or stop doing so).",
		LongHelp: strings.TrimSpace(`
on records this program, started with --hidden (tray only, no window), to
start at login: an XDG autostart entry on Linux, a LaunchAgent on macOS, the
per-user Run key on Windows. off removes it; status says whether it is on and
what it runs. The window's Settings has the same switch.

EXAMPLE
  tokentray autostart on`),
		FlagSet: fs,
		Exec: func(_ context.Context, args []string) error {
			var verb string
			if len(args) == 1 {
				verb = args[0]
			}
			var st autostart.State
			var err error
			switch verb {
			case "on":
				executable := a.executable
				if executable == nil {
					executable = autostart.Executable
				}
				var exe string
				if exe, err = executable(); err == nil {
					st, err = autostart.Enable(exe)
				}
			case "off":
				st, err = autostart.Disable()
			case "status":
				st, err = autostart.Status()
			default:
				return usagef("autostart", "one of on, off or status is required")
			}
			if err != nil {
				return err
			}
			if !st.On {
				_, err = fmt.Fprintf(a.stdout, "start at login: off (%s)\n", st.Where)
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "start at login: on (%s runs %s)\n", st.Where, st.Command)
			return err
		},
	}
}

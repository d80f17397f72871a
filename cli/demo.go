package cli

import (
	"context"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/internal/launch"
)

// demoCommand hands the demo to the window program (tokentray-gui --demo):
// the demo server is built on fosite, whose dependencies (gRPC,
// OpenTelemetry, protobuf) would double this binary and the start-up of
// every `tokentray token`. With --headless that program creates no window
// and needs no display.
func (a *app) demoCommand() *ffcli.Command {
	fs := a.newFlagSet("demo")
	headless := fs.Bool("headless", false, "run only the server and print how to use it from the command line")
	ttl := fs.Duration("token-ttl", launch.DefaultTokenTTL, "lifetime of the demo's tokens, e.g. 2m to watch refreshes happen")
	return &ffcli.Command{
		Name:       "demo",
		ShortUsage: "tokentray demo [--token-ttl DURATION] [--headless] [--config DIR]",
		ShortHelp:  "Try Tokentray on an embedded demo server with three sample clients.",
		LongHelp: strings.TrimSpace(`
Starts the embedded demo authorization server on loopback and a store of its
own (--config, default $TOKENTRAY_DEMO_DIR, else <user config dir>/tokentray-demo,
under its own keyring service) holding its three sample clients, and opens the
window on them. With --headless it runs only the server, without a display,
and prints how to use it from the command line, until Ctrl-C. Both run in the
window program, tokentray-gui --demo.

EXAMPLES
  tokentray demo --token-ttl 2m
  tokentray demo --headless`),
		FlagSet: fs,
		Exec: func(_ context.Context, args []string) error {
			if err := noArgs("demo", fs, args); err != nil {
				return err
			}
			if *ttl <= 0 {
				return usagef("demo", "--token-ttl %v: give a positive duration such as 2m", *ttl)
			}
			open := a.openWindow
			if open == nil {
				open = launch.Exec
			}
			return open(launch.Window{Config: a.configDir, Demo: true, Headless: *headless, TokenTTL: *ttl})
		},
	}
}

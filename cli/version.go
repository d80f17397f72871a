package cli

import (
	"context"
	"fmt"
	"runtime"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func (a *app) versionCommand() *ffcli.Command {
	fs := a.newFlagSet("version")
	return &ffcli.Command{
		Name:       "version",
		ShortUsage: "tokentray version",
		ShortHelp:  "Print the version (also: tokentray --version).",
		LongHelp:   "EXAMPLE\n  tokentray version",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("version", fs, args); err != nil {
				return err
			}
			return a.printVersion()
		},
	}
}

func (a *app) printVersion() error {
	_, err := fmt.Fprintf(a.stdout, "tokentray %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

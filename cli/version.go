package cli

import (
	"context"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/internal/version"
)

func (a *app) versionCommand() *ffcli.Command {
	fs := a.newFlagSet("version")
	return &ffcli.Command{
		Name:       "version",
		ShortUsage: "tokentray version",
		ShortHelp:  "Print the version and commit (also: tokentray --version, tokentray-gui --version).",
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
	_, err := fmt.Fprintln(a.stdout, version.Line())
	return err
}

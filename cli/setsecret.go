package cli

import (
	"context"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func (a *app) setSecretCommand() *ffcli.Command {
	fs := a.newFlagSet("set-secret")
	return &ffcli.Command{
		Name:       "set-secret",
		ShortUsage: "tokentray set-secret NAME < secret-file",
		ShortHelp:  "Replace a client's secret (from stdin or a prompt) and restart its rotation clock.",
		LongHelp: strings.TrimSpace(`
The new secret comes from standard input when piped, else from a prompt
without echo. The date it was set starts the 90-day rotation clock. Cached
tokens stay valid until they expire.

EXAMPLE
  secret-tool lookup vendor billing-new | tokentray set-secret billing`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneName("set-secret", fs, args)
			if err != nil {
				return err
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			c, err := a.client(s, name)
			if err != nil {
				return err
			}
			secret, err := a.readSecret("new client secret for " + name + " (" + c.ClientID + "): ")
			if err != nil {
				return err
			}
			if err := s.SetSecret(name, secret); err != nil {
				return err
			}
			a.infof("stored the new secret of %s", name)
			return nil
		},
	}
}

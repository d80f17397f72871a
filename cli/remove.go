package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func (a *app) removeCommand() *ffcli.Command {
	fs := a.newFlagSet("remove")
	yes := fs.Bool("yes", false, "do not ask for confirmation (required without a terminal)")
	return &ffcli.Command{
		Name:       "remove",
		ShortUsage: "tokentray remove NAME [--yes]",
		ShortHelp:  "Remove a client, its secret and its cached tokens.",
		LongHelp: strings.TrimSpace(`
Deletes the client from the index and its secret, staged secret and cached
tokens from the keyring. The client itself stays valid at the provider.

EXAMPLE
  tokentray remove billing --yes`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneName("remove", fs, args)
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
			if !*yes {
				ok, asked := a.confirm("remove " + name + " (" + c.ClientID + ") and its secret from this machine?")
				if !asked {
					return usagef("remove", "no terminal to confirm on: add --yes to remove %s", name)
				}
				if !ok {
					return errors.New("not removed")
				}
			}
			if err := s.Remove(name); err != nil {
				return err
			}
			a.infof("removed %s", name)
			return nil
		},
	}
}

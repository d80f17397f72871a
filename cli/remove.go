package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/vault"
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
When the keyring is locked or down, the client leaves the list at once and
its keyring items stay listed for deletion: every later command retries
them, and so does remove NAME again.

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
			if errors.Is(err, vault.ErrNoClient) {
				// A removal the keyring did not finish: finish it.
				if left, perr := s.PendingRemoval(name); perr == nil && len(left) > 0 {
					if err := s.Remove(name); err != nil {
						return err
					}
					a.infof("removed the remaining keyring items of %s", name)
					return nil
				}
			}
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

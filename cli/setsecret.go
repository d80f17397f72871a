package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

func (a *app) setSecretCommand() *ffcli.Command {
	fs := a.newFlagSet("set-secret")
	noTest := fs.Bool("no-test", false, "store the secret without a test token exchange")
	return &ffcli.Command{
		Name:       "set-secret",
		ShortUsage: "tokentray set-secret NAME [--no-test] < secret-file",
		ShortHelp:  "Replace a client's secret (from stdin or a prompt) and restart its rotation clock.",
		LongHelp: strings.TrimSpace(`
The new secret comes from standard input when piped, else from a prompt
without echo. Unless --no-test, a real token exchange tests it first, and a
secret the endpoint refuses is not stored (as the window's "Set new secret"
does). The date it was set starts the 90-day rotation clock. Cached tokens
stay valid until they expire. To replace a secret with a proof of the same
scopes and the old one kept until then, use rotate.

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
			if w := vault.SecretWarning(secret); w != "" {
				a.warnf("%s", w)
			}
			granted := ""
			if !*noTest {
				a.infof("testing the new secret with a token request to %s", c.TokenURL)
				res, err := refresher.Exchange(ctx, a.tokenHTTPClient(), c, secret, nil)
				if err != nil {
					a.errorf("the new secret of %s is not stored: its test token request failed (tokentray set-secret %s --no-test stores it untested)", name, name)
					return fmt.Errorf("not stored: the test exchange failed: %w", err)
				}
				granted = strings.Join(res.Token.Scopes, " ")
				if granted == "" {
					granted = "-"
				}
			}
			if err := s.SetSecret(name, secret); err != nil {
				return err
			}
			if *noTest {
				a.infof("stored the new secret of %s (untested)", name)
			} else {
				a.infof("stored the new secret of %s, tested: granted %s", name, granted)
			}
			return nil
		},
	}
}

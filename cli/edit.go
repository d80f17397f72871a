package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/vault"
)

func (a *app) editCommand() *ffcli.Command {
	fs := a.newFlagSet("edit")
	var cf clientFlags
	cf.register(fs)
	setAt := fs.String("secret-set-at", "", "when the current secret was created at the provider (`DATE`: 2006-01-02 or RFC 3339), for the rotation clock")
	return &ffcli.Command{
		Name:       "edit",
		ShortUsage: "tokentray edit NAME [--token-url URL] [--client-id ID] [--scope S]... [--auth A] [--param KEY=VALUE]... [--environment E] [--notes N] [--secret-set-at DATE]",
		ShortHelp:  "Change a client's settings (not its secret: see set-secret).",
		LongHelp: strings.TrimSpace(`
Only the flags given change. --scope replaces the whole scope list (give
--scope "" to clear it). --param KEY=VALUE replaces the values of KEY (repeat
it for several); --param KEY= removes KEY; other parameters stay. A change to
the token URL, client id, scopes, auth style or parameters drops the cached
tokens, which were issued for the old settings.

EXAMPLE
  tokentray edit billing --scope models:read --scope chat:invoke
  tokentray edit reports --param resource=https://api.example.com
  tokentray edit reports --param audience=
  tokentray edit billing --secret-set-at 2026-09-01`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneName("edit", fs, args)
			if err != nil {
				return err
			}
			given := givenFlags(fs)
			delete(given, "config")
			delete(given, "quiet")
			if len(given) == 0 {
				return usagef("edit", "nothing to change: give at least one flag")
			}
			var setAtTime time.Time
			if given["secret-set-at"] {
				setAtTime, err = parseDate(*setAt)
				if err != nil {
					return usagef("edit", "--secret-set-at: %v", err)
				}
				if setAtTime.After(a.clock()) {
					return usagef("edit", "--secret-set-at %s is in the future", *setAt)
				}
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			var before, after vault.Client
			err = s.Update(name, func(c *vault.Client) error {
				before = c.Clone()
				if err := cf.apply(c, given); err != nil {
					return err
				}
				if given["secret-set-at"] {
					c.SecretSetAt = setAtTime.UTC()
				}
				after = c.Clone()
				return nil
			})
			var ve *vault.ValidationError
			switch {
			case errors.Is(err, vault.ErrNoClient):
				return noClient(name)
			case errors.As(err, &ve):
				return &usageError{cmd: "edit", msg: ve.Error()}
			case err != nil:
				return err
			}
			if tokenSettingsChanged(before, after) {
				if err := dropTokens(ctx, s, before); err != nil {
					a.warnf("cached tokens for the old settings remain: %v", err)
				}
			}
			a.infof("updated %s", name)
			return nil
		},
	}
}

// tokenSettingsChanged reports whether tokens issued under before are not
// what after would get.
func tokenSettingsChanged(before, after vault.Client) bool {
	return before.TokenURL != after.TokenURL || before.ClientID != after.ClientID ||
		!slices.Equal(before.Scopes, after.Scopes) || before.AuthStyle != after.AuthStyle ||
		!vault.SameParams(before, after)
}

// dropTokens deletes every cached token of c (default and scope subsets).
// It holds the client's fetch lock, so that a fetch for the old settings
// running in another process (which re-reads the client before caching)
// either sees the edit or has cached its token before the drop.
func dropTokens(ctx context.Context, s *vault.Store, c vault.Client) error {
	unlock, err := s.LockClient(ctx, c.Name)
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	for _, key := range vault.KeyringKeys(c) {
		if key == vault.SecretKey(c.Name) || strings.HasSuffix(key, "/next-secret") {
			continue
		}
		if err := s.Keyring().Delete(key); err != nil && !errors.Is(err, vault.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// parseDate accepts 2006-01-02 (midnight UTC) or RFC 3339.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: use 2006-01-02 or 2006-01-02T15:04:05Z", s)
	}
	return t, nil
}

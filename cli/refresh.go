package cli

import (
	"context"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func (a *app) refreshCommand() *ffcli.Command {
	fs := a.newFlagSet("refresh")
	all := fs.Bool("all", false, "refresh every client")
	return &ffcli.Command{
		Name:       "refresh",
		ShortUsage: "tokentray refresh NAME | --all",
		ShortHelp:  "Fetch a new token now, even if the cached one is fresh.",
		LongHelp: strings.TrimSpace(`
Fetches and caches a new token, and clears a "credentials rejected" state.
Prints nothing on stdout; with --all, failures are reported per client and the
exit code is that of the first failure.

EXAMPLE
  tokentray refresh --all`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			pos, err := parsePositional(fs, args)
			if err != nil {
				return &usageError{cmd: "refresh", msg: err.Error()}
			}
			switch {
			case *all && len(pos) > 0:
				return usagef("refresh", "give NAME or --all, not both")
			case !*all && len(pos) != 1:
				return usagef("refresh", "give one client NAME, or --all")
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			names := pos
			if *all {
				clients, err := s.List()
				if err != nil {
					return err
				}
				names = names[:0]
				for _, c := range clients {
					names = append(names, c.Name)
				}
			}
			r := a.refresher(s)
			var first error
			for _, name := range names {
				res, err := r.Refresh(ctx, name)
				if err != nil {
					if !*all {
						return err
					}
					a.errorf("%s: %s", name, describe(err))
					if first == nil {
						first = err
					}
					continue
				}
				a.infof("%s: new token %s, expires in %s", name, res.Token.Fingerprint(), shortDuration(res.Token.Expiry.Sub(a.clock())))
			}
			if first != nil {
				return &reported{first}
			}
			return nil
		},
	}
}

// reported wraps an error that has been printed already; its exit code is
// the wrapped error's.
type reported struct{ err error }

func (e *reported) Error() string { return e.err.Error() }
func (e *reported) Unwrap() error { return e.err }

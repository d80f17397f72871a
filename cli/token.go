package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/textsafe"
)

// tokenFlags are the flags token, header and exec share.
type tokenFlags struct {
	scopes scopeList
	minTTL time.Duration
}

func (t *tokenFlags) register(fs *flag.FlagSet) {
	fs.Var(&t.scopes, "scope", "ask for a subset `S` of the client's scopes (repeatable)")
	fs.DurationVar(&t.minTTL, "min-ttl", 0, "fetch a new token unless the cached one is valid at least this `long` (e.g. 10m)")
}

func (a *app) tokenCommand() *ffcli.Command {
	fs := a.newFlagSet("token")
	var tf tokenFlags
	tf.register(fs)
	return &ffcli.Command{
		Name:       "token",
		ShortUsage: "tokentray token NAME [--scope S]... [--min-ttl D]",
		ShortHelp:  "Print a valid access token for a client (cached, or fetched when due).",
		LongHelp: strings.TrimSpace(`
Prints only the access token and a newline on stdout. The cached token is used
while it has more than the refresh margin (or --min-ttl) left; else a new one
is fetched and cached.

EXAMPLE
  TOKEN=$(tokentray token billing) && curl -H "Authorization: Bearer $TOKEN" https://api.example.com/v1/models`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneName("token", fs, args)
			if err != nil {
				return err
			}
			res, err := a.token(ctx, name, tf)
			if err != nil {
				return err
			}
			if err := printable(name, res, false); err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, res.Token.AccessToken)
			return err
		},
	}
}

// token gets a token through the refresher and warns about what the caller
// should know (missing scopes, a token kept in memory only, clock skew).
// The running app answers first (agent.go); else the store and keyring.
func (a *app) token(ctx context.Context, name string, tf tokenFlags) (refresher.Result, error) {
	res, stale, served, err := a.agentToken(ctx, name, tf)
	if !served {
		res, err = a.storeToken(ctx, name, tf)
		if res.RefreshErr != nil {
			stale = res.RefreshErr.Message()
		}
	}
	if err != nil {
		return res, err
	}
	if stale != "" {
		a.warnf("%s: refreshing failed, using the cached token (valid %s more): %s", name,
			shortDuration(res.Token.Expiry.Sub(a.clock())), stale)
	}
	if len(res.Missing) > 0 {
		a.warnf("%s: the server did not grant %s", name, strings.Join(res.Missing, " "))
	}
	if res.NotCached != nil && res.Source == refresher.FromFetch {
		a.warnf("%s: the token could not be cached in the keyring (%v): the next call fetches again", name, res.NotCached)
	}
	if res.Skew != 0 {
		a.warnf("%s: the server's clock differs from this machine's by %v", name, res.Skew.Round(time.Second))
	}
	return res, nil
}

// storeToken gets a token through a refresher of this process.
func (a *app) storeToken(ctx context.Context, name string, tf tokenFlags) (refresher.Result, error) {
	s, err := a.openStore()
	if err != nil {
		return refresher.Result{}, err
	}
	opts := refresher.TokenOptions{MinTTL: tf.minTTL}
	if tf.scopes.set {
		opts.Scopes = tf.scopes.scopes
	}
	return a.refresher(s).Token(ctx, name, opts)
}

// unprintableToken is a token that token, header and exec refuse to hand
// on: a control character or a space in it would inject lines into a
// header or a terminal. It exits with ExitEndpoint, as a bad answer from
// the token endpoint does.
type unprintableToken struct {
	name   string
	source refresher.Origin
	field  string // "token" or "token type"
	at     int    // byte offset of the first refused byte
	b      byte   // that byte
}

func (e *unprintableToken) Error() string {
	from := "the cached " + e.field
	if e.source == refresher.FromFetch {
		from = "the " + e.field + " the endpoint returned"
	}
	what := "a control character"
	switch {
	case e.b == ' ':
		what = "a space"
	case e.b >= 0x80:
		what = "a non-ASCII byte"
	}
	return fmt.Sprintf("%s: %s holds %s (%s at byte %d), which would break a header or a terminal: not printed; "+
		"run tokentray refresh %s to fetch a new one, and if it happens again the token endpoint is at fault",
		e.name, from, what, textsafe.Escape(string(e.b)), e.at, e.name)
}

// printable refuses a token that is not all visible ASCII (0x21 to 0x7e),
// and, for header, a token type that is not. Every RFC 6750 bearer token
// passes; the check guards the output against a token cached before fetches
// refused such tokens, or written by another program.
func printable(name string, res refresher.Result, withType bool) error {
	check := func(field, s string) error {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= 0x20 || c >= 0x7f {
				return &unprintableToken{name: name, source: res.Source, field: field, at: i, b: c}
			}
		}
		return nil
	}
	if err := check("token", res.Token.AccessToken); err != nil || !withType {
		return err
	}
	return check("token type", res.Token.TokenType)
}

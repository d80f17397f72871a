package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func (a *app) headerCommand() *ffcli.Command {
	fs := a.newFlagSet("header")
	var tf tokenFlags
	tf.register(fs)
	return &ffcli.Command{
		Name:       "header",
		ShortUsage: "tokentray header NAME [--scope S]... [--min-ttl D]",
		ShortHelp:  "Print an Authorization header line with a valid token.",
		LongHelp: strings.TrimSpace(`
Prints "Authorization: Bearer <token>" and a newline on stdout, with the same
token the token command gives.

EXAMPLE
  curl -H "$(tokentray header billing)" https://api.example.com/v1/models`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneName("header", fs, args)
			if err != nil {
				return err
			}
			res, err := a.token(ctx, name, tf)
			if err != nil {
				return err
			}
			if err := printable(name, res, true); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Authorization: %s %s\n", authScheme(res.Token.TokenType), res.Token.AccessToken)
			return err
		},
	}
}

// authScheme returns the Authorization scheme for a token type: "Bearer"
// for bearer tokens (servers answer "bearer" too) and unknown types.
func authScheme(tokenType string) string {
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		return "Bearer"
	}
	return tokenType
}

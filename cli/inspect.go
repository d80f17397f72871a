package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/catalog"
	"github.com/tokentray/tokentray/jwtinfo"
	"github.com/tokentray/tokentray/textsafe"
	"github.com/tokentray/tokentray/vault"
)

// inspectJSON is the output of inspect --json. It never holds the token.
type inspectJSON struct {
	Client      string         `json:"client,omitempty"`
	Fingerprint string         `json:"fingerprint"`
	Source      string         `json:"source,omitempty"`
	ExpiresAt   *time.Time     `json:"expires_at"`
	SecondsLeft *int64         `json:"seconds_left"`
	Scopes      []string       `json:"scopes"`
	Missing     []string       `json:"missing,omitempty"`
	Assumed     bool           `json:"scopes_assumed,omitempty"` // the server did not say which scopes it granted
	JWT         bool           `json:"jwt"`
	Header      map[string]any `json:"header,omitempty"`
	Claims      map[string]any `json:"claims,omitempty"`
}

func (a *app) inspectCommand() *ffcli.Command {
	fs := a.newFlagSet("inspect")
	var tf tokenFlags
	tf.register(fs)
	tokenFrom := fs.String("token", "", "inspect a token read from standard input (give -) instead of a client's")
	asJSON := fs.Bool("json", false, "print JSON")
	return &ffcli.Command{
		Name:       "inspect",
		ShortUsage: "tokentray inspect NAME | --token -",
		ShortHelp:  "Show a token's decoded JWT header and claims, granted scopes and time left.",
		LongHelp: strings.TrimSpace(`
Decodes (without verifying) the client's current token, fetching one when
needed, or a token read from standard input with --token -. The token itself
is never printed, only its fingerprint.

EXAMPLES
  tokentray inspect billing
  tokentray token billing | tokentray inspect --token - --json | jq .claims`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			pos, err := parsePositional(fs, args)
			if err != nil {
				return &usageError{cmd: "inspect", msg: err.Error()}
			}
			var out inspectJSON
			var raw string
			var expiry time.Time
			switch {
			case *tokenFrom != "" && *tokenFrom != "-":
				return usagef("inspect", "--token takes only - (standard input): a token on the command line would show in the process list")
			case *tokenFrom == "-" && len(pos) == 0:
				b, err := io.ReadAll(io.LimitReader(a.stdin, jwtinfo.MaxLen+1))
				if err != nil {
					return fmt.Errorf("read the token from standard input: %w", err)
				}
				raw = strings.TrimSpace(string(b))
				if raw == "" {
					return usagef("inspect", "no token on standard input")
				}
			case *tokenFrom == "" && len(pos) == 1:
				res, err := a.token(ctx, pos[0], tf)
				if err != nil {
					return err
				}
				raw, expiry = res.Token.AccessToken, res.Token.Expiry
				out.Client, out.Source, out.Scopes, out.Missing = pos[0], string(res.Source), res.Token.Scopes, res.Missing
				out.Assumed = res.Token.ScopesAssumed
			default:
				return usagef("inspect", "give one client NAME, or --token - with the token on standard input")
			}
			out.Fingerprint = vault.Fingerprint(raw)
			info, err := jwtinfo.Parse(raw)
			switch {
			case err == nil:
				out.JWT, out.Header, out.Claims = true, info.Header, info.Claims
				if scopes, ok := info.Scopes(); ok && out.Client == "" {
					out.Scopes = scopes
				}
				if exp := info.Time("exp"); !exp.IsZero() && expiry.IsZero() {
					expiry = exp
				}
			case errors.Is(err, jwtinfo.ErrNotJWT):
			default:
				return err
			}
			if out.Scopes == nil {
				out.Scopes = []string{}
			}
			if !expiry.IsZero() {
				e := expiry.UTC()
				left := int64(expiry.Sub(a.clock()) / time.Second)
				out.ExpiresAt, out.SecondsLeft = &e, &left
			}
			if *asJSON {
				b, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "%s\n", textsafe.JSON(b))
				return err
			}
			return a.printInspect(out, expiry)
		},
	}
}

func (a *app) printInspect(out inspectJSON, expiry time.Time) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	if out.Client != "" {
		fmt.Fprintln(tw, row("client", out.Client))
		fmt.Fprintln(tw, row("source", out.Source))
	}
	fmt.Fprintf(tw, "fingerprint\t%s\n", out.Fingerprint)
	switch {
	case expiry.IsZero():
		fmt.Fprintf(tw, "expires\tunknown\n")
	case *out.SecondsLeft <= 0:
		fmt.Fprintf(tw, "expires\t%s (expired)\n", expiry.Local().Format(time.RFC3339))
	default:
		fmt.Fprintf(tw, "expires\t%s (%s left)\n", expiry.Local().Format(time.RFC3339), shortDuration(time.Duration(*out.SecondsLeft)*time.Second))
	}
	for i, s := range out.Scopes {
		label := ""
		if i == 0 {
			label = "scopes"
			if out.Assumed {
				label = "scopes (assumed)"
			}
		}
		fmt.Fprintln(tw, row(label, s, catalog.Describe(s)))
	}
	if len(out.Scopes) == 0 {
		fmt.Fprintf(tw, "scopes\t-\n")
	}
	if len(out.Missing) > 0 {
		fmt.Fprintln(tw, row("not granted", strings.Join(out.Missing, " ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !out.JWT {
		_, err := fmt.Fprintln(a.stdout, "not a JWT: an opaque token has no claims to show")
		return err
	}
	for _, part := range []struct {
		name string
		v    map[string]any
	}{{"header", out.Header}, {"claims", out.Claims}} {
		b, err := json.MarshalIndent(part.v, "", "  ")
		if err != nil {
			return err
		}
		// JSON escapes C0 controls in strings but not DEL, C1 or direction
		// overrides: textsafe.JSON does.
		fmt.Fprintf(a.stdout, "%s %s\n", part.name, textsafe.JSON(b))
	}
	return nil
}

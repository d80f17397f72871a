package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/authserver"
	"github.com/tokentray/tokentray/catalog"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// clientFlags are the client fields add and edit set.
type clientFlags struct {
	tokenURL, clientID, auth, audience, environment, notes string
	scopes                                                 scopeList
	params                                                 paramList
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tokenURL, "token-url", "", "the token endpoint `URL` (https; http only on loopback)")
	fs.StringVar(&f.clientID, "client-id", "", "the client `ID`")
	fs.Var(&f.scopes, "scope", "a scope `S` to request (repeatable; space or comma separated)")
	fs.StringVar(&f.auth, "auth", "auto", "how to send the credentials: `header` (HTTP Basic), body, or auto")
	fs.Var(&f.params, "param", "an extra token request parameter `KEY=VALUE`, e.g. resource=https://api.example.com (repeatable; KEY= removes KEY)")
	fs.StringVar(&f.audience, "audience", "", "short for --param audience=`A`")
	fs.StringVar(&f.environment, "environment", "", "`test` or live (default: inferred from the client id)")
	fs.StringVar(&f.notes, "notes", "", "a free-text `note`")
}

// apply sets on c the fields whose flags were given (all of them for add).
func (f *clientFlags) apply(c *vault.Client, given map[string]bool) error {
	if given["token-url"] {
		c.TokenURL = f.tokenURL
	}
	if given["client-id"] {
		c.ClientID = f.clientID
	}
	if given["scope"] {
		c.Scopes = f.scopes.scopes
	}
	if given["auth"] {
		style, err := vault.ParseAuthStyle(f.auth)
		if err != nil {
			return err
		}
		c.AuthStyle = style
	}
	if given["audience"] {
		f.params.Set("audience=" + f.audience)
	}
	if given["param"] || given["audience"] {
		p, err := f.params.apply(c.EndpointParams)
		if err != nil {
			return err
		}
		c.EndpointParams = p
	}
	if given["environment"] {
		c.EnvironmentOverride = vault.Environment(strings.ToLower(f.environment))
	}
	if given["notes"] {
		c.Notes = f.notes
	}
	return nil
}

// givenFlags returns the names of the flags set on the command line.
func givenFlags(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
}

func (a *app) addCommand() *ffcli.Command {
	fs := a.newFlagSet("add")
	var cf clientFlags
	cf.register(fs)
	noTest := fs.Bool("no-test", false, "save without a test token exchange")
	issuer := fs.String("issuer", "", "instead of --token-url: the server's issuer `URL`; the token URL and auth style come from its metadata (/.well-known/)")
	return &ffcli.Command{
		Name:       "add",
		ShortUsage: "tokentray add NAME --token-url URL|--issuer URL --client-id ID [--scope S]... [--auth header|body] [--param KEY=VALUE]... [--no-test]",
		ShortHelp:  "Add a client; the secret is read from stdin or a prompt, never from the command line.",
		LongHelp: strings.TrimSpace(`
The client secret comes from standard input when it is piped or redirected,
else from a prompt on the terminal without echo; never from an argument or an
environment variable. Unless --no-test, a real token exchange proves the
credentials before anything is saved, and the granted scopes are shown.

--param KEY=VALUE adds a parameter to every token request: resource (RFC
8707, for oidc-provider, Keycloak and others), audience (Auth0), or whatever
the server documents. Repeat it for several values (resource may repeat).
grant_type, client_id, client_secret and scope are Tokentray's own.
--audience A is short for --param audience=A.

--issuer URL finds the token URL in the server's metadata
(/.well-known/openid-configuration, else RFC 8414's
/.well-known/oauth-authorization-server) and, unless --auth is given, the
auth style from the methods it supports (both: auto).

EXAMPLES
  secret-tool lookup vendor billing | tokentray add billing --token-url https://auth.example.com/oauth2/token --client-id m2m-client-live-42 --scope models:read --scope chat:invoke
  tokentray add billing --token-url https://auth.example.com/oauth2/token --client-id m2m-client-live-42   # prompts for the secret
  tokentray add reports --token-url https://id.example.com/token --client-id reports --param resource=https://api.example.com`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneName("add", fs, args)
			if err != nil {
				return err
			}
			given := givenFlags(fs)
			if given["issuer"] && given["token-url"] {
				return usagef("add", "give --token-url or --issuer, not both")
			}
			for _, f := range []string{"token-url", "client-id"} {
				if !given[f] && !(f == "token-url" && given["issuer"]) {
					return usagef("add", "--%s is required (or, for the token URL, --issuer)", f)
				}
			}
			authGiven := given["auth"]
			given["auth"] = true
			c := vault.Client{Name: name}
			if err := cf.apply(&c, given); err != nil {
				return &usageError{cmd: "add", msg: err.Error()}
			}
			if given["issuer"] {
				if err := a.discover(ctx, &c, *issuer, authGiven); err != nil {
					return err
				}
			}
			c, err = c.Normalize()
			if err != nil {
				return &usageError{cmd: "add", msg: err.Error()}
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			if _, err := s.Get(name); err == nil {
				return fmt.Errorf("a client named %q exists already: change it with tokentray edit, or tokentray remove it first: %w", name, vault.ErrExists)
			} else if !errors.Is(err, vault.ErrNoClient) {
				return err
			}
			for _, w := range catalog.Warnings(c.Scopes) {
				a.warnf("%s", w)
			}
			secret, err := a.readSecret(fmt.Sprintf("client secret for %s (%s): ", name, c.ClientID))
			if err != nil {
				return err
			}
			var res refresher.Result
			if !*noTest {
				res, err = refresher.Exchange(ctx, a.tokenHTTPClient(), c, secret, nil)
				if err != nil {
					return fmt.Errorf("the test token exchange failed, nothing was saved: %w", err)
				}
			}
			if err := s.Add(c, secret); err != nil {
				return err
			}
			if *noTest {
				a.infof("added %s (%s environment) without a test", name, c.Environment())
				return nil
			}
			if err := s.SetToken(name, nil, res.Token); err != nil {
				a.warnf("the test token could not be cached: %v", err)
			}
			a.infof("added %s (%s environment): token exchange ok, %s: %s, expires in %s",
				name, c.Environment(), grantedLabel(res.Token), orDash(strings.Join(res.Token.Scopes, " ")), shortDuration(res.Token.Expiry.Sub(a.clock())))
			if len(res.Missing) > 0 {
				a.warnf("requested but not granted: %s", strings.Join(res.Missing, " "))
			}
			return nil
		},
	}
}

// discover sets c's token URL, and its auth style unless authGiven, from
// the metadata of the server with the given issuer.
func (a *app) discover(ctx context.Context, c *vault.Client, issuer string, authGiven bool) error {
	m, err := authserver.Discover(ctx, a.tokenHTTPClient(), issuer, authserver.DefaultTimeout)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	c.TokenURL = m.TokenEndpoint
	how := ""
	if !authGiven {
		style, err := m.AuthStyle()
		if err != nil {
			return fmt.Errorf("discovery: %w", err)
		}
		c.AuthStyle = style
		how = ", auth " + string(style)
	}
	a.infof("discovered the token URL %s%s (from %s)", m.TokenEndpoint, how, m.URL)
	if !m.SupportsClientCredentials() {
		a.warnf("the server's metadata does not list the client_credentials grant (it lists %s): the test exchange will tell", strings.Join(m.GrantTypes, " "))
	}
	return nil
}

// grantedLabel names a token's scopes: "granted scopes", or "granted scopes
// (assumed)" when the server did not say which it granted.
func grantedLabel(t vault.Token) string {
	if t.ScopesAssumed {
		return "granted scopes (assumed: the server did not say)"
	}
	return "granted scopes"
}

// tokenHTTPClient is the HTTP client for token requests made outside the
// refresher (add's test exchange).
func (a *app) tokenHTTPClient() *http.Client {
	if a.httpClient != nil {
		return a.httpClient
	}
	return refresher.NewHTTPClient(15 * time.Second)
}

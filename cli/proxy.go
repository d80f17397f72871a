package cli

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/authproxy"
	"github.com/tokentray/tokentray/refresher"
)

func (a *app) proxyCommand() *ffcli.Command {
	fs := a.newFlagSet("proxy")
	upstream := fs.String("upstream", "", "the API's base `URL` (https; http only for loopback hosts)")
	listen := fs.String("listen", "127.0.0.1:8787", "loopback `ADDRESS` to listen on (port 0 picks a free one)")
	var tf tokenFlags
	tf.register(fs)
	return &ffcli.Command{
		Name:       "proxy",
		ShortUsage: "tokentray proxy NAME --upstream URL [--listen 127.0.0.1:8787] [--scope S]... [--min-ttl D]",
		ShortHelp:  "Serve an API on loopback with a fresh token added to every request.",
		LongHelp: strings.TrimSpace(`
Runs a reverse proxy on a loopback address that forwards every request to the
one upstream URL with "Authorization: Bearer <token>", so curl, Postman, a
browser or a test suite use the API without handling a token. The token is the
one "tokentray token NAME" gives (cached while fresh); when the upstream answers
401, a new token is fetched once and a request whose body could be kept
(up to 1 MiB) is sent again.

It listens on loopback only, answers only its own Host (127.0.0.1, localhost
or [::1] with its port: no DNS rebinding), drops any Authorization the client
sends, forwards to nothing but the upstream, and needs an https upstream
(plain http to a loopback host only). The address goes to stdout; it runs until
interrupted (Ctrl-C, SIGTERM).

EXAMPLE
  tokentray proxy billing --upstream https://api.example.com &
  curl http://127.0.0.1:8787/v1/models`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneName("proxy", fs, args)
			if err != nil {
				return err
			}
			if *upstream == "" {
				return usagef("proxy", "--upstream URL is required (the API's base URL, e.g. https://api.example.com)")
			}
			if _, err := authproxy.CheckUpstream(*upstream); err != nil {
				return usagef("proxy", "%s", strings.TrimPrefix(err.Error(), "authproxy: "))
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			if _, err := a.client(s, name); err != nil {
				return err
			}
			opts := refresher.TokenOptions{MinTTL: tf.minTTL}
			if tf.scopes.set {
				opts.Scopes = tf.scopes.scopes
			}
			ln, err := authproxy.Listen(*listen)
			if errors.Is(err, authproxy.ErrNotLoopback) {
				return usagef("proxy", "%s", strings.TrimPrefix(err.Error(), "authproxy: "))
			} else if err != nil {
				return err
			}
			defer ln.Close()
			r := a.refresher(s)
			// Fail now, not at the first request, when no token can be had.
			if _, err := r.Token(ctx, name, opts); err != nil {
				return err
			}
			p, err := authproxy.New(authproxy.Options{
				Upstream: *upstream,
				Tokens:   authproxy.RefresherTokens(r, name, opts),
			})
			if err != nil {
				return err
			}
			url := authproxy.URL(ln)
			a.infof("proxy for %s: %s -> %s (Ctrl-C stops it)", name, url, *upstream)
			if _, err := a.stdout.Write([]byte(url + "\n")); err != nil {
				return err
			}
			if err := p.Serve(ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
}

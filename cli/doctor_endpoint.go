package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tokentray/tokentray/authserver"
	"github.com/tokentray/tokentray/vault"
)

// checkEndpoint checks a token URL the way it is used: a client_credentials
// POST without credentials must come back as an OAuth error. A 404, a web
// page or a redirect means a wrong URL; the fix names the command, and the
// token endpoint the server's own metadata gives when discovery finds it.
// names are the clients that use the URL.
func (a *app) checkEndpoint(ctx context.Context, raw string, names []string, timeout time.Duration) check {
	c := check{name: "endpoint " + raw, code: ExitEndpoint}
	editCmd := func(u string) string {
		if len(names) == 1 {
			return "tokentray edit " + names[0] + " --token-url " + u
		}
		return "tokentray edit NAME --token-url " + u + " for each of " + strings.Join(names, ", ")
	}
	if err := vault.ValidateTokenURL(raw); err != nil {
		c.detail, c.fix, c.code = err.Error(), editCmd("URL"), ExitError
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, _ := url.Parse(raw)
	p := authserver.ProbeTokenEndpoint(ctx, a.httpClient, raw, timeout)
	switch {
	case p.Verdict == authserver.Unreachable:
		c.detail = p.Detail
		c.fix = fmt.Sprintf("check the network, a proxy (HTTPS_PROXY) or the host name %s; for a TLS error, the system's CA certificates", u.Hostname())
		return c
	case u.Scheme == "https" && p.TLS == "":
		c.detail = "answered without TLS"
		c.fix = "check for an intercepting proxy"
		return c
	case p.Verdict == authserver.Failing:
		c.detail = p.Detail
		c.fix = "try again later, or ask the provider about the outage"
		return c
	case p.Verdict == authserver.WrongURL:
		c.detail = "not a token endpoint: " + p.Detail
		c.fix = a.wrongURLFix(ctx, u, p, editCmd, timeout)
		return c
	}
	how := "over plain http (loopback)"
	if p.TLS != "" {
		how = "over " + p.TLS
	}
	c.ok, c.detail = true, fmt.Sprintf("a token endpoint %s: %s", how, p.Detail)
	return c
}

// wrongURLFix names the right token URL when the server's metadata, at the
// URL's origin, gives one; else how to find it.
func (a *app) wrongURLFix(ctx context.Context, u *url.URL, p authserver.Probe, editCmd func(string) string, timeout time.Duration) string {
	origin := u.Scheme + "://" + u.Host
	m, err := authserver.Discover(ctx, a.httpClient, origin, timeout)
	if err == nil && m.TokenEndpoint != u.String() {
		return fmt.Sprintf("the server's metadata (%s) names the token endpoint %s: %s", m.URL, m.TokenEndpoint, editCmd(m.TokenEndpoint))
	}
	if p.Location != "" {
		return fmt.Sprintf("if %s is the token endpoint, %s; else find it in the provider's documentation or with tokentray add NAME --issuer ISSUER-URL", p.Location, editCmd(p.Location))
	}
	return "find the token endpoint in the provider's documentation (often /oauth2/token or /token), or let discovery find it: " +
		"tokentray add NAME --issuer ISSUER-URL; then " + editCmd("URL")
}

package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Verdict is what a probe of a token URL found.
type Verdict int

// Verdicts of ProbeTokenEndpoint.
const (
	// TokenEndpoint: the URL answered a credential-less client_credentials
	// request with an OAuth error (RFC 6749 section 5.2), as a token
	// endpoint does.
	TokenEndpoint Verdict = iota
	// WrongURL: a 404 or 405, a web page, a redirect, a 2xx without a
	// token, or another answer no token endpoint gives.
	WrongURL
	// Failing: the server answered 5xx or 429; the URL may be right.
	Failing
	// Unreachable: no HTTP answer (DNS, connection, TLS, timeout).
	Unreachable
)

// maxProbeBody caps the answer read by a probe.
const maxProbeBody = 64 << 10

// Probe is the outcome of ProbeTokenEndpoint, worded for a person.
type Probe struct {
	Verdict Verdict
	// Status is the HTTP status (0 when unreachable).
	Status int
	// OAuthError is the error code of an OAuth error answer, e.g.
	// invalid_client.
	OAuthError string
	// Location is where a redirect pointed.
	Location string
	// TLS names the TLS version of an https answer ("" for plain http).
	TLS string
	// Detail says what was seen.
	Detail string
}

// ProbeTokenEndpoint checks that tokenURL is a token endpoint the way it is
// used: it POSTs grant_type=client_credentials without any credentials and
// expects an OAuth error back (400 or 401 with a JSON error). No credential
// or secret is sent. hc nil means a plain client; redirects are never
// followed (a token endpoint does not redirect a POST).
func ProbeTokenEndpoint(ctx context.Context, hc *http.Client, tokenURL string, timeout time.Duration) Probe {
	c := client(hc, timeout, false)
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Probe{Verdict: WrongURL, Detail: "not a URL: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Probe{Verdict: Unreachable, Detail: clip(err.Error())}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	p := Probe{Status: resp.StatusCode}
	if resp.TLS != nil {
		p.TLS = tlsVersion(resp.TLS.Version)
	}
	code, isOAuth := oauthError(resp.Header.Get("Content-Type"), body)
	p.OAuthError = code
	status := resp.Status
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		p.Verdict = WrongURL
		p.Location = clip(resp.Header.Get("Location"))
		if loc, err := resp.Location(); err == nil {
			p.Location = clip(loc.String())
		}
		p.Detail = fmt.Sprintf("answers %s, a redirect to %s: a token endpoint answers a POST itself", status, orNone(p.Location))
	case isOAuth && (resp.StatusCode == 400 || resp.StatusCode == 401):
		p.Verdict = TokenEndpoint
		p.Detail = fmt.Sprintf("a POST without credentials gets %s %s, as from a token endpoint", status, code)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		p.Verdict = Failing
		p.Detail = fmt.Sprintf("answers %s: the server is failing or limiting requests, so the path cannot be checked", status)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		p.Verdict = WrongURL
		p.Detail = fmt.Sprintf("answers %s to a token request: nothing takes token requests at this path", status)
	case isHTML(resp.Header.Get("Content-Type"), body):
		p.Verdict = WrongURL
		p.Detail = fmt.Sprintf("answers %s with a web page, not an OAuth error", status)
	case isOAuth:
		// 403 and other 4xx with an OAuth error: a token endpoint behind
		// some policy; the path is right.
		p.Verdict = TokenEndpoint
		p.Detail = fmt.Sprintf("a POST without credentials gets %s %s", status, code)
	case resp.StatusCode == 401:
		p.Verdict = TokenEndpoint
		p.Detail = fmt.Sprintf("a POST without credentials gets %s (without the JSON error RFC 6749 asks for)", status)
	default:
		p.Verdict = WrongURL
		p.Detail = fmt.Sprintf("answers %s without an OAuth error: not a token endpoint", status)
	}
	return p
}

// oauthError reads an RFC 6749 section 5.2 error answer: a JSON object with
// a string "error".
func oauthError(contentType string, body []byte) (string, bool) {
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "text/html" {
		return "", false
	}
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", false
	}
	s, ok := e.Error.(string)
	if !ok || s == "" {
		return "", false
	}
	return clip(s), true
}

func isHTML(contentType string, body []byte) bool {
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	b := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 512)])))
	return strings.HasPrefix(b, "<!doctype html") || strings.HasPrefix(b, "<html")
}

func orNone(s string) string {
	if s == "" {
		return "nowhere (no Location header)"
	}
	return s
}

func tlsVersion(v uint16) string {
	switch v {
	case 0x0304:
		return "TLS 1.3"
	case 0x0303:
		return "TLS 1.2"
	}
	return fmt.Sprintf("TLS (0x%04x)", v)
}

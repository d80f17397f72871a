package authserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// DefaultTimeout bounds one discovery or probe request.
const DefaultTimeout = 10 * time.Second

// errRedirect is returned for a redirect that is not followed.
var errRedirect = errors.New("redirect not followed")

// client returns a copy of hc (nil: a plain client) with a timeout and a
// redirect policy: with sameHost, redirects are followed only to the same
// host over https (or loopback http), at most 3; without, none.
func client(hc *http.Client, timeout time.Duration, sameHost bool) *http.Client {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if c.Timeout == 0 || c.Timeout > timeout {
		c.Timeout = timeout
	}
	c.Jar = nil
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameHost {
			return http.ErrUseLastResponse
		}
		if len(via) >= 3 {
			return fmt.Errorf("%w: more than 3 redirects", errRedirect)
		}
		to, from := req.URL, via[0].URL
		if !strings.EqualFold(to.Hostname(), from.Hostname()) {
			return fmt.Errorf("%w: to another host, %s", errRedirect, clip(to.Host))
		}
		if to.Scheme != "https" && !(to.Scheme == "http" && vault.IsLoopbackHost(to.Hostname())) {
			return fmt.Errorf("%w: to plain http", errRedirect)
		}
		return nil
	}
	return c
}

// Discover reads the metadata of the authorization server whose issuer URL
// is given (or of the metadata document at a /.well-known/ address): first
// /.well-known/openid-configuration, then RFC 8414's
// /.well-known/oauth-authorization-server. A document must name the issuer
// asked for (RFC 8414 section 3.3) and a usable token endpoint. hc nil means
// a plain client; its transport is used with a timeout of at most timeout
// and redirects followed only within the same host.
func Discover(ctx context.Context, hc *http.Client, issuer string, timeout time.Duration) (Metadata, error) {
	urls, err := WellKnownURLs(issuer)
	if err != nil {
		return Metadata{}, err
	}
	c := client(hc, timeout, true)
	var tried []string
	for _, u := range urls {
		m, err := fetchMetadata(ctx, c, u)
		if err != nil {
			if errors.Is(err, errNotThere) {
				tried = append(tried, err.Error())
				continue
			}
			return Metadata{}, err
		}
		if given := strings.TrimSpace(issuer); !strings.Contains(given, "/.well-known/") {
			switch {
			case m.Issuer == "":
				return Metadata{}, fmt.Errorf("authserver: %s: %w: it names no issuer", u, ErrMetadata)
			case !sameIssuer(m.Issuer, given):
				return Metadata{}, fmt.Errorf("authserver: %s: %w: it is the metadata of issuer %q, not %q: give that issuer, or the token URL itself",
					u, ErrMetadata, clip(m.Issuer), clip(given))
			}
		}
		m.URL = u
		return m, nil
	}
	return Metadata{}, fmt.Errorf("authserver: no metadata found for %s (%s): give the token URL itself (--token-url)", clip(issuer), strings.Join(tried, "; "))
}

// errNotThere marks an address with no metadata document (try the next).
var errNotThere = errors.New("no metadata there")

type notThere struct{ url, what string }

func (e *notThere) Error() string { return e.url + ": " + e.what }
func (e *notThere) Is(t error) bool {
	return t == errNotThere
}

func fetchMetadata(ctx context.Context, c *http.Client, u string) (Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Metadata{}, fmt.Errorf("authserver: %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && errors.Is(ue.Err, errRedirect) {
			return Metadata{}, &notThere{u, ue.Err.Error()}
		}
		return Metadata{}, fmt.Errorf("authserver: discovery: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadataBytes+1))
	if err != nil {
		return Metadata{}, fmt.Errorf("authserver: %s: reading the answer: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Metadata{}, &notThere{u, resp.Status}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt == "text/html" {
			return Metadata{}, &notThere{u, "a web page, not JSON"}
		}
	}
	m, err := ParseMetadata(body)
	if err != nil {
		return Metadata{}, fmt.Errorf("authserver: %s: %w", u, err)
	}
	return m, nil
}

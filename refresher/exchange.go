package refresher

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokentray/tokentray/jwtinfo"
	"github.com/tokentray/tokentray/vault"
)

// Limits and defaults of token requests.
const (
	// DefaultTimeout bounds a whole token request.
	DefaultTimeout = 15 * time.Second
	// MaxResponseBytes caps the token response read (1 MiB).
	MaxResponseBytes = 1 << 20
	// DefaultLifetime is assumed for a token whose response has no
	// expires_in and which is not a JWT with an exp claim.
	DefaultLifetime = time.Hour
	// SkewThreshold: a server clock off by more than this (read from the
	// Date header) is reported, and absolute expiries are converted.
	SkewThreshold = 30 * time.Second
	// maxRedirects bounds redirects followed by NewHTTPClient.
	maxRedirects = 5
)

// NewHTTPClient returns an http.Client for token requests: dial, TLS and
// whole-request timeouts (timeout for the whole), no redirects except to
// https (or loopback), and responses capped at 1 MiB. A timeout <= 0 means
// DefaultTimeout.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	step := min(timeout, 10*time.Second)
	dialer := &net.Dialer{Timeout: step, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   step,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     &capTransport{base: tr, max: MaxResponseBytes},
		CheckRedirect: checkRedirect,
	}
}

// checkRedirect follows redirects only to https, or to plain http on
// loopback (a local test server).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
	}
	u := req.URL
	if u.Scheme == "https" || (u.Scheme == "http" && vault.IsLoopbackHost(u.Hostname())) {
		return nil
	}
	return fmt.Errorf("%w: to %s://%s", errRedirect, u.Scheme, u.Host)
}

// capTransport refuses responses larger than max bytes.
type capTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes announced", errTooLarge, resp.ContentLength)
	}
	resp.Body = &capBody{rc: resp.Body, left: t.max}
	return resp, nil
}

// capBody returns errTooLarge once more than its limit is read.
type capBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *capBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, errTooLarge
	}
	return n, err
}

func (b *capBody) Close() error { return b.rc.Close() }

// recorder wraps the transport of one exchange: it keeps the response's
// Date header and counts the body bytes read.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex // guards date and n
	date string
	n    int64
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.date = resp.Header.Get("Date")
	r.mu.Unlock()
	if resp.ContentLength > MaxResponseBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes announced", errTooLarge, resp.ContentLength)
	}
	resp.Body = &countBody{rc: resp.Body, r: r}
	return resp, nil
}

func (r *recorder) result() (date string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.date, r.n
}

type countBody struct {
	rc io.ReadCloser
	r  *recorder
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.r.mu.Lock()
	b.r.n += int64(n)
	b.r.mu.Unlock()
	return n, err
}

func (b *countBody) Close() error { return b.rc.Close() }

// newConfig returns the x/oauth2 configuration of a client, without secret
// and scopes (set per request).
func newConfig(c vault.Client) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID:       c.ClientID,
		TokenURL:       c.TokenURL,
		EndpointParams: c.EndpointParams,
		AuthStyle:      authStyle(c.AuthStyle),
	}
}

// authStyle maps the vault's auth style to x/oauth2's.
func authStyle(s vault.AuthStyle) oauth2.AuthStyle {
	switch s {
	case vault.AuthHeader:
		return oauth2.AuthStyleInHeader
	case vault.AuthBody:
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}

// hostOf returns the host of a token URL for messages.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the token endpoint"
	}
	return u.Host
}

// Exchange performs one client-credentials token request for c with secret,
// without caching anything: the "Test" button, `add` without --no-test and
// rotation's proof use it. scopes nil means c.Scopes. Errors are *Error.
// hc nil means NewHTTPClient(DefaultTimeout).
func Exchange(ctx context.Context, hc *http.Client, c vault.Client, secret string, scopes []string) (Result, error) {
	if hc == nil {
		hc = NewHTTPClient(DefaultTimeout)
	}
	n, err := c.Normalize()
	if err != nil {
		return Result{}, &Error{Class: ClassConfig, Client: c.Name, Host: hostOf(c.TokenURL), Err: err, cause: err.Error()}
	}
	if secret == "" {
		return Result{}, &Error{Class: ClassConfig, Client: c.Name, Host: hostOf(c.TokenURL), Err: errors.New("empty secret"),
			cause: "the secret is empty", hint: "paste it from your provider's dashboard"}
	}
	requested := scopes
	if requested == nil {
		requested = n.Scopes
	}
	cfg := newConfig(n)
	cfg.ClientSecret = secret
	cfg.Scopes = requested
	return exchange(ctx, hc, cfg, n, requested, time.Now)
}

// exchange runs one token request with cfg (secret and scopes set) on a
// token source built from ctx, with hc passed through oauth2.HTTPClient.
func exchange(ctx context.Context, hc *http.Client, cfg *clientcredentials.Config, c vault.Client, requested []string, now func() time.Time) (Result, error) {
	res := Result{Requested: append([]string(nil), requested...)}
	host := hostOf(c.TokenURL)
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rec := &recorder{base: base}
	hc2 := *hc
	hc2.Transport = rec
	sent := now().Round(0)
	tok, err := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, &hc2)).Token()
	recv := now().Round(0)
	date, n := rec.result()
	if err != nil {
		if n >= MaxResponseBytes && !errors.Is(err, errTooLarge) {
			err = fmt.Errorf("%w: %w", errTooLarge, err)
		}
		return res, classify(err, c.Name, host, requested, secretForms(cfg.ClientID, cfg.ClientSecret), recv)
	}
	if tt := tok.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") {
		err := fmt.Errorf("%w: the server issued a token of type %q", errBadTokenType, sanitize(tt, nil, 32))
		return res, classify(err, c.Name, host, requested, secretForms(cfg.ClientID, cfg.ClientSecret), recv)
	}
	if d, err := http.ParseTime(date); err == nil {
		if skew := d.Sub(recv).Round(time.Second); skew > SkewThreshold || skew < -SkewThreshold {
			res.Skew = skew
		}
	}
	info, _ := jwtinfo.Parse(tok.AccessToken)
	var expiry time.Time
	if secs, ok := expiresIn(tok.Extra("expires_in")); ok {
		// Relative to our own clock: immune to the server's skew.
		expiry = sent.Add(secs)
	} else if info != nil && !info.Time("exp").IsZero() {
		// An absolute time on the server's clock.
		expiry = info.Time("exp").Add(-res.Skew)
	} else {
		expiry = sent.Add(DefaultLifetime)
	}
	granted, assumed := grantedScopes(tok.Extra("scope"), info, requested)
	res.Token = vault.Token{
		AccessToken:   tok.AccessToken,
		TokenType:     "Bearer",
		Expiry:        expiry.UTC(),
		Scopes:        granted,
		ScopesAssumed: assumed,
		FetchedAt:     sent.UTC(),
	}
	res.Source = FromFetch
	res.Missing = vault.MissingScopes(requested, granted)
	return res, nil
}

// expiresIn reads expires_in as a number of seconds (a JSON number or a
// numeric string, as some servers send).
func expiresIn(v any) (time.Duration, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int64:
		f = float64(x)
	case json.Number:
		g, err := x.Float64()
		if err != nil {
			return 0, false
		}
		f = g
	case string:
		g, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, false
		}
		f = g
	default:
		return 0, false
	}
	if f <= 0 || math.IsNaN(f) || f > 10*365*24*3600 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// scopesOf reads the response's scope field: a space-separated string or,
// from some servers, a list.
func scopesOf(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return strings.Fields(x), true
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, strings.Fields(s)...)
			}
		}
		return out, true
	}
	return nil, false
}

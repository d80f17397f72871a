package refresher

import (
	"bytes"
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
	// MaxLifetime caps a token's lifetime: a larger expires_in (or JWT
	// exp) is taken as this (one year).
	MaxLifetime = 365 * 24 * time.Hour
)

// NewHTTPClient returns an http.Client for token requests: dial, TLS and
// whole-request timeouts (timeout for the whole), no redirects (a 3xx is
// returned as it is: a token request must not take the secret to another
// URL), and responses capped at 1 MiB. A timeout <= 0 means DefaultTimeout.
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
		CheckRedirect: noRedirects,
	}
}

// noRedirects makes an http.Client return a redirect as the response.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

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
// Date header and counts the body bytes read. The body of a successful
// answer is read here (up to MaxResponseBytes) and kept for parseSuccess;
// a JSON body reaches x/oauth2 without its expires_in, which it cannot
// parse beyond an int64 (1e300 failed the whole answer): parseSuccess reads
// it instead.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex // guards the fields below
	date string
	n    int64
	body []byte // the last 2xx answer's body
	ok   bool   // body was read
	host string // the host that answered last
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.date = resp.Header.Get("Date")
	r.host = req.URL.Host
	r.mu.Unlock()
	if resp.ContentLength > MaxResponseBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes announced", errTooLarge, resp.ContentLength)
	}
	resp.Body = &countBody{rc: resp.Body, r: r}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(b) > MaxResponseBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, MaxResponseBytes)
	}
	r.mu.Lock()
	r.body, r.ok = b, true
	r.mu.Unlock()
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) == nil {
		if _, has := m["expires_in"]; has {
			delete(m, "expires_in")
			if nb, err := json.Marshal(m); err == nil {
				b = nb
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func (r *recorder) result() (date string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.date, r.n
}

func (r *recorder) answered() (host string, body []byte, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.host, r.body, r.ok
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
// rotation's proof use it. scopes nil means c.Scopes. Errors are *Error
// with NewSecret set. hc nil means NewHTTPClient(DefaultTimeout).
func Exchange(ctx context.Context, hc *http.Client, c vault.Client, secret string, scopes []string) (Result, error) {
	if hc == nil {
		hc = NewHTTPClient(DefaultTimeout)
	}
	n, err := c.Normalize()
	if err != nil {
		return Result{}, &Error{Class: ClassConfig, Client: c.Name, Host: hostOf(c.TokenURL), Err: err, NewSecret: true, cause: sanitize(err.Error(), []string{secret}, 200)}
	}
	if secret == "" {
		return Result{}, &Error{Class: ClassConfig, Client: c.Name, Host: hostOf(c.TokenURL), Err: errors.New("empty secret"), NewSecret: true,
			cause: "the secret is empty", fix: "paste it from your provider's dashboard"}
	}
	requested := scopes
	if requested == nil {
		requested = n.Scopes
	}
	cfg := newConfig(n)
	cfg.ClientSecret = secret
	cfg.Scopes = requested
	res, err := exchange(ctx, hc, cfg, n, requested, time.Now)
	if e, ok := err.(*Error); ok {
		e.NewSecret = true
	}
	return res, err
}

// authStyles remembers, per token URL and client id, the auth style an
// auto-detecting exchange found to work (in memory, for this process).
var authStyles sync.Map // string -> oauth2.AuthStyle

// exchange runs one token request with cfg (secret and scopes set) on a
// token source built from ctx, with hc passed through oauth2.HTTPClient,
// following no redirect. With AuthStyleAutoDetect it sends the credentials
// in the Basic header (or the style that worked before) and tries the other
// style only when the answer rejects the client authentication (401, or
// invalid_client / unauthorized_client): never after a rate limit, a 5xx,
// a timeout or a refused scope. Both attempts share one deadline, hc's
// timeout (DefaultTimeout when it has none).
func exchange(ctx context.Context, hc *http.Client, cfg *clientcredentials.Config, c vault.Client, requested []string, now func() time.Time) (Result, error) {
	limit := hc.Timeout
	if limit <= 0 {
		limit = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	red := newRedactor(cfg.ClientID, cfg.ClientSecret)
	if cfg.AuthStyle != oauth2.AuthStyleAutoDetect {
		return attempt(ctx, hc, cfg, cfg.AuthStyle, c, requested, red, now)
	}
	key := cfg.TokenURL + "\x00" + cfg.ClientID
	first, second := oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams
	if v, ok := authStyles.Load(key); ok && v.(oauth2.AuthStyle) == oauth2.AuthStyleInParams {
		first, second = second, first
	}
	res, err := attempt(ctx, hc, cfg, first, c, requested, red, now)
	if err == nil {
		authStyles.Store(key, first)
		return res, nil
	}
	if e, ok := err.(*Error); !ok || !rejectsClientAuth(e) || ctx.Err() != nil {
		return res, err
	}
	res, err2 := attempt(ctx, hc, cfg, second, c, requested, red, now)
	if err2 == nil {
		authStyles.Store(key, second)
		return res, nil
	}
	return res, err2
}

// rejectsClientAuth reports whether an answer rejects the client's
// authentication, the only failure after which auto-detection tries the
// other auth style.
func rejectsClientAuth(e *Error) bool {
	return e.Status == http.StatusUnauthorized ||
		(e.Status == http.StatusBadRequest && (e.Code == "invalid_client" || e.Code == "unauthorized_client"))
}

// attempt is one token request with the given auth style.
func attempt(ctx context.Context, hc *http.Client, cfg *clientcredentials.Config, style oauth2.AuthStyle, c vault.Client, requested []string, red *redactor, now func() time.Time) (Result, error) {
	res := Result{Requested: append([]string(nil), requested...)}
	host := hostOf(c.TokenURL)
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rec := &recorder{base: base}
	hc2 := *hc
	hc2.Transport = rec
	hc2.CheckRedirect = noRedirects
	one := &clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL,
		Scopes: cfg.Scopes, EndpointParams: cfg.EndpointParams, AuthStyle: style}
	sent := now().Round(0)
	tok, err := one.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, &hc2)).Token()
	recv := now().Round(0)
	date, n := rec.result()
	if h, _, _ := rec.answered(); h != "" {
		host = h
	}
	fail := func(err error) (Result, error) {
		return res, classify(err, c.Name, host, requested, red, recv)
	}
	if err != nil {
		if n >= MaxResponseBytes && !errors.Is(err, errTooLarge) {
			err = fmt.Errorf("%w: %w", errTooLarge, err)
		}
		return fail(err)
	}
	if tt := tok.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") {
		return fail(fmt.Errorf("%w: the server issued a token of type %q", errBadTokenType, sanitize(tt, nil, 32)))
	}
	if why := checkAccessToken(tok.AccessToken); why != "" {
		return fail(fmt.Errorf("%w: %s", errMalformed, why))
	}
	if d, err := http.ParseTime(date); err == nil {
		if skew := d.Sub(recv).Round(time.Second); skew > SkewThreshold || skew < -SkewThreshold {
			res.Skew = skew
		}
	}
	_, body, _ := rec.answered()
	ein := tok.Extra("expires_in") // form-encoded answers
	if v, ok := jsonField(body, "expires_in"); ok {
		ein = v
	}
	info, _ := jwtinfo.Parse(tok.AccessToken)
	var expiry time.Time
	secs, verdict := expiresIn(ein)
	switch {
	case verdict == lifetimeBad:
		return fail(fmt.Errorf("%w: expires_in is %s: the token has no lifetime left", errMalformed, sanitize(fmt.Sprint(ein), nil, 32)))
	case verdict == lifetimeOK:
		// Relative to our own clock: immune to the server's skew.
		expiry = sent.Add(secs)
	case info != nil && !info.Time("exp").IsZero():
		// An absolute time on the server's clock.
		expiry = info.Time("exp").Add(-res.Skew)
		if !expiry.After(recv) {
			return fail(fmt.Errorf("%w: the token's exp claim is in the past", errMalformed))
		}
		if limit := sent.Add(MaxLifetime); expiry.After(limit) {
			expiry = limit
		}
	default:
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

// checkAccessToken returns why an access token cannot be used as a bearer
// token, or "": RFC 6750 2.1 allows only b64token characters,
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". Anything
// else (a newline, ESC, a space) would reach terminals and HTTP headers.
func checkAccessToken(tok string) string {
	if tok == "" {
		return "the access token is empty"
	}
	body := strings.TrimRight(tok, "=")
	if body == "" {
		return "the access token is only '=' signs"
	}
	for i := 0; i < len(body); i++ {
		ch := body[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case strings.IndexByte("-._~+/", ch) >= 0:
		case ch < 0x20 || ch == 0x7f:
			return fmt.Sprintf("the access token contains a control character (0x%02x at byte %d), which a bearer token cannot have", ch, i)
		default:
			return fmt.Sprintf("the access token contains %q at byte %d, which a bearer token cannot have (RFC 6750)", sanitize(string(rune(ch)), nil, 4), i)
		}
	}
	return ""
}

// jsonField returns the value of key in a JSON object body, numbers as
// json.Number.
func jsonField(body []byte, key string) (any, bool) {
	if len(body) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil, false
	}
	v, ok := m[key]
	return v, ok
}

// lifetimeVerdict says what an expires_in value means.
type lifetimeVerdict int

const (
	lifetimeMissing lifetimeVerdict = iota // absent or not a number: the JWT's exp or DefaultLifetime
	lifetimeOK                             // a lifetime (clamped to MaxLifetime)
	lifetimeBad                            // zero or negative: the answer is refused
)

// expiresIn reads expires_in as a number of seconds (a JSON number or a
// numeric string, as some servers send). Zero or less is refused (a token
// that is already expired is no answer); more than MaxLifetime is taken as
// MaxLifetime; anything not a number counts as missing.
func expiresIn(v any) (time.Duration, lifetimeVerdict) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int64:
		f = float64(x)
	case json.Number:
		g, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, lifetimeMissing
		}
		f = g
	case string:
		x = strings.TrimSpace(x)
		if x == "" {
			return 0, lifetimeMissing
		}
		g, err := strconv.ParseFloat(x, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, lifetimeMissing
		}
		f = g
	default:
		return 0, lifetimeMissing
	}
	switch {
	case math.IsNaN(f):
		return 0, lifetimeMissing
	case f <= 0:
		return 0, lifetimeBad
	case f >= MaxLifetime.Seconds():
		return MaxLifetime, lifetimeOK
	}
	return max(time.Duration(f*float64(time.Second)), time.Second), lifetimeOK
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

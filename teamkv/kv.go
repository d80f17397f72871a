package teamkv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// CallTimeout bounds every call to Vault.
const CallTimeout = 15 * time.Second

// Errors of calls to Vault. The errors returned wrap them with what was
// being done and what to do.
var (
	// ErrForbidden: Vault answered 403 to a valid token: its policy does
	// not allow this (a member's read-only policy and a write).
	ErrForbidden = errors.New("permission denied by the team's Vault policy")
	// ErrTokenInvalid: the Vault token expired, was revoked or is wrong.
	ErrTokenInvalid = errors.New("the Vault token is expired, revoked or wrong")
	// ErrNotLoggedIn: no Vault token is kept for the team.
	ErrNotLoggedIn = errors.New("not logged in to the team's Vault")
	// ErrConflict: a check-and-set write lost: someone wrote a newer
	// version since the version it started from.
	ErrConflict = errors.New("someone else wrote a newer version meanwhile")
	// ErrOffline: Vault could not be reached, or answered with a server
	// error (sealed, standby without a leader, overloaded).
	ErrOffline = errors.New("the team's Vault cannot be reached")
	// ErrNoEntry: the entry does not exist (or was deleted).
	ErrNoEntry = errors.New("no such entry in Vault")
)

// kvEntry is one version of a KV v2 entry.
type kvEntry struct {
	Data        map[string]any
	Version     int
	CreatedTime time.Time
}

// kv is a session with one team's Vault under one token. It speaks Vault's
// HTTP API directly (net/http and encoding/json): the few calls teamkv makes
// do not need Vault's api package, whose package initialisation alone cost
// every tokentray start about 3,400 allocations.
type kv struct {
	cfg   Config
	base  *url.URL
	token string
	hc    *http.Client
}

// maxAnswer bounds what is read of one answer from Vault: a list of a
// thousand entries is well under it.
const maxAnswer = 8 << 20

// newKV returns a client for cfg's Vault with token. TLS verification is
// always on (cfg.CAFile adds a private CA); nothing is read from VAULT_*
// environment variables, so a stray VAULT_SKIP_VERIFY cannot turn it off.
func newKV(cfg Config, token string, transport http.RoundTripper) (*kv, error) {
	base, err := url.Parse(cfg.Addr)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("teamkv: vault client: address %q is not a URL", cfg.Addr)
	}
	if transport == nil {
		transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: CallTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		}
	}
	if cfg.CAFile != "" {
		tr, ok := transport.(*http.Transport)
		if !ok {
			return nil, errors.New("teamkv: a CA file needs the default transport")
		}
		pool, err := loadCA(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("teamkv: CA file %s: %w", cfg.CAFile, err)
		}
		tr = tr.Clone()
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.RootCAs = pool
		transport = tr
	}
	hc := &http.Client{
		Transport: transport,
		Timeout:   CallTimeout,
		// A standby Vault redirects to the active node; follow a few such
		// redirects, never from https down to http off loopback.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && vault.IsLoopbackHost(req.URL.Hostname())) {
				return fmt.Errorf("refused a redirect to %s://%s", req.URL.Scheme, req.URL.Host)
			}
			return nil
		},
	}
	return &kv{cfg: cfg, base: base, token: token, hc: hc}, nil
}

// loadCA reads a PEM file of one or more CA certificates.
func loadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("no PEM certificate in it")
	}
	return pool, nil
}

func (k *kv) dataPath(entry string) string { return k.cfg.Mount + "/data/" + k.cfg.Prefix + entry }
func (k *kv) metaPath(entry string) string { return k.cfg.Mount + "/metadata/" + k.cfg.Prefix + entry }

// statusError is Vault's answer to a failed call: its HTTP status and the
// "errors" words of its JSON body.
type statusError struct {
	Code   int
	Errors []string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Code, strings.Join(e.Errors, "; "))
}

// secret is the part of Vault's answer teamkv reads.
type secret struct {
	Data map[string]any `json:"data"`
	Auth *struct {
		ClientToken   string `json:"client_token"`
		LeaseDuration int64  `json:"lease_duration"`
	} `json:"auth"`
	Warnings []string `json:"warnings"`
}

// classify maps an error of a call to one of the package's errors,
// keeping Vault's words (which never hold a secret) for the message.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var re *statusError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		switch {
		case re.Code == http.StatusForbidden:
			return fmt.Errorf("%w (HTTP 403: %s)", ErrForbidden, msg)
		case re.Code == http.StatusBadRequest && strings.Contains(msg, "check-and-set"):
			return fmt.Errorf("%w (%s)", ErrConflict, msg)
		case re.Code == http.StatusNotFound:
			return fmt.Errorf("%w (HTTP 404)", ErrNoEntry)
		case re.Code >= 500 || re.Code == http.StatusTooManyRequests:
			return fmt.Errorf("%w (HTTP %d: %s)", ErrOffline, re.Code, msg)
		}
		return fmt.Errorf("HTTP %d: %s", re.Code, msg)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w (%v)", ErrOffline, err)
	}
	return err
}

// do makes one call to Vault's HTTP API at /v1/path and decodes its answer.
// A GET of a path Vault does not have (404) is a nil secret and no error,
// like Vault's own client; any other status from 400 on is a *statusError.
func (k *kv) do(ctx context.Context, method, path string, query url.Values, body any) (*secret, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	u := *k.base
	u.Path = "/v1/" + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.token != "" {
		req.Header.Set("X-Vault-Token", k.token)
	}
	req.Header.Set("X-Vault-Request", "true") // Vault's guard against forged cross-site calls
	if k.cfg.Namespace != "" {
		req.Header.Set("X-Vault-Namespace", k.cfg.Namespace)
	}
	resp, err := k.hc.Do(req)
	if err != nil {
		return nil, classify(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, classify(err)
	}
	if len(raw) > maxAnswer {
		return nil, fmt.Errorf("teamkv: Vault's answer to %s %s is larger than %d bytes", method, path, maxAnswer)
	}
	if resp.StatusCode == http.StatusNotFound && method == http.MethodGet {
		return decodeSecret(raw, path)
	}
	if resp.StatusCode >= 400 {
		se := &statusError{Code: resp.StatusCode}
		var e struct {
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(raw, &e) == nil {
			se.Errors = e.Errors
		}
		return nil, classify(se)
	}
	return decodeSecret(raw, path)
}

// decodeSecret decodes an answer's JSON body; an empty body is no secret.
func decodeSecret(raw []byte, path string) (*secret, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var s secret
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("teamkv: Vault's answer for %s is not valid JSON: %w", path, err)
	}
	return &s, nil
}

// read returns the current version of entry (or, when version > 0, that
// version). A deleted or destroyed version is ErrNoEntry.
func (k *kv) read(ctx context.Context, entry string, version int) (kvEntry, error) {
	var q url.Values
	if version > 0 {
		q = url.Values{"version": {fmt.Sprint(version)}}
	}
	s, err := k.do(ctx, http.MethodGet, k.dataPath(entry), q, nil)
	if err != nil {
		return kvEntry{}, err
	}
	if s == nil || s.Data == nil {
		return kvEntry{}, ErrNoEntry
	}
	data, _ := s.Data["data"].(map[string]any)
	meta, _ := s.Data["metadata"].(map[string]any)
	if data == nil || meta == nil {
		return kvEntry{}, ErrNoEntry
	}
	e := kvEntry{Data: data}
	e.Version = intOf(meta["version"])
	if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(meta["created_time"])); err == nil {
		e.CreatedTime = t.UTC()
	}
	if e.Version <= 0 {
		return kvEntry{}, fmt.Errorf("teamkv: %s: the answer has no version", entry)
	}
	return e, nil
}

// currentVersion reads an entry's metadata and returns its current version.
func (k *kv) currentVersion(ctx context.Context, entry string) (int, error) {
	s, err := k.do(ctx, http.MethodGet, k.metaPath(entry), nil, nil)
	if err != nil {
		return 0, err
	}
	if s == nil || s.Data == nil {
		return 0, ErrNoEntry
	}
	return intOf(s.Data["current_version"]), nil
}

// list returns the entry names directly under the prefix (folders, ending
// in "/", are left out).
func (k *kv) list(ctx context.Context) ([]string, error) {
	s, err := k.do(ctx, http.MethodGet, k.metaPath(""), url.Values{"list": {"true"}}, nil)
	if err != nil {
		return nil, err
	}
	if s == nil || s.Data == nil {
		return nil, nil
	}
	raw, _ := s.Data["keys"].([]any)
	var out []string
	for _, v := range raw {
		if name, ok := v.(string); ok && !strings.HasSuffix(name, "/") {
			out = append(out, name)
		}
	}
	return out, nil
}

// write writes data as a new version of entry with check-and-set on cas
// (0: the entry must not exist) and returns the new version.
func (k *kv) write(ctx context.Context, entry string, data map[string]any, cas int) (int, error) {
	s, err := k.do(ctx, http.MethodPost, k.dataPath(entry), nil, map[string]any{
		"options": map[string]any{"cas": cas},
		"data":    data,
	})
	if err != nil {
		return 0, err
	}
	if s == nil || s.Data == nil {
		return 0, fmt.Errorf("teamkv: write %s: no version in the answer", entry)
	}
	return intOf(s.Data["version"]), nil
}

// lookupSelf returns the token's remaining time to live (0: never
// expires) and whether it can be renewed. A token Vault does not know is
// ErrTokenInvalid.
func (k *kv) lookupSelf(ctx context.Context) (time.Duration, bool, error) {
	s, err := k.do(ctx, http.MethodGet, "auth/token/lookup-self", nil, nil)
	if errors.Is(err, ErrForbidden) {
		return 0, false, fmt.Errorf("%w (%v)", ErrTokenInvalid, err)
	}
	if err != nil {
		return 0, false, err
	}
	if s == nil || s.Data == nil {
		return 0, false, errors.New("teamkv: token lookup: empty answer")
	}
	ttl := time.Duration(intOf(s.Data["ttl"])) * time.Second
	renewable, _ := s.Data["renewable"].(bool)
	return ttl, renewable, nil
}

// renewSelf renews the token (auth/token/renew-self) and returns its new
// time to live.
func (k *kv) renewSelf(ctx context.Context) (time.Duration, error) {
	s, err := k.do(ctx, http.MethodPost, "auth/token/renew-self", nil, map[string]any{"increment": 0})
	if errors.Is(err, ErrForbidden) {
		return 0, fmt.Errorf("%w (%v)", ErrTokenInvalid, err)
	}
	if err != nil {
		return 0, err
	}
	if s == nil || s.Auth == nil {
		return 0, errors.New("teamkv: token renewal: empty answer")
	}
	return time.Duration(s.Auth.LeaseDuration) * time.Second, nil
}

// loginUserpass logs in with a username and password and returns the new
// token. The password goes in the request body only.
func (k *kv) loginUserpass(ctx context.Context, mount, user, password string) (string, error) {
	s, err := k.do(ctx, http.MethodPost, "auth/"+mount+"/login/"+user, nil, map[string]any{"password": password})
	if errors.Is(err, ErrForbidden) || (err != nil && strings.Contains(err.Error(), "HTTP 400")) {
		return "", fmt.Errorf("teamkv: login as %q: the user name or password is wrong", user)
	}
	if err != nil {
		return "", fmt.Errorf("teamkv: login as %q: %w", user, err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return "", fmt.Errorf("teamkv: login as %q: no token in the answer", user)
	}
	return s.Auth.ClientToken, nil
}

// intOf reads a JSON number (json.Number or float64) as an int.
func intOf(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}

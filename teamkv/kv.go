package teamkv

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
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

// kv is a session with one team's Vault under one token.
type kv struct {
	cfg Config
	c   *api.Client
}

// newKV returns a client for cfg's Vault with token. TLS verification is
// always on (cfg.CAFile adds a private CA); nothing is read from VAULT_*
// environment variables, so a stray VAULT_SKIP_VERIFY cannot turn it off.
func newKV(cfg Config, token string, transport http.RoundTripper) (*kv, error) {
	if transport == nil {
		tr := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: CallTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		}
		transport = tr
	}
	conf := &api.Config{
		Address: cfg.Addr,
		HttpClient: &http.Client{
			Transport: transport,
			Timeout:   CallTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // the api client follows Vault's redirects itself
			},
		},
		Timeout:    CallTimeout,
		MaxRetries: 0, // the sweep is the retry
	}
	if cfg.CAFile != "" {
		if _, ok := transport.(*http.Transport); !ok {
			return nil, errors.New("teamkv: a CA file needs the default transport")
		}
		if err := conf.ConfigureTLS(&api.TLSConfig{CACert: cfg.CAFile}); err != nil {
			return nil, fmt.Errorf("teamkv: CA file %s: %w", cfg.CAFile, err)
		}
	}
	c, err := api.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("teamkv: vault client: %w", err)
	}
	c.SetToken(token)
	// Drop headers from VAULT_HEADERS; keep the api client's SSRF guard.
	c.SetHeaders(http.Header{api.RequestHeaderName: {"true"}})
	if cfg.Namespace != "" {
		c.SetNamespace(cfg.Namespace)
	} else {
		c.ClearNamespace()
	}
	return &kv{cfg: cfg, c: c}, nil
}

func (k *kv) dataPath(entry string) string { return k.cfg.Mount + "/data/" + k.cfg.Prefix + entry }
func (k *kv) metaPath(entry string) string { return k.cfg.Mount + "/metadata/" + k.cfg.Prefix + entry }

// classify maps an error of the api client to one of the package's errors,
// keeping Vault's words (which never hold a secret) for the message.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		switch {
		case re.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%w (HTTP 403: %s)", ErrForbidden, msg)
		case re.StatusCode == http.StatusBadRequest && strings.Contains(msg, "check-and-set"):
			return fmt.Errorf("%w (%s)", ErrConflict, msg)
		case re.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w (HTTP 404)", ErrNoEntry)
		case re.StatusCode >= 500 || re.StatusCode == http.StatusTooManyRequests:
			return fmt.Errorf("%w (HTTP %d: %s)", ErrOffline, re.StatusCode, msg)
		}
		return fmt.Errorf("HTTP %d: %s", re.StatusCode, msg)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w (%v)", ErrOffline, err)
	}
	return err
}

func (k *kv) call(ctx context.Context, f func(ctx context.Context) (*api.Secret, error)) (*api.Secret, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	s, err := f(ctx)
	return s, classify(err)
}

// read returns the current version of entry (or, when version > 0, that
// version). A deleted or destroyed version is ErrNoEntry.
func (k *kv) read(ctx context.Context, entry string, version int) (kvEntry, error) {
	s, err := k.call(ctx, func(ctx context.Context) (*api.Secret, error) {
		var q map[string][]string
		if version > 0 {
			q = map[string][]string{"version": {fmt.Sprint(version)}}
		}
		return k.c.Logical().ReadWithDataWithContext(ctx, k.dataPath(entry), q)
	})
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
	s, err := k.call(ctx, func(ctx context.Context) (*api.Secret, error) {
		return k.c.Logical().ReadWithContext(ctx, k.metaPath(entry))
	})
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
	s, err := k.call(ctx, func(ctx context.Context) (*api.Secret, error) {
		return k.c.Logical().ListWithContext(ctx, k.metaPath(""))
	})
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
	s, err := k.call(ctx, func(ctx context.Context) (*api.Secret, error) {
		return k.c.Logical().WriteWithContext(ctx, k.dataPath(entry), map[string]any{
			"options": map[string]any{"cas": cas},
			"data":    data,
		})
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
	s, err := k.call(ctx, func(ctx context.Context) (*api.Secret, error) {
		return k.c.Auth().Token().LookupSelfWithContext(ctx)
	})
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
	s, err := k.call(ctx, func(ctx context.Context) (*api.Secret, error) {
		return k.c.Auth().Token().RenewSelfWithContext(ctx, 0)
	})
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
	s, err := k.call(ctx, func(ctx context.Context) (*api.Secret, error) {
		return k.c.Logical().WriteWithContext(ctx, "auth/"+mount+"/login/"+user, map[string]any{"password": password})
	})
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

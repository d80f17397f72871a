package teamkv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// Team is one team source: its configuration, its local cache and a way to
// reach its Vault. It is a vault.Source: List, Get and Secret answer from
// the cache (no network); Sync refreshes the cache from Vault. It is safe
// for concurrent use; several processes may share one directory (the cache
// file is replaced atomically).
type Team struct {
	cfg       Config
	dir       string        // the configuration directory (beside clients.json)
	kr        vault.Keyring // the Vault token and the cached secrets
	now       func() time.Time
	transport http.RoundTripper // nil: the default (tests may count requests)

	mu    sync.Mutex // guards the fields below
	cache cacheFile  // as last read or written
	stamp fileStamp  // of the cache file when last read
}

// Options configure a Team. Zero values take the defaults.
type Options struct {
	Now       func() time.Time  // default time.Now
	Transport http.RoundTripper // default: a transport with TLS verification and timeouts
}

// New returns the team source for cfg, keeping its cache under dir and its
// secrets in kr. It reads nothing from Vault.
func New(dir string, cfg Config, kr vault.Keyring, opts ...Options) (*Team, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}
	t := &Team{cfg: cfg, dir: dir, kr: kr, now: time.Now}
	if len(opts) > 0 {
		if opts[0].Now != nil {
			t.now = opts[0].Now
		}
		t.transport = opts[0].Transport
	}
	return t, nil
}

// OpenAll returns a source for every team in dir/teams.json.
func OpenAll(dir string, kr vault.Keyring, opts ...Options) ([]*Team, error) {
	cfgs, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	out := make([]*Team, 0, len(cfgs))
	for _, c := range cfgs {
		t, err := New(dir, c, kr, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Sources returns teams as vault sources, for vault.WithSources.
func Sources(teams []*Team) []vault.Source {
	out := make([]vault.Source, len(teams))
	for i, t := range teams {
		out[i] = t
	}
	return out
}

var _ vault.Source = (*Team)(nil)

// Config returns the team's configuration.
func (t *Team) Config() Config { return t.cfg }

// Name returns the team's name.
func (t *Team) Name() string { return t.cfg.Name }

// Owns reports whether name is "<team>.<something>".
func (t *Team) Owns(name string) bool { return strings.HasPrefix(name, t.cfg.Name+".") }

// Keyring keys.
func tokenKey(team string) string         { return "team/" + team + "/vault-token" }
func secretKey(team, entry string) string { return "team/" + team + "/" + entry + "/secret" }

// TokenKey returns the keyring key of the team's Vault token.
func TokenKey(team string) string { return tokenKey(team) }

// cachedSecret is a secret as kept in the keyring, with its KV version.
type cachedSecret struct {
	Version int    `json:"version"`
	Secret  string `json:"secret"`
}

// cacheEntry is one client entry as the cache keeps it (no secret).
type cacheEntry struct {
	Entry   string       `json:"entry"`
	Version int          `json:"version"`
	Client  vault.Client `json:"client"`
}

// cacheFile is teams/<team>.json.
type cacheFile struct {
	Schema int `json:"schema"`
	// SyncedAt is the end of the last successful sweep.
	SyncedAt time.Time `json:"synced_at,omitzero"`
	// OfflineSince is the first failed sweep since the last success
	// (Vault unreachable); zero while online.
	OfflineSince time.Time `json:"offline_since,omitzero"`
	// Problem is the last sweep's failure in words; "" after a success.
	Problem string `json:"problem,omitempty"`
	// LoginNeeded is set when the sweep failed for want of a valid Vault
	// token.
	LoginNeeded bool `json:"login_needed,omitempty"`
	// NoIndex is set when the team has no _index entry: each sweep then
	// reads every entry (fine for a few, costly for many).
	NoIndex bool `json:"no_index,omitempty"`
	// TokenExpiry is when the Vault token expires, as of the last check
	// (zero: never, or unknown).
	TokenExpiry time.Time    `json:"token_expiry,omitzero"`
	Entries     []cacheEntry `json:"entries"`
}

const cacheSchema = 1

type fileStamp struct {
	size int64
	mod  time.Time
}

func (t *Team) cachePath() string { return filepath.Join(t.dir, cacheDir, t.cfg.Name+".json") }

// loadLocked re-reads the cache file when it changed since the last read.
func (t *Team) loadLocked() error {
	fi, err := os.Stat(t.cachePath())
	if errors.Is(err, fs.ErrNotExist) {
		t.cache, t.stamp = cacheFile{Schema: cacheSchema}, fileStamp{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("teamkv: team %q: %w", t.cfg.Name, err)
	}
	st := fileStamp{size: fi.Size(), mod: fi.ModTime()}
	if st == t.stamp && t.cache.Schema != 0 {
		return nil
	}
	data, err := os.ReadFile(t.cachePath())
	if err != nil {
		return fmt.Errorf("teamkv: team %q: %w", t.cfg.Name, err)
	}
	var c cacheFile
	if err := json.Unmarshal(data, &c); err != nil || c.Schema != cacheSchema {
		// A cache is only a cache: the next sweep rebuilds it.
		c = cacheFile{Schema: cacheSchema, Problem: "the local cache was unreadable and is rebuilt at the next sweep"}
	}
	t.cache, t.stamp = c, st
	return nil
}

func (t *Team) saveLocked() error {
	t.cache.Schema = cacheSchema
	slices.SortFunc(t.cache.Entries, func(a, b cacheEntry) int { return strings.Compare(a.Entry, b.Entry) })
	b, err := json.MarshalIndent(t.cache, "", "  ")
	if err != nil {
		return fmt.Errorf("teamkv: team %q: encode cache: %w", t.cfg.Name, err)
	}
	if err := writeFile(t.cachePath(), append(b, '\n')); err != nil {
		return err
	}
	if fi, err := os.Stat(t.cachePath()); err == nil {
		t.stamp = fileStamp{size: fi.Size(), mod: fi.ModTime()}
	}
	return nil
}

// List returns the team's clients from the cache.
func (t *Team) List() ([]vault.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.loadLocked(); err != nil {
		return nil, err
	}
	out := make([]vault.Client, 0, len(t.cache.Entries))
	for _, e := range t.cache.Entries {
		out = append(out, e.Client.Clone())
	}
	slices.SortFunc(out, func(a, b vault.Client) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// entryOf returns the entry name of one of the team's client names.
func (t *Team) entryOf(name string) string { return strings.TrimPrefix(name, t.cfg.Name+".") }

// Get returns one client from the cache.
func (t *Team) Get(name string) (vault.Client, error) {
	e, err := t.cached(name)
	if err != nil {
		return vault.Client{}, err
	}
	return e.Client, nil
}

func (t *Team) cached(name string) (cacheEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.loadLocked(); err != nil {
		return cacheEntry{}, err
	}
	entry := t.entryOf(name)
	for _, e := range t.cache.Entries {
		if e.Entry == entry {
			e.Client = e.Client.Clone()
			return e, nil
		}
	}
	return cacheEntry{}, fmt.Errorf("teamkv: %q: %w in team %q (run tokentray team sync %s)", name, vault.ErrNoClient, t.cfg.Name, t.cfg.Name)
}

// Secret returns the cached secret of a client (it works offline).
func (t *Team) Secret(name string) (string, error) {
	e, err := t.cached(name)
	if err != nil {
		return "", err
	}
	if e.Client.Problem != "" {
		return "", &vault.SourceError{Source: t.cfg.Name, Client: name,
			Problem: "the team's entry is broken: " + e.Client.Problem, Fix: "a team admin fixes it in Vault"}
	}
	v, err := t.kr.Get(secretKey(t.cfg.Name, e.Entry))
	if errors.Is(err, vault.ErrNotFound) {
		return "", &vault.SourceError{Source: t.cfg.Name, Client: name,
			Problem: "its secret is not cached on this computer", Fix: "run: tokentray team sync " + t.cfg.Name}
	}
	if err != nil {
		return "", fmt.Errorf("teamkv: secret of %q: %w", name, err)
	}
	var cs cachedSecret
	if err := json.Unmarshal([]byte(v), &cs); err != nil || cs.Secret == "" {
		return "", fmt.Errorf("teamkv: secret of %q: the keyring item is unreadable (run tokentray team sync %s)", name, t.cfg.Name)
	}
	return cs.Secret, nil
}

// Version returns the KV version of a client's current secret, as cached.
func (t *Team) Version(name string) (int, error) {
	e, err := t.cached(name)
	if err != nil {
		return 0, err
	}
	return e.Version, nil
}

// Status is a team source's state in words and times.
type Status struct {
	Team         string
	Addr         string
	Clients      int
	Broken       int
	SyncedAt     time.Time // last successful sweep
	OfflineSince time.Time // zero while online
	Problem      string    // the last sweep's failure; "" when it worked
	LoginNeeded  bool
	NoIndex      bool
	TokenExpiry  time.Time
}

// Status returns the team's state as the cache records it.
func (t *Team) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.loadLocked()
	st := Status{
		Team: t.cfg.Name, Addr: t.cfg.Addr, Clients: len(t.cache.Entries),
		SyncedAt: t.cache.SyncedAt, OfflineSince: t.cache.OfflineSince, Problem: t.cache.Problem,
		LoginNeeded: t.cache.LoginNeeded, NoIndex: t.cache.NoIndex, TokenExpiry: t.cache.TokenExpiry,
	}
	for _, e := range t.cache.Entries {
		if e.Client.Problem != "" {
			st.Broken++
		}
	}
	return st
}

// Line is the status in one line, for list and status output: "", or
// "team source offline since 10:42", or what to do.
func (s Status) Line() string {
	switch {
	case s.LoginNeeded:
		return fmt.Sprintf("team %s: %s: run tokentray team login %s", s.Team, ErrTokenInvalid, s.Team)
	case !s.OfflineSince.IsZero():
		return fmt.Sprintf("team source %s offline since %s (cached secrets in use): %s", s.Team, s.OfflineSince.Local().Format("15:04"), s.Problem)
	case s.Problem != "":
		return fmt.Sprintf("team %s: %s", s.Team, s.Problem)
	}
	return ""
}

// token returns the Vault token from the keyring.
func (t *Team) token() (string, error) {
	v, err := t.kr.Get(tokenKey(t.cfg.Name))
	if errors.Is(err, vault.ErrNotFound) {
		return "", fmt.Errorf("teamkv: team %q: %w: run tokentray team login %s", t.cfg.Name, ErrNotLoggedIn, t.cfg.Name)
	}
	if err != nil {
		return "", fmt.Errorf("teamkv: team %q: vault token: %w", t.cfg.Name, err)
	}
	return v, nil
}

func (t *Team) session() (*kv, error) {
	tok, err := t.token()
	if err != nil {
		return nil, err
	}
	return newKV(t.cfg, tok, t.transport)
}

// SetToken checks a Vault token against the server (lookup-self), keeps it
// in the keyring and returns its time to live (0: never expires).
func (t *Team) SetToken(ctx context.Context, token string) (time.Duration, error) {
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return 0, fmt.Errorf("teamkv: team %q: the Vault token is empty or has spaces: paste it again", t.cfg.Name)
	}
	k, err := newKV(t.cfg, token, t.transport)
	if err != nil {
		return 0, err
	}
	ttl, _, err := k.lookupSelf(ctx)
	if err != nil {
		return 0, fmt.Errorf("teamkv: team %q: check the token: %w", t.cfg.Name, err)
	}
	if err := t.kr.Set(tokenKey(t.cfg.Name), token); err != nil {
		return 0, fmt.Errorf("teamkv: team %q: keep the token: %w", t.cfg.Name, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.loadLocked()
	t.cache.LoginNeeded = false
	if t.cache.Problem != "" && t.cache.OfflineSince.IsZero() {
		t.cache.Problem = ""
	}
	t.cache.TokenExpiry = time.Time{}
	if ttl > 0 {
		t.cache.TokenExpiry = t.now().Add(ttl).UTC()
	}
	return ttl, t.saveLocked()
}

// LoginUserpass logs in with Vault's userpass method (at auth/<mount>) and
// keeps the token it returns.
func (t *Team) LoginUserpass(ctx context.Context, mount, user, password string) (time.Duration, error) {
	k, err := newKV(t.cfg, "", t.transport)
	if err != nil {
		return 0, err
	}
	if mount == "" {
		mount = "userpass"
	}
	tok, err := k.loginUserpass(ctx, mount, user, password)
	if err != nil {
		return 0, err
	}
	return t.SetToken(ctx, tok)
}

// RenewToken renews the Vault token (auth/token/renew-self) and returns its
// new expiry (zero: it never expires). A token that cannot be renewed any
// more keeps working until it expires; the expiry says when.
func (t *Team) RenewToken(ctx context.Context) (time.Time, error) {
	k, err := t.session()
	if err != nil {
		return time.Time{}, err
	}
	ttl, renewable, err := k.lookupSelf(ctx)
	if err == nil && renewable {
		ttl, err = k.renewSelf(ctx)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.loadLocked()
	if errors.Is(err, ErrTokenInvalid) {
		t.cache.LoginNeeded = true
		_ = t.saveLocked()
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("teamkv: team %q: renew the Vault token: %w", t.cfg.Name, err)
	}
	t.cache.TokenExpiry = time.Time{}
	if ttl > 0 {
		t.cache.TokenExpiry = t.now().Add(ttl).UTC()
	}
	return t.cache.TokenExpiry, t.saveLocked()
}

// SyncResult says what a sweep did.
type SyncResult struct {
	Requests int      // requests sent to Vault
	Changed  []string // client names added or given a new version
	Removed  []string // client names gone from the team
}

// Sync is the team's sweep: it reads the _index entry and then only the
// entries whose version moved (all of them at the first sweep, or every
// sweep when the team has no index), updates the keyring and the cache,
// and returns what changed. When Vault cannot be reached the cache stays
// as it is and records since when the team is offline.
func (t *Team) Sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	k, err := t.session()
	if err != nil {
		t.recordFailure(err)
		return res, err
	}
	t.mu.Lock()
	_ = t.loadLocked()
	known := make(map[string]int, len(t.cache.Entries))
	for _, e := range t.cache.Entries {
		known[e.Entry] = e.Version
	}
	t.mu.Unlock()

	// Which entries exist, at which version.
	var want map[string]int // entry -> version; 0: unknown, read it
	noIndex := false
	res.Requests++
	idx, err := k.read(ctx, IndexEntry, 0)
	switch {
	case err == nil:
		want = parseIndex(idx.Data)
	case errors.Is(err, ErrNoEntry):
		noIndex = true
		res.Requests++
		names, lerr := k.list(ctx)
		if lerr != nil {
			err = lerr
			break
		}
		err = nil
		want = map[string]int{}
		for _, n := range names {
			if n != IndexEntry {
				want[n] = 0
			}
		}
	}
	if err != nil {
		err = t.explain(ctx, k, err)
		t.recordFailure(err)
		return res, err
	}

	type fresh struct {
		entry  string
		ver    int
		client vault.Client
		secret string
	}
	var got []fresh
	for entry, v := range want {
		if v > 0 && known[entry] == v {
			continue
		}
		res.Requests++
		e, err := k.read(ctx, entry, 0)
		if errors.Is(err, ErrNoEntry) {
			delete(want, entry) // deleted meanwhile
			continue
		}
		if err != nil {
			err = t.explain(ctx, k, err)
			t.recordFailure(err)
			return res, err
		}
		if known[entry] == e.Version {
			continue
		}
		c, secret := ParseEntry(t.cfg.Name, entry, e.Data)
		c.SecretSetAt = e.CreatedTime
		c.CreatedAt = e.CreatedTime
		got = append(got, fresh{entry: entry, ver: e.Version, client: c, secret: secret})
	}

	// Secrets first, then the cache: a cache entry never names a version
	// whose secret is not in the keyring.
	for _, f := range got {
		if f.secret == "" {
			continue
		}
		b, _ := json.Marshal(cachedSecret{Version: f.ver, Secret: f.secret})
		if err := t.kr.Set(secretKey(t.cfg.Name, f.entry), string(b)); err != nil {
			err = fmt.Errorf("teamkv: team %q: keep the secret of %s: %w", t.cfg.Name, f.entry, err)
			t.recordFailure(err)
			return res, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.loadLocked()
	byEntry := make(map[string]cacheEntry, len(t.cache.Entries))
	for _, e := range t.cache.Entries {
		byEntry[e.Entry] = e
	}
	for _, f := range got {
		byEntry[f.entry] = cacheEntry{Entry: f.entry, Version: f.ver, Client: f.client}
		res.Changed = append(res.Changed, f.client.Name)
	}
	entries := make([]cacheEntry, 0, len(want))
	for entry, e := range byEntry {
		if _, ok := want[entry]; !ok {
			res.Removed = append(res.Removed, e.Client.Name)
			_ = t.kr.Delete(secretKey(t.cfg.Name, entry))
			continue
		}
		entries = append(entries, e)
	}
	slices.Sort(res.Changed)
	slices.Sort(res.Removed)
	t.cache.Entries = entries
	t.cache.SyncedAt = t.now().UTC()
	t.cache.OfflineSince = time.Time{}
	t.cache.Problem = ""
	t.cache.LoginNeeded = false
	t.cache.NoIndex = noIndex
	return res, t.saveLocked()
}

// explain tells a token that is no longer valid from a policy that forbids
// (Vault answers 403 to both): it asks lookup-self.
func (t *Team) explain(ctx context.Context, k *kv, err error) error {
	if errors.Is(err, ErrForbidden) {
		if _, _, lerr := k.lookupSelf(ctx); errors.Is(lerr, ErrTokenInvalid) {
			return fmt.Errorf("teamkv: team %q: %w: run tokentray team login %s", t.cfg.Name, ErrTokenInvalid, t.cfg.Name)
		}
		return fmt.Errorf("teamkv: team %q: %w: ask a team admin for read access to %s/%s", t.cfg.Name, err, t.cfg.Mount, t.cfg.Prefix)
	}
	return fmt.Errorf("teamkv: team %q: %w", t.cfg.Name, err)
}

// recordFailure keeps a failed sweep's reason (and since when the team is
// offline) in the cache; the cached clients and secrets stay.
func (t *Team) recordFailure(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.loadLocked()
	switch {
	case errors.Is(err, ErrTokenInvalid), errors.Is(err, ErrNotLoggedIn):
		t.cache.LoginNeeded = true
	case errors.Is(err, ErrOffline):
		if t.cache.OfflineSince.IsZero() {
			t.cache.OfflineSince = t.now().UTC()
		}
	}
	t.cache.Problem = strings.TrimPrefix(err.Error(), "teamkv: ")
	_ = t.saveLocked()
}

// parseIndex reads the _index entry's {"versions": {entry: n}}. Hostile
// input: anything that is not a positive number is ignored (the entry is
// then read).
func parseIndex(data map[string]any) map[string]int {
	out := map[string]int{}
	vs, _ := data["versions"].(map[string]any)
	for entry, v := range vs {
		if entry == "" || entry == IndexEntry || strings.Contains(entry, "/") {
			continue
		}
		n := intOf(v)
		if n < 0 {
			n = 0
		}
		out[entry] = n
	}
	return out
}

// Forget deletes what this computer keeps of the team: the Vault token,
// the cached secrets and the cache file. Vault is not touched.
func (t *Team) Forget() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.loadLocked()
	var left []string
	keys := []string{tokenKey(t.cfg.Name)}
	for _, e := range t.cache.Entries {
		keys = append(keys, secretKey(t.cfg.Name, e.Entry), nextKey(t.cfg.Name, e.Entry))
	}
	for _, k := range keys {
		if err := t.kr.Delete(k); err != nil && !errors.Is(err, vault.ErrNotFound) {
			left = append(left, k)
		}
	}
	if err := os.Remove(t.cachePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("teamkv: forget team %q: %w", t.cfg.Name, err)
	}
	t.cache, t.stamp = cacheFile{Schema: cacheSchema}, fileStamp{}
	if left != nil {
		return fmt.Errorf("teamkv: forget team %q: keyring items remain (%v): delete them by hand", t.cfg.Name, left)
	}
	return nil
}

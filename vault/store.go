package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// DefaultService is Tokentray's app ID: the Fyne app ID and the keyring
// service name under which every item is stored.
const DefaultService = "io.github.tokentray"

// SchemaVersion is the version of the index file this build writes.
const SchemaVersion = 1

// File names inside the configuration directory.
const (
	IndexFile  = "clients.json"
	BackupFile = "clients.json.bak"
	lockFile   = "clients.lock"
	locksDir   = "locks"
)

// EnvConfigDir overrides the configuration directory.
const EnvConfigDir = "TOKENTRAY_CONFIG_DIR"

// DefaultDir returns $TOKENTRAY_CONFIG_DIR when set, else
// <os.UserConfigDir()>/tokentray.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvConfigDir); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("vault: no configuration directory (set %s): %w", EnvConfigDir, err)
	}
	return filepath.Join(base, "tokentray"), nil
}

// Store is the credential store: the index file in a directory plus the
// keyring. It is safe for concurrent use by goroutines and by processes.
type Store struct {
	dir     string
	keyring Keyring
	now     func() time.Time // allows overriding time for tests
	// beforeReplace, when set, runs after the new index is written to its
	// temporary file and before it replaces the old one (tests inject
	// failures here).
	beforeReplace func() error
	sources       []Source // clients besides the local index (source.go)
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now (for tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// index is the on-disk form of clients.json.
type index struct {
	Schema  int      `json:"schema"`
	Clients []Client `json:"clients"`
}

// Open opens the store in dir, creating the directory (mode 0700) when
// missing, with secrets in kr. It fails with ErrIndexCorrupt or
// ErrIndexTooNew when the index cannot be used; the file is then left as it
// is.
func Open(dir string, kr Keyring, opts ...Option) (*Store, error) {
	if dir == "" {
		return nil, errors.New("vault: open: no directory given")
	}
	if kr == nil {
		return nil, errors.New("vault: open: no keyring given")
	}
	s := &Store{dir: dir, keyring: kr, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: open: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("vault: open: restrict %s to its owner: %w", dir, err)
		}
	}
	if _, err := s.read(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the configuration directory.
func (s *Store) Dir() string { return s.dir }

// IndexPath returns the path of the index file.
func (s *Store) IndexPath() string { return filepath.Join(s.dir, IndexFile) }

// Keyring returns the keyring the store uses.
func (s *Store) Keyring() Keyring { return s.keyring }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now() }

// DecodeIndex decodes an index file. It refuses files that are not JSON,
// lack a schema version, come from a newer schema, or hold invalid clients.
func DecodeIndex(data []byte) ([]Client, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil // an empty file, as left by touch, holds no clients
	}
	var ix index
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ix); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIndexCorrupt, err)
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrIndexCorrupt)
	}
	switch {
	case ix.Schema == 0:
		return nil, fmt.Errorf("%w: no schema version", ErrIndexCorrupt)
	case ix.Schema > SchemaVersion:
		return nil, fmt.Errorf("%w (schema %d; this build reads %d): upgrade Tokentray", ErrIndexTooNew, ix.Schema, SchemaVersion)
	case ix.Schema < 0:
		return nil, fmt.Errorf("%w: schema %d", ErrIndexCorrupt, ix.Schema)
	}
	seen := make(map[string]bool, len(ix.Clients))
	out := make([]Client, 0, len(ix.Clients))
	for i, c := range ix.Clients {
		n, err := c.Normalize()
		if err != nil {
			return nil, fmt.Errorf("%w: client %d (%q): %v", ErrIndexCorrupt, i, c.Name, err)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("%w: client %q appears twice", ErrIndexCorrupt, n.Name)
		}
		seen[n.Name] = true
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Client) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// EncodeIndex encodes clients as an index file of the current schema.
func EncodeIndex(clients []Client) ([]byte, error) {
	cs := slices.Clone(clients)
	slices.SortFunc(cs, func(a, b Client) int { return strings.Compare(a.Name, b.Name) })
	if cs == nil {
		cs = []Client{}
	}
	b, err := json.MarshalIndent(index{Schema: SchemaVersion, Clients: cs}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// read loads the index without locking (a rename is atomic, so a reader
// sees either the old or the new file).
func (s *Store) read() ([]Client, error) {
	data, err := os.ReadFile(s.IndexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read %s: %w", s.IndexPath(), err)
	}
	clients, err := DecodeIndex(data)
	if err != nil {
		hint := "fix or move it away"
		if _, statErr := os.Stat(filepath.Join(s.dir, BackupFile)); statErr == nil {
			hint = "the last good copy is " + filepath.Join(s.dir, BackupFile)
		}
		return nil, fmt.Errorf("vault: %s: %w; Tokentray will not overwrite it (%s)", s.IndexPath(), err, hint)
	}
	return clients, nil
}

// write replaces the index atomically and keeps the previous one as backup.
func (s *Store) write(clients []Client) error {
	data, err := EncodeIndex(clients)
	if err != nil {
		return fmt.Errorf("vault: encode index: %w", err)
	}
	path := s.IndexPath()
	if old, err := os.ReadFile(path); err == nil && len(old) > 0 {
		if _, err := DecodeIndex(old); err == nil {
			if err := writeFileAtomic(filepath.Join(s.dir, BackupFile), old, nil); err != nil {
				return fmt.Errorf("vault: back up index: %w", err)
			}
		}
	}
	if err := writeFileAtomic(path, data, s.beforeReplace); err != nil {
		return fmt.Errorf("vault: write index: %w", err)
	}
	return nil
}

// locked runs f with the inter-process index lock held.
func (s *Store) locked(f func() error) error {
	fl := flock.New(filepath.Join(s.dir, lockFile), flock.SetPermissions(0o600))
	if err := fl.Lock(); err != nil {
		return fmt.Errorf("vault: lock index: %w", err)
	}
	defer fl.Unlock()
	return f()
}

// modify runs a read-modify-write of the index under the lock. f may change
// the slice; when it returns errNoWrite nothing is written.
func (s *Store) modify(f func(clients []Client) ([]Client, error)) error {
	return s.locked(func() error {
		clients, err := s.read()
		if err != nil {
			return err
		}
		clients, err = f(clients)
		if errors.Is(err, errNoWrite) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.write(clients)
	})
}

var errNoWrite = errors.New("no write")

func find(clients []Client, name string) int {
	return slices.IndexFunc(clients, func(c Client) bool { return c.Name == name })
}

// List returns every client, sorted by name.
func (s *Store) List() ([]Client, error) { return s.withSources(s.read()) }

// Get returns the client called name, or an error wrapping ErrNoClient.
func (s *Store) Get(name string) (Client, error) {
	if src := s.sourceOf(name); src != nil {
		return src.Get(name)
	}
	clients, err := s.read()
	if err != nil {
		return Client{}, err
	}
	if i := find(clients, name); i >= 0 {
		return clients[i], nil
	}
	return Client{}, fmt.Errorf("vault: %q: %w", name, ErrNoClient)
}

// Put validates c and stores it in the index, replacing a client of the same
// name. It does not touch the keyring: a client put without a secret has
// none until SetSecret. CreatedAt defaults to now; the bookkeeping fields
// (RotationStartedAt, TokenScopeSets) of an existing client are kept.
func (s *Store) Put(c Client) error {
	if src := s.sourceOf(c.Name); src != nil {
		return readOnly("put", c.Name, src)
	}
	c, err := c.Normalize()
	if err != nil {
		return fmt.Errorf("vault: put %q: %w", c.Name, err)
	}
	return s.modify(func(clients []Client) ([]Client, error) {
		if i := find(clients, c.Name); i >= 0 {
			old := clients[i]
			c.RotationStartedAt, c.TokenScopeSets = old.RotationStartedAt, old.TokenScopeSets
			if c.CreatedAt.IsZero() {
				c.CreatedAt = old.CreatedAt
			}
			if c.SecretSetAt.IsZero() {
				c.SecretSetAt = old.SecretSetAt
			}
			clients[i] = c
			return clients, nil
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt = s.now().UTC()
		}
		return append(clients, c), nil
	})
}

// Add stores a new client and its secret: the secret first, then the index,
// so an index entry never lacks its secret. SecretSetAt defaults to now. It
// fails with ErrExists when the name is taken.
func (s *Store) Add(c Client, secret string) error {
	c, err := c.Normalize()
	if err != nil {
		return fmt.Errorf("vault: add %q: %w", c.Name, err)
	}
	secret, err = NormalizeSecret(secret)
	if err != nil {
		return fmt.Errorf("vault: add %q: %w", c.Name, err)
	}
	now := s.now().UTC()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.SecretSetAt.IsZero() {
		c.SecretSetAt = now
	}
	c.RotationStartedAt, c.TokenScopeSets = time.Time{}, nil
	if err := s.checkFree(c.Name); err != nil {
		return fmt.Errorf("vault: add %q: %w", c.Name, err)
	}
	return s.modify(func(clients []Client) ([]Client, error) {
		if find(clients, c.Name) >= 0 {
			return nil, fmt.Errorf("vault: add %q: %w (edit it, or remove it first)", c.Name, ErrExists)
		}
		if err := s.keyring.Set(secretKey(c.Name), secret); err != nil {
			return nil, fmt.Errorf("vault: add %q: store secret: %w", c.Name, err)
		}
		return append(clients, c), nil
	})
}

// Update applies f to the stored client called name and saves the result,
// all under the lock. f may not rename the client.
func (s *Store) Update(name string, f func(c *Client) error) error {
	return s.modify(func(clients []Client) ([]Client, error) {
		i := find(clients, name)
		if i < 0 {
			return nil, fmt.Errorf("vault: update %q: %w", name, ErrNoClient)
		}
		c := clients[i].Clone()
		if err := f(&c); err != nil {
			return nil, err
		}
		if c.Name != name {
			return nil, fmt.Errorf("vault: update %q: %w", name, invalid("name", "a client cannot be renamed: add it under the new name and remove the old one"))
		}
		n, err := c.Normalize()
		if err != nil {
			return nil, fmt.Errorf("vault: update %q: %w", name, err)
		}
		clients[i] = n
		return clients, nil
	})
}

// Remove deletes a client: first its index entry, then its keyring items
// (secret, staged secret, cached tokens), tolerating items already gone. If
// keyring deletions fail, the client is gone from the index and the error is
// a *PartialError listing the keys that remain.
func (s *Store) Remove(name string) error {
	if src := s.sourceOf(name); src != nil {
		return readOnly("remove", name, src)
	}
	var removed Client
	err := s.modify(func(clients []Client) ([]Client, error) {
		i := find(clients, name)
		if i < 0 {
			return nil, fmt.Errorf("vault: remove %q: %w", name, ErrNoClient)
		}
		removed = clients[i]
		return slices.Delete(clients, i, i+1), nil
	})
	if err != nil {
		return err
	}
	var left []string
	var firstErr error
	for _, key := range KeyringKeys(removed) {
		if err := s.keyring.Delete(key); err != nil && !errors.Is(err, ErrNotFound) {
			left = append(left, key)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if left != nil {
		return &PartialError{Op: "remove", Name: name, Left: left, Err: firstErr}
	}
	return nil
}

// KeyringKeys lists every keyring key that may belong to c.
func KeyringKeys(c Client) []string {
	keys := []string{secretKey(c.Name), nextSecretKey(c.Name), tokenKey(c.Name, "")}
	for _, set := range c.TokenScopeSets {
		keys = append(keys, tokenKey(c.Name, set))
	}
	return keys
}

func secretKey(name string) string     { return name + "/secret" }
func nextSecretKey(name string) string { return name + "/next-secret" }
func tokenKey(name, set string) string {
	if set == "" {
		return name + "/token"
	}
	return name + "/token@" + set
}

// SecretKey returns the keyring key of a client's secret (for doctors and
// tests that read the keyring independently).
func SecretKey(name string) string { return secretKey(name) }

// TokenKey returns the keyring key of a client's cached token for a scope
// set (nil: the client's default scopes).
func TokenKey(name string, scopes []string) string { return tokenKey(name, ScopeSetKey(scopes)) }

// SetSecret replaces the secret of an existing client and records
// SecretSetAt = now. Cached tokens stay: tokens issued with the old secret
// remain valid until they expire.
func (s *Store) SetSecret(name, secret string) error {
	secret, err := NormalizeSecret(secret)
	if err != nil {
		return fmt.Errorf("vault: set secret of %q: %w", name, err)
	}
	return s.modify(func(clients []Client) ([]Client, error) {
		i := find(clients, name)
		if i < 0 {
			return nil, fmt.Errorf("vault: set secret of %q: %w", name, ErrNoClient)
		}
		if err := s.keyring.Set(secretKey(name), secret); err != nil {
			return nil, fmt.Errorf("vault: set secret of %q: %w", name, err)
		}
		clients[i].SecretSetAt = s.now().UTC()
		return clients, nil
	})
}

// Secret returns the client's secret from the keyring.
func (s *Store) Secret(name string) (string, error) {
	if src := s.sourceOf(name); src != nil {
		return src.Secret(name)
	}
	v, err := s.keyring.Get(secretKey(name))
	if err != nil {
		return "", fmt.Errorf("vault: secret of %q: %w", name, err)
	}
	return v, nil
}

// SetToken caches a token for the client and scope set (nil: the client's
// default scopes). A token the keyring refuses as too big gives an error
// wrapping ErrTooBig: keep it in memory instead.
func (s *Store) SetToken(name string, scopes []string, t Token) error {
	set := ScopeSetKey(scopes)
	v, err := encodeToken(t)
	if err != nil {
		return fmt.Errorf("vault: cache token of %q: %w", name, err)
	}
	if set != "" && s.sourceOf(name) == nil {
		// Record the scope set first so Remove finds the item later.
		err := s.modify(func(clients []Client) ([]Client, error) {
			i := find(clients, name)
			if i < 0 {
				return nil, fmt.Errorf("vault: cache token of %q: %w", name, ErrNoClient)
			}
			if slices.Contains(clients[i].TokenScopeSets, set) {
				return nil, errNoWrite
			}
			clients[i].TokenScopeSets = append(clients[i].TokenScopeSets, set)
			return clients, nil
		})
		if err != nil {
			return err
		}
	}
	if err := s.keyring.Set(tokenKey(name, set), v); err != nil {
		return fmt.Errorf("vault: cache token of %q: %w", name, err)
	}
	return nil
}

// Token returns the cached token for the client and scope set, or an error
// wrapping ErrNotFound.
func (s *Store) Token(name string, scopes []string) (Token, error) {
	v, err := s.keyring.Get(tokenKey(name, ScopeSetKey(scopes)))
	if err != nil {
		return Token{}, fmt.Errorf("vault: cached token of %q: %w", name, err)
	}
	t, err := decodeToken(v)
	if err != nil {
		return Token{}, fmt.Errorf("vault: cached token of %q: %w", name, err)
	}
	return t, nil
}

// DeleteToken drops the cached token for the client and scope set; a token
// that is not cached is no error.
func (s *Store) DeleteToken(name string, scopes []string) error {
	err := s.keyring.Delete(tokenKey(name, ScopeSetKey(scopes)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("vault: drop cached token of %q: %w", name, err)
	}
	return nil
}

// SetNextSecret stages a new secret for rotation: it goes to the keyring
// beside the current one, which keeps serving tokens, and the client is
// marked as rotating.
func (s *Store) SetNextSecret(name, secret string) error {
	secret, err := NormalizeSecret(secret)
	if err != nil {
		return fmt.Errorf("vault: stage secret of %q: %w", name, err)
	}
	return s.modify(func(clients []Client) ([]Client, error) {
		i := find(clients, name)
		if i < 0 {
			return nil, fmt.Errorf("vault: stage secret of %q: %w", name, ErrNoClient)
		}
		if err := s.keyring.Set(nextSecretKey(name), secret); err != nil {
			return nil, fmt.Errorf("vault: stage secret of %q: %w", name, err)
		}
		if clients[i].RotationStartedAt.IsZero() {
			clients[i].RotationStartedAt = s.now().UTC()
		}
		return clients, nil
	})
}

// NextSecret returns the staged secret, or an error wrapping
// ErrNoNextSecret.
func (s *Store) NextSecret(name string) (string, error) {
	v, err := s.keyring.Get(nextSecretKey(name))
	if errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("vault: staged secret of %q: %w", name, ErrNoNextSecret)
	}
	if err != nil {
		return "", fmt.Errorf("vault: staged secret of %q: %w", name, err)
	}
	return v, nil
}

// PromoteNextSecret makes the staged secret the current one and records
// SecretSetAt = now. The old secret is overwritten only together with the
// index update: if saving the index fails, the old secret is put back. The
// staged item is deleted last. It is idempotent after a crash midway.
func (s *Store) PromoteNextSecret(name string) error {
	return s.modify(func(clients []Client) ([]Client, error) {
		i := find(clients, name)
		if i < 0 {
			return nil, fmt.Errorf("vault: switch secret of %q: %w", name, ErrNoClient)
		}
		next, err := s.NextSecret(name)
		if err != nil {
			return nil, err
		}
		old, err := s.keyring.Get(secretKey(name))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("vault: switch secret of %q: read current secret: %w", name, err)
		}
		if err := s.keyring.Set(secretKey(name), next); err != nil {
			return nil, fmt.Errorf("vault: switch secret of %q: %w", name, err)
		}
		clients[i].SecretSetAt = s.now().UTC()
		clients[i].RotationStartedAt = time.Time{}
		if err := s.write(clients); err != nil {
			if old != "" {
				if rerr := s.keyring.Set(secretKey(name), old); rerr != nil {
					return nil, fmt.Errorf("vault: switch secret of %q: %w; restoring the old secret failed too: %v", name, err, rerr)
				}
			}
			return nil, err
		}
		if err := s.keyring.Delete(nextSecretKey(name)); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, &PartialError{Op: "switch secret", Name: name, Left: []string{nextSecretKey(name)}, Err: err}
		}
		return nil, errNoWrite
	})
}

// DiscardNextSecret drops the staged secret and ends the rotation; the
// current secret is untouched.
func (s *Store) DiscardNextSecret(name string) error {
	return s.modify(func(clients []Client) ([]Client, error) {
		i := find(clients, name)
		if i < 0 {
			return nil, fmt.Errorf("vault: discard staged secret of %q: %w", name, ErrNoClient)
		}
		if err := s.keyring.Delete(nextSecretKey(name)); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("vault: discard staged secret of %q: %w", name, err)
		}
		if clients[i].RotationStartedAt.IsZero() {
			return nil, errNoWrite
		}
		clients[i].RotationStartedAt = time.Time{}
		return clients, nil
	})
}

// Rotation returns the client's rotation status under the default policy.
func (s *Store) Rotation(c Client) RotationStatus {
	return Rotation(c.SecretSetAt, s.now(), DefaultRotationPolicy)
}

// LockClient takes the per-client inter-process lock that serialises token
// fetches (a file under locks/ beside the index). It waits until the lock is
// free or ctx ends, and returns the function that releases it.
func (s *Store) LockClient(ctx context.Context, name string) (unlock func(), err error) {
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("vault: lock %q: %w", name, err)
	}
	dir := filepath.Join(s.dir, locksDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: lock %q: %w", name, err)
	}
	fl := flock.New(filepath.Join(dir, name+".lock"), flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("vault: lock %q: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("vault: lock %q: %w", name, ctx.Err())
	}
	return func() { _ = fl.Unlock() }, nil
}

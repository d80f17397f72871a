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
	// Pending lists keyring keys whose items are to be deleted: those of a
	// removed client whose deletion has not succeeded yet, and those an add
	// or a secret change writes before its index entry is final (so a kill
	// in between leaves no orphan). Every command that opens the store
	// retries them; see repairLocked.
	Pending []string `json:"pending_deletions,omitempty"`
	// Unknown holds the top-level fields a newer version wrote, kept as they
	// are (see unknown.go).
	Unknown map[string]json.RawMessage `json:"-"`
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
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	if needsRepair(ix) {
		// Best effort: a keyring that is down now leaves the work listed for
		// the next command.
		_ = s.Repair()
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
// A UTF-8 byte order mark (as some Windows editors write) is ignored.
func DecodeIndex(data []byte) ([]Client, error) {
	ix, err := decodeIndex(data)
	return ix.Clients, err
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func decodeIndex(data []byte) (index, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return index{Schema: SchemaVersion}, nil // an empty file, as left by touch, holds no clients
	}
	var ix index
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ix); err != nil {
		return index{}, fmt.Errorf("%w: %v", ErrIndexCorrupt, err)
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return index{}, fmt.Errorf("%w: trailing data after the JSON object", ErrIndexCorrupt)
	}
	switch {
	case ix.Schema == 0:
		return index{}, fmt.Errorf("%w: no schema version", ErrIndexCorrupt)
	case ix.Schema > SchemaVersion:
		return index{}, fmt.Errorf("%w (schema %d; this build reads %d): upgrade Tokentray", ErrIndexTooNew, ix.Schema, SchemaVersion)
	case ix.Schema < 0:
		return index{}, fmt.Errorf("%w: schema %d", ErrIndexCorrupt, ix.Schema)
	}
	seen := make(map[string]bool, len(ix.Clients))
	out := make([]Client, 0, len(ix.Clients))
	for i, c := range ix.Clients {
		n, err := c.Normalize()
		if err != nil {
			return index{}, fmt.Errorf("%w: client %d (%q): %v", ErrIndexCorrupt, i, c.Name, err)
		}
		if seen[n.Name] {
			return index{}, fmt.Errorf("%w: client %q appears twice", ErrIndexCorrupt, n.Name)
		}
		seen[n.Name] = true
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Client) int { return strings.Compare(a.Name, b.Name) })
	ix.Clients = out
	var pending []string
	for _, k := range ix.Pending {
		if _, _, ok := parseClientKey(k); !ok {
			return index{}, fmt.Errorf("%w: pending deletion %q is not a client's keyring key", ErrIndexCorrupt, k)
		}
		if !slices.Contains(pending, k) {
			pending = append(pending, k)
		}
	}
	ix.Pending = pending
	return ix, nil
}

// EncodeIndex encodes clients as an index file of the current schema.
func EncodeIndex(clients []Client) ([]byte, error) {
	return encodeIndex(index{Clients: clients})
}

func encodeIndex(ix index) ([]byte, error) {
	cs := slices.Clone(ix.Clients)
	slices.SortFunc(cs, func(a, b Client) int { return strings.Compare(a.Name, b.Name) })
	if cs == nil {
		cs = []Client{}
	}
	ix.Schema, ix.Clients = SchemaVersion, cs
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// read loads the clients without locking.
func (s *Store) read() ([]Client, error) {
	ix, err := s.readIndex()
	return ix.Clients, err
}

// readIndex loads the index without locking (a rename is atomic, so a
// reader sees either the old or the new file).
func (s *Store) readIndex() (index, error) {
	data, err := os.ReadFile(s.IndexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return index{Schema: SchemaVersion}, nil
	}
	if err != nil {
		return index{}, fmt.Errorf("vault: read %s: %w", s.IndexPath(), err)
	}
	ix, err := decodeIndex(data)
	if err != nil {
		hint := "fix or move it away"
		if _, statErr := os.Stat(filepath.Join(s.dir, BackupFile)); statErr == nil {
			hint = "the last good copy is " + filepath.Join(s.dir, BackupFile)
		}
		return index{}, fmt.Errorf("vault: %s: %w; Tokentray will not overwrite it (%s)", s.IndexPath(), err, hint)
	}
	return ix, nil
}

// write replaces the index atomically and keeps the previous one as backup.
// It runs with the index lock held, so a temporary file of an earlier write
// found now was left by a writer that was killed: it is removed first.
func (s *Store) write(ix index) error {
	data, err := encodeIndex(ix)
	if err != nil {
		return fmt.Errorf("vault: encode index: %w", err)
	}
	s.removeStaleTemps()
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

// removeStaleTemps removes the temporary files that writeFileAtomic makes
// beside the index and its backup (".clients.json123" on unix,
// ".clients.json.tmp123" on Windows) and that a killed write leaves behind.
// Best effort: a file that cannot be removed is tried again next time.
func (s *Store) removeStaleTemps() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if isStaleTemp(e.Name()) && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
}

// isStaleTemp reports whether name is a temporary file of writeFileAtomic
// for the index or its backup.
func isStaleTemp(name string) bool {
	for _, base := range []string{IndexFile, BackupFile} {
		rest, ok := strings.CutPrefix(name, "."+base)
		if !ok {
			continue
		}
		rest = strings.TrimPrefix(rest, ".tmp")
		if rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
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

// modify runs a read-modify-write of the clients under the lock. f may
// change the slice; when it returns errNoWrite nothing is written.
func (s *Store) modify(f func(clients []Client) ([]Client, error)) error {
	return s.modifyIndex(func(ix *index) error {
		clients, err := f(ix.Clients)
		ix.Clients = clients
		return err
	})
}

// modifyIndex is modify for the whole index.
func (s *Store) modifyIndex(f func(ix *index) error) error {
	return s.locked(func() error {
		ix, err := s.readIndex()
		if err != nil {
			return err
		}
		err = f(&ix)
		if errors.Is(err, errNoWrite) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.write(ix)
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
// (RotationStartedAt, TokenScopeSets, SecretSwitch, SecretStoredAt) of an
// existing client are kept. Replacing a client with other token settings
// (see TokenSettingsChanged) drops its cached tokens, as Update does.
func (s *Store) Put(c Client) error {
	if src := s.sourceOf(c.Name); src != nil {
		return readOnly("put", c.Name, src)
	}
	c, err := c.Normalize()
	if err != nil {
		return fmt.Errorf("vault: put %q: %w", c.Name, err)
	}
	var before Client
	replaced := false
	err = s.modify(func(clients []Client) ([]Client, error) {
		if i := find(clients, c.Name); i >= 0 {
			old := clients[i]
			before, replaced = old.Clone(), true
			c.RotationStartedAt, c.TokenScopeSets = old.RotationStartedAt, old.TokenScopeSets
			c.SecretSwitch, c.SecretStoredAt = old.SecretSwitch, old.SecretStoredAt
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
	if err != nil || !replaced || !TokenSettingsChanged(before, c) {
		return err
	}
	return s.dropTokens(before)
}

// Add stores a new client and its secret. It fails with ErrExists when the
// name is taken. SecretSetAt defaults to now. Items left in the keyring by
// an earlier client of the same name (a removal still pending) are deleted
// first, so the new client inherits none of its tokens. The secret's key is
// listed for deletion before the secret is written and unlisted in the
// write that adds the client: a kill at any instant leaves either the
// client with its secret or neither (the next command deletes the secret).
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
	c.SecretStoredAt = now
	c.RotationStartedAt, c.TokenScopeSets, c.SecretSwitch = time.Time{}, nil, nil
	if err := s.checkFree(c.Name); err != nil {
		return fmt.Errorf("vault: add %q: %w", c.Name, err)
	}
	return s.locked(func() error {
		ix, err := s.readIndex()
		if err != nil {
			return err
		}
		if find(ix.Clients, c.Name) >= 0 {
			return fmt.Errorf("vault: add %q: %w (edit it, or remove it first)", c.Name, ErrExists)
		}
		if err := s.deletePendingLocked(&ix, c.Name); err != nil {
			return fmt.Errorf("vault: add %q: items of the removed client of that name remain in the keyring: %w", c.Name, err)
		}
		ix.Pending = addKeys(ix.Pending, secretKey(c.Name))
		if err := s.write(ix); err != nil {
			return err
		}
		if err := s.keyring.Set(secretKey(c.Name), secret); err != nil {
			return fmt.Errorf("vault: add %q: store secret: %w", c.Name, err)
		}
		ix.Clients = append(ix.Clients, c)
		ix.Pending = dropKeys(ix.Pending, secretKey(c.Name))
		return s.write(ix)
	})
}

// Update applies f to the stored client called name and saves the result,
// all under the index lock. f may not rename the client. When the token
// settings change (TokenSettingsChanged: token URL, client id, auth style,
// scopes in any order, endpoint parameters), the client's cached tokens are
// dropped under its fetch lock, so no token issued for the old settings is
// served; a failure to drop them is a *PartialError (the change itself is
// saved).
func (s *Store) Update(name string, f func(c *Client) error) error {
	var before, after Client
	err := s.modify(func(clients []Client) ([]Client, error) {
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
		before, after = clients[i].Clone(), n
		clients[i] = n
		return clients, nil
	})
	if err != nil || !TokenSettingsChanged(before, after) {
		return err
	}
	return s.dropTokens(before)
}

// TokenSettingsChanged reports whether tokens issued for before are not what
// after would get: another token URL, client id, auth style, set of scopes
// (order ignored, as SameScopes) or endpoint parameters. It is the one rule
// the store, the refresher and the front ends share.
func TokenSettingsChanged(before, after Client) bool {
	return before.TokenURL != after.TokenURL ||
		before.ClientID != after.ClientID ||
		before.AuthStyle != after.AuthStyle ||
		!SameScopes(before.Scopes, after.Scopes) ||
		!SameParams(before, after) // a new request-shaping field of Client belongs here too
}

// dropTokens deletes every cached token of c (default set and recorded
// scope subsets) under the client's fetch lock when it is free. When a
// fetch holds it, the drop does not wait for the fetch (up to the token
// endpoint's timeout): the fetch re-reads the client before caching and
// after returning, and drops a token issued for settings changed meanwhile
// itself (refresher).
func (s *Store) dropTokens(c Client) error {
	if unlock, ok := s.tryLockClient(c.Name); ok {
		defer unlock()
	}
	var left []string
	var errs []error
	for _, key := range tokenKeys(c) {
		if err := s.keyring.Delete(key); err != nil && !errors.Is(err, ErrNotFound) {
			left = append(left, key)
			errs = append(errs, err)
		}
	}
	if left != nil {
		return &PartialError{Op: opDropTokens, Name: c.Name, Left: left, Err: errors.Join(errs...)}
	}
	return nil
}

// Remove deletes a client: in one index write it leaves the list and its
// keyring items (secret, staged secret, cached tokens) are listed for
// deletion; then they are deleted and unlisted. If the keyring fails, the
// error is a *PartialError naming the items that remain listed: every later
// command that opens the store retries them, and so does Remove called
// again for the same name (which then does not report ErrNoClient).
func (s *Store) Remove(name string) error {
	if src := s.sourceOf(name); src != nil {
		return readOnly("remove", name, src)
	}
	return s.locked(func() error {
		ix, err := s.readIndex()
		if err != nil {
			return err
		}
		i := find(ix.Clients, name)
		if i < 0 && len(pendingOf(ix.Pending, name)) == 0 {
			return fmt.Errorf("vault: remove %q: %w", name, ErrNoClient)
		}
		if i >= 0 {
			ix.Pending = addKeys(ix.Pending, KeyringKeys(ix.Clients[i])...)
			ix.Clients = slices.Delete(ix.Clients, i, i+1)
			if err := s.write(ix); err != nil {
				return err
			}
		}
		if err := s.deletePendingLocked(&ix, name); err != nil {
			return &PartialError{Op: "remove", Name: name, Left: pendingOf(ix.Pending, name), Err: err}
		}
		return nil
	})
}

// PendingRemoval returns the keyring keys of name listed for deletion (a
// removal the keyring has not finished).
func (s *Store) PendingRemoval(name string) ([]string, error) {
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	return pendingOf(ix.Pending, name), nil
}

// KeyringKeys lists every keyring key that may belong to c.
func KeyringKeys(c Client) []string {
	keys := []string{secretKey(c.Name), nextSecretKey(c.Name), newSecretKey(c.Name)}
	return append(keys, tokenKeys(c)...)
}

// tokenKeys lists the keys of c's cached tokens.
func tokenKeys(c Client) []string {
	keys := []string{tokenKey(c.Name, "")}
	for _, set := range c.TokenScopeSets {
		keys = append(keys, tokenKey(c.Name, set))
	}
	return keys
}

// Kinds of a client's keyring items: "<name>/<kind>".
const (
	kindSecret     = "secret"
	kindNextSecret = "next-secret" // staged by a rotation
	kindNewSecret  = "new-secret"  // written by SetSecret before the switch
	kindToken      = "token"       // "token" or "token@<scope set>"
)

func secretKey(name string) string     { return name + "/" + kindSecret }
func nextSecretKey(name string) string { return name + "/" + kindNextSecret }
func newSecretKey(name string) string  { return name + "/" + kindNewSecret }

// isTokenKey reports whether key is a cached token's: "<name>/token" or
// "<name>/token@<scope set>" (names have no "/").
func isTokenKey(key string) bool {
	_, kind, ok := strings.Cut(key, "/")
	return ok && (kind == kindToken || strings.HasPrefix(kind, kindToken+"@"))
}

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
// remain valid until they expire. The change is crash-safe (see switchSecret):
// after a kill at any instant the client has either the old secret with its
// old date or the new secret with the new date.
func (s *Store) SetSecret(name, secret string) error {
	secret, err := NormalizeSecret(secret)
	if err != nil {
		return fmt.Errorf("vault: set secret of %q: %w", name, err)
	}
	return s.withSecretChange("set secret", name, func(ix *index, i int) error {
		// The new secret goes to its own item first, marked in the index.
		ix.Pending = dropKeys(ix.Pending, newSecretKey(name))
		ix.Clients[i].SecretSwitch = &SecretSwitch{From: kindNewSecret, At: s.now().UTC()}
		if err := s.write(*ix); err != nil {
			return err
		}
		if err := s.keyring.Set(newSecretKey(name), secret); err != nil {
			// Nothing switched: unmark, and list the item in case the call
			// completes after its timeout.
			ix.Clients[i].SecretSwitch = nil
			ix.Pending = addKeys(ix.Pending, newSecretKey(name))
			_ = s.write(*ix)
			return fmt.Errorf("vault: set secret of %q: %w", name, err)
		}
		var pe *PartialError
		if err := s.switchSecretLocked(ix, i, secret); err != nil && !errors.As(err, &pe) {
			return fmt.Errorf("vault: set secret of %q: %w", name, err)
		}
		return nil // a copy left over is listed for deletion: no concern of the caller
	})
}

// withSecretChange runs change under the store's lock with the index read
// and the client NAME found in it, after finishing any secret switch of that
// client a kill interrupted: a secret change never starts from a half-made
// one. what names the change in errors ("set secret of NAME: ...").
func (s *Store) withSecretChange(what, name string, change func(ix *index, i int) error) error {
	return s.locked(func() error {
		ix, err := s.readIndex()
		if err != nil {
			return err
		}
		i := find(ix.Clients, name)
		if i < 0 {
			return fmt.Errorf("vault: %s of %q: %w", what, name, ErrNoClient)
		}
		if err := s.finishSwitchLocked(&ix, i); err != nil {
			return fmt.Errorf("vault: %s of %q: %w", what, name, err)
		}
		return change(&ix, i)
	})
}

// switchSecretLocked finishes a secret change marked in ix.Clients[i]
// (SecretSwitch, whose From item holds value): the current secret is
// overwritten, the date recorded and the mark cleared in one index write
// that lists the From item for deletion; then that item is deleted. A kill
// before the index write leaves the mark, and the next command's repair
// does the switch again from the From item (idempotent).
func (s *Store) switchSecretLocked(ix *index, i int, value string) error {
	c := &ix.Clients[i]
	sw := c.SecretSwitch
	if err := s.keyring.Set(secretKey(c.Name), value); err != nil {
		return fmt.Errorf("the keyring failed midway; the change completes when a later command reaches it: %w", err)
	}
	c.SecretSetAt, c.SecretStoredAt = sw.At, sw.At
	if sw.From == kindNextSecret {
		c.RotationStartedAt = time.Time{}
	}
	c.SecretSwitch = nil
	from := c.Name + "/" + sw.From
	ix.Pending = addKeys(ix.Pending, from)
	if err := s.write(*ix); err != nil {
		return err
	}
	if err := s.keyring.Delete(from); err != nil && !errors.Is(err, ErrNotFound) {
		// Switched; the copy stays listed and the next command deletes it.
		return &PartialError{Op: "switch secret", Name: c.Name, Left: []string{from}, Err: err}
	}
	ix.Pending = dropKeys(ix.Pending, from)
	_ = s.write(*ix) // else the next command finds it listed and deletes it
	return nil
}

// finishSwitchLocked completes or undoes a secret change a kill left marked
// in ix.Clients[i]: with the new secret's item present it switches to it
// (the new secret and its date), without it nothing was switched and the
// mark goes (the old secret and its date).
func (s *Store) finishSwitchLocked(ix *index, i int) error {
	c := &ix.Clients[i]
	if c.SecretSwitch == nil {
		return nil
	}
	v, err := s.keyring.Get(c.Name + "/" + c.SecretSwitch.From)
	switch {
	case errors.Is(err, ErrNotFound):
		c.SecretSwitch = nil
		return s.write(*ix)
	case err != nil:
		return fmt.Errorf("finish the interrupted secret change: %w", err)
	}
	var pe *PartialError
	if err := s.switchSecretLocked(ix, i, v); err != nil && !errors.As(err, &pe) {
		return err
	}
	return nil
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
// marked as rotating (first, so a staged secret always has its mark).
func (s *Store) SetNextSecret(name, secret string) error {
	secret, err := NormalizeSecret(secret)
	if err != nil {
		return fmt.Errorf("vault: stage secret of %q: %w", name, err)
	}
	return s.withSecretChange("stage secret", name, func(ix *index, i int) error {
		wasRotating := !ix.Clients[i].RotationStartedAt.IsZero()
		if !wasRotating || slices.Contains(ix.Pending, nextSecretKey(name)) {
			if !wasRotating {
				ix.Clients[i].RotationStartedAt = s.now().UTC()
			}
			ix.Pending = dropKeys(ix.Pending, nextSecretKey(name))
			if err := s.write(*ix); err != nil {
				return err
			}
		}
		if err := s.keyring.Set(nextSecretKey(name), secret); err != nil {
			if !wasRotating {
				// Not rotating after all; the item is listed in case the
				// call completes after its timeout.
				ix.Clients[i].RotationStartedAt = time.Time{}
				ix.Pending = addKeys(ix.Pending, nextSecretKey(name))
				_ = s.write(*ix)
			}
			return fmt.Errorf("vault: stage secret of %q: %w", name, err)
		}
		return nil
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
// SecretSetAt = now, crash-safe as SetSecret: the switch is marked in the
// index first, then the current secret is overwritten, then the date is
// recorded and the mark cleared in one write, and the staged item is
// deleted last. After a kill at any instant the next command finishes it.
func (s *Store) PromoteNextSecret(name string) error {
	return s.locked(func() error {
		ix, err := s.readIndex()
		if err != nil {
			return err
		}
		i := find(ix.Clients, name)
		if i < 0 {
			return fmt.Errorf("vault: switch secret of %q: %w", name, ErrNoClient)
		}
		if sw := ix.Clients[i].SecretSwitch; sw != nil && sw.From == kindNextSecret {
			// An earlier switch to the staged secret was interrupted:
			// finishing it is this switch.
			if err := s.finishSwitchLocked(&ix, i); err != nil {
				return fmt.Errorf("vault: switch secret of %q: %w", name, err)
			}
			return nil
		}
		if err := s.finishSwitchLocked(&ix, i); err != nil {
			return fmt.Errorf("vault: switch secret of %q: %w", name, err)
		}
		next, err := s.NextSecret(name)
		if err != nil {
			return err
		}
		ix.Clients[i].SecretSwitch = &SecretSwitch{From: kindNextSecret, At: s.now().UTC()}
		if err := s.write(ix); err != nil {
			return err
		}
		var pe *PartialError
		if err := s.switchSecretLocked(&ix, i, next); err != nil {
			if errors.As(err, &pe) {
				return err // switched; the staged copy is listed for deletion
			}
			return fmt.Errorf("vault: switch secret of %q: %w", name, err)
		}
		return nil
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

// tryLockClient takes the client's fetch lock if it is free at once.
func (s *Store) tryLockClient(name string) (unlock func(), ok bool) {
	dir := filepath.Join(s.dir, locksDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false
	}
	fl := flock.New(filepath.Join(dir, name+".lock"), flock.SetPermissions(0o600))
	if ok, err := fl.TryLock(); err != nil || !ok {
		return nil, false
	}
	return func() { _ = fl.Unlock() }, true
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

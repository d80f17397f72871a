package teamkv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tokentray/tokentray/vault"
)

// ProveFunc proves a new secret with a real token request for c (the
// rotation's proof); rotation.Rotator's exchange is one.
type ProveFunc func(ctx context.Context, c vault.Client, secret string) error

// RotateResult says what a team rotation wrote.
type RotateResult struct {
	Name        string
	FromVersion int
	Version     int // the new KV version
	// IndexWarning is set when the new version is written but the _index
	// entry could not be bumped: members then see it only after someone
	// runs tokentray team reindex.
	IndexWarning string
}

// nextKey is the keyring key of a secret staged for a team rotation.
func nextKey(team, entry string) string { return "team/" + team + "/" + entry + "/next-secret" }

// Rotate rotates a team client: it stages the new secret in the keyring,
// proves it with prove, and writes it as a new KV version with
// check-and-set on the version this laptop uses, so of two admins rotating
// at once one wins and the other is told. Then it bumps the team's _index
// entry and switches this laptop at once; every member switches at their
// next sweep. A member whose policy only reads gets an error that says so
// (wrapping ErrForbidden); a lost check-and-set wraps ErrConflict and names
// the version that won.
func (t *Team) Rotate(ctx context.Context, name, secret string, prove ProveFunc) (RotateResult, error) {
	res := RotateResult{Name: name}
	secret, err := vault.NormalizeSecret(secret)
	if err != nil {
		return res, fmt.Errorf("teamkv: rotate %q: %w", name, err)
	}
	e, err := t.cached(name)
	if err != nil {
		return res, err
	}
	if e.Client.Problem != "" {
		return res, fmt.Errorf("teamkv: rotate %q: the team's entry is broken: %s (fix it in Vault first)", name, e.Client.Problem)
	}
	res.FromVersion = e.Version
	k, err := t.session()
	if err != nil {
		return res, err
	}
	if err := t.kr.Set(nextKey(t.cfg.Name, e.Entry), secret); err != nil {
		return res, fmt.Errorf("teamkv: rotate %q: stage the new secret: %w", name, err)
	}
	if prove != nil {
		if err := prove(ctx, e.Client, secret); err != nil {
			return res, fmt.Errorf("teamkv: rotate %q: the new secret did not work, nothing was written to Vault (it stays staged): %w", name, err)
		}
	}
	old, err := k.read(ctx, e.Entry, e.Version)
	if err != nil {
		return res, t.rotateError(ctx, k, name, e, err)
	}
	v, err := k.write(ctx, e.Entry, EntryData(old.Data, secret), e.Version)
	if err != nil {
		return res, t.rotateError(ctx, k, name, e, err)
	}
	res.Version = v
	if err := t.bumpIndex(ctx, k, e.Entry, v); err != nil {
		res.IndexWarning = fmt.Sprintf("version %d is written, but the team's index was not updated (%v): members see it after tokentray team reindex %s", v, err, t.cfg.Name)
	}
	// This laptop switches now: the new secret with its version, then the
	// cache (its date from the new version's created_time, read back).
	b, _ := json.Marshal(cachedSecret{Version: v, Secret: secret})
	if err := t.kr.Set(secretKey(t.cfg.Name, e.Entry), string(b)); err != nil {
		return res, fmt.Errorf("teamkv: rotate %q: version %d is in Vault, but keeping it in the keyring failed (the next sweep retries): %w", name, v, err)
	}
	_ = t.kr.Delete(nextKey(t.cfg.Name, e.Entry))
	created := t.now().UTC()
	if cur, err := k.read(ctx, e.Entry, v); err == nil {
		created = cur.CreatedTime
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.loadLocked()
	for i := range t.cache.Entries {
		if t.cache.Entries[i].Entry == e.Entry {
			t.cache.Entries[i].Version = v
			t.cache.Entries[i].Client.SecretSetAt = created
		}
	}
	return res, t.saveLocked()
}

// rotateError words a failed write for a person.
func (t *Team) rotateError(ctx context.Context, k *kv, name string, e cacheEntry, err error) error {
	switch {
	case errors.Is(err, ErrForbidden):
		if _, _, lerr := k.lookupSelf(ctx); errors.Is(lerr, ErrTokenInvalid) {
			return fmt.Errorf("teamkv: rotate %q: %w: run tokentray team login %s", name, ErrTokenInvalid, t.cfg.Name)
		}
		return fmt.Errorf("teamkv: rotate %q: you can read this team's clients but not rotate them (Vault answered 403: %w); ask a team admin", name, ErrForbidden)
	case errors.Is(err, ErrConflict):
		cur, cerr := k.currentVersion(ctx, e.Entry)
		if cerr != nil {
			return fmt.Errorf("teamkv: rotate %q: someone else rotated %s meanwhile (after version %d): %w; run tokentray team sync %s", name, name, e.Version, ErrConflict, t.cfg.Name)
		}
		return fmt.Errorf("teamkv: rotate %q: someone else rotated %s meanwhile (version %d): %w; run tokentray team sync %s and check it before rotating again", name, name, cur, ErrConflict, t.cfg.Name)
	case errors.Is(err, ErrNoEntry):
		return fmt.Errorf("teamkv: rotate %q: version %d is gone from Vault (deleted meanwhile): run tokentray team sync %s", name, e.Version, t.cfg.Name)
	}
	return fmt.Errorf("teamkv: rotate %q: %w", name, err)
}

// bumpIndex records entry's new version in the _index entry, with
// check-and-set, retrying when another writer bumped it meanwhile. A team
// without an index is left without one (members list every entry).
func (t *Team) bumpIndex(ctx context.Context, k *kv, entry string, version int) error {
	for range 5 {
		idx, err := k.read(ctx, IndexEntry, 0)
		if errors.Is(err, ErrNoEntry) {
			return nil
		}
		if err != nil {
			return err
		}
		vs := parseIndex(idx.Data)
		if vs[entry] >= version {
			return nil
		}
		vs[entry] = version
		_, err = k.write(ctx, IndexEntry, indexData(vs), idx.Version)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return errors.New("the index kept changing: too many writers at once")
}

func indexData(vs map[string]int) map[string]any {
	m := make(map[string]any, len(vs))
	for k, v := range vs {
		m[k] = v
	}
	return map[string]any{"versions": m}
}

// Reindex (an admin's command) rebuilds the _index entry from a LIST and
// every entry's metadata: run it after changing entries with other tools
// than Tokentray (the vault CLI, the web UI), so members' sweeps see the
// change. It costs one request per entry, once.
func (t *Team) Reindex(ctx context.Context) (int, error) {
	k, err := t.session()
	if err != nil {
		return 0, err
	}
	names, err := k.list(ctx)
	if err != nil {
		return 0, t.explain(ctx, k, err)
	}
	vs := map[string]int{}
	for _, n := range names {
		if n == IndexEntry {
			continue
		}
		v, err := k.currentVersion(ctx, n)
		if errors.Is(err, ErrNoEntry) {
			continue
		}
		if err != nil {
			return 0, t.explain(ctx, k, err)
		}
		vs[n] = v
	}
	for range 5 {
		cas := 0
		idx, err := k.read(ctx, IndexEntry, 0)
		switch {
		case err == nil:
			cas = idx.Version
		case !errors.Is(err, ErrNoEntry):
			return 0, t.explain(ctx, k, err)
		default:
			// A first index, or one whose current version is deleted.
			if v, err := k.currentVersion(ctx, IndexEntry); err == nil {
				cas = v
			}
		}
		_, err = k.write(ctx, IndexEntry, indexData(vs), cas)
		if err == nil {
			return len(vs), nil
		}
		if !errors.Is(err, ErrConflict) {
			if errors.Is(err, ErrForbidden) {
				return 0, fmt.Errorf("teamkv: team %q: reindex needs write access to %s/%s (a team admin's policy): %w", t.cfg.Name, t.cfg.Mount, t.cfg.Prefix, err)
			}
			return 0, t.explain(ctx, k, err)
		}
	}
	return 0, fmt.Errorf("teamkv: team %q: reindex: the index kept changing", t.cfg.Name)
}

// Entries returns the names of the team's entries in the cache, sorted.
func (t *Team) Entries() []string {
	cs, _ := t.List()
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, t.entryOf(c.Name))
	}
	slices.Sort(out)
	return out
}

package vault

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// needsRepair reports whether an interrupted command left work in ix.
func needsRepair(ix index) bool {
	if len(ix.Pending) > 0 {
		return true
	}
	for _, c := range ix.Clients {
		if c.SecretSwitch != nil {
			return true
		}
	}
	return false
}

// Repair finishes what interrupted commands left, under the index lock:
// secret changes marked in the index are completed or undone (see
// SetSecret), and keyring items listed for deletion are deleted. It stops at
// the first keyring failure and returns it; what is left stays listed for
// the next call. Open calls it when the index lists work, so the next
// command or window start picks up what a keyring that was down left.
func (s *Store) Repair() error {
	return s.locked(func() error {
		ix, err := s.readIndex()
		if err != nil {
			return err
		}
		for i := range ix.Clients {
			if err := s.finishSwitchLocked(&ix, i); err != nil {
				return fmt.Errorf("vault: repair %q: %w", ix.Clients[i].Name, err)
			}
		}
		return s.deletePendingLocked(&ix, "")
	})
}

// deletePendingLocked deletes the keyring items listed for deletion (only
// those of the client name, unless name is ""), unlists those that are
// gone and saves the index. It returns the first failure, and stops there
// when the whole keyring is locked or unavailable.
func (s *Store) deletePendingLocked(ix *index, name string) error {
	var done []string
	var failed error
	for _, key := range ix.Pending {
		owner, _, _ := parseClientKey(key)
		if name != "" && owner != name {
			continue
		}
		if i := find(ix.Clients, owner); i >= 0 && key == secretKey(owner) {
			// A live client's secret is never deleted, whatever the list says.
			done = append(done, key)
			continue
		}
		if err := s.keyring.Delete(key); err != nil && !errors.Is(err, ErrNotFound) {
			if failed == nil {
				failed = err
			}
			if errors.Is(err, ErrKeyringLocked) || errors.Is(err, ErrKeyringUnavailable) {
				break // the whole keyring: each further call would wait as long
			}
			continue
		}
		done = append(done, key)
	}
	if len(done) > 0 {
		ix.Pending = dropKeys(ix.Pending, done...)
		if err := s.write(*ix); err != nil {
			return err
		}
	}
	return failed
}

// parseClientKey splits a client's keyring key "<name>/<kind>" (kind one of
// secret, next-secret, new-secret, token, token@<set>). ok is false for keys
// outside the clients' namespace, such as doctor's probe or a Stytch
// project secret.
func parseClientKey(key string) (name, kind string, ok bool) {
	name, kind, found := strings.Cut(key, "/")
	if !found || ValidateName(name) != nil {
		return "", "", false
	}
	switch {
	case kind == kindSecret, kind == kindNextSecret, kind == kindNewSecret, kind == kindToken:
		return name, kind, true
	case strings.HasPrefix(kind, kindToken+"@") && len(kind) > len(kindToken)+1 && !strings.ContainsAny(kind, "/ \t\r\n"):
		return name, kind, true
	}
	return "", "", false
}

// pendingOf returns the keys of name listed in pending.
func pendingOf(pending []string, name string) []string {
	var out []string
	for _, k := range pending {
		if owner, _, _ := parseClientKey(k); owner == name {
			out = append(out, k)
		}
	}
	return out
}

func addKeys(list []string, keys ...string) []string {
	for _, k := range keys {
		if !slices.Contains(list, k) {
			list = append(list, k)
		}
	}
	return list
}

func dropKeys(list []string, keys ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(k string) bool { return slices.Contains(keys, k) })
}

// Orphans lists the keyring items of the store's service that no client
// owns: items of clients no longer in the index, tokens of scope sets not
// recorded, a "new-secret" with no change in progress, and every item
// listed for deletion. Items outside the clients' namespace (doctor's probe,
// a Stytch project secret) are never listed. Where the keyring cannot be
// enumerated (see KeyLister), only the listed items that still exist are
// found.
func (s *Store) Orphans() ([]string, error) {
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	return s.orphans(ix)
}

func (s *Store) orphans(ix index) ([]string, error) {
	var out []string
	if kl, ok := s.keyring.(KeyLister); ok {
		keys, err := kl.Keys()
		if err == nil {
			for _, k := range keys {
				if !owned(ix, k) && !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
			slices.Sort(out)
			return out, nil
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			return nil, fmt.Errorf("vault: list keyring items: %w", err)
		}
	}
	for _, k := range ix.Pending {
		_, err := s.keyring.Get(k)
		switch {
		case err == nil:
			out = append(out, k)
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("vault: look for orphans: %w", err)
		}
	}
	slices.Sort(out)
	return out, nil
}

// owned reports whether a client of ix owns the keyring item key.
func owned(ix index, key string) bool {
	name, kind, ok := parseClientKey(key)
	if !ok {
		return true // not a client's: not ours to judge
	}
	if slices.Contains(ix.Pending, key) {
		return false
	}
	i := find(ix.Clients, name)
	if i < 0 {
		return false
	}
	c := ix.Clients[i]
	switch {
	case kind == kindSecret, kind == kindToken:
		return true
	case kind == kindNextSecret:
		return true // a staged secret is kept until the rotation ends
	case kind == kindNewSecret:
		return c.SecretSwitch != nil && c.SecretSwitch.From == kindNewSecret
	}
	set := strings.TrimPrefix(kind, kindToken+"@")
	return slices.Contains(c.TokenScopeSets, set)
}

// DeleteOrphans deletes what Orphans lists, under the index lock (so no
// add or secret change in another process is midway), and returns the
// keys deleted. It stops at the first keyring failure.
func (s *Store) DeleteOrphans() ([]string, error) {
	var deleted []string
	err := s.locked(func() error {
		ix, err := s.readIndex()
		if err != nil {
			return err
		}
		orphans, err := s.orphans(ix)
		if err != nil {
			return err
		}
		var failed error
		for _, k := range orphans {
			if err := s.keyring.Delete(k); err != nil && !errors.Is(err, ErrNotFound) {
				failed = fmt.Errorf("vault: delete orphan %s: %w", k, err)
				break
			}
			deleted = append(deleted, k)
		}
		if before := len(ix.Pending); len(deleted) > 0 {
			ix.Pending = dropKeys(ix.Pending, deleted...)
			if len(ix.Pending) != before {
				if err := s.write(ix); err != nil {
					return err
				}
			}
		}
		return failed
	})
	return deleted, err
}

// Package vaulttest provides an in-memory keyring for fast unit tests of
// code built on package vault. Unlike go-keyring's MockInit it is safe for
// concurrent use, and it can inject the failures real keyrings have.
package vaulttest

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// Keyring is an in-memory vault.Keyring.
type Keyring struct {
	mu    sync.Mutex        // guards the fields below
	items map[string]string // key -> value
	// fail, when set, is consulted before each call; a non-nil error is
	// returned instead of doing the call. op is "set", "get", "delete", "list" or "modified".
	fail func(op, key string) error
	// MaxSize, when positive, makes Set refuse larger values with
	// vault.ErrTooBig (as Windows does above 2,560 bytes).
	maxSize int
	calls   map[string]int // op -> count
	// modified is when each item was last set, by Now.
	modified map[string]time.Time
	// Now is the clock of modification times; time.Now when nil. Set it
	// before use.
	Now func() time.Time
}

var (
	_ vault.Keyring   = (*Keyring)(nil)
	_ vault.KeyLister = (*Keyring)(nil)
	_ vault.ModTimer  = (*Keyring)(nil)
)

// New returns an empty keyring.
func New() *Keyring {
	return &Keyring{items: map[string]string{}, calls: map[string]int{}, modified: map[string]time.Time{}}
}

// FailWith makes every later call for which f returns an error fail with
// it; nil restores normal behaviour.
func (k *Keyring) FailWith(f func(op, key string) error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fail = f
}

// SetMaxSize makes Set refuse values longer than n bytes with vault.ErrTooBig
// (0: no limit).
func (k *Keyring) SetMaxSize(n int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.maxSize = n
}

// before counts the call and consults the failure hook, without holding
// the mutex while the hook runs (a hook may block, as a hung keyring does,
// without blocking other callers).
func (k *Keyring) before(op, key string) error {
	k.mu.Lock()
	k.calls[op]++
	fail := k.fail
	k.mu.Unlock()
	if fail != nil {
		if err := fail(op, key); err != nil {
			return fmt.Errorf("keyring %s %s: %w", op, key, err)
		}
	}
	return nil
}

// Set stores value under key.
func (k *Keyring) Set(key, value string) error {
	if err := k.before("set", key); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.maxSize > 0 && len(value) > k.maxSize {
		return fmt.Errorf("keyring set %s: %w", key, vault.ErrTooBig)
	}
	k.items[key] = value
	now := time.Now
	if k.Now != nil {
		now = k.Now
	}
	k.modified[key] = now().Truncate(time.Second) // the Secret Service keeps seconds
	return nil
}

// Get returns the value under key or an error wrapping vault.ErrNotFound.
func (k *Keyring) Get(key string) (string, error) {
	if err := k.before("get", key); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.items[key]
	if !ok {
		return "", fmt.Errorf("keyring get %s: %w", key, vault.ErrNotFound)
	}
	return v, nil
}

// Delete removes key or returns an error wrapping vault.ErrNotFound.
func (k *Keyring) Delete(key string) error {
	if err := k.before("delete", key); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.items[key]; !ok {
		return fmt.Errorf("keyring delete %s: %w", key, vault.ErrNotFound)
	}
	delete(k.items, key)
	delete(k.modified, key)
	return nil
}

// Modified returns when the item under key was last set.
func (k *Keyring) Modified(key string) (time.Time, error) {
	if err := k.before("modified", key); err != nil {
		return time.Time{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.modified[key]
	if !ok {
		return time.Time{}, fmt.Errorf("keyring modified %s: %w", key, vault.ErrNotFound)
	}
	return t, nil
}

// Touch sets the modification time of the item under key (to simulate an
// item written by another program at another time).
func (k *Keyring) Touch(key string, t time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.items[key]; ok {
		k.modified[key] = t
	}
}

// Keys lists the keys stored, as the Secret Service's search does.
func (k *Keyring) Keys() ([]string, error) {
	if err := k.before("list", ""); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Sorted(maps.Keys(k.items)), nil
}

// Items returns a copy of everything stored.
func (k *Keyring) Items() map[string]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return maps.Clone(k.items)
}

// Calls returns how many calls of op ("set", "get", "delete") were made.
func (k *Keyring) Calls(op string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.calls[op]
}

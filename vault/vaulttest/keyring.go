// Package vaulttest provides an in-memory keyring for fast unit tests of
// code built on package vault. Unlike go-keyring's MockInit it is safe for
// concurrent use, and it can inject the failures real keyrings have.
package vaulttest

import (
	"fmt"
	"maps"
	"sync"

	"github.com/tokentray/tokentray/vault"
)

// Keyring is an in-memory vault.Keyring.
type Keyring struct {
	mu    sync.Mutex        // guards the fields below
	items map[string]string // key -> value
	// fail, when set, is consulted before each call; a non-nil error is
	// returned instead of doing the call. op is "set", "get" or "delete".
	fail func(op, key string) error
	// MaxSize, when positive, makes Set refuse larger values with
	// vault.ErrTooBig (as Windows does above 2,560 bytes).
	maxSize int
	calls   map[string]int // op -> count
}

var _ vault.Keyring = (*Keyring)(nil)

// New returns an empty keyring.
func New() *Keyring {
	return &Keyring{items: map[string]string{}, calls: map[string]int{}}
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

func (k *Keyring) before(op, key string) error {
	k.calls[op]++
	if k.fail != nil {
		if err := k.fail(op, key); err != nil {
			return fmt.Errorf("keyring %s %s: %w", op, key, err)
		}
	}
	return nil
}

// Set stores value under key.
func (k *Keyring) Set(key, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.before("set", key); err != nil {
		return err
	}
	if k.maxSize > 0 && len(value) > k.maxSize {
		return fmt.Errorf("keyring set %s: %w", key, vault.ErrTooBig)
	}
	k.items[key] = value
	return nil
}

// Get returns the value under key or an error wrapping vault.ErrNotFound.
func (k *Keyring) Get(key string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.before("get", key); err != nil {
		return "", err
	}
	v, ok := k.items[key]
	if !ok {
		return "", fmt.Errorf("keyring get %s: %w", key, vault.ErrNotFound)
	}
	return v, nil
}

// Delete removes key or returns an error wrapping vault.ErrNotFound.
func (k *Keyring) Delete(key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.before("delete", key); err != nil {
		return err
	}
	if _, ok := k.items[key]; !ok {
		return fmt.Errorf("keyring delete %s: %w", key, vault.ErrNotFound)
	}
	delete(k.items, key)
	return nil
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

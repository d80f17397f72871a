package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// Keyring is the narrow view of an OS keyring the store needs. Keys are
// opaque strings such as "billing/secret"; the implementation decides the
// service they live under. Get and Delete return an error wrapping
// ErrNotFound when there is no such item; every implementation maps its
// failures to ErrKeyringUnavailable, ErrKeyringLocked and ErrTooBig.
type Keyring interface {
	Set(key, value string) error
	Get(key string) (string, error)
	Delete(key string) error
}

// DefaultKeyringTimeout bounds every call to the OS keyring. A locked
// collection on a desktop opens a password prompt, and the call would
// otherwise wait for it forever.
const DefaultKeyringTimeout = 5 * time.Second

// SystemKeyring stores items in the OS keyring through go-keyring: the Secret
// Service on Linux, the Keychain on macOS, the Credential Manager on Windows.
// On Linux it never starts a D-Bus session bus: without one every call fails
// at once with ErrNoSessionBus (see FindSessionBus).
type SystemKeyring struct {
	Service string        // the keyring service name: Tokentray's app ID
	Timeout time.Duration // per call; DefaultKeyringTimeout when zero
}

var _ Keyring = (*SystemKeyring)(nil)

// NewSystemKeyring returns the OS keyring for service with the default
// timeout.
func NewSystemKeyring(service string) *SystemKeyring {
	return &SystemKeyring{Service: service, Timeout: DefaultKeyringTimeout}
}

// Set stores value under key.
func (k *SystemKeyring) Set(key, value string) error {
	if err := ensureSessionBus(); err != nil {
		return fmt.Errorf("keyring set %s: %w", key, err)
	}
	_, err := k.call("set", key, func() (string, error) {
		if fastSet(k.Service, key, value) {
			return "", nil
		}
		return "", gokeyring.Set(k.Service, key, value)
	})
	return err
}

// Get returns the value stored under key.
func (k *SystemKeyring) Get(key string) (string, error) {
	if err := ensureSessionBus(); err != nil {
		return "", fmt.Errorf("keyring get %s: %w", key, err)
	}
	return k.call("get", key, func() (string, error) {
		if v, ok, err := fastGet(k.Service, key); ok {
			return v, err
		}
		return gokeyring.Get(k.Service, key)
	})
}

// Delete removes the item under key.
func (k *SystemKeyring) Delete(key string) error {
	if err := ensureSessionBus(); err != nil {
		return fmt.Errorf("keyring delete %s: %w", key, err)
	}
	_, err := k.call("delete", key, func() (string, error) {
		n, err := deleteCached(k.Service, key)
		if err != nil {
			return "", err
		}
		err = gokeyring.Delete(k.Service, key)
		if n > 0 && errors.Is(err, gokeyring.ErrNotFound) {
			err = nil // the token was only in the session collection
		}
		return "", err
	})
	return err
}

// KeyLister is a Keyring that can list the keys of its items. Keyrings
// without it (macOS, Windows) cannot be searched for orphans; the store then
// checks only the keys it knows of.
type KeyLister interface {
	// Keys returns every key stored, or an error wrapping
	// errors.ErrUnsupported where the platform cannot list them.
	Keys() ([]string, error)
}

// ModTimer is a Keyring that knows when an item last changed.
type ModTimer interface {
	// Modified returns when the item under key was last written, or an
	// error wrapping ErrNotFound or errors.ErrUnsupported.
	Modified(key string) (time.Time, error)
}

var (
	_ KeyLister = (*SystemKeyring)(nil)
	_ ModTimer  = (*SystemKeyring)(nil)
)

// Keys lists the keys of every item of the service (Secret Service
// SearchItems by the service attribute); elsewhere errors.ErrUnsupported.
func (k *SystemKeyring) Keys() ([]string, error) {
	if err := ensureSessionBus(); err != nil {
		return nil, fmt.Errorf("keyring list: %w", err)
	}
	var keys []string
	_, err := k.call("list", k.Service, func() (string, error) {
		var err error
		keys, err = listKeys(k.Service)
		return "", err
	})
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		return nil, errors.ErrUnsupported
	case err != nil:
		return nil, err // keys may still be written by a call that timed out
	}
	return keys, nil
}

// Modified returns when the item under key was last written (the Secret
// Service's Modified property); elsewhere errors.ErrUnsupported.
func (k *SystemKeyring) Modified(key string) (time.Time, error) {
	if err := ensureSessionBus(); err != nil {
		return time.Time{}, fmt.Errorf("keyring modified %s: %w", key, err)
	}
	var t time.Time
	_, err := k.call("modified", key, func() (string, error) {
		var err error
		t, err = itemModified(k.Service, key)
		return "", err
	})
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		return time.Time{}, errors.ErrUnsupported
	case err != nil:
		return time.Time{}, err
	}
	return t, nil
}

// call runs f under the timeout. On a timeout the call goes on in the
// background (go-keyring cannot be cancelled) and its result is dropped.
func (k *SystemKeyring) call(op, key string, f func() (string, error)) (string, error) {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			return "", fmt.Errorf("keyring %s %s: %w", op, key, classifyKeyringError(r.err))
		}
		return r.v, nil
	case <-timer.C:
		return "", fmt.Errorf("keyring %s %s: no answer within %v (is a password prompt open?): %w", op, key, timeout, ErrKeyringLocked)
	}
}

// classifyKeyringError maps go-keyring's and D-Bus's errors to the store's.
func classifyKeyringError(err error) error {
	switch {
	case errors.Is(err, gokeyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, gokeyring.ErrSetDataTooBig):
		return ErrTooBig
	case errors.Is(err, gokeyring.ErrUnsupportedPlatform):
		return ErrKeyringUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return ErrKeyringLocked
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "locked"), strings.Contains(msg, "prompt"), strings.Contains(msg, "dismissed"),
		strings.Contains(msg, "unlock"):
		return fmt.Errorf("%w (%v)", ErrKeyringLocked, err)
	case strings.Contains(msg, "dbus"), strings.Contains(msg, "d-bus"), strings.Contains(msg, "session bus"),
		strings.Contains(msg, "not provided by any .service"), strings.Contains(msg, "no such file"),
		strings.Contains(msg, "connection refused"), strings.Contains(msg, "org.freedesktop.secrets"):
		return fmt.Errorf("%w (%v)", ErrKeyringUnavailable, err)
	}
	return err
}

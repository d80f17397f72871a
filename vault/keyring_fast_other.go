//go:build !linux

package vault

import (
	"errors"
	"time"
)

// fastGet has no fast path outside Linux: go-keyring is used as it is.
func fastGet(service, key string) (string, bool, error) { return "", false, nil }

// fastSet has no fast path outside Linux either.
func fastSet(service, key, value string) bool { return false }

// deleteCached has nothing to do where every item is in go-keyring's store.
func deleteCached(service, key string) (int, error) { return 0, nil }

// listKeys cannot enumerate the Keychain or the Credential Manager through
// go-keyring.
func listKeys(service string) ([]string, error) { return nil, errors.ErrUnsupported }

// itemModified is not known outside the Secret Service.
func itemModified(service, key string) (time.Time, error) { return time.Time{}, errors.ErrUnsupported }

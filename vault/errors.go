package vault

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by the store and its keyrings. Callers test for them with
// errors.Is; the errors returned wrap them with the operation and the client.
var (
	// ErrNotFound means the keyring holds no item under the key asked for.
	ErrNotFound = errors.New("not found in the keyring")
	// ErrNoClient means the index has no client of that name.
	ErrNoClient = errors.New("no such client")
	// ErrExists means a client of that name is already stored.
	ErrExists = errors.New("a client of that name already exists")
	// ErrKeyringUnavailable means there is no keyring to talk to (on Linux:
	// no session bus, or no Secret Service provider such as gnome-keyring).
	ErrKeyringUnavailable = errors.New("the OS keyring is unavailable")
	// ErrNoSessionBus means there is no D-Bus session bus to reach the
	// Secret Service on (a cron job, an ssh session). It wraps
	// ErrKeyringUnavailable. Tokentray never starts a bus itself.
	ErrNoSessionBus = fmt.Errorf("%w: no D-Bus session bus", ErrKeyringUnavailable)
	// ErrKeyringLocked means the keyring is locked, or did not answer within
	// the timeout (a locked collection on a desktop waits for a password).
	ErrKeyringLocked = errors.New("the OS keyring is locked or not answering")
	// ErrTooBig means the keyring refused the value as too large (Windows
	// stores at most 2,560 bytes, macOS about 3,000). A token that is too big
	// to cache should be kept in memory instead; it is never truncated.
	ErrTooBig = errors.New("the value is too big for the OS keyring")
	// ErrIndexCorrupt means the index file could not be decoded. The store
	// refuses to overwrite it.
	ErrIndexCorrupt = errors.New("the client index is corrupt")
	// ErrIndexTooNew means the index was written by a newer Tokentray.
	ErrIndexTooNew = errors.New("the client index was written by a newer Tokentray")
	// ErrNoNextSecret means no secret is staged for rotation.
	ErrNoNextSecret = errors.New("no new secret is staged")
)

// ValidationError says which field of a client or secret is wrong and how to
// fix it.
type ValidationError struct {
	Field   string // "name", "token_url", "client_id", "secret", "scopes", ...
	Problem string // lower case, says what to do
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Problem)
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// PartialError reports an operation that changed the index but could not
// finish in the keyring. The store is still usable; Left lists the keyring
// keys that remain. They stay listed for deletion in the index, and every
// later command that opens the store (and Store.Repair) retries them.
type PartialError struct {
	Op   string
	Name string
	Left []string
	Err  error
}

func (e *PartialError) Error() string {
	if e.Op == opDropTokens {
		return fmt.Sprintf("vault: %s %q: saved, but the cached tokens for the old settings could not be deleted (%s): %v", e.Op, e.Name, strings.Join(e.Left, ", "), e.Err)
	}
	return fmt.Sprintf("vault: %s %q: done in the index, but keyring items remain (%s), listed for deletion: the next command retries (or run the same command again): %v",
		e.Op, e.Name, strings.Join(e.Left, ", "), e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// opDropTokens is the Op of the PartialError of an update whose cached
// tokens could not be dropped.
const opDropTokens = "update"

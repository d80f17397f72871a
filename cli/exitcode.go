package cli

import (
	"errors"
	"fmt"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// Exit codes, the same for every command.
const (
	ExitOK       = 0 // success
	ExitError    = 1 // any other error
	ExitUsage    = 2 // bad arguments or flags
	ExitNoClient = 3 // no client of that name (vault.ErrNoClient)
	ExitRejected = 4 // credentials rejected (refresher.ClassRejected)
	ExitScope    = 5 // scope or resource not allowed (refresher.ClassScope, ClassTarget)
	ExitEndpoint = 6 // endpoint unreachable, failing or wrong (ClassTransient, ClassRateLimited, ClassEndpoint)
	ExitKeyring  = 7 // keyring unavailable or locked
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct {
	cmd string // the command whose usage is shown
	msg string
}

func (e *usageError) Error() string { return "tokentray " + e.cmd + ": " + e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// childExit carries the exit code of exec's child; it prints nothing.
type childExit struct{ code int }

func (e *childExit) Error() string { return fmt.Sprintf("command exited with code %d", e.code) }

// ExitCode maps an error to the process exit code: nil 0; usage errors 2;
// an unknown client 3; a refresher.Error by its class (rejected 4, scope and
// target 5, transient, rate-limited and endpoint 6, keyring 7); a token unfit
// to print 6; keyring unavailable or locked 7; anything else 1.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ce *childExit
	if errors.As(err, &ce) {
		return ce.code
	}
	var cr *cannotRun
	if errors.As(err, &cr) {
		return cr.code
	}
	var df *doctorFailed
	if errors.As(err, &df) {
		return df.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var ut *unprintableToken
	if errors.As(err, &ut) {
		return ExitEndpoint
	}
	var re *refresher.Error
	if errors.As(err, &re) {
		switch re.Class {
		case refresher.ClassRejected:
			return ExitRejected
		case refresher.ClassScope, refresher.ClassTarget:
			return ExitScope
		case refresher.ClassTransient, refresher.ClassRateLimited, refresher.ClassEndpoint:
			return ExitEndpoint
		case refresher.ClassKeyring:
			return ExitKeyring
		}
	}
	switch {
	case errors.Is(err, vault.ErrNoClient):
		return ExitNoClient
	case errors.Is(err, vault.ErrKeyringUnavailable), errors.Is(err, vault.ErrKeyringLocked):
		return ExitKeyring
	}
	return ExitError
}

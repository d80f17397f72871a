//go:build !linux

package vault

import "errors"

// CloseFastSession: there is no Secret Service session outside Linux.
func CloseFastSession() error { return errors.ErrUnsupported }

// UseSessionCollection: there is no session collection outside Linux (the
// tests that use it skip there).
func UseSessionCollection(string) (restore func()) { return func() {} }

// NoteStaleLogin: there is no login collection outside Linux.
func NoteStaleLogin(service, key, path string) {}

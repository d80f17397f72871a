//go:build !linux

package vault

import "errors"

// CloseFastSession: there is no Secret Service session outside Linux.
func CloseFastSession() error { return errors.ErrUnsupported }

//go:build !windows

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// entryFile is where start at login is recorded, and the content that
// starts exe.
type entryFile struct {
	path    string
	content func(exe string) ([]byte, error)
}

// Enable makes exe start hidden at every login, replacing an entry that
// starts something else.
func Enable(exe string) (State, error) {
	f, err := entry()
	if err != nil {
		return State{}, err
	}
	data, err := f.content(exe)
	if err != nil {
		return State{}, err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return State{}, fmt.Errorf("autostart: %w", err)
	}
	if err := renameio.WriteFile(f.path, data, 0o644); err != nil {
		return State{}, fmt.Errorf("autostart: write %s: %w", f.path, err)
	}
	return Status()
}

// Disable removes the entry; it is not an error when there is none.
func Disable() (State, error) {
	f, err := entry()
	if err != nil {
		return State{}, err
	}
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return State{}, fmt.Errorf("autostart: remove %s: %w", f.path, err)
	}
	return State{Where: f.path}, nil
}

// Status reports whether an entry exists, and the command it runs.
func Status() (State, error) {
	f, err := entry()
	if err != nil {
		return State{}, err
	}
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Where: f.path}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("autostart: %w", err)
	}
	return State{On: !disabledEntry(data), Where: f.path, Command: commandOf(data)}, nil
}

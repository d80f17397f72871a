package autostart

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// runKey is the per-user Run key.
const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

const where = `HKCU\` + runKey + `\` + RunValueName

// Enable makes exe start hidden at every login (the per-user Run key).
func Enable(exe string) (State, error) {
	v, err := RunValue(exe)
	if err != nil {
		return State{}, err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE|registry.QUERY_VALUE)
	if err != nil {
		return State{}, fmt.Errorf("autostart: open %s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.SetStringValue(RunValueName, v); err != nil {
		return State{}, fmt.Errorf("autostart: set %s: %w", where, err)
	}
	return State{On: true, Where: where, Command: v}, nil
}

// Disable removes the Run value; it is not an error when there is none.
func Disable() (State, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return State{Where: where}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("autostart: open %s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.DeleteValue(RunValueName); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return State{}, fmt.Errorf("autostart: delete %s: %w", where, err)
	}
	return State{Where: where}, nil
}

// Status reports whether the Run value exists, and its command.
func Status() (State, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return State{Where: where}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("autostart: open %s: %w", runKey, err)
	}
	defer k.Close()
	v, _, err := k.GetStringValue(RunValueName)
	if errors.Is(err, registry.ErrNotExist) {
		return State{Where: where}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("autostart: read %s: %w", where, err)
	}
	return State{On: true, Where: where, Command: v}, nil
}

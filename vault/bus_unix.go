//go:build unix && !darwin

package vault

import "os"

// ensureSessionBus makes the keyring's D-Bus connection go to an existing
// session bus and never autolaunch one: it finds the bus (FindSessionBus)
// and, when found outside the environment, records it in
// DBUS_SESSION_BUS_ADDRESS for godbus, which would otherwise run
// dbus-launch. Without a bus it fails at once with ErrKeyringUnavailable.
func ensureSessionBus() error {
	addr, fromEnv, err := FindSessionBus(os.Getenv)
	if err != nil {
		return err
	}
	if !fromEnv {
		if err := os.Setenv(EnvSessionBus, addr); err != nil {
			return err
		}
	}
	return nil
}

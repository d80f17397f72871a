//go:build !unix || darwin

package vault

// ensureSessionBus has nothing to do where the keyring is not reached over
// D-Bus (macOS Keychain, Windows Credential Manager).
func ensureSessionBus() error { return nil }

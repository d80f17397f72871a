package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ServiceFile is the file that, when present in a configuration directory,
// names the keyring service of that directory's store. The demo writes one so its clients live
// under a service of their own, never mixed with real clients, and every
// command given `--config DIR` finds them.
const ServiceFile = "keyring-service"

// ServiceFor returns the keyring service of the store in dir: the contents
// of dir/keyring-service when present, else DefaultService.
func ServiceFor(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ServiceFile))
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultService, nil
	}
	if err != nil {
		return "", fmt.Errorf("vault: keyring service of %s: %w", dir, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" || len(s) > 255 || strings.ContainsAny(s, " \t\r\n") {
		return "", fmt.Errorf("vault: %s: not a keyring service name: fix or delete the file", filepath.Join(dir, ServiceFile))
	}
	return s, nil
}

// SetServiceFor records service as the keyring service of the store in dir.
func SetServiceFor(dir, service string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ServiceFile), []byte(service+"\n"), 0o600); err != nil {
		return fmt.Errorf("vault: record keyring service: %w", err)
	}
	return nil
}

// OpenSystem opens the store in dir on the OS keyring, under the service
// recorded for dir (see ServiceFor).
func OpenSystem(dir string, opts ...Option) (*Store, error) {
	service, err := ServiceFor(dir)
	if err != nil {
		return nil, err
	}
	return Open(dir, NewSystemKeyring(service), opts...)
}

//go:build !windows && !darwin

package autostart

import (
	"errors"
	"os"
	"path/filepath"
)

// entry is the XDG autostart entry: $XDG_CONFIG_HOME/autostart (default
// ~/.config/autostart).
func entry() (entryFile, error) {
	base := os.Getenv("XDG_CONFIG_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return entryFile{}, errors.New("autostart: neither XDG_CONFIG_HOME nor HOME is set")
		}
		base = filepath.Join(home, ".config")
	}
	return entryFile{path: filepath.Join(base, "autostart", ID+".desktop"), content: DesktopEntry}, nil
}

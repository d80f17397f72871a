package autostart

import (
	"errors"
	"os"
	"path/filepath"
)

// entry is the LaunchAgent in ~/Library/LaunchAgents.
func entry() (entryFile, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return entryFile{}, errors.New("autostart: HOME is not set")
	}
	return entryFile{path: filepath.Join(home, "Library", "LaunchAgents", ID+".plist"), content: LaunchAgent}, nil
}

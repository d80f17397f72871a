//go:build windows

package vault

import (
	"os"
	"path/filepath"
)

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, fsync, then os.Rename, which on Windows is MoveFileEx with
// MOVEFILE_REPLACE_EXISTING (renameio does not support Windows).
// beforeReplace, when set, runs just before the rename; an error from it
// leaves the old file untouched.
func writeFileAtomic(path string, data []byte, beforeReplace func() error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if beforeReplace != nil {
		if err = beforeReplace(); err != nil {
			return err
		}
	}
	return os.Rename(f.Name(), path)
}

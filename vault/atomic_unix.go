//go:build !windows

package vault

import "github.com/google/renameio/v2"

// writeFileAtomic replaces path with data (mode 0600) so that a reader sees
// either the old or the new file: a temporary file in the same directory,
// fsync, rename. beforeReplace, when set, runs just before the rename; an
// error from it leaves the old file untouched.
func writeFileAtomic(path string, data []byte, beforeReplace func() error) error {
	pf, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o600))
	if err != nil {
		return err
	}
	defer pf.Cleanup()
	if _, err := pf.Write(data); err != nil {
		return err
	}
	if beforeReplace != nil {
		if err := beforeReplace(); err != nil {
			return err
		}
	}
	return pf.CloseAtomicallyReplace()
}

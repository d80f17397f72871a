//go:build !linux

package testproc

import "os/exec"

// setProcAttr does nothing here: only Linux has a parent-death signal, and
// t.Cleanup stops the server in the normal case.
func setProcAttr(cmd *exec.Cmd) {}

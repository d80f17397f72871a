//go:build !linux

package hydratest

import "os/exec"

// setProcAttr does nothing here: only Linux has a parent-death signal, and
// t.Cleanup stops Hydra in the normal case.
func setProcAttr(cmd *exec.Cmd) {}

//go:build !linux

package hcvaultdev

import "os/exec"

// setProcAttr does nothing here: only Linux has a parent-death signal, and
// t.Cleanup stops Vault in the normal case.
func setProcAttr(cmd *exec.Cmd) {}

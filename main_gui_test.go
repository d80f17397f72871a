package main

import (
	"os/exec"
	"testing"
)

// TestRunGUIExitCode: on Windows, where syscall.Exec is not supported,
// tokentray runs tokentray-gui as a child and exits with its code.
func TestRunGUIExitCode(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to stand in for tokentray-gui")
	}
	tests := []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
	}
	for _, tt := range tests {
		got, err := runGUI(sh, []string{"-c", tt.script})
		if err != nil || got != tt.want {
			t.Errorf("runGUI(sh -c %q) = %d, %v; want %d, nil", tt.script, got, err, tt.want)
		}
	}
	if _, err := runGUI("/nonexistent/tokentray-gui", nil); err == nil {
		t.Error("runGUI of a missing program: nil error")
	}
}

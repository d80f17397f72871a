package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWantsGUI(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"--config", "/tmp/x"}, true},
		{[]string{"-config=/tmp/x"}, true},
		{[]string{"demo"}, true},
		{[]string{"--hidden"}, true},
		{[]string{"--config", "/tmp/x", "--hidden"}, true},
		{[]string{"demo", "--headless"}, true},
		{[]string{"--config", "/tmp/x", "demo"}, true},
		{[]string{"token", "billing"}, false},
		{[]string{"--config", "/tmp/x", "list"}, false},
		{[]string{"--version"}, false},
		{[]string{"-h"}, false},
		{[]string{"--quiet", "token", "x"}, false},
	}
	for _, tt := range tests {
		if got := wantsGUI(tt.args); got != tt.want {
			t.Errorf("wantsGUI(%q) = %v; want %v", tt.args, got, tt.want)
		}
	}
}

func TestFindGUIMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(self), guiBinary)); err == nil {
		t.Skip("a tokentray-gui lies beside the test binary")
	}
	_, err = findGUI()
	if err == nil || !strings.Contains(err.Error(), "go build -o") || !strings.Contains(err.Error(), "./cmd/tokentray-gui") {
		t.Errorf("findGUI() error = %v; want one that says how to build tokentray-gui", err)
	}
}

func TestFindGUIOnPath(t *testing.T) {
	dir := t.TempDir()
	gui := filepath.Join(dir, guiBinary)
	if err := os.WriteFile(gui, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	got, err := findGUI()
	if err != nil || got != gui {
		t.Errorf("findGUI() = %q, %v; want %q from PATH", got, err, gui)
	}
}

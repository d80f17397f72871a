package launch

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args    []string
		want    Window
		wantErr string
	}{
		{args: nil, want: Window{}},
		{args: []string{"--config", "/tmp/x", "--hidden"}, want: Window{Config: "/tmp/x", Hidden: true}},
		{args: []string{"--demo"}, want: Window{Demo: true, TokenTTL: DefaultTokenTTL}},
		{args: []string{"--demo", "--token-ttl", "2m", "--config", "/tmp/d"}, want: Window{Demo: true, TokenTTL: 2 * time.Minute, Config: "/tmp/d"}},
		{args: []string{"--demo", "--headless"}, want: Window{Demo: true, Headless: true, TokenTTL: DefaultTokenTTL}},
		{args: []string{"--token-ttl", "2m"}, wantErr: "add --demo"},
		{args: []string{"--headless"}, wantErr: "add --demo"},
		{args: []string{"--demo", "--token-ttl", "-1m"}, wantErr: "positive duration"},
		{args: []string{"token", "billing"}, wantErr: "commands belong to tokentray"},
		{args: []string{"--version"}, want: Window{Version: true}},
		{args: []string{"version"}, wantErr: "commands belong to tokentray"},
	}
	for _, tt := range tests {
		var out strings.Builder
		got, err := Parse(tt.args, &out)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %v; want one containing %q", tt.args, err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantErr) {
				t.Errorf("Parse(%q) printed %q; want the problem (%q) told", tt.args, out.String(), tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}

// FuzzArgs checks that whatever Parse accepts, Args gives back arguments
// that Parse reads as the same window.
func FuzzArgs(f *testing.F) {
	f.Add("--config", "/tmp/x", "--demo", "--token-ttl=2m")
	f.Add("--hidden", "", "-config=a b", "")
	f.Add("--demo", "--token-ttl", "90s", "x")
	f.Add("--headless", "--demo", "", "")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		var args []string
		for _, s := range []string{a, b, c, d} {
			if s != "" {
				args = append(args, s)
			}
		}
		w, err := Parse(args, io.Discard)
		if err != nil {
			return
		}
		again, err := Parse(w.Args(), io.Discard)
		if err != nil || again != w {
			t.Errorf("Parse(%q) = %+v; Parse of its Args %q = %+v, %v", args, w, w.Args(), again, err)
		}
	})
}

func TestFindMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(self), Binary)); err == nil {
		t.Skip("a tokentray-gui lies beside the test binary")
	}
	_, err = Find()
	if err == nil || !strings.Contains(err.Error(), "go build -o") || !strings.Contains(err.Error(), "./cmd/tokentray-gui") {
		t.Errorf("Find() error = %v; want one that says how to build tokentray-gui", err)
	}
}

func TestFindOnPath(t *testing.T) {
	dir := t.TempDir()
	gui := filepath.Join(dir, Binary)
	if err := os.WriteFile(gui, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	got, err := Find()
	if err != nil || got != gui {
		t.Errorf("Find() = %q, %v; want %q from PATH", got, err, gui)
	}
}

// TestRunExitCode: on Windows, where syscall.Exec is not supported,
// tokentray runs tokentray-gui as a child and exits with its code.
func TestRunExitCode(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to stand in for tokentray-gui")
	}
	for _, tt := range []struct {
		script string
		want   int
	}{{"exit 0", 0}, {"exit 3", 3}} {
		got, err := Run(sh, []string{"-c", tt.script})
		if err != nil || got != tt.want {
			t.Errorf("Run(sh -c %q) = %d, %v; want %d, nil", tt.script, got, err, tt.want)
		}
	}
	if _, err := Run("/nonexistent/tokentray-gui", nil); err == nil {
		t.Error("Run of a missing program: nil error")
	}
}

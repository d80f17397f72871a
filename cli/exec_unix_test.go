//go:build unix

package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestExecForwardsSignals sends each forwarded signal to this process while
// exec runs a child that traps it: the child gets it and its exit code comes
// back.
func TestExecForwardsSignals(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing")
	if code, _, stderr := h.run("", "token", "billing"); code != 0 {
		t.Fatalf("token: %d %s", code, stderr)
	}
	// The child is this test binary in signalChild mode (see TestMain).
	h.environ = append(h.environ, envTestChild+"=signal")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			var errb bytes.Buffer
			done := make(chan int, 1)
			go func() {
				defer pw.Close()
				e := h.env(strings.NewReader(""), pw, &errb)
				done <- run(context.Background(), e, []string{"--config", h.dir, "exec", "billing", "--", os.Args[0]})
			}()
			buf := make([]byte, 6)
			if _, err := io.ReadFull(pr, buf); err != nil || string(buf) != "ready\n" {
				t.Fatalf("child said %q, %v; want ready", buf, err)
			}
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			if code, want := <-done, childCodes[sig]; code != want {
				t.Errorf("exit code %d; want %d from the child's trap (stderr %q)", code, want, errb.String())
			}
		})
	}
}

// TestExecCannotRun checks the shell's exit codes and words for a command
// that is missing (127) or cannot be run (126), and that no token is
// fetched for it.
func TestExecCannotRun(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing")
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.sh")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cmd  string
		code int
		msg  string
	}{
		{"tokentray-no-such-command", 127, "exec: tokentray-no-such-command: command not found"},
		{filepath.Join(dir, "missing"), 127, "No such file or directory"},
		{plain, 126, plain + ": Permission denied"},
		{dir, 126, dir + ": Is a directory"},
	}
	for _, tt := range tests {
		code, stdout, stderr := h.run("", "exec", "billing", "--", tt.cmd, "arg")
		if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.msg) {
			t.Errorf("exec %s: exit %d, stdout %q, stderr %q; want %d and %q", tt.cmd, code, stdout, stderr, tt.code, tt.msg)
		}
	}
	if n := h.ts.requests(); n != 0 {
		t.Errorf("exec of commands it cannot run made %d token requests; want 0", n)
	}
}

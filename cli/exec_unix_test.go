//go:build unix

package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestExecForwardsSignals sends SIGTERM to this process while exec runs a
// child that traps it: the child gets it and its exit code comes back.
func TestExecForwardsSignals(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing")
	if code, _, stderr := h.run("", "token", "billing"); code != 0 {
		t.Fatalf("token: %d %s", code, stderr)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var errb bytes.Buffer
	done := make(chan int, 1)
	// The child is this test binary in signalChild mode (see TestMain).
	h.environ = append(h.environ, envTestChild+"=signal")
	go func() {
		defer pw.Close()
		e := h.env(strings.NewReader(""), pw, &errb)
		done <- run(context.Background(), e, []string{"--config", h.dir, "exec", "billing", "--", os.Args[0]})
	}()
	buf := make([]byte, 6)
	if _, err := pr.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("child said %q, %v; want ready", buf, err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 42 {
		t.Errorf("exit code %d; want 42 from the child's TERM trap (stderr %q)", code, errb.String())
	}
}

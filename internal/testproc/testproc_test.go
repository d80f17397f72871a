package testproc

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestExitBeforeReady(t *testing.T) {
	p, err := Start("quitter", exec.Command("sh", "-c", "echo bad config >&2; exit 3"))
	if err != nil {
		t.Skip(err)
	}
	err = p.WaitReady(time.Minute, func() bool { return false })
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "quitter") {
		t.Errorf("WaitReady = %v; want ErrExited naming the process", err)
	}
	if !strings.Contains(p.Output(), "bad config") {
		t.Errorf("Output() = %q; want what the process wrote", p.Output())
	}
	p.Stop() // after the exit: returns at once
}

func TestReadyThenStop(t *testing.T) {
	p, err := Start("sleeper", exec.Command("sh", "-c", "echo up; exec sleep 600"))
	if err != nil {
		t.Skip(err)
	}
	before := 0
	p.BeforeStop = func() { before++ }
	if err := p.WaitReady(time.Minute, func() bool { return strings.Contains(p.Output(), "up") }); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	p.Stop()
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited not closed after Stop")
	}
	if p.ExitErr() == nil || before != 1 {
		t.Errorf("exit %v, BeforeStop ran %d times; want an interrupted exit and once", p.ExitErr(), before)
	}
}

func TestBinaryMissing(t *testing.T) {
	t.Setenv("TESTPROC_TEST_BIN", t.TempDir()+"/none")
	t.Setenv("TESTPROC_TEST_REQUIRE", "")
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() { // Skip ends the goroutine with runtime.Goexit
		defer close(done)
		Binary(rec, "TESTPROC_TEST_BIN", "TESTPROC_TEST_REQUIRE", "bin/none", "run make-it.sh")
	}()
	<-done
	if !rec.skipped || !strings.Contains(rec.msg, "run make-it.sh") || !strings.Contains(rec.msg, "TESTPROC_TEST_REQUIRE=1") {
		t.Errorf("skipped %v, message %q; want a skip that says how to build it and how to fail instead", rec.skipped, rec.msg)
	}
}

// recordingTB records Skip instead of skipping the real test.
type recordingTB struct {
	testing.TB
	skipped bool
	msg     string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skip(args ...any) {
	r.skipped = true
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

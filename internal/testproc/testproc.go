// Package testproc runs a server program for an integration test: the
// plumbing hcvaultdev (HashiCorp Vault), hydratest (Ory Hydra) and oidctest
// (oidc-provider) share. It finds the program or skips the test, picks a
// free loopback port, starts the process with its output kept for failure
// messages, waits until it is ready or has exited, and stops it (SIGINT,
// then SIGKILL after 10 s; on Linux the kernel kills it too if the test
// process dies first).
package testproc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Missing skips t with msg, or fails it when the environment variable
// require is "1" (set in CI, so integration tests cannot silently stop
// running).
func Missing(t testing.TB, require, msg string) {
	t.Helper()
	if os.Getenv(require) == "1" {
		t.Fatal(msg + " (" + require + "=1)")
	}
	t.Skip(msg + "; skipping (set " + require + "=1 to fail instead)")
}

// ModuleRoot walks up from the working directory to the repository's
// go.mod: the first one that is not a module of its own under tools/
// (tools/hydra, tools/vault, ...).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && filepath.Base(filepath.Dir(dir)) != "tools" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binary returns the program named by the environment variable env, else
// <module root>/rel. When there is none it calls Missing with a message
// that names how to build it (build).
func Binary(t testing.TB, env, require, rel, build string) string {
	t.Helper()
	bin := os.Getenv(env)
	if bin == "" {
		root, err := ModuleRoot()
		if err != nil {
			Missing(t, require, err.Error())
			return ""
		}
		bin = filepath.Join(root, rel)
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		Missing(t, require, fmt.Sprintf("no program at %s: %s (or set %s)", bin, build, env))
		return ""
	}
	return bin
}

// FreePort returns a loopback TCP port that was free a moment ago. Another
// process may take it before the server listens: callers retry on
// ErrExited.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ErrExited says the process stopped before it was ready, typically
// because its port was taken after FreePort: start it again.
var ErrExited = errors.New("exited before it was ready")

// Proc is a started server process.
type Proc struct {
	name string
	cmd  *exec.Cmd
	out  *output
	done chan struct{} // closed once the process has exited
	err  error         // Wait's result, set before done closes
	stop sync.Once
	// BeforeStop, when set, runs first in Stop (oidctest closes the
	// server's stdin, which stops it too).
	BeforeStop func()
}

// Start starts cmd as the server called name (for messages). Its stdout and
// stderr, unless already set, are kept for Output.
func Start(name string, cmd *exec.Cmd) (*Proc, error) {
	setProcAttr(cmd)
	p := &Proc{name: name, cmd: cmd, out: &output{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Exited is closed once the process has stopped; ExitErr then says how.
func (p *Proc) Exited() <-chan struct{} { return p.done }

// ExitErr is the process's exit status once Exited is closed.
func (p *Proc) ExitErr() error {
	<-p.done
	return p.err
}

// Output returns what the process wrote (the first MiB).
func (p *Proc) Output() string { return p.out.String() }

// WaitReady calls ready every 20 ms until it reports true, the process exits
// (an error wrapping ErrExited), or timeout passes. Polling is the only
// readiness signal these servers give.
func (p *Proc) WaitReady(timeout time.Duration, ready func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready() {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s %w: %v", p.name, ErrExited, p.err)
		case <-deadline.C:
			return fmt.Errorf("%s not ready within %v", p.name, timeout)
		case <-tick.C:
		}
	}
}

// Stop stops the process: BeforeStop, SIGINT, SIGKILL after 10 s, and waits
// for it. Stopping twice is harmless.
func (p *Proc) Stop() {
	p.stop.Do(func() {
		if p.BeforeStop != nil {
			p.BeforeStop()
		}
		_ = p.cmd.Process.Signal(os.Interrupt)
		timer := time.NewTimer(10 * time.Second)
		defer timer.Stop()
		select {
		case <-p.done:
		case <-timer.C:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// StopAtCleanup stops the process when t ends and, if t failed, logs its
// output.
func (p *Proc) StopAtCleanup(t testing.TB) {
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", p.name, p.Output())
		}
	})
}

// output collects a process's output for failure messages, up to 1 MiB.
type output struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.b.Len() < 1<<20 {
		o.b.Write(p)
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

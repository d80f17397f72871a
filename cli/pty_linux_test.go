//go:build linux

package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tokentray/tokentray/vault"
)

// openPTY opens a pseudo-terminal pair: a real terminal for the prompt.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the terminal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestAddPromptsOnTerminalWithoutEcho types the secret on a real
// (pseudo-)terminal: add prompts on stderr, the terminal does not echo what
// is typed, and the secret is stored.
func TestAddPromptsOnTerminalWithoutEcho(t *testing.T) {
	h := newHarness(t)
	master, slave := openPTY(t)
	fd := int(slave.Fd())
	secret := "typed-at-the-terminal-42"
	h.secrets = append(h.secrets, secret)

	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		e := h.env(slave, &out, &errb)
		done <- run(context.Background(), e, []string{"--config", h.dir, "add", "typed",
			"--token-url", h.ts.tokenURL(), "--client-id", "m2m-client-test-typed", "--no-test"})
	}()
	// Type only once the prompt has switched echo off (term.ReadPassword).
	for {
		tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			t.Fatalf("tcgetattr: %v", err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		runtime.Gosched()
	}
	if _, err := master.Write([]byte(secret + "\n")); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("add on a terminal: exit %d\nstderr: %s", code, errb.String())
	}
	h.checkLeaks([]string{"--config", h.dir, "add"}, out.String(), errb.String())
	if !strings.Contains(errb.String(), "client secret for typed") {
		t.Errorf("stderr %q; want the prompt", errb.String())
	}
	if got := h.kr.Items()[vault.SecretKey("typed")]; got != secret {
		t.Errorf("stored secret %q; want what was typed", got)
	}
	// Everything the terminal showed, up to a marker written after the run.
	if _, err := slave.Write([]byte("MARK\n")); err != nil {
		t.Fatal(err)
	}
	var shown []byte
	buf := make([]byte, 256)
	for !bytes.Contains(shown, []byte("MARK")) {
		n, err := master.Read(buf)
		if err != nil {
			t.Fatalf("read the terminal: %v", err)
		}
		shown = append(shown, buf[:n]...)
	}
	if bytes.Contains(shown, []byte(secret)) {
		t.Errorf("the terminal echoed the secret: %q", shown)
	}
	if tio, _ := unix.IoctlGetTermios(fd, unix.TCGETS); tio.Lflag&unix.ECHO == 0 {
		t.Errorf("echo is still off after the prompt")
	}
}

package vault_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// Environment of the helper process started by the multi-process tests.
const (
	envRole   = "TOKENTRAY_TEST_ROLE" // "put", "lock", "keyring-unavailable", "keyring-no-service" or "keyring-locked"
	envDir    = "TOKENTRAY_TEST_DIR"
	envPrefix = "TOKENTRAY_TEST_PREFIX"
	envCount  = "TOKENTRAY_TEST_COUNT"
)

func clientNamed(name string) vault.Client {
	c := validClient()
	c.Name = name
	return c
}

// Two Stores on one directory, many goroutines putting distinct clients:
// every entry survives.
func TestConcurrentPutsTwoStores(t *testing.T) {
	dir := t.TempDir()
	kr := vaulttest.New()
	var stores [2]*vault.Store
	for i := range stores {
		s, err := vault.Open(dir, kr)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	const goroutines, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		s := stores[g%2]
		wg.Go(func() {
			for i := range each {
				if err := s.Put(clientNamed(fmt.Sprintf("g%d-c%d", g, i))); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Put: %v", err)
	}
	checkAllNames(t, stores[0], goroutines*each, func(yield func(string) bool) {
		for g := range goroutines {
			for i := range each {
				if !yield(fmt.Sprintf("g%d-c%d", g, i)) {
					return
				}
			}
		}
	})
}

// Concurrent Updates of one client from two stores: no increment is lost.
func TestConcurrentUpdatesOneClient(t *testing.T) {
	dir := t.TempDir()
	kr := vaulttest.New()
	a, err := vault.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := vault.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Put(validClient()); err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			err := s.Update("billing", func(c *vault.Client) error {
				k, _ := strconv.Atoi(c.Notes)
				c.Notes = strconv.Itoa(k + 1)
				return nil
			})
			if err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	if got := mustGet(t, a, "billing").Notes; got != strconv.Itoa(n) {
		t.Errorf("counter after %d concurrent Updates = %s, want %d", n, got, n)
	}
}

func checkAllNames(t *testing.T, s *vault.Store, n int, names func(func(string) bool)) {
	t.Helper()
	list, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	have := make(map[string]bool, len(list))
	for _, c := range list {
		have[c.Name] = true
	}
	for name := range names {
		if !have[name] {
			t.Errorf("client %s was lost", name)
		}
	}
	if len(list) != n {
		t.Errorf("List has %d clients, want %d", len(list), n)
	}
}

// TestHelperProcess is not a test: the multi-process tests run the test
// binary again with -test.run=^TestHelperProcess$ and TOKENTRAY_TEST_ROLE set,
// and this function then plays that role and exits.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("helper for the multi-process tests; does nothing on its own")
	}
	if err := helperMain(role); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// helperMain plays role. Roles that race with another process print "ready"
// (or "locked") and wait for stdin to close before going on, so the parent
// can start them together.
func helperMain(role string) error {
	dir := os.Getenv(envDir)
	switch role {
	case "put":
		n, err := strconv.Atoi(os.Getenv(envCount))
		if err != nil {
			return err
		}
		s, err := vault.Open(dir, vaulttest.New())
		if err != nil {
			return err
		}
		fmt.Println("ready")
		if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
			return err
		}
		prefix := os.Getenv(envPrefix)
		for i := range n {
			if err := s.Put(clientNamed(fmt.Sprintf("%s%d", prefix, i))); err != nil {
				return err
			}
		}
		return nil
	case "lock":
		s, err := vault.Open(dir, vaulttest.New())
		if err != nil {
			return err
		}
		unlock, err := s.LockClient(context.Background(), "billing")
		if err != nil {
			return err
		}
		fmt.Println("locked")
		if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
			return err
		}
		unlock()
		return nil
	case "keyring-unavailable":
		return keyringUnavailableHelper()
	case "keyring-no-service":
		return keyringNoServiceHelper()
	case "keyring-locked":
		return keyringLockedHelper()
	}
	return fmt.Errorf("unknown role %q", role)
}

// helper is a running helper process.
type helper struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	closeOnce sync.Once
	stdout    *bufio.Reader
	stderr    *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

func startHelper(t *testing.T, env ...string) *helper {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: &lockedBuffer{}}
	cmd.Stderr = h.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.release()
		_ = cmd.Wait()
	})
	return h
}

// expect reads one line from the helper and checks it.
func (h *helper) expect(t *testing.T, want string) {
	t.Helper()
	line, err := h.stdout.ReadString('\n')
	if err != nil || line != want+"\n" {
		t.Fatalf("helper said %q (%v), want %q; stderr:\n%s", line, err, want, h.stderr)
	}
}

// release closes the helper's stdin, which lets it go on.
func (h *helper) release() { h.closeOnce.Do(func() { _ = h.stdin.Close() }) }

// finish closes the helper's stdin and waits for it to exit successfully.
func (h *helper) finish(t *testing.T) {
	t.Helper()
	h.release()
	if _, err := io.Copy(io.Discard, h.stdout); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v; stderr:\n%s", err, h.stderr)
	}
}

// Two processes each put N distinct clients into one directory at the same
// time: all 2N survive.
func TestConcurrentPutsTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes")
	}
	dir := filepath.Join(t.TempDir(), "tokentray")
	const n = 40
	var hs []*helper
	for _, prefix := range []string{"a", "b"} {
		hs = append(hs, startHelper(t, envRole+"=put", envDir+"="+dir, envPrefix+"="+prefix, envCount+"="+strconv.Itoa(n)))
	}
	for _, h := range hs {
		h.expect(t, "ready")
	}
	for _, h := range hs { // start both at once
		h.release()
	}
	for _, h := range hs {
		h.finish(t)
	}
	s, err := vault.Open(dir, vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	checkAllNames(t, s, 2*n, func(yield func(string) bool) {
		for _, prefix := range []string{"a", "b"} {
			for i := range n {
				if !yield(fmt.Sprintf("%s%d", prefix, i)) {
					return
				}
			}
		}
	})
}

// LockClient serialises across processes: while another process holds a
// client's lock, this one cannot take it; once released, it can.
func TestLockClientAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := filepath.Join(t.TempDir(), "tokentray")
	s, err := vault.Open(dir, vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, envRole+"=lock", envDir+"="+dir)
	h.expect(t, "locked")

	// While the helper holds the lock no wait, however long, gets it; the
	// deadline only bounds how long the test tries.
	short, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if unlock, err := s.LockClient(short, "billing"); err == nil {
		unlock()
		t.Fatal("LockClient succeeded while another process holds the lock")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("LockClient error = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if unlock, err := s.LockClient(t.Context(), "other"); err != nil {
		t.Errorf("LockClient of another client: %v, want it free", err)
	} else {
		unlock()
	}

	h.finish(t) // the helper releases the lock and exits
	unlock, err := s.LockClient(t.Context(), "billing")
	if err != nil {
		t.Fatalf("LockClient after the other process released it: %v", err)
	}
	unlock()
}

// Within one process, two Stores on one directory exclude each other too,
// and a waiting LockClient gets the lock when it is released.
func TestLockClientInProcess(t *testing.T) {
	dir := t.TempDir()
	a, err := vault.Open(dir, vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	b, err := vault.Open(dir, vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	unlockA, err := a.LockClient(t.Context(), "billing")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if unlock, err := b.LockClient(short, "billing"); err == nil {
		unlock()
		t.Fatal("a second LockClient got a held lock")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("LockClient error = %v, want it to wrap context.DeadlineExceeded", err)
	}

	got := make(chan error, 1)
	go func() {
		unlock, err := b.LockClient(t.Context(), "billing")
		if err == nil {
			unlock()
		}
		got <- err
	}()
	unlockA()
	if err := <-got; err != nil {
		t.Errorf("waiting LockClient after release: %v", err)
	}

	_, err = a.LockClient(t.Context(), "../escape")
	wantField(t, "LockClient with a bad name", err, "name")
}

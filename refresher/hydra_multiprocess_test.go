//go:build unix

package refresher_test

// Across processes: two processes (this test binary, run again) with 50
// goroutines each call Token on an expired cache at the same moment; the
// real Hydra, through hydratest's counting proxy, must see exactly one token
// request, and all 100 calls must return the same token.
//
// Both processes need one keyring. vaulttest's fake lives in one process, so
// the test uses the REAL Secret Service when DBUS_SESSION_BUS_ADDRESS is set
// (under a service name of its own, deleted afterwards), and otherwise
// fileKeyring below: a JSON file guarded by an flock, shared by both.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"

	"github.com/tokentray/tokentray/hydratest"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// Environment of the helper processes.
const (
	envTokenRole    = "TOKENTRAY_TEST_TOKEN_ROLE"    // "token": play the helper
	envTokenDir     = "TOKENTRAY_TEST_TOKEN_DIR"     // the store directory
	envTokenKeyring = "TOKENTRAY_TEST_TOKEN_KEYRING" // "file:PATH" or "system:SERVICE"
	envTokenCallers = "TOKENTRAY_TEST_TOKEN_CALLERS" // goroutines per process
)

const multiClient = "shared"

// fileKeyring is a vault.Keyring on a JSON file, for tests that need one
// keyring in several processes. Every call takes an exclusive flock on
// PATH.lock, reads the file, and (for Set and Delete) writes it back
// atomically.
type fileKeyring struct {
	path string
	mu   sync.Mutex // serialises this process's calls (flock is per file handle)
}

var _ vault.Keyring = (*fileKeyring)(nil)

func (k *fileKeyring) update(f func(items map[string]string) error, write bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	fl := flock.New(k.path + ".lock")
	if err := fl.Lock(); err != nil {
		return fmt.Errorf("file keyring: lock: %w", err)
	}
	defer func() { _ = fl.Unlock() }()
	items := map[string]string{}
	b, err := os.ReadFile(k.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("file keyring: %w", err)
	default:
		if err := json.Unmarshal(b, &items); err != nil {
			return fmt.Errorf("file keyring: %w", err)
		}
	}
	if err := f(items); err != nil {
		return err
	}
	if !write {
		return nil
	}
	b, err = json.Marshal(items)
	if err != nil {
		return err
	}
	return renameio.WriteFile(k.path, b, 0o600)
}

func (k *fileKeyring) Set(key, value string) error {
	return k.update(func(items map[string]string) error { items[key] = value; return nil }, true)
}

func (k *fileKeyring) Get(key string) (string, error) {
	var v string
	err := k.update(func(items map[string]string) error {
		var ok bool
		if v, ok = items[key]; !ok {
			return fmt.Errorf("file keyring: get %s: %w", key, vault.ErrNotFound)
		}
		return nil
	}, false)
	return v, err
}

func (k *fileKeyring) Delete(key string) error {
	return k.update(func(items map[string]string) error {
		if _, ok := items[key]; !ok {
			return fmt.Errorf("file keyring: delete %s: %w", key, vault.ErrNotFound)
		}
		delete(items, key)
		return nil
	}, true)
}

// sharedKeyring opens the keyring named by spec ("file:PATH" or
// "system:SERVICE").
func sharedKeyring(spec string) (vault.Keyring, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "file":
		return &fileKeyring{path: arg}, nil
	case "system":
		return vault.NewSystemKeyring(arg), nil
	}
	return nil, fmt.Errorf("unknown keyring %q", spec)
}

// TestHelperTokenProcess is not a test: TestHydraTokenAcrossProcesses runs
// the test binary again with -test.run=^TestHelperTokenProcess$ and
// TOKENTRAY_TEST_TOKEN_ROLE=token, and this function then plays the helper:
// it opens the shared store, says "ready", waits for stdin to close, calls
// Token from N goroutines at once, prints one line per call ("SOURCE
// FINGERPRINT") and exits.
func TestHelperTokenProcess(t *testing.T) {
	if os.Getenv(envTokenRole) != "token" {
		t.Skip("helper for TestHydraTokenAcrossProcesses; does nothing on its own")
	}
	if err := tokenHelper(); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func tokenHelper() error {
	kr, err := sharedKeyring(os.Getenv(envTokenKeyring))
	if err != nil {
		return err
	}
	store, err := vault.Open(os.Getenv(envTokenDir), kr)
	if err != nil {
		return err
	}
	var n int
	if _, err := fmt.Sscan(os.Getenv(envTokenCallers), &n); err != nil {
		return fmt.Errorf("%s: %w", envTokenCallers, err)
	}
	r := refresher.New(refresher.Options{Store: store, HTTPClient: refresher.NewHTTPClient(30 * time.Second)})
	defer r.Close()
	fmt.Println("ready")
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lines := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := r.Token(ctx, multiClient, refresher.TokenOptions{})
			errs[i] = err
			lines[i] = fmt.Sprintf("%s %s", res.Source, vault.Fingerprint(res.Token.AccessToken))
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Println(strings.Join(lines, "\n"))
	return nil
}

// tokenProc is a running helper process.
type tokenProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	once   sync.Once // closes stdin
	stdout *bufio.Reader
	stderr helperStderr
}

// helperStderr collects a helper's stderr; safe for exec's copier and the test.
type helperStderr struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (s *helperStderr) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *helperStderr) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startTokenProc(t *testing.T, env ...string) *tokenProc {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperTokenProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	p := &tokenProc{cmd: cmd}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	cmd.Stderr = &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.release()
		_ = cmd.Wait()
	})
	return p
}

func (p *tokenProc) release() { p.once.Do(func() { _ = p.stdin.Close() }) }

// results closes stdin, reads the helper's lines and waits for it to exit.
func (p *tokenProc) results(t *testing.T) []string {
	t.Helper()
	p.release()
	b, err := io.ReadAll(p.stdout)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v; stderr:\n%s", err, p.stderr.String())
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "|"))
}

func TestHydraTokenAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Hydra and two processes")
	}
	const callers = 50
	h := hydratest.Start(t)
	h.CreateClient(t, "m2m-client-test-shared", hydraSecret, hydraScopes, hydratest.AuthBasic)

	dir := filepath.Join(t.TempDir(), "tokentray")
	var spec string
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		spec = "system:io.github.tokentray.test-" + hex.EncodeToString(b)
		t.Logf("keyring: the real Secret Service (%s)", spec)
	} else {
		spec = "file:" + filepath.Join(t.TempDir(), "keyring.json")
		t.Logf("keyring: a file shared by the processes (no session bus)")
	}
	kr, err := sharedKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	store, err := vault.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	c := vault.Client{Name: multiClient, ClientID: "m2m-client-test-shared", TokenURL: h.TokenURL(), Scopes: hydraScopes, AuthStyle: vault.AuthHeader}
	if err := store.Add(c, hydraSecret); err != nil {
		t.Fatalf("%v (is the Secret Service unlocked? see shared/HEADLESS.md)", err)
	}
	t.Cleanup(func() {
		if err := store.Remove(multiClient); err != nil {
			t.Errorf("cleaning the keyring: %v", err)
		}
	})
	// An expired token in the cache: every caller must refresh it.
	now := time.Now()
	expired := vault.Token{AccessToken: "expired-token", TokenType: "Bearer", Expiry: now.Add(-time.Minute), FetchedAt: now.Add(-61 * time.Minute), Scopes: hydraScopes}
	if err := store.SetToken(multiClient, nil, expired); err != nil {
		t.Fatal(err)
	}

	env := []string{envTokenRole + "=token", envTokenDir + "=" + dir, envTokenKeyring + "=" + spec, fmt.Sprintf("%s=%d", envTokenCallers, callers)}
	procs := []*tokenProc{startTokenProc(t, env...), startTokenProc(t, env...)}
	for _, p := range procs {
		if line, err := p.stdout.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("helper said %q (%v), want ready; stderr:\n%s", line, err, p.stderr.String())
		}
	}
	for _, p := range procs { // both at once
		p.release()
	}
	var all []string
	fetchedIn := 0
	for i, p := range procs {
		lines := p.results(t)
		if len(lines) != callers {
			t.Fatalf("process %d returned %d results; want %d", i, len(lines), callers)
		}
		if slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, string(refresher.FromFetch)+"|") }) {
			fetchedIn++
		}
		all = append(all, lines...)
	}

	if got := h.TokenRequests(); got != 1 {
		t.Errorf("Hydra saw %d token requests from 2 processes x %d goroutines; want exactly 1", got, callers)
	}
	if fetchedIn != 1 {
		t.Errorf("%d processes report a fetched token; want 1 (the other reads the keyring)", fetchedIn)
	}
	cached, err := store.Token(multiClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := vault.Fingerprint(cached.AccessToken)
	if cached.AccessToken == expired.AccessToken {
		t.Fatal("the keyring still holds the expired token")
	}
	for i, l := range all {
		if _, fp, _ := strings.Cut(l, "|"); fp != want {
			t.Errorf("call %d returned %s; want the cached token %s", i, l, want)
			break
		}
	}
}

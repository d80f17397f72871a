//go:build unix

package agent

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// runtimeFor gives the test a private XDG_RUNTIME_DIR and returns it.
func runtimeFor(t *testing.T) string {
	t.Helper()
	d, err := mkRuntime(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", d)
	return d
}

func startServer(t *testing.T, store string, opts Options) *Server {
	t.Helper()
	s, err := Listen(store)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	s.Start(opts)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestShowAndSingleInstance(t *testing.T) {
	rt := runtimeFor(t)
	store := t.TempDir()
	shown := make(chan struct{}, 1)
	s := startServer(t, store, Options{Show: func() { shown <- struct{}{} }})

	if _, err := Listen(store); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Listen = %v, want ErrRunning", err)
	}
	if err := Show(context.Background(), store); err != nil {
		t.Fatalf("Show: %v", err)
	}
	<-shown

	// Directory 0700, socket 0600.
	dir := filepath.Join(rt, "tokentray")
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, %v; want 0700", fi.Mode(), err)
	}
	sock := filepath.Join(dir, key(store)+".sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, %v; want 0600", fi.Mode(), err)
	}

	// Another store has no app.
	if err := Show(context.Background(), t.TempDir()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Show on another store = %v, want ErrNotRunning", err)
	}
	s.Close()
	if err := Show(context.Background(), store); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Show after Close = %v, want ErrNotRunning", err)
	}
	// Released: a new app can claim it.
	s2, err := Listen(store)
	if err != nil {
		t.Fatalf("Listen after Close: %v", err)
	}
	s2.Close()
}

func TestStaleSocketReplaced(t *testing.T) {
	rt := runtimeFor(t)
	store := t.TempDir()
	// A killed app leaves its socket behind: listen and close without
	// unlinking.
	dir := filepath.Join(rt, "tokentray")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, key(store)+".sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	if err := Show(context.Background(), store); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Show on a stale socket = %v, want ErrNotRunning", err)
	}
	shown := make(chan struct{}, 1)
	startServer(t, store, Options{Show: func() { shown <- struct{}{} }})
	if err := Show(context.Background(), store); err != nil {
		t.Fatalf("Show after replacing the stale socket: %v", err)
	}
	<-shown
}

func TestDirectoryOfAnotherKindRefused(t *testing.T) {
	rt := runtimeFor(t)
	// A symlink where the directory should be (someone else's directory).
	if err := os.Symlink(t.TempDir(), filepath.Join(rt, "tokentray")); err != nil {
		t.Fatal(err)
	}
	if s, err := Listen(t.TempDir()); err == nil {
		s.Close()
		t.Fatal("Listen through a symlinked directory succeeded")
	}
}

func TestDirectoryMadePrivate(t *testing.T) {
	rt := runtimeFor(t)
	dir := filepath.Join(rt, "tokentray")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	startServer(t, t.TempDir(), Options{})
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, want 0700", fi.Mode().Perm())
	}
}

func TestTokenOverSocket(t *testing.T) {
	runtimeFor(t)
	store := t.TempDir()
	src := &fakeTokens{}
	var got []Request
	var mu sync.Mutex
	s := startServer(t, store, Options{Tokens: src, OnRequest: func(r Request) { mu.Lock(); got = append(got, r); mu.Unlock() }})
	ctx := context.Background()

	tok, err := GetToken(ctx, store, "billing", refresher.TokenOptions{MinTTL: 10 * time.Minute, Scopes: []string{"models:read", "chat:invoke"}})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if tok.AccessToken != "tok-123" || tok.TokenType != "bearer" || !tok.Expiry.Equal(time.Unix(1_900_000_000, 0)) ||
		strings.Join(tok.Missing, " ") != "chat:invoke" || strings.Join(tok.Scopes, " ") != "models:read" {
		t.Errorf("GetToken = %+v", tok)
	}
	if _, err := GetToken(ctx, store, "billing", refresher.TokenOptions{}); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	if len(src.asked) != 2 || src.asked[0].MinTTL != 10*time.Minute || strings.Join(src.asked[0].Scopes, " ") != "models:read chat:invoke" ||
		src.asked[1].Scopes != nil || src.asked[1].MinTTL != 0 {
		t.Errorf("the refresher was asked %+v", src.asked)
	}
	src.mu.Unlock()

	// A classified failure keeps its class (and so the exit code).
	_, err = GetToken(ctx, store, "rejected", refresher.TokenOptions{})
	var ae *Error
	var re *refresher.Error
	if !errors.As(err, &ae) || ae.Fallback() || !errors.As(err, &re) || re.Class != refresher.ClassRejected ||
		!strings.Contains(ae.Message(), `credentials of "rejected" (invalid_client)`) {
		t.Errorf("GetToken(rejected) = %v, want a rejected-class *Error with the refresher's sentence", err)
	}
	// A client the app does not know: the caller falls back.
	_, err = GetToken(ctx, store, "nobody", refresher.TokenOptions{})
	if !errors.As(err, &ae) || !ae.Fallback() || errors.As(err, &re) {
		t.Errorf("GetToken(nobody) = %v, want a fallback *Error", err)
	}

	rec := s.Recent()
	if len(rec) != 4 || rec[0].Client != "nobody" || rec[0].Outcome != classUnknown || rec[1].Outcome != "rejected" ||
		rec[3].Fingerprint != vault.Fingerprint("tok-123") || rec[3].Outcome != "ok" {
		t.Errorf("Recent = %+v", rec)
	}
	for _, r := range rec {
		if strings.Contains(r.Fingerprint, "tok-123") {
			t.Errorf("a whole token is recorded: %+v", r)
		}
	}
	mu.Lock()
	if len(got) != 4 {
		t.Errorf("OnRequest called %d times, want 4", len(got))
	}
	mu.Unlock()
}

func TestUnsupportedWithoutHandlers(t *testing.T) {
	runtimeFor(t)
	store := t.TempDir()
	startServer(t, store, Options{})
	var ae *Error
	if err := Show(context.Background(), store); !errors.As(err, &ae) || ae.Class != classUnsupport {
		t.Errorf("Show = %v, want unsupported", err)
	}
	if _, err := GetToken(context.Background(), store, "billing", refresher.TokenOptions{}); !errors.As(err, &ae) || !ae.Fallback() {
		t.Errorf("GetToken = %v, want a fallback error", err)
	}
}

// rawExchange sends raw bytes to the store's socket and returns what comes
// back before the server closes.
func rawExchange(t *testing.T, store, send string) string {
	t.Helper()
	tr, _ := newTransport(store)
	c, err := net.Dial("unix", tr.(*unixTransport).socketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		io.WriteString(c, send)
		c.(*net.UnixConn).CloseWrite()
	}()
	b, _ := io.ReadAll(bufio.NewReader(io.LimitReader(c, maxAnswer)))
	return string(b)
}

func TestHostileRequests(t *testing.T) {
	runtimeFor(t)
	store := t.TempDir()
	src := &fakeTokens{}
	startServer(t, store, Options{Tokens: src})
	for _, tc := range []struct{ send, want string }{
		{strings.Repeat("A", 2*maxRequest), "TT1 err class=bad-request"},
		{"TT1 token name=billing&secret=1\n", "TT1 err class=bad-request"},
		{"TT7 show\n", "TT1 err class=version"},
		{"GET / HTTP/1.1\r\n", "TT1 err class=bad-request"},
		{"TT1 token name=billing", ""}, // no newline, then EOF: nothing served
	} {
		if got := rawExchange(t, store, tc.send); !strings.HasPrefix(got, tc.want) || (tc.want == "" && got != "") {
			t.Errorf("sent %q: got %q, want %q...", clip(tc.send, 40), got, tc.want)
		}
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.asked) != 0 {
		t.Errorf("hostile requests reached the refresher: %+v", src.asked)
	}
}

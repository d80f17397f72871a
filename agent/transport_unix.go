//go:build unix

package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// dialTimeout bounds connecting to the socket: a live app accepts at once.
const dialTimeout = 100 * time.Millisecond

// unixTransport is a unix socket in a private per-user directory.
type unixTransport struct {
	dir  string // 0700, owned by the user
	name string // the key
}

func newTransport(storeDir string) (transport, error) {
	return &unixTransport{dir: runtimeDir(), name: key(storeDir)}, nil
}

// runtimeDir is $XDG_RUNTIME_DIR/tokentray, else $TMPDIR/tokentray-UID.
func runtimeDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "tokentray")
	}
	return filepath.Join(os.TempDir(), "tokentray-"+strconv.Itoa(os.Getuid()))
}

func (t *unixTransport) socketPath() string { return filepath.Join(t.dir, t.name+".sock") }
func (t *unixTransport) lockPath() string   { return filepath.Join(t.dir, t.name+".lock") }

// prepare creates the directory 0700 and checks that it is a real
// directory of this user's that nobody else can enter (a directory under
// a shared /tmp may have been made by someone else first).
func (t *unixTransport) prepare() error {
	if err := os.Mkdir(t.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("agent: create %s: %w", t.dir, err)
	}
	return checkPrivateDir(t.dir)
}

// checkPrivateDir checks that dir is a directory (not a symlink) owned by
// this user, and takes group and other permissions away if it has them.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("agent: %s is not a directory: remove it", dir)
	case !ok || int(st.Uid) != os.Getuid():
		return fmt.Errorf("agent: %s belongs to another user: remove it, or set XDG_RUNTIME_DIR to a private directory", dir)
	case fi.Mode().Perm()&0o077 != 0:
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("agent: make %s private: %w", dir, err)
		}
	}
	return nil
}

// listen replaces a stale socket (the lock is ours, so its owner is gone;
// a socket that still answers means an app that holds no lock, and is left
// alone) and listens with mode 0600.
func (t *unixTransport) listen() (net.Listener, error) {
	path := t.socketPath()
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("agent: %s is not a socket: remove it", path)
		}
		if c, err := net.DialTimeout("unix", path, dialTimeout); err == nil {
			c.Close()
			return nil, ErrRunning
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("agent: remove stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("agent: listen: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("agent: listen: %w", err)
	}
	return ln, nil
}

// dial connects and checks that the listener is this user's.
func (t *unixTransport) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "unix", t.socketPath())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRunning, err)
	}
	if err := checkPeer(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (t *unixTransport) authenticate(c net.Conn, _ *bufio.Reader) error { return checkPeer(c) }

// cleanup is left to the listener, which unlinks its socket on Close.
func (t *unixTransport) cleanup() {}

// checkPeer checks that the process at the other end of c runs as this
// user.
func checkPeer(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return errors.New("agent: not a unix socket")
	}
	uid, err := peerUID(uc)
	if err != nil {
		return fmt.Errorf("agent: peer credentials: %w", err)
	}
	if uid != os.Getuid() {
		return fmt.Errorf("agent: peer runs as uid %d, not %d", uid, os.Getuid())
	}
	return nil
}

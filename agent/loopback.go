package agent

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// loopbackTransport is the Windows endpoint (and testable anywhere): a TCP
// listener on 127.0.0.1 whose port and a random secret are in a file only
// the user can read. A client proves it read the file by sending the
// secret as its first line; it dials only while the lock is held, so it
// never sends the secret to a port that a dead app's successor took.
type loopbackTransport struct {
	dir    string // in the user's profile
	name   string // the key
	secret string // hex; set by listen
}

const (
	secretBytes = 32
	maxPortFile = 256
)

func (t *loopbackTransport) portPath() string { return filepath.Join(t.dir, t.name+".port") }
func (t *loopbackTransport) lockPath() string { return filepath.Join(t.dir, t.name+".lock") }

func (t *loopbackTransport) prepare() error {
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return fmt.Errorf("agent: create %s: %w", t.dir, err)
	}
	return nil
}

func (t *loopbackTransport) listen() (net.Listener, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("agent: secret: %w", err)
	}
	t.secret = hex.EncodeToString(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("agent: listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	tmp := t.portPath() + ".tmp"
	data := strconv.Itoa(port) + " " + t.secret + "\n"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("agent: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, t.portPath()); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("agent: write %s: %w", t.portPath(), err)
	}
	return ln, nil
}

func (t *loopbackTransport) dial(ctx context.Context) (net.Conn, error) {
	// Only while an app holds the lock: else the port may be anyone's.
	fl := flock.New(t.lockPath())
	if ok, err := fl.TryLock(); err == nil && ok {
		fl.Unlock()
		return nil, ErrNotRunning
	}
	port, secret, err := readPortFile(t.portPath())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRunning, err)
	}
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRunning, err)
	}
	if _, err := io.WriteString(c, secret+"\n"); err != nil {
		c.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	return c, nil
}

// readPortFile reads "PORT SECRET\n", every byte of it checked.
func readPortFile(path string) (port int, secret string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPortFile))
	if err != nil {
		return 0, "", err
	}
	p, s, ok := strings.Cut(strings.TrimSuffix(string(b), "\n"), " ")
	port, err = strconv.Atoi(p)
	if !ok || err != nil || port < 1 || port > 65535 || len(s) != 2*secretBytes {
		return 0, "", errors.New("agent: malformed port file")
	}
	if _, err := hex.DecodeString(s); err != nil {
		return 0, "", errors.New("agent: malformed port file")
	}
	return port, s, nil
}

func (t *loopbackTransport) authenticate(c net.Conn, r *bufio.Reader) error {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		return errors.New("agent: peer is not on loopback")
	}
	line, err := readLine(r, 2*secretBytes+1)
	if err != nil {
		return fmt.Errorf("agent: read secret: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(line), []byte(t.secret)) != 1 {
		return errors.New("agent: wrong secret")
	}
	return nil
}

func (t *loopbackTransport) cleanup() { os.Remove(t.portPath()) }

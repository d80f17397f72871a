package agent

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"strings"
)

// transport is the local IPC under the protocol: a unix socket, or a
// loopback TCP port with a shared secret on Windows.
type transport interface {
	// prepare creates the endpoint's directory (server side).
	prepare() error
	// lockPath is the file whose lock marks the running app.
	lockPath() string
	// listen starts listening; called with the lock held.
	listen() (net.Listener, error)
	// dial connects to the running app, or returns an error wrapping
	// ErrNotRunning when nothing listens.
	dial(ctx context.Context) (net.Conn, error)
	// authenticate checks a newly accepted connection's peer (server
	// side); r reads the connection.
	authenticate(c net.Conn, r *bufio.Reader) error
	// cleanup removes what listen left on disk.
	cleanup()
}

// key names a store's endpoint: a hash of the store directory's absolute,
// symlink-free path.
func key(storeDir string) string {
	if abs, err := filepath.Abs(storeDir); err == nil {
		storeDir = abs
	}
	if real, err := filepath.EvalSymlinks(storeDir); err == nil {
		storeDir = real
	}
	storeDir = filepath.Clean(storeDir)
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		storeDir = strings.ToLower(storeDir) // case-insensitive file systems
	}
	sum := sha256.Sum256([]byte(storeDir))
	return hex.EncodeToString(sum[:6])
}

// readLine reads one line of at most max bytes (newline included) and
// returns it without the newline. A longer line is an error.
func readLine(r *bufio.Reader, max int) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return "", errTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return string(line[:len(line)-1]), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return "", io.ErrUnexpectedEOF
		default:
			return "", err
		}
	}
}

var errTooLong = errors.New("agent: line too long")

//go:build unix && !linux && !darwin

package agent

import (
	"errors"
	"net"
)

// peerUID is not implemented on this system: every peer is refused.
func peerUID(*net.UnixConn) (int, error) {
	return -1, errors.New("peer credentials are not supported on this system")
}

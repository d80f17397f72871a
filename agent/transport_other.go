//go:build !unix && !windows

package agent

import (
	"errors"
	"time"
)

const dialTimeout = 100 * time.Millisecond

func newTransport(string) (transport, error) {
	return nil, errors.New("agent: no local endpoint on this system")
}

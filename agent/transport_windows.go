package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// dialTimeout bounds connecting: a live app accepts at once.
const dialTimeout = 100 * time.Millisecond

func newTransport(storeDir string) (transport, error) {
	base, err := os.UserCacheDir() // %LocalAppData%: the user's profile
	if err != nil {
		return nil, fmt.Errorf("agent: no local application data directory: %w", err)
	}
	return &loopbackTransport{dir: filepath.Join(base, "tokentray"), name: key(storeDir)}, nil
}

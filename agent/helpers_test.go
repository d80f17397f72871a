package agent

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// fakeTokens serves a fixed token for "billing", a classified failure for
// "rejected", and ErrNoClient for anything else; it records what it was
// asked.
type fakeTokens struct {
	mu    sync.Mutex // guards asked
	asked []refresher.TokenOptions
}

func (f *fakeTokens) Token(_ context.Context, name string, opts refresher.TokenOptions) (refresher.Result, error) {
	f.mu.Lock()
	f.asked = append(f.asked, opts)
	f.mu.Unlock()
	switch name {
	case "billing":
		return refresher.Result{
			Token:   vault.Token{AccessToken: "tok-123", TokenType: "bearer", Expiry: time.Unix(1_900_000_000, 0), Scopes: []string{"models:read"}},
			Missing: []string{"chat:invoke"},
		}, nil
	case "rejected":
		return refresher.Result{}, &refresher.Error{Class: refresher.ClassRejected, Client: name, Host: "auth.example.com", Code: "invalid_client"}
	}
	return refresher.Result{}, vault.ErrNoClient
}

// mkRuntime makes a short-named directory (socket paths are limited to
// about 100 bytes) removed at the end of tb.
func mkRuntime(tb testing.TB) (string, error) {
	d, err := os.MkdirTemp("", "tt")
	if err == nil {
		tb.Cleanup(func() { os.RemoveAll(d) })
	}
	return d, err
}

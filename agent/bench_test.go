//go:build unix

package agent

import (
	"context"
	"testing"

	"github.com/tokentray/tokentray/refresher"
)

// BenchmarkGetToken is one token request over the socket to a server
// answering from memory: the agent's share of a warm `tokentray token`.
func BenchmarkGetToken(b *testing.B) {
	d, err := mkRuntime(b)
	if err != nil {
		b.Fatal(err)
	}
	b.Setenv("XDG_RUNTIME_DIR", d)
	store := b.TempDir()
	s, err := Listen(store)
	if err != nil {
		b.Fatal(err)
	}
	s.Start(Options{Tokens: &fakeTokens{}})
	defer s.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := GetToken(ctx, store, "billing", refresher.TokenOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

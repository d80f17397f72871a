package cli

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// BenchmarkRunTokenWarm is `tokentray token NAME` on a warm cache, in
// process, on the fake keyring: argument parsing, opening the store, the
// refresher and one keyring read: what the command line adds beyond process
// start and the real keyring. It asserts that no token request was made.
func BenchmarkRunTokenWarm(b *testing.B) {
	h := newHarness(b)
	dir := h.dir
	s, err := vault.Open(dir, h.kr)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Add(vault.Client{Name: "bench", ClientID: "m2m-client-test-bench", TokenURL: h.ts.tokenURL()}, "secret"); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	if err := s.SetToken("bench", nil, vault.Token{AccessToken: "cached", TokenType: "bearer", Expiry: now.Add(time.Hour), FetchedAt: now}); err != nil {
		b.Fatal(err)
	}
	args := []string{"--config", dir, "token", "bench"}
	var out strings.Builder
	e := h.env(strings.NewReader(""), &out, io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if code := run(context.Background(), e, args); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	if out.String() != "cached\n" || h.ts.requests() != 0 {
		b.Fatalf("stdout %q after %d token requests; want the cached token and none", out.String(), h.ts.requests())
	}
}

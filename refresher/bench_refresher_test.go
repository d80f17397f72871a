package refresher_test

// Benchmarks of the refresher (figures, not assertions; see
// docs/PERFORMANCE.md for the numbers and the command):
//
//	go test -run '^$' -bench . -benchtime 500ms -count 3 ./refresher/
//
// The Secret Service variant runs only with a session bus (see
// shared/HEADLESS.md for the dbus-run-session recipe).

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// benchServer is an in-process token endpoint. It answers every request
// with a fresh JWT-shaped token (about 700 bytes, like the platform's); the
// lifetime is 1h, or lifetimeHot for clients whose id starts with "hot-".
type benchServer struct {
	requests atomic.Int64
	n        atomic.Int64 // token serial
}

const lifetimeHot = 60 // seconds: always inside the 5 minute margin, so due at every sweep

func (s *benchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("client_id")
	if id == "" {
		id, _, _ = r.BasicAuth()
	}
	life := 3600
	if strings.HasPrefix(id, "hot-") {
		life = lifetimeHot
	}
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{
		"iss": "https://auth.example.com/", "sub": id, "aud": []string{"https://api.example.com"},
		"iat": now, "exp": now + int64(life), "jti": fmt.Sprint(s.n.Add(1)),
		"scope": r.PostForm.Get("scope"),
	})
	sig := make([]byte, 256) // an RS256 signature's size
	tok := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"k1"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(claims) + "." + base64.RawURLEncoding.EncodeToString(sig)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": life})
}

// benchEnv is a token server and a store with n clients named c0000...,
// the first hot of them with short-lived tokens. The index is written in
// one go (Add would rewrite it n times) and the secrets go straight to kr.
func benchEnv(b *testing.B, kr vault.Keyring, n, hot int) (*benchServer, *vault.Store) {
	b.Helper()
	srv := &benchServer{}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	dir := b.TempDir()
	now := time.Now().UTC()
	clients := make([]vault.Client, n)
	for i := range clients {
		id := fmt.Sprintf("m2m-client-test-%04d", i)
		if i < hot {
			id = "hot-" + id
		}
		clients[i] = vault.Client{
			Name: fmt.Sprintf("c%04d", i), ClientID: id, TokenURL: ts.URL + "/token",
			Scopes: []string{"models:read", "chat:invoke"}, AuthStyle: vault.AuthBody,
			SecretSetAt: now, CreatedAt: now,
		}
	}
	data, err := vault.EncodeIndex(clients)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, vault.IndexFile), data, 0o600); err != nil {
		b.Fatal(err)
	}
	for _, c := range clients {
		if err := kr.Set(vault.SecretKey(c.Name), "secret-"+c.Name); err != nil {
			b.Fatal(err)
		}
	}
	store, err := vault.Open(dir, kr)
	if err != nil {
		b.Fatal(err)
	}
	return srv, store
}

func benchRefresher(b *testing.B, store *vault.Store) *refresher.Refresher {
	b.Helper()
	r := refresher.New(refresher.Options{Store: store, Jitter: -1})
	b.Cleanup(func() { _ = r.Close() })
	return r
}

func benchWantSource(b *testing.B, res refresher.Result, err error, want refresher.Origin) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	if res.Source != want {
		b.Fatalf("source %q; want %q", res.Source, want)
	}
}

// Token served from memory: what the GUI's "Copy token" and a long-running
// process pay.
func BenchmarkTokenMemory(b *testing.B) {
	_, store := benchEnv(b, vaulttest.New(), 1, 0)
	r := benchRefresher(b, store)
	ctx := context.Background()
	res, err := r.Token(ctx, "c0000", refresher.TokenOptions{})
	benchWantSource(b, res, err, refresher.FromFetch)
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			res, err := r.Token(ctx, "c0000", refresher.TokenOptions{})
			benchWantSource(b, res, err, refresher.FromMemory)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := r.Token(ctx, "c0000", refresher.TokenOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// benchKeyringCache measures what `tokentray token NAME` pays in a new
// process with a good token in the keyring: open the store (read the index
// file), a new Refresher, one keyring read.
func benchKeyringCache(b *testing.B, kr vault.Keyring) {
	srv, store := benchEnv(b, kr, 1, 0)
	ctx := context.Background()
	res, err := benchRefresher(b, store).Token(ctx, "c0000", refresher.TokenOptions{})
	benchWantSource(b, res, err, refresher.FromFetch)
	b.Cleanup(func() { _ = store.Remove("c0000") })
	for b.Loop() {
		s, err := vault.Open(store.Dir(), kr)
		if err != nil {
			b.Fatal(err)
		}
		r := refresher.New(refresher.Options{Store: s})
		res, err := r.Token(ctx, "c0000", refresher.TokenOptions{})
		benchWantSource(b, res, err, refresher.FromKeyring)
		_ = r.Close()
	}
	if n := srv.requests.Load(); n != 1 {
		b.Fatalf("%d token requests; want 1", n)
	}
}

// Token from the keyring cache, fake keyring (in memory).
func BenchmarkTokenKeyringFake(b *testing.B) { benchKeyringCache(b, vaulttest.New()) }

// Token from the keyring cache, the real Secret Service (gnome-keyring over
// D-Bus) under a service name of its own.
func BenchmarkTokenKeyringSecretService(b *testing.B) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		b.Skip("no session bus: run under dbus-run-session with an unlocked gnome-keyring (shared/HEADLESS.md)")
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	benchKeyringCache(b, vault.NewSystemKeyring("io.github.tokentray.bench-"+hex.EncodeToString(buf)))
}

// A fetch from an in-process token endpoint (Force): file lock, keyring
// re-read, HTTP request on a kept-alive connection, JWT decoding, keyring
// write.
func BenchmarkTokenFetch(b *testing.B) {
	srv, store := benchEnv(b, vaulttest.New(), 1, 0)
	r := benchRefresher(b, store)
	ctx := context.Background()
	for b.Loop() {
		res, err := r.Token(ctx, "c0000", refresher.TokenOptions{Force: true})
		benchWantSource(b, res, err, refresher.FromFetch)
	}
	b.ReportMetric(float64(srv.requests.Load())/float64(b.N), "requests/op")
}

// One sweep over 1,000 clients of which 0, 10 or 1,000 are due. Due clients
// get 60 s tokens, inside the 5 minute margin, so they are due again at the
// next sweep: every sweep fetches exactly that many. The cost must follow
// the due ones, not the 1,000.
func BenchmarkSweep1000(b *testing.B) {
	const n = 1000
	for _, due := range []int{0, 10, 1000} {
		b.Run(fmt.Sprintf("due=%d", due), func(b *testing.B) {
			srv, store := benchEnv(b, vaulttest.New(), n, due)
			r := benchRefresher(b, store)
			ctx := context.Background()
			if err := r.Reload(); err != nil {
				b.Fatal(err)
			}
			if got := r.Sweep(ctx); got != n { // the first sweep fetches every token
				b.Fatalf("first sweep: %d due; want %d", got, n)
			}
			if got := srv.requests.Load(); got != n {
				b.Fatalf("first sweep: %d token requests; want %d", got, n)
			}
			srv.requests.Store(0)
			for b.Loop() {
				if got := r.Sweep(ctx); got != due {
					b.Fatalf("sweep: %d due; want %d", got, due)
				}
			}
			b.ReportMetric(float64(srv.requests.Load())/float64(b.N), "fetches/op")
		})
	}
}

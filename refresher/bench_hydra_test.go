package refresher_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokentray/tokentray/hydratest"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// BenchmarkHydraFill measures a first fill: every client of a store gets its
// first token from a real Ory Hydra in one sweep, against a bare
// x/oauth2 clientcredentials program fetching the same tokens 8 at a time
// (the server's pace). The refresher runs with MaxInFlight 4 (the old
// default) and 8, a subscriber draining every snapshot as the window does,
// and the Secret Service keyring when a session bus is there (else the
// in-memory fake). TOKENTRAY_BENCH_CLIENTS sets the number of clients
// (default 200). Run it with the real keyring and Hydra:
//
//	TOKENTRAY_BENCH_CLIENTS=1000 /work/wt/_notes/ktest.sh -run '^$' -bench HydraFill -benchtime 1x ./refresher/
func BenchmarkHydraFill(b *testing.B) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("TOKENTRAY_BENCH_CLIENTS")); err == nil && v > 0 {
		n = v
	}
	h := hydratest.Start(b)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m2m-client-fill-%04d", i)
		h.CreateClient(b, ids[i], hydraSecret, hydraScopes, "client_secret_post")
	}
	b.Run("bare-x-oauth2-8", func(b *testing.B) {
		hc := refresher.NewHTTPClient(30 * time.Second)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
		for b.Loop() {
			sem := make(chan struct{}, 8)
			var wg sync.WaitGroup
			for _, id := range ids {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					cfg := clientcredentials.Config{ClientID: id, ClientSecret: hydraSecret,
						TokenURL: h.DirectTokenURL(), Scopes: hydraScopes}
					if _, err := cfg.Token(ctx); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
		b.ReportMetric(float64(n), "tokens/op")
	})
	for _, inFlight := range []int{4, 8} {
		b.Run(fmt.Sprintf("refresher-inflight-%d", inFlight), func(b *testing.B) {
			kr := fillKeyring(b)
			clients := make([]vault.Client, n)
			now := time.Now().UTC()
			for i, id := range ids {
				clients[i] = vault.Client{Name: fmt.Sprintf("c%04d", i), ClientID: id, TokenURL: h.DirectTokenURL(),
					Scopes: hydraScopes, AuthStyle: vault.AuthBody, SecretSetAt: now, CreatedAt: now}
			}
			store := fillStore(b, kr, clients)
			b.Cleanup(func() {
				for _, c := range clients {
					_ = store.Remove(c.Name)
				}
			})
			for b.Loop() {
				b.StopTimer()
				for _, c := range clients {
					if err := store.DeleteToken(c.Name, nil); err != nil {
						b.Fatal(err)
					}
				}
				r := refresher.New(refresher.Options{Store: store, MaxInFlight: inFlight,
					HTTPClient: refresher.NewHTTPClient(30 * time.Second)})
				if err := r.Reload(); err != nil {
					b.Fatal(err)
				}
				sub := r.Subscribe()
				snapshots := 0
				drained := make(chan struct{})
				go func() {
					defer close(drained)
					for range sub.C() {
						snapshots++
					}
				}()
				b.StartTimer()
				if got := r.Sweep(context.Background()); got != n {
					b.Fatalf("sweep: %d due; want %d", got, n)
				}
				b.StopTimer()
				sub.Close()
				<-drained
				for _, st := range r.States() {
					if st.Err != nil {
						b.Fatalf("%s: %v", st.Client.Name, st.Err)
					}
				}
				_ = r.Close()
				b.ReportMetric(float64(snapshots)/float64(n), "snapshots/token")
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "tokens/op")
		})
	}
}

// fillKeyring is the Secret Service under a service name of its own when a
// session bus is there, else the in-memory fake.
func fillKeyring(b *testing.B) vault.Keyring {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		b.Log("no session bus: the in-memory keyring")
		return vaulttest.New()
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	return vault.NewSystemKeyring("io.github.tokentray.bench-" + hex.EncodeToString(buf))
}

// fillStore writes the index in one go and the secrets straight to kr.
func fillStore(b *testing.B, kr vault.Keyring, clients []vault.Client) *vault.Store {
	b.Helper()
	dir := b.TempDir()
	data, err := vault.EncodeIndex(clients)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(dir+"/"+vault.IndexFile, data, 0o600); err != nil {
		b.Fatal(err)
	}
	for _, c := range clients {
		if err := kr.Set(vault.SecretKey(c.Name), hydraSecret); err != nil {
			b.Fatal(err)
		}
	}
	store, err := vault.Open(dir, kr)
	if err != nil {
		b.Fatal(err)
	}
	return store
}

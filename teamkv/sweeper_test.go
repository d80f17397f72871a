package teamkv

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokentray/tokentray/vault/vaulttest"
)

// sealedVault answers every request with 503, as a sealed Vault does, and
// counts them.
type sealedVault struct{ n atomic.Int64 }

func (v *sealedVault) RoundTrip(r *http.Request) (*http.Response, error) {
	v.n.Add(1)
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"errors":["Vault is sealed"]}`)), Request: r}, nil
}

func TestSweeperSweepsOnItsInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kr := vaulttest.New()
		v := &sealedVault{}
		team, err := New(t.TempDir(), Config{Name: "acme", Addr: "https://vault.example.com", Mount: "secret", Prefix: "p/",
			SweepInterval: Duration(time.Minute)}, kr, Options{Transport: v})
		if err != nil {
			t.Fatal(err)
		}
		if err := kr.Set(tokenKey("acme"), "hvs.test"); err != nil {
			t.Fatal(err)
		}
		var warnings []string
		s := &Sweeper{Teams: []*Team{team}, OnWarn: func(m string) { warnings = append(warnings, m) }}
		ctx, cancel := context.WithCancel(context.Background())
		go s.Run(ctx)
		synctest.Wait()
		if got := v.n.Load(); got != 1 {
			t.Fatalf("requests at start = %d, want 1 (the index read)", got)
		}
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if got := v.n.Load(); got != 6 {
			t.Fatalf("requests after 5 intervals = %d, want 6", got)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "offline since") {
			t.Fatalf("warnings = %q, want one 'offline since'", warnings)
		}
		cancel()
		synctest.Wait()
	})
}

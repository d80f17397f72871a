package authproxy_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/authproxy"
	"github.com/tokentray/tokentray/demo"
	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// TestProxyWithRealTokenServer runs the proxy on a refresher whose tokens
// come from the demo authorization server (fosite): the upstream sees the
// token the refresher caches, and after the upstream refuses it, a newly
// fetched one.
func TestProxyWithRealTokenServer(t *testing.T) {
	srv, err := demoserver.New(demoserver.Options{TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	st, err := vault.Open(t.TempDir(), vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(srv, st); err != nil {
		t.Fatal(err)
	}
	name := srv.Clients()[0].Name
	r := refresher.New(refresher.Options{Store: st, HTTPClient: refresher.NewHTTPClient(10 * time.Second)})
	t.Cleanup(func() { r.Close() })

	up := newUpstream(t)
	base := serve(t, authproxy.Options{Upstream: up.URL, Tokens: authproxy.RefresherTokens(r, name, refresher.TokenOptions{})}, up)

	for range 3 {
		if code, body := do(t, mustRequest(http.MethodGet, base+"/v1/models", nil)); code != http.StatusOK {
			t.Fatalf("got %d %q; want 200", code, body)
		}
	}
	cached, err := r.Token(context.Background(), name, refresher.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := up.requests()
	for i, g := range got {
		if g.auth != "Bearer "+cached.Token.AccessToken {
			t.Errorf("request %d carried %.20q…; want the cached token", i, g.auth)
		}
	}
	if n := srv.Stats(srv.Clients()[0].ID).Requests; n != 1 {
		t.Errorf("token server saw %d requests for 3 proxied calls; want 1", n)
	}

	// The upstream revokes the cached token: one forced fetch, a retry.
	up.mu.Lock()
	up.reject["Bearer "+cached.Token.AccessToken] = true
	up.mu.Unlock()
	if code, body := do(t, mustRequest(http.MethodGet, base+"/v1/models", nil)); code != http.StatusOK {
		t.Fatalf("after revocation: got %d %q; want 200", code, body)
	}
	last := up.requests()[len(up.requests())-1]
	if last.auth == "Bearer "+cached.Token.AccessToken || !strings.HasPrefix(last.auth, "Bearer ey") {
		t.Errorf("retry carried %.20q…; want a new JWT", last.auth)
	}
	if n := srv.Stats(srv.Clients()[0].ID).Requests; n != 2 {
		t.Errorf("token server saw %d requests; want 2 (first fill, one forced)", n)
	}
}

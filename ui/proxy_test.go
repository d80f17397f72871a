package ui

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// upstream is a real API on loopback that records the Authorization header
// and path of each request.
type upstream struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
	paths []string
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.auths = append(u.auths, r.Header.Get("Authorization"))
		u.paths = append(u.paths, r.URL.Path)
		u.mu.Unlock()
		_, _ = io.WriteString(w, "hello from the API")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last() (auth, path string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.auths) == 0 {
		return "", ""
	}
	return u.auths[len(u.auths)-1], u.paths[len(u.paths)-1]
}

// get sends a GET with a token of the caller's own, which the proxy must drop.
func get(url string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer the-callers-own")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// The details' Local proxy switch runs authproxy for the client with the
// upstream typed in: requests get the client's token, the URL can be
// copied, unticking stops it, a plain-http remote upstream is refused, and
// Stop (after Quit) ends it.
func TestLocalProxySwitch(t *testing.T) {
	api := newUpstream(t)
	r := newRig(t, state("alpha", refresher.PhaseFresh, time.Hour))
	r.src.tokens["alpha"] = refresher.Result{Token: vault.Token{AccessToken: "tok-alpha", TokenType: "Bearer", Expiry: t0.Add(time.Hour)}}
	onUI := make(chan func(), 10)
	r.ui.do = func(f func()) { onUI <- f }
	r.ui.selectClient("alpha")
	v := r.ui.proxyViews["alpha"]
	if v == nil || !strings.Contains(allText(r.ui.details.root), "Local proxy") {
		t.Fatal("the details have no Local proxy section")
	}

	v.upstream.SetText("http://api.example.com")
	v.on.SetChecked(true)
	if r.ui.proxies["alpha"] != nil || v.on.Checked || !strings.Contains(v.msg.Text, "plain http") {
		t.Errorf("plain-http remote upstream: running %v, ticked %v, said %q; want refused", r.ui.proxies["alpha"] != nil, v.on.Checked, v.msg.Text)
	}

	v.upstream.SetText(api.URL + "/api")
	v.on.SetChecked(true)
	p := r.ui.proxies["alpha"]
	if p == nil || !strings.HasPrefix(v.url.Text, "http://127.0.0.1:") || !v.copyBtn.Visible() {
		t.Fatalf("after ticking: proxy %v, URL %q; want a loopback URL shown", p, v.url.Text)
	}
	body, err := get(v.url.Text + "/v1/models")
	if err != nil || body != "hello from the API" {
		t.Fatalf("GET through the proxy: %q, %v", body, err)
	}
	if auth, path := api.last(); auth != "Bearer tok-alpha" || path != "/api/v1/models" {
		t.Errorf("upstream got Authorization %q, path %q; want the client's token and the upstream's prefix", auth, path)
	}
	test.Tap(v.copyBtn)
	if got := r.app.Clipboard().Content(); got != p.url {
		t.Errorf("clipboard after Copy URL: %q; want %q", got, p.url)
	}

	// A snapshot redraws the details: the section (and the switch) stay.
	st := r.ui.states["alpha"]
	st.FetchedAt = st.FetchedAt.Add(time.Second)
	r.ui.apply([]refresher.State{st})
	if r.ui.proxyViews["alpha"] != v || !v.on.Checked {
		t.Error("a snapshot replaced the proxy section or unticked it")
	}

	v.on.SetChecked(false)
	if r.ui.proxies["alpha"] != nil || v.url.Visible() {
		t.Errorf("after unticking: still running or URL shown")
	}
	v.on.SetChecked(true) // again: the same port as before
	if r.ui.proxies["alpha"] == nil || r.ui.proxies["alpha"].url != p.url {
		t.Errorf("restarted proxy at %v; want the same URL %s", r.ui.proxies["alpha"], p.url)
	}
	r.ui.Stop() // what main does after Quit: it waits for the proxy to end
	if _, err := get(p.url + "/v1/models"); err == nil {
		t.Error("the proxy still answers after Stop")
	}
}

// The proxy hands out real tokens from the demo's token server through the
// real refresher.
func TestLocalProxyWithTheDemoServer(t *testing.T) {
	api := newUpstream(t)
	c := demoserver.Client{Name: "billing", ID: "m2m-client-test-billing", Secret: demoserver.NewSecret(),
		Scopes: []string{"chat:invoke"}, Auth: demoserver.AuthBasic}
	oauth, err := demoserver.New(demoserver.Options{Addr: "127.0.0.1:0", Clients: []demoserver.Client{c}})
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = oauth.Close() })
	r := newRig(t)
	if err := r.store.Add(vault.Client{Name: "billing", ClientID: c.ID, TokenURL: oauth.TokenURL(), Scopes: c.Scopes}, c.Secret); err != nil {
		t.Fatal(err)
	}
	ref := refresher.New(refresher.Options{Store: r.store, HTTPClient: http.DefaultClient})
	if err := ref.Reload(); err != nil {
		t.Fatal(err)
	}
	u := New(r.app, Options{Store: r.store, Refresher: ref, TimeSource: realTime{}})
	u.async = func(f func()) { f() }
	u.do = func(func()) {}
	u.every = func(context.Context, time.Duration, func()) {}
	defer u.Stop()
	url, err := u.startProxy("billing", api.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(url + "/v1/chat"); err != nil {
		t.Fatal(err)
	}
	res, err := ref.Token(context.Background(), "billing", refresher.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if auth, _ := api.last(); auth != "Bearer "+res.Token.AccessToken || strings.Contains(auth, c.Secret) {
		t.Errorf("upstream got %q; want the demo server's token for billing", auth)
	}
}

package authproxy_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tokentray/tokentray/authproxy"
)

// tokens is a Tokens that hands out tok-1, tok-2, ... (a new one when
// forced) or fails with err.
type tokens struct {
	mu     sync.Mutex // guards the fields below
	n      int        // tokens issued
	forced int        // forced calls
	err    error
}

func (t *tokens) Token(_ context.Context, force bool) (string, string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return "", "", t.err
	}
	if force {
		t.forced++
	}
	if t.n == 0 || force {
		t.n++
	}
	return fmt.Sprintf("tok-%d", t.n), "bearer", nil
}

// seen is one request the upstream received.
type seen struct {
	method, path, query, auth, proxyAuth, host, body string
}

// upstream is a real TLS server on loopback that records what it gets and
// answers 401 to the tokens listed in reject.
type upstream struct {
	*httptest.Server
	mu     sync.Mutex      // guards the fields below
	got    []seen          // every request, in order
	reject map[string]bool // Authorization values answered with 401
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{reject: map[string]bool{}}
	u.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got = append(u.got, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"),
			r.Header.Get("Proxy-Authorization"), r.Host, string(b)})
		rejected := u.reject[r.Header.Get("Authorization")]
		u.mu.Unlock()
		if rejected {
			http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "ok %s", r.URL.Path)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) requests() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.got...)
}

// serve starts a proxy for opts on a loopback port and returns its URL.
func serve(t *testing.T, opts authproxy.Options, up *upstream) string {
	t.Helper()
	if up != nil {
		opts.Transport = up.Client().Transport
	}
	p, err := authproxy.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := authproxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return authproxy.URL(ln)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProxyAddsTokenAndDropsClientCredentials(t *testing.T) {
	up := newUpstream(t)
	tk := &tokens{}
	base := serve(t, authproxy.Options{Upstream: up.URL + "/api/", Tokens: tk}, up)

	req, _ := http.NewRequest(http.MethodPost, base+"/v1/models?limit=2", strings.NewReader(`{"q":1}`))
	req.Header.Set("Authorization", "Basic c3RvbGVuOmNyZWRz")
	req.Header.Set("Proxy-Authorization", "Basic c3RvbGVu")
	code, body := do(t, req)
	if code != http.StatusOK || body != "ok /api/v1/models" {
		t.Fatalf("got %d %q; want 200 %q", code, body, "ok /api/v1/models")
	}
	got := up.requests()
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests; want 1", len(got))
	}
	want := seen{"POST", "/api/v1/models", "limit=2", "Bearer tok-1", "", strings.TrimPrefix(up.URL, "https://"), `{"q":1}`}
	if got[0] != want {
		t.Errorf("upstream got %+v;\nwant %+v", got[0], want)
	}
}

func TestProxyRefusesOtherHostHeaders(t *testing.T) {
	// A page on evil.example whose name was rebound to 127.0.0.1 sends
	// its own Host header: the proxy must not lend it the token.
	up := newUpstream(t)
	base := serve(t, authproxy.Options{Upstream: up.URL, Tokens: &tokens{}}, up)
	port := base[strings.LastIndexByte(base, ':')+1:]
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1:1", "api.example.com"} {
		req, _ := http.NewRequest(http.MethodGet, base+"/x", nil)
		req.Host = host
		if code, _ := do(t, req); code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: got %d; want 421", host, code)
		}
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port} {
		req, _ := http.NewRequest(http.MethodGet, base+"/x", nil)
		req.Host = host
		if code, _ := do(t, req); code != http.StatusOK {
			t.Errorf("Host %q: got %d; want 200", host, code)
		}
	}
	if n := len(up.requests()); n != 2 {
		t.Errorf("upstream got %d requests; want only the 2 with the proxy's own Host", n)
	}
}

// rawRequest sends one request line and headers as they are and returns
// the status line.
func rawRequest(t *testing.T, base, request string) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", request, err)
	}
	return strings.TrimSpace(line)
}

func TestProxyIsNotAnOpenProxy(t *testing.T) {
	up := newUpstream(t)
	other := newUpstream(t)
	base := serve(t, authproxy.Options{Upstream: up.URL, Tokens: &tokens{}}, up)
	host := strings.TrimPrefix(base, "http://")
	otherHost := strings.TrimPrefix(other.URL, "https://")
	for _, req := range []string{
		"GET http://" + otherHost + "/steal HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
		"GET https://" + otherHost + "/steal HTTP/1.1\r\nHost: " + otherHost + "\r\n\r\n",
		"CONNECT " + otherHost + " HTTP/1.1\r\nHost: " + otherHost + "\r\n\r\n",
	} {
		status := rawRequest(t, base, req)
		if !strings.HasPrefix(status, "HTTP/1.1 4") {
			t.Errorf("%q: got %q; want a 4xx refusal", strings.SplitN(req, "\r\n", 2)[0], status)
		}
	}
	if n := len(other.requests()) + len(up.requests()); n != 0 {
		t.Errorf("%d requests were forwarded; want none", n)
	}
}

func TestProxyRetriesOnceWithANewTokenAfter401(t *testing.T) {
	up := newUpstream(t)
	up.reject["Bearer tok-1"] = true // the cached token was revoked
	tk := &tokens{}
	base := serve(t, authproxy.Options{Upstream: up.URL, Tokens: tk}, up)

	req, _ := http.NewRequest(http.MethodPut, base+"/items/7", strings.NewReader("payload"))
	code, body := do(t, req)
	if code != http.StatusOK {
		t.Fatalf("got %d %q; want 200 after one retry", code, body)
	}
	got := up.requests()
	if len(got) != 2 || got[0].auth != "Bearer tok-1" || got[1].auth != "Bearer tok-2" || got[1].body != "payload" {
		t.Errorf("upstream got %+v; want tok-1 then tok-2 with the same body", got)
	}

	// A token the upstream keeps refusing: one retry, then its 401.
	up.reject["Bearer tok-3"] = true
	up.reject["Bearer tok-2"] = true
	code, _ = do(t, mustRequest(http.MethodGet, base+"/items/7", nil))
	if code != http.StatusUnauthorized {
		t.Errorf("always refused: got %d; want 401", code)
	}
	if n := len(up.requests()); n != 4 {
		t.Errorf("upstream got %d requests in all; want 4 (2 + one retry)", n)
	}
	if tk.forced != 2 {
		t.Errorf("%d forced token fetches; want 2", tk.forced)
	}
}

func mustRequest(method, url string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		panic(err)
	}
	return req
}

func TestProxyDoesNotReplayABodyItDidNotKeep(t *testing.T) {
	up := newUpstream(t)
	up.reject["Bearer tok-1"] = true
	base := serve(t, authproxy.Options{Upstream: up.URL, Tokens: &tokens{}, MaxReplayBody: 4}, up)
	code, _ := do(t, mustRequest(http.MethodPost, base+"/upload", strings.NewReader("more than four bytes")))
	if code != http.StatusUnauthorized {
		t.Errorf("got %d; want the upstream's 401 passed through", code)
	}
	got := up.requests()
	if len(got) != 1 || got[0].body != "more than four bytes" {
		t.Errorf("upstream got %+v; want the one request with its whole body", got)
	}
}

func TestProxyWithoutTokenAnswers502(t *testing.T) {
	up := newUpstream(t)
	tk := &tokens{err: errors.New(`the secret of "billing" was rejected by auth.example.com (invalid_client); run: tokentray rotate billing`)}
	base := serve(t, authproxy.Options{Upstream: up.URL, Tokens: tk}, up)
	code, body := do(t, mustRequest(http.MethodGet, base+"/v1", nil))
	if code != http.StatusBadGateway || !strings.Contains(body, "tokentray rotate billing") {
		t.Errorf("got %d %q; want 502 with the refresher's advice", code, body)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream got %d requests without a token; want 0", n)
	}
}

func TestProxyUnreachableUpstream(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	base := serve(t, authproxy.Options{Upstream: "http://" + addr, Tokens: &tokens{}}, nil)
	code, body := do(t, mustRequest(http.MethodGet, base+"/v1", nil))
	if code != http.StatusBadGateway || !strings.Contains(body, "cannot reach "+addr) || strings.Contains(body, "dial tcp") {
		t.Errorf("got %d %q; want 502 naming %s without Go's dial prefix", code, body, addr)
	}
}

func TestCheckUpstream(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"https://api.example.com", true},
		{"https://api.example.com/base/", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080/x", true},
		{"http://[::1]:8080", true},
		{"http://api.example.com", false},
		{"http://127.0.0.1.nip.io", false},
		{"https://user:pw@api.example.com", false},
		{"https://api.example.com/?x=1", false},
		{"ftp://api.example.com", false},
		{"api.example.com", false},
		{"", false},
	} {
		_, err := authproxy.CheckUpstream(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("CheckUpstream(%q) = %v; want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:8787", "example.com:80", "127.0.0.1"} {
		if ln, err := authproxy.Listen(addr); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) succeeded; want a refusal", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := authproxy.Listen(addr)
		if err != nil {
			t.Errorf("Listen(%q): %v", addr, err)
			continue
		}
		ln.Close()
	}
}

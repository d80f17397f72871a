// Package authproxy is a reverse proxy on the loopback interface that adds
// `Authorization: <type> <fresh token>` to every request it forwards to one
// upstream API, so curl, Postman, a browser or a test suite can use the API
// without handling a token at all (`tokentray proxy NAME --upstream URL`).
//
// It is not an open proxy and not a way around the token's audience:
//   - it listens on loopback addresses only (Listen refuses anything else);
//   - it answers only requests whose Host header names its own listening
//     address (127.0.0.1:PORT, localhost:PORT or [::1]:PORT), so a web page
//     that rebinds a DNS name to 127.0.0.1 cannot use it;
//   - it forwards only to its one upstream: absolute-form request targets
//     ("GET http://other/ HTTP/1.1") and CONNECT are refused;
//   - the upstream must be https (plain http only to a loopback host), so the
//     token never crosses a network in the clear;
//   - any Authorization or Proxy-Authorization a client sends is dropped.
//
// When the upstream answers 401, the proxy asks for a new token once and
// sends the request again if its body can be replayed (no body, or a body
// small enough to have been buffered); otherwise the 401 goes back as it is.
package authproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxReplayBody is the largest request body buffered so that the
// request can be sent again after a 401 from the upstream.
const DefaultMaxReplayBody = 1 << 20

// Tokens gives the proxy its tokens. Token returns the access token and its
// type ("Bearer" when empty); with force set it must not return the token
// it returned before (the upstream refused it) but fetch a new one. The
// error's text is shown to the proxy's client, so it must hold no secret.
type Tokens interface {
	Token(ctx context.Context, force bool) (token, tokenType string, err error)
}

// Options configure a Proxy.
type Options struct {
	// Upstream is the API's base URL: https, or http to a loopback host.
	// Its path is a prefix of every forwarded path.
	Upstream string
	// Tokens supplies the token for each request.
	Tokens Tokens
	// MaxReplayBody caps the request body buffered for a retry after a
	// 401; 0 means DefaultMaxReplayBody, negative means never retry.
	MaxReplayBody int64
	// Transport sends requests upstream; nil means a clone of
	// http.DefaultTransport. Tests set one that trusts their server.
	Transport http.RoundTripper
	// Logger gets one line per request (method, path, status, duration);
	// nil logs nothing. Never a token.
	Logger *slog.Logger
}

// Proxy is an http.Handler that forwards to one upstream with a token.
// Create it with New and serve it with Serve, which learns the listening
// address the Host check needs: until then every request is refused.
type Proxy struct {
	upstream  *url.URL
	tokens    Tokens
	maxReplay int64
	transport http.RoundTripper
	log       *slog.Logger
	rp        *httputil.ReverseProxy
	hosts     map[string]bool // accepted Host headers; set by Serve before it serves
}

// New checks opts and returns a proxy. It fails when the upstream is not an
// absolute https URL (or http to loopback), has user info, a query or a
// fragment.
func New(opts Options) (*Proxy, error) {
	u, err := CheckUpstream(opts.Upstream)
	if err != nil {
		return nil, err
	}
	if opts.Tokens == nil {
		return nil, errors.New("authproxy: no token source")
	}
	p := &Proxy{
		upstream:  u,
		tokens:    opts.Tokens,
		maxReplay: opts.MaxReplayBody,
		transport: opts.Transport,
		log:       opts.Logger,
	}
	if p.maxReplay == 0 {
		p.maxReplay = DefaultMaxReplayBody
	}
	if p.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil // the token goes straight to the upstream, never via $HTTPS_PROXY's host
		p.transport = t
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:      p.rewrite,
		Transport:    &retryTransport{p: p},
		ErrorHandler: p.upstreamError,
	}
	return p, nil
}

// CheckUpstream parses an upstream base URL and says what is wrong with
// it: it must be https (http only to a loopback host), without user info,
// query or fragment.
func CheckUpstream(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("authproxy: upstream %q is not an absolute http(s) URL such as https://api.example.com", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("authproxy: upstream %q carries user info: leave it out (the proxy adds the token)", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("authproxy: upstream %q has a query or fragment: give the base URL only", raw)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("authproxy: upstream %q is plain http: the token would cross the network in the clear; use https (http is allowed for loopback hosts only)", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// ErrNotLoopback is returned by Listen for an address that is not a
// loopback address with a port.
var ErrNotLoopback = errors.New("not a loopback address")

// Listen listens on addr, which must be a loopback address with a port
// ("127.0.0.1:8787", "[::1]:0", "localhost:8787").
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("authproxy: listen address %q: want HOST:PORT, e.g. 127.0.0.1:8787: %w", addr, ErrNotLoopback)
	}
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("authproxy: listen address %q is %w: the proxy lends its token to whoever connects, so it listens on 127.0.0.1 or ::1 only", addr, ErrNotLoopback)
	}
	if host == "localhost" {
		addr = net.JoinHostPort("127.0.0.1", addr[strings.LastIndexByte(addr, ':')+1:])
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("authproxy: %w", err)
	}
	return ln, nil
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// Serve answers requests on ln until ctx ends, then shuts down, letting
// requests under way finish for up to 5 seconds. ln must be a loopback
// listener (see Listen).
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() {
		return fmt.Errorf("authproxy: %v is not a loopback TCP listener", ln.Addr())
	}
	p.hosts = allowedHosts(addr.Port)
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          nil,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-done
	return err
}

// allowedHosts returns the Host headers a loopback client sends for port.
func allowedHosts(port int) map[string]bool {
	p := strconv.Itoa(port)
	return map[string]bool{
		"127.0.0.1:" + p: true,
		"localhost:" + p: true,
		"[::1]:" + p:     true,
	}
}

// URL is the base URL clients use for a proxy listening on ln.
func URL(ln net.Listener) string {
	return "http://" + ln.Addr().String()
}

// ServeHTTP checks the request and forwards it upstream with a token.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	p.serve(sw, r)
	if p.log != nil {
		p.log.Info("proxy", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start).Round(time.Microsecond))
	}
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		refuse(w, http.StatusMethodNotAllowed, "this is not a forward proxy: CONNECT is refused")
		return
	case r.URL.IsAbs() || r.URL.Host != "":
		refuse(w, http.StatusBadRequest, "this is not a forward proxy: send requests to its own address, e.g. curl http://127.0.0.1:PORT/v1/...")
		return
	case !p.hosts[strings.ToLower(r.Host)]:
		// DNS rebinding: a page on evil.example resolved to 127.0.0.1
		// sends Host: evil.example:PORT.
		refuse(w, http.StatusMisdirectedRequest, fmt.Sprintf("Host %q is not this proxy's address: it answers only 127.0.0.1, localhost or [::1] with its port", r.Host))
		return
	}
	body, replayable, err := p.bufferBody(r)
	if err != nil {
		refuse(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return
	}
	if replayable {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	} else {
		r.GetBody = nil
	}
	p.rp.ServeHTTP(w, r)
}

// bufferBody reads a body of at most maxReplay bytes into memory so the
// request can be sent twice. A larger or unknown-length body is left to
// stream (and not replayable).
func (p *Proxy) bufferBody(r *http.Request) ([]byte, bool, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, true, nil
	}
	if p.maxReplay < 0 || r.ContentLength < 0 || r.ContentLength > p.maxReplay {
		return nil, false, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
	if err != nil {
		return nil, false, err
	}
	r.Body.Close()
	return b, true, nil
}

// rewrite points the outgoing request at the upstream and drops what the
// client sent for authentication. The token is set by retryTransport, so a
// retry can set a new one.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.upstream)
	pr.Out.Host = p.upstream.Host
	pr.Out.Header.Del("Authorization")
	pr.Out.Header.Del("Proxy-Authorization")
	// Headers that name the proxy's own address mean nothing upstream.
	pr.Out.Header.Del("Origin")
	pr.Out.Header.Del("Referer")
}

// tokenError carries a failure to get a token to upstreamError.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// upstreamError answers 502 when no token could be had or the upstream
// could not be reached.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	var te *tokenError
	if errors.As(err, &te) {
		refuse(w, http.StatusBadGateway, "tokentray could not get a token: "+te.err.Error())
		return
	}
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	refuse(w, http.StatusBadGateway, fmt.Sprintf("cannot reach %s: %v", p.upstream.Host, shortNetError(err)))
}

// shortNetError drops Go's operation prefixes ("dial tcp 1.2.3.4:443: ")
// where the cause alone says enough.
func shortNetError(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// refuse answers with a one-line text message from the proxy itself.
func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Tokentray-Proxy", "error")
	w.WriteHeader(status)
	fmt.Fprintf(w, "tokentray proxy: %s\n", msg)
}

// retryTransport sets the token on each outgoing request and, after a 401,
// fetches a new token and sends a replayable request once more.
type retryTransport struct{ p *Proxy }

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.p
	resp, err := p.send(req, false)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if req.GetBody == nil && req.Body != nil && req.Body != http.NoBody {
		return resp, nil // the body has been streamed: cannot send it again
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		body, gerr := req.GetBody()
		if gerr != nil {
			return resp, nil
		}
		retry.Body = body
	}
	again, err := p.send(retry, true)
	if err != nil {
		// No new token, or no second answer: the upstream's own 401 says
		// more than an error of ours would.
		return resp, nil
	}
	drain(resp)
	return again, nil
}

// send sets a token (a new one when force) and sends req upstream.
func (p *Proxy) send(req *http.Request, force bool) (*http.Response, error) {
	tok, typ, err := p.tokens.Token(req.Context(), force)
	if err != nil {
		return nil, &tokenError{err: err}
	}
	if typ == "" || strings.EqualFold(typ, "bearer") {
		typ = "Bearer"
	}
	req.Header.Set("Authorization", typ+" "+tok)
	return p.transport.RoundTrip(req)
}

// drain discards a response that is replaced, so its connection is reused.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// statusWriter remembers the status code for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streamed answers (server-sent events) through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

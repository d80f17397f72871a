// Package badserver is a loopback OAuth 2.0 token endpoint that misbehaves
// on purpose, for tests of what a client does with a failing, hostile or
// broken server: 5xx, 429 with Retry-After in seconds or as a date, bad
// JSON, HTML, huge bodies, a gzip bomb, a hang, a drip of slow bytes,
// redirects to another loopback server that logs what it receives, echoes
// of the client secret in every field and encoding, an untrusted TLS
// certificate, tokens with control characters, and absurd lifetimes.
//
// Every server logs the requests it received (Requests), so a test can
// check that a redirect's target got nothing and that no secret reached a
// host it was not meant for.
package badserver

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mode is one way of misbehaving.
type Mode string

// Modes. Each answers every token request the same way.
const (
	OK              Mode = "ok"               // a good token (1 hour)
	ServerError     Mode = "5xx"              // 503 with a short text body
	RateLimitSecs   Mode = "429-seconds"      // 429, Retry-After: 120
	RateLimitDate   Mode = "429-date"         // 429, Retry-After: an HTTP date 2 minutes ahead
	BadJSON         Mode = "bad-json"         // 200 with truncated JSON
	HTML            Mode = "html"             // 200 with an HTML page
	Huge            Mode = "huge"             // 200 with an 8 MiB JSON body, chunked
	GzipBomb        Mode = "gzip-bomb"        // 200, Content-Encoding gzip: 16 KiB that inflate to 16 MiB
	Hang            Mode = "hang"             // no answer until the client gives up
	Drip            Mode = "drip"             // a 200 whose body comes one byte every 200 ms
	Redirect        Mode = "redirect"         // 307 to the Sink (another loopback server)
	RedirectPerm    Mode = "redirect-308"     // 308 to the Sink
	Echo            Mode = "echo"             // 400 echoing the secret in every RFC 6749 field and others, in every form
	ControlChars    Mode = "control-chars"    // 200 with an access token holding ESC, BEL and a newline
	ExpiresNegative Mode = "expires-negative" // 200 with expires_in -100
	ExpiresHuge     Mode = "expires-huge"     // 200 with expires_in 1e300
	InvalidTarget   Mode = "invalid-target"   // 400 invalid_target (RFC 8707)
	Untrusted       Mode = "untrusted-tls"    // a good token, over TLS with a certificate nobody trusts
)

// Modes lists every Mode.
var Modes = []Mode{OK, ServerError, RateLimitSecs, RateLimitDate, BadJSON, HTML, Huge, GzipBomb, Hang, Drip,
	Redirect, RedirectPerm, Echo, ControlChars, ExpiresNegative, ExpiresHuge, InvalidTarget, Untrusted}

// Request is what a server received: never shown, only searched by tests.
type Request struct {
	Method, Path  string
	Authorization string
	Body          string
}

// Log records the requests a server received.
type Log struct {
	mu   sync.Mutex // guards reqs
	reqs []Request
}

func (l *Log) add(r *http.Request) []byte {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Body: string(body)})
	return body
}

// Requests returns the requests received so far.
func (l *Log) Requests() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Request(nil), l.reqs...)
}

// Server is a misbehaving token endpoint.
type Server struct {
	Log
	Mode Mode
	// Sink is the other loopback server redirects point to; it answers
	// every request with a good token and logs it.
	Sink *Sink
	srv  *httptest.Server
	stop chan struct{} // closed at Close: ends hangs and drips
	once sync.Once
}

// Sink is a loopback server that logs every request and answers with a
// good token.
type Sink struct {
	Log
	srv *httptest.Server
}

// URL of the sink's token endpoint.
func (s *Sink) URL() string { return s.srv.URL + "/elsewhere/token" }

// Start starts a server answering in mode, and its Sink; both are closed at
// the end of the test.
func Start(t testing.TB, mode Mode) *Server {
	t.Helper()
	s := &Server{Mode: mode, stop: make(chan struct{}), Sink: &Sink{}}
	if mode == GzipBomb {
		bomb() // compress it now, not while a client waits
	}
	s.Sink.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Sink.add(r)
		writeToken(w, "sink-token", 3600)
	}))
	h := http.HandlerFunc(s.serve)
	s.srv = httptest.NewUnstartedServer(h)
	// A client refusing the certificate makes the server log each
	// handshake: not news in these tests.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if mode == Untrusted {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// TokenURL is the server's token endpoint.
func (s *Server) TokenURL() string { return s.srv.URL + "/oauth2/token" }

// Close ends hangs and drips and closes both servers.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.Sink.srv.Close()
	})
}

func writeToken(w http.ResponseWriter, token string, expiresIn any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": expiresIn})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := s.add(r)
	switch s.Mode {
	case OK, Untrusted:
		writeToken(w, "good-token-"+fmt.Sprint(len(s.Requests())), 3600)
	case ServerError:
		http.Error(w, "upstream trouble", http.StatusServiceUnavailable)
	case RateLimitSecs:
		w.Header().Set("Retry-After", "120")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "rate_limited"})
	case RateLimitDate:
		w.Header().Set("Retry-After", time.Now().Add(2*time.Minute).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	case BadJSON:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token": "abc", "expires_in": `)
	case HTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><body><h1>Welcome</h1><script>alert(1)</script></body></html>")
	case Huge:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"`)
		chunk := bytes.Repeat([]byte("A"), 64<<10)
		for range 128 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		io.WriteString(w, `","expires_in":3600}`)
	case GzipBomb:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb())
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
	case Drip:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		for _, b := range []byte(`{"access_token":"drip","token_type":"Bearer","expires_in":3600}`) {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.Context().Done():
				return
			case <-s.stop:
				return
			}
		}
	case Redirect:
		http.Redirect(w, r, s.Sink.URL(), http.StatusTemporaryRedirect)
	case RedirectPerm:
		http.Redirect(w, r, s.Sink.URL(), http.StatusPermanentRedirect)
	case Echo:
		echo := strings.Join(Echoes(r, body), " | ")
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "invalid_request " + echo, "error_description": echo, "error_uri": "https://auth.example.com/e?" + echo,
			"detail": "DETAIL-FIELD request client_secret=" + echo, "message": "MESSAGE-FIELD " + echo,
		})
	case ControlChars:
		writeToken(w, "tok\x1b]0;pwned\x07\nX-Injected: yes", 3600)
	case ExpiresNegative:
		writeToken(w, "negative-token", -100)
	case ExpiresHuge:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"huge-lifetime-token","token_type":"Bearer","expires_in":1e300}`)
	case InvalidTarget:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_target", "error_description": "resource not allowed"})
	default:
		http.Error(w, "unknown mode", http.StatusInternalServerError)
	}
}

// Echoes returns the secret of a token request (from its Basic header or
// its form body) in every form a server could echo it: as it is, form- and
// path-encoded, JSON-escaped (\uXXXX and \/), its first 12 characters, the
// part before a quote, the Basic credentials, and the raw request body and
// Authorization header.
func Echoes(r *http.Request, body []byte) []string {
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		form, _ := url.ParseQuery(string(body))
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	j, _ := json.Marshal(secret)
	js := string(j[1 : len(j)-1])
	var uesc strings.Builder
	for _, c := range secret {
		fmt.Fprintf(&uesc, `\u%04x`, c)
	}
	out := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), js, strings.ReplaceAll(js, "/", `\/`), uesc.String(),
		base64.StdEncoding.EncodeToString([]byte(id + ":" + secret)),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret))),
		string(body), r.Header.Get("Authorization")}
	if len(secret) > 12 {
		out = append(out, secret[:12])
	}
	if i := strings.IndexByte(secret, '"'); i > 0 {
		out = append(out, secret[:i])
	}
	return out
}

var (
	bombOnce sync.Once
	bombData []byte
)

// bomb is a 16 MiB JSON token response, gzipped (about 16 KiB).
func bomb() []byte {
	bombOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write([]byte(`{"access_token":"`))
		chunk := bytes.Repeat([]byte("a"), 1<<20)
		for range 16 {
			zw.Write(chunk)
		}
		zw.Write([]byte(`","expires_in":3600}`))
		zw.Close()
		bombData = buf.Bytes()
	})
	return bombData
}

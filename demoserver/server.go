package demoserver

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/storage"
	"github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/bcrypt"
)

// Paths served, relative to URL().
const (
	TokenPath    = "/oauth2/token"
	JWKSPath     = "/.well-known/jwks.json"
	MetadataPath = "/.well-known/oauth-authorization-server" // RFC 8414
)

// Defaults for Options.
const (
	DefaultAddr     = "127.0.0.1:0"
	DefaultTokenTTL = time.Hour
	// DefaultAudience is the aud claim of every token unless the request
	// asks for it by the audience parameter; shaped like the platform's
	// project ids.
	DefaultAudience = "project-test-tokentray-demo"
)

// ErrClosed is returned by Start, Up and Down after Close.
var ErrClosed = errors.New("demoserver: server closed: create a new one with New")

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	// Addr is the listen address; it must be a loopback address. Default
	// "127.0.0.1:0", a free port chosen at Start and kept by Up.
	Addr string
	// Clients are the registered clients. Nil means DefaultClients().
	Clients []Client
	// TokenTTL is the lifetime of access tokens (default 1h). Whole seconds
	// give exp - iat == expires_in == TokenTTL exactly.
	TokenTTL time.Duration
	// Issuer is the iss claim (default URL()).
	Issuer string
	// Audience is the aud claim when the request names none, and the one
	// audience a request may name (default DefaultAudience).
	Audience string
	// Key signs the tokens (RS256). Default: a new RSA-2048 key. Tests may
	// share one key between servers to start faster.
	Key *rsa.PrivateKey
	// Trouble is the trouble in force from the start, by client id
	// (AllClients for every client).
	Trouble map[string]Trouble
	// Logger receives one line per token request (client id, status, error
	// code; never a secret or a token). Default: discard.
	Logger *slog.Logger
}

// Stats count the token requests of one client.
type Stats struct {
	Requests int // token requests that named the client (Basic or body)
	Issued   int // tokens issued
	Failed   int // requests answered with an error (401, 400, 429, ...)
	// LastStatus and LastError (an RFC 6749 error code, "" on success) are
	// the answer to the latest request, at LastAt.
	LastStatus int
	LastError  string
	LastAt     time.Time
}

// registered is a client in the registry.
type registered struct {
	client  Client   // with the current secret in clear, for Clients()
	hash    []byte   // bcrypt hash of client.Secret
	rotated [][]byte // hashes of earlier secrets still accepted (RotateSecret)
}

// Server is the demo authorization server. Its methods are safe for
// concurrent use.
type Server struct {
	opts       Options
	ttl        time.Duration
	audience   string
	key        *rsa.PrivateKey
	kid        string // RFC 7638 thumbprint of the public key
	jwks       []byte // the JWKS document, fixed at New
	config     *fosite.Config
	provider   fosite.OAuth2Provider
	handler    http.Handler
	rejectHash []byte // a bcrypt hash no secret matches, for RejectSecret
	log        *slog.Logger

	mu      sync.Mutex             // guards the fields below
	clients map[string]*registered // by client id
	order   []string               // client ids in registration order
	trouble map[string]Trouble     // by client id; AllClients for every client
	stats   map[string]*Stats      // by client id, registered clients only

	life      sync.Mutex     // guards the listener state below; never held with mu
	base      string         // "http://127.0.0.1:port", set by Start
	addr      string         // the bound address, reused by Up
	srv       *http.Server   // nil while down or not started
	serveDone chan struct{}  // closed when srv's Serve returns
	started   bool           // Start succeeded
	down      bool           // Down closed the listener
	closed    bool           // Close or Start's ctx ended the server
	stop      chan struct{}  // closed by Close, stops the ctx watcher
	stopOnce  sync.Once      // closes stop
	wg        sync.WaitGroup // the serve goroutines and the ctx watcher
}

// New returns a server for opts. It does not listen yet: call Start.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if err := checkLoopback(opts.Addr); err != nil {
		return nil, err
	}
	if opts.Clients == nil {
		opts.Clients = DefaultClients()
	}
	s := &Server{
		opts:     opts,
		ttl:      opts.TokenTTL,
		audience: opts.Audience,
		key:      opts.Key,
		log:      opts.Logger,
		clients:  make(map[string]*registered, len(opts.Clients)),
		trouble:  make(map[string]Trouble),
		stats:    make(map[string]*Stats, len(opts.Clients)),
		stop:     make(chan struct{}),
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTokenTTL
	}
	if s.audience == "" {
		s.audience = DefaultAudience
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("demoserver: generate signing key: %w", err)
		}
		s.key = k
	}
	pub := josev4.JSONWebKey{Key: &s.key.PublicKey, Algorithm: string(josev4.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("demoserver: key thumbprint: %w", err)
	}
	s.kid = base64.RawURLEncoding.EncodeToString(thumb)
	pub.KeyID = s.kid
	if s.jwks, err = json.Marshal(josev4.JSONWebKeySet{Keys: []josev4.JSONWebKey{pub}}); err != nil {
		return nil, fmt.Errorf("demoserver: encode jwks: %w", err)
	}
	if s.rejectHash, err = bcrypt.GenerateFromPassword([]byte(NewSecret()), bcrypt.MinCost); err != nil {
		return nil, fmt.Errorf("demoserver: hash: %w", err)
	}
	for _, c := range opts.Clients {
		if err := s.register(c); err != nil {
			return nil, err
		}
	}
	for id, t := range opts.Trouble {
		if _, ok := s.clients[id]; !ok && id != AllClients {
			return nil, fmt.Errorf("demoserver: trouble for unknown client %q: register it in Options.Clients", id)
		}
		s.SetTrouble(id, t)
	}

	s.config = &fosite.Config{
		AccessTokenLifespan:      s.ttl,
		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.ExactAudienceMatchingStrategy,
		JWTScopeClaimKey:         jwt.JWTScopeFieldString, // "scope": "a b", as the platform
		HashCost:                 bcrypt.MinCost,          // demo secrets are random; keep requests fast
		GlobalSecret:             []byte(NewSecret()),     // fosite's HMAC strategy needs one; unused for JWTs
	}
	// fosite's Config getters fill some fields on first use, which races
	// between concurrent requests: set them here. (JWKSFetcherStrategy is
	// only reached for private_key_jwt clients, which this server has none.)
	s.config.ClientSecretsHasher = &fosite.BCrypt{Config: s.config}
	keyGetter := func(context.Context) (any, error) { return s.key, nil }
	strategy := compose.NewOAuth2JWTStrategy(keyGetter, compose.NewOAuth2HMACStrategy(s.config), s.config)
	store := &fositeStore{MemoryStore: storage.NewMemoryStore(), s: s}
	s.provider = compose.Compose(s.config, store, strategy,
		compose.OAuth2ClientCredentialsGrantFactory,
		func(fosite.Configurator, any, any) any { return unsupportedGrant{} },
	)

	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.handleToken)
	mux.HandleFunc("GET "+JWKSPath, s.handleJWKS)
	mux.HandleFunc("GET "+MetadataPath, s.handleMetadata)
	s.handler = mux
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("demoserver: address %q: %w: use host:port, e.g. %s", addr, err, DefaultAddr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("demoserver: address %q is not a loopback address: the demo server serves plain HTTP with known secrets, use 127.0.0.1", addr)
	}
	return nil
}

// register adds c to the registry. Only New calls it, before serving.
func (s *Server) register(c Client) error {
	if err := c.validate(); err != nil {
		return err
	}
	if _, dup := s.clients[c.ID]; dup {
		return fmt.Errorf("demoserver: client %q registered twice: give each client its own id", c.ID)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(c.Secret), bcrypt.MinCost)
	if err != nil {
		return fmt.Errorf("demoserver: client %q: hash secret: %w", c.ID, err)
	}
	c.Scopes = slices.Clone(c.Scopes)
	s.clients[c.ID] = &registered{client: c, hash: hash}
	s.order = append(s.order, c.ID)
	s.stats[c.ID] = &Stats{}
	return nil
}

// Start listens on Options.Addr and serves in the background until Close is
// called or ctx ends. It returns once the listener is bound, so URL() is
// valid and requests succeed as soon as it returns.
func (s *Server) Start(ctx context.Context) error {
	s.life.Lock()
	defer s.life.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return errors.New("demoserver: already started: call Start once")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("demoserver: listen on %s: %w: choose another address or port 0", s.opts.Addr, err)
	}
	s.addr = ln.Addr().String()
	s.base = "http://" + s.addr
	// Nothing serves yet, so fosite's config may still be written.
	s.config.TokenURL = s.base + TokenPath
	s.config.AccessTokenIssuer = s.opts.Issuer
	if s.config.AccessTokenIssuer == "" {
		s.config.AccessTokenIssuer = s.base
	}
	s.started = true
	s.serveLocked(ln)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			s.shutdown()
		case <-s.stop:
		}
	}()
	return nil
}

// serveLocked serves on ln in a new goroutine; s.life must be held.
func (s *Server) serveLocked(ln net.Listener) {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	s.srv, s.serveDone, s.down = srv, done, false
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		_ = srv.Serve(ln) // always non-nil; http.ErrServerClosed after Close
	}()
}

// closeLocked closes the listener and every connection and waits for Serve
// to return; s.life must be held.
func (s *Server) closeLocked() error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	<-s.serveDone
	s.srv, s.serveDone = nil, nil
	return err
}

// URL returns the server's base URL, "http://127.0.0.1:PORT", or "" before
// Start.
func (s *Server) URL() string {
	s.life.Lock()
	defer s.life.Unlock()
	return s.base
}

// TokenURL returns the token endpoint's URL ("" before Start).
func (s *Server) TokenURL() string { return s.urlFor(TokenPath) }

// JWKSURL returns the URL of the JSON Web Key Set ("" before Start).
func (s *Server) JWKSURL() string { return s.urlFor(JWKSPath) }

func (s *Server) urlFor(path string) string {
	if b := s.URL(); b != "" {
		return b + path
	}
	return ""
}

// Issuer returns the iss claim of the tokens ("" before Start).
func (s *Server) Issuer() string {
	s.life.Lock()
	defer s.life.Unlock()
	if !s.started {
		return ""
	}
	return s.config.AccessTokenIssuer
}

// Audience returns the aud claim of the tokens.
func (s *Server) Audience() string { return s.audience }

// TokenTTL returns the lifetime of the tokens.
func (s *Server) TokenTTL() time.Duration { return s.ttl }

// KeyID returns the kid of the signing key, as in the JWKS and in every
// token's header.
func (s *Server) KeyID() string { return s.kid }

// PublicKey returns the public key that verifies the tokens.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// Down closes the listener and every open connection: token requests fail
// with "connection refused" until Up or Reset. Down when already down does
// nothing.
func (s *Server) Down() error {
	s.life.Lock()
	defer s.life.Unlock()
	return s.downLocked()
}

// Up reopens the listener on the same address after Down. Up when the
// server is up does nothing. It fails if another program took the port in
// the meantime.
func (s *Server) Up() error {
	s.life.Lock()
	defer s.life.Unlock()
	return s.upLocked()
}

// ToggleDown calls Up when the server is down and Down when it is up, in
// one step.
func (s *Server) ToggleDown() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.down {
		return s.upLocked()
	}
	return s.downLocked()
}

// downLocked is Down; s.life must be held.
func (s *Server) downLocked() error {
	switch {
	case s.closed:
		return ErrClosed
	case !s.started:
		return errors.New("demoserver: down before start: call Start first")
	case s.down:
		return nil
	}
	err := s.closeLocked()
	s.down = true
	if err != nil {
		return fmt.Errorf("demoserver: down: %w", err)
	}
	return nil
}

// upLocked is Up; s.life must be held.
func (s *Server) upLocked() error {
	switch {
	case s.closed:
		return ErrClosed
	case !s.down:
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("demoserver: up again on %s: %w: the port was taken meanwhile, restart the demo", s.addr, err)
	}
	s.serveLocked(ln)
	return nil
}

// IsDown reports whether Down closed the listener.
func (s *Server) IsDown() bool {
	s.life.Lock()
	defer s.life.Unlock()
	return s.down
}

// Close stops the server for good: it closes the listener and every
// connection and waits for its goroutines. Close is idempotent.
func (s *Server) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	err := s.shutdown()
	s.wg.Wait()
	return err
}

// shutdown closes the listener for good without waiting for the ctx
// watcher, which may be the caller.
func (s *Server) shutdown() error {
	s.life.Lock()
	defer s.life.Unlock()
	s.closed = true
	if err := s.closeLocked(); err != nil {
		return fmt.Errorf("demoserver: close: %w", err)
	}
	return nil
}

// Clients returns the registered clients with their current secrets, in
// registration order.
func (s *Server) Clients() []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Client, 0, len(s.order))
	for _, id := range s.order {
		c := s.clients[id].client
		c.Scopes = slices.Clone(c.Scopes)
		out = append(out, c)
	}
	return out
}

// RotateSecret gives clientID a new random secret, as a provider's dashboard
// does, and returns it. The previous secrets stay accepted until
// RetireOldSecrets, so a rotation can prove the new secret before switching.
func (s *Server) RotateSecret(clientID string) (string, error) {
	secret := NewSecret()
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
	if err != nil {
		return "", fmt.Errorf("demoserver: rotate %q: %w", clientID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reg, ok := s.clients[clientID]
	if !ok {
		return "", fmt.Errorf("demoserver: rotate %q: no such client: use an id from Clients()", clientID)
	}
	reg.rotated = append(reg.rotated, reg.hash)
	reg.hash = hash
	reg.client.Secret = secret
	reg.client.SecretSetAt = time.Now()
	return secret, nil
}

// RetireOldSecrets stops accepting the secrets clientID had before
// RotateSecret.
func (s *Server) RetireOldSecrets(clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg, ok := s.clients[clientID]
	if !ok {
		return fmt.Errorf("demoserver: retire old secrets of %q: no such client: use an id from Clients()", clientID)
	}
	reg.rotated = nil
	return nil
}

// Stats returns the request counters of clientID (zero for an unknown id).
func (s *Server) Stats(clientID string) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stats[clientID]; ok {
		return *st
	}
	return Stats{}
}

// record counts one answer to a request of clientID, if registered.
func (s *Server) record(clientID string, status int, code string) {
	s.mu.Lock()
	if st, ok := s.stats[clientID]; ok {
		st.Requests++
		if status == http.StatusOK {
			st.Issued++
		} else {
			st.Failed++
		}
		st.LastStatus, st.LastError, st.LastAt = status, code, time.Now()
	}
	s.mu.Unlock()
	s.log.Info("demoserver: token request", "client_id", clientID, "status", status, "error", code)
}

// requestClientID reads the client id a token request names, from the Basic
// header or the form body, only to count it and apply its trouble; fosite
// authenticates the request.
func requestClientID(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
		return id
	}
	if r.Method != http.MethodPost {
		return ""
	}
	if err := r.ParseForm(); err != nil {
		return ""
	}
	return r.PostForm.Get("client_id")
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	ctx := r.Context()
	id := requestClientID(r)
	if d := s.Effective(id).RateLimit; d > 0 {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", retryAfter(d))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = fmt.Fprintf(w, `{"error":"rate_limited","error_description":"Too many token requests: retry after %s seconds."}`, retryAfter(d))
		s.record(id, http.StatusTooManyRequests, "rate_limited")
		return
	}

	session := &oauth2.JWTSession{
		JWTClaims: &jwt.JWTClaims{},
		JWTHeader: &jwt.Headers{Extra: map[string]any{"kid": s.kid}},
	}
	ar, err := s.provider.NewAccessRequest(ctx, r, session)
	if err != nil {
		s.writeError(ctx, w, ar, id, err)
		return
	}
	client := ar.GetClient()
	scopes := ar.GetRequestedScopes()
	if len(scopes) == 0 {
		scopes = client.GetScopes() // the platform grants every scope when none is asked for
	}
	for _, sc := range scopes {
		ar.GrantScope(sc)
	}
	for _, a := range ar.GetRequestedAudience() { // fosite checked them against the client's
		ar.GrantAudience(a)
	}
	if len(ar.GetGrantedAudience()) == 0 {
		ar.GrantAudience(s.audience)
	}
	// fosite set exp; iat and nbf are exp - TTL, so exp - iat is the TTL.
	exp := session.GetExpiresAt(fosite.AccessToken)
	iat := exp.Add(-s.ttl)
	session.Subject = client.GetID()
	session.JWTClaims.Subject = client.GetID()
	session.JWTClaims.IssuedAt = iat
	session.JWTClaims.NotBefore = iat

	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.writeError(ctx, w, ar, id, err)
		return
	}
	// fosite truncates the time left at the moment of writing (3599 for an
	// hour); answer the lifetime the token carries, as the platform does.
	resp.SetExpiresIn(time.Duration(exp.Unix()-iat.Unix()) * time.Second)
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
	s.record(client.GetID(), http.StatusOK, "")
}

func (s *Server) writeError(ctx context.Context, w http.ResponseWriter, ar fosite.AccessRequester, id string, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	s.provider.WriteAccessError(ctx, w, ar, err)
	s.record(id, rfc.CodeField, rfc.ErrorField)
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.jwks)
}

func (s *Server) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                s.Issuer(),
		"token_endpoint":                        s.TokenURL(),
		"jwks_uri":                              s.JWKSURL(),
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{string(AuthBasic), string(AuthPost)},
		"scopes_supported":                      s.allScopes(),
	})
}

func (s *Server) allScopes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range s.order {
		out = append(out, s.clients[id].client.Scopes...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

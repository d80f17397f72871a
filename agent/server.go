package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// ErrRunning is returned by Listen when another app already serves the
// store: ask it to show its window (Show) instead of starting a second one.
var ErrRunning = errors.New("agent: another Tokentray is already running on this store")

// Server limits.
const (
	readTimeout  = 5 * time.Second  // to receive a whole request
	tokenTimeout = 60 * time.Second // to answer a token request (a fetch included)
	maxConns     = 16               // connections handled at once; more wait in the backlog
	keepRecent   = 50               // token requests remembered for the window
)

// TokenSource gives tokens: *refresher.Refresher satisfies it.
type TokenSource interface {
	Token(ctx context.Context, name string, opts refresher.TokenOptions) (refresher.Result, error)
}

var _ TokenSource = (*refresher.Refresher)(nil)

// Options are what a Server answers with.
type Options struct {
	// Show brings the window up; it must not block (nil: show is
	// answered "unsupported").
	Show func()
	// Tokens serves token requests (nil: they are answered "unsupported").
	Tokens TokenSource
	// OnRequest, when set, is called after each token request (from the
	// connection's goroutine; it must not block).
	OnRequest func(Request)
	// Logger receives one line per refused connection (default: discard).
	Logger *slog.Logger
}

// Request is one token request the agent served or refused, as the window
// lists it. It holds no token, only its fingerprint.
type Request struct {
	Client      string
	At          time.Time
	Fingerprint string // vault.Fingerprint of the token handed out; "" when none
	Outcome     string // "ok", else the failure class
}

// Server is a running app's endpoint. Listen claims it; Start serves.
type Server struct {
	tr   transport
	lock *flock.Flock
	ln   net.Listener

	opts   Options // set by Start
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and the connections
	sem    chan struct{}  // one slot per connection being handled

	closeOnce sync.Once
	closeErr  error // Close's result

	mu     sync.Mutex // guards recent
	recent []Request  // newest last
}

// Listen claims the endpoint of the store in storeDir for this process:
// it returns ErrRunning when another process holds it, and replaces a
// stale one left by a process that died. Nothing is answered until Start;
// Close releases it.
func Listen(storeDir string) (*Server, error) {
	tr, err := newTransport(storeDir)
	if err != nil {
		return nil, err
	}
	return listenOn(tr)
}

func listenOn(tr transport) (*Server, error) {
	if err := tr.prepare(); err != nil {
		return nil, err
	}
	fl := flock.New(tr.lockPath(), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("agent: lock %s: %w", tr.lockPath(), err)
	}
	if !ok {
		return nil, ErrRunning
	}
	ln, err := tr.listen()
	if err != nil {
		fl.Unlock()
		return nil, err
	}
	return &Server{tr: tr, lock: fl, ln: ln, sem: make(chan struct{}, maxConns)}, nil
}

// Start serves requests with opts until Close. Call it once.
func (s *Server) Start(opts Options) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s.opts = opts
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.acceptLoop()
}

// Close stops serving, waits for the connections being handled, and
// releases the endpoint. Later calls do nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		err := s.ln.Close()
		s.wg.Wait()
		s.tr.cleanup()
		s.lock.Unlock()
		if !errors.Is(err, net.ErrClosed) {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// Recent returns the latest token requests, newest first.
func (s *Server) Recent() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.recent))
	for i, r := range s.recent {
		out[len(s.recent)-1-i] = r
	}
	return out
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.recent = append(s.recent, r)
	if len(s.recent) > keepRecent {
		s.recent = append(s.recent[:0], s.recent[len(s.recent)-keepRecent:]...)
	}
	s.mu.Unlock()
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(r)
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.opts.Logger.Warn("agent: accept", "err", err)
			select {
			case <-time.After(100 * time.Millisecond): // e.g. out of file descriptors
			case <-s.ctx.Done():
				return
			}
			continue
		}
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			s.handle(c)
		}()
	}
}

// handle answers one connection: one request, one answer.
func (s *Server) handle(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(readTimeout))
	r := bufio.NewReaderSize(c, 512)
	if err := s.tr.authenticate(c, r); err != nil {
		s.opts.Logger.Warn("agent: connection refused", "err", err)
		return
	}
	line, err := readLine(r, maxRequest)
	if err != nil {
		if errors.Is(err, errTooLong) {
			_, _ = io.WriteString(c, answer{class: classBad, msg: "request too long"}.encode())
		}
		return
	}
	req, err := parseRequest(line)
	var a answer
	switch {
	case errors.Is(err, errVersion):
		a = answer{class: classVersion, msg: "this app speaks " + version + ": update tokentray"}
	case err != nil:
		a = answer{class: classBad, msg: err.Error()}
	case req.verb == verbShow:
		a = s.show()
	default:
		_ = c.SetDeadline(time.Now().Add(tokenTimeout))
		a = s.token(req)
	}
	_, _ = io.WriteString(c, a.encode())
}

func (s *Server) show() answer {
	if s.opts.Show == nil {
		return answer{class: classUnsupport, msg: "this app has no window"}
	}
	s.opts.Show()
	return answer{}
}

func (s *Server) token(req request) answer {
	if s.opts.Tokens == nil {
		return answer{class: classUnsupport, msg: "this app serves no tokens"}
	}
	ctx, cancel := context.WithTimeout(s.ctx, tokenTimeout)
	defer cancel()
	opts := refresher.TokenOptions{MinTTL: req.minTTL}
	if req.scopesSet {
		opts.Scopes = req.scopes
	}
	res, err := s.opts.Tokens.Token(ctx, req.name, opts)
	rec := Request{Client: req.name, At: time.Now(), Outcome: "ok"}
	var a answer
	if err != nil {
		a = errorAnswer(err)
		rec.Outcome = a.class
	} else {
		a = answer{token: res.Token, missing: res.Missing, skew: res.Skew}
		if res.RefreshErr != nil {
			a.stale = res.RefreshErr.Message()
		}
		rec.Fingerprint = vault.Fingerprint(res.Token.AccessToken)
		if !validToken(a.token.AccessToken) {
			a = answer{class: classUnsupport, msg: "the token cannot be sent over the agent"}
			rec.Outcome = a.class
		}
	}
	s.record(rec)
	return a
}

// errorAnswer classifies a refresher failure for the wire.
func errorAnswer(err error) answer {
	var re *refresher.Error
	switch {
	case errors.Is(err, vault.ErrNoClient):
		return answer{class: classUnknown, msg: "no such client in the running app"}
	case errors.As(err, &re):
		return answer{class: string(re.Class), msg: re.Message()}
	case errors.Is(err, vault.ErrKeyringUnavailable), errors.Is(err, vault.ErrKeyringLocked):
		return answer{class: string(refresher.ClassKeyring), msg: err.Error()}
	}
	return answer{class: classUnsupport, msg: err.Error()}
}

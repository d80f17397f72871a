// Package refresher keeps access tokens fresh: it fetches them from any RFC
// 6749 token endpoint with the client-credentials grant, caches them in
// memory and in the keyring (through package vault), refreshes them ahead of
// expiry on a schedule, classifies failures into errors that say what to do,
// and publishes per-client state snapshots to subscribers. It knows nothing
// of Fyne.
//
// THIS FILE IS THE CONTRACT other packages (cli, ui, demo) code against. The
// implementation fills in the bodies; signatures change only by agreement.
package refresher

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// Source says where a token came from.
type Source string

// Token sources.
const (
	FromMemory  Source = "memory"
	FromKeyring Source = "keyring"
	FromFetch   Source = "fetched"
)

// Options configure a Refresher. Zero values take the defaults noted.
type Options struct {
	Store *vault.Store // required
	// HTTPClient is used for token requests; default NewHTTPClient(15s).
	HTTPClient *http.Client
	// MarginMin and MarginFraction: a token is refreshed when less than
	// max(MarginMin, MarginFraction*lifetime) remains. Defaults 5m and 0.2.
	MarginMin      time.Duration
	MarginFraction float64
	// SweepInterval is how often the scheduler looks for due clients
	// (default 30s); MaxInFlight bounds concurrent fetches (default 4).
	SweepInterval time.Duration
	MaxInFlight   int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives structured logs without secrets (default: discard).
	Logger *slog.Logger
}

// TokenOptions narrow a Token call.
type TokenOptions struct {
	// Scopes, when non-nil, asks for a subset of the client's scopes (its
	// own cache entry). Nil means the client's configured scopes.
	Scopes []string
	// MinTTL asks for a token valid at least this long (beyond the margin).
	MinTTL time.Duration
	// Force fetches a new token even if the cached one is fresh, and clears
	// a "credentials rejected" state (an explicit refresh).
	Force bool
}

// Result is a token and what is known about it.
type Result struct {
	Token     vault.Token // AccessToken, TokenType, Expiry, Scopes (granted), FetchedAt
	Source    Source
	Requested []string      // the scopes asked for
	Missing   []string      // requested scopes the server did not grant
	Skew      time.Duration // server clock minus local clock, when > 30s; else 0
	// NotCached is set when the keyring refused to cache the token (too big,
	// locked): it is held in memory only.
	NotCached error
}

// Phase is a client's token state in a word, as the GUI shows it.
type Phase string

// Phases.
const (
	PhaseNone       Phase = "none"       // no token yet
	PhaseFresh      Phase = "fresh"      // a token with more than the margin left
	PhaseRefreshing Phase = "refreshing" // a fetch is in flight
	PhaseStale      Phase = "stale"      // refresh failing; last good token still valid
	PhaseExpired    Phase = "expired"    // no valid token, failing or not yet retried
	PhaseRejected   Phase = "rejected"   // credentials rejected (401 / invalid_client)
)

// State is an immutable snapshot of one client, published on every change.
// It never holds the access token itself.
type State struct {
	Client      vault.Client
	Phase       Phase
	Expiry      time.Time // of the best valid token; zero when none
	FetchedAt   time.Time
	Granted     []string
	Missing     []string
	Fingerprint string // vault.Fingerprint of the current token
	Err         *Error    // the last error, nil after a success
	StaleSince  time.Time // first failure since the last success
	NextAttempt time.Time // when the scheduler will try again
	Rotation    vault.RotationStatus
	Skew        time.Duration
	At          time.Time // when this snapshot was taken
}

// Class says what kind of failure an Error is, and so what to do.
type Class string

// Failure classes.
const (
	ClassRejected    Class = "rejected"     // 401 / invalid_client: fix or rotate the secret
	ClassScope       Class = "scope"        // 403 / invalid_scope: scopes not allowed
	ClassRateLimited Class = "rate-limited" // 429: wait for Retry-After
	ClassTransient   Class = "transient"    // 5xx, network, timeouts, malformed answers
	ClassKeyring     Class = "keyring"      // keyring unavailable or locked
	ClassConfig      Class = "config"       // no secret stored, invalid client, other local trouble
)

// Error is a classified token failure. Error() is a sentence for a person,
// saying what to do; it never contains a secret or a whole token.
type Error struct {
	Class       Class
	Client      string    // client name
	Host        string    // token endpoint host
	Status      int       // HTTP status, 0 when none
	Code        string    // RFC 6749 error code, e.g. invalid_client
	Description string    // error_description from the server (sanitised)
	Scopes      []string  // the scopes concerned (for ClassScope)
	RetryAt     time.Time // when a retry is planned (rate limit, backoff)
	Err         error     // the underlying error
}

func (e *Error) Error() string { return string(e.Class) + ": not implemented yet" }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Refresher owns the token lifecycle of every client in a store.
type Refresher struct {
	opts Options
}

// New returns a Refresher for opts.Store. It does not start the scheduler.
func New(opts Options) *Refresher { return &Refresher{opts: opts} }

var errTODO = errors.New("refresher: not implemented yet")

// Token returns a token for the client with more than the margin (and
// opts.MinTTL) left: from memory, else the keyring cache, else a fetch (one
// at a time per client and scope set, across processes too). Errors are
// *Error, or wrap vault.ErrNoClient for an unknown name.
func (r *Refresher) Token(ctx context.Context, name string, opts TokenOptions) (Result, error) {
	return Result{}, errTODO
}

// Refresh fetches a new token now (Token with Force), clearing a rejected
// state.
func (r *Refresher) Refresh(ctx context.Context, name string) (Result, error) {
	return r.Token(ctx, name, TokenOptions{Force: true})
}

// Start runs the scheduler (sweep and rotation checks) until Stop. It reads
// the client list from the store and publishes an initial State per client.
func (r *Refresher) Start(ctx context.Context) error { return errTODO }

// Stop cancels fetches in flight and waits for running jobs, or for ctx.
func (r *Refresher) Stop(ctx context.Context) error { return nil }

// Reload re-reads the client list from the store (after add, edit, remove,
// a secret change) and publishes the states that changed. A client whose
// secret changed leaves the rejected state.
func (r *Refresher) Reload() error { return errTODO }

// States returns the current state of every client, sorted by name.
func (r *Refresher) States() []State { return nil }

// State returns the current state of one client.
func (r *Refresher) State(name string) (State, bool) { return State{}, false }

// Subscription delivers State snapshots. Slow readers miss snapshots rather
// than block the refresher (each State is complete, so the latest wins).
type Subscription struct {
	c     chan State
	close func()
}

// C returns the channel of snapshots; it is closed by Close.
func (s *Subscription) C() <-chan State { return s.c }

// Close ends the subscription.
func (s *Subscription) Close() { s.close() }

// Subscribe returns a new subscription with a buffered channel.
func (r *Refresher) Subscribe() *Subscription {
	c := make(chan State, 64)
	return &Subscription{c: c, close: func() {}}
}

// Exchange performs one client-credentials token request for c with secret,
// without caching anything: the "Test" button, `add` without --no-test and
// rotation's proof use it. scopes nil means c.Scopes. Errors are *Error.
func Exchange(ctx context.Context, hc *http.Client, c vault.Client, secret string, scopes []string) (Result, error) {
	return Result{}, errTODO
}

// NewHTTPClient returns an http.Client for token requests: dial, TLS and
// whole-request timeouts (timeout for the whole), no redirects except to
// https (or loopback), and responses capped at 1 MiB.
func NewHTTPClient(timeout time.Duration) *http.Client { return &http.Client{Timeout: timeout} }

// Package refresher keeps access tokens fresh: it fetches them from any RFC
// 6749 token endpoint with the client-credentials grant, caches them in
// memory and in the keyring (through package vault), refreshes them ahead of
// expiry on a schedule, classifies failures into errors that say what to do,
// and publishes per-client state snapshots to subscribers. It knows nothing
// of Fyne.
//
// For tests, everything that touches the outside is injectable: the HTTP
// client (Options.HTTPClient; an in-memory http.RoundTripper works inside
// testing/synctest bubbles), the wall clock (Options.Now), the store and
// its keyring (vault/vaulttest). Two processes may share one store
// directory: fetches are serialised by the store's per-client file lock.
package refresher

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// Origin says where a token came from.
type Origin string

// Where a token came from: this process's memory, the keyring (cached by
// another process or an earlier run), or a fetch from the token endpoint.
const (
	FromMemory  Origin = "memory"
	FromKeyring Origin = "keyring"
	FromFetch   Origin = "fetched"
)

// Options configure a Refresher. Zero values take the defaults noted.
type Options struct {
	Store *vault.Store // required
	// HTTPClient is used for token requests; default NewHTTPClient(15s).
	HTTPClient *http.Client
	// MarginMin and MarginFraction: a token is refreshed when less than
	// max(MarginMin, MarginFraction*lifetime) remains, capped at half its
	// lifetime (a token is always reused for at least half of its life).
	// Defaults 5m and 0.2.
	MarginMin      time.Duration
	MarginFraction float64
	// SweepInterval is how often the scheduler looks for due clients
	// (default 30s); MaxInFlight bounds concurrent fetches (default 4).
	SweepInterval time.Duration
	MaxInFlight   int
	// Now tells the wall-clock time (default time.Now); tests set a fake
	// one.
	Now func() time.Time
	// Logger receives structured logs without secrets (default: discard).
	Logger *slog.Logger
	// Jitter: each token is refreshed up to this much earlier than the
	// margin asks, at random, so clients fetched together do not come due
	// together (default SweepInterval; negative: none).
	Jitter time.Duration
	// JumpThreshold: when wall-clock time between two sweeps differs from
	// monotonic time by more than this (sleep, clock change), every client
	// is re-checked at once (default 1 minute).
	JumpThreshold time.Duration
	// RotationInterval is how often rotation status is re-checked (default
	// 24h; one check also runs at Start).
	RotationInterval time.Duration
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
	Token     vault.Token   // AccessToken, TokenType, Expiry, Scopes (granted), FetchedAt
	Source    Origin        // where the token came from
	Requested []string      // the scopes asked for
	Missing   []string      // requested scopes the server did not grant
	Skew      time.Duration // server clock minus local clock, when > 30s; else 0
	// NotCached is set when the keyring refused to cache the token (too big,
	// locked): it is held in memory only.
	NotCached error
	// RefreshErr is set when a refresh failed (or waits for its retry) and
	// the last good token, inside the margin but still valid for at least
	// MinTTL, is returned instead: the token is usable, the state stale.
	RefreshErr *Error
}

// Phase is a client's token state in a word, as the GUI shows it.
type Phase string

// Phases.
const (
	PhaseNone       Phase = "none"       // no token yet
	PhaseFresh      Phase = "fresh"      // a token with more than the margin left
	PhaseRefreshing Phase = "refreshing" // a fetch is in flight
	PhaseStale      Phase = "stale"      // refresh failing (Err set) or due; last good token still valid
	PhaseExpired    Phase = "expired"    // no valid token, failing or not yet retried
	PhaseRejected   Phase = "rejected"   // credentials rejected (401 / invalid_client)
)

// State is an immutable snapshot of one client, published on every change.
// It never holds the access token itself.
type State struct {
	Client    vault.Client
	Phase     Phase
	Expiry    time.Time // of the best valid token; zero when none
	FetchedAt time.Time
	// Margin is the refresh margin of that token: Token serves it from the
	// cache while more than Margin is left (min(max(MarginMin,
	// MarginFraction*lifetime), lifetime/2)); zero when there is no token.
	Margin time.Duration
	// RefreshAt is when the scheduler refreshes that token when running (at
	// Expiry-Margin, up to the jitter earlier, never before half its life);
	// zero when there is no token.
	RefreshAt time.Time
	Granted   []string
	// ScopesAssumed is set when the server named no granted scopes (no
	// scope in the response, no scope or scp claim in the token): Granted
	// is then the requested scopes taken on trust (RFC 6749 5.1).
	ScopesAssumed bool
	Missing       []string
	Fingerprint   string    // vault.Fingerprint of the current token
	Err           *Error    // the last error, nil after a success
	StaleSince    time.Time // first failure since the last success
	NextAttempt   time.Time // when the scheduler will try again
	Rotation      vault.RotationStatus
	Skew          time.Duration
	At            time.Time // when this snapshot was taken
	// Removed is set on the last snapshot of a client removed from the
	// store.
	Removed bool
}

// Class says what kind of failure an Error is, and so what to do.
type Class string

// Failure classes.
const (
	ClassRejected    Class = "rejected"     // 401 / invalid_client: fix or rotate the secret
	ClassScope       Class = "scope"        // 403 / invalid_scope: scopes not allowed
	ClassTarget      Class = "target"       // invalid_target (RFC 8707): resource/audience parameter refused
	ClassRateLimited Class = "rate-limited" // 429: wait for Retry-After
	ClassEndpoint    Class = "endpoint"     // wrong token URL: a redirect, 404, no token endpoint there
	ClassTransient   Class = "transient"    // 5xx, network, timeouts, malformed answers
	ClassKeyring     Class = "keyring"      // keyring unavailable or locked
	ClassConfig      Class = "config"       // no secret stored, invalid client, other local trouble
)

// Refresh fetches a new token now (Token with Force), clearing a rejected
// state. A failure is returned as an error even while the last good token
// is still valid (the error's ValidUntil says until when).
func (r *Refresher) Refresh(ctx context.Context, name string) (Result, error) {
	return r.Token(ctx, name, TokenOptions{Force: true})
}

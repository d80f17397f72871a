package refresher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"

	"github.com/tokentray/tokentray/vault"
)

// Backoff of transient failures.
const (
	backoffInitial = 2 * time.Second
	backoffMax     = 5 * time.Minute
)

// Refresher owns the token lifecycle of every client in a store. It is safe
// for concurrent use. Several processes may use one store directory: token
// fetches are serialised per client by the store's file lock.
type Refresher struct {
	opts  Options      // with defaults applied
	store *vault.Store // nil: every call fails with ClassConfig
	hc    *http.Client // for token requests
	log   *slog.Logger

	sf      singleflight.Group // one fetch per client and scope set in this process
	flights flightCount        // fetches running, for Stop to wait on

	// sweepTurn holds a token while a sweep runs, so sweeps (the
	// scheduler's and Sweep's) run one at a time; a channel rather than a
	// mutex so that a sweep waiting its turn gives up when its context ends.
	// The holder owns lastMono and lastWall.
	sweepTurn chan struct{}
	lastMono  time.Time // time.Now() at the last sweep (monotonic reading)
	lastWall  time.Time // wall clock at the last sweep

	mu      sync.Mutex // guards the fields below
	clients map[string]*entry
	subs    map[*Subscription]struct{}
	// fetchCtx is the long-lived context token sources are built from
	// (x/oauth2 keeps it for the request: golang/oauth2 issue 388); Stop
	// cancels it, ending fetches in flight, and makes a new one.
	fetchCtx    context.Context
	fetchCancel context.CancelFunc
	sched       *scheduler // nil unless started
	// indexSeen is the index file's size and modification time just before
	// the client list was last read, so a sweep notices what another
	// process (the command line) added, edited or removed.
	indexSeen fileStamp
}

// entry is what the refresher knows of one client.
type entry struct {
	client   vault.Client
	configs  map[string]*clientcredentials.Config // per scope set key; secret set only during a fetch
	slots    map[string]*slot                     // per scope set key; "" is the client's default set
	rotation vault.RotationStatus
	last     State // last published snapshot
}

// slot is the token and failure state of one client and scope set.
type slot struct {
	scopes      []string    // nil for the default set
	tok         vault.Token // best known token (the memory cache)
	missing     []string
	skew        time.Duration
	notCached   error
	err         *Error    // last error; nil after a success
	staleSince  time.Time // first failure since the last success
	nextAttempt time.Time // no automatic attempt before this
	held        bool      // rejected or misconfigured: no retries until a change or Force, or nextAttempt when set
	rejections  int       // consecutive rejections, for the slow retry of rejected credentials
	bo          *backoff.ExponentialBackOff
	inFlight    bool
	dueAt       time.Time // when the scheduler refreshes the token
	hadToken    bool
}

// New returns a Refresher for opts.Store. It does not start the scheduler.
func New(opts Options) *Refresher {
	if opts.HTTPClient == nil {
		opts.HTTPClient = NewHTTPClient(DefaultTimeout)
	}
	if opts.MarginMin <= 0 {
		opts.MarginMin = 5 * time.Minute
	}
	if opts.MarginFraction <= 0 {
		opts.MarginFraction = 0.2
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = 30 * time.Second
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Jitter == 0 {
		opts.Jitter = opts.SweepInterval
	}
	if opts.JumpThreshold <= 0 {
		opts.JumpThreshold = time.Minute
	}
	if opts.RotationInterval <= 0 {
		opts.RotationInterval = 24 * time.Hour
	}
	r := &Refresher{
		opts:      opts,
		store:     opts.Store,
		hc:        opts.HTTPClient,
		log:       opts.Logger.With("pkg", "refresher"),
		clients:   map[string]*entry{},
		subs:      map[*Subscription]struct{}{},
		sweepTurn: make(chan struct{}, 1),
	}
	r.fetchCtx, r.fetchCancel = context.WithCancel(context.Background())
	return r
}

// now is the wall clock without a monotonic reading, so that comparisons
// with expiries stay right across a suspend.
func (r *Refresher) now() time.Time { return r.opts.Now().Round(0) }

// margin is how long before expiry t is refreshed: max(MarginMin,
// MarginFraction of its lifetime), but never more than half its lifetime,
// so that every token is reused for at least half of its life (a 5-minute
// token, Keycloak's default, gets a 2m30s margin; a 30-second one 15s).
func (r *Refresher) margin(t vault.Token) time.Duration {
	return marginOf(t.Lifetime(), r.opts.MarginMin, r.opts.MarginFraction)
}

// marginOf is the refresh margin of a token living life:
// min(max(floor, fraction*life), life/2). A lifetime <= 0 has no margin.
func marginOf(life, floor time.Duration, fraction float64) time.Duration {
	if life <= 0 {
		return 0
	}
	return min(max(floor, time.Duration(fraction*float64(life))), life/2)
}

// fresh reports whether t has more than the margin and minTTL left at now.
func (r *Refresher) fresh(t vault.Token, now time.Time, minTTL time.Duration) bool {
	if t.AccessToken == "" || t.Expiry.IsZero() {
		return false
	}
	return t.Expiry.Sub(now) > max(r.margin(t), minTTL)
}

// usable reports whether t is still valid for minTTL (the stale rule).
func usable(t vault.Token, now time.Time, minTTL time.Duration) bool {
	return t.AccessToken != "" && !t.Expiry.IsZero() && t.Expiry.Sub(now) > max(minTTL, 0)
}

// fetchContext returns the current long-lived fetch context.
func (r *Refresher) fetchContext() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetchCtx
}

// entryLocked returns the entry of name, loading the client from the store
// when the refresher does not know it yet. r.mu is held.
func (r *Refresher) entryLocked(name string) (*entry, error) {
	if e, ok := r.clients[name]; ok {
		return e, nil
	}
	if r.store == nil {
		return nil, &Error{Class: ClassConfig, Client: name, Err: errors.New("no store"), cause: "the refresher has no store"}
	}
	c, err := r.store.Get(name)
	if err != nil {
		if errors.Is(err, vault.ErrNoClient) {
			return nil, fmt.Errorf("refresher: no client called %q: run tokentray list to see the names: %w", name, err)
		}
		return nil, &Error{Class: ClassConfig, Client: name, Err: err, cause: "cannot read the client index", fix: "run: tokentray doctor"}
	}
	e := r.newEntry(c)
	r.clients[name] = e
	return e, nil
}

func (r *Refresher) newEntry(c vault.Client) *entry {
	e := &entry{client: c, configs: map[string]*clientcredentials.Config{}, slots: map[string]*slot{}}
	if r.store != nil {
		e.rotation = r.store.Rotation(c)
	}
	return e
}

func (e *entry) slot(key string, scopes []string) *slot {
	s, ok := e.slots[key]
	if !ok {
		bo := backoff.NewExponentialBackOff()
		bo.InitialInterval = backoffInitial
		bo.Multiplier = 2
		bo.MaxInterval = backoffMax
		s = &slot{scopes: slices.Clone(scopes), bo: bo}
		e.slots[key] = s
	}
	return s
}

// scopeSet resolves the scopes of a Token call: the scope set to cache
// under (nil when equal to the client's) and the scopes to request.
func scopeSet(c vault.Client, asked []string) (set, requested []string, err *Error) {
	if asked == nil {
		return nil, slices.Clone(c.Scopes), nil
	}
	norm, verr := vault.NormalizeScopes(asked)
	if verr != nil {
		return nil, nil, &Error{Class: ClassConfig, Client: c.Name, Host: hostOf(c.TokenURL), Err: verr, cause: verr.Error()}
	}
	if norm == nil {
		norm = []string{}
	}
	if extra := vault.MissingScopes(norm, c.Scopes); len(extra) > 0 {
		return nil, nil, &Error{Class: ClassScope, Client: c.Name, Host: hostOf(c.TokenURL), Scopes: extra,
			Err:   fmt.Errorf("scopes %v are not among the client's", extra),
			cause: strings.Join(extra, " ") + " are not among its scopes"}
	}
	if vault.SameScopes(norm, c.Scopes) {
		return nil, slices.Clone(c.Scopes), nil
	}
	return norm, norm, nil
}

// resultOf builds a Result from a slot.
func resultOf(s *slot, src Origin, requested []string) Result {
	return Result{
		Token:     s.tok,
		Source:    src,
		Requested: slices.Clone(requested),
		Missing:   slices.Clone(s.missing),
		Skew:      s.skew,
		NotCached: s.notCached,
	}
}

// Token returns a token for the client with more than the margin (and
// opts.MinTTL) left: from memory, else the keyring cache, else a fetch (one
// at a time per client and scope set, across processes too). Errors are
// *Error, or wrap vault.ErrNoClient for an unknown name.
//
// The required remaining lifetime is max(margin, MinTTL). While refreshes
// fail (or wait for their retry time, or the credentials were rejected and
// nothing changed since), the last good token is returned as long as it is
// valid for MinTTL, with Result.RefreshErr set; a process that has none in
// memory takes the keyring's cached one when the failure is transient or a
// rate limit; an explicit Force tries the
// server regardless and returns its error when it fails.
func (r *Refresher) Token(ctx context.Context, name string, opts TokenOptions) (Result, error) {
	r.mu.Lock()
	e, err := r.entryLocked(name)
	if err != nil {
		r.mu.Unlock()
		return Result{}, err
	}
	c := e.client
	set, requested, serr := scopeSet(c, opts.Scopes)
	if serr != nil {
		r.mu.Unlock()
		return Result{}, serr
	}
	key := vault.ScopeSetKey(set)
	s := e.slot(key, set)
	now := r.now()
	if !opts.Force {
		if r.fresh(s.tok, now, opts.MinTTL) {
			res := resultOf(s, FromMemory, requested)
			r.mu.Unlock()
			return res, nil
		}
		if s.err != nil && s.waiting(now) {
			res, err := r.staleLocked(s, now, opts.MinTTL, requested)
			held, setAt := s.held, c.SecretSetAt
			r.mu.Unlock()
			if held && r.secretChanged(name, setAt) {
				// Another process stored a new secret: take it and try again.
				if rerr := r.Reload(); rerr == nil {
					return r.Token(ctx, name, opts)
				}
			}
			return res, err
		}
	}
	known := s.tok.AccessToken
	r.mu.Unlock()

	if !opts.Force && r.store != nil {
		// The token in memory, when the keyring holds the same one, wins: its
		// expiry may have been corrected after a clock jump.
		if t, err := r.store.Token(name, set); err == nil && t.AccessToken != known && r.fresh(t, now, opts.MinTTL) {
			r.mu.Lock()
			r.adoptLocked(name, key, set, t, requested)
			r.mu.Unlock()
			return Result{Token: t, Source: FromKeyring, Requested: slices.Clone(requested),
				Missing: vault.MissingScopes(requested, t.Scopes)}, nil
		} else if err != nil && !errors.Is(err, vault.ErrNotFound) {
			r.log.Debug("cached token unreadable", "client", name, "err", err)
		}
	}
	return r.fetch(ctx, fetchRequest{name: name, key: key, set: set, requested: requested, opts: opts})
}

// staleLocked returns the last good token with RefreshErr set, or the last
// error when there is no token valid for minTTL.
func (r *Refresher) staleLocked(s *slot, now time.Time, minTTL time.Duration, requested []string) (Result, error) {
	if usable(s.tok, now, minTTL) {
		res := resultOf(s, FromMemory, requested)
		res.RefreshErr = s.err.clone()
		return res, nil
	}
	return Result{Requested: slices.Clone(requested)}, s.err.clone()
}

// adoptLocked takes a token read from the keyring (fetched by another
// process or an earlier run) as the slot's token.
func (r *Refresher) adoptLocked(name, key string, set []string, t vault.Token, requested []string) {
	e, ok := r.clients[name]
	if !ok {
		return
	}
	s := e.slot(key, set)
	if s.tok.AccessToken == t.AccessToken && s.err == nil {
		return
	}
	s.tok = t
	s.hadToken = true
	s.missing = vault.MissingScopes(requested, t.Scopes)
	s.notCached = nil
	r.clearFailureLocked(s)
	s.dueAt = r.dueAt(t)
	if key == "" {
		r.publishLocked(e)
	}
}

// secretChanged reports whether the stored client's secret was set at
// another time than setAt (a new secret, stored by another process).
func (r *Refresher) secretChanged(name string, setAt time.Time) bool {
	if r.store == nil {
		return false
	}
	c, err := r.store.Get(name)
	return err == nil && !c.SecretSetAt.Equal(setAt)
}

func (r *Refresher) clearFailureLocked(s *slot) {
	s.err = nil
	s.staleSince = time.Time{}
	s.nextAttempt = time.Time{}
	s.held = false
	s.rejections = 0
	s.bo.Reset()
}

// dueAt is when the scheduler should refresh t: at the margin, minus a
// random jitter.
func (r *Refresher) dueAt(t vault.Token) time.Time {
	m := r.margin(t)
	due := t.Expiry.Add(-m)
	if j := r.opts.Jitter; j > 0 {
		// Never earlier than halfway to the margin.
		j = min(j, (t.Lifetime()-m)/2)
		if j > 0 {
			due = due.Add(-rand.N(j))
		}
	}
	return due
}

// autoDueAt is when the scheduler refreshes a slot on its own: at dueAt,
// but not before half the token's life (at least a second): the jitter
// never makes the scheduler replace a token Token would still serve from
// its cache for a while, and a very short-lived token does not make it
// fetch in a loop.
func autoDueAt(s *slot) time.Time {
	floor := s.tok.FetchedAt.Add(max(s.tok.Lifetime()/2, time.Second))
	if s.dueAt.Before(floor) {
		return floor
	}
	return s.dueAt
}

// flight is the outcome of one fetch shared by the callers that waited for
// it.
type flight struct {
	res Result
	err *Error
	// stale is the keyring's cached token, still valid, when the request
	// failed for a passing reason (transient, rate-limited): the last good
	// token of a process that had none in memory.
	stale *vault.Token
	// outdated: the client was edited (id, URL, scopes, ...) while the
	// request ran, so the token was not cached.
	outdated bool
}

// fetchRequest is one fetch of a token for a client and scope set.
type fetchRequest struct {
	name      string
	key       string   // the scope set's key; "" for the client's default set
	set       []string // the scope set cached under; nil for the default set
	requested []string // the scopes asked of the server
	opts      TokenOptions
	// replace: the scheduler's refresh ahead of the margin, which takes a
	// token cached by another process only if it differs from the one in
	// memory and is not due itself.
	replace bool

	// Filled in by fetch and doFetch.
	started time.Time    // when the caller asked (Force takes no older token)
	client  vault.Client // the client's settings when the fetch began
	host    string       // of the token URL, for errors
	known   string       // the access token in memory when the fetch began
}

// fetch gets a token through the per-process singleflight and the
// per-client file lock. The request runs on the refresher's long-lived
// context; ctx only bounds how long this caller waits.
func (r *Refresher) fetch(ctx context.Context, req fetchRequest) (Result, error) {
	req.started = r.now()
	name, key, requested, opts := req.name, req.key, req.requested, req.opts
	ch := r.sf.DoChan(name+"\x00"+key, func() (any, error) {
		r.flights.add()
		defer r.flights.done()
		return r.doFetch(req), nil
	})
	var f flight
	select {
	case <-ctx.Done():
		return Result{Requested: slices.Clone(requested)}, fmt.Errorf("refresher: token of %q: %w", name, ctx.Err())
	case out := <-ch:
		f = out.Val.(flight)
	}
	now := r.now()
	if f.err != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		if e, ok := r.clients[name]; ok {
			// An explicit refresh reports its failure: the last good token
			// is not a new one (the error says until when it stays valid).
			if s, ok := e.slots[key]; ok && !opts.Force && usable(s.tok, now, opts.MinTTL) {
				src := FromMemory
				if f.stale != nil && f.stale.AccessToken == s.tok.AccessToken {
					src = FromKeyring
				}
				res := resultOf(s, src, requested)
				res.RefreshErr = f.err.clone()
				return res, nil
			}
		}
		return Result{Requested: slices.Clone(requested)}, f.err.clone()
	}
	res := f.res
	res.Requested = slices.Clone(requested)
	if rem := res.Token.Expiry.Sub(now); rem < opts.MinTTL {
		return res, &Error{Class: ClassConfig, Client: name,
			Err:   fmt.Errorf("token valid for %v, less than the %v asked for", rem.Round(time.Second), opts.MinTTL),
			cause: fmt.Sprintf("the server issues tokens valid for %v, less than the %v asked for", res.Token.Lifetime().Round(time.Second), opts.MinTTL),
			fix:   "ask for a shorter minimum lifetime (--min-ttl)"}
	}
	return res, nil
}

// doFetch runs one fetch for a client and scope set: under the client's
// file lock it re-reads the keyring cache (another process may just have
// refreshed), then asks the token endpoint and caches the answer.
func (r *Refresher) doFetch(req fetchRequest) flight {
	ctx := r.fetchContext()
	name, key, set, requested := req.name, req.key, req.set, req.requested
	r.mu.Lock()
	e, ok := r.clients[name]
	if !ok {
		r.mu.Unlock()
		return flight{err: &Error{Class: ClassConfig, Client: name, Err: vault.ErrNoClient, cause: "the client was removed"}}
	}
	c := e.client
	req.client, req.host = c, hostOf(c.TokenURL)
	s := e.slot(key, set)
	s.inFlight = true
	req.known = s.tok.AccessToken
	if key == "" {
		r.publishLocked(e)
	}
	r.mu.Unlock()

	f := r.lockedFetch(ctx, req)

	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok = r.clients[name]
	if !ok {
		return f
	}
	s = e.slot(key, set)
	s.inFlight = false
	now := r.now()
	if f.err == nil && (f.outdated || !sameIdentity(c, e.client)) {
		// Issued for settings edited meanwhile (Reload kept the slot while
		// it was in flight): the callers that asked get it, the slot
		// starts afresh, and the keyring must not keep it.
		delete(e.slots, key)
		if key == "" {
			r.publishLocked(e)
		}
		if !f.outdated {
			// Before the callers return, so that their next call does not
			// adopt it from the keyring.
			r.mu.Unlock()
			r.dropOutdated(ctx, name, set, f.res.Token.AccessToken)
			r.mu.Lock()
		}
		return f
	}
	if f.err != nil {
		if t := f.stale; t != nil && t.AccessToken != s.tok.AccessToken && t.Expiry.After(s.tok.Expiry) {
			// Adopt the last good token from the keyring, as if it had been
			// in memory all along: served while the failure lasts.
			s.tok = *t
			s.hadToken = true
			s.missing = vault.MissingScopes(requested, t.Scopes)
			s.notCached = nil
			s.dueAt = r.dueAt(*t)
		}
		r.failLocked(e, s, f.err, now)
	} else {
		s.tok = f.res.Token
		s.hadToken = true
		s.missing = slices.Clone(f.res.Missing)
		s.skew = f.res.Skew
		s.notCached = f.res.NotCached
		r.clearFailureLocked(s)
		s.dueAt = r.dueAt(s.tok)
		r.log.Info("token refreshed", "client", name, "source", string(f.res.Source),
			"fingerprint", s.tok.Fingerprint(), "expiry", s.tok.Expiry, "missing", s.missing)
	}
	if key == "" {
		r.publishLocked(e)
	}
	return f
}

// lockedFetch is the part of doFetch under the client's file lock.
func (r *Refresher) lockedFetch(ctx context.Context, req fetchRequest) flight {
	name, host := req.client.Name, req.host
	if r.store == nil {
		return flight{err: &Error{Class: ClassConfig, Client: name, Host: host, Err: errors.New("no store"), cause: "the refresher has no store"}}
	}
	unlock, err := r.store.LockClient(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return flight{err: classify(err, name, host, req.requested, nil, r.now())}
		}
		// A local file problem (permissions, a full disk), not the network.
		return flight{err: &Error{Class: ClassConfig, Client: name, Host: host, Err: err,
			cause: "cannot take its lock file: " + sanitize(err.Error(), nil, 200),
			fix:   "check that the configuration directory is writable; run: tokentray doctor"}}
	}
	defer unlock()
	cached, f, done := r.cachedUnderLock(req)
	if done {
		return f
	}
	secret, err := r.store.Secret(name)
	if err != nil {
		e := keyringError(name, err)
		e.Host = host
		return flight{err: e}
	}
	f = r.askServer(ctx, req, secret)
	if f.err != nil {
		// Only a passing failure serves the last good token; a rejected or
		// misconfigured client does not.
		if f.err.Class == ClassTransient || f.err.Class == ClassRateLimited {
			f.stale = cached
		}
		return f
	}
	return r.keep(req, f.res)
}

// cachedUnderLock reads the keyring's cached token once the client's lock
// is taken: another process may just have fetched one. It returns that
// token while it is valid (the last good one should the request fail), and
// the flight that ends the fetch when it is the token the caller wants.
func (r *Refresher) cachedUnderLock(req fetchRequest) (valid *vault.Token, f flight, done bool) {
	t, err := r.store.Token(req.client.Name, req.set)
	if err != nil {
		return nil, flight{}, false
	}
	now := r.now()
	if usable(t, now, 0) {
		valid = &t
	}
	ok := r.fresh(t, now, req.opts.MinTTL)
	if req.opts.Force || req.replace {
		ok = ok && t.AccessToken != req.known
	}
	if req.replace {
		// The scheduler takes a token cached by another process (or an
		// earlier run) only when that one is not due itself.
		ok = ok && now.Before(r.dueAt(t))
	}
	if req.opts.Force {
		// Someone fetched while this caller waited: that is the new token.
		ok = ok && !t.FetchedAt.Before(req.started)
	}
	if !ok {
		return valid, flight{}, false
	}
	return valid, flight{res: Result{Token: t, Source: FromKeyring, Missing: vault.MissingScopes(req.requested, t.Scopes)}}, true
}

// askServer runs the token request with the client's secret, which is set
// on the shared configuration for this one request only.
func (r *Refresher) askServer(ctx context.Context, req fetchRequest, secret string) flight {
	c, name := req.client, req.client.Name
	cfg := r.config(name, req.key, c)
	cfg.ClientSecret = secret
	cfg.Scopes = req.requested
	res, ferr := exchange(ctx, r.hc, cfg, c, req.requested, r.now)
	cfg.ClientSecret = ""
	if ferr != nil {
		var e *Error
		if !errors.As(ferr, &e) {
			e = classify(ferr, name, req.host, req.requested, nil, r.now())
		}
		return flight{err: e}
	}
	return flight{res: res}
}

// keep caches a new token in the keyring, unless the client was edited
// while the request ran (tokentray edit, the window): then the token is
// for the old settings, and what the edit could not drop while this fetch
// held the lock is dropped.
func (r *Refresher) keep(req fetchRequest, res Result) flight {
	name := req.client.Name
	if r.editedMeanwhile(req.client) {
		if err := r.store.DeleteToken(name, req.set); err != nil {
			r.log.Warn("cannot drop a cached token after an edit", "client", name, "err", err)
		}
		return flight{res: res, outdated: true}
	}
	if err := r.store.SetToken(name, req.set, res.Token); err != nil {
		res.NotCached = err
		r.log.Warn("token kept in memory only", "client", name, "fingerprint", res.Token.Fingerprint(), "err", err)
	}
	return flight{res: res}
}

// editedMeanwhile reports whether the stored settings of c differ from c
// in what its tokens stand for. While the index file is the one the client
// list was read from, nothing was edited, and a stat answers: reading the
// index decodes every client, which made each token of a 1,000-client fill
// pay for the 1,000.
func (r *Refresher) editedMeanwhile(c vault.Client) bool {
	if !r.indexChanged() {
		return false
	}
	cur, err := r.store.Get(c.Name)
	return err == nil && !sameIdentity(cur, c)
}

// dropOutdated deletes the keyring's cached token of name and scope set
// when it still holds access (a token issued for settings since edited),
// under the client's lock.
func (r *Refresher) dropOutdated(ctx context.Context, name string, set []string, access string) {
	unlock, err := r.store.LockClient(ctx, name)
	if err != nil {
		return
	}
	defer unlock()
	if t, err := r.store.Token(name, set); err == nil && t.AccessToken == access {
		if err := r.store.DeleteToken(name, set); err != nil {
			r.log.Warn("cannot drop a cached token after an edit", "client", name, "err", err)
		}
	}
}

// config returns the x/oauth2 configuration of a client and scope set.
// Fetches of one client and scope set are serialised by the singleflight,
// so the caller may set the secret and scopes on it for one request.
func (r *Refresher) config(name, key string, c vault.Client) *clientcredentials.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.clients[name]
	if !ok {
		return newConfig(c)
	}
	cfg, ok := e.configs[key]
	if !ok {
		cfg = newConfig(c)
		e.configs[key] = cfg
	}
	return cfg
}

// failLocked records a failed fetch and applies the failure policy.
func (r *Refresher) failLocked(e *entry, s *slot, err *Error, now time.Time) {
	if s.staleSince.IsZero() {
		s.staleSince = now
	}
	first := s.err == nil || s.err.Class != err.Class
	switch err.Class {
	case ClassRejected:
		// No retry storm, but no giving up either: the provider may accept
		// the secret again (a revocation undone, an outage of its client
		// store), so one slow attempt after 1, 2, 4 ... up to 30 minutes.
		s.held = true
		s.nextAttempt = now.Add(rejectedRetry(s.rejections))
		s.rejections++
		err.RetryAt = s.nextAttempt
	case ClassConfig, ClassEndpoint:
		s.held = true
		s.nextAttempt = time.Time{}
	case ClassRateLimited:
		if !err.RetryAt.IsZero() {
			s.nextAttempt = err.RetryAt
		} else {
			s.nextAttempt = now.Add(min(s.bo.NextBackOff(), backoffMax))
			err.RetryAt = s.nextAttempt
		}
	default:
		s.nextAttempt = now.Add(min(s.bo.NextBackOff(), backoffMax))
		err.RetryAt = s.nextAttempt
	}
	if usable(s.tok, now, 0) {
		err.ValidUntil = s.tok.Expiry
	}
	// Only the scheduler retries on its own; a one-shot caller (the
	// command line) has nothing retrying.
	err.Retrying = !s.held && r.sched != nil
	s.err = err.clone()
	lvl := slog.LevelWarn
	if !first {
		lvl = slog.LevelDebug
	}
	r.log.Log(context.Background(), lvl, "token refresh failed", "client", e.client.Name, "class", string(err.Class),
		"status", err.Status, "code", err.Code, "retry_at", err.RetryAt, "valid_until", err.ValidUntil)
}

// rejectedRetry is how long after its n-th consecutive rejection (from 0)
// a client's credentials are tried again: 1 minute, doubling, at most 30.
func rejectedRetry(n int) time.Duration {
	return min(time.Minute<<min(n, 5), 30*time.Minute)
}

// waiting reports whether a failed slot waits at now: held without a retry
// time (until a change or Force), or before its retry time.
func (s *slot) waiting(now time.Time) bool {
	if s.held && s.nextAttempt.IsZero() {
		return true
	}
	return now.Before(s.nextAttempt)
}

// flightCount counts running fetches so that Stop can wait for them.
type flightCount struct {
	mu   sync.Mutex    // guards n and zero
	n    int           // fetches running
	zero chan struct{} // closed when n drops to 0
}

func (f *flightCount) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.zero = make(chan struct{})
	}
	f.n++
}

func (f *flightCount) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.zero)
	}
}

// idle returns a channel closed when no fetch is running.
func (f *flightCount) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return f.zero
}

package refresher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokentray/tokentray/vault"
)

// stateLocked computes the snapshot of e at now. r.mu is held.
func (r *Refresher) stateLocked(e *entry, now time.Time) State {
	st := State{Client: e.client.Clone(), Phase: r.phaseOf(e, now), Rotation: e.rotation, At: now}
	s, ok := e.slots[""]
	if !ok {
		return st
	}
	if usable(s.tok, now, 0) {
		st.Expiry = s.tok.Expiry
		st.FetchedAt = s.tok.FetchedAt
		st.Margin = r.margin(s.tok)
		st.RefreshAt = autoDueAt(s)
		st.Granted = slices.Clone(s.tok.Scopes)
		st.ScopesAssumed = s.tok.ScopesAssumed
		st.Missing = slices.Clone(s.missing)
		st.Fingerprint = s.tok.Fingerprint()
		st.Skew = s.skew
	}
	st.Err = s.err.clone()
	st.StaleSince = s.staleSince
	st.NextAttempt = s.nextAttempt
	return st
}

// phaseOf is the phase of e's default scope set at now. r.mu is held.
func (r *Refresher) phaseOf(e *entry, now time.Time) Phase {
	s, ok := e.slots[""]
	if !ok {
		return PhaseNone
	}
	valid := usable(s.tok, now, 0)
	switch {
	case s.inFlight:
		return PhaseRefreshing
	case s.err != nil && s.err.Class == ClassRejected:
		return PhaseRejected
	case valid && s.err == nil && r.fresh(s.tok, now, 0):
		return PhaseFresh
	case valid:
		// Failing, or inside the margin and about to be refreshed.
		return PhaseStale
	case s.err != nil || s.hadToken:
		return PhaseExpired
	}
	return PhaseNone
}

// sameState compares snapshots ignoring when they were taken.
func sameState(a, b State) bool {
	a.At, b.At = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// publishLocked sends e's snapshot to every subscriber if it changed since
// the last one. r.mu is held.
func (r *Refresher) publishLocked(e *entry) {
	st := r.stateLocked(e, r.now())
	if sameState(st, e.last) {
		return
	}
	e.last = st
	r.sendLocked(st)
}

func (r *Refresher) sendLocked(st State) {
	for sub := range r.subs {
		send(sub.c, st)
	}
}

// send delivers st without blocking. When the buffer is full it keeps the
// newest snapshot of each client, dropping superseded ones first and then
// the oldest, so the latest state of every client always arrives (as long
// as the buffer holds one per client).
func send(c chan State, st State) {
	select {
	case c <- st:
		return
	default:
	}
	var buf []State
drain:
	for {
		select {
		case x := <-c:
			buf = append(buf, x)
		default:
			break drain
		}
	}
	buf = append(buf, st)
	last := make(map[string]int, len(buf))
	for i, x := range buf {
		last[x.Client.Name] = i
	}
	kept := make([]State, 0, len(buf))
	for i, x := range buf {
		if last[x.Client.Name] == i {
			kept = append(kept, x)
		}
	}
	if over := len(kept) - cap(c); over > 0 {
		kept = kept[over:]
	}
	for _, x := range kept {
		select {
		case c <- x:
		default:
		}
	}
}

// States returns the current state of every client, sorted by name.
func (r *Refresher) States() []State {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	names := slices.Sorted(maps.Keys(r.clients))
	out := make([]State, 0, len(names))
	for _, n := range names {
		out = append(out, r.stateLocked(r.clients[n], now))
	}
	return out
}

// State returns the current state of one client.
func (r *Refresher) State(name string) (State, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.clients[name]
	if !ok {
		return State{}, false
	}
	return r.stateLocked(e, r.now()), true
}

// Subscription delivers State snapshots. Slow readers miss snapshots rather
// than block the refresher (each State is complete, so the latest wins).
type Subscription struct {
	c     chan State
	close func()
}

// C returns the channel of snapshots; it is closed by Close.
func (s *Subscription) C() <-chan State { return s.c }

// Close ends the subscription. It may be called more than once.
func (s *Subscription) Close() { s.close() }

// Subscribe returns a new subscription with a buffered channel (at least 64
// snapshots, and two per known client). Snapshots are published on every
// change; to start from the present, Subscribe first, then read States.
func (r *Refresher) Subscribe() *Subscription {
	r.mu.Lock()
	defer r.mu.Unlock()
	sub := &Subscription{c: make(chan State, max(64, 2*len(r.clients)))}
	var once sync.Once
	sub.close = func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			delete(r.subs, sub)
			close(sub.c)
		})
	}
	r.subs[sub] = struct{}{}
	return sub
}

// sameIdentity reports whether tokens of a can stand for b: same id, token
// URL, scopes, auth style and endpoint parameters.
func sameIdentity(a, b vault.Client) bool {
	return a.ClientID == b.ClientID && a.TokenURL == b.TokenURL && a.AuthStyle == b.AuthStyle &&
		vault.SameScopes(a.Scopes, b.Scopes) && reflect.DeepEqual(a.EndpointParams, b.EndpointParams)
}

// Reload re-reads the client list from the store (after add, edit, remove,
// a secret change) and publishes the states that changed. A client whose
// secret changed leaves the rejected state (and any backoff); a client whose
// id, token URL, scopes, auth style or endpoint parameters changed loses its
// cached tokens. The scheduler, when running, then checks the clients at
// once (a new client gets its first token).
func (r *Refresher) Reload() error {
	changed, err := r.reload()
	if err != nil {
		return err
	}
	r.mu.Lock()
	sched := r.sched
	r.mu.Unlock()
	if changed && sched != nil {
		sched.kick()
	}
	return nil
}

// reload is Reload without waking the scheduler; it reports whether a
// client was added, or its secret or identity changed (something to fetch).
func (r *Refresher) reload() (bool, error) {
	if r.store == nil {
		return false, errors.New("refresher: reload: no store")
	}
	stamp := r.indexStamp() // before reading: a write in between is seen next time
	clients, err := r.store.List()
	if err != nil {
		return false, fmt.Errorf("refresher: reload: %w", err)
	}
	type drop struct {
		name   string
		scopes []string
	}
	var drops []drop
	var newSecret []string // clients whose secret changed (a rotation switch, set-secret)
	changed := false
	r.mu.Lock()
	r.indexSeen = stamp
	seen := make(map[string]bool, len(clients))
	for _, c := range clients {
		seen[c.Name] = true
		e, ok := r.clients[c.Name]
		if !ok {
			e = r.newEntry(c)
			r.clients[c.Name] = e
			r.publishLocked(e)
			changed = true
			continue
		}
		old := e.client
		e.client = c
		if !sameIdentity(old, c) {
			changed = true
			e.configs = map[string]*clientcredentials.Config{}
			for key, s := range e.slots {
				if s.inFlight {
					continue
				}
				drops = append(drops, drop{c.Name, s.scopes})
				delete(e.slots, key)
			}
			if _, ok := e.slots[""]; !ok {
				drops = append(drops, drop{c.Name, nil})
			}
		} else if !old.SecretSetAt.Equal(c.SecretSetAt) {
			changed = true
			newSecret = append(newSecret, c.Name)
			for _, s := range e.slots {
				if s.err != nil {
					// Keep the error for the record until the next attempt,
					// which may happen at once.
					s.held = false
					s.nextAttempt = time.Time{}
					s.bo.Reset()
				}
			}
		}
		e.rotation = r.store.Rotation(c)
		r.publishLocked(e)
	}
	for name, e := range r.clients {
		if seen[name] {
			continue
		}
		delete(r.clients, name)
		st := r.stateLocked(e, r.now())
		st.Removed = true
		r.sendLocked(st)
	}
	r.mu.Unlock()
	for _, d := range drops {
		if err := r.store.DeleteToken(d.name, d.scopes); err != nil {
			r.log.Warn("cannot drop a cached token after an edit", "client", d.name, "err", err)
		}
	}
	// A rotation's switch caches a token fetched with the new secret: serve
	// it from now on rather than the old secret's token held in memory.
	for _, name := range newSecret {
		t, err := r.store.Token(name, nil)
		if err != nil || !t.Valid(r.now()) {
			continue
		}
		r.mu.Lock()
		if e, ok := r.clients[name]; ok {
			r.adoptLocked(name, "", nil, t, e.client.Scopes)
		}
		r.mu.Unlock()
	}
	return changed, nil
}

// Close stops the scheduler, cancels fetches in flight and closes every
// subscription. The Refresher must not be used afterwards.
func (r *Refresher) Close() error {
	err := r.Stop(context.Background())
	r.mu.Lock()
	subs := slices.Collect(maps.Keys(r.subs))
	r.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
	return err
}

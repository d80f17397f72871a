package demoserver

import (
	"fmt"
	"slices"
	"time"
)

// Trouble is what the server does wrong on purpose, for one client or, under
// the key "" (AllClients), for every client. The zero value is no trouble.
type Trouble struct {
	// RejectSecret refuses the client's secret: 401 invalid_client.
	RejectSecret bool
	// DropScopes are scopes taken away from the client: requesting one gives
	// invalid_scope, and a request without scope is granted the others.
	DropScopes []string
	// RateLimit, when positive, answers every token request with 429 Too
	// Many Requests and Retry-After set to RateLimit in whole seconds
	// (rounded up, at least 1).
	RateLimit time.Duration
}

// AllClients is the client key for trouble that applies to every client.
const AllClients = ""

func (t Trouble) clone() Trouble {
	t.DropScopes = slices.Clone(t.DropScopes)
	return t
}

// toggleScope drops scope if it is not dropped, else restores it.
func (t *Trouble) toggleScope(scope string) {
	if i := slices.Index(t.DropScopes, scope); i >= 0 {
		t.DropScopes = slices.Delete(t.DropScopes, i, i+1)
		return
	}
	t.DropScopes = append(t.DropScopes, scope)
}

// isZero reports whether t is no trouble at all.
func (t Trouble) isZero() bool {
	return !t.RejectSecret && len(t.DropScopes) == 0 && t.RateLimit <= 0
}

// SetTrouble replaces the trouble for clientID (AllClients for every
// client). The trouble for every client and a client's own trouble add up.
func (s *Server) SetTrouble(clientID string, t Trouble) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.isZero() {
		delete(s.trouble, clientID)
		return
	}
	s.trouble[clientID] = t.clone()
}

// Trouble returns the trouble set for clientID (AllClients for the trouble
// set for every client), as set: not combined with the other key.
func (s *Server) Trouble(clientID string) Trouble {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trouble[clientID].clone()
}

// Effective returns the trouble a request of clientID meets now: its own
// combined with the trouble for every client.
func (s *Server) Effective(clientID string) Trouble {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.effectiveLocked(clientID)
}

// effectiveLocked combines the trouble for every client with clientID's;
// s.mu must be held.
func (s *Server) effectiveLocked(clientID string) Trouble {
	t := s.trouble[AllClients].clone()
	if clientID == AllClients {
		return t
	}
	c := s.trouble[clientID]
	t.RejectSecret = t.RejectSecret || c.RejectSecret
	for _, sc := range c.DropScopes {
		if !slices.Contains(t.DropScopes, sc) {
			t.DropScopes = append(t.DropScopes, sc)
		}
	}
	t.RateLimit = max(t.RateLimit, c.RateLimit)
	return t
}

// update applies f to the trouble of clientID under the lock.
func (s *Server) update(clientID string, f func(*Trouble)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.trouble[clientID].clone()
	f(&t)
	if t.isZero() {
		delete(s.trouble, clientID)
		return
	}
	s.trouble[clientID] = t
}

// RejectSecret makes the server refuse clientID's secret (AllClients: every
// secret) with 401 invalid_client, until AcceptSecret or Reset.
func (s *Server) RejectSecret(clientID string) {
	s.update(clientID, func(t *Trouble) { t.RejectSecret = true })
}

// AcceptSecret undoes RejectSecret for clientID.
func (s *Server) AcceptSecret(clientID string) {
	s.update(clientID, func(t *Trouble) { t.RejectSecret = false })
}

// DropScope takes scope away from clientID (AllClients: from every client),
// so that requesting it gives invalid_scope, until RestoreScope or Reset.
func (s *Server) DropScope(clientID, scope string) {
	s.update(clientID, func(t *Trouble) {
		if !slices.Contains(t.DropScopes, scope) {
			t.DropScopes = append(t.DropScopes, scope)
		}
	})
}

// RestoreScope undoes DropScope for clientID and scope.
func (s *Server) RestoreScope(clientID, scope string) {
	s.update(clientID, func(t *Trouble) {
		t.DropScopes = slices.DeleteFunc(t.DropScopes, func(sc string) bool { return sc == scope })
	})
}

// RateLimit answers every token request with 429 and Retry-After d (in whole
// seconds, rounded up); d <= 0 lifts the limit set for every client.
func (s *Server) RateLimit(d time.Duration) { s.RateLimitClient(AllClients, d) }

// RateLimitClient is RateLimit for the requests of one client.
func (s *Server) RateLimitClient(clientID string, d time.Duration) {
	s.update(clientID, func(t *Trouble) { t.RateLimit = max(d, 0) })
}

// Reset clears every trouble, for every client, and reopens the listener
// if Down closed it. Counters and secrets stay as they are.
func (s *Server) Reset() error {
	s.mu.Lock()
	clear(s.trouble)
	s.mu.Unlock()
	return s.Up()
}

// retryAfter is d in whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprint(max(secs, 1))
}

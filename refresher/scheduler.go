package refresher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// scheduler runs the sweeps and the rotation checks between Start and
// Stop. One goroutine (loop) runs every sweep, so sweeps never overlap:
// cron's periodic job, the timer of the next due instant and a change of
// the client list only wake it, and wake-ups that come while a sweep runs
// fold into one sweep after it.
type scheduler struct {
	cron   *cron.Cron
	ctx    context.Context // cancelled by Stop: ends the loop and its sweeps
	cancel context.CancelFunc
	wake   chan struct{}  // sweep as soon as possible (buffered 1)
	wg     sync.WaitGroup // the loop goroutine
}

// kick asks the loop for a sweep; it never blocks.
func (s *scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default: // a sweep is asked for already
	}
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

// Start runs the scheduler (sweep and rotation checks) until Stop or until
// ctx ends. It reads the client list from the store and publishes an
// initial State per client, checks rotation, and sweeps at once, so every
// client without a fresh token gets one. Sweeps then run every
// SweepInterval and at the instant the next token comes due (or the next
// retry is allowed); rotation is re-checked every RotationInterval.
func (r *Refresher) Start(ctx context.Context) error {
	if r.store == nil {
		return errors.New("refresher: start: no store")
	}
	r.mu.Lock()
	if r.sched != nil {
		r.mu.Unlock()
		return errors.New("refresher: start: already running")
	}
	lg := cronLogger{r.log}
	s := &scheduler{
		cron: cron.New(cron.WithChain(cron.Recover(lg)), cron.WithLogger(lg)),
		wake: make(chan struct{}, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	r.sched = s
	r.mu.Unlock()

	if _, err := s.cron.AddFunc(every(r.opts.SweepInterval), s.kick); err != nil {
		r.abort(s)
		return fmt.Errorf("refresher: start: schedule sweeps: %w", err)
	}
	if _, err := s.cron.AddFunc(every(r.opts.RotationInterval), r.checkRotation); err != nil {
		r.abort(s)
		return fmt.Errorf("refresher: start: schedule rotation checks: %w", err)
	}
	if err := r.Reload(); err != nil {
		r.abort(s)
		return fmt.Errorf("refresher: start: %w", err)
	}
	r.checkRotation()
	s.cron.Start()
	s.wg.Go(func() { r.loop(s) })
	s.kick()
	if ctx != nil && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = r.Stop(context.Background()) })
		context.AfterFunc(s.ctx, func() { stop() })
	}
	r.log.Info("scheduler started", "clients", len(r.States()), "sweep", r.opts.SweepInterval, "max_in_flight", r.opts.MaxInFlight)
	return nil
}

// every is the cron spec of a constant interval (whole seconds, at least 1).
func every(d time.Duration) string {
	return "@every " + max(d.Round(time.Second), time.Second).String()
}

func (r *Refresher) abort(s *scheduler) {
	r.mu.Lock()
	if r.sched == s {
		r.sched = nil
	}
	r.mu.Unlock()
	s.cancel()
}

// loop runs every sweep of the scheduler: when woken, and at the instant
// the next client comes due.
func (r *Refresher) loop(s *scheduler) {
	due := time.NewTimer(time.Hour)
	due.Stop()
	defer due.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case <-due.C:
		}
		due.Stop()
		if next := r.autoSweep(s.ctx); !next.IsZero() {
			due.Reset(max(next.Sub(r.now()), 0))
		}
	}
}

// Stop cancels fetches in flight and waits for running jobs, or for ctx.
// Token keeps working after Stop (on a new fetch context); Start may be
// called again.
func (r *Refresher) Stop(ctx context.Context) error {
	r.mu.Lock()
	s := r.sched
	r.sched = nil
	r.fetchCancel()
	r.fetchCtx, r.fetchCancel = context.WithCancel(context.Background())
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if s != nil {
			s.cancel()
			<-s.cron.Stop().Done()
			s.wg.Wait()
		}
		<-r.flights.idle()
	}()
	select {
	case <-done:
		if s != nil {
			r.log.Info("scheduler stopped")
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("refresher: stop: jobs still running: %w", ctx.Err())
	}
}

// Sweep refreshes now every client that is due (its token inside the
// margin minus its jitter, missing or expired, its retry time reached),
// with at most MaxInFlight fetches at a time, and publishes the states that
// changed with time. After a wall-clock jump (suspend, clock change) every
// client whose token is not fresh is re-checked at once. It returns the
// number of clients that were due. It waits for a sweep already running
// (sweeps never overlap) and returns 0 when ctx ends before its turn. It is
// exported for "refresh all" and benchmarks; the scheduler runs its own.
func (r *Refresher) Sweep(ctx context.Context) int {
	n, _ := r.sweep(ctx, false)
	return n
}

// autoSweep runs one sweep of the scheduler and returns the next instant a
// client comes due (zero when none). It waits for a Sweep running on
// another goroutine.
func (r *Refresher) autoSweep(ctx context.Context) time.Time {
	_, next := r.sweep(ctx, true)
	return next
}

// sweep runs sweepLocked when its turn comes, one sweep at a time; it
// returns zeros when ctx ends first.
func (r *Refresher) sweep(ctx context.Context, auto bool) (int, time.Time) {
	select {
	case r.sweepTurn <- struct{}{}:
	case <-ctx.Done():
		return 0, time.Time{}
	}
	defer func() { <-r.sweepTurn }()
	r.log.Debug("sweep started", "auto", auto)
	n, next := r.sweepLocked(ctx, auto)
	r.log.Debug("sweep done", "due", n, "next", next)
	return n, next
}

// detectJump compares wall-clock and monotonic time elapsed since the last
// sweep. The caller holds r.sweepTurn.
func (r *Refresher) detectJump() (time.Duration, bool) {
	mono := time.Now()
	wall := r.opts.Now().Round(0)
	defer func() { r.lastMono, r.lastWall = mono, wall }()
	if r.lastMono.IsZero() {
		return 0, false
	}
	diff := wall.Sub(r.lastWall) - mono.Sub(r.lastMono)
	if diff > r.opts.JumpThreshold || diff < -r.opts.JumpThreshold {
		return diff, true
	}
	return 0, false
}

// sweepLocked is a sweep, its caller holding r.sweepTurn. auto (the
// scheduler's own sweeps) refreshes a token no earlier than autoDueAt. It
// returns the number of clients that were due and the next instant one
// comes due (zero when none, or when ctx ended).
func (r *Refresher) sweepLocked(ctx context.Context, auto bool) (int, time.Time) {
	dueAt := func(s *slot) time.Time {
		if auto {
			return autoDueAt(s)
		}
		return s.dueAt
	}
	jump := r.catchUp(auto)
	due, next := r.dueClients(r.now(), jump, dueAt)
	if len(due) == 0 {
		return 0, next
	}
	if !r.refreshEach(ctx, due) {
		return len(due), time.Time{}
	}
	// Due instants changed with the fetches: look again.
	now := r.now()
	next = earliest(next, r.nextDueOf(due, now, dueAt))
	if !next.IsZero() && next.Before(now) {
		next = now
	}
	return len(due), next
}

// catchUp brings the refresher up to date before a sweep looks at the
// clients: after a wall-clock jump it moves tokens and retry times and
// re-checks rotation; a scheduled sweep (auto) re-reads the client list
// when another process (the command line) changed the store, or when a
// held client waits for a new secret or an edit another process may have
// made. It reports whether the clock jumped.
func (r *Refresher) catchUp(auto bool) bool {
	jumpBy, jump := r.detectJump()
	if jump {
		r.log.Info("clock jump detected: re-checking every client", "jump", jumpBy.Round(time.Second))
		r.afterJump(jumpBy)
		r.checkRotation()
	}
	if auto && (r.indexChanged() || r.anyHeld()) {
		if _, err := r.reload(); err != nil {
			r.log.Warn("cannot re-read the client list", "err", err)
		}
	}
	return jump
}

// dueClients publishes the states whose phase changed with time, and
// returns the clients due at now and the earliest instant another one
// comes due. After a clock jump every token that is not fresh is due.
func (r *Refresher) dueClients(now time.Time, jump bool, dueAt func(*slot) time.Time) (due []string, next time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, e := range r.clients {
		if r.phaseOf(e, now) != e.last.Phase {
			r.publishLocked(e)
		}
		s, ok := e.slots[""]
		switch {
		case !ok:
			due = append(due, name)
		case s.inFlight || (s.held && s.nextAttempt.IsZero()):
		case s.err != nil:
			if now.Before(s.nextAttempt) {
				next = earliest(next, s.nextAttempt)
			} else {
				due = append(due, name)
			}
		case !usable(s.tok, now, 0):
			due = append(due, name)
		case !now.Before(dueAt(s)) || (jump && !r.fresh(s.tok, now, 0)):
			due = append(due, name)
		default:
			next = earliest(next, dueAt(s))
		}
	}
	return due, next
}

// refreshEach refreshes the due clients, at most MaxInFlight at a time. It
// reports false when ctx ended before every refresh started.
func (r *Refresher) refreshEach(ctx context.Context, due []string) bool {
	sem := make(chan struct{}, r.opts.MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, name := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		wg.Go(func() {
			defer func() { <-sem }()
			r.refreshDue(ctx, name)
		})
	}
	return true
}

// nextDueOf is the earliest instant one of the named clients comes due
// again after their refreshes (zero when none will on its own).
func (r *Refresher) nextDueOf(names []string, now time.Time, dueAt func(*slot) time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next time.Time
	for _, name := range names {
		e, ok := r.clients[name]
		if !ok {
			continue
		}
		s, ok := e.slots[""]
		if !ok || s.inFlight || (s.held && s.nextAttempt.IsZero()) {
			continue
		}
		if s.err != nil {
			next = earliest(next, s.nextAttempt)
		} else if usable(s.tok, now, 0) {
			next = earliest(next, dueAt(s))
		}
	}
	return next
}

// earliest is the earlier of a and b, a zero time meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// anyHeld reports whether some client waits for a change (rejected or
// misconfigured).
func (r *Refresher) anyHeld() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.clients {
		for _, s := range e.slots {
			if s.held {
				return true
			}
		}
	}
	return false
}

// afterJump adjusts to a wall-clock jump of d beyond monotonic time. A
// forward jump (a suspend, or the clock set ahead) leaves expiries right or
// early, which is safe; after a backward jump they were computed on a clock
// that ran ahead, so tokens in memory are moved earlier by the jump. Every
// failing client (except rejected ones) may retry at once: backoff waits
// planned before a suspend mean nothing after it.
func (r *Refresher) afterJump(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.clients {
		for _, s := range e.slots {
			if d < 0 && s.tok.AccessToken != "" {
				s.tok.Expiry = s.tok.Expiry.Add(d)
				s.tok.FetchedAt = s.tok.FetchedAt.Add(d)
				s.dueAt = s.dueAt.Add(d)
			}
			if s.err != nil && !s.held {
				s.nextAttempt = time.Time{}
			}
		}
	}
}

// refreshDue gets a new token for a due client's default scopes: a newer
// token cached by another process, or a fetch. The keyring's cached token
// is read once, under the client's lock (cachedUnderLock): a read before
// the lock as well would cost every due client a second keyring round trip
// for what the read under the lock sees anyway.
func (r *Refresher) refreshDue(ctx context.Context, name string) {
	r.mu.Lock()
	e, ok := r.clients[name]
	if !ok {
		r.mu.Unlock()
		return
	}
	requested := append([]string(nil), e.client.Scopes...)
	r.mu.Unlock()
	_, err := r.fetch(ctx, fetchRequest{name: name, requested: requested, replace: true})
	if err != nil {
		r.log.Debug("scheduled refresh failed", "client", name, "err", err)
	}
}

// checkRotation recomputes every client's rotation status and publishes
// the ones that changed.
func (r *Refresher) checkRotation() {
	if r.store == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.clients {
		st := r.store.Rotation(e.client)
		if st != e.rotation {
			e.rotation = st
			r.publishLocked(e)
		}
	}
}

// fileStamp identifies a version of a file cheaply; the zero value means the
// file was missing.
type fileStamp struct {
	size int64
	mod  time.Time
}

func (r *Refresher) indexStamp() fileStamp {
	if fi, err := os.Stat(r.store.IndexPath()); err == nil {
		return fileStamp{size: fi.Size(), mod: fi.ModTime()}
	}
	return fileStamp{}
}

// indexChanged reports whether the index file differs from the one the
// client list was last read from.
func (r *Refresher) indexChanged() bool {
	if r.store == nil {
		return false
	}
	now := r.indexStamp()
	r.mu.Lock()
	defer r.mu.Unlock()
	return now != r.indexSeen
}

package refresher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// handlerTransport serves requests in memory with an http.Handler: real
// sockets do not go well with synctest's fake clock.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err // as a real transport does when cancelled
	}
	res := rec.Result()
	res.Request = req
	return res, nil
}

// bubble is a refresher on a fake token endpoint inside a synctest bubble.
type bubble struct {
	srv    *tokenServer
	store  *vault.Store
	r      *Refresher
	offset atomic.Int64 // added to the wall clock (a clock jump)
	t0     time.Time
}

func newBubble(t *testing.T, tweak func(*Options)) *bubble {
	t.Helper()
	b := &bubble{srv: &tokenServer{}, t0: time.Now()}
	var err error
	b.store, err = vault.Open(t.TempDir(), vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Add(testClient("https://auth.example.com/token", vault.AuthHeader), testSecret); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Store:      b.store,
		HTTPClient: &http.Client{Transport: handlerTransport{b.srv}, Timeout: 15 * time.Second},
		Jitter:     -1,
		Now:        func() time.Time { return time.Now().Add(time.Duration(b.offset.Load())) },
	}
	if tweak != nil {
		tweak(&opts)
	}
	b.r = New(opts)
	return b
}

func (b *bubble) start(t *testing.T) {
	t.Helper()
	if err := b.r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
}

func (b *bubble) stop(t *testing.T) {
	t.Helper()
	if err := b.r.Stop(context.Background()); err != nil {
		t.Error(err)
	}
}

// sinceStart returns the request times relative to the bubble's start.
func (b *bubble) sinceStart() []time.Duration {
	var out []time.Duration
	for _, at := range b.srv.requestTimes() {
		out = append(out, at.Sub(b.t0))
	}
	return out
}

func TestSchedulerFetchesOnStartAndAdd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.start(t)
		defer b.stop(t)
		if got := b.srv.count(); got != 1 {
			t.Fatalf("requests after Start = %d; want 1", got)
		}
		if st, _ := b.r.State("billing"); st.Phase != PhaseFresh {
			t.Errorf("Phase = %q; want fresh", st.Phase)
		}
		c := testClient("https://auth.example.com/token", vault.AuthBody)
		c.Name = "search"
		if err := b.store.Add(c, "other-secret"); err != nil {
			t.Fatal(err)
		}
		if err := b.r.Reload(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := b.srv.count(); got != 2 {
			t.Errorf("requests after adding a client = %d; want 2", got)
		}
		if st, _ := b.r.State("search"); st.Phase != PhaseFresh {
			t.Errorf("new client: Phase = %q; want fresh", st.Phase)
		}
	})
}

func TestSchedulerRefreshesExactlyAtTheMargin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.start(t)
		defer b.stop(t)
		time.Sleep(48*time.Minute - time.Second) // 1h tokens: margin 12m
		synctest.Wait()
		if got := b.srv.count(); got != 1 {
			t.Fatalf("requests 1s before the margin = %d; want 1", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := b.sinceStart()
		if len(got) != 2 || got[1] != 48*time.Minute {
			t.Errorf("requests at %v; want [0s 48m0s]", got)
		}
		// And so on, every 48 minutes.
		time.Sleep(48 * time.Minute)
		synctest.Wait()
		if got := b.sinceStart(); len(got) != 3 || got[2] != 96*time.Minute {
			t.Errorf("requests at %v; want a third at 1h36m0s", got)
		}
	})
}

func TestSchedulerJitterRefreshesEarlyNeverLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, func(o *Options) { o.Jitter = 5 * time.Minute })
		b.start(t)
		defer b.stop(t)
		time.Sleep(48 * time.Minute)
		synctest.Wait()
		got := b.sinceStart()
		if len(got) != 2 || got[1] < 43*time.Minute || got[1] > 48*time.Minute {
			t.Errorf("requests at %v; want the second within [43m, 48m]", got)
		}
	})
}

func TestSchedulerBackoffSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		})
		b.start(t)
		defer b.stop(t)
		time.Sleep(40 * time.Minute)
		synctest.Wait()
		at := b.sinceStart()
		if len(at) < 10 {
			t.Fatalf("%d attempts in 40 minutes; want at least 10", len(at))
		}
		base := backoffInitial
		for i := 1; i < len(at); i++ {
			gap := at[i] - at[i-1]
			lo, hi := base/2, min(base*3/2, backoffMax)
			if gap < lo || gap > hi {
				t.Errorf("gap %d = %v; want within [%v, %v] (attempts at %v)", i, gap, lo, hi, at)
			}
			base = min(base*2, backoffMax)
		}
		st, _ := b.r.State("billing")
		if st.Phase != PhaseExpired || st.Err == nil || st.Err.Class != ClassTransient || st.NextAttempt.IsZero() {
			t.Errorf("State: %q, err %v, next %v; want expired, transient, a next attempt", st.Phase, st.Err, st.NextAttempt)
		}
		if !st.StaleSince.Equal(b.t0) {
			t.Errorf("StaleSince = %v; want the first failure %v", st.StaleSince, b.t0)
		}
	})
}

func TestSchedulerHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			tokenOK(w, map[string]any{"access_token": fmt.Sprintf("t%d", n)})
		})
		b.start(t)
		defer b.stop(t)
		st, _ := b.r.State("billing")
		if st.Err == nil || st.Err.Class != ClassRateLimited || !st.NextAttempt.Equal(b.t0.Add(2*time.Minute)) {
			t.Errorf("State: err %v, next %v; want rate-limited until +2m", st.Err, st.NextAttempt)
		}
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if got := b.sinceStart(); len(got) != 2 || got[1] != 2*time.Minute {
			t.Errorf("requests at %v; want [0s 2m0s]", got)
		}
		if st, _ := b.r.State("billing"); st.Phase != PhaseFresh || st.Err != nil {
			t.Errorf("after the retry: %q, err %v; want fresh", st.Phase, st.Err)
		}
	})
}

// Rejected credentials are no retry storm: one attempt after 1, 2, 4 ... up
// to 30 minutes. When the provider accepts the secret again, the next of
// those attempts recovers the client without Refresh now or a new secret.
func TestSchedulerRetriesRejectedSlowlyAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		})
		b.start(t)
		defer b.stop(t)
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		got := b.sinceStart()
		if len(got) < 2 || len(got) > 12 {
			t.Fatalf("requests in 3 hours at %v; want a few slow retries (2 to 12)", got)
		}
		for i := 1; i < len(got); i++ {
			gap := got[i] - got[i-1]
			if gap < time.Minute || gap > 31*time.Minute {
				t.Errorf("retry %d came %v after the previous one; want between 1 and 31 minutes", i, gap)
			}
		}
		st, _ := b.r.State("billing")
		if st.Phase != PhaseRejected || st.NextAttempt.IsZero() || st.Err == nil || !st.Err.RetryAt.Equal(st.NextAttempt) {
			t.Errorf("while rejected: phase %q, next attempt %v, err %v; want rejected with the next attempt said", st.Phase, st.NextAttempt, st.Err)
		}
		// The provider accepts the secret again: the next attempt recovers.
		b.srv.setRespond(nil)
		time.Sleep(31 * time.Minute)
		synctest.Wait()
		if st, _ := b.r.State("billing"); st.Phase != PhaseFresh || st.Err != nil {
			t.Errorf("after the provider accepted again: phase %q, err %v; want fresh", st.Phase, st.Err)
		}
	})
}

// A held client notices a new secret stored by another process at the next
// sweep and makes one new attempt, without a Reload here.
func TestSchedulerRejectedTakesANewSecret(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		})
		b.start(t)
		defer b.stop(t)
		time.Sleep(b.r.opts.SweepInterval)
		synctest.Wait()
		if got := b.srv.count(); got != 1 {
			t.Fatalf("requests = %d; want 1", got)
		}
		b.srv.setRespond(nil)
		if err := b.store.SetSecret("billing", "rotated-secret"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(b.r.opts.SweepInterval)
		synctest.Wait()
		if got := b.srv.count(); got != 2 {
			t.Errorf("requests after a new secret = %d; want 2", got)
		}
		if st, _ := b.r.State("billing"); st.Phase != PhaseFresh {
			t.Errorf("Phase = %q; want fresh", st.Phase)
		}
	})
}

func TestSchedulerServesLastGoodTokenUntilExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.start(t)
		defer b.stop(t)
		first, err := b.r.Token(context.Background(), "billing", TokenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			http.Error(w, "down", http.StatusBadGateway)
		})
		time.Sleep(50 * time.Minute) // failing since 48m
		synctest.Wait()
		res, err := b.r.Token(context.Background(), "billing", TokenOptions{})
		if err != nil || res.Token.AccessToken != first.Token.AccessToken || res.RefreshErr == nil {
			t.Fatalf("Token while failing: %v, RefreshErr %v, err %v; want the last good token", res.Token, res.RefreshErr, err)
		}
		st, _ := b.r.State("billing")
		if st.Phase != PhaseStale || !st.StaleSince.Equal(b.t0.Add(48*time.Minute)) || !st.Expiry.Equal(first.Token.Expiry) {
			t.Errorf("State: %q since %v, expiry %v; want stale since +48m, expiry %v", st.Phase, st.StaleSince, st.Expiry, first.Token.Expiry)
		}
		time.Sleep(10*time.Minute + time.Second) // past the real expiry
		synctest.Wait()
		if _, err := b.r.Token(context.Background(), "billing", TokenOptions{}); err == nil {
			t.Errorf("Token after expiry while failing: nil error")
		}
		if st, _ := b.r.State("billing"); st.Phase != PhaseExpired || !st.Expiry.IsZero() {
			t.Errorf("after expiry: %q, expiry %v; want expired, zero", st.Phase, st.Expiry)
		}
	})
}

func TestSchedulerDetectsClockJump(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.start(t)
		defer b.stop(t)
		time.Sleep(40 * time.Minute)
		synctest.Wait()
		// The wall clock is set back two hours. The token's expiry was
		// computed on a clock that ran ahead: without correction it would
		// look valid for 2h20m more, and be refreshed 2 hours late.
		b.offset.Store(int64(-2 * time.Hour))
		time.Sleep(b.r.opts.SweepInterval) // the next sweep sees the jump
		synctest.Wait()
		if st, _ := b.r.State("billing"); st.Expiry.Sub(b.r.now()).Round(time.Minute) != 20*time.Minute {
			t.Errorf("after the jump: expiry in %v; want 20m (corrected)", st.Expiry.Sub(b.r.now()))
		}
		time.Sleep(8*time.Minute - b.r.opts.SweepInterval)
		synctest.Wait()
		if got := b.sinceStart(); len(got) != 2 || got[1] != 48*time.Minute {
			t.Errorf("requests at %v; want [0s 48m0s] despite the jump", got)
		}
	})
}

func TestSchedulerJumpRetriesFailingClientsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		})
		b.start(t)
		defer b.stop(t)
		time.Sleep(30 * time.Minute) // backoff at its 5-minute cap
		synctest.Wait()
		st, _ := b.r.State("billing")
		wait := st.NextAttempt.Sub(b.r.now())
		if wait <= b.r.opts.SweepInterval {
			t.Skipf("next attempt in %v: too close to tell a jump from the backoff", wait)
		}
		n := b.srv.count()
		b.offset.Store(int64(-time.Hour)) // clock set back: the backoff would wait an hour more
		time.Sleep(b.r.opts.SweepInterval)
		synctest.Wait()
		if got := b.srv.count(); got != n+1 {
			t.Errorf("requests after the jump = %d; want %d (retried at the next sweep)", got, n+1)
		}
	})
}

func TestTokenNeverReturnsATokenInsideTheMargin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil) // no scheduler
		if _, err := b.r.Token(context.Background(), "billing", TokenOptions{}); err != nil {
			t.Fatal(err)
		}
		b.offset.Store(int64(50 * time.Minute)) // a suspend: no sweep ran
		res, err := b.r.Token(context.Background(), "billing", TokenOptions{})
		if err != nil || res.Source != FromFetch {
			t.Errorf("Token after a suspend: %q, %v; want a fetch", res.Source, err)
		}
	})
}

func TestStopWaitsForARunningJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		release := make(chan struct{})
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			<-release // ignores cancellation: a job that takes its time
			tokenOK(w, nil)
		})
		if err := b.r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the first fetch is in flight
		if st, _ := b.r.State("billing"); st.Phase != PhaseRefreshing {
			t.Errorf("Phase = %q; want refreshing", st.Phase)
		}
		stopped := make(chan error)
		go func() { stopped <- b.r.Stop(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a fetch was running", err)
		default:
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

func TestStopCancelsFetchesAndHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			<-r.Context().Done() // hangs until cancelled
		})
		b.start(t)
		if err := b.r.Stop(context.Background()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		st, _ := b.r.State("billing")
		if st.Err == nil || st.Err.Class != ClassTransient || !errors.Is(st.Err, context.Canceled) {
			t.Errorf("after Stop: err %v; want a cancelled transient error", st.Err)
		}
		// A job that ignores cancellation, and a Stop with a deadline.
		release := make(chan struct{})
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) { <-release })
		b.start(t)
		time.Sleep(backoffMax) // past the backoff of the cancelled fetch: the retry is in flight
		synctest.Wait()
		if st, _ := b.r.State("billing"); st.Phase != PhaseRefreshing {
			t.Fatalf("Phase = %q; want refreshing", st.Phase)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := b.r.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop with a deadline: %v; want DeadlineExceeded", err)
		}
		close(release)
		synctest.Wait()
	})
}

func TestSchedulerRotationCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		if err := b.store.Update("billing", func(c *vault.Client) error {
			c.SecretSetAt = time.Now().Add(-75*24*time.Hour - time.Hour)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sub := b.r.Subscribe()
		defer sub.Close()
		b.start(t)
		defer b.stop(t)
		if st, _ := b.r.State("billing"); st.Rotation.State != vault.RotationOK || st.Rotation.AgeDays != 75 {
			t.Errorf("at start: rotation %+v; want ok, 75 days", st.Rotation)
		}
		drain(sub.C())
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		if st, _ := b.r.State("billing"); st.Rotation.State != vault.RotationDueSoon {
			t.Errorf("a day later: rotation %v; want due-soon", st.Rotation.State)
		}
		seen := false
		for _, st := range drain(sub.C()) {
			seen = seen || st.Rotation.State == vault.RotationDueSoon
		}
		if !seen {
			t.Errorf("no snapshot published with the due-soon rotation")
		}
	})
}

func TestSweepBoundsFetchesInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, func(o *Options) { o.MaxInFlight = 3 })
		for i := range 10 {
			c := testClient("https://auth.example.com/token", vault.AuthHeader)
			c.Name = fmt.Sprintf("c%02d", i)
			if err := b.store.Add(c, testSecret); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.r.Reload(); err != nil {
			t.Fatal(err)
		}
		var inFlight, peak atomic.Int32
		release := make(chan struct{})
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			now := inFlight.Add(1)
			for {
				p := peak.Load()
				if now <= p || peak.CompareAndSwap(p, now) {
					break
				}
			}
			<-release
			inFlight.Add(-1)
			tokenOK(w, map[string]any{"access_token": fmt.Sprintf("t%d", n)})
		})
		done := make(chan int)
		go func() { done <- b.r.Sweep(context.Background()) }()
		synctest.Wait()
		if got := inFlight.Load(); got != 3 {
			t.Errorf("fetches in flight = %d; want 3", got)
		}
		close(release)
		if due := <-done; due != 11 {
			t.Errorf("Sweep = %d due; want 11", due)
		}
		if got := peak.Load(); got != 3 {
			t.Errorf("peak in flight = %d; want 3", got)
		}
		if got := b.r.Sweep(context.Background()); got != 0 {
			t.Errorf("second Sweep = %d due; want 0", got)
		}
	})
}

func TestStartContextEndStopsTheScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		if err := b.r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.r.Start(ctx); err == nil {
			t.Errorf("second Start: nil error; want already running")
		}
		synctest.Wait()
		cancel()
		synctest.Wait()
		n := b.srv.count()
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		if got := b.srv.count(); got != n {
			t.Errorf("requests after the context ended = %d; want %d (no more sweeps)", got, n)
		}
		// Start again after the stop.
		if err := b.r.Start(context.Background()); err != nil {
			t.Fatalf("Start after stop: %v", err)
		}
		synctest.Wait()
		if got := b.srv.count(); got != n+1 {
			t.Errorf("requests after a new Start = %d; want %d", got, n+1)
		}
		b.stop(t)
	})
}

func TestSchedulerShortLivedTokensDoNotHammer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, func(o *Options) { o.Jitter = 0 }) // default jitter
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			tokenOK(w, map[string]any{"access_token": fmt.Sprintf("t%d", n), "expires_in": 60})
		})
		b.start(t)
		defer b.stop(t)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		// At half their life: every 30 seconds.
		if got := b.srv.count(); got != 21 {
			t.Errorf("requests in 10 minutes of 60s tokens (inside the 5m margin) = %d; want 21", got)
		}
	})
}

// Whatever the lifetime, the scheduler refreshes a token before it expires
// and not before half of its life, and a Token call between refreshes is
// served from memory.
func TestSchedulerRefreshesEveryLifetimeBeforeExpiry(t *testing.T) {
	for _, life := range []time.Duration{30 * time.Second, 5 * time.Minute, time.Hour, 24 * time.Hour} {
		t.Run(life.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBubble(t, func(o *Options) { o.Jitter = 0 }) // default jitter
				b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
					tokenOK(w, map[string]any{"access_token": fmt.Sprintf("t%d", n), "expires_in": int(life.Seconds())})
				})
				b.start(t)
				defer b.stop(t)
				for range 3 {
					before := b.srv.count()
					st, _ := b.r.State("billing")
					if st.RefreshAt.IsZero() || !st.RefreshAt.Before(st.Expiry) || st.RefreshAt.Before(st.FetchedAt.Add(life/2)) {
						t.Fatalf("RefreshAt %v; want in [%v, %v)", st.RefreshAt, st.FetchedAt.Add(life/2), st.Expiry)
					}
					time.Sleep(time.Until(st.RefreshAt) - time.Millisecond)
					synctest.Wait()
					if res, err := b.r.Token(context.Background(), "billing", TokenOptions{}); err != nil || res.Source != FromMemory {
						t.Fatalf("just before the refresh: Source %q, err %v; want memory", res.Source, err)
					}
					time.Sleep(time.Millisecond)
					synctest.Wait()
					if got := b.srv.count(); got != before+1 {
						t.Fatalf("requests at RefreshAt = %d; want %d", got, before+1)
					}
					if now := time.Now(); !now.Before(st.Expiry) {
						t.Fatalf("refreshed at %v, not before the expiry %v", now, st.Expiry)
					}
				}
			})
		})
	}
}

// A client added by another process (the command line, on the same
// directory) is picked up by the next sweep, without a Reload call.
func TestSchedulerSeesClientsAddedByAnotherProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, nil)
		b.start(t)
		defer b.stop(t)
		other, err := vault.Open(b.store.Dir(), b.store.Keyring())
		if err != nil {
			t.Fatal(err)
		}
		c := testClient("https://auth.example.com/token", vault.AuthBody)
		c.Name = "search"
		if err := other.Add(c, "other-secret"); err != nil {
			t.Fatal(err)
		}
		if _, ok := b.r.State("search"); ok {
			t.Fatal("search known before any sweep")
		}
		time.Sleep(31 * time.Second) // one sweep interval
		synctest.Wait()
		if st, ok := b.r.State("search"); !ok || st.Phase != PhaseFresh {
			t.Errorf("after a sweep: search known %v, phase %q; want a fresh token", ok, st.Phase)
		}
		if got := b.srv.count(); got != 2 {
			t.Errorf("token requests = %d; want 2 (billing at start, search after the sweep)", got)
		}
	})
}

// sweepLog records the scheduler's "sweep started" and "sweep done" log
// lines, in order.
type sweepLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *sweepLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *sweepLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *sweepLog) WithGroup(string) slog.Handler            { return l }
func (l *sweepLog) Handle(_ context.Context, rec slog.Record) error {
	if strings.HasPrefix(rec.Message, "sweep ") {
		l.mu.Lock()
		l.lines = append(l.lines, rec.Message)
		l.mu.Unlock()
	}
	return nil
}

// check fails t when two sweeps overlapped, and returns how many ran.
func (l *sweepLog) check(t *testing.T) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	started := 0
	for i, m := range l.lines {
		want := "sweep started"
		if i%2 == 1 {
			want = "sweep done"
		}
		if m != want {
			t.Fatalf("sweep log line %d = %q; want %q (sweeps overlapped): %q", i, m, want, l.lines)
		}
		if m == "sweep started" {
			started++
		}
	}
	return started
}

func TestSchedulerRunsOneSweepAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &sweepLog{}
		b := newBubble(t, func(o *Options) { o.Logger = slog.New(log) })
		release := make(chan struct{})
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				<-release // the first sweep's fetch takes its time
			}
			tokenOK(w, nil)
		})
		b.start(t)
		defer b.stop(t)
		// While the first sweep runs: cron wakes the loop three times, a
		// client is added (Reload wakes it), and "refresh all" asks for a
		// sweep of its own.
		time.Sleep(3 * b.r.opts.SweepInterval)
		c := testClient("https://auth.example.com/token", vault.AuthHeader)
		c.Name = "second"
		if err := b.store.Add(c, testSecret); err != nil {
			t.Fatal(err)
		}
		if err := b.r.Reload(); err != nil {
			t.Fatal(err)
		}
		refreshAll := make(chan int)
		go func() { refreshAll <- b.r.Sweep(context.Background()) }()
		synctest.Wait()
		if n := log.check(t); n != 1 {
			t.Fatalf("%d sweeps started while the first one ran; want 1 in all", n)
		}
		close(release)
		if due := <-refreshAll; due != 1 {
			t.Errorf("refresh all: %d due; want 1 (the added client)", due)
		}
		synctest.Wait()
		// The wake-ups that came during the first sweep fold into one sweep
		// after it; "refresh all" runs its own.
		if n := log.check(t); n != 3 {
			t.Errorf("%d sweeps ran; want 3 (the first, one for the wake-ups, refresh all)", n)
		}
		if got := b.srv.count(); got != 2 {
			t.Errorf("token requests = %d; want 2 (one per client)", got)
		}
	})
}

func TestStopLeavesNoGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, func(o *Options) { o.SweepInterval = time.Second })
		b.srv.setRespond(func(w http.ResponseWriter, r *http.Request, n int) {
			<-r.Context().Done() // in flight until Stop cancels it
		})
		b.start(t)
		time.Sleep(1500 * time.Millisecond) // cron has woken the loop meanwhile
		if err := b.r.Stop(context.Background()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		// synctest.Test fails when a goroutine of the bubble outlives this
		// function: the loop, cron, a fetch, a context.AfterFunc.
	})
}

// TestSweepReadsTheKeyringOncePerDueClient counts the keyring calls of a
// fill and of a wave of tokens coming due: per due client one read of the
// cached token (under the client's lock), one of the secret and one write.
// A token another process cached meanwhile is still taken, not fetched
// again.
func TestSweepReadsTheKeyringOncePerDueClient(t *testing.T) {
	const n = 6
	srv := &tokenServer{}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	kr := vaulttest.New()
	clock := newFakeClock()
	store, err := vault.Open(t.TempDir(), kr, vault.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c := testClient(ts.URL, vault.AuthHeader)
		c.Name = fmt.Sprintf("c%02d", i)
		if err := store.Add(c, testSecret); err != nil {
			t.Fatal(err)
		}
	}
	newRefresher := func() *Refresher {
		return New(Options{Store: store, Now: clock.Now, HTTPClient: NewHTTPClient(5 * time.Second), MaxInFlight: 2})
	}
	r := newRefresher()
	t.Cleanup(func() { _ = r.Close() })
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	sweep := func(what string, wantDue, wantRequests int) {
		t.Helper()
		gets, sets, reqs := kr.Calls("get"), kr.Calls("set"), srv.count()
		if got := r.Sweep(context.Background()); got != wantDue {
			t.Fatalf("%s: %d due; want %d", what, got, wantDue)
		}
		if got := kr.Calls("get") - gets; got != 2*wantDue {
			t.Errorf("%s: %d keyring reads for %d due clients; want %d (the cached token and the secret of each)", what, got, wantDue, 2*wantDue)
		}
		if got := kr.Calls("set") - sets; got != wantRequests {
			t.Errorf("%s: %d keyring writes; want %d (one per token fetched)", what, got, wantRequests)
		}
		if got := srv.count() - reqs; got != wantRequests {
			t.Errorf("%s: %d token requests; want %d", what, got, wantRequests)
		}
	}
	sweep("first fill", n, n)

	clock.Add(50 * time.Minute) // every 1 h token inside its 12 min margin
	other := newRefresher()     // another process refreshes c00 first
	res, err := other.Token(context.Background(), "c00", TokenOptions{})
	if err != nil || res.Source != FromFetch {
		t.Fatalf("other process: Source %q, err %v; want a fetch", res.Source, err)
	}
	before := srv.count()
	// c00's read under the lock finds the other process's token, which is
	// not read as a secret nor fetched again; the secret read is saved.
	gets := kr.Calls("get")
	if got := r.Sweep(context.Background()); got != n {
		t.Fatalf("wave: %d due; want %d", got, n)
	}
	if got := kr.Calls("get") - gets; got != 2*n-1 {
		t.Errorf("wave: %d keyring reads; want %d (the cached token of each, the secret of each fetched)", got, 2*n-1)
	}
	if got := srv.count() - before; got != n-1 {
		t.Errorf("wave: %d token requests; want %d (c00 taken from the other process)", got, n-1)
	}
	if got, err := r.Token(context.Background(), "c00", TokenOptions{}); err != nil || got.Token.AccessToken != res.Token.AccessToken {
		t.Errorf("c00 serves %s (err %v); want the other process's token %s", got.Token.Fingerprint(), err, res.Token.Fingerprint())
	}
}

package ui

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeLoop stands for Fyne's driver loop: one goroutine that runs what is
// queued, in order, like runGL's funcQueue.
type fakeLoop struct {
	q       chan func()
	stopped chan struct{} // ends the loop (closed by the test)
	mayPark atomic.Bool
	done    chan struct{}
	p       *loopPark
}

func newFakeLoop() *fakeLoop {
	l := &fakeLoop{q: make(chan func(), 1024), stopped: make(chan struct{}), done: make(chan struct{})}
	l.mayPark.Store(true)
	enqueue := func(f func()) {
		select {
		case l.q <- f:
		case <-l.stopped: // a park timer fired after the test
		}
	}
	l.p = newLoopPark(enqueue, l.mayPark.Load, l.done)
	go func() {
		for {
			select {
			case f := <-l.q:
				f()
			case <-l.stopped:
				return
			}
		}
	}()
	return l
}

// parked reports whether the loop is parked: a function queued without a
// wake (as Fyne's own fyne.Do queues) does not run. Inside a bubble; the
// function runs at the next wake.
func (l *fakeLoop) parked() bool {
	var ran atomic.Bool
	l.q <- func() { ran.Store(true) }
	synctest.Wait()
	return !ran.Load()
}

func TestLoopParksWhileIdleAndWakesForWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLoop()
		defer close(l.stopped)
		l.p.start()
		time.Sleep(parkIdle + time.Millisecond)
		synctest.Wait()
		if n := l.p.parks.Load(); n != 1 {
			t.Fatalf("parks after %v idle = %d, want 1", parkIdle, n)
		}

		// Work queued without a wake (Fyne's own fyne.Do) waits while parked.
		ran := make(chan string, 4)
		l.q <- func() { ran <- "plain" }
		synctest.Wait()
		select {
		case s := <-ran:
			t.Fatalf("%q ran on a parked loop", s)
		default:
		}

		// uiDo's way wakes the loop: both run, in queue order.
		l.p.do(func() { ran <- "do" })
		synctest.Wait()
		if a, b := <-ran, <-ran; a != "plain" || b != "do" {
			t.Fatalf("ran %q then %q, want plain then do", a, b)
		}

		// Busy for less than parkIdle: no park; idle again: it parks.
		time.Sleep(parkIdle / 2)
		l.p.do(func() {})
		time.Sleep(parkIdle / 2)
		synctest.Wait()
		if n := l.p.parks.Load(); n != 1 {
			t.Fatalf("parks while busy = %d, want still 1", n)
		}
		time.Sleep(parkIdle)
		synctest.Wait()
		if n := l.p.parks.Load(); n != 2 {
			t.Fatalf("parks after idle again = %d, want 2", n)
		}

		// The app asked to stop: the loop wakes for Fyne's queued quit and
		// never parks again.
		quit := make(chan struct{})
		l.q <- func() { close(quit) }
		close(l.done)
		synctest.Wait()
		select {
		case <-quit:
		default:
			t.Fatal("a stop request left the quit queued on a parked loop")
		}
		l.p.do(func() {})
		time.Sleep(10 * parkIdle)
		synctest.Wait()
		l.p.stop()
		if n := l.p.parks.Load(); n != 2 {
			t.Fatalf("parks after the stop request = %d, want 2", n)
		}
	})
}

func TestLoopDoesNotParkWhileNotAllowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLoop()
		defer close(l.stopped)
		l.mayPark.Store(false) // window shown, or a token on the clipboard
		l.p.start()
		for range 5 {
			time.Sleep(parkIdle)
			l.p.do(func() {})
		}
		time.Sleep(10 * parkIdle)
		synctest.Wait()
		if n := l.p.parks.Load(); n != 0 {
			t.Fatalf("parked %d times while not allowed", n)
		}
		// Allowed again with no work for the loop (another program's copy
		// replaced ours on the clipboard): the loop asks again and parks.
		// (A wake left by the work above may end its first park at once.)
		l.mayPark.Store(true)
		time.Sleep(parkRecheck + parkIdle + time.Millisecond)
		synctest.Wait()
		if !l.parked() {
			t.Fatalf("the loop is not parked %v after parking was allowed again", parkRecheck+parkIdle)
		}
		// Woken for work, it parks again after its next idle spell.
		n := l.p.parks.Load()
		l.p.do(func() {})
		time.Sleep(parkIdle + time.Millisecond)
		synctest.Wait()
		if l.p.parks.Load() == n || !l.parked() {
			t.Fatal("the loop did not park again after its work")
		}
		// stop wakes it and parking ends.
		l.p.stop()
		woke := make(chan struct{})
		l.q <- func() { close(woke) }
		synctest.Wait()
		select {
		case <-woke:
		default:
			t.Fatal("stop left the loop parked")
		}
	})
}

// TestLoopParkLosesNoWork queues work from many goroutines at once on a
// parked loop, round after round: every function must run (a lost wake
// leaves one queued on a parked loop). Real time, real scheduler.
func TestLoopParkLosesNoWork(t *testing.T) {
	l := newFakeLoop()
	defer close(l.stopped)
	l.p.start()
	const rounds, workers, each = 5, 8, 20
	var ran atomic.Int64
	for range rounds {
		// Wait for the loop to park (a hang detector, not a timing).
		parked := l.p.parks.Load()
		for deadline := time.Now().Add(30 * time.Second); l.p.parks.Load() == parked; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the loop never parked: the test proves nothing")
			}
		}
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					l.p.do(func() { ran.Add(1) })
				}
			}()
		}
		wg.Wait()
	}
	all := make(chan struct{})
	l.p.do(func() { close(all) })
	select {
	case <-all:
	case <-time.After(30 * time.Second): // a hang detector, not a timing
		t.Fatalf("the loop stayed parked with work queued (%d of %d ran)", ran.Load(), rounds*workers*each)
	}
	if got := ran.Load(); got != rounds*workers*each {
		t.Fatalf("ran %d of %d", got, rounds*workers*each)
	}
}

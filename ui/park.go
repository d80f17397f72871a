package ui

import (
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
)

// Parking Fyne's driver loop while no window is shown.
//
// Fyne 2.7.1's driver loop (internal/driver/glfw/loop.go, runGL) wakes 60
// times a second for as long as the app runs, window shown or not: about
// 2 % of a core on the machine of docs/PERFORMANCE.md, all day, for a tray
// app whose window is closed most of the time. There is no API to slow it.
// Its loop runs the functions queued with fyne.Do between ticks, so a
// function that blocks there blocks the loop: ticks are then not received
// (a Go ticker does not queue them), nothing is polled or drawn, and the
// main thread sleeps. While the window is hidden, the UI parks the loop
// this way; everything that lives all day runs elsewhere: the refresher and
// its scheduler, the agent and proxies on goroutines of their own, the tray
// on D-Bus (tray_unix.go; not through Fyne, whose menu clicks need the
// loop), notifications on D-Bus. Whatever has work for the UI thread goes
// through uiDo, which wakes the loop first; the loop parks again once it
// has been idle for parkIdle, unless the window is shown or a token is
// still on the clipboard (pasting it needs the loop to answer the X
// server's selection requests).
//
// Only where the tray does not need the loop: on macOS and Windows the
// tray's menu lives on the main thread's event loop, so those never park.

// parkIdle is how long the loop keeps running after its last work before
// it parks again: long enough to finish what a wake started (a window
// hiding, a notification's follow-up), short enough to cost nothing.
const parkIdle = 250 * time.Millisecond

// parkRecheck is how soon the loop asks again whether it may park after
// canPark said no: what forbids a park (a token on the clipboard, until
// another program's copy replaces it) may end without work for the UI
// thread that would ask again. A check costs one queued function.
const parkRecheck = 2 * time.Second

// loopPark parks and wakes the driver loop. Its zero value never parks.
type loopPark struct {
	// enqueue queues f on the driver loop (fyne.Do; tests pass their own).
	enqueue func(f func())
	// canPark reports, on the UI thread, whether the loop may park now.
	canPark func() bool
	// done is closed when the app is asked to stop (SIGTERM): a parked loop
	// wakes so Fyne's own signal handler, whose quit is queued without a
	// wake, can run, and the loop never parks again.
	done <-chan struct{}

	enabled atomic.Bool
	pending atomic.Int64  // functions queued by do and not run yet
	wake    chan struct{} // a wake not yet taken by a park (capacity 1)

	mu    sync.Mutex // guards timer and gen
	timer *time.Timer
	gen   uint64 // bumped by every activity: a stale park request does nothing

	parks atomic.Int64 // how often the loop parked (tests, bench)
}

// mainLoop is the park of the process's one driver loop; nil until the UI
// enables parking (never in tests of the UI).
var mainLoop atomic.Pointer[loopPark]

// uiDo runs f on the UI thread: fyne.Do, waking a parked loop first.
func uiDo(f func()) {
	if p := mainLoop.Load(); p != nil && p.enabled.Load() {
		p.do(f)
		return
	}
	fyne.Do(f)
}

// newLoopPark returns a park that queues with enqueue and parks only while
// canPark says so; it does nothing until start.
func newLoopPark(enqueue func(func()), canPark func() bool, done <-chan struct{}) *loopPark {
	if done == nil {
		done = make(chan struct{}) // never closed
	}
	return &loopPark{enqueue: enqueue, canPark: canPark, done: done, wake: make(chan struct{}, 1)}
}

// start enables parking; the loop parks after parkIdle if it may.
func (p *loopPark) start() {
	p.enabled.Store(true)
	p.activity()
}

// stop disables parking and wakes the loop if it is parked.
func (p *loopPark) stop() {
	p.enabled.Store(false)
	p.mu.Lock()
	p.gen++
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	p.poke()
}

// do queues f on the loop and wakes it: pending is raised before the wake
// so a park that starts in between sees the work and does not park.
func (p *loopPark) do(f func()) {
	p.pending.Add(1)
	p.poke()
	p.enqueue(func() {
		p.pending.Add(-1)
		f()
		p.activity()
	})
}

// poke wakes a parked loop, or the next park if none is parked now.
func (p *loopPark) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// activity restarts the idle countdown after work on the UI thread (and
// when the window hides): when it runs out, the loop parks.
func (p *loopPark) activity() { p.parkIn(parkIdle) }

// parkIn asks for a park after d, replacing any earlier request.
func (p *loopPark) parkIn(d time.Duration) {
	if !p.enabled.Load() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	gen := p.gen
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(d, func() {
		p.enqueue(func() { p.park(gen) })
	})
}

// park blocks the UI thread, and with it the driver loop, until there is
// work for it (do), the app is asked to stop or parking stops; it does
// nothing if another activity came after the request gen or if work is
// queued (its end asks again), and asks again after parkRecheck if
// canPark says no. It runs on the UI thread.
func (p *loopPark) park(gen uint64) {
	p.mu.Lock()
	stale := gen != p.gen
	p.mu.Unlock()
	if stale || !p.enabled.Load() || p.pending.Load() > 0 {
		return
	}
	if !p.canPark() {
		p.parkIn(parkRecheck)
		return
	}
	select {
	case <-p.done:
		p.enabled.Store(false)
		return
	default:
	}
	p.parks.Add(1)
	select {
	case <-p.wake:
	case <-p.done:
		p.enabled.Store(false)
	}
	// Parked or not, run for parkIdle before the next park: what woke the
	// loop may not have queued its work yet (do raised pending first, so
	// it will), and Fyne may have queued its own.
	p.activity()
}

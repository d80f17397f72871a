package main

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// loopApp is Fyne's test app with a loop: Run calls the OnStarted hook,
// then blocks until Quit, as the real driver does. Quit after Run returned
// is the bug runLoop exists to prevent: the real driver would run it inline
// on a stopped driver.
type loopApp struct {
	fyne.App // test.NewApp(): what runLoop does not use
	t        *testing.T
	life     loopLifecycle
	running  chan struct{} // closed once the loop runs
	quit     chan struct{}

	mu       sync.Mutex // guards the fields below
	quits    int
	returned bool
}

func newLoopApp(t *testing.T, base fyne.App) *loopApp {
	return &loopApp{App: base, t: t, running: make(chan struct{}), quit: make(chan struct{})}
}

func (a *loopApp) Lifecycle() fyne.Lifecycle { return &a.life }

func (a *loopApp) Run() {
	if a.life.onStarted != nil {
		a.life.onStarted()
	}
	close(a.running)
	<-a.quit
	a.mu.Lock()
	a.returned = true
	a.mu.Unlock()
}

func (a *loopApp) Quit() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.returned {
		a.t.Error("Quit after Run returned")
		return
	}
	a.quits++
	if a.quits == 1 {
		close(a.quit)
	}
}

func (a *loopApp) quitCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.quits
}

// loopLifecycle records the OnStarted hook; the others are not used.
type loopLifecycle struct{ onStarted func() }

func (l *loopLifecycle) SetOnEnteredForeground(func()) {}
func (l *loopLifecycle) SetOnExitedForeground(func())  {}
func (l *loopLifecycle) SetOnStarted(f func())         { l.onStarted = f }
func (l *loopLifecycle) SetOnStopped(func())           {}

// TestRunLoopNoQuitAfterRun is the shutdown race: the user quits, Run
// returns, and then the context ends (as runApp's deferred cancel does).
// Nothing may ask the app to quit after that.
func TestRunLoopNoQuitAfterRun(t *testing.T) {
	base := test.NewApp()
	synctest.Test(t, func(t *testing.T) {
		a := newLoopApp(t, base)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-a.running; a.Quit() }() // the user's Quit, on the UI thread
		runLoop(ctx, a, a.Quit)
		cancel()
		synctest.Wait() // every goroutine runLoop left has done what it will do
		if n := a.quitCount(); n != 1 {
			t.Errorf("%d quits; want the user's one", n)
		}
	})
}

// TestRunLoopSignalBeforeStart: a signal before the loop runs quits it
// exactly once, whichever of the watcher and the loop's start comes first.
func TestRunLoopSignalBeforeStart(t *testing.T) {
	base := test.NewApp()
	synctest.Test(t, func(t *testing.T) {
		a := newLoopApp(t, base)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		runLoop(ctx, a, a.Quit) // returns only if the app was asked to quit
		synctest.Wait()
		if n := a.quitCount(); n != 1 {
			t.Errorf("%d quits; want 1", n)
		}
	})
}

// TestRunLoopSignalWhileRunning: once the loop runs, a signal is Fyne's
// own handler's to act on; runLoop asks nothing, before or after Run.
func TestRunLoopSignalWhileRunning(t *testing.T) {
	base := test.NewApp()
	synctest.Test(t, func(t *testing.T) {
		a := newLoopApp(t, base)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-a.running
			cancel()
			synctest.Wait()
			if n := a.quitCount(); n != 0 {
				t.Errorf("runLoop asked %d quits while the loop ran; want none (Fyne's handler quits)", n)
			}
			a.Quit() // Fyne's handler
		}()
		runLoop(ctx, a, a.Quit)
	})
}

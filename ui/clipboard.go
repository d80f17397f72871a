package ui

import (
	"sync"
	"time"

	"fyne.io/fyne/v2"
)

// clipGuard puts tokens on the clipboard and takes them off again after a
// delay, or on quit, but only while the clipboard still holds what it put
// there: if the user copied something else meanwhile, that stays.
type clipGuard struct {
	clip fyne.Clipboard
	time TimeSource
	// do runs f on the UI thread (uiDo; the timer fires elsewhere).
	do func(f func())

	mu    sync.Mutex // guards ours and timer
	ours  string     // what we put on the clipboard; "" when nothing
	timer Timer      // pending clear, nil when none
}

// copy puts text on the clipboard and schedules a clear after delay (no
// clear when delay <= 0). Call it on the UI thread.
func (g *clipGuard) copy(text string, delay time.Duration) {
	g.clip.SetContent(text)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ours = text
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	if delay > 0 {
		g.timer = g.time.AfterFunc(delay, func() { g.do(func() { g.clear() }) })
	}
}

// clear empties the clipboard if it still holds what copy put there and
// reports whether it did. Call it on the UI thread.
func (g *clipGuard) clear() bool {
	g.mu.Lock()
	ours := g.ours
	g.ours = ""
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	g.mu.Unlock()
	if ours == "" || g.clip.Content() != ours {
		return false
	}
	g.clip.SetContent("")
	return true
}

// holds reports whether the clipboard still holds text as copy put it
// there (not cleared, not replaced by another copy of ours).
func (g *clipGuard) holds(text string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ours == text && text != ""
}

// held reports whether the clipboard may still hold something copy put
// there (UI thread): a text not cleared yet, unless another copy (by any
// program) replaced it, which ends the guard.
func (g *clipGuard) held() bool {
	g.mu.Lock()
	ours := g.ours
	g.mu.Unlock()
	if ours == "" {
		return false
	}
	if g.clip.Content() == ours {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ours == ours {
		g.ours = ""
		if g.timer != nil {
			g.timer.Stop()
			g.timer = nil
		}
	}
	return false
}

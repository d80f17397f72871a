package ui

// Show brings the window up, from any goroutine: the running app's answer
// when the user starts Tokentray a second time, or clicks its entry.
func (u *UI) Show() {
	u.do(func() {
		if u.stopped.Load() {
			return
		}
		u.showWindow()
	})
}

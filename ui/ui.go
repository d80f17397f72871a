// Package ui is Tokentray's window, tray, notifications and clipboard. It
// receives the fyne.App from main and never imports fyne.io/fyne/v2/app, so
// its tests build fast and need no display.
//
// Threading: everything that touches widgets runs on Fyne's UI thread. One
// goroutine reads the refresher's subscription and hands batches of
// snapshots to the UI thread with uiDo (fyne.Do that wakes a parked driver
// loop, park.go); one ticker updates the countdowns
// of the visible rows once a second while the window is shown; a slower one
// re-checks notification rules (a refresh failing for too long, a rotation
// crossing a day) and the tray. Blocking work (token requests, keyring
// reads) runs in goroutines that report back with uiDo. While the window
// is hidden the driver loop parks (park.go) where the tray allows it.
package ui

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/assets"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// DemoControl lets the window of `tokentray demo` trigger trouble on the
// embedded demo server (nil outside the demo).
type DemoControl interface {
	// Actions returns the trouble the demo server can simulate, as menu
	// labels with the function that toggles each.
	Actions() []DemoAction
}

// DemoAction is one demo menu entry.
type DemoAction struct {
	Label string
	Do    func() error
	// Active reports whether a toggle's trouble is on now (the entry shows
	// a check mark); nil for an entry that is not a toggle.
	Active func() bool
}

// Refresher is what the UI needs from the refresher: *refresher.Refresher
// satisfies it; tests pass their own.
type Refresher interface {
	// States returns the current state of every client, sorted by name.
	States() []refresher.State
	// Subscribe returns a subscription to state snapshots; nil means the
	// source publishes none.
	Subscribe() *refresher.Subscription
	// Token returns a valid token for a client (see refresher.Token).
	Token(ctx context.Context, name string, opts refresher.TokenOptions) (refresher.Result, error)
	// Refresh fetches a new token now.
	Refresh(ctx context.Context, name string) (refresher.Result, error)
	// Reload re-reads the client list after the store changed.
	Reload() error
}

var _ Refresher = (*refresher.Refresher)(nil)

// Options are what the UI works on.
type Options struct {
	Store *vault.Store
	// Refresher keeps the tokens fresh and reports their states (usually
	// a *refresher.Refresher; tests pass their own).
	Refresher Refresher
	Title     string      // window title
	Demo      DemoControl // nil outside the demo
	Hidden    bool        // start in the tray: Start shows no window
	// OfferStartAtLogin asks once whether to start at login (the first
	// real run; not the demo, not tests).
	OfferStartAtLogin bool
	// Done is closed when the process is asked to stop (SIGINT, SIGTERM):
	// it wakes the driver loop if parked, for Fyne's own signal handler
	// queues its quit without waking it (park.go). Nil: never closed.
	Done <-chan struct{}

	// TimeSource tells the time and runs timers (default: the system's;
	// tests move time by hand).
	TimeSource TimeSource
	// HTTPClient makes the form's Test exchanges (default
	// refresher.NewHTTPClient with a 15 s timeout).
	HTTPClient *http.Client
}

// maxTrayClients is how many "Copy token" entries the tray menu holds
// before it offers "More…".
const maxTrayClients = 10

// UI is the window, tray and notifications of one app.
type UI struct {
	app       fyne.App
	opts      Options
	refresher Refresher // opts.Refresher; nil: no tokens (tests of the layout)
	time      TimeSource
	prefs     settings
	clip      *clipGuard
	notes     *notifier
	// async runs blocking work off the UI thread (tests run it inline).
	async func(f func())
	// send delivers a system notification (app.SendNotification; tests count).
	send func(n *fyne.Notification)
	// actionNotes sends notifications with actions over D-Bus (nil without
	// a desktop driver: tests; see notify).
	actionNotes *dbusNotes
	// do runs f on the UI thread (uiDo; tests run it on theirs).
	do func(f func())
	// every calls f on the UI thread every d until ctx ends, from a
	// goroutine of its own (tests replace it and tick by hand).
	every func(ctx context.Context, d time.Duration, f func())

	ctx    context.Context // cancelled by Stop; parent of every request
	cancel context.CancelFunc
	wg     sync.WaitGroup // the subscription reader and the tickers
	sub    *refresher.Subscription
	// stopped is set by Stop: the driver is gone, the clipboard with it.
	stopped atomic.Bool

	// The fields below belong to the UI thread.
	win        fyne.Window
	visible    bool               // window shown
	tickCancel context.CancelFunc // stops the countdown ticker; nil while stopped
	states     map[string]refresher.State
	// lastExpiry is the expiry of each client's last token seen: a state
	// forgets an expired token, the details still say when it expired.
	lastExpiry map[string]time.Time
	view       []refresher.State // filtered and sorted: what the list shows
	filter     string
	sortMode   string
	selected   string // name of the selected client, "" when none
	list       *widget.List
	search     *escEntry       // the filter
	dialogs    []dialog.Dialog // shown over the window, newest last (Escape closes it)
	rows       map[fyne.CanvasObject]*clientRow
	details    *detailsPane
	status     *widget.Label
	statusTill time.Time // a message shows until then; afterwards the overall status line
	// statusLive, when set, writes the status bar's message at each tick
	// (a countdown) until it returns "".
	statusLive func(now time.Time) string
	overall    string            // the overall status line (as in the tray)
	empty      fyne.CanvasObject // shown instead of the list when there are no clients
	demoItems  []*fyne.MenuItem  // the Demo menu's entries, beside demoActs
	demoActs   []DemoAction
	tray       trayState
	park       *loopPark // parks the driver loop while hidden; nil: never parks
	// The agent's request log (ui/agent.go): its source, and the open
	// list with the rows it shows (nil while closed).
	agentRecent func() []agent.Request
	recentList  *widget.List
	recentRows  []agent.Request
	recentOpen  atomic.Bool // the list is open (read by AgentRequest off the UI thread)
	login       loginItem   // start at login (ui/autostart.go); nil: the system's
	// Local proxies (ui/proxy.go): the running ones, and each client's
	// section of the details.
	proxies    map[string]*localProxy
	proxyViews map[string]*proxyView
}

// New builds the UI for a; nothing is shown until Start.
func New(a fyne.App, opts Options) *UI {
	u := &UI{
		app:        a,
		opts:       opts,
		refresher:  opts.Refresher,
		time:       opts.TimeSource,
		prefs:      settings{a.Preferences()},
		notes:      newNotifier(),
		async:      func(f func()) { go f() },
		send:       a.SendNotification,
		do:         uiDo,
		states:     map[string]refresher.State{},
		lastExpiry: map[string]time.Time{},
		rows:       map[fyne.CanvasObject]*clientRow{},
		sortMode:   sortName,
	}
	if u.refresher == nil && opts.Refresher != nil {
		u.refresher = opts.Refresher
	}
	if u.time == nil {
		u.time = realTime{}
	}
	if u.opts.HTTPClient == nil {
		u.opts.HTTPClient = refresher.NewHTTPClient(15 * time.Second)
	}
	if u.opts.Title == "" {
		u.opts.Title = "Tokentray"
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.every = u.startTicker
	if _, desk := a.(desktop.App); desk {
		u.actionNotes = newDBusNotes(u.opts.Title)
	}
	u.clip = &clipGuard{clip: a.Clipboard(), time: u.time, do: uiDo}
	u.notes.load(a.Preferences())
	u.build()
	return u
}

// Start shows the window, installs the tray and starts following refresher
// events.
func (u *UI) Start() {
	if u.refresher != nil {
		u.sub = u.refresher.Subscribe()
		u.resync()
	}
	if u.sub != nil {
		u.wg.Add(1)
		go u.follow(u.sub.C())
	}
	u.every(u.ctx, 30*time.Second, u.sweep)
	u.installTray()
	if len(u.view) > 0 && u.selected == "" {
		u.list.Select(0) // open on the first client's details, not an empty pane
	}
	if !u.opts.Hidden {
		u.showWindow()
		if u.opts.OfferStartAtLogin {
			u.offerStartAtLogin()
		}
	}
}

// Quit asks the app to quit, from the UI thread or from a goroutine the
// app's wiring stops before the app's loop can stop (cmd/tokentray-gui
// quits on a signal only until the loop starts; then Fyne's own handler
// does): after the loop stopped, uiDo would run this inline on a dead
// driver. The clipboard is cleared first if it still holds a token
// Tokentray put there.
func (u *UI) Quit() {
	uiDo(func() {
		u.clip.clear()
		u.app.Quit()
	})
}

// Stop releases what Start took: it stops the subscription reader and the
// tickers and waits for their goroutines to end. Call it after the app's
// Run returns (the clipboard is cleared by Quit, while the driver still
// runs).
func (u *UI) Stop() {
	u.stopped.Store(true)
	if u.park != nil {
		u.park.stop()
		mainLoop.CompareAndSwap(u.park, nil)
	}
	u.cancel()
	if u.actionNotes != nil {
		u.actionNotes.close()
	}
	if u.sub != nil {
		u.sub.Close()
	}
	u.wg.Wait()
}

// follow reads snapshots until the subscription ends or Stop, applying
// whatever has queued up in one batch on the UI thread. It queues the next
// batch only once the last one was applied: every apply redraws the list
// and the tray for all clients, so during a refresh wave (two snapshots a
// token) one apply per snapshot was quadratic in the clients. Snapshots
// wait in the subscription meanwhile (it never blocks the refresher and
// keeps each client's newest).
func (u *UI) follow(c <-chan refresher.State) {
	defer u.wg.Done()
	for {
		select {
		case <-u.ctx.Done():
			return
		case st, ok := <-c:
			if !ok {
				return
			}
			batch := []refresher.State{st}
		drain:
			for len(batch) < 4096 {
				select {
				case st, ok := <-c:
					if !ok {
						break drain
					}
					batch = append(batch, st)
				default:
					break drain
				}
			}
			applied := make(chan struct{})
			u.do(func() {
				defer close(applied)
				u.apply(batch)
			})
			select {
			case <-applied:
			case <-u.ctx.Done():
				return
			}
		}
	}
}

// startTicker is the real UI.every: a goroutine of its own that calls f
// on the UI thread every d until ctx ends. Stop waits for it.
func (u *UI) startTicker(ctx context.Context, d time.Duration, f func()) {
	if u.ctx.Err() != nil {
		return // stopped: Stop may be waiting already
	}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				u.do(func() {
					if ctx.Err() == nil {
						f()
					}
				})
			}
		}
	}()
}

// sweep re-checks time-based rules every 30 s (on the UI thread):
// notifications for a refresh failing too long or a rotation crossing a
// day, the tray status, and a resync with the source (which also drops
// removed clients).
func (u *UI) sweep() {
	if u.refresher != nil {
		u.resync()
		return
	}
	u.checkNotifications(u.sortedStates())
	u.updateTray()
}

// resync replaces the known states with the source's current list.
func (u *UI) resync() {
	all := u.refresher.States()
	fresh := make(map[string]refresher.State, len(all))
	for _, st := range all {
		fresh[st.Client.Name] = st
	}
	for name := range u.states {
		if _, ok := fresh[name]; !ok {
			u.notes.forget(name)
			delete(u.lastExpiry, name)
			u.forgetProxy(name)
		}
	}
	for _, st := range fresh {
		u.noteExpiry(st)
	}
	u.states = fresh
	u.checkNotifications(all)
	u.refreshAll()
}

// apply takes snapshots into the window, the tray and the notification
// rules (on the UI thread).
func (u *UI) apply(batch []refresher.State) {
	for _, st := range batch {
		if st.Removed {
			delete(u.states, st.Client.Name)
			delete(u.lastExpiry, st.Client.Name)
			u.notes.forget(st.Client.Name)
			u.forgetProxy(st.Client.Name)
			continue
		}
		u.noteExpiry(st)
		u.states[st.Client.Name] = st
	}
	u.checkNotifications(batch)
	u.refreshAll()
}

// noteExpiry remembers the expiry of st's token, if it has one.
func (u *UI) noteExpiry(st refresher.State) {
	if !st.Expiry.IsZero() {
		u.lastExpiry[st.Client.Name] = st.Expiry
	}
}

// checkNotifications sends what the notification rules say about states.
func (u *UI) checkNotifications(states []refresher.State) {
	now := u.time.Now()
	p := u.prefs.notify()
	before := len(u.notes.sent)
	changed := false
	for _, st := range states {
		failing := st.Err != nil || st.Phase == refresher.PhaseRejected || st.Phase == refresher.PhaseStale || st.Phase == refresher.PhaseExpired
		for _, n := range u.notes.check(st, now, p) {
			u.notify(n, st.Client.Name, failing)
			changed = true
		}
	}
	if changed || len(u.notes.sent) != before {
		u.notes.save(u.app.Preferences())
	}
}

// notify sends a notification about a client: with Open (and Retry when
// retry is set) as actions where the notification daemon shows actions,
// else as Fyne's plain notification.
func (u *UI) notify(n *fyne.Notification, name string, retry bool) {
	if u.actionNotes == nil || u.ctx.Err() != nil {
		u.send(n)
		return
	}
	acts := []noteAction{{actDefault, "Open"}, {actOpen, "Open"}}
	if retry {
		acts = append(acts, noteAction{actRetry, "Retry"})
	}
	on := func(key string) {
		if u.stopped.Load() {
			return
		}
		u.do(func() {
			switch key {
			case actDefault, actOpen:
				u.reveal(name)
			case actRetry:
				u.refreshNow(name)
			}
		})
	}
	u.wg.Add(1)
	go func() { // D-Bus may block: never on the UI thread
		defer u.wg.Done()
		if err := u.actionNotes.send(n.Title, n.Content, acts, on); err != nil && !u.stopped.Load() {
			u.do(func() { u.send(n) })
		}
	}()
}

// refreshAll redraws what depends on the set of states: the list, the
// details of the selected client and the tray.
func (u *UI) refreshAll() {
	u.rebuildView()
	if u.selected != "" {
		if st, ok := u.states[u.selected]; ok {
			u.details.show(st)
		} else {
			u.selected = ""
			u.details.clear()
		}
	}
	u.updateTray()
}

// showWindow shows the window and starts the countdown ticker.
func (u *UI) showWindow() {
	u.win.Show()
	u.win.RequestFocus()
	u.onShown()
}

// onShown starts the countdown ticker when the window became visible (by
// showWindow, or by a click on Fyne's tray icon where that is the tray).
func (u *UI) onShown() {
	if u.visible {
		return
	}
	u.visible = true
	u.tick()
	ctx, cancel := context.WithCancel(u.ctx)
	u.tickCancel = cancel
	u.every(ctx, time.Second, u.tick)
}

// hideWindow hides the window to the tray and stops the countdown ticker.
func (u *UI) hideWindow() {
	u.win.Hide()
	u.visible = false
	if u.tickCancel != nil {
		u.tickCancel()
		u.tickCancel = nil
	}
	if u.park != nil {
		u.park.activity() // park once the hide is done
	}
}

// tick updates the countdowns of the rows on screen and of the details.
func (u *UI) tick() {
	now := u.time.Now()
	u.showOverall()
	for _, r := range u.rows {
		if st, ok := u.states[r.name]; ok {
			r.tick(st, now)
		}
	}
	if u.selected != "" {
		if st, ok := u.states[u.selected]; ok {
			u.details.tick(st, now)
		}
	}
}

// sortedStates returns every known state sorted by name.
func (u *UI) sortedStates() []refresher.State {
	out := make([]refresher.State, 0, len(u.states))
	for _, st := range u.states {
		out = append(out, st)
	}
	sortStates(out, sortName, u.time.Now())
	return out
}

// statusHold is how long a message stays in the status bar before the
// overall status line returns.
const statusHold = 20 * time.Second

// setStatus shows a message in the window's status bar.
func (u *UI) setStatus(s string) {
	u.statusTill = u.time.Now().Add(statusHold)
	u.statusLive = nil
	u.statusWarn(false)
	setText(u.status, s)
}

// statusWarn shows the status bar's message as a warning (or not).
func (u *UI) statusWarn(on bool) {
	imp := widget.MediumImportance
	if on {
		imp = widget.WarningImportance
	}
	if u.status.Importance != imp {
		u.status.Importance = imp
		u.status.Refresh()
	}
}

// showOverall puts the overall status line in the status bar unless a
// message is still showing.
func (u *UI) showOverall() {
	now := u.time.Now()
	if u.statusLive != nil {
		if s := u.statusLive(now); s != "" {
			setText(u.status, s)
			return
		}
		u.statusLive, u.statusTill = nil, time.Time{}
	}
	if now.Before(u.statusTill) {
		return
	}
	u.statusWarn(false)
	setText(u.status, u.overall)
}

// tell explains something to the user: in a dialog when the window is
// shown, else as a notification (the tray's actions run without a window).
func (u *UI) tell(title, msg string) {
	u.setStatus(title + ": " + msg)
	if u.visible {
		u.showDialog(infoDialog(title, msg, u.win)) // Escape closes it
		return
	}
	u.send(&fyne.Notification{Title: title, Content: msg})
}

// installTray sets up the tray icon and menu when the driver has one, and
// the driver loop's park where the tray answers without the loop.
func (u *UI) installTray() {
	if _, ok := u.app.(desktop.App); !ok {
		return
	}
	u.tray.host = newTrayHost(u.app, u.win, u.opts.Title, u.Show, uiDo)
	u.win.SetCloseIntercept(u.closeToTray) // Fyne's tray window would only Hide
	if !trayParks {
		// Fyne's own tray shows the window on a click without telling the
		// UI; the window coming to the foreground says it did. Not where
		// the UI has its own tray and every show goes through Show: there
		// the window also "enters the foreground" just after a hide by
		// alt+F4 or Ctrl+W (seen under openbox and with no window
		// manager), and the UI would think it shown: ticking and never
		// parking the loop.
		u.app.Lifecycle().SetOnEnteredForeground(u.onShown)
	}
	u.tray.sig = "" // force the first build
	u.updateTray()
	if trayParks {
		u.park = newLoopPark(fyne.Do, u.mayPark, u.opts.Done)
		mainLoop.Store(u.park)
		u.park.start()
	}
}

// mayPark says whether the driver loop may park now (UI thread): the
// window is hidden, and no token Tokentray copied is still on the
// clipboard (a paste needs the loop to answer the X server).
func (u *UI) mayPark() bool {
	return !u.visible && !u.stopped.Load() && !u.clip.held()
}

func (u *UI) appIcon() fyne.Resource { return assets.AppIcon }

// prefTrayHint records that the close-to-tray hint was shown once.
const prefTrayHint = "hint.closeToTray"

// closeToTray hides the window to the tray; the first time ever it says
// that Tokentray keeps running there.
func (u *UI) closeToTray() {
	u.hideWindow()
	p := u.app.Preferences()
	if p.Bool(prefTrayHint) {
		return
	}
	p.SetBool(prefTrayHint, true)
	u.send(&fyne.Notification{Title: "Tokentray keeps running in the tray",
		Content: "Closing the window keeps your tokens fresh from the tray icon. Quit from the tray menu or with Ctrl+Q."})
}

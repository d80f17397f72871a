package ui

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/godbus/dbus/v5"
)

// Notifications with actions (Open, Retry) through the desktop's
// notification daemon (org.freedesktop.Notifications on the session bus).
// Fyne's SendNotification has no actions, so the window talks D-Bus itself
// when the daemon says it supports them (GetCapabilities "actions"), and
// falls back to Fyne's notification when there is no such daemon.

const (
	notifyDest  = "org.freedesktop.Notifications"
	notifyPath  = "/org/freedesktop/Notifications"
	notifyIface = "org.freedesktop.Notifications"
)

// errNoActions says the session has no notification daemon that shows
// actions.
var errNoActions = errors.New("ui: the notification daemon shows no actions")

// noteAction is one button of a notification: its D-Bus key and label.
type noteAction struct{ key, label string }

// Keys of the notification actions. "default" is the daemon's action for a
// click on the notification itself.
const (
	actDefault = "default"
	actOpen    = "open"
	actRetry   = "retry"
)

// dbusNotes sends notifications with actions and reports the action
// chosen. It connects on first use (a private connection, closed by
// close); every method is safe from any goroutine and may block on D-Bus,
// so the UI calls them off its thread.
type dbusNotes struct {
	app     string
	connect func() (*dbus.Conn, error)

	mu      sync.Mutex // guards the fields below
	tried   bool       // connect was called
	err     error      // why there are no actions (after tried)
	conn    *dbus.Conn
	pending map[uint32]func(key string) // notification id -> what its actions do
}

func newDBusNotes(app string) *dbusNotes {
	return &dbusNotes{app: app, connect: func() (*dbus.Conn, error) { return dbus.SessionBusPrivate() }, pending: map[uint32]func(string){}}
}

// start connects to the session bus, checks the daemon's capabilities and
// follows its signals; it runs once.
func (d *dbusNotes) start() error {
	if d.tried {
		return d.err
	}
	d.tried = true
	d.err = d.open()
	return d.err
}

func (d *dbusNotes) open() error {
	conn, err := d.connect()
	if err != nil {
		return fmt.Errorf("ui: session bus: %w", err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return fmt.Errorf("ui: session bus: %w", err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return fmt.Errorf("ui: session bus: %w", err)
	}
	var caps []string
	if err := conn.Object(notifyDest, notifyPath).Call(notifyIface+".GetCapabilities", 0).Store(&caps); err != nil {
		conn.Close()
		return fmt.Errorf("ui: notification daemon: %w", err)
	}
	if !slices.Contains(caps, "actions") {
		conn.Close()
		return errNoActions
	}
	if err := conn.AddMatchSignal(dbus.WithMatchObjectPath(notifyPath), dbus.WithMatchInterface(notifyIface)); err != nil {
		conn.Close()
		return fmt.Errorf("ui: notification signals: %w", err)
	}
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	d.conn = conn
	go d.follow(signals)
	return nil
}

// follow runs the action a person chose, and forgets closed notifications,
// until the connection closes.
func (d *dbusNotes) follow(signals <-chan *dbus.Signal) {
	for sig := range signals {
		switch {
		case sig.Name == notifyIface+".ActionInvoked" && len(sig.Body) == 2:
			id, _ := sig.Body[0].(uint32)
			key, _ := sig.Body[1].(string)
			d.mu.Lock()
			on := d.pending[id]
			d.mu.Unlock()
			if on != nil {
				on(key)
			}
		case sig.Name == notifyIface+".NotificationClosed" && len(sig.Body) >= 1:
			id, _ := sig.Body[0].(uint32)
			d.mu.Lock()
			delete(d.pending, id)
			d.mu.Unlock()
		}
	}
}

// send shows a notification with actions; on is called (from the signal
// goroutine) with the key of the action chosen. It fails with errNoActions
// or a D-Bus error when the caller must fall back to a plain notification.
func (d *dbusNotes) send(title, body string, actions []noteAction, on func(key string)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.start(); err != nil {
		return err
	}
	flat := make([]string, 0, 2*len(actions))
	for _, a := range actions {
		flat = append(flat, a.key, a.label)
	}
	var id uint32
	err := d.conn.Object(notifyDest, notifyPath).Call(notifyIface+".Notify", 0,
		d.app, uint32(0), "", title, body, flat, map[string]dbus.Variant{}, int32(-1)).Store(&id)
	if err != nil {
		return fmt.Errorf("ui: notify: %w", err)
	}
	d.pending[id] = on
	return nil
}

// close ends the connection (and the signal goroutine with it).
func (d *dbusNotes) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tried, d.err = true, errors.New("ui: notifications closed")
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
}

// Command tokentray-gui is Tokentray's window and tray icon. The tokentray
// command executes it when run without a command (and for `tokentray demo`);
// it takes only its own few flags (package internal/launch). This file is
// wiring only.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/demo"
	"github.com/tokentray/tokentray/internal/launch"
	"github.com/tokentray/tokentray/internal/version"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/ui"
	"github.com/tokentray/tokentray/vault"
)

func main() {
	w, err := launch.Parse(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2) // Parse has printed the problem
	}
	if w.Version {
		fmt.Println(version.Line())
		return
	}
	if w.Demo {
		err = runDemo(w)
	} else {
		err = run(w)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// run opens the window and the tray on the user's store.
func run(w launch.Window) error {
	dir := w.Config
	if dir == "" {
		d, err := vault.DefaultDir()
		if err != nil {
			return err
		}
		dir = d
	}
	srv, err := claim(dir)
	if srv == nil {
		return err // nil: the running app was asked to show its window
	}
	defer srv.Close()
	store, err := openWithTeams(dir)
	if err != nil {
		return err
	}
	return runApp(app.NewWithID(vault.DefaultService), store, srv, w.Hidden, "Tokentray", nil, nil)
}

// claim makes this process the one app on the store in dir (package
// agent). When another app already runs there, it asks that one to show its
// window and returns a nil server and a nil error: this process then exits
// 0 without a second tray icon or scheduler.
func claim(dir string) (*agent.Server, error) {
	// The endpoint is named after the directory's real path: make it exist
	// first, as the command line will see it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	srv, err := agent.Listen(dir)
	if !errors.Is(err, agent.ErrRunning) {
		return srv, err
	}
	// The other app may be between taking the lock and listening.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		err = agent.Show(ctx, dir)
		if err == nil {
			fmt.Fprintln(os.Stderr, "tokentray: already running: its window was asked to show")
			return nil, nil
		}
		if !errors.Is(err, agent.ErrNotRunning) || ctx.Err() != nil {
			return nil, fmt.Errorf("tokentray is already running on %s but does not answer: %w", dir, err)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// runApp runs the refresher and the window until the user quits or a
// SIGTERM arrives.
// tune, when set, adjusts the refresher's options after the preferences.
// srv is this app's agent endpoint, served here (show the window, tokens).
func runApp(a fyne.App, store *vault.Store, srv *agent.Server, hidden bool, title string, demo ui.DemoControl, tune func(*refresher.Options)) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	opts := refresher.Options{Store: store}
	ui.ApplyPreferences(a.Preferences(), &opts) // refresh margin and sweep interval from Settings
	if tune != nil {
		tune(&opts)
	}
	r := refresher.New(opts)
	if err := r.Start(ctx); err != nil {
		return fmt.Errorf("start refresher: %w", err)
	}
	u := ui.New(a, ui.Options{Store: store, Refresher: r, Title: title, Demo: demo, Hidden: hidden, OfferStartAtLogin: demo == nil, Done: ctx.Done()})
	srv.Start(agent.Options{Show: u.Show, Tokens: r, OnRequest: u.AgentRequest})
	u.SetAgent(srv.Recent)
	go sweepTeams(ctx, store, r, a)
	u.Start()
	runLoop(ctx, a, u.Quit)
	u.Stop()
	srv.Close()
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer stopCancel()
	return r.Stop(stopCtx)
}

// runLoop runs a's loop until it quits. Who asks it to quit, and when:
// until the loop starts, a ctx that ends (SIGINT, SIGTERM) calls quit once,
// from the goroutine that watches ctx or, if the loop started first, from
// the UI thread as it starts; quit's fyne.Do then runs on the loop. Once the
// loop runs, those signals are Fyne's own (Run installs a handler that
// quits) and the window's Quit comes from the UI thread. The watcher does
// nothing after the start and is waited for before runLoop returns, so
// nothing asks the app to quit after its loop stopped, when fyne.Do would
// run the request inline on a dead driver.
func runLoop(ctx context.Context, a fyne.App, quit func()) {
	var mu sync.Mutex // guards started and asked
	var started, asked bool
	a.Lifecycle().SetOnStarted(func() {
		mu.Lock()
		defer mu.Unlock()
		started = true
		if ctx.Err() != nil && !asked {
			asked = true
			quit()
		}
	})
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			mu.Lock()
			defer mu.Unlock()
			if !started && !asked {
				asked = true
				quit()
			}
		case <-stop:
		}
	}()
	a.Run()
	close(stop)
	<-stopped
}

// runDemo runs the demo (`tokentray demo`): the embedded authorization
// server with three sample clients in a store of their own, and the window
// on them (or, headless, only the server, for trying the command line).
func runDemo(w launch.Window) error {
	dir := w.Config
	if dir == "" {
		d, err := demo.DefaultDir()
		if err != nil {
			return err
		}
		dir = d
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if w.Headless {
		return runHeadless(ctx, demo.Options{Dir: dir, TokenTTL: w.TokenTTL}, os.Stdout)
	}
	srv, err := claim(dir)
	if srv == nil {
		return err
	}
	defer srv.Close()
	d, err := demo.Start(ctx, demo.Options{Dir: dir, TokenTTL: w.TokenTTL})
	if err != nil {
		return err
	}
	defer d.Close()
	// The refresh margin of at least 5 minutes would make every token shorter
	// than 10 minutes due at once: with --token-ttl 2m a person should see a
	// token count down and be refreshed with a quarter of its life left.
	short := func(o *refresher.Options) {
		if w.TokenTTL < 10*time.Minute {
			o.MarginMin = w.TokenTTL / 4
		}
	}
	return runApp(app.NewWithID(demo.Service), d.Store, srv, w.Hidden, "Tokentray demo", demoMenu{d}, short)
}

// demoMenu offers the demo's trouble switches in the window's Demo menu.
type demoMenu struct{ d *demo.Demo }

func (m demoMenu) Actions() []ui.DemoAction {
	var out []ui.DemoAction
	for _, a := range m.d.Actions() {
		out = append(out, ui.DemoAction(a))
	}
	return out
}

// Sample offers the demo's first client (id and current secret) for a
// person to add under a name of their own: the demo server accepts it under
// any name.
func (m demoMenu) Sample() (ui.DemoSample, error) {
	clients := m.d.Server.Clients()
	if len(clients) == 0 {
		return ui.DemoSample{}, errors.New("the demo server has no clients")
	}
	c := clients[0]
	return ui.DemoSample{TokenURL: m.d.Server.TokenURL(), ClientID: c.ID, Secret: c.Secret, Scopes: c.Scopes}, nil
}

// runHeadless runs the demo server on the demo store until ctx ends,
// without a window or a Fyne app, and prints to out how to use it from the
// command line.
func runHeadless(ctx context.Context, opts demo.Options, out io.Writer) error {
	d, err := demo.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer d.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "Demo authorization server: %s (tokens live %v)\n", d.Server.URL(), opts.TokenTTL)
	fmt.Fprintf(&b, "Demo configuration directory: %s\n", d.Dir)
	clients := d.Server.Clients()
	for _, c := range clients {
		fmt.Fprintf(&b, "  client %-10s scopes %v\n", c.Name, c.Scopes)
	}
	fmt.Fprintf(&b, "Try, while this runs (Ctrl-C stops it):\n  tokentray --config %s token %s\n", shellQuote(d.Dir), clients[0].Name)
	if _, err := io.WriteString(out, b.String()); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// characters that never need quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

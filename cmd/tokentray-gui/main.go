// Command tokentray-gui is Tokentray's window and tray icon. The tokentray
// command executes it when run without a subcommand or as `tokentray demo`;
// it takes the same arguments. This file is wiring only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/cli"
	"github.com/tokentray/tokentray/demo"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/ui"
	"github.com/tokentray/tokentray/vault"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("tokentray", flag.ContinueOnError)
	dir := fs.String("config", "", "configuration directory (default $TOKENTRAY_CONFIG_DIR or the user config dir)")
	hidden := fs.Bool("hidden", false, "start in the tray without showing the window (as start at login does)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0 && fs.Arg(0) == "demo":
		return runDemo(fs.Args()[1:], *hidden)
	case fs.NArg() > 0:
		// Any other subcommand: the same command line as tokentray's.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if *dir == "" {
		d, err := vault.DefaultDir()
		if err != nil {
			return err
		}
		*dir = d
	}
	srv, err := claim(*dir)
	if srv == nil {
		return err // nil: the running app was asked to show its window
	}
	defer srv.Close()
	store, err := openWithTeams(*dir)
	if err != nil {
		return err
	}
	return runApp(app.NewWithID(vault.DefaultService), store, srv, *hidden, "Tokentray", nil, nil)
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
	u := ui.New(a, ui.Options{Store: store, Refresher: r, Title: title, Demo: demo, Hidden: hidden, OfferStartAtLogin: demo == nil})
	srv.Start(agent.Options{Show: u.Show, Tokens: r, OnRequest: u.AgentRequest})
	u.SetAgent(srv.Recent)
	go sweepTeams(ctx, store, r, a)
	go func() {
		<-ctx.Done()
		u.Quit()
	}()
	u.Start()
	a.Run()
	u.Stop()
	srv.Close()
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer stopCancel()
	return r.Stop(stopCtx)
}

// runDemo runs `tokentray demo`: the embedded authorization server with
// three sample clients in a store of their own, and the window on them (or,
// with --headless, only the server, for trying the command line).
func runDemo(args []string, hidden bool) error {
	fs := flag.NewFlagSet("tokentray demo", flag.ContinueOnError)
	headless := fs.Bool("headless", false, "run only the server and print how to use it from the command line")
	ttl := fs.Duration("token-ttl", time.Hour, "lifetime of the demo's tokens, e.g. 2m to watch refreshes happen")
	dir := fs.String("config", "", "the demo's configuration directory (default $TOKENTRAY_DEMO_DIR or <user config dir>/tokentray-demo)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := demo.DefaultDir()
		if err != nil {
			return err
		}
		*dir = d
	}
	var srv *agent.Server
	if !*headless {
		s, err := claim(*dir)
		if s == nil {
			return err
		}
		defer s.Close()
		srv = s
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	d, err := demo.Start(ctx, demo.Options{Dir: *dir, TokenTTL: *ttl})
	if err != nil {
		return err
	}
	defer d.Close()
	if *headless {
		fmt.Printf("Demo authorization server: %s (tokens live %v)\n", d.Server.URL(), *ttl)
		fmt.Printf("Demo configuration directory: %s\n", d.Dir)
		for _, c := range d.Server.Clients() {
			fmt.Printf("  client %-10s scopes %v\n", c.Name, c.Scopes)
		}
		fmt.Printf("Try, while this runs (Ctrl-C stops it):\n  tokentray --config %s token %s\n", shellQuote(d.Dir), d.Server.Clients()[0].Name)
		<-ctx.Done()
		return nil
	}
	// The refresh margin of at least 5 minutes would make every token shorter
	// than 10 minutes due at once: with --token-ttl 2m a person should see a
	// token count down and be refreshed with a quarter of its life left.
	short := func(o *refresher.Options) {
		if *ttl < 10*time.Minute {
			o.MarginMin = *ttl / 4
		}
	}
	return runApp(app.NewWithID(demo.Service), d.Store, srv, hidden, "Tokentray demo", demoMenu{d}, short)
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

// shellQuote quotes s for a POSIX shell when it holds anything but
// characters that never need quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Command tokentray-gui is Tokentray's window and tray icon. The tokentray
// command executes it when run without a subcommand or as `tokentray demo`;
// it takes the same arguments. This file is wiring only.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/tokentray/tokentray/cli"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0 && fs.Arg(0) == "demo":
		return runDemo(fs.Args()[1:])
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
	store, err := vault.OpenSystem(*dir)
	if err != nil {
		return err
	}
	return runApp(app.NewWithID(vault.DefaultService), store, "Tokentray", nil)
}

// runApp runs the refresher and the window until the user quits or a
// SIGTERM arrives.
func runApp(a fyne.App, store *vault.Store, title string, demo ui.DemoControl) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	r := refresher.New(refresher.Options{Store: store})
	if err := r.Start(ctx); err != nil {
		return fmt.Errorf("start refresher: %w", err)
	}
	u := ui.New(a, ui.Options{Store: store, Refresher: r, Title: title, Demo: demo})
	go func() {
		<-ctx.Done()
		u.Quit()
	}()
	u.Start()
	a.Run()
	u.Stop()
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer stopCancel()
	return r.Stop(stopCtx)
}

// runDemo is wired when the demo server lands.
func runDemo(args []string) error {
	return fmt.Errorf("demo: not wired yet (%d args)", len(args))
}

// Command tokentray keeps OAuth 2.0 client-credentials secrets in the OS
// keyring and their access tokens fresh.
//
// With a command (token, header, exec, list, add, demo, ...) it runs the
// command line in this process. This binary links no GUI code, so a
// script's `tokentray token NAME` starts in about a millisecond instead of
// paying for Fyne's package initialisation and the GL/X11 libraries (see
// docs/PERFORMANCE.md). With no command, only the window's flags (--config,
// --hidden), it opens the window and the tray: it executes tokentray-gui,
// installed beside it (package internal/launch). This file is wiring only.
package main

import (
	"context"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/tokentray/tokentray/cli"
	"github.com/tokentray/tokentray/internal/launch"
)

func main() {
	args := os.Args[1:]
	if w, ok := window(args); ok {
		log.Fatal(launch.Exec(w))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// window reports whether args ask for the window: nothing but the window's
// own flags. Anything else, usage errors, -help and --version included, is
// the command line's.
func window(args []string) (launch.Window, bool) {
	w, err := launch.Parse(args, io.Discard)
	return w, err == nil && !w.Version
}

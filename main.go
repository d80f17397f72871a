// Command tokentray keeps OAuth 2.0 client-credentials secrets in the OS
// keyring and their access tokens fresh.
//
// With a subcommand (token, header, exec, list, add, ...) it runs the command
// line in this process. This binary links no GUI code, so a script's
// `tokentray token NAME` starts in about a millisecond instead of paying for
// Fyne's package initialisation and the GL/X11 libraries (see
// docs/PERFORMANCE.md). With no subcommand, or `demo`, it opens the window
// and the tray: it executes tokentray-gui, installed beside it, with the same
// arguments. This file is wiring only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/tokentray/tokentray/cli"
)

// guiBinary is the name of the window's executable (cmd/tokentray-gui).
const guiBinary = "tokentray-gui"

func main() {
	args := os.Args[1:]
	if wantsGUI(args) {
		log.Fatal(execGUI(args))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// wantsGUI reports whether args ask for the window: nothing but the global
// --config and --hidden flags, or the demo.
func wantsGUI(args []string) bool {
	fs := flag.NewFlagSet("tokentray", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("config", "", "")
	fs.Bool("hidden", false, "") // start in the tray (start at login)
	if err := fs.Parse(args); err != nil {
		return false // the command line explains usage errors and --help
	}
	return fs.NArg() == 0 || fs.Arg(0) == "demo"
}

// execGUI replaces this process with tokentray-gui, found beside this
// executable or else on PATH (on Windows, which cannot replace a process,
// it runs it and exits with its code). It returns only on failure.
func execGUI(args []string) error {
	path, err := findGUI()
	if err != nil {
		return err
	}
	if runtime.GOOS == "windows" {
		code, err := runGUI(path, args)
		if err != nil {
			return err
		}
		os.Exit(code)
	}
	return syscall.Exec(path, append([]string{path}, args...), os.Environ())
}

// runGUI runs the window's program as a child with the standard streams
// and returns its exit code.
func runGUI(path string, args []string) (int, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("cannot start %s: %w", path, err)
	}
	return 0, nil
}

func findGUI() (string, error) {
	self, err := os.Executable()
	if err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		beside := filepath.Join(filepath.Dir(self), guiBinary)
		if fi, err := os.Stat(beside); err == nil && !fi.IsDir() {
			return beside, nil
		}
	}
	if path, err := exec.LookPath(guiBinary); err == nil {
		return path, nil
	}
	dir := "the directory of tokentray"
	if self != "" {
		dir = filepath.Dir(self)
	}
	return "", errors.New(fmt.Sprint("the window is a separate program, ", guiBinary,
		", and it is not installed: build it with `go build -o ", filepath.Join(dir, guiBinary),
		" ./cmd/tokentray-gui` (or run scripts/run.sh); the command line works without it"))
}

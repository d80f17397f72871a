// Package launch is the window program's command line: the few flags of
// tokentray-gui, parsed here for both programs, and the way tokentray
// starts it. tokentray hands the window program every run without a
// command, and `tokentray demo`; tokentray-gui takes nothing else.
// The package links no GUI code.
package launch

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Binary is the name of the window's executable (cmd/tokentray-gui).
const Binary = "tokentray-gui"

// DefaultTokenTTL is the lifetime of the demo server's tokens.
const DefaultTokenTTL = time.Hour

// Window is what tokentray-gui is asked to do.
type Window struct {
	// Config is the store's directory (--config); "" means the default: with
	// Demo the demo's own (demo.DefaultDir), else the user's (vault.DefaultDir).
	Config string
	// Hidden starts the app in the tray without showing the window
	// (--hidden, as start at login does).
	Hidden bool
	// Demo runs the embedded demo server and the window on its sample
	// clients in a store of their own (--demo).
	Demo bool
	// Headless runs only the demo server, with Demo, and prints how to use
	// it from the command line (--headless): no window, no Fyne app, no
	// display needed.
	Headless bool
	// TokenTTL is the lifetime of the demo's tokens (--token-ttl, with Demo
	// only; 0 means DefaultTokenTTL).
	TokenTTL time.Duration
	// Version prints the version line (package internal/version) and
	// nothing else happens (--version).
	Version bool
}

// Parse parses tokentray-gui's arguments, which are flags only. Problems
// and -help go to output.
func Parse(args []string, output io.Writer) (Window, error) {
	w, err := parse(args, output)
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintln(output, err)
	}
	return w, err
}

// usageError is a problem with the arguments that the flag package did not
// print.
type usageError struct{ msg string }

func (e *usageError) Error() string { return Binary + ": " + e.msg }

func parse(args []string, output io.Writer) (Window, error) {
	var w Window
	fs := flag.NewFlagSet(Binary, flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&w.Config, "config", "", "configuration `DIR` (default $TOKENTRAY_CONFIG_DIR, else the user config dir; with --demo, $TOKENTRAY_DEMO_DIR, else <user config dir>/tokentray-demo)")
	fs.BoolVar(&w.Hidden, "hidden", false, "start in the tray without showing the window (as start at login does)")
	fs.BoolVar(&w.Demo, "demo", false, "run the embedded demo server and show its three sample clients (tokentray demo)")
	fs.BoolVar(&w.Headless, "headless", false, "with --demo: run only the server and print how to use it from the command line")
	fs.BoolVar(&w.Version, "version", false, "print the version and exit")
	fs.DurationVar(&w.TokenTTL, "token-ttl", 0, "with --demo: lifetime of the demo's tokens, e.g. 2m to watch refreshes happen (default 1h)")
	if err := fs.Parse(args); err != nil {
		return Window{}, err
	}
	if fs.NArg() > 0 {
		return Window{}, &usageError{fmt.Sprintf("unexpected argument %q: the window takes only flags; commands belong to tokentray", fs.Arg(0))}
	}
	if w.TokenTTL != 0 && !w.Demo {
		return Window{}, &usageError{"--token-ttl is for the demo's tokens: add --demo"}
	}
	if w.Headless && !w.Demo {
		return Window{}, &usageError{"--headless runs only the demo's server: add --demo"}
	}
	if w.TokenTTL < 0 {
		return Window{}, &usageError{fmt.Sprintf("--token-ttl %v: give a positive duration such as 2m", w.TokenTTL)}
	}
	if w.Demo && w.TokenTTL == 0 {
		w.TokenTTL = DefaultTokenTTL
	}
	return w, nil
}

// Args returns the arguments that make tokentray-gui do w.
func (w Window) Args() []string {
	var args []string
	if w.Config != "" {
		args = append(args, "--config", w.Config)
	}
	if w.Hidden {
		args = append(args, "--hidden")
	}
	if w.Version {
		args = append(args, "--version")
	}
	if w.Demo {
		args = append(args, "--demo")
		if w.Headless {
			args = append(args, "--headless")
		}
		if w.TokenTTL != 0 {
			args = append(args, "--token-ttl", w.TokenTTL.String())
		}
	}
	return args
}

// Exec replaces this process with tokentray-gui doing w, found beside this
// executable or else on PATH (on Windows, which cannot replace a process, it
// runs it and exits with its code). It returns only on failure.
func Exec(w Window) error {
	path, err := Find()
	if err != nil {
		return err
	}
	args := w.Args()
	if runtime.GOOS == "windows" {
		code, err := Run(path, args)
		if err != nil {
			return err
		}
		os.Exit(code)
	}
	return syscall.Exec(path, append([]string{path}, args...), os.Environ())
}

// Run runs the window's program at path as a child with the standard
// streams and returns its exit code.
func Run(path string, args []string) (int, error) {
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

// Find returns the path of tokentray-gui: beside this executable, else on
// PATH, else an error that says how to build it.
func Find() (string, error) {
	self, err := os.Executable()
	if err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		beside := filepath.Join(filepath.Dir(self), Binary)
		if fi, err := os.Stat(beside); err == nil && !fi.IsDir() {
			return beside, nil
		}
	}
	if path, err := exec.LookPath(Binary); err == nil {
		return path, nil
	}
	dir := "the directory of tokentray"
	if self != "" {
		dir = filepath.Dir(self)
	}
	return "", errors.New(fmt.Sprint("the window is a separate program, ", Binary,
		", and it is not installed: build it with `go build -o ", filepath.Join(dir, Binary),
		" ./cmd/tokentray-gui` (or run scripts/run.sh); the command line works without it"))
}

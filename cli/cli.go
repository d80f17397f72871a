// Package cli is Tokentray's command line: the commands scripts, cron jobs
// and terminals use on the same store as the window (token, header, exec,
// list, status, add, edit, remove, set-secret, rotate, refresh, inspect,
// doctor, export, import, autostart, team, demo, version). One file per
// command.
//
// Run is the entry point. Machine output goes to stdout, messages to
// stderr, and every command exits with the same codes (see ExitCode). The
// package imports no Fyne package, so `tokentray token` on a warm cache does
// no more than parse its arguments, read the index and read the keyring.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/internal/launch"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/teamkv"
	"github.com/tokentray/tokentray/textsafe"
	"github.com/tokentray/tokentray/vault"
)

// env is everything a command touches outside the process: the standard
// streams, the process environment, the keyring, the network and the clock.
// Run builds the real one; tests build their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	environ        func() []string           // the environment a child of exec starts from
	keyring        vault.Keyring             // nil: the OS keyring, under the service recorded for the directory
	httpClient     *http.Client              // token requests; nil: the refresher's default
	now            func() time.Time          // nil: time.Now
	executable     func() (string, error)    // this program's path for autostart; nil: autostart.Executable
	openWindow     func(launch.Window) error // starts tokentray-gui; nil: launch.Exec
}

// Run runs the command line with args (without the program name) and
// returns the process exit code: 0 ok, 1 other error, 2 usage, 3 no such
// client, 4 credentials rejected, 5 scope not allowed, 6 endpoint
// unreachable or failing, 7 keyring unavailable or locked; exec returns its
// child's code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, env{
		stdin:   stdin,
		stdout:  stdout,
		stderr:  stderr,
		getenv:  os.Getenv,
		environ: os.Environ,
	}, args)
}

// Commands returns the subcommand names, so that main can tell a command
// line from the window's arguments.
func Commands() []string {
	names := make([]string, 0, len(commandTable))
	for _, c := range commandTable {
		names = append(names, c.name)
	}
	return append(names, "help")
}

// commandTable lists every subcommand with the constructor of its ffcli
// command, in the order help shows them.
var commandTable = []struct {
	name string
	make func(a *app) *ffcli.Command
}{
	{"token", (*app).tokenCommand},
	{"header", (*app).headerCommand},
	{"exec", (*app).execCommand},
	{"list", (*app).listCommand},
	{"status", (*app).statusCommand},
	{"add", (*app).addCommand},
	{"edit", (*app).editCommand},
	{"remove", (*app).removeCommand},
	{"set-secret", (*app).setSecretCommand},
	{"rotate", (*app).rotateCommand},
	{"refresh", (*app).refreshCommand},
	{"proxy", (*app).proxyCommand},
	{"inspect", (*app).inspectCommand},
	{"doctor", (*app).doctorCommand},
	{"export", (*app).exportCommand},
	{"import", (*app).importCommand},
	{"autostart", (*app).autostartCommand},
	{"demo", (*app).demoCommand},
	{"version", (*app).versionCommand},
	{"team", (*app).teamCommand},
}

// app is one run of the command line: the environment plus the global
// flags, shared by every command.
type app struct {
	env
	configDir string // --config
	quiet     bool   // --quiet: no informational messages
	showVer   bool   // --version on the root
	store     *vault.Store
	cmds      map[string]*ffcli.Command
}

func run(ctx context.Context, e env, args []string) int {
	a := &app{env: e}
	root := a.rootCommand()
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has printed the problem and the usage
	}
	err := root.Run(ctx)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	}
	a.printError(err)
	return ExitCode(err)
}

func (a *app) rootCommand() *ffcli.Command {
	fs := a.newFlagSet("tokentray")
	fs.BoolVar(&a.showVer, "version", false, "print the version and exit")
	a.cmds = map[string]*ffcli.Command{}
	var subs []*ffcli.Command
	for _, c := range commandTable {
		cmd := c.make(a)
		a.cmds[c.name] = cmd
		subs = append(subs, cmd)
	}
	root := &ffcli.Command{
		Name:       "tokentray",
		ShortUsage: "tokentray [--config DIR] [--quiet] COMMAND [FLAGS] [ARGS]",
		ShortHelp:  "Keep OAuth 2.0 client-credentials secrets in the OS keyring and their access tokens fresh.",
		LongHelp: strings.TrimSpace(`
Without a command, tokentray opens the window and the tray icon. Every command
works on the same store: the index file in --config (default
$TOKENTRAY_CONFIG_DIR, else the user configuration directory) and the OS keyring.
Machine output goes to stdout, messages to stderr.

EXAMPLES
  printf %s "$SECRET" | tokentray add billing --token-url https://auth.example.com/oauth2/token --client-id m2m-client-test-123 --scope models:read
  curl -H "$(tokentray header billing)" https://api.example.com/v1/models
  tokentray exec billing -- ./deploy.sh

EXIT CODES
  0 ok, 1 other error, 2 usage, 3 no such client, 4 credentials rejected,
  5 scope not allowed, 6 endpoint unreachable or failing, 7 keyring unavailable
  or locked; exec exits with its command's code.`),
		FlagSet:     fs,
		Subcommands: append(subs, a.helpCommand()),
		Exec: func(ctx context.Context, args []string) error {
			if a.showVer {
				return a.printVersion()
			}
			if len(args) > 0 {
				return usagef("tokentray", "unknown command %q: run tokentray help", args[0])
			}
			return usagef("tokentray", "a command is required: run tokentray help")
		},
	}
	return root
}

func (a *app) helpCommand() *ffcli.Command {
	return &ffcli.Command{
		Name:       "help",
		ShortUsage: "tokentray help [COMMAND]",
		ShortHelp:  "Show help for tokentray or one of its commands.",
		FlagSet:    a.newFlagSet("help"),
		Exec: func(_ context.Context, args []string) error {
			if len(args) == 0 {
				fmt.Fprint(a.stdout, a.usageOf(nil))
				return nil
			}
			cmd, ok := a.cmds[args[0]]
			if !ok {
				return usagef("help", "unknown command %q", args[0])
			}
			fmt.Fprint(a.stdout, a.usageOf(cmd))
			return nil
		},
	}
}

func (a *app) usageOf(cmd *ffcli.Command) string {
	if cmd == nil {
		cmd = a.rootCommand()
	}
	return ffcli.DefaultUsageFunc(cmd)
}

// newFlagSet returns a flag set that reports to stderr and carries the
// global flags, so they work before and after the command name.
func (a *app) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Func("config", "configuration `DIR` (default $TOKENTRAY_CONFIG_DIR, else the user config dir)", func(s string) error {
		a.configDir = s
		return nil
	})
	fs.BoolVar(&a.quiet, "quiet", false, "print no informational messages on stderr")
	return fs
}

// dir returns the configuration directory: --config, else
// $TOKENTRAY_CONFIG_DIR, else the default.
func (a *app) dir() (string, error) {
	if a.configDir != "" {
		return a.configDir, nil
	}
	if d := a.getenv(vault.EnvConfigDir); d != "" {
		return d, nil
	}
	return vault.DefaultDir()
}

// keyringFor returns the injected keyring, else the OS keyring under the
// service recorded for dir (vault.ServiceFor).
func (a *app) keyringFor(dir string) (vault.Keyring, error) {
	if a.keyring != nil {
		return a.keyring, nil
	}
	service, err := vault.ServiceFor(dir)
	if err != nil {
		return nil, err
	}
	return vault.NewSystemKeyring(service), nil
}

// openStore opens the store once per run.
func (a *app) openStore() (*vault.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	dir, err := a.dir()
	if err != nil {
		return nil, err
	}
	kr, err := a.keyringFor(dir)
	if err != nil {
		return nil, err
	}
	var opts []vault.Option
	if a.now != nil {
		opts = append(opts, vault.WithClock(a.now))
	}
	teams, err := teamkv.OpenAll(dir, kr, a.teamOptions())
	if err != nil {
		return nil, err
	}
	opts = append(opts, vault.WithSources(teamkv.Sources(teams)...))
	s, err := vault.Open(dir, kr, opts...)
	if err != nil {
		return nil, err
	}
	a.store = s
	return s, nil
}

// refresher returns a refresher on the store (without its scheduler).
func (a *app) refresher(s *vault.Store) *refresher.Refresher {
	return refresher.New(refresher.Options{Store: s, HTTPClient: a.httpClient, Now: a.now})
}

// client returns the stored client called name, with an error that says
// what to do when there is none.
func (a *app) client(s *vault.Store, name string) (vault.Client, error) {
	c, err := s.Get(name)
	if errors.Is(err, vault.ErrNoClient) {
		return c, noClient(name)
	}
	return c, err
}

func noClient(name string) error {
	return fmt.Errorf("no client named %q: tokentray list shows the stored ones, tokentray add adds one: %w", name, vault.ErrNoClient)
}

func (a *app) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

// infof prints an informational message on stderr unless --quiet.
func (a *app) infof(format string, args ...any) {
	if a.quiet {
		return
	}
	fmt.Fprintf(a.stderr, "tokentray: %s\n", textsafe.Escapef(format, args...))
}

// warnf prints a warning on stderr unless --quiet.
func (a *app) warnf(format string, args ...any) {
	if a.quiet {
		return
	}
	fmt.Fprintf(a.stderr, "tokentray: warning: %s\n", textsafe.Escapef(format, args...))
}

// errorf prints an error message on stderr, even with --quiet.
func (a *app) errorf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "tokentray: %s\n", textsafe.Escapef(format, args...))
}

// printError prints the error that ends a run on stderr, with a hint when
// the error class has one. Child exit codes of exec print nothing.
func (a *app) printError(err error) {
	var ce *childExit
	var rep *reported
	if errors.As(err, &ce) || errors.As(err, &rep) {
		return
	}
	var ue *usageError
	if errors.As(err, &ue) {
		if ue.cmd == "tokentray" {
			fmt.Fprintf(a.stderr, "tokentray: %s\n", textsafe.Escape(ue.msg))
			return
		}
		fmt.Fprintf(a.stderr, "tokentray %s: %s\n", ue.cmd, textsafe.Escape(ue.msg))
		if cmd, ok := a.cmds[ue.cmd]; ok && cmd.ShortUsage != "" {
			fmt.Fprintf(a.stderr, "usage: %s\n", cmd.ShortUsage)
		}
		if ue.cmd != "tokentray" && ue.cmd != "help" {
			fmt.Fprintf(a.stderr, "run 'tokentray %s -h' for help\n", ue.cmd)
		}
		return
	}
	msg := describe(err)
	if errors.Is(err, vault.ErrNoSessionBus) {
		// The refresher's sentence speaks of unlocking; a cron job needs to
		// know which bus to name.
		if _, _, berr := vault.FindSessionBus(a.getenv); berr != nil {
			msg = berr.Error()
		}
	}
	if (errors.Is(err, vault.ErrKeyringUnavailable) || errors.Is(err, vault.ErrKeyringLocked)) && !strings.Contains(msg, "doctor") {
		msg += " (tokentray doctor checks the keyring and says how to fix it)"
	}
	fmt.Fprintf(a.stderr, "tokentray: %s\n", textsafe.Escape(msg))
}

// describe returns the message for a person: the sentence of the
// agent.Error (the running app's words) or refresher.Error in err's chain
// (its Words, said once in the refresher), else the error's text.
func describe(err error) string {
	if ae, ok := errors.AsType[*agent.Error](err); ok {
		return ae.Message()
	}
	if re, ok := errors.AsType[*refresher.Error](err); ok {
		return re.Message()
	}
	return err.Error()
}

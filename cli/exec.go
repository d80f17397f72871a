package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// Environment variables exec sets in its child.
const (
	EnvToken          = "TOKENTRAY_TOKEN"            // the access token (or the --env name)
	EnvTokenExpiresAt = "TOKENTRAY_TOKEN_EXPIRES_AT" // its expiry, RFC 3339
	EnvClient         = "TOKENTRAY_CLIENT"           // the client name
	EnvExec           = "TOKENTRAY_EXEC"             // "1" inside exec: exec refuses to nest
)

// validEnvName reports whether s matches [A-Za-z_][A-Za-z0-9_]* (a loop, not
// a package-level regexp compiled at every tokentray start).
func validEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

func (a *app) execCommand() *ffcli.Command {
	fs := a.newFlagSet("exec")
	var tf tokenFlags
	tf.register(fs)
	envVar := fs.String("env", EnvToken, "the environment `VAR` that holds the token in the command's environment")
	return &ffcli.Command{
		Name:       "exec",
		ShortUsage: "tokentray exec NAME [--env VAR] [--scope S]... -- CMD [ARGS]...",
		ShortHelp:  "Run a command with a valid token in its environment.",
		LongHelp: strings.TrimSpace(`
Runs CMD with TOKENTRAY_TOKEN (or --env VAR) set to a valid access token,
TOKENTRAY_TOKEN_EXPIRES_AT to its expiry (RFC 3339) and TOKENTRAY_CLIENT to
NAME. Standard streams are passed through, SIGINT, SIGTERM, SIGHUP and SIGQUIT
are forwarded, and tokentray exits with the command's exit code. As in a
shell, a command that is not found exits 127 and one that cannot be run 126.
The client secret never reaches the command. exec refuses to run inside
another exec.

EXAMPLE
  tokentray exec billing -- sh -c 'curl -H "Authorization: Bearer $TOKENTRAY_TOKEN" https://api.example.com/v1/models'`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, argv, err := execArgs(fs, args)
			if err != nil {
				return err
			}
			if !validEnvName(*envVar) {
				return usagef("exec", "--env %q is not an environment variable name", *envVar)
			}
			if a.getenv(EnvExec) == "1" {
				return usagef("exec", "already running inside tokentray exec (%s=1): the command has its token in $%s; call tokentray token NAME for another client", EnvExec, EnvToken)
			}
			path, err := lookCommand(argv[0])
			if err != nil {
				return err // before a token is fetched for nothing
			}
			res, err := a.token(ctx, name, tf)
			if err != nil {
				return err
			}
			if err := printable(name, res, false); err != nil {
				return err
			}
			expires := ""
			if !res.Token.Expiry.IsZero() {
				expires = res.Token.Expiry.UTC().Format(time.RFC3339)
			}
			childEnv := childEnviron(a.environ(), map[string]string{
				*envVar:           res.Token.AccessToken,
				EnvTokenExpiresAt: expires,
				EnvClient:         name,
				EnvExec:           "1",
			})
			return a.runChild(path, argv, childEnv)
		},
	}
}

// execArgs splits exec's arguments into the client name and the command:
// everything after the first "--", or, without one, after the name and its
// flags.
func execArgs(fs *flag.FlagSet, args []string) (name string, argv []string, err error) {
	if i := slices.Index(args, "--"); i >= 0 {
		pos, err := parsePositional(fs, args[:i])
		if err != nil {
			return "", nil, &usageError{cmd: "exec", msg: err.Error()}
		}
		argv = args[i+1:]
		switch {
		case len(pos) == 0:
			return "", nil, usagef("exec", "a client NAME is required before --")
		case len(pos) > 1:
			return "", nil, usagef("exec", "one client NAME expected before --, got %q", pos)
		}
		name = pos[0]
	} else {
		if len(args) == 0 {
			return "", nil, usagef("exec", "a client NAME and a command are required")
		}
		name = args[0]
		if err := fs.Parse(args[1:]); err != nil {
			return "", nil, &usageError{cmd: "exec", msg: err.Error()}
		}
		argv = fs.Args()
	}
	if len(argv) == 0 {
		return "", nil, usagef("exec", "a command to run is required after --")
	}
	return name, argv, nil
}

// childEnviron returns base without any variable named in set (nor an
// inherited TOKENTRAY_TOKEN, stale when --env names another variable), plus
// set.
func childEnviron(base []string, set map[string]string) []string {
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, drop := set[k]; drop || k == EnvToken {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

// forwarded are the signals exec passes on to its command: those a terminal,
// a service manager or a closed session sends to stop or reload it.
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// cannotRun is a command exec could not start: exit 127 when it is not
// found, 126 when it cannot be run, as shells do.
type cannotRun struct {
	code int
	cmd  string
	why  string
}

func (e *cannotRun) Error() string { return "exec: " + e.cmd + ": " + e.why }

// lookCommand finds name as a shell would: in $PATH unless it holds a
// slash. It returns a *cannotRun with the shell's words when the command
// is missing (127) or not executable (126).
func lookCommand(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	return "", startError(name, err)
}

// startError words why name could not be started, with the shell's exit
// code.
func startError(name string, err error) error {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return &cannotRun{code: 127, cmd: name, why: "command not found"}
	case errors.Is(err, fs.ErrNotExist):
		return &cannotRun{code: 127, cmd: name, why: "No such file or directory"}
	case errors.Is(err, fs.ErrPermission):
		return &cannotRun{code: 126, cmd: name, why: "Permission denied"}
	case errors.Is(err, syscall.EISDIR):
		return &cannotRun{code: 126, cmd: name, why: "Is a directory"}
	}
	return &cannotRun{code: 126, cmd: name, why: err.Error()}
}

// runChild runs path (found for argv[0]) with env, the standard streams
// passed through and the forwarded signals passed on, and returns its exit
// status as a *childExit.
func (a *app) runChild(path string, argv []string, env []string) error {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return startError(argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &childExit{code: 128 + int(ws.Signal())}
		}
		return &childExit{code: ee.ExitCode()}
	}
	return fmt.Errorf("exec: %q: %w", argv[0], err)
}

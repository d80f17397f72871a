package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/tokentray/tokentray/vault"
)

// scopeList is a repeatable flag; each value may also hold several scopes
// separated by spaces or commas.
type scopeList struct {
	set    bool
	scopes []string
}

func (l *scopeList) String() string { return strings.Join(l.scopes, " ") }

func (l *scopeList) Set(s string) error {
	l.set = true
	l.scopes = append(l.scopes, strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t'
	})...)
	return nil
}

// paramList is the repeatable --param KEY=VALUE flag. The arguments are
// checked when applied, not by the flag package, whose error would repeat
// the whole argument (a mistyped --param client_secret=... included).
type paramList struct {
	args []string
}

func (l *paramList) String() string { return strings.Join(l.args, " ") }

func (l *paramList) Set(s string) error {
	l.args = append(l.args, s)
	return nil
}

// apply replaces, in p, the values of each key given with the values given
// for it, in order; a key given only as KEY= is removed.
func (l *paramList) apply(p url.Values) (url.Values, error) {
	given := url.Values{}
	var keys []string
	for _, arg := range l.args {
		k, v, err := vault.ParseParam(arg)
		if err != nil {
			return nil, err
		}
		if _, ok := given[k]; !ok {
			keys = append(keys, k)
		}
		if v == "" {
			given[k] = []string{} // KEY= drops what came before it
			continue
		}
		given[k] = append(given[k], v)
	}
	if len(keys) == 0 {
		return p, nil
	}
	if p == nil {
		p = url.Values{}
	}
	for _, k := range keys {
		if vs := given[k]; len(vs) > 0 {
			p[k] = vs
		} else {
			delete(p, k)
		}
	}
	return p, nil
}

// parsePositional continues parsing flags after each positional argument,
// so that `token NAME --scope S` works as well as `token --scope S NAME`.
// ffcli has parsed up to the first positional; args is what remains.
func parsePositional(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		pos = append(pos, args[0])
		if err := fs.Parse(args[1:]); err != nil {
			return nil, err
		}
		args = fs.Args()
	}
	return pos, nil
}

// oneName parses the positional arguments of a command that takes exactly
// one client name.
func oneName(cmd string, fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parsePositional(fs, args)
	if err != nil {
		return "", &usageError{cmd: cmd, msg: err.Error()}
	}
	switch len(pos) {
	case 0:
		return "", usagef(cmd, "a client NAME is required")
	case 1:
		return pos[0], nil
	}
	return "", usagef(cmd, "one client NAME expected, got %d arguments: %q", len(pos), pos)
}

// noArgs parses the positional arguments of a command that takes none.
func noArgs(cmd string, fs *flag.FlagSet, args []string) error {
	pos, err := parsePositional(fs, args)
	if err != nil {
		return &usageError{cmd: cmd, msg: err.Error()}
	}
	if len(pos) > 0 {
		return usagef(cmd, "unexpected arguments %q", pos)
	}
	return nil
}

// terminalFd returns the descriptor of r when it is a terminal.
func terminalFd(r io.Reader) (int, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readSecret reads a client secret: from stdin when it is not a terminal
// (piped or redirected), else from a prompt on the terminal without echo.
// Never from argv or the environment.
func (a *app) readSecret(prompt string) (string, error) {
	var raw []byte
	if fd, ok := terminalFd(a.stdin); ok {
		fmt.Fprint(a.stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read the secret from the terminal: %w", err)
		}
		raw = b
	} else {
		b, err := io.ReadAll(io.LimitReader(a.stdin, vault.MaxSecretLen+3))
		if err != nil {
			return "", fmt.Errorf("read the secret from standard input: %w", err)
		}
		if len(b) > vault.MaxSecretLen+2 {
			return "", fmt.Errorf("standard input holds more than %d bytes: pipe only the client secret", vault.MaxSecretLen)
		}
		if len(b) == 0 {
			return "", errors.New("no secret on standard input: pipe it in (e.g. `secret-tool lookup ... | tokentray add ...`) or run in a terminal to be prompted")
		}
		raw = b
	}
	s, err := vault.NormalizeSecret(string(raw))
	clear(raw)
	return s, err
}

// confirm asks a yes/no question on the terminal; without a terminal it
// returns false and ok=false.
func (a *app) confirm(question string) (yes, ok bool) {
	if _, isTerm := terminalFd(a.stdin); !isTerm {
		return false, false
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(a.stdin).ReadString('\n')
	line = strings.ToLower(strings.TrimSpace(line))
	return line == "y" || line == "yes", true
}

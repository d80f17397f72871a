package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/vault"
)

// doctorProbeKey is the keyring key of doctor's probe item: the colon keeps
// it apart from every client's keys (names have no colon).
const doctorProbeKey = "tokentray-doctor:probe"

// check is one doctor finding.
type check struct {
	name   string
	ok     bool
	detail string // what was found
	fix    string // what to do, for a failure
	code   int    // exit code of a failure
}

func (a *app) doctorCommand() *ffcli.Command {
	fs := a.newFlagSet("doctor")
	timeout := fs.Duration("timeout", 5*time.Second, "how long each keyring call and endpoint check may take")
	return &ffcli.Command{
		Name:       "doctor",
		ShortUsage: "tokentray doctor [--timeout D]",
		ShortHelp:  "Check the session bus, the keyring, the index file and every token endpoint; print a fix for each failure.",
		LongHelp: strings.TrimSpace(`
Checks, in order: the D-Bus session bus (Linux), that the Secret Service
answers, a write/read/delete round trip of a probe item within the timeout
(the collection is unlocked), that the index file is readable with mode 0600,
that each client's secret is stored, and that each token URL is a token
endpoint: a client_credentials POST without credentials, over TLS (plain http
only on loopback), must get an OAuth error back; a 404, a web page or a
redirect is a wrong URL, and the fix names the right one when the server's
metadata (/.well-known/) gives it. Prints one line per check on stdout and a fix
for every failure; exits with the code of the first failure.

EXAMPLE
  tokentray doctor`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("doctor", fs, args); err != nil {
				return err
			}
			checks := a.doctor(ctx, *timeout)
			failed := 0
			first := 0
			for _, c := range checks {
				mark := "ok  "
				if !c.ok {
					mark = "FAIL"
					failed++
					if first == 0 {
						first = c.code
					}
				}
				fmt.Fprintf(a.stdout, "%s  %s: %s\n", mark, c.name, c.detail)
				if !c.ok && c.fix != "" {
					fmt.Fprintf(a.stdout, "      fix: %s\n", c.fix)
				}
			}
			if failed > 0 {
				return &doctorFailed{n: failed, code: first}
			}
			a.infof("all %d checks passed", len(checks))
			return nil
		},
	}
}

// doctorFailed ends a doctor run with failures; its code is the first
// failure's.
type doctorFailed struct{ n, code int }

func (e *doctorFailed) Error() string {
	if e.n == 1 {
		return "1 check failed: see the fix above"
	}
	return fmt.Sprintf("%d checks failed: see the fixes above", e.n)
}

func (a *app) doctor(ctx context.Context, timeout time.Duration) []check {
	var checks []check
	add := func(c check) { checks = append(checks, c) }

	if runtime.GOOS == "linux" {
		add(a.checkSessionBus())
	}
	dir, err := a.dir()
	if err != nil {
		return append(checks, check{name: "configuration directory", detail: err.Error(), fix: "set TOKENTRAY_CONFIG_DIR or give --config DIR", code: ExitError})
	}
	kr, err := a.keyringFor(dir)
	if err != nil {
		return append(checks, check{name: "keyring service", detail: err.Error(), fix: "fix or delete " + filepath.Join(dir, vault.ServiceFile), code: ExitError})
	}
	if sk, ok := kr.(*vault.SystemKeyring); ok {
		k := *sk
		k.Timeout = timeout
		kr = &k
	}
	service := a.checkKeyringAnswers(kr)
	add(service)
	if service.ok {
		add(a.checkRoundTrip(kr))
	}

	idx, clients := a.checkIndex()
	add(idx)
	if service.ok {
		for _, c := range clients {
			add(checkSecret(kr, c))
		}
	}
	var urls []string
	users := map[string][]string{} // token URL -> the clients using it
	for _, c := range clients {
		if !slices.Contains(urls, c.TokenURL) {
			urls = append(urls, c.TokenURL)
		}
		users[c.TokenURL] = append(users[c.TokenURL], c.Name)
	}
	for _, u := range urls {
		add(a.checkEndpoint(ctx, u, users[u], timeout))
	}
	return checks
}

func (a *app) checkSessionBus() check {
	c := check{name: "session bus", code: ExitKeyring}
	if addr := a.getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" {
		c.ok, c.detail = true, addr
		return c
	}
	if dir := a.getenv("XDG_RUNTIME_DIR"); dir != "" {
		if fi, err := os.Stat(filepath.Join(dir, "bus")); err == nil && fi.Mode().Type() == fs.ModeSocket {
			c.ok, c.detail = true, "unix:path="+filepath.Join(dir, "bus")+" (default)"
			return c
		}
	}
	c.detail = "DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus"
	c.fix = "run tokentray inside a desktop session, or start one for a script: " +
		"dbus-run-session -- sh -c 'printf %s PASSWORD | gnome-keyring-daemon --replace --unlock --components=secrets >/dev/null; tokentray ...'"
	return c
}

func (a *app) checkKeyringAnswers(kr vault.Keyring) check {
	c := check{name: "secret service", code: ExitKeyring}
	_, err := kr.Get(doctorProbeKey + "-absent")
	switch {
	case err == nil, errors.Is(err, vault.ErrNotFound):
		c.ok, c.detail = true, "answers"
	case errors.Is(err, vault.ErrKeyringLocked):
		c.detail = err.Error()
		c.fix = "unlock the keyring (log in to the desktop, or seahorse: unlock the \"login\" collection); a password prompt may be waiting"
	case errors.Is(err, vault.ErrKeyringUnavailable):
		c.detail = err.Error()
		c.fix = "install and start a Secret Service provider: apt-get install gnome-keyring, then log in again " +
			"(or: gnome-keyring-daemon --start --components=secrets)"
	default:
		c.detail = err.Error()
		c.fix = "check that gnome-keyring (or KeePassXC's Secret Service) is running: tokentray needs the org.freedesktop.secrets service"
		c.code = ExitError
	}
	return c
}

func (a *app) checkRoundTrip(kr vault.Keyring) check {
	c := check{name: "keyring round trip", code: ExitKeyring}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	want := "probe-" + hex.EncodeToString(b)
	start := time.Now()
	fail := func(step string, err error) check {
		c.detail = step + ": " + err.Error()
		c.fix = "make sure the default collection is unlocked and writable (seahorse shows it); tokentray doctor retries the round trip"
		if !errors.Is(err, vault.ErrKeyringLocked) && !errors.Is(err, vault.ErrKeyringUnavailable) {
			c.code = ExitError
		}
		return c
	}
	if err := kr.Set(doctorProbeKey, want); err != nil {
		return fail("write", err)
	}
	got, err := kr.Get(doctorProbeKey)
	if err != nil {
		return fail("read", err)
	}
	if err := kr.Delete(doctorProbeKey); err != nil {
		return fail("delete", err)
	}
	if got != want {
		return fail("read", errors.New("the item read back differs from the one written"))
	}
	c.ok, c.detail = true, fmt.Sprintf("write, read, delete in %v", time.Since(start).Round(time.Millisecond))
	return c
}

// checkIndex opens the index, and checks its mode, and returns its clients.
func (a *app) checkIndex() (check, []vault.Client) {
	c := check{name: "index", code: ExitError}
	s, err := a.openStore()
	if err != nil {
		c.detail = err.Error()
		c.fix = "restore the index from the backup beside it (clients.json.bak), or move it away and add the clients again"
		return c, nil
	}
	fi, err := os.Stat(s.IndexPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.ok, c.detail = true, s.IndexPath()+" does not exist yet (no clients)"
		return c, nil
	case err != nil:
		c.detail = err.Error()
		c.fix = "check the permissions of " + s.Dir()
		return c, nil
	}
	clients, err := s.List()
	if err != nil {
		c.detail = err.Error()
		c.fix = "restore the index from the backup beside it (clients.json.bak), or move it away and add the clients again"
		return c, nil
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		c.detail = fmt.Sprintf("%s has mode %04o", s.IndexPath(), perm)
		c.fix = "chmod 600 " + s.IndexPath()
		return c, clients
	}
	c.ok, c.detail = true, fmt.Sprintf("%s, mode 0600, %d clients", s.IndexPath(), len(clients))
	return c, clients
}

func checkSecret(kr vault.Keyring, cl vault.Client) check {
	c := check{name: "secret of " + cl.Name, code: ExitKeyring}
	_, err := kr.Get(vault.SecretKey(cl.Name))
	switch {
	case err == nil:
		c.ok, c.detail = true, "stored"
	case errors.Is(err, vault.ErrNotFound):
		c.detail, c.code = "no secret in the keyring", ExitError
		c.fix = "tokentray set-secret " + cl.Name + " (the secret is read from stdin or a prompt)"
	default:
		c.detail = err.Error()
		c.fix = "unlock the keyring, then run tokentray doctor again"
	}
	return c
}

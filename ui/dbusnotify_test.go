package ui

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"

	"github.com/tokentray/tokentray/refresher"
)

// desktopSession starts a private session bus, Xvfb and dunst (a real
// notification daemon with actions; its context menu picks the entry
// matching pick) and returns the bus address and the environment for
// dunstctl. It skips when one of them is not installed.
func desktopSession(t *testing.T, pick string) (addr string, env []string) {
	t.Helper()
	for _, b := range []string{"dbus-daemon", "Xvfb", "dunst", "dunstctl"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed (scripts/setup-debian.sh --tests installs it)", b)
		}
	}
	dir := t.TempDir()
	start := func(cmd *exec.Cmd) {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	firstLine := func(cmd *exec.Cmd) string {
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		start(cmd)
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v", cmd.Path, err)
		}
		return strings.TrimSpace(line)
	}
	addr = firstLine(exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "640x480x24", "-nolisten", "tcp")
	xvfb.ExtraFiles = []*os.File{w}
	start(xvfb)
	w.Close()
	display, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		t.Fatalf("Xvfb: %v", err)
	}
	picker := filepath.Join(dir, "pick")
	if err := os.WriteFile(picker, []byte("#!/bin/sh\ngrep -m1 '"+pick+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "dunstrc")
	if err := os.WriteFile(conf, []byte("[global]\n    dmenu = "+picker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "DISPLAY=:"+strings.TrimSpace(display), "HOME="+dir, "XDG_CONFIG_HOME="+dir)

	// Wait for dunst to own the name (a signal, not a sleep).
	watch, err := dbus.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	if err := watch.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := watch.Hello(); err != nil {
		t.Fatal(err)
	}
	if err := watch.AddMatchSignal(dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, notifyDest)); err != nil {
		t.Fatal(err)
	}
	owned := make(chan *dbus.Signal, 4)
	watch.Signal(owned)
	dunst := exec.Command("dunst", "-config", conf)
	dunst.Env = env
	start(dunst)
	select {
	case <-owned:
	case <-time.After(20 * time.Second):
		t.Fatal("dunst did not take org.freedesktop.Notifications")
	}
	return addr, env
}

// dunstctl runs dunstctl with args on the test's session.
func dunstctl(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("dunstctl", args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dunstctl %v: %v: %s", args, err, out)
	}
}

// A failure notification carries Open and Retry where the daemon shows
// actions (real dunst): choosing Retry refreshes the client, a click on
// the notification opens it in the window.
func TestNotificationActionsWithDunst(t *testing.T) {
	addr, env := desktopSession(t, "Retry")
	st := state("alpha", refresher.PhaseRejected, 0)
	st.Err = &refresher.Error{Class: refresher.ClassRejected, Host: "auth.example.com", Status: 401, Code: "invalid_client"}
	r := newRig(t, state("beta", refresher.PhaseFresh, time.Hour))
	onUI := make(chan func(), 10)
	r.ui.do = func(f func()) { onUI <- f }
	r.ui.actionNotes = &dbusNotes{app: "Tokentray test", pending: map[uint32]func(string){}, connect: func() (*dbus.Conn, error) { return dbus.Dial(addr) }}
	runNext := func(what string) {
		t.Helper()
		select {
		case f := <-onUI:
			f()
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: nothing reached the UI thread", what)
		}
	}

	r.ui.apply([]refresher.State{st})
	if len(r.sent) != 0 {
		t.Fatalf("sent %d plain notifications; want the one with actions over D-Bus", len(r.sent))
	}
	dunstctl(t, env, "context") // dunst's menu of actions; the picker chooses Retry
	runNext("Retry")
	if calls := r.src.calls; len(calls) != 1 || calls[0] != "alpha" {
		t.Errorf("after Retry: token requests %v; want one refresh of alpha", calls)
	}
	for len(onUI) > 0 { // the refresh's own report
		(<-onUI)()
	}

	r.ui.selectClient("beta")
	st.Phase, st.Err = refresher.PhaseFresh, nil
	r.ui.apply([]refresher.State{st}) // recovered: a notification with Open
	dunstctl(t, env, "action", "0")   // a click on it
	runNext("Open")
	if r.ui.selected != "alpha" || !r.ui.visible {
		t.Errorf("after Open: selected %q, window shown %v; want alpha shown", r.ui.selected, r.ui.visible)
	}
}

// Without a daemon that shows actions, the plain notification goes out.
func TestNotificationFallsBackWithoutActions(t *testing.T) {
	r := newRig(t, state("beta", refresher.PhaseFresh, time.Hour))
	r.ui.do = func(f func()) { f() }
	r.ui.actionNotes = &dbusNotes{pending: map[uint32]func(string){}, connect: func() (*dbus.Conn, error) { return nil, errors.New("no session bus") }}
	r.ui.notify(&fyne.Notification{Title: "t", Content: "c"}, "beta", true)
	r.ui.wg.Wait() // the sender
	if len(r.sent) != 1 || r.sent[0].Title != "t" {
		t.Errorf("sent %v; want the plain notification", titles(r.sent))
	}
}

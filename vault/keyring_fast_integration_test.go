package vault_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"

	"github.com/tokentray/tokentray/vault"
)

// TestSystemKeyringFastSet checks the one-call write path against the real
// Secret Service: what it writes is what go-keyring would have written
// (label, attributes, value, read back by secret-tool and by go-keyring's
// read), a second write replaces the item, and a session the service
// dropped is opened again rather than falling back.
func TestSystemKeyringFastSet(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fast path is the Linux Secret Service's")
	}
	kr, service := systemKeyring(t)
	value := "eyJhbGciOi ünïcödé/%=&" + strings.Repeat("x", 4000)
	if !vault.FastSet(service, "c1/token", value) {
		t.Fatal("FastSet on an unlocked login collection fell back to go-keyring")
	}
	if err := kr.Set("c2/token", "by the fallback path"); err != nil { // fast too; compared below
		t.Fatal(err)
	}
	out, _ := secretTool(t, "lookup", "service", service, "username", "c1/token")
	if out != value {
		t.Errorf("secret-tool lookup = %d bytes, want the %d written", len(out), len(value))
	}
	if got, err := kr.Get("c1/token"); err != nil || got != value {
		t.Errorf("Get = %d bytes, %v; want the value written", len(got), err)
	}
	_, all := secretTool(t, "search", "--all", "service", service, "username", "c1/token")
	if want := fmt.Sprintf("label = Password for 'c1/token' on '%s'", service); !strings.Contains(all, want) {
		t.Errorf("secret-tool search:\n%s\nwant go-keyring's label %q", all, want)
	}

	if !vault.FastSet(service, "c1/token", "second") {
		t.Fatal("second FastSet fell back")
	}
	_, all = secretTool(t, "search", "--all", "service", service, "username", "c1/token")
	if n := strings.Count(all, "label = "); n != 1 {
		t.Errorf("after two writes secret-tool finds %d items, want 1 (replaced):\n%s", n, all)
	}

	if err := vault.CloseFastSession(); err != nil {
		t.Fatal(err)
	}
	if !vault.FastSet(service, "c1/token", "third") {
		t.Fatal("FastSet after the service dropped its session fell back instead of opening a new one")
	}
	if got, err := kr.Get("c1/token"); err != nil || got != "third" {
		t.Errorf("Get after a new session = %q, %v; want third", got, err)
	}
}

// itemPaths returns the Secret Service object paths of the items of
// service and key, in every collection.
func itemPaths(t *testing.T, service, key string) []string {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	var unlocked, locked []dbus.ObjectPath
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").Call("org.freedesktop.Secret.Service.SearchItems", 0,
		map[string]string{"service": service, "username": key}).Store(&unlocked, &locked)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range append(unlocked, locked...) {
		out = append(out, string(p))
	}
	return out
}

// inCollections reports how many of paths are in the login and in the
// session collection.
func inCollections(paths []string) (login, session int) {
	for _, p := range paths {
		switch {
		case strings.HasPrefix(p, "/org/freedesktop/secrets/collection/login/"):
			login++
		case strings.HasPrefix(p, "/org/freedesktop/secrets/collection/session/"):
			session++
		}
	}
	return login, session
}

// Cached tokens live in the Secret Service's session collection (memory
// only: a write does not rewrite the login collection's file), secrets in
// the login collection. A token an older version left in the login
// collection is read, then deleted when the token is next written; where
// both copies exist the session's wins; Delete removes both.
func TestSystemKeyringTokensInSessionCollection(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the collections are the Linux Secret Service's")
	}
	kr, service := systemKeyring(t)
	if err := kr.Set("s1/secret", "a secret"); err != nil {
		t.Fatal(err)
	}
	if err := kr.Set("s1/token", "a token"); err != nil {
		t.Fatal(err)
	}
	if err := kr.Set("s1/token@abc", "a narrower token"); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][2]int{"s1/secret": {1, 0}, "s1/token": {0, 1}, "s1/token@abc": {0, 1}} {
		paths := itemPaths(t, service, key)
		if l, se := inCollections(paths); l != want[0] || se != want[1] || len(paths) != 1 {
			t.Errorf("%s is at %v: %d in login, %d in session; want %d and %d", key, paths, l, se, want[0], want[1])
		}
	}
	if got, err := kr.Get("s1/token"); err != nil || got != "a token" {
		t.Errorf("Get s1/token = %q, %v", got, err)
	}

	// An older version's token, in the login collection (go-keyring's way).
	if err := gokeyring.Set(service, "s2/token", "old"); err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Get("s2/token"); err != nil || got != "old" {
		t.Fatalf("Get of a login-collection token = %q, %v; want old", got, err)
	}
	if err := kr.Set("s2/token", "new"); err != nil {
		t.Fatal(err)
	}
	if l, se := inCollections(itemPaths(t, service, "s2/token")); l != 0 || se != 1 {
		t.Errorf("after a read and a write of s2/token: %d in login, %d in session; want the login copy deleted", l, se)
	}
	if got, err := kr.Get("s2/token"); err != nil || got != "new" {
		t.Errorf("Get s2/token = %q, %v; want new", got, err)
	}

	// The path a read saw now holds another item (the token was deleted
	// elsewhere and the path reused): the write deletes nothing else.
	paths := itemPaths(t, service, "s1/secret")
	if len(paths) != 1 {
		t.Fatalf("s1/secret at %v", paths)
	}
	vault.NoteStaleLogin(service, "s1/token", paths[0])
	if err := kr.Set("s1/token", "a token again"); err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Get("s1/secret"); err != nil || got != "a secret" {
		t.Fatalf("s1/secret after a token write that had its path noted as stale: %q, %v", got, err)
	}

	// Both copies (an older version wrote after this one): the session's
	// wins; the key is listed once; Delete removes both.
	if err := kr.Set("s3/token", "session copy"); err != nil {
		t.Fatal(err)
	}
	if err := gokeyring.Set(service, "s3/token", "login copy"); err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Get("s3/token"); err != nil || got != "session copy" {
		t.Errorf("Get with both copies = %q, %v; want the session copy", got, err)
	}
	keys, err := kr.Keys()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(","+strings.Join(keys, ",")+",", ",s3/token,"); n != 1 {
		t.Errorf("Keys lists s3/token %d times, want once: %v", n, keys)
	}
	for _, key := range []string{"s3/token", "s1/token"} {
		if err := kr.Delete(key); err != nil {
			t.Errorf("Delete %s: %v", key, err)
		}
		if paths := itemPaths(t, service, key); len(paths) != 0 {
			t.Errorf("after Delete %s: items %v remain", key, paths)
		}
		if _, err := kr.Get(key); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("Get %s after Delete: %v, want ErrNotFound", key, err)
		}
	}
	if err := kr.Delete("s1/token"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("a second Delete: %v, want ErrNotFound", err)
	}
}

// A Secret Service without a session collection (KeePassXC, KWallet's
// bridge) gets tokens in the login collection: the real gnome-keyring's
// answer for a collection it does not have is read as such.
func TestSystemKeyringTokensWithoutSessionCollection(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the collections are the Linux Secret Service's")
	}
	kr, service := systemKeyring(t)
	defer vault.UseSessionCollection("/org/freedesktop/secrets/collection/tokentray_test_absent")()
	if !vault.FastSet(service, "n1/token", "a token") {
		t.Fatal("FastSet fell back to go-keyring instead of writing to the login collection")
	}
	if err := kr.Set("n2/token", "another"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"n1/token", "n2/token"} {
		if l, se := inCollections(itemPaths(t, service, key)); l != 1 || se != 0 {
			t.Errorf("%s: %d in login, %d in session; want it in the login collection", key, l, se)
		}
	}
	if got, err := kr.Get("n1/token"); err != nil || got != "a token" {
		t.Errorf("Get = %q, %v", got, err)
	}
	if err := kr.Delete("n1/token"); err != nil {
		t.Errorf("Delete: %v", err)
	}
}

// privateBus starts a dbus-daemon of its own with no service files, so
// nothing is activated on it: a session bus with no Secret Service unless
// the test starts one. It returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service is Linux's")
	}
	for _, bin := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv(envRequireKeyring) == "1" {
				t.Fatalf("%s not found (%s=1)", bin, envRequireKeyring)
			}
			t.Skipf("%s not found", bin)
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--nofork", "--nosyslog", "--config-file="+conf, "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n') // printed once it listens
	if err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	return strings.TrimSpace(addr)
}

// runKeyringHelper runs role in a helper process on the session bus addr.
func runKeyringHelper(t *testing.T, role, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a guard against a hang, not a measurement
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envRole+"="+role, "DBUS_SESSION_BUS_ADDRESS="+addr)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper %s: %v\n%s", role, err, out)
	}
}

// On a session bus without a Secret Service, every call fails at once with
// ErrKeyringUnavailable (exit 7 in the CLI) and the words of go-keyring's
// path that the CLI always showed: the fast paths step aside.
func TestSystemKeyringNoSecretService(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	runKeyringHelper(t, "keyring-no-service", privateBus(t))
}

func keyringNoServiceHelper() error {
	if err := keyringUnavailableHelper(); err != nil {
		return err
	}
	kr := &vault.SystemKeyring{Service: "io.github.tokentray.test-no-service", Timeout: time.Minute}
	err := kr.Set("x/token", "v")
	if !strings.Contains(err.Error(), "org.freedesktop.secrets") {
		return fmt.Errorf("set: %v, want the Secret Service's bus name in the words", err)
	}
	if vault.FastSet("io.github.tokentray.test-no-service", "x/token", "v") {
		return errors.New("FastSet reported success with no Secret Service")
	}
	return nil
}

// With the login collection locked (and no one to answer an unlock
// prompt), a write neither takes the fast path nor stores anything: it
// fails with ErrKeyringLocked (exit 7 in the CLI), as go-keyring's path did.
// It runs against a gnome-keyring of its own, so locking it disturbs no
// other test.
func TestSystemKeyringLockedCollection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	addr := privateBus(t)
	dir := t.TempDir()
	for _, d := range []string{"run", "data", "home"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	kd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	kd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "HOME="+filepath.Join(dir, "home"))
	kd.Stdin = strings.NewReader("locked-test-password")
	if err := kd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kd.Process.Kill(); _ = kd.Wait() })
	runKeyringHelper(t, "keyring-locked", addr)
}

func keyringLockedHelper() error {
	const service = "io.github.tokentray.test-locked"
	conn, err := dbus.SessionBus()
	if err != nil {
		return err
	}
	if err := waitForName(conn, "org.freedesktop.secrets"); err != nil {
		return err
	}
	kr := &vault.SystemKeyring{Service: service, Timeout: 5 * time.Second}
	if err := kr.Set("x/secret", "before"); err != nil {
		return fmt.Errorf("set while unlocked: %w", err)
	}
	if err := kr.Set("x/token", "before"); err != nil {
		return fmt.Errorf("set a token while unlocked: %w", err)
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").Call("org.freedesktop.Secret.Service.Lock", 0,
		[]dbus.ObjectPath{"/org/freedesktop/secrets/collection/login"}).Store(&locked, &prompt)
	if err != nil || len(locked) != 1 {
		return fmt.Errorf("lock the login collection: locked %v, prompt %s, %v", locked, prompt, err)
	}
	if vault.FastSet(service, "x/secret", "after") {
		return errors.New("FastSet wrote to a locked collection")
	}
	if err := kr.Set("x/secret", "after"); !errors.Is(err, vault.ErrKeyringLocked) {
		return fmt.Errorf("set while locked: %v, want ErrKeyringLocked", err)
	}
	if _, err := kr.Get("x/secret"); !errors.Is(err, vault.ErrKeyringLocked) {
		return fmt.Errorf("get while locked: %v, want ErrKeyringLocked", err)
	}
	// Cached tokens are in the session collection, which the login
	// collection's lock does not lock: they are still read and written.
	if got, err := kr.Get("x/token"); err != nil || got != "before" {
		return fmt.Errorf("get a token while the login collection is locked: %q, %v; want before", got, err)
	}
	if err := kr.Set("x/token", "after"); err != nil {
		return fmt.Errorf("set a token while the login collection is locked: %v", err)
	}
	return nil
}

// waitForName returns once name has an owner on conn's bus (the keyring
// daemon the test started has registered), watching NameOwnerChanged.
func waitForName(conn *dbus.Conn, name string) error {
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, name)); err != nil {
		return err
	}
	ch := make(chan *dbus.Signal, 8)
	conn.Signal(ch)
	defer conn.RemoveSignal(ch)
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err != nil {
		return err
	}
	timeout := time.After(time.Minute) // a guard against a hang, not a measurement
	for !has {
		select {
		case sig := <-ch:
			if len(sig.Body) == 3 && sig.Body[0] == name && sig.Body[2] != "" {
				has = true
			}
		case <-timeout:
			return fmt.Errorf("%s did not appear on the bus", name)
		}
	}
	return nil
}

// TestSystemKeyringRoundTrips counts the D-Bus method calls this process
// makes for a keyring write and a read, watched by a monitor connection on
// the real bus: once the process's session is open, a write is one call
// (CreateItem) and a read two (SearchItems, GetSecret). go-keyring's write
// took five, and opened and closed a session of its own each time.
func TestSystemKeyringRoundTrips(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fast path is the Linux Secret Service's")
	}
	kr, _ := systemKeyring(t)
	if err := kr.Set("rt/token", "warm-up"); err != nil { // opens the process's session
		t.Fatal(err)
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	mon, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan *dbus.Message, 1024) // godbus drops what does not fit
	mon.Eavesdrop(msgs)
	defer func() {
		mon.Eavesdrop(nil) // else Close closes msgs under godbus's reader
		mon.Close()
	}()
	rule := fmt.Sprintf("type='method_call',sender='%s'", conn.Names()[0])
	// With Eavesdrop on, the answer to BecomeMonitor comes on msgs too.
	mon.BusObject().Go("org.freedesktop.DBus.Monitoring.BecomeMonitor", 0, nil, []string{rule}, uint32(0))
	for monitoring := false; !monitoring; {
		select {
		case m := <-msgs:
			switch m.Type {
			case dbus.TypeMethodReply:
				monitoring = true
			case dbus.TypeError:
				t.Fatalf("BecomeMonitor: %v", m)
			}
		case <-time.After(time.Minute): // a guard against a hang, not a measurement
			t.Fatal("no answer to BecomeMonitor")
		}
	}
	// calls returns the members this process called until a GetId, sent as a marker.
	calls := func() []string {
		t.Helper()
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetId", 0).Err; err != nil {
			t.Fatal(err)
		}
		var got []string
		timeout := time.After(time.Minute) // a guard against a hang, not a measurement
		for {
			select {
			case m := <-msgs:
				if m.Type != dbus.TypeMethodCall {
					continue
				}
				member, _ := m.Headers[dbus.FieldMember].Value().(string)
				if member == "GetId" {
					return got
				}
				got = append(got, member)
			case <-timeout:
				t.Fatalf("the monitor saw no marker; calls so far %v", got)
			}
		}
	}
	calls() // whatever came before the monitor was set up

	if err := kr.Set("rt/token", "a token"); err != nil {
		t.Fatal(err)
	}
	if got := calls(); strings.Join(got, ",") != "CreateItem" {
		t.Errorf("a keyring write made the calls %v, want [CreateItem]", got)
	}
	if v, err := kr.Get("rt/token"); err != nil || v != "a token" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if got := calls(); strings.Join(got, ",") != "SearchItems,GetSecret" {
		t.Errorf("a keyring read made the calls %v, want [SearchItems GetSecret]", got)
	}
}

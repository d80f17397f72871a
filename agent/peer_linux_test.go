package agent

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// envPeerChild makes the test binary a child that connects to the socket
// in it, sends "TT1 show" and prints whatever comes back.
const envPeerChild = "TOKENTRAY_AGENT_PEER_CHILD"

func TestMain(m *testing.M) {
	if sock := os.Getenv(envPeerChild); sock != "" {
		c, err := net.Dial("unix", sock)
		if err != nil {
			os.Stdout.WriteString("dial: " + err.Error())
			os.Exit(2)
		}
		io.WriteString(c, "TT1 show\n")
		b, _ := io.ReadAll(c)
		os.Stdout.Write(b)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestPeerOfAnotherUserRefused runs a child as user nobody that reaches the
// socket (the test opens the directory and the socket to everyone, which
// the app never does) and checks that the server answers nothing and shows
// nothing: the uid check (SO_PEERCRED) alone refuses it. Needs root.
func TestPeerOfAnotherUserRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a child as another user")
	}
	rt := runtimeFor(t)
	store := t.TempDir()
	shown := make(chan struct{}, 1)
	startServer(t, store, Options{Show: func() { shown <- struct{}{} }})
	dir := filepath.Join(rt, "tokentray")
	sock := filepath.Join(dir, key(store)+".sock")

	// The child binary must be reachable by nobody.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(rt, "child.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{rt, dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}

	run := func(cred *syscall.Credential) string {
		cmd := exec.Command(bin)
		cmd.Env = []string{envPeerChild + "=" + sock}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child (%+v): %v: %s", cred, err, out)
		}
		return string(out)
	}
	// The same child as root is answered: the rig works.
	if got := run(nil); got != "TT1 ok\n" {
		t.Fatalf("child as root got %q, want TT1 ok", got)
	}
	<-shown
	if got := run(&syscall.Credential{Uid: 65534, Gid: 65534}); got != "" {
		t.Errorf("child as nobody got %q, want nothing", got)
	}
	select {
	case <-shown:
		t.Error("show ran for another user")
	default:
	}
}

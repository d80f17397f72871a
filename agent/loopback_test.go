package agent

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/refresher"
)

func TestLoopbackTransport(t *testing.T) {
	dir := t.TempDir()
	tr := &loopbackTransport{dir: dir, name: key(t.TempDir())}
	client := &loopbackTransport{dir: tr.dir, name: tr.name}
	ctx := context.Background()
	if _, err := exchange(ctx, client, request{verb: verbShow}); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("exchange with no app = %v, want ErrNotRunning", err)
	}
	s, err := listenOn(tr)
	if err != nil {
		t.Fatal(err)
	}
	shown := make(chan struct{}, 1)
	s.Start(Options{Show: func() { shown <- struct{}{} }, Tokens: &fakeTokens{}})
	defer s.Close()
	if _, err := listenOn(&loopbackTransport{dir: tr.dir, name: tr.name}); !errors.Is(err, ErrRunning) {
		t.Errorf("second listen = %v, want ErrRunning", err)
	}
	if fi, err := os.Stat(tr.portPath()); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("port file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	if _, err := exchange(ctx, client, request{verb: verbShow}); err != nil {
		t.Fatalf("show over loopback: %v", err)
	}
	<-shown
	tok, err := getToken(ctx, client, "billing", refresher.TokenOptions{})
	if err != nil || tok.AccessToken != "tok-123" {
		t.Fatalf("token over loopback = %+v, %v", tok, err)
	}

	// Without the secret: nothing is answered.
	port, _, err := readPortFile(tr.portPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, first := range []string{"TT1 show\n", strings.Repeat("0", 2*secretBytes) + "\nTT1 show\n"} {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, first)
		b, _ := io.ReadAll(c)
		c.Close()
		if len(b) != 0 {
			t.Errorf("sent %q without the secret: got %q", first, b)
		}
	}
	select {
	case <-shown:
		t.Error("show ran without the secret")
	default:
	}
	s.Close()
	if _, err := os.Stat(tr.portPath()); !os.IsNotExist(err) {
		t.Errorf("port file left after Close: %v", err)
	}
}

package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestProxyCommandServesWithToken(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing", "models:read")
	var mu sync.Mutex
	var auths []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, "models")
	}))
	defer up.Close()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	args := []string{"--config", h.dir, "proxy", "billing", "--upstream", up.URL, "--listen", "127.0.0.1:0"}
	go func() {
		code := run(ctx, h.env(strings.NewReader(""), pw, &errb), args)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		<-done
		t.Fatalf("no address on stdout: %v; stderr: %s", err, errb.String())
	}
	base := strings.TrimSpace(line)
	for range 2 {
		resp, err := http.Get(base + "/v1/models")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "models" {
			t.Errorf("GET through the proxy: %d %q; want 200 models", resp.StatusCode, b)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("proxy exited %d after cancel; want 0; stderr: %s", code, errb.String())
	}
	h.checkLeaks(args, line, errb.String())
	issued := h.ts.tokens()
	if len(issued) != 1 {
		t.Fatalf("token server issued %d tokens; want 1", len(issued))
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"Bearer " + issued[0], "Bearer " + issued[0]}; !slices.Equal(auths, want) {
		t.Errorf("upstream saw %d Authorization headers, equal to the issued token: %v; want 2", len(auths), slices.Equal(auths, want))
	}
}

func TestProxyCommandRefusals(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing", "models:read")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"proxy", "billing"}, 2, "--upstream URL is required"},
		{[]string{"proxy", "billing", "--upstream", "http://api.example.com"}, 2, "plain http"},
		{[]string{"proxy", "billing", "--upstream", "https://api.example.com", "--listen", "0.0.0.0:8787"}, 2, "not a loopback address"},
		{[]string{"proxy", "nobody", "--upstream", "https://api.example.com"}, 3, "no client named"},
	} {
		code, _, stderr := h.run("", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d with %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}

package cli

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/launch"
)

// TestDemoOpensWindow: `tokentray demo` hands the window program the demo
// with its flags; the global --config names the demo's directory.
func TestDemoOpensWindow(t *testing.T) {
	h := newHarness(t)
	var got []launch.Window
	e := h.env(strings.NewReader(""), io.Discard, io.Discard)
	e.openWindow = func(w launch.Window) error { got = append(got, w); return nil }
	if code := run(t.Context(), e, []string{"--config", h.dir, "demo", "--token-ttl", "2m"}); code != 0 {
		t.Fatalf("demo exited %d", code)
	}
	if code := run(t.Context(), e, []string{"demo", "--headless"}); code != 0 {
		t.Fatalf("demo --headless exited %d", code)
	}
	want := []launch.Window{
		{Config: h.dir, Demo: true, TokenTTL: 2 * time.Minute},
		{Demo: true, Headless: true, TokenTTL: launch.DefaultTokenTTL},
	}
	if !slices.Equal(got, want) {
		t.Errorf("demo opened %+v; want %+v", got, want)
	}
	if code, _, stderr := h.run("", "demo", "--token-ttl", "0s"); code != 2 || !strings.Contains(stderr, "positive duration") {
		t.Errorf("demo --token-ttl 0s: exit %d, %q; want a usage error", code, stderr)
	}
}

package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// TestTokenThroughAgent runs the app's side in-process (an agent server
// with a refresher on the same store, over a loopback token server) and
// the command line against it.
func TestTokenThroughAgent(t *testing.T) {
	rt, err := os.MkdirTemp("", "tt") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rt) })
	t.Setenv("XDG_RUNTIME_DIR", rt)

	h := newHarness(t)
	h.addClient("billing", "models:read")
	h.addClient("denied", "models:read")
	h.ts.register("m2m-client-test-denied", "rotated-elsewhere", "models:read") // the stored secret is rejected

	r := refresher.New(refresher.Options{Store: h.store()})
	srv, err := agent.Listen(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(agent.Options{Tokens: r})
	t.Cleanup(func() { srv.Close() })

	tok1, _ := h.mustRun(0, "", "token", "billing")
	tok2, _ := h.mustRun(0, "", "token", "billing", "--min-ttl", "10m")
	if tok1 != tok2 || h.ts.requests() != 1 {
		t.Errorf("two warm requests: tokens %q, %q after %d fetches; want one token, one fetch", tok1, tok2, h.ts.requests())
	}
	hdr, _ := h.mustRun(0, "", "header", "billing")
	if hdr != "Authorization: Bearer "+tok1 {
		t.Errorf("header = %q", hdr)
	}
	rec := srv.Recent()
	if len(rec) != 3 || rec[0].Fingerprint != vault.Fingerprint(strings.TrimSpace(tok1)) || rec[0].Outcome != "ok" {
		t.Fatalf("the agent served %+v; want 3 requests with the token's fingerprint", rec)
	}

	// A failure the app classified keeps its exit code and sentence.
	_, stderr := h.mustRun(ExitRejected, "", "token", "denied")
	if got := srv.Recent()[0]; !strings.Contains(stderr, `credentials of "denied"`) || got.Outcome != "rejected" || got.Fingerprint != "" {
		t.Errorf("rejected through the agent: stderr %q, agent saw %+v", stderr, got)
	}

	// A client the app does not know: the command line does the work, and
	// says so in its own words.
	_, stderr = h.mustRun(ExitNoClient, "", "token", "nobody")
	if got := srv.Recent()[0]; got.Outcome != "unknown-client" || !strings.Contains(stderr, "no client called") {
		t.Errorf("unknown client: stderr %q, agent saw %+v", stderr, got)
	}

	// TOKENTRAY_NO_AGENT=1: the keyring path.
	h.vars[EnvNoAgent] = "1"
	n := len(srv.Recent())
	if out, _ := h.mustRun(0, "", "token", "billing"); out != tok1 {
		t.Errorf("keyring path token %q, want the cached %q", out, tok1)
	}
	if len(srv.Recent()) != n {
		t.Error("the agent was asked with TOKENTRAY_NO_AGENT=1")
	}
	delete(h.vars, EnvNoAgent)

	// Gone: immediate fallback.
	srv.Close()
	if out, _ := h.mustRun(0, "", "token", "billing"); out != tok1 {
		t.Errorf("after the app quit: token %q, want the cached %q", out, tok1)
	}
}

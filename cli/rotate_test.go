package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

// rotate runs `tokentray --config DIR rotate ARGS` and returns the exit
// code and outputs. It builds the command itself, so it works whether or
// not rotate is in commandTable.
func (h *harness) rotate(stdin string, args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	a := &app{env: h.env(strings.NewReader(stdin), &out, &errb)}
	a.configDir = h.dir
	cmd := a.rotateCommand()
	a.cmds = map[string]*ffcli.Command{"rotate": cmd}
	err := cmd.ParseAndRun(context.Background(), args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		a.printError(err)
		code = ExitCode(err)
	}
	stdout, stderr = out.String(), errb.String()
	h.checkLeaks(append([]string{"--config", h.dir, "rotate"}, args...), stdout, stderr)
	return code, stdout, stderr
}

// works asserts that the client gets a token with its stored secret.
func (h *harness) works(name string) {
	h.t.Helper()
	h.mustRun(0, "", "refresh", name)
}

func TestRotateCommand(t *testing.T) {
	h := newHarness(t)
	old := h.addClient("billing", "models:read")
	id := "m2m-client-test-billing"
	newS := "n3w-secret-for-billing-0123"
	h.secrets = append(h.secrets, newS, "wrong-secret-xyz")
	h.works("billing")

	// The provider replaced the secret: the old one is rejected from now on.
	h.ts.register(id, newS, "models:read", "extra:scope")

	// A wrong secret: the proof fails with 401, nothing changes and the
	// refused secret is not left staged (as in the window's wizard).
	code, _, stderr := h.rotate("wrong-secret-xyz\n", "billing")
	if code != ExitRejected || strings.Contains(stderr, "--finish") || !strings.Contains(stderr, "stays in use") {
		t.Errorf("rotate with a wrong secret: exit %d, stderr %q; want %d, the current secret said to stay, no --finish", code, stderr, ExitRejected)
	}
	// The current secret is fine: no advice to replace it.
	if strings.Contains(stderr, "set-secret") || !strings.Contains(stderr, `rejected the secret tried for "billing"`) {
		t.Errorf("rotate with a wrong secret: stderr %q; want the new secret named as rejected, no set-secret", stderr)
	}
	if got, _ := h.store().Secret("billing"); got != old {
		t.Errorf("after a failed proof the current secret changed")
	}
	if s, _ := rotation.New(h.store()).Status("billing"); s.InProgress {
		t.Errorf("after a refused secret: a rotation is in progress; want the refused secret not staged")
	}
	if _, err := h.store().NextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("after a refused secret: NextSecret %v; want none staged", err)
	}

	// The right secret: staged, proven, switched.
	code, stdout, stderr := h.rotate(newS+"\n", "billing", "--json")
	if code != 0 {
		t.Fatalf("rotate: exit %d\n%s", code, stderr)
	}
	var o rotateJSON
	if err := json.Unmarshal([]byte(stdout), &o); err != nil || !o.Switched || o.InProgress || o.State != "ok" {
		t.Errorf("rotate --json: %q (%v); want switched, not in progress, ok", stdout, err)
	}
	if got, _ := h.store().Secret("billing"); got != newS {
		t.Errorf("after rotate the current secret is not the new one")
	}
	h.works("billing")

	// Nothing staged: --finish says so.
	if code, _, stderr := h.rotate("", "billing", "--finish"); code != ExitError || !strings.Contains(stderr, "stage") {
		t.Errorf("--finish with nothing staged: exit %d, stderr %q; want %d and a hint to stage", code, stderr, ExitError)
	}
	if code, _, _ := h.rotate("", "billing", "--finish", "--cancel"); code != ExitUsage {
		t.Errorf("--finish --cancel: exit %d; want %d", code, ExitUsage)
	}
	if code, _, _ := h.rotate("x\n", "nobody"); code != ExitNoClient {
		t.Errorf("rotate of an unknown client: exit %d; want %d", code, ExitNoClient)
	}
}

// A new registration that no longer allows a requested scope makes the
// proof fail with invalid_scope (exit 5): nothing switches and the refused
// secret is not kept; one staged with --stage-only and refused by --finish
// is discarded too.
func TestRotateCommandScopeRefused(t *testing.T) {
	h := newHarness(t)
	old := h.addClient("chat", "models:read", "chat:invoke")
	newS := "n3w-secret-for-chat-0123"
	h.secrets = append(h.secrets, newS)
	h.ts.register("m2m-client-test-chat", newS, "models:read")

	code, _, stderr := h.rotate(newS+"\n", "chat")
	if code != ExitScope {
		t.Errorf("rotate to a secret refused a scope: exit %d, stderr %q; want %d", code, stderr, ExitScope)
	}
	s := h.store()
	if got, _ := s.Secret("chat"); got != old {
		t.Fatalf("switched although the proof failed")
	}
	if _, err := s.NextSecret("chat"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("after a refused proof: NextSecret %v; want the refused secret not kept", err)
	}

	// Staged earlier (by the window, or a version that kept refused
	// secrets): --finish proves it, and a refusal discards it.
	if err := rotation.New(s).Stage("chat", newS); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = h.rotate("", "chat", "--finish")
	if code != ExitScope || strings.Contains(stderr, "--finish tries again") {
		t.Errorf("--finish of a refused staged secret: exit %d, stderr %q; want %d and no offer to try again", code, stderr, ExitScope)
	}
	if _, err := h.store().NextSecret("chat"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("after --finish was refused: %v; want no staged secret", err)
	}
}

// miniStytch is Stytch's M2M rotation API in the documented shapes, on
// top of the harness's token server (which then accepts the new secret).
type miniStytch struct {
	*httptest.Server
	mu        sync.Mutex // guards the fields below
	cur, next string
	calls     []string
}

func newMiniStytch(t *testing.T, h *harness, id, cur, project, projectSecret string) *miniStytch {
	m := &miniStytch{cur: cur}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, s, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		if p != project || s != projectSecret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"status_code":401,"request_id":"r","error_type":"unauthorized_credentials","error_message":"Unauthorized credentials."}`)
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		op := strings.TrimPrefix(r.URL.Path, "/v1/m2m/clients/"+id)
		m.calls = append(m.calls, r.Method+" "+op)
		client := map[string]any{"client_id": id, "status": "active"}
		switch op {
		case "/secrets/rotate/start":
			m.next = "stytch-next-" + hex.EncodeToString([]byte(m.cur))[:12]
			h.secrets = append(h.secrets, m.next)
			h.ts.register(id, m.next, "models:read", "extra:scope")
			client["next_client_secret"] = m.next
		case "/secrets/rotate":
			m.cur, m.next = m.next, ""
		case "/secrets/rotate/cancel":
			h.ts.register(id, m.cur, "models:read", "extra:scope")
			m.next = ""
		}
		last4 := func(s string) string { return s[max(len(s)-4, 0):] }
		client["client_secret_last_four"], client["next_client_secret_last_four"] = last4(m.cur), last4(m.next)
		json.NewEncoder(w).Encode(map[string]any{"request_id": "r", "status_code": 200, "m2m_client": client})
	}))
	t.Cleanup(m.Close)
	h.vars[envStytchBaseURL] = m.URL
	return m
}

func (m *miniStytch) state() (cur, next string, calls []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur, m.next, slices.Clone(m.calls)
}

func TestRotateCommandStytch(t *testing.T) {
	h := newHarness(t)
	old := h.addClient("billing", "models:read")
	const project, projectSecret = "project-test-1234-abcd", "project-secret-xyz-0987"
	h.secrets = append(h.secrets, projectSecret)
	m := newMiniStytch(t, h, "m2m-client-test-billing", old, project, projectSecret)

	if code, _, stderr := h.rotate("", "billing", "--stytch-project", project); code == 0 || !strings.Contains(stderr, "--stytch-login") {
		t.Errorf("without a saved project secret: exit %d, stderr %q; want a hint to --stytch-login", code, stderr)
	}
	if code, _, stderr := h.rotate(projectSecret+"\n", "billing", "--stytch-project", project, "--stytch-login"); code != 0 {
		t.Fatalf("--stytch-login: exit %d\n%s", code, stderr)
	}
	code, _, stderr := h.rotate("", "billing", "--stytch-project", project)
	if code != 0 {
		t.Fatalf("rotate with Stytch: exit %d\n%s", code, stderr)
	}
	cur, next, calls := m.state()
	if got, _ := h.store().Secret("billing"); got != cur || next != "" || cur == old {
		t.Errorf("after rotate: local secret ...%s, Stytch ...%s (next %q); want Stytch's new secret everywhere", got[len(got)-4:], cur[len(cur)-4:], next)
	}
	if want := []string{"POST /secrets/rotate/start", "POST /secrets/rotate"}; !slices.Equal(calls, want) {
		t.Errorf("Stytch calls %q; want %q", calls, want)
	}
	h.works("billing")
	code, stdout, _ := h.rotate("", "billing", "--stytch-project", project, "--status")
	if code != 0 || !strings.Contains(stdout, "no rotation pending at Stytch") {
		t.Errorf("--status: exit %d, stdout %q; want no rotation pending", code, stdout)
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
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

	// A wrong secret: the proof fails with 401, nothing changes.
	code, _, stderr := h.rotate("wrong-secret-xyz\n", "billing")
	if code != ExitRejected || !strings.Contains(stderr, "--finish") {
		t.Errorf("rotate with a wrong secret: exit %d, stderr %q; want %d and a hint", code, stderr, ExitRejected)
	}
	if got, _ := h.store().Secret("billing"); got != old {
		t.Errorf("after a failed proof the current secret changed")
	}
	code, stdout, _ := h.rotate("", "billing", "--status")
	if code != 0 || !strings.Contains(stdout, "rotation in progress") {
		t.Errorf("--status: exit %d, stdout %q; want 0 and rotation in progress", code, stdout)
	}
	if code, _, _ := h.rotate("", "billing", "--cancel"); code != 0 {
		t.Errorf("--cancel: exit %d; want 0", code)
	}
	if s, _ := rotation.New(h.store()).Status("billing"); s.InProgress {
		t.Errorf("after --cancel: rotation still in progress")
	}

	// The right secret: staged, proven, switched.
	code, stdout, stderr = h.rotate(newS+"\n", "billing", "--json")
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
// proof fail with invalid_scope (exit 5): nothing switches, the staged
// secret is kept until cancelled.
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
	if _, err := s.NextSecret("chat"); err != nil {
		t.Errorf("staged secret: %v; want it kept for --finish or --cancel", err)
	}
	if code, _, _ := h.rotate("", "chat", "--cancel"); code != 0 {
		t.Errorf("--cancel: exit %d; want 0", code)
	}
	if _, err := h.store().NextSecret("chat"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("after --cancel: %v; want no staged secret", err)
	}
}

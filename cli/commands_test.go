package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/tokentray/tokentray/internal/version"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"other", errors.New("boom"), 1},
		{"usage", usagef("token", "x"), 2},
		{"no client", fmt.Errorf("vault: %q: %w", "x", vault.ErrNoClient), 3},
		{"rejected", &refresher.Error{Class: refresher.ClassRejected}, 4},
		{"scope", &refresher.Error{Class: refresher.ClassScope}, 5},
		{"transient", &refresher.Error{Class: refresher.ClassTransient}, 6},
		{"rate limited", fmt.Errorf("wrapped: %w", &refresher.Error{Class: refresher.ClassRateLimited}), 6},
		{"keyring class", &refresher.Error{Class: refresher.ClassKeyring}, 7},
		{"config class, no client", &refresher.Error{Class: refresher.ClassConfig, Err: vault.ErrNoClient}, 3},
		{"config class", &refresher.Error{Class: refresher.ClassConfig}, 1},
		{"keyring unavailable", fmt.Errorf("x: %w", vault.ErrKeyringUnavailable), 7},
		{"keyring locked", fmt.Errorf("x: %w", vault.ErrKeyringLocked), 7},
		{"partial remove", &vault.PartialError{Err: vault.ErrKeyringLocked}, 7},
		{"child", &childExit{code: 42}, 42},
		{"doctor", &doctorFailed{n: 1, code: 6}, 6},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("%s: ExitCode(%v) = %d; want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestCommandsHaveHelpWithExample(t *testing.T) {
	h := newHarness(t)
	for _, name := range Commands() {
		if name == "help" {
			continue
		}
		code, stdout, stderr := h.run("", name, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d; want 0", name, code)
		}
		if stdout != "" {
			t.Errorf("%s -h: stdout %q; want help on stderr only", name, stdout)
		}
		if !strings.Contains(stderr, "EXAMPLE") || !strings.Contains(stderr, "tokentray "+name) {
			t.Errorf("%s -h: help lacks usage or an example:\n%s", name, stderr)
		}
		code, stdout, _ = h.run("", "help", name)
		if code != 0 || !strings.Contains(stdout, "tokentray "+name) {
			t.Errorf("help %s: exit %d, stdout %q; want 0 and the usage", name, code, stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout, stderr := h.mustRun(0, "", args...)
		if stdout != version.Line()+"\n" || stderr != "" {
			t.Errorf("%q: stdout %q, stderr %q; want the version and commit on stdout only", args, stdout, stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing", "models:read")
	h.vars[EnvExec] = ""
	tests := [][]string{
		{},
		{"no-such-command"},
		{"token"},
		{"token", "a", "b"},
		{"token", "billing", "--no-such-flag"},
		{"token", "billing", "--min-ttl", "soon"},
		{"header"},
		{"exec", "billing"},
		{"exec", "billing", "--"},
		{"exec", "billing", "other", "--", "true"},
		{"exec", "billing", "--env", "1BAD", "--", "true"},
		{"list", "extra"},
		{"status", "extra"},
		{"add", "new", "--client-id", "x"},
		{"add", "new", "--token-url", "ftp://x", "--client-id", "x", "--no-test"},
		{"add", "new", "--token-url", "http://example.com/token", "--client-id", "x", "--no-test"},
		{"add", "Bad Name", "--token-url", "https://example.com/token", "--client-id", "x", "--no-test"},
		{"add", "new", "--token-url", "https://example.com/token", "--client-id", "x", "--auth", "magic", "--no-test"},
		{"edit", "billing"},
		{"edit", "billing", "--token-url", "ftp://x"},
		{"edit", "billing", "--secret-set-at", "yesterday"},
		{"remove", "billing"},
		{"remove"},
		{"set-secret"},
		{"refresh"},
		{"refresh", "billing", "--all"},
		{"inspect"},
		{"inspect", "--token", "eyJhbGciOi.x.y"},
		{"doctor", "now"},
		{"export", "--format", "xml"},
		{"import"},
		{"version", "x"},
	}
	for _, args := range tests {
		code, stdout, stderr := h.run("", args...)
		if code != ExitUsage {
			t.Errorf("%q: exit %d; want %d\nstderr: %s", args, code, ExitUsage, stderr)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q; want nothing (messages go to stderr)", args, stdout)
		}
		if stderr == "" {
			t.Errorf("%q: stderr is empty; want the problem explained", args)
		}
	}
	// The client survived remove without --yes.
	if _, err := h.store().Get("billing"); err != nil {
		t.Errorf("billing after remove without --yes: %v; want it kept", err)
	}
}

func TestExecRefusesToNest(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing")
	h.vars[EnvExec] = "1"
	code, _, stderr := h.run("", "exec", "billing", "--", "true")
	if code != ExitUsage || !strings.Contains(stderr, "already running inside tokentray exec") {
		t.Errorf("nested exec: exit %d, stderr %q; want %d and a clear message", code, stderr, ExitUsage)
	}
	if n := h.ts.requests(); n != 0 {
		t.Errorf("nested exec made %d token requests; want 0", n)
	}
}

// listJSONKeys are the keys of list --json and status --json (the contract).
var (
	listJSONKeys     = []string{"auth_style", "client_id", "environment", "name", "rotation", "scopes", "token_expires_at", "token_url"}
	rotationJSONKeys = []string{"age_days", "days_left", "due_at", "in_progress", "secret_set_at", "status"}
)

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestAddNoTestThenListJSON(t *testing.T) {
	h := newHarness(t)
	secret := h.addClient("billing", "models:read", "chat:invoke")
	h.addClient("alpha")

	items := h.kr.Items()
	if got := items[vault.SecretKey("billing")]; got != secret {
		t.Errorf("keyring secret of billing = %q; want the piped secret without its newline", got)
	}
	index, err := os.ReadFile(filepath.Join(h.dir, vault.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(index), secret) {
		t.Errorf("the index file holds the secret")
	}
	if n := h.ts.requests(); n != 0 {
		t.Errorf("add --no-test made %d token requests; want 0", n)
	}

	stdout, stderr := h.mustRun(0, "", "list", "--json")
	if stderr != "" {
		t.Errorf("list --json: stderr %q; want nothing", stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("list --json is not a JSON array: %v\n%s", err, stdout)
	}
	if len(got) != 2 || got[0]["name"] != "alpha" || got[1]["name"] != "billing" {
		t.Fatalf("list --json names: %v; want alpha, billing in order", got)
	}
	b := got[1]
	if ks := keysOf(b); !slices.Equal(ks, listJSONKeys) {
		t.Errorf("list --json keys = %v; want %v", ks, listJSONKeys)
	}
	rot, _ := b["rotation"].(map[string]any)
	if ks := keysOf(rot); !slices.Equal(ks, rotationJSONKeys) {
		t.Errorf("rotation keys = %v; want %v", ks, rotationJSONKeys)
	}
	wantFields := map[string]any{
		"client_id": "m2m-client-test-billing", "token_url": h.ts.tokenURL(), "environment": "test",
		"token_expires_at": nil, "auth_style": "auto",
	}
	for k, want := range wantFields {
		if b[k] != want {
			t.Errorf("billing %s = %v; want %v", k, b[k], want)
		}
	}
	if s := fmt.Sprint(b["scopes"]); s != "[models:read chat:invoke]" {
		t.Errorf("billing scopes = %s; want [models:read chat:invoke]", s)
	}
	if rot["status"] != "ok" || rot["days_left"] != float64(90) || rot["age_days"] != float64(0) {
		t.Errorf("rotation = %v; want status ok, 90 days left, age 0", rot)
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(rot["due_at"])); err != nil {
		t.Errorf("rotation.due_at = %v: %v; want RFC 3339", rot["due_at"], err)
	}
	if s := fmt.Sprint(got[0]["scopes"]); s != "[]" {
		t.Errorf("alpha scopes = %s; want [] (not null)", s)
	}

	stdout, _ = h.mustRun(0, "", "list")
	if !strings.Contains(stdout, "NAME") || !strings.Contains(stdout, "m2m-client-test-billing") {
		t.Errorf("list: %q; want a table with the client id", stdout)
	}

	// A cached token shows its expiry.
	exp := time.Now().Add(42 * time.Minute).UTC().Truncate(time.Second)
	if err := h.store().SetToken("billing", nil, vault.Token{AccessToken: "cached-token-value", Expiry: exp}); err != nil {
		t.Fatal(err)
	}
	stdout, _ = h.mustRun(0, "", "list", "--json")
	got = nil
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got[1]["token_expires_at"] != exp.Format(time.RFC3339) {
		t.Errorf("token_expires_at = %v; want %s", got[1]["token_expires_at"], exp.Format(time.RFC3339))
	}
	if strings.Contains(stdout, "cached-token-value") {
		t.Errorf("list --json prints the cached token")
	}

	// The name is taken now.
	code, _, stderr := h.run("other\n", "add", "billing", "--token-url", h.ts.tokenURL(), "--client-id", "x", "--no-test")
	if code != ExitError || !strings.Contains(stderr, "tokentray edit") {
		t.Errorf("add of an existing name: exit %d, stderr %q; want 1 and a hint", code, stderr)
	}
	if got := h.kr.Items()[vault.SecretKey("billing")]; got != secret {
		t.Errorf("add of an existing name replaced the secret")
	}
}

func TestAddSecretInput(t *testing.T) {
	tests := []struct {
		name, stdin string
		want        int
		wantErr     string
	}{
		{"empty stdin", "", ExitError, "no secret on standard input"},
		{"only a newline", "\n", ExitError, "secret is empty"},
		{"too long", strings.Repeat("x", vault.MaxSecretLen+10), ExitError, "more than"},
		{"crlf", "abc\r\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			code, _, stderr := h.run(tt.stdin, "add", "x", "--token-url", h.ts.tokenURL(), "--client-id", "id", "--no-test")
			if code != tt.want || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.want, tt.wantErr)
			}
			_, err := h.store().Get("x")
			if saved := err == nil; saved != (tt.want == 0) {
				t.Errorf("client saved = %v; want %v", saved, tt.want == 0)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	h := newHarness(t)
	h.addClient("fresh")
	h.addClient("old")
	h.addClient("older")
	h.addClient("soon")
	now := time.Now()
	for name, age := range map[string]int{"old": 95, "older": 120, "soon": 80} {
		date := now.Add(-time.Duration(age) * 24 * time.Hour).UTC().Format(time.RFC3339)
		h.mustRun(0, "", "edit", name, "--secret-set-at", date)
	}

	stdout, _ := h.mustRun(0, "", "status")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var order []string
	for _, l := range lines[1:] {
		order = append(order, strings.Fields(l)[0])
	}
	if want := []string{"older", "old", "soon", "fresh"}; !slices.Equal(order, want) {
		t.Errorf("status order = %v; want %v (overdue first)\n%s", order, want, stdout)
	}
	if !strings.Contains(stdout, "overdue by 30 days") || !strings.Contains(stdout, "due in 10 days") {
		t.Errorf("status lacks the labels:\n%s", stdout)
	}

	code, stdout, stderr := h.run("", "status", "--due", "--json")
	if code != ExitError {
		t.Errorf("status --due with overdue secrets: exit %d; want %d", code, ExitError)
	}
	if !strings.Contains(stderr, "older, old") {
		t.Errorf("status --due stderr %q; want the overdue names", stderr)
	}
	var got []rotation.Report
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("status --json: %v\n%s", err, stdout)
	}
	if got[0].Name != "older" || got[0].Rotation.Status != "overdue" || *got[0].Rotation.DaysLeft != -30 {
		t.Errorf("status --json first = %+v; want older, overdue, -30 days", got[0])
	}

	h.mustRun(0, "", "remove", "old", "--yes")
	h.mustRun(0, "", "remove", "older", "--yes")
	h.mustRun(0, "", "status", "--due")
}

func TestEdit(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing", "models:read")
	s := h.store()
	if err := s.SetToken("billing", nil, vault.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	h.mustRun(0, "", "edit", "billing", "--notes", "for the invoices", "--environment", "live")
	c, _ := s.Get("billing")
	if c.Notes != "for the invoices" || c.Environment() != vault.EnvLive || !slices.Equal(c.Scopes, []string{"models:read"}) {
		t.Errorf("after edit: %+v; want notes and environment changed, scopes kept", c)
	}
	if _, err := s.Token("billing", nil); err != nil {
		t.Errorf("cached token after a notes edit: %v; want it kept", err)
	}

	h.mustRun(0, "", "edit", "billing", "--scope", "models:read,chat:invoke", "--audience", "https://api.example.com")
	c, _ = s.Get("billing")
	if !slices.Equal(c.Scopes, []string{"models:read", "chat:invoke"}) || c.Audience() != "https://api.example.com" {
		t.Errorf("after edit: scopes %v, audience %q", c.Scopes, c.Audience())
	}
	if _, err := s.Token("billing", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("cached token after a scope edit: %v; want it dropped", err)
	}

	h.mustRun(0, "", "edit", "billing", "--secret-set-at", "2026-01-02")
	c, _ = s.Get("billing")
	if want := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC); !c.SecretSetAt.Equal(want) {
		t.Errorf("SecretSetAt = %v; want %v", c.SecretSetAt, want)
	}

	code, _, stderr := h.run("", "edit", "nobody", "--notes", "x")
	if code != ExitNoClient || !strings.Contains(stderr, "tokentray list") {
		t.Errorf("edit of an unknown client: exit %d, stderr %q; want %d and a hint", code, stderr, ExitNoClient)
	}
}

func TestRemove(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing")
	h.addClient("keep")
	if err := h.store().SetToken("billing", []string{"a"}, vault.Token{AccessToken: "t"}); err != nil {
		t.Fatal(err)
	}
	h.mustRun(0, "", "remove", "billing", "--yes")
	for k := range h.kr.Items() {
		if strings.HasPrefix(k, "billing/") {
			t.Errorf("keyring item %s left after remove", k)
		}
	}
	if _, err := h.store().Get("keep"); err != nil {
		t.Errorf("the other client: %v", err)
	}
	code, _, _ := h.run("", "remove", "billing", "--yes")
	if code != ExitNoClient {
		t.Errorf("remove of an unknown client: exit %d; want %d", code, ExitNoClient)
	}
}

func TestSetSecret(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing")
	h.mustRun(0, "", "edit", "billing", "--secret-set-at", "2025-01-01")
	newSecret := "the-new-secret-value"
	h.secrets = append(h.secrets, newSecret)
	// Untested by the endpoint yet: refused, and not stored.
	if code, _, stderr := h.run(newSecret+"\n", "set-secret", "billing"); code != ExitRejected || !strings.Contains(stderr, "not stored") || !strings.Contains(stderr, "--no-test") {
		t.Errorf("set-secret of a secret the endpoint refuses: exit %d, stderr %q; want %d, 'not stored' and --no-test", code, stderr, ExitRejected)
	}
	if got := h.kr.Items()[vault.SecretKey("billing")]; got == newSecret {
		t.Errorf("a secret that failed its test exchange was stored")
	}
	h.ts.register("m2m-client-test-billing", newSecret, "extra:scope")
	h.mustRun(0, newSecret+"\n", "set-secret", "billing")
	if got := h.kr.Items()[vault.SecretKey("billing")]; got != newSecret {
		t.Errorf("secret after set-secret = %q; want the new one", got)
	}
	c, _ := h.store().Get("billing")
	if time.Since(c.SecretSetAt) > time.Minute {
		t.Errorf("SecretSetAt = %v; want now (the rotation clock restarts)", c.SecretSetAt)
	}
	if code, _, _ := h.run("x\n", "set-secret", "nobody"); code != ExitNoClient {
		t.Errorf("set-secret of an unknown client: exit %d; want %d", code, ExitNoClient)
	}
	if code, _, _ := h.run("", "set-secret", "billing"); code != ExitError {
		t.Errorf("set-secret with empty stdin: exit %d; want %d", code, ExitError)
	}
	if got := h.kr.Items()[vault.SecretKey("billing")]; got != newSecret {
		t.Errorf("an empty set-secret changed the secret")
	}
}

func TestKeyringFailures(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"unavailable", vault.ErrKeyringUnavailable},
		{"locked", vault.ErrKeyringLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.addClient("billing")
			h.kr.FailWith(func(op, key string) error { return tt.err })

			code, _, stderr := h.run("new\n", "set-secret", "billing", "--no-test")
			if code != ExitKeyring || !strings.Contains(stderr, "doctor") {
				t.Errorf("set-secret: exit %d, stderr %q; want %d and a pointer to doctor", code, stderr, ExitKeyring)
			}
			code, _, _ = h.run("sec\n", "add", "other", "--token-url", h.ts.tokenURL(), "--client-id", "x", "--no-test")
			if code != ExitKeyring {
				t.Errorf("add: exit %d; want %d", code, ExitKeyring)
			}
			// list still works: the index needs no keyring.
			code, stdout, stderr := h.run("", "list", "--json")
			if code != 0 || !strings.Contains(stdout, `"billing"`) || !strings.Contains(stderr, "token expiries unknown") {
				t.Errorf("list with a failing keyring: exit %d, stdout %q, stderr %q; want 0, the client, a warning", code, stdout, stderr)
			}
			if n := h.kr.Calls("get"); n != 1 {
				t.Errorf("list tried the keyring %d times; want once, then give up", n)
			}
			code, _, _ = h.run("", "doctor")
			if code != ExitKeyring {
				t.Errorf("doctor: exit %d; want %d", code, ExitKeyring)
			}
		})
	}
}

func TestExportImport(t *testing.T) {
	src := newHarness(t)
	src.addClient("billing", "models:read", "chat:invoke")
	src.addClient("alpha")
	src.mustRun(0, "", "edit", "billing", "--audience", "https://api.example.com", "--notes", "a, \"quoted\" note", "--secret-set-at", "2026-03-04")
	srcClients, _ := src.store().List()

	for _, format := range []string{"json", "csv"} {
		t.Run(format, func(t *testing.T) {
			out, _ := src.mustRun(0, "", "export", "--format", format)
			for _, s := range src.secrets {
				if strings.Contains(out, s) {
					t.Fatalf("export holds a secret")
				}
			}
			file := filepath.Join(t.TempDir(), "export."+format)
			if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			dst := newHarness(t)
			_, stderr := dst.mustRun(0, "", "import", file)
			if !strings.Contains(stderr, "set-secret") {
				t.Errorf("import stderr %q; want the set-secret hint", stderr)
			}
			got, _ := dst.store().List()
			if len(got) != len(srcClients) {
				t.Fatalf("imported %d clients; want %d", len(got), len(srcClients))
			}
			for i := range got {
				g, w := got[i], srcClients[i]
				if g.Name != w.Name || g.ClientID != w.ClientID || g.TokenURL != w.TokenURL ||
					!slices.Equal(g.Scopes, w.Scopes) || g.Audience() != w.Audience() || g.Notes != w.Notes ||
					!g.SecretSetAt.Equal(w.SecretSetAt) || g.AuthStyle != w.AuthStyle {
					t.Errorf("imported %+v; want %+v", g, w)
				}
			}
			if n := len(dst.kr.Items()); n != 0 {
				t.Errorf("import wrote %d keyring items; want none", n)
			}

			// A second import clashes and imports nothing; --replace overwrites.
			dst.mustRun(0, "", "edit", "alpha", "--notes", "changed")
			code, _, stderr := dst.run("", "import", file)
			if code != ExitError || !strings.Contains(stderr, "--replace") {
				t.Errorf("import over existing clients: exit %d, stderr %q; want 1 and --replace", code, stderr)
			}
			if c, _ := dst.store().Get("alpha"); c.Notes != "changed" {
				t.Errorf("a clashing import changed alpha")
			}
			dst.mustRun(0, out, "import", "-", "--replace")
			if c, _ := dst.store().Get("alpha"); c.Notes != "" {
				t.Errorf("import --replace kept alpha's notes %q", c.Notes)
			}
		})
	}
}

func TestImportRejects(t *testing.T) {
	h := newHarness(t)
	tests := map[string]string{
		"empty":           "",
		"not json":        "{nope",
		"csv no header":   "billing,id,https://x/token\n",
		"csv bad url":     "name,client_id,token_url\nbilling,id,ftp://x\n",
		"csv bad name":    "name,client_id,token_url\nBad Name,id,https://x/token\n",
		"csv twice":       "name,client_id,token_url\na,id,https://x/token\na,id,https://x/token\n",
		"csv bad date":    "name,client_id,token_url,secret_set_at\na,id,https://x/token,soon\n",
		"json schema new": `{"schema": 99, "clients": []}`,
	}
	for name, data := range tests {
		code, _, stderr := h.run(data, "import", "-")
		if code != ExitError || stderr == "" {
			t.Errorf("%s: exit %d, stderr %q; want 1 and a message", name, code, stderr)
		}
	}
	if cs, _ := h.store().List(); len(cs) != 0 {
		t.Errorf("rejected imports stored %d clients", len(cs))
	}
}

func TestInspectTokenFromStdin(t *testing.T) {
	h := newHarness(t)
	tok := fakeJWT("m2m-client-test-x", []string{"models:read", "chat:invoke"}, time.Now().Add(30*time.Minute))
	stdout, _ := h.mustRun(0, tok+"\n", "inspect", "--token", "-", "--json")
	if strings.Contains(stdout, tok) || strings.Contains(stdout, strings.Split(tok, ".")[2]) {
		t.Errorf("inspect prints the token or its signature")
	}
	var got inspectJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, stdout)
	}
	if !got.JWT || got.Claims["sub"] != "m2m-client-test-x" || got.Header["alg"] != "RS256" ||
		!slices.Equal(got.Scopes, []string{"models:read", "chat:invoke"}) || got.Fingerprint != vault.Fingerprint(tok) {
		t.Errorf("inspect --json = %+v", got)
	}
	if got.SecondsLeft == nil || *got.SecondsLeft < 25*60 || *got.SecondsLeft > 30*60 {
		t.Errorf("seconds_left = %v; want about 1800", got.SecondsLeft)
	}

	stdout, _ = h.mustRun(0, tok, "inspect", "--token", "-")
	for _, want := range []string{"fingerprint", "chat:invoke", "left)", `"sub": "m2m-client-test-x"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _ = h.mustRun(0, "opaque-token-123", "inspect", "--token", "-")
	if !strings.Contains(stdout, "not a JWT") {
		t.Errorf("inspect of an opaque token: %q; want 'not a JWT'", stdout)
	}
}

func TestDoctor(t *testing.T) {
	h := newHarness(t)
	h.vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/run/user/1000/bus"
	h.addClient("billing")
	stdout, stderr := h.mustRun(0, "", "doctor")
	for _, want := range []string{"ok    session bus", "ok    secret service", "ok    keyring round trip", "ok    index", "mode 0600", "ok    secret of billing", "ok    endpoint " + h.ts.tokenURL()} {
		if !strings.Contains(stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "checks passed") {
		t.Errorf("doctor stderr %q", stderr)
	}
	if _, ok := h.kr.Items()[doctorProbeKey]; ok {
		t.Errorf("doctor left its probe item in the keyring")
	}

	tests := []struct {
		name     string
		setup    func(h *harness)
		want     int
		wantFail string
		wantFix  string
	}{
		{"no session bus", func(h *harness) { delete(h.vars, "DBUS_SESSION_BUS_ADDRESS") }, ExitKeyring, "session bus", "dbus-run-session"},
		{"index mode", func(h *harness) { os.Chmod(filepath.Join(h.dir, vault.IndexFile), 0o644) }, ExitError, "index", "chmod 600"},
		{"no secret", func(h *harness) { h.kr.Delete(vault.SecretKey("billing")) }, ExitError, "secret of billing", "set-secret billing"},
		{"endpoint down", func(h *harness) { h.ts.Close() }, ExitEndpoint, "endpoint", "check the network"},
		{"endpoint failing", func(h *harness) {
			h.ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		}, ExitEndpoint, "endpoint", "try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/run/user/1000/bus"
			h.addClient("billing")
			tt.setup(h)
			code, stdout, _ := h.run("", "doctor", "--timeout", "2s")
			if code != tt.want {
				t.Errorf("exit %d; want %d\n%s", code, tt.want, stdout)
			}
			if !strings.Contains(stdout, "FAIL  "+tt.wantFail) || !strings.Contains(stdout, "fix: ") || !strings.Contains(stdout, tt.wantFix) {
				t.Errorf("doctor output lacks the failure %q with fix %q:\n%s", tt.wantFail, tt.wantFix, stdout)
			}
		})
	}
}

func TestQuiet(t *testing.T) {
	h := newHarness(t)
	code, stdout, stderr := h.run("secret-q\n", "--quiet", "add", "q", "--token-url", h.ts.tokenURL(), "--client-id", "x", "--no-test", "--scope", "org:admin")
	if code != 0 || stdout != "" || stderr != "" {
		t.Errorf("--quiet add: exit %d, stdout %q, stderr %q; want 0 and silence", code, stdout, stderr)
	}
	code, _, stderr = h.run("", "remove", "q", "--yes", "--quiet")
	if code != 0 || stderr != "" {
		t.Errorf("remove --quiet: exit %d, stderr %q", code, stderr)
	}
	_, stderr = h.mustRun(0, "secret-q\n", "add", "q", "--token-url", h.ts.tokenURL(), "--client-id", "x", "--no-test", "--scope", "org:admin")
	if !strings.Contains(stderr, "warning: org:admin") {
		t.Errorf("add of a broad scope: stderr %q; want a warning", stderr)
	}
}

// TestDoctorTLS: an https token URL is reachable only over TLS with a
// certificate the client trusts.
func TestDoctorTLS(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	tokenURL := tlsSrv.URL + "/oauth2/token"

	h := newHarness(t)
	h.vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/run/user/1000/bus"
	h.http = tlsSrv.Client() // trusts the test certificate
	h.secrets = append(h.secrets, "tls-secret")
	h.mustRun(0, "tls-secret", "add", "tls", "--token-url", tokenURL, "--client-id", "x", "--no-test")
	stdout, _ := h.mustRun(0, "", "doctor")
	if !strings.Contains(stdout, "ok    endpoint "+tokenURL+": a token endpoint over TLS 1.3: a POST without credentials gets 401 Unauthorized invalid_client") {
		t.Errorf("doctor with a trusted TLS endpoint:\n%s", stdout)
	}

	h.http = nil // the system's roots do not trust the test certificate
	code, stdout, _ := h.run("", "doctor")
	if code != ExitEndpoint || !strings.Contains(stdout, "FAIL  endpoint "+tokenURL) || !strings.Contains(stdout, "certificate") {
		t.Errorf("doctor with an untrusted certificate: exit %d\n%s", code, stdout)
	}
}

// TestEditDropsTokensUnderTheClientLock: edit deletes the cached tokens
// while holding the client's fetch lock, so a fetch for the old settings in
// another process cannot cache its token after the drop.
func TestEditDropsTokensUnderTheClientLock(t *testing.T) {
	h := newHarness(t)
	h.addClient("billing", "models:read")
	s := h.store()
	if err := s.SetToken("billing", nil, vault.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.LockClient(context.Background(), "billing") // creates the lock file
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	var deletes, unlocked int
	h.kr.FailWith(func(op, key string) error {
		if op == "delete" && key == vault.TokenKey("billing", nil) {
			deletes++
			// One try: it succeeds only if edit does not hold the lock.
			fl := flock.New(filepath.Join(s.Dir(), "locks", "billing.lock"))
			if ok, err := fl.TryLock(); ok && err == nil {
				unlocked++
				_ = fl.Unlock()
			}
		}
		return nil
	})
	h.mustRun(0, "", "edit", "billing", "--scope", "chat:invoke")
	h.kr.FailWith(nil)
	if deletes != 1 || unlocked != 0 {
		t.Errorf("edit deleted the cached token %d times, %d of them without the client lock; want once, under the lock", deletes, unlocked)
	}
}

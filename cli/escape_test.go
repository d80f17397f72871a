package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/textsafe"
	"github.com/tokentray/tokentray/vault"
)

// hostile is text a server or a file could hold to act on a terminal:
// an OSC title change ended by BEL, a screen clear, a forged line and a
// right-to-left override.
const hostile = "x\x1b]0;pwned\a\x1b[2J\nforged: line\u202eevil\t\x7f\u0085"

// rawControls returns what in out would act on a terminal: every unsafe rune
// but the newline ending each line.
func rawControls(out string) []rune {
	var bad []rune
	for _, r := range out {
		if r != '\n' && textsafe.Unsafe(r) {
			bad = append(bad, r)
		}
	}
	return bad
}

func TestTablesEscapeHostileText(t *testing.T) {
	c := vault.Client{
		Name:        "n" + hostile,
		ClientID:    "m2m-client-test-" + hostile,
		TokenURL:    "https://auth.example.com/token",
		Scopes:      []string{"models:read", "s" + hostile},
		SecretSetAt: time.Now().Add(-80 * 24 * time.Hour),
	}
	rows := []clientRow{{c: c, rot: vault.Rotation(c.SecretSetAt, time.Now(), vault.DefaultRotationPolicy)}}
	for name, write := range map[string]func(*app) error{
		"list":   func(a *app) error { return a.writeList(rows) },
		"status": func(a *app) error { return a.writeStatus(rows) },
	} {
		var out bytes.Buffer
		a := &app{env: env{stdout: &out, stderr: &out}}
		if err := write(a); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if bad := rawControls(got); len(bad) > 0 {
			t.Errorf("%s prints raw %q:\n%s", name, bad, got)
		}
		if n := strings.Count(got, "\n"); n != 2 {
			t.Errorf("%s prints %d lines; want 2 (header and one row):\n%s", name, n, got)
		}
		for _, want := range []string{`\x1b]0;pwned\a\x1b[2J\nforged`, `\u202eevil\t\x7f\u0085`} {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks the escaped text %s:\n%s", name, want, got)
			}
		}
	}
}

// jwtWith returns an unsigned JWT-shaped token with the given claims.
func jwtWith(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]any{"alg": "RS256", "typ": "JWT\u202e"}) + "." + enc(claims) + "." + enc("sig")
}

func TestInspectEscapesClaims(t *testing.T) {
	h := newHarness(t)
	tok := jwtWith(map[string]any{
		"sub":   hostile,
		"scope": "models:read ev\x1b[31mil\a bidi\u202e",
		"note":  "c1\u0085 del\x7f",
		"exp":   time.Now().Add(time.Hour).Unix(),
	})
	for _, args := range [][]string{{"inspect", "--token", "-"}, {"inspect", "--token", "-", "--json"}} {
		stdout, stderr := h.mustRun(0, tok, args...)
		if bad := rawControls(stdout + stderr); len(bad) > 0 {
			t.Errorf("%v prints raw %q:\n%s%s", args, bad, stdout, stderr)
		}
		if !strings.Contains(stdout, "models:read") || !strings.Contains(stdout, `ev\x1b[31mil\a`) && !strings.Contains(stdout, `ev\u001b[31mil\u0007`) {
			t.Errorf("%v lacks the escaped scope:\n%s", args, stdout)
		}
	}
	stdout, _ := h.mustRun(0, tok, "inspect", "--token", "-", "--json")
	var got inspectJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("inspect --json is no longer JSON: %v\n%s", err, stdout)
	}
	if got.Claims["sub"] != hostile || got.Claims["note"] != "c1\u0085 del\x7f" || got.Header["typ"] != "JWT\u202e" {
		t.Errorf("inspect --json changed the claims' values: %q %q %q", got.Claims["sub"], got.Claims["note"], got.Header["typ"])
	}
}

func TestErrorDescriptionsEscaped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": "bad " + hostile})
	}))
	defer srv.Close()
	h := newHarness(t)
	h.mustRun(0, "the-secret\n", "add", "x", "--token-url", srv.URL+"/token", "--client-id", "m2m-client-test-x", "--scope", "a", "--no-test")
	h.secrets = append(h.secrets, "the-secret")
	code, stdout, stderr := h.run("", "token", "x")
	if code == 0 || stdout != "" || !strings.Contains(stderr, "bad x") {
		t.Fatalf("token against a failing server: exit %d, stdout %q, stderr %q; want the description", code, stdout, stderr)
	}
	if bad := rawControls(stderr); len(bad) > 0 {
		t.Errorf("token prints the server's raw %q on stderr:\n%s", bad, stderr)
	}
	if n := strings.Count(stderr, "\n"); n != 1 {
		t.Errorf("stderr has %d lines; want 1 (no forged line):\n%s", n, stderr)
	}
}

func TestTokenRefusesUnprintableCachedToken(t *testing.T) {
	tests := []struct {
		name, token, tokenType string
		cmds                   [][]string
		why                    string
	}{
		{"newline", "abc\nX-Injected: 1", "bearer", [][]string{{"token", "x"}, {"header", "x"}, {"exec", "x", "--", "true"}}, "a control character"},
		{"escape", "abc\x1b[2Jdef", "bearer", [][]string{{"token", "x"}, {"header", "x"}}, "a control character"},
		{"space", "abc def", "bearer", [][]string{{"token", "x"}, {"header", "x"}}, "a space"},
		{"non-ASCII", "abc\u202edef", "bearer", [][]string{{"token", "x"}}, "a non-ASCII byte"},
		{"token type", "abcdef", "Bearer\r\nX-Injected: 1", [][]string{{"header", "x"}}, "token type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.addClient("x")
			tok := vault.Token{AccessToken: tt.token, TokenType: tt.tokenType, Expiry: time.Now().Add(time.Hour)}
			if err := h.store().SetToken("x", nil, tok); err != nil {
				t.Fatal(err)
			}
			for _, args := range tt.cmds {
				code, stdout, stderr := h.run("", args...)
				if code != ExitEndpoint || stdout != "" {
					t.Errorf("%v: exit %d, stdout %q; want %d and nothing", args, code, stdout, ExitEndpoint)
				}
				if !strings.Contains(stderr, tt.why) || !strings.Contains(stderr, "tokentray refresh x") || strings.Contains(stderr, tt.token) {
					t.Errorf("%v: stderr %q; want why (%s), the fix, and not the token", args, stderr, tt.why)
				}
				if bad := rawControls(stderr); len(bad) > 0 {
					t.Errorf("%v: raw %q on stderr", args, bad)
				}
			}
		})
	}
	// A good cached token still prints, with its type.
	h := newHarness(t)
	h.addClient("x")
	if err := h.store().SetToken("x", nil, vault.Token{AccessToken: "abc.DEF-_~+/=", TokenType: "bearer", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if stdout, _ := h.mustRun(0, "", "header", "x"); stdout != "Authorization: Bearer abc.DEF-_~+/=\n" {
		t.Errorf("header = %q", stdout)
	}
}

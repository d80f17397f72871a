package vault_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

func TestTokenValidAndLifetime(t *testing.T) {
	tok := sampleToken("abc")
	tests := []struct {
		desc string
		tok  vault.Token
		now  time.Time
		want bool
	}{
		{"fresh", tok, t0.Add(59 * time.Minute), true},
		{"at expiry", tok, t0.Add(time.Hour), false},
		{"after expiry", tok, t0.Add(2 * time.Hour), false},
		{"no expiry", vault.Token{AccessToken: "abc"}, t0, true},
		{"empty", vault.Token{Expiry: t0.Add(time.Hour)}, t0, false},
	}
	for _, tt := range tests {
		if got := tt.tok.Valid(tt.now); got != tt.want {
			t.Errorf("%s: Valid = %v, want %v", tt.desc, got, tt.want)
		}
	}
	if got := tok.Lifetime(); got != time.Hour {
		t.Errorf("Lifetime = %v, want 1h", got)
	}
	if got := (vault.Token{Expiry: t0}).Lifetime(); got != 0 {
		t.Errorf("Lifetime without FetchedAt = %v, want 0", got)
	}
}

func TestTokenFormattingHidesToken(t *testing.T) {
	tok := sampleToken("eyJhbGciOiJSUzI1NiJ9.SECRETPAYLOAD.sig")
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, tok)
		if strings.Contains(out, "SECRETPAYLOAD") {
			t.Errorf("Sprintf(%q, token) = %q shows the token", format, out)
		}
		if !strings.Contains(out, tok.Fingerprint()) {
			t.Errorf("Sprintf(%q, token) = %q lacks the fingerprint %s", format, out, tok.Fingerprint())
		}
	}
}

func TestFingerprint(t *testing.T) {
	if got := vault.Fingerprint(""); got != "-" {
		t.Errorf(`Fingerprint("") = %q, want "-"`, got)
	}
	// SHA-256("abc") starts with ba7816bf.
	if got := vault.Fingerprint("abc"); got != "ba7816bf" {
		t.Errorf(`Fingerprint("abc") = %q, want ba7816bf`, got)
	}
}

func TestScopeSets(t *testing.T) {
	if got := vault.ScopeSetKey(nil); got != "" {
		t.Errorf("ScopeSetKey(nil) = %q, want empty (the default set)", got)
	}
	a := vault.ScopeSetKey([]string{"b", "a", "a"})
	b := vault.ScopeSetKey([]string{"a", "b"})
	if a != b || a == "" {
		t.Errorf("ScopeSetKey ignores neither order nor duplicates: %q vs %q", a, b)
	}
	if c := vault.ScopeSetKey([]string{"a"}); c == a {
		t.Errorf("different scope sets share the key %q", c)
	}
	if got, want := vault.TokenKey("billing", nil), "billing/token"; got != want {
		t.Errorf("TokenKey(billing, nil) = %q, want %q", got, want)
	}
	if got, want := vault.TokenKey("billing", []string{"a"}), "billing/token@"+vault.ScopeSetKey([]string{"a"}); got != want {
		t.Errorf("TokenKey(billing, [a]) = %q, want %q", got, want)
	}
	if !vault.SameScopes([]string{"a", "b", "b"}, []string{"b", "a"}) || vault.SameScopes([]string{"a"}, []string{"a", "b"}) {
		t.Errorf("SameScopes is wrong")
	}
	if got := vault.MissingScopes([]string{"a", "b", "c"}, []string{"b"}); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("MissingScopes = %q, want [a c]", got)
	}
	if got := vault.MissingScopes([]string{"a"}, []string{"a", "b"}); got != nil {
		t.Errorf("MissingScopes with all granted = %q, want nil", got)
	}
}

func TestKeyringKeys(t *testing.T) {
	c := vault.Client{Name: "billing", TokenScopeSets: []string{"abcd1234"}}
	want := []string{"billing/secret", "billing/next-secret", "billing/new-secret", "billing/token", "billing/token@abcd1234"}
	if got := vault.KeyringKeys(c); !slices.Equal(got, want) {
		t.Errorf("KeyringKeys = %q, want %q", got, want)
	}
}

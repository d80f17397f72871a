package jwtinfo

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func jwt(header, claims string) string { return seg(header) + "." + seg(claims) + ".c2ln" }

func TestParseClaims(t *testing.T) {
	raw := jwt(`{"alg":"RS256","kid":"k1"}`,
		`{"iss":"https://auth.example","sub":"m2m-client-test-1","aud":["a","b"],"iat":1700000000,"exp":1700003600.5,"scope":"chat:invoke  models:read"}`)
	info, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := info.Header["kid"], "k1"; got != want {
		t.Errorf("kid = %v; want %v", got, want)
	}
	if got, want := info.String("sub"), "m2m-client-test-1"; got != want {
		t.Errorf("sub = %q; want %q", got, want)
	}
	if got, want := info.Time("iat"), time.Unix(1700000000, 0).UTC(); !got.Equal(want) {
		t.Errorf("iat = %v; want %v", got, want)
	}
	if got, want := info.Time("exp"), time.Unix(1700003600, 5e8).UTC(); !got.Equal(want) {
		t.Errorf("exp = %v; want %v", got, want)
	}
	if got := info.Time("nbf"); !got.IsZero() {
		t.Errorf("nbf = %v; want zero for a missing claim", got)
	}
	if got, want := info.Audience(), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("aud = %v; want %v", got, want)
	}
	scopes, ok := info.Scopes()
	if want := []string{"chat:invoke", "models:read"}; !ok || !slices.Equal(scopes, want) {
		t.Errorf("Scopes() = %v, %v; want %v, true", scopes, ok, want)
	}
}

func TestScopesForms(t *testing.T) {
	tests := []struct {
		claims string
		want   []string
		ok     bool
	}{
		{`{"scope":"a b"}`, []string{"a", "b"}, true},
		{`{"scp":["a","b"]}`, []string{"a", "b"}, true},
		{`{"scp":"a b"}`, []string{"a", "b"}, true},
		{`{"scope":"a","scp":["z"]}`, []string{"a"}, true},
		{`{"scope":""}`, nil, true},
		{`{"sub":"x"}`, nil, false},
		{`{"scope":42}`, nil, true},
	}
	for _, tt := range tests {
		info, err := Parse(jwt(`{"alg":"none"}`, tt.claims))
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.claims, err)
		}
		got, ok := info.Scopes()
		if !slices.Equal(got, tt.want) || ok != tt.ok {
			t.Errorf("%s: Scopes() = %v, %v; want %v, %v", tt.claims, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAudienceString(t *testing.T) {
	info, err := Parse(jwt(`{}`, `{"aud":"api"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Audience(), []string{"api"}; !slices.Equal(got, want) {
		t.Errorf("aud = %v; want %v", got, want)
	}
}

func TestParseRejects(t *testing.T) {
	tests := map[string]string{
		"opaque":          "2YotnFZFEjr1zCsicMWpAA",
		"two parts":       seg(`{}`) + "." + seg(`{}`),
		"bad base64":      "!!!." + seg(`{}`) + ".x",
		"header array":    jwt(`[1]`, `{}`),
		"claims not JSON": seg(`{}`) + "." + seg(`nope`) + ".x",
		"claims null":     jwt(`{}`, `null`),
		"trailing":        jwt(`{}`, `{} {}`),
		"too long":        jwt(`{}`, `{"x":"`+strings.Repeat("a", MaxLen)+`"}`),
	}
	for name, raw := range tests {
		if _, err := Parse(raw); !errors.Is(err, ErrNotJWT) {
			t.Errorf("%s: Parse error = %v; want ErrNotJWT", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(jwt(`{"alg":"RS256"}`, `{"scope":"a b","exp":1700000000,"aud":["x"]}`))
	f.Add(jwt(`{}`, `{"scp":["a"],"exp":"soon"}`))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		info, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrNotJWT) {
				t.Fatalf("Parse error %v does not wrap ErrNotJWT", err)
			}
			return
		}
		if info.Header == nil || info.Claims == nil {
			t.Fatal("Parse succeeded with nil header or claims")
		}
		// None of the accessors may panic on any decoded input.
		info.Scopes()
		info.Audience()
		info.Time("exp")
		info.String("sub")
	})
}

package agent

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

func TestRequestRoundTrip(t *testing.T) {
	for _, r := range []request{
		{verb: verbShow},
		{verb: verbToken, name: "billing"},
		{verb: verbToken, name: "a.b_c-1", minTTL: 10 * time.Minute},
		{verb: verbToken, name: "x", scopes: []string{}, scopesSet: true},
		{verb: verbToken, name: "x", scopes: []string{"models:read", "chat:invoke"}, scopesSet: true, minTTL: time.Second},
	} {
		line := r.encode()
		if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
			t.Fatalf("encode(%+v) = %q, want one line", r, line)
		}
		got, err := parseRequest(strings.TrimSuffix(line, "\n"))
		if err != nil {
			t.Fatalf("parseRequest(%q): %v", line, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("parseRequest(%q) = %+v, want %+v", line, got, r)
		}
	}
}

func TestParseRequestRefuses(t *testing.T) {
	for _, line := range []string{
		"",
		"TT1",
		"TT1 ",
		"TT2 show",
		"SSH show",
		"TT1 show extra",
		"TT1 list",
		"TT1 token",
		"TT1 token name=",
		"TT1 token name=Billing",        // upper case is not a client name
		"TT1 token name=a%20b",          // nor is a space
		"TT1 token name=a&name=b",       // twice
		"TT1 token name=a&secret=x",     // unknown field
		"TT1 token name=a&min-ttl=-1s",  // negative
		"TT1 token name=a&min-ttl=25h",  // too long
		"TT1 token name=a&min-ttl=soon", // not a duration
		"TT1 token name=a&scope=a,,b",   // empty scope
		"TT1 token name=a&scope=a%20b",  // space in a scope
		"TT1 token name=a&scope=%22",    // quote
		"TT1 token name=a&scope=x%0Ay",  // newline
		"TT1 token name=%zz",            // bad escape
		"TT1 token name=a&scope=" + strings.Repeat("s,", maxScopes) + "s",
		"TT1 token name=a&scope=" + strings.Repeat("s", maxRequest),
	} {
		if r, err := parseRequest(line); err == nil {
			t.Errorf("parseRequest(%q) = %+v, want an error", clip(line, 80), r)
		}
	}
	if _, err := parseRequest("TT9 show"); !errors.Is(err, errVersion) {
		t.Errorf("parseRequest(TT9 show) = %v, want errVersion", err)
	}
}

func TestAnswerRoundTrip(t *testing.T) {
	exp := time.Unix(1_800_000_000, 0)
	for _, a := range []answer{
		{},
		{class: "rejected", msg: "the secret of \"x\" was rejected by auth.example.com (invalid_client): run: tokentray set-secret x"},
		{class: classUnknown, msg: "no such client"},
		{token: vault.Token{AccessToken: "eyJhbGciOi.J9.sig-_~+/=", TokenType: "Bearer", Expiry: exp}},
		{token: vault.Token{AccessToken: "t", TokenType: "bearer", Expiry: exp, Scopes: []string{"a", "b:c"}},
			missing: []string{"d"}, stale: "the endpoint answered HTTP 503 & more", skew: 2 * time.Minute},
	} {
		line := a.encode()
		if strings.Count(line, "\n") != 1 {
			t.Fatalf("encode(%+v) = %q, want one line", a, line)
		}
		got, err := parseAnswer(strings.TrimSuffix(line, "\n"))
		if err != nil {
			t.Fatalf("parseAnswer(%q): %v", line, err)
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("parseAnswer(%q) = %+v, want %+v", line, got, a)
		}
	}
}

func TestParseAnswerRefuses(t *testing.T) {
	for _, line := range []string{
		"", "TT1", "TT1 maybe", "HTTP/1.1 200 OK",
		"TT1 err msg=no+class",
		"TT1 ok token=a%20b&exp=1",    // space in a token
		"TT1 ok token=a%0A&exp=1",     // newline in a token
		"TT1 ok token=a&exp=soon",     // bad expiry
		"TT1 ok token=a&exp=-5",       // negative expiry
		"TT1 ok type=Bearer&exp=1",    // no token
		"TT1 ok token=a&exp=1&skew=x", // bad skew
		"TT1 ok token=a&exp=1&granted=a,,b",
		"TT1 ok token=a&exp=1&type=a%20b",
	} {
		if a, err := parseAnswer(line); err == nil {
			t.Errorf("parseAnswer(%q) = %+v, want an error", line, a)
		}
	}
	a, err := parseAnswer("TT1 err class=transient&msg=line1%0A%1B[31mline2")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(a.msg, "\n\x1b") {
		t.Errorf("message %q keeps control characters", a.msg)
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"TT1 show", "TT1 token name=a&min-ttl=1m&scope=a,b", "TT1 token name=a&scope=", "TT2 x", "TT1 token %"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parseRequest(line)
		if err != nil {
			return
		}
		// Whatever parses must re-encode to a request that parses the same
		// and stays inside the limits.
		enc := r.encode()
		if len(enc) > maxRequest+64 || strings.Count(enc, "\n") != 1 {
			t.Fatalf("encode(%+v) = %q", r, enc)
		}
		again, err := parseRequest(strings.TrimSuffix(enc, "\n"))
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", line, again, err, r)
		}
		if r.verb == verbToken && vault.ValidateName(r.name) != nil {
			t.Fatalf("accepted client name %q", r.name)
		}
	})
}

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{"TT1 ok", "TT1 ok token=a&type=Bearer&exp=1&granted=a&missing=b&stale=x&skew=1s", "TT1 err class=scope&msg=m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a, err := parseAnswer(line)
		if err != nil {
			return
		}
		if strings.ContainsAny(a.msg+a.stale, "\n\r\x1b") {
			t.Fatalf("control characters kept from %q", line)
		}
		if a.class == "" && a.token.AccessToken != "" && !validToken(a.token.AccessToken) {
			t.Fatalf("invalid token accepted from %q", line)
		}
	})
}

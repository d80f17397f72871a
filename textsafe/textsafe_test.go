package textsafe

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"m2m-client-test-1", "m2m-client-test-1"},
		{"héllo wörld ✓", "héllo wörld ✓"},
		{`C:\path`, `C:\path`},
		{"a\x1b[31mred", `a\x1b[31mred`},
		{"bell\a", `bell\a`},
		{"two\nlines\r\n", `two\nlines\r\n`},
		{"tab\there", `tab\there`},
		{"nul\x00", `nul\x00`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085\u009b", `c1\u0085\u009b`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"\u2066iso\u2069", `\u2066iso\u2069`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"\u200bzero width stays", "\u200bzero width stays"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapef(t *testing.T) {
	got := Escapef("client %s: %v", "x\x1b]0;pwned\a", "desc\nforged line")
	want := `client x\x1b]0;pwned\a: desc\nforged line`
	if got != want {
		t.Errorf("Escapef = %q; want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	v := map[string]string{"sub": "a\x1b\u0085\u202e\x7fz", "ok": "plain"}
	doc, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got := JSON(doc)
	for _, r := range string(got) {
		if Unsafe(r) {
			t.Fatalf("JSON left %U in %s", r, got)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("JSON output is not JSON: %v\n%s", err, got)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("JSON changed the meaning: %q; want %q", back, v)
	}
	plain := []byte(`{"a":"b"}`)
	if got := JSON(plain); &got[0] != &plain[0] {
		t.Errorf("JSON copied a document with nothing to escape")
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "abc", "a\x1b[2Jb", "\u202e\u2066x", "\xff\xfe", "\n\t\r", `\x1b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Escape(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if Unsafe(r) {
				t.Fatalf("Escape(%q) = %q: %U left", s, got, r)
			}
		}
		if firstUnsafe(s) < 0 && got != s {
			t.Fatalf("Escape(%q) = %q: changed safe text", s, got)
		}
		if len(got) < len(s) {
			t.Fatalf("Escape(%q) = %q: lost bytes", s, got)
		}
		if !strings.Contains(s, `\`) && strings.Count(got, `\`) == 0 && got != s {
			t.Fatalf("Escape(%q) = %q: changed without an escape", s, got)
		}
		doc, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(JSON(doc), &back); err != nil {
			t.Fatalf("JSON(%s): %v", doc, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want && utf8.ValidString(s) {
			t.Fatalf("JSON round trip of %q = %q", s, back)
		}
	})
}

func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"billing", "billing"},
		{"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"'=1", "''=1"},
		{"'quoted", "''quoted"},
		{"-30", "-30"},
		{"42", "42"},
		{"-", "'-"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		got := Cell(tt.in)
		if got != tt.want {
			t.Errorf("Cell(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if back := UnCell(got); back != tt.in {
			t.Errorf("UnCell(Cell(%q)) = %q; want it back", tt.in, back)
		}
	}
}

func FuzzCell(f *testing.F) {
	for _, s := range []string{"", "=1", "'=1", "''", "-5", "-", "@", "'", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Cell(s)
		if c != "" && strings.ContainsRune("=+@\t\r", rune(c[0])) {
			t.Fatalf("Cell(%q) = %q: begins a formula", s, c)
		}
		if c != "" && c[0] == '-' && !isInteger(c) {
			t.Fatalf("Cell(%q) = %q: begins a formula", s, c)
		}
		if back := UnCell(c); back != s {
			t.Fatalf("UnCell(Cell(%q)) = %q", s, back)
		}
	})
}

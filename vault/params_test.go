package vault_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/vault"
)

func TestParseParam(t *testing.T) {
	tests := []struct {
		in         string
		key, value string
		ok         bool
	}{
		{"resource=https://api.example.com", "resource", "https://api.example.com", true},
		{" audience =a b", "audience", "a b", true},
		{"resource=https://api.example.com/?a=b&c=d", "resource", "https://api.example.com/?a=b&c=d", true},
		{"resource=", "resource", "", true}, // edit: remove
		{"resource", "", "", false},
		{"=x", "", "", false},
		{"scope=a", "", "", false},
		{"client_secret=x", "", "", false},
		{"grant_type=password", "", "", false},
		{"client_id=x", "", "", false},
		{"a b=c", "", "", false},
		{"a&b=c", "", "", false},
		{"k=line\nbreak", "", "", false},
		{"k=" + strings.Repeat("x", vault.MaxParamValueLen+1), "", "", false},
		{strings.Repeat("k", vault.MaxParamKeyLen+1) + "=v", "", "", false},
	}
	for _, tt := range tests {
		k, v, err := vault.ParseParam(tt.in)
		if tt.ok {
			if err != nil || k != tt.key || v != tt.value {
				t.Errorf("ParseParam(%q) = %q, %q, %v; want %q, %q, nil", tt.in, k, v, err, tt.key, tt.value)
			}
			continue
		}
		wantField(t, "ParseParam("+tt.in[:min(len(tt.in), 30)]+")", err, "endpoint_params")
	}
}

func TestParseParamLines(t *testing.T) {
	p, err := vault.ParseParamLines("resource=https://a.example\n\n  audience=x \r\nresource=https://b.example\n")
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"resource": {"https://a.example", "https://b.example"}, "audience": {"x"}}
	if p.Encode() != want.Encode() {
		t.Errorf("got %v, want %v", p, want)
	}
	if got := vault.FormatParams(p); !slices.Equal(got, []string{"audience=x", "resource=https://a.example", "resource=https://b.example"}) {
		t.Errorf("FormatParams = %q", got)
	}
	if p, err := vault.ParseParamLines(" \n"); p != nil || err != nil {
		t.Errorf("blank text = %v, %v; want nil, nil", p, err)
	}
	_, err = vault.ParseParamLines("resource=")
	wantField(t, "a line without a value", err, "endpoint_params")
	_, err = vault.ParseParamLines("scope=a b")
	wantField(t, "a reserved key", err, "endpoint_params")
}

func TestNormalizeParams(t *testing.T) {
	c := validClient()
	c.EndpointParams = url.Values{"resource": {"https://api.example.com"}, "empty": {}}
	n, err := c.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := n.EndpointParams["empty"]; ok || n.EndpointParams.Get("resource") != "https://api.example.com" {
		t.Errorf("EndpointParams = %v: want resource kept and the empty key dropped", n.EndpointParams)
	}
	for desc, p := range map[string]url.Values{
		"control character": {"k": {"a\x00"}},
		"space in key":      {"a b": {"c"}},
		"too many values":   {"resource": slices.Repeat([]string{"x"}, vault.MaxParamValues+1)},
	} {
		c := validClient()
		c.EndpointParams = p
		_, err := c.Normalize()
		wantField(t, desc, err, "endpoint_params")
	}
	many := url.Values{}
	for i := range vault.MaxParams + 1 {
		many.Set("k"+strings.Repeat("x", i), "v")
	}
	c.EndpointParams = many
	_, err = c.Normalize()
	wantField(t, "too many keys", err, "endpoint_params")
}

func TestSameParams(t *testing.T) {
	a := validClient()
	a.EndpointParams = url.Values{"resource": {"https://a.example", "https://b.example"}}
	b := a.Clone()
	if !vault.SameParams(a, b) {
		t.Error("SameParams of a clone is false")
	}
	for desc, p := range map[string]url.Values{
		"none":          nil,
		"value order":   {"resource": {"https://b.example", "https://a.example"}},
		"another value": {"resource": {"https://a.example"}},
		"another key":   {"audience": {"https://a.example", "https://b.example"}},
		"one key more":  {"resource": {"https://a.example", "https://b.example"}, "audience": {"x"}},
	} {
		b.EndpointParams = p
		if vault.SameParams(a, b) || vault.SameParams(b, a) {
			t.Errorf("%s: SameParams is true for %v and %v", desc, a.EndpointParams, p)
		}
	}
	a.EndpointParams, b.EndpointParams = nil, url.Values{}
	if !vault.SameParams(a, b) {
		t.Error("nil and empty params differ")
	}
}

// FuzzParseParamLines: parsing never panics; what parses is accepted by
// Normalize and survives FormatParams and a second parse unchanged.
func FuzzParseParamLines(f *testing.F) {
	f.Add("resource=https://api.example.com\naudience=x")
	f.Add("scope=a")
	f.Add("=\n\n=")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := vault.ParseParamLines(text)
		if err != nil {
			return
		}
		c := validClient()
		c.EndpointParams = p
		n, err := c.Normalize()
		if err != nil {
			t.Fatalf("ParseParamLines(%q) = %v, which Normalize refuses: %v", text, p, err)
		}
		again, err := vault.ParseParamLines(strings.Join(vault.FormatParams(n.EndpointParams), "\n"))
		if err != nil {
			t.Fatalf("FormatParams output does not parse: %v", err)
		}
		if again.Encode() != n.EndpointParams.Encode() {
			t.Fatalf("round trip changed %v to %v", n.EndpointParams, again)
		}
	})
}

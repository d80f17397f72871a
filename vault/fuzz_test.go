package vault_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

func TestDecodeIndex(t *testing.T) {
	tests := []struct {
		desc  string
		data  string
		names []string
		err   error
	}{
		{"empty file", "", nil, nil},
		{"blank file", " \n", nil, nil},
		{"no clients", `{"schema":1,"clients":[]}`, nil, nil},
		{"sorted on decode", `{"schema":1,"clients":[` +
			`{"name":"b","client_id":"x","token_url":"https://a.example/t"},` +
			`{"name":"a","client_id":"x","token_url":"https://a.example/t"}]}`, []string{"a", "b"}, nil},
		{"newer schema", `{"schema":2,"clients":[]}`, nil, vault.ErrIndexTooNew},
		{"no schema", `{"clients":[]}`, nil, vault.ErrIndexCorrupt},
		{"negative schema", `{"schema":-3,"clients":[]}`, nil, vault.ErrIndexCorrupt},
		{"not json", `clients: []`, nil, vault.ErrIndexCorrupt},
		{"array", `[]`, nil, vault.ErrIndexCorrupt},
		{"trailing data", `{"schema":1,"clients":[]} {}`, nil, vault.ErrIndexCorrupt},
		{"trailing brace", `{"schema":1,"clients":[]}}`, nil, vault.ErrIndexCorrupt},
		{"trailing brackets", `{"schema":1,"clients":[]}]]]garbage`, nil, vault.ErrIndexCorrupt},
		{"trailing newline", "{\"schema\":1,\"clients\":[]}\n\n", nil, nil},
		{"duplicate names", `{"schema":1,"clients":[` +
			`{"name":"a","client_id":"x","token_url":"https://a.example/t"},` +
			`{"name":"a","client_id":"y","token_url":"https://a.example/t"}]}`, nil, vault.ErrIndexCorrupt},
		{"invalid client", `{"schema":1,"clients":[{"name":"a","client_id":"","token_url":"https://a.example/t"}]}`, nil, vault.ErrIndexCorrupt},
		{"bad time", `{"schema":1,"clients":[{"name":"a","client_id":"x","token_url":"https://a.example/t","created_at":"now"}]}`, nil, vault.ErrIndexCorrupt},
	}
	for _, tt := range tests {
		got, err := vault.DecodeIndex([]byte(tt.data))
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: error %v, want %v", tt.desc, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: error %v, want none", tt.desc, err)
			continue
		}
		var names []string
		for _, c := range got {
			names = append(names, c.Name)
		}
		if !slices.Equal(names, tt.names) {
			t.Errorf("%s: names %q, want %q", tt.desc, names, tt.names)
		}
	}
}

func TestEncodeIndexRoundTrip(t *testing.T) {
	c := validClient()
	c.AuthStyle = vault.AuthBody
	c.EndpointParams = url.Values{"audience": {"https://api.example.com"}}
	c.EnvironmentOverride = vault.EnvLive
	c.CreatedAt = t0
	c.SecretSetAt = t0.Add(-time.Hour)
	c.RotationStartedAt = t0.Add(time.Hour)
	c.TokenScopeSets = []string{"ba7816bf"}
	c.Notes = "n"
	d := validClient()
	d.Name = "analytics"
	data, err := vault.EncodeIndex([]vault.Client{c, d})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"schema": 1`)) {
		t.Errorf("encoded index lacks the schema version:\n%s", data)
	}
	got, err := vault.DecodeIndex(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "analytics" || got[1].Name != "billing" {
		t.Fatalf("decoded %d clients %v, want analytics and billing", len(got), got)
	}
	b := got[1]
	if b.AuthStyle != c.AuthStyle || b.Audience() != c.Audience() || b.Environment() != vault.EnvLive ||
		!b.CreatedAt.Equal(c.CreatedAt) || !b.SecretSetAt.Equal(c.SecretSetAt) ||
		!b.RotationStartedAt.Equal(c.RotationStartedAt) || !slices.Equal(b.TokenScopeSets, c.TokenScopeSets) || b.Notes != "n" {
		t.Errorf("round trip changed the client:\n got %+v\nwant %+v", b, c)
	}
	if empty, _ := vault.EncodeIndex(nil); !bytes.Contains(empty, []byte(`"clients": []`)) {
		t.Errorf("EncodeIndex(nil) = %s, want an empty clients list", empty)
	}
	if bytes.Contains(data, []byte("rotation_started_at")) == false {
		t.Errorf("a set RotationStartedAt is not encoded")
	}
	if only, _ := vault.EncodeIndex([]vault.Client{d}); bytes.Contains(only, []byte("rotation_started_at")) {
		t.Errorf("a zero RotationStartedAt is encoded: %s", only)
	}
}

// FuzzDecodeIndex: decoding never panics, and whatever decodes encodes and
// decodes again to the same clients.
func FuzzDecodeIndex(f *testing.F) {
	f.Add([]byte(`{"schema":1,"clients":[{"name":"a","client_id":"x","token_url":"https://a.example/t"}]}`))
	f.Add([]byte(`{"schema":1,"future":{"x":[1]},"clients":[{"name":"a","client_id":"x","token_url":"https://a.example/t","later":true,"NAME":"b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		clients, err := vault.DecodeIndex(data)
		if err != nil {
			if !errors.Is(err, vault.ErrIndexCorrupt) && !errors.Is(err, vault.ErrIndexTooNew) {
				t.Fatalf("DecodeIndex error %v wraps neither ErrIndexCorrupt nor ErrIndexTooNew", err)
			}
			return
		}
		if len(bytes.TrimSpace(data)) > 0 && !json.Valid(data) {
			t.Fatalf("DecodeIndex accepted invalid JSON %q", data)
		}
		enc, err := vault.EncodeIndex(clients)
		if err != nil {
			t.Fatalf("EncodeIndex of decoded clients: %v", err)
		}
		again, err := vault.DecodeIndex(enc)
		if err != nil {
			t.Fatalf("DecodeIndex of EncodeIndex output: %v\n%s", err, enc)
		}
		if len(again) != len(clients) {
			t.Fatalf("round trip has %d clients, want %d", len(again), len(clients))
		}
		for i := range clients {
			if !sameClient(clients[i], again[i]) {
				t.Fatalf("round trip changed client %d:\n got %+v\nwant %+v", i, again[i], clients[i])
			}
		}
		enc2, err := vault.EncodeIndex(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable (%v):\n%s\nthen\n%s", err, enc, enc2)
		}
	})
}

func sameClient(a, b vault.Client) bool {
	return a.Name == b.Name && a.ClientID == b.ClientID && a.TokenURL == b.TokenURL &&
		slices.Equal(a.Scopes, b.Scopes) && a.AuthStyle == b.AuthStyle &&
		a.EndpointParams.Encode() == b.EndpointParams.Encode() &&
		a.EnvironmentOverride == b.EnvironmentOverride && a.SecretSetAt.Equal(b.SecretSetAt) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.Notes == b.Notes && a.RotationStartedAt.Equal(b.RotationStartedAt) &&
		slices.Equal(a.TokenScopeSets, b.TokenScopeSets) && sameUnknown(a.Unknown, b.Unknown)
}

// sameUnknown compares the kept fields of newer versions by their JSON
// values (a round trip may reindent them).
func sameUnknown(a, b map[string]json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		var x, y any
		if json.Unmarshal(v, &x) != nil || json.Unmarshal(b[k], &y) != nil {
			return false
		}
		xj, _ := json.Marshal(x)
		yj, _ := json.Marshal(y)
		if !bytes.Equal(xj, yj) {
			return false
		}
	}
	return true
}

// FuzzNormalizeScopes: the result has no duplicates, no blanks, no
// whitespace, keeps the input's order and is a fixed point.
func FuzzNormalizeScopes(f *testing.F) {
	f.Add("chat:read usage:read chat:read")
	f.Add(" a\tb ")
	f.Add("")
	f.Fuzz(func(t *testing.T, joined string) {
		in := strings.Split(joined, " ")
		out, err := vault.NormalizeScopes(in)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range out {
			if s == "" || strings.ContainsAny(s, " \t\r\n") || seen[s] {
				t.Fatalf("NormalizeScopes(%q) = %q: blank, spaced or duplicate scope %q", in, out, s)
			}
			seen[s] = true
			if !slices.ContainsFunc(in, func(x string) bool { return strings.TrimSpace(x) == s }) {
				t.Fatalf("NormalizeScopes(%q) = %q invents %q", in, out, s)
			}
		}
		again, err := vault.NormalizeScopes(out)
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("NormalizeScopes is not idempotent: %q -> %q -> %q (%v)", in, out, again, err)
		}
	})
}

// FuzzValidateTokenURL: an accepted URL parses, has a host, no user info or
// fragment, and is https or loopback http.
func FuzzValidateTokenURL(f *testing.F) {
	for _, s := range []string{"https://auth.example.com/oauth2/token", "http://127.0.0.1:4444/t", "http://[::1]/t",
		"http://localhost/t", "http://evil.com/t", "https://u:p@a.example/t#x", "://", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := vault.ValidateTokenURL(raw)
		if err != nil {
			var ve *vault.ValidationError
			if !errors.As(err, &ve) || ve.Field != "token_url" {
				t.Fatalf("ValidateTokenURL(%q) error %v is not a token_url ValidationError", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		switch {
		case perr != nil:
			t.Fatalf("accepted %q that does not parse: %v", raw, perr)
		case u.Hostname() == "":
			t.Fatalf("accepted %q without a host", raw)
		case u.User != nil || u.Fragment != "" || strings.Contains(raw, "#"):
			t.Fatalf("accepted %q with user info or a fragment", raw)
		case u.Scheme == "https":
		case u.Scheme == "http" && vault.IsLoopbackHost(u.Hostname()):
		default:
			t.Fatalf("accepted %q: scheme %q, host %q", raw, u.Scheme, u.Hostname())
		}
	})
}

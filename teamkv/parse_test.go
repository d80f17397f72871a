package teamkv

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseEntry(t *testing.T) {
	ok := map[string]any{
		"client_id": "m2m-client-live-1", "client_secret": "s3cr3t\n", "token_url": "https://auth.example.com/token",
		"scopes": "a b a", "auth_style": "basic", "audience": "api", "environment": "LIVE", "notes": "n",
		"endpoint_params": map[string]any{"resource": "r"},
	}
	c, secret := ParseEntry("acme", "billing", ok)
	if c.Problem != "" || secret != "s3cr3t" || c.Name != "acme.billing" || c.Source != "acme" ||
		strings.Join(c.Scopes, " ") != "a b" || c.AuthStyle != "header" || c.Audience() != "api" ||
		c.EndpointParams.Get("resource") != "r" || c.Environment() != "live" {
		t.Fatalf("ParseEntry = %+v, %q", c, secret)
	}
	list := map[string]any{"client_id": "x", "client_secret": "s", "token_url": "http://127.0.0.1:9/t", "scopes": []any{"a", "b"}}
	if c, _ := ParseEntry("acme", "l", list); c.Problem != "" || len(c.Scopes) != 2 {
		t.Fatalf("scopes as a list: %+v", c)
	}
	for _, tc := range []struct {
		name  string
		entry string
		data  map[string]any
		want  string
	}{
		{"no secret", "e", map[string]any{"client_id": "x", "token_url": "https://a/t"}, "client_secret is missing"},
		{"no id", "e", map[string]any{"client_secret": "s", "token_url": "https://a/t"}, "client_id is missing"},
		{"no url", "e", map[string]any{"client_id": "x", "client_secret": "s"}, "token_url is missing"},
		{"http", "e", map[string]any{"client_id": "x", "client_secret": "s", "token_url": "http://a.example/t"}, "https"},
		{"number id", "e", map[string]any{"client_id": 5.0, "client_secret": "s", "token_url": "https://a/t"}, "client_id is a float64"},
		{"bad name", "Big Name", map[string]any{"client_id": "x", "client_secret": "s", "token_url": "https://a/t"}, "rename it in Vault"},
		{"bad scopes", "e", map[string]any{"client_id": "x", "client_secret": "s", "token_url": "https://a/t", "scopes": 3.0}, "scopes is a float64"},
	} {
		c, secret := ParseEntry("acme", tc.entry, tc.data)
		if !strings.Contains(c.Problem, tc.want) || secret != "" {
			t.Errorf("%s: problem %q, secret %q; want %q and no secret", tc.name, c.Problem, secret, tc.want)
		}
	}
}

func FuzzParseEntry(f *testing.F) {
	f.Add("billing", `{"client_id":"x","client_secret":"s","token_url":"https://a/t","scopes":"a b"}`)
	f.Add("x.y", `{"client_id":1,"scopes":[1,"a"],"endpoint_params":{"a":[]}}`)
	f.Fuzz(func(t *testing.T, entry, data string) {
		var m map[string]any
		if json.Unmarshal([]byte(data), &m) != nil {
			return
		}
		c, secret := ParseEntry("acme", entry, m)
		if (c.Problem == "") == (secret == "") {
			t.Fatalf("problem %q with secret set %v: exactly one of them must be set", c.Problem, secret != "")
		}
		if s, _ := m["client_secret"].(string); len(s) > 3 && c.Problem != "" && strings.Contains(c.Problem, s) {
			t.Fatalf("problem %q holds the secret", c.Problem)
		}
	})
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add(`{"schema":1,"teams":[{"name":"acme","addr":"https://v.example.com","mount":"secret","prefix":"tokentray/"}]}`)
	f.Add(`{"schema":1,"teams":[{"name":"a","addr":"http://10.0.0.1","mount":"/"}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		teams, err := DecodeConfig([]byte(data))
		if err != nil {
			return
		}
		for _, c := range teams {
			if _, err := c.Normalize(); err != nil {
				t.Fatalf("decoded team %+v does not normalize: %v", c, err)
			}
			if strings.Contains(c.Name, ".") {
				t.Fatalf("team name %q holds a dot", c.Name)
			}
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add(`{"versions":{"a":1,"b":"x","_index":3,"c/d":2}}`)
	f.Fuzz(func(t *testing.T, data string) {
		var m map[string]any
		if json.Unmarshal([]byte(data), &m) != nil {
			return
		}
		for entry, v := range parseIndex(m) {
			if entry == "" || entry == IndexEntry || strings.Contains(entry, "/") || v < 0 {
				t.Fatalf("parseIndex kept %q: %d", entry, v)
			}
		}
	})
}

func TestConfigNormalize(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" = valid
	}{
		{Config{Name: "acme", Addr: "https://vault.example.com:8200/", Mount: "/secret/", Prefix: "tokentray"}, ""},
		{Config{Name: "acme", Addr: "http://127.0.0.1:8200", Mount: "secret"}, ""},
		{Config{Name: "acme", Addr: "http://vault.example.com", Mount: "secret"}, "use https"},
		{Config{Name: "a.b", Addr: "https://v", Mount: "secret"}, "no dot"},
		{Config{Name: "acme", Addr: "https://v", Mount: ""}, "mount"},
		{Config{Name: "acme", Addr: "https://v", Mount: "secret", Prefix: "a/../b"}, "prefix"},
		{Config{Name: "acme", Addr: "https://user:pw@v", Mount: "secret"}, "only scheme"},
	} {
		n, err := tc.cfg.Normalize()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: err = %v, want %q", tc.cfg, err, tc.want)
		case tc.want == "" && (strings.HasSuffix(n.Addr, "/") || n.Mount != "secret" || (n.Prefix != "" && !strings.HasSuffix(n.Prefix, "/"))):
			t.Errorf("%+v normalized to %+v", tc.cfg, n)
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := []Config{{Name: "b", Addr: "https://v", Mount: "secret", Prefix: "p/"}, {Name: "a", Addr: "https://w", Mount: "kv", SweepInterval: Duration(2 * 60e9)}}
	if err := SaveConfig(dir, in); err != nil {
		t.Fatal(err)
	}
	out, err := LoadConfig(dir)
	if err != nil || len(out) != 2 || out[0].Name != "a" || out[0].Interval().Minutes() != 2 || out[1].Interval() != DefaultSweepInterval {
		t.Fatalf("LoadConfig = %+v, %v", out, err)
	}
}

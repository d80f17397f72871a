package vault_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/vault"
)

// wantField checks that err is a *vault.ValidationError for field (or nil
// when field is "").
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("%s: got error %v, want none", what, err)
		}
		return
	}
	var ve *vault.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("%s: got error %v, want a *ValidationError for %q", what, err, field)
		return
	}
	if ve.Field != field {
		t.Errorf("%s: got field %q, want %q (error %v)", what, ve.Field, field, err)
	}
	if ve.Problem == "" || ve.Problem != strings.ToLower(ve.Problem[:1])+ve.Problem[1:] {
		t.Errorf("%s: problem %q should be a lower-case sentence", what, ve.Problem)
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"billing", true},
		{"billing-prod.v2_x", true},
		{"a", true},
		{"0", true},
		{strings.Repeat("a", vault.MaxNameLen), true},
		{"", false},
		{strings.Repeat("a", vault.MaxNameLen+1), false},
		{"Billing", false},
		{"billing prod", false},
		{"billing/prod", false},
		{"a@b", false},
		{"café", false},
		{".", false},
		{"..", false},
		{"billing\n", false},
	}
	for _, tt := range tests {
		err := vault.ValidateName(tt.name)
		field := "name"
		if tt.ok {
			field = ""
		}
		wantField(t, "ValidateName("+strconvQuote(tt.name)+")", err, field)
	}
}

func strconvQuote(s string) string {
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return `"` + s + `"`
}

func TestValidateTokenURL(t *testing.T) {
	tests := []struct {
		url  string
		ok   bool
		hint string // a word the message must contain when not ok
	}{
		{"https://auth.example.com/oauth2/token", true, ""},
		{"https://auth.example.com:8443/oauth2/token?tenant=a", true, ""},
		{"HTTPS://auth.example.com/oauth2/token", true, ""},
		{"http://127.0.0.1:4444/oauth2/token", true, ""},
		{"http://127.1.2.3/token", true, ""},
		{"http://127.255.255.254/token", true, ""},
		{"http://[::1]:4444/oauth2/token", true, ""},
		{"http://localhost:4444/oauth2/token", true, ""},
		{"http://LocalHost/token", true, ""},
		{"https://localhost/token", true, ""},

		{"", false, "required"},
		{"   ", false, "required"},
		{"http://auth.example.com/oauth2/token", false, "https"},
		{"http://128.0.0.1/token", false, "https"},
		{"http://126.255.255.255/token", false, "https"},
		{"http://0.0.0.0/token", false, "https"},
		{"http://[::2]/token", false, "https"},
		{"http://localhost.example.com/token", false, "https"},
		{"http://127.0.0.1.nip.io/token", false, "https"},
		{"ftp://auth.example.com/token", false, "scheme"},
		{"file:///etc/passwd", false, "host"},
		{"auth.example.com/oauth2/token", false, "scheme"},
		{"/oauth2/token", false, "host"},
		{"https://:443/token", false, "host"},
		{"https://user@auth.example.com/token", false, "user"},
		{"https://user:pw@auth.example.com/token", false, "user"},
		{"http://127.0.0.1@auth.example.com/token", false, "user"},
		{"https://auth.example.com/token#frag", false, "fragment"},
		{"https://auth.example.com/token#", false, "fragment"},
		{"https://auth.exa mple.com/token", false, "parse"},
		{"https://auth.example.com:port/token", false, "parse"},
		{"https://auth.example.com/%zz", false, "parse"},
		{"http://[::1/token", false, "parse"},
	}
	for _, tt := range tests {
		err := vault.ValidateTokenURL(tt.url)
		if tt.ok {
			wantField(t, "ValidateTokenURL("+tt.url+")", err, "")
			continue
		}
		wantField(t, "ValidateTokenURL("+tt.url+")", err, "token_url")
		if err != nil && !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("ValidateTokenURL(%q) = %q, want a message mentioning %q", tt.url, err, tt.hint)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"127.0.0.1", true},
		{"127.0.0.0", true},
		{"127.255.255.255", true},
		{"::1", true},
		{"128.0.0.1", false},
		{"10.0.0.1", false},
		{"::", false},
		{"example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := vault.IsLoopbackHost(tt.host); got != tt.want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestNormalizeSecret(t *testing.T) {
	long := strings.Repeat("s", vault.MaxSecretLen)
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"s3cret", "s3cret", true},
		{"s3cret\n", "s3cret", true},
		{"s3cret\r\n", "s3cret", true},
		{"s3cret\n\n", "", false}, // one trailing newline is trimmed; another is a line break inside
		{"s3c\nret", "", false},
		{"s3c\x00ret", "", false},
		{" s3cret ", " s3cret ", true}, // spaces may be part of a secret
		{long, long, true},
		{long + "\n", long, true},
		{"", "", false},
		{"\n", "", false},
		{"\r\n", "", false},
		{long + "x", "", false},
	}
	for _, tt := range tests {
		got, err := vault.NormalizeSecret(tt.in)
		if !tt.ok {
			wantField(t, "NormalizeSecret("+strconvQuote(tt.in)+")", err, "secret")
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeSecret(%s) = %s, %v; want %s, nil", strconvQuote(tt.in), strconvQuote(got), err, strconvQuote(tt.want))
		}
	}
}

func TestNormalizeSecretErrorHidesSecret(t *testing.T) {
	secret := "TOPSECRET-" + strings.Repeat("x", vault.MaxSecretLen)
	_, err := vault.NormalizeSecret(secret)
	if err == nil {
		t.Fatal("NormalizeSecret of an over-long secret: got no error")
	}
	if strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("the error %q shows the secret", err)
	}
}

func TestNormalizeScopes(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
		ok   bool
	}{
		{nil, nil, true},
		{[]string{}, nil, true},
		{[]string{"chat:read"}, []string{"chat:read"}, true},
		{[]string{"b", "a", "b", "a"}, []string{"b", "a"}, true},
		{[]string{" chat:read ", "chat:read"}, []string{"chat:read"}, true},
		{[]string{"", "  ", "x"}, []string{"x"}, true},
		{[]string{"https://api.example.com/.default"}, []string{"https://api.example.com/.default"}, true},
		{[]string{"chat:read chat:write"}, nil, false},
		{[]string{"a\tb"}, nil, false},
		{[]string{"a\nb"}, nil, false},
		{[]string{`a"b`}, nil, false},
		{[]string{`a\b`}, nil, false},
	}
	for _, tt := range tests {
		got, err := vault.NormalizeScopes(tt.in)
		if !tt.ok {
			wantField(t, "NormalizeScopes", err, "scopes")
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("NormalizeScopes(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseAuthStyle(t *testing.T) {
	tests := []struct {
		in   string
		want vault.AuthStyle
		ok   bool
	}{
		{"", vault.AuthAuto, true},
		{"auto", vault.AuthAuto, true},
		{"header", vault.AuthHeader, true},
		{"Basic", vault.AuthHeader, true},
		{"client_secret_basic", vault.AuthHeader, true},
		{" body ", vault.AuthBody, true},
		{"post", vault.AuthBody, true},
		{"client_secret_post", vault.AuthBody, true},
		{"jwt", "", false},
	}
	for _, tt := range tests {
		got, err := vault.ParseAuthStyle(tt.in)
		if !tt.ok {
			wantField(t, "ParseAuthStyle("+tt.in+")", err, "auth_style")
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAuthStyle(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

func validClient() vault.Client {
	return vault.Client{
		Name:     "billing",
		ClientID: "m2m-test-0001",
		TokenURL: "https://auth.example.com/oauth2/token",
		Scopes:   []string{"chat:read", "usage:read"},
	}
}

func TestClientNormalize(t *testing.T) {
	tests := []struct {
		desc  string
		edit  func(c *vault.Client)
		field string // "" when valid
	}{
		{"valid", func(c *vault.Client) {}, ""},
		{"bad name", func(c *vault.Client) { c.Name = "Bad Name" }, "name"},
		{"empty client id", func(c *vault.Client) { c.ClientID = "" }, "client_id"},
		{"blank client id", func(c *vault.Client) { c.ClientID = " \t" }, "client_id"},
		{"client id with line break", func(c *vault.Client) { c.ClientID = "abc\ndef" }, "client_id"},
		{"http token url", func(c *vault.Client) { c.TokenURL = "http://auth.example.com/token" }, "token_url"},
		{"scope with space", func(c *vault.Client) { c.Scopes = []string{"a b"} }, "scopes"},
		{"auth style", func(c *vault.Client) { c.AuthStyle = "jwt" }, "auth_style"},
		{"environment", func(c *vault.Client) { c.EnvironmentOverride = "staging" }, "environment"},
		{"endpoint param client_secret", func(c *vault.Client) {
			c.EndpointParams = url.Values{"client_secret": {"x"}}
		}, "endpoint_params"},
		{"endpoint param scope", func(c *vault.Client) { c.EndpointParams = url.Values{"scope": {"x"}} }, "endpoint_params"},
		{"endpoint param grant_type", func(c *vault.Client) {
			c.EndpointParams = url.Values{"grant_type": {"x"}}
		}, "endpoint_params"},
		{"endpoint param client_id", func(c *vault.Client) { c.EndpointParams = url.Values{"client_id": {"x"}} }, "endpoint_params"},
		{"audience", func(c *vault.Client) { c.EndpointParams = url.Values{"audience": {"api"}} }, ""},
	}
	for _, tt := range tests {
		c := validClient()
		tt.edit(&c)
		_, err := c.Normalize()
		wantField(t, tt.desc, err, tt.field)
	}
}

func TestClientNormalizeCleansUp(t *testing.T) {
	c := validClient()
	c.ClientID = "  m2m-test-0001 \n"
	c.TokenURL = " https://auth.example.com/oauth2/token "
	c.Scopes = []string{"chat:read", " chat:read", "usage:read", ""}
	c.EndpointParams = url.Values{}
	c.AuthStyle = "basic"
	got, err := c.Normalize()
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if got.ClientID != "m2m-test-0001" {
		t.Errorf("ClientID = %q, want it trimmed", got.ClientID)
	}
	if got.TokenURL != "https://auth.example.com/oauth2/token" {
		t.Errorf("TokenURL = %q, want it trimmed", got.TokenURL)
	}
	if want := []string{"chat:read", "usage:read"}; !slices.Equal(got.Scopes, want) {
		t.Errorf("Scopes = %q, want %q", got.Scopes, want)
	}
	if got.EndpointParams != nil {
		t.Errorf("EndpointParams = %v, want nil for an empty map", got.EndpointParams)
	}
	if got.AuthStyle != vault.AuthHeader {
		t.Errorf("AuthStyle = %q, want %q (the canonical name of \"basic\")", got.AuthStyle, vault.AuthHeader)
	}
	// Normalize must not alias the caller's slices.
	if c.Scopes[1] != " chat:read" {
		t.Errorf("Normalize changed the caller's scopes: %q", c.Scopes)
	}
	c2 := validClient()
	c2.AuthStyle = ""
	if got, _ := c2.Normalize(); got.AuthStyle != vault.AuthAuto {
		t.Errorf("empty AuthStyle normalized to %q, want %q", got.AuthStyle, vault.AuthAuto)
	}
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		clientID string
		override vault.Environment
		want     vault.Environment
	}{
		{"m2m-test-0001", "", vault.EnvTest},
		{"m2m-live-0001", "", vault.EnvLive},
		{"M2M-LIVE-0001", "", vault.EnvLive},
		{"m2m-0001", "", vault.EnvUnknown},
		{"test-0001", "", vault.EnvUnknown}, // needs both dashes
		{"m2m-testing-1", "", vault.EnvUnknown},
		{"m2m-live-0001", vault.EnvTest, vault.EnvTest},
		{"m2m-test-0001", vault.EnvLive, vault.EnvLive},
		{"m2m-test-0001", vault.EnvUnknown, vault.EnvUnknown},
		{"m2m-0001", vault.EnvLive, vault.EnvLive},
	}
	for _, tt := range tests {
		c := vault.Client{ClientID: tt.clientID, EnvironmentOverride: tt.override}
		if got := c.Environment(); got != tt.want {
			t.Errorf("Client{ClientID: %q, EnvironmentOverride: %q}.Environment() = %q, want %q", tt.clientID, tt.override, got, tt.want)
		}
		if tt.override == "" {
			if got := vault.InferEnvironment(tt.clientID); got != tt.want {
				t.Errorf("InferEnvironment(%q) = %q, want %q", tt.clientID, got, tt.want)
			}
		}
	}
}

func TestClientCloneIsDeep(t *testing.T) {
	c := validClient()
	c.EndpointParams = url.Values{"audience": {"a"}}
	c.TokenScopeSets = []string{"x"}
	d := c.Clone()
	d.Scopes[0] = "changed"
	d.EndpointParams["audience"][0] = "changed"
	d.TokenScopeSets[0] = "changed"
	if c.Scopes[0] == "changed" || c.EndpointParams.Get("audience") == "changed" || c.TokenScopeSets[0] == "changed" {
		t.Errorf("Clone shares memory with the original: %+v", c)
	}
	if got := c.Audience(); got != "a" {
		t.Errorf("Audience() = %q, want %q", got, "a")
	}
}

func TestValidateNameRefusesLeadingDash(t *testing.T) {
	for _, name := range []string{"-x", "--yes", "-"} {
		wantField(t, "ValidateName("+name+")", vault.ValidateName(name), "name")
	}
	if err := vault.ValidateName("x-"); err != nil {
		t.Errorf("ValidateName(x-) = %v, want nil", err)
	}
}

func TestValidateClientID(t *testing.T) {
	for _, id := range []string{"m2m-client-test-1", "a b", "~!@#$%^&*()"} {
		if err := vault.ValidateClientID(id); err != nil {
			t.Errorf("ValidateClientID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "a\x1b[31m", "a\x07", "a\tb", "a\nb", "caf\u00e9", "a\x7f"} {
		wantField(t, "ValidateClientID("+strconvQuote(id)+")", vault.ValidateClientID(id), "client_id")
	}
}

func TestSecretWarning(t *testing.T) {
	if w := vault.SecretWarning(" s3cret\n"); w == "" {
		t.Errorf("SecretWarning of a secret with a leading space is empty")
	}
	if w := vault.SecretWarning("s3cret\n"); w != "" {
		t.Errorf("SecretWarning(s3cret) = %q, want none", w)
	}
}

// A UTF-8 byte order mark, as some Windows editors write, is no corruption.
func TestDecodeIndexBOM(t *testing.T) {
	data := "\xEF\xBB\xBF" + `{"schema": 1, "clients": [{"name": "billing", "client_id": "id", "token_url": "https://auth.example.com/t", "secret_set_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z"}]}`
	clients, err := vault.DecodeIndex([]byte(data))
	if err != nil || len(clients) != 1 {
		t.Errorf("DecodeIndex with a BOM = %v, %v; want one client", clients, err)
	}
}

package vault

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AuthStyle says how a client authenticates at the token endpoint.
type AuthStyle string

// Auth styles. AuthAuto tries the Basic header first and remembers what works
// (x/oauth2's AuthStyleAutoDetect).
const (
	AuthAuto   AuthStyle = "auto"
	AuthHeader AuthStyle = "header" // HTTP Basic with RFC 6749 2.3.1 URL-encoding
	AuthBody   AuthStyle = "body"   // client_id and client_secret as form parameters
)

// ParseAuthStyle accepts "auto", "header" (or "basic") and "body" (or "post").
func ParseAuthStyle(s string) (AuthStyle, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return AuthAuto, nil
	case "header", "basic", "client_secret_basic":
		return AuthHeader, nil
	case "body", "post", "client_secret_post":
		return AuthBody, nil
	}
	return "", invalid("auth_style", "%q is not an auth style: use header, body or auto", s)
}

// Environment says whether a client works on test or live data.
type Environment string

// Environments. Unknown is shown when the client id says neither.
const (
	EnvUnknown Environment = "unknown"
	EnvTest    Environment = "test"
	EnvLive    Environment = "live"
)

// InferEnvironment reads the environment from a client id: ids that contain
// "-test-" are test clients, ids that contain "-live-" live ones.
func InferEnvironment(clientID string) Environment {
	id := strings.ToLower(clientID)
	switch {
	case strings.Contains(id, "-test-"):
		return EnvTest
	case strings.Contains(id, "-live-"):
		return EnvLive
	}
	return EnvUnknown
}

// Client is everything Tokentray keeps about one machine-to-machine client
// except its secret and tokens. It is what the index file holds.
type Client struct {
	// Name is the user's handle for the client: unique, 1 to 64 characters
	// of [a-z0-9._-].
	Name     string `json:"name"`
	ClientID string `json:"client_id"`
	TokenURL string `json:"token_url"`
	// Scopes are the scopes requested by default, without duplicates.
	Scopes    []string  `json:"scopes,omitempty"`
	AuthStyle AuthStyle `json:"auth_style,omitempty"`
	// EndpointParams are extra token request parameters, such as RFC 8707
	// resource or Auth0's audience (see ParseParam for the rules).
	EndpointParams url.Values `json:"endpoint_params,omitempty"`
	// EnvironmentOverride, when set, wins over the environment inferred from
	// the client id; Environment returns the effective one.
	EnvironmentOverride Environment `json:"environment,omitempty"`
	// SecretSetAt is when the current secret was stored (or, when edited, when
	// it was created at the provider). The platform keeps no such date.
	SecretSetAt time.Time `json:"secret_set_at"`
	CreatedAt   time.Time `json:"created_at"`
	Notes       string    `json:"notes,omitempty"`
	// RotationStartedAt is set while a new secret is staged and not yet
	// switched to, so a crash mid-rotation shows as "rotation in progress".
	RotationStartedAt time.Time `json:"rotation_started_at,omitzero"`
	// TokenScopeSets records the scope subsets whose tokens are cached in the
	// keyring (besides the default set), so Remove can delete them all.
	TokenScopeSets []string `json:"token_scope_sets,omitempty"`
}

// Environment returns the override when set, else the inferred environment.
func (c Client) Environment() Environment {
	if c.EnvironmentOverride != "" {
		return c.EnvironmentOverride
	}
	return InferEnvironment(c.ClientID)
}

// Audience returns the "audience" endpoint parameter, if any.
func (c Client) Audience() string { return c.EndpointParams.Get("audience") }

// Clone returns a deep copy of c.
func (c Client) Clone() Client {
	c.Scopes = slices.Clone(c.Scopes)
	c.TokenScopeSets = slices.Clone(c.TokenScopeSets)
	if c.EndpointParams != nil {
		p := make(url.Values, len(c.EndpointParams))
		for k, v := range c.EndpointParams {
			p[k] = slices.Clone(v)
		}
		c.EndpointParams = p
	}
	return c
}

// Limits on names and secrets.
const (
	MaxNameLen   = 64
	MaxSecretLen = 1024
)

// validNameChars reports whether name holds only [a-z0-9._-] (a loop, not
// a package-level regexp, whose compilation every process would pay for at
// start, the warm `tokentray token` included).
func validNameChars(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidateName checks a client name: 1 to 64 characters of [a-z0-9._-].
func ValidateName(name string) error {
	switch {
	case name == "":
		return invalid("name", "a name is required: use 1 to %d characters of a-z, 0-9, '.', '_' and '-'", MaxNameLen)
	case len(name) > MaxNameLen:
		return invalid("name", "%d characters is too long: use at most %d", len(name), MaxNameLen)
	case !validNameChars(name):
		return invalid("name", "%q may use only lower-case letters, digits, '.', '_' and '-'", name)
	case name == "." || name == "..":
		return invalid("name", "%q is reserved: pick another name", name)
	}
	return nil
}

// IsLoopbackHost reports whether host (without port) names the local machine:
// localhost, 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidateTokenURL checks a token endpoint URL: absolute, https (plain http
// only on loopback), with a host, and without user info or fragment.
func ValidateTokenURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return invalid("token_url", "a token URL is required, e.g. https://auth.example.com/oauth2/token")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("token_url", "cannot parse it: check for spaces or stray characters")
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalid("token_url", "it needs a scheme and a host, e.g. https://auth.example.com/oauth2/token")
	}
	if u.User != nil {
		return invalid("token_url", "remove the user name or password from the URL: the secret is entered separately")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return invalid("token_url", "remove the #fragment: a token endpoint has none")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return invalid("token_url", "use https: plain http is allowed only for localhost and 127.0.0.1")
		}
	default:
		return invalid("token_url", "scheme %q is not supported: use https", u.Scheme)
	}
	return nil
}

// NormalizeSecret trims one trailing newline (as left by echo or a file) and
// checks that the secret is non-empty and at most 1 KiB.
func NormalizeSecret(secret string) (string, error) {
	s := strings.TrimSuffix(secret, "\n")
	s = strings.TrimSuffix(s, "\r")
	switch {
	case s == "":
		return "", invalid("secret", "the client secret is empty: paste it from your provider's dashboard")
	case len(s) > MaxSecretLen:
		return "", invalid("secret", "%d bytes is too long for a client secret (at most %d): check what was pasted", len(s), MaxSecretLen)
	}
	return s, nil
}

// NormalizeScopes trims scopes, drops empty ones and duplicates (keeping the
// first occurrence's order) and rejects scopes containing whitespace.
func NormalizeScopes(scopes []string) ([]string, error) {
	var out []string
	for _, s := range scopes {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if strings.ContainsAny(s, " \t\r\n\"\\") {
			return nil, invalid("scopes", "%q contains a space or quote: give each scope separately", s)
		}
		out = append(out, s)
	}
	return out, nil
}

// Normalize validates c and returns it with scopes de-duplicated and the
// auth style defaulted. The error is a *ValidationError naming the field.
func (c Client) Normalize() (Client, error) {
	c = c.Clone()
	if err := ValidateName(c.Name); err != nil {
		return c, err
	}
	c.ClientID = strings.TrimSpace(c.ClientID)
	if c.ClientID == "" {
		return c, invalid("client_id", "a client id is required: copy it from your provider's dashboard")
	}
	if strings.ContainsAny(c.ClientID, "\r\n") {
		return c, invalid("client_id", "the client id contains a line break")
	}
	c.TokenURL = strings.TrimSpace(c.TokenURL)
	if err := ValidateTokenURL(c.TokenURL); err != nil {
		return c, err
	}
	scopes, err := NormalizeScopes(c.Scopes)
	if err != nil {
		return c, err
	}
	c.Scopes = scopes
	style, err := ParseAuthStyle(string(c.AuthStyle))
	if err != nil {
		return c, err
	}
	c.AuthStyle = style // canonical: "basic" is stored as "header"
	switch c.EnvironmentOverride {
	case "", EnvTest, EnvLive, EnvUnknown:
	default:
		return c, invalid("environment", "%q is not an environment: use test, live or unknown", c.EnvironmentOverride)
	}
	params, err := normalizeParams(c.EndpointParams)
	if err != nil {
		return c, err
	}
	c.EndpointParams = params
	return c, nil
}

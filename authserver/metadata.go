// Package authserver learns about an OAuth 2.0 authorization server before
// Tokentray trusts it with a secret: its metadata, found from an issuer URL
// (OpenID Connect Discovery and RFC 8414), and whether a URL really is its
// token endpoint (a probe without credentials must get an OAuth error back).
//
// Everything a server sends is treated as hostile: answers are size-capped,
// requests time out, plain http is refused except on loopback, and
// redirects to another host are not followed. No Fyne, no keyring.
package authserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/tokentray/tokentray/vault"
)

// Auth methods of RFC 8414's token_endpoint_auth_methods_supported that
// Tokentray can use.
const (
	MethodBasic = "client_secret_basic"
	MethodPost  = "client_secret_post"
)

// Limits on what a metadata document may hold.
const (
	// MaxMetadataBytes caps a metadata document (real ones are a few KiB).
	MaxMetadataBytes = 256 << 10
	maxMethods       = 32
	maxFieldLen      = 2048
)

// ErrMetadata means a metadata document is unusable: not a JSON object,
// without a token endpoint, or with fields of the wrong type.
var ErrMetadata = errors.New("authserver: unusable server metadata")

// Metadata is what Tokentray uses of an authorization server's metadata.
type Metadata struct {
	// Issuer is the issuer the document names.
	Issuer string
	// TokenEndpoint is the token endpoint URL: https, or http on loopback.
	TokenEndpoint string
	// AuthMethods is token_endpoint_auth_methods_supported; nil when the
	// document leaves it out (RFC 8414 then means client_secret_basic).
	AuthMethods []string
	// GrantTypes is grant_types_supported; nil when left out.
	GrantTypes []string
	// URL is the document's address.
	URL string
}

// rawMetadata holds the fields read, undecoded, so a wrong type gets a
// message naming the field.
type rawMetadata struct {
	Issuer        json.RawMessage `json:"issuer"`
	TokenEndpoint json.RawMessage `json:"token_endpoint"`
	AuthMethods   json.RawMessage `json:"token_endpoint_auth_methods_supported"`
	GrantTypes    json.RawMessage `json:"grant_types_supported"`
}

// ParseMetadata reads a metadata document. It requires a JSON object with a
// token_endpoint that vault.ValidateTokenURL accepts (https, or http on
// loopback), and string lists where lists are expected; other fields are
// ignored. Errors wrap ErrMetadata.
func ParseMetadata(data []byte) (Metadata, error) {
	var m Metadata
	if len(data) > MaxMetadataBytes {
		return m, fmt.Errorf("%w: %d bytes is more than a metadata document holds (at most %d)", ErrMetadata, len(data), MaxMetadataBytes)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return m, fmt.Errorf("%w: not a JSON object", ErrMetadata)
	}
	var raw rawMetadata
	if err := json.Unmarshal(data, &raw); err != nil {
		return m, fmt.Errorf("%w: not JSON: %v", ErrMetadata, err)
	}
	var err error
	if m.Issuer, err = optString("issuer", raw.Issuer); err != nil {
		return m, err
	}
	if m.TokenEndpoint, err = optString("token_endpoint", raw.TokenEndpoint); err != nil {
		return m, err
	}
	if m.TokenEndpoint == "" {
		return m, fmt.Errorf("%w: it names no token_endpoint", ErrMetadata)
	}
	if err := vault.ValidateTokenURL(m.TokenEndpoint); err != nil {
		return m, fmt.Errorf("%w: its token_endpoint %q is not usable: %v", ErrMetadata, clip(m.TokenEndpoint), err)
	}
	if m.AuthMethods, err = optStrings("token_endpoint_auth_methods_supported", raw.AuthMethods); err != nil {
		return m, err
	}
	if m.GrantTypes, err = optStrings("grant_types_supported", raw.GrantTypes); err != nil {
		return m, err
	}
	return m, nil
}

func optString(field string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: %s is not a string", ErrMetadata, field)
	}
	if len(s) > maxFieldLen {
		return "", fmt.Errorf("%w: %s is %d bytes long", ErrMetadata, field, len(s))
	}
	return s, nil
}

func optStrings(field string, raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%w: %s is not a list of strings", ErrMetadata, field)
	}
	if len(list) > maxMethods {
		return nil, fmt.Errorf("%w: %s has %d entries", ErrMetadata, field, len(list))
	}
	for _, s := range list {
		if len(s) > 128 {
			return nil, fmt.Errorf("%w: %s has an entry of %d bytes", ErrMetadata, field, len(s))
		}
	}
	if list == nil {
		list = []string{}
	}
	return list, nil
}

// AuthStyle picks how to send the client's credentials from the methods the
// server supports: only client_secret_basic gives the Basic header, only
// client_secret_post the form body, both auto-detect (the client's own
// registration decides, which the metadata cannot tell). A document without
// the list means client_secret_basic (RFC 8414 section 2). It fails when the
// server supports neither (e.g. only private_key_jwt).
func (m Metadata) AuthStyle() (vault.AuthStyle, error) {
	if m.AuthMethods == nil {
		return vault.AuthHeader, nil
	}
	basic, post := slices.Contains(m.AuthMethods, MethodBasic), slices.Contains(m.AuthMethods, MethodPost)
	switch {
	case basic && post:
		return vault.AuthAuto, nil
	case basic:
		return vault.AuthHeader, nil
	case post:
		return vault.AuthBody, nil
	}
	return "", fmt.Errorf("authserver: the server accepts client secrets neither in a Basic header nor in the body (it lists %s): Tokentray cannot authenticate to it",
		clip(strings.Join(m.AuthMethods, ", ")))
}

// SupportsClientCredentials reports whether the server lists the
// client_credentials grant, or lists no grants at all (unknown: RFC 8414's
// default is authorization_code and implicit, but many servers omit the
// list while supporting client credentials).
func (m Metadata) SupportsClientCredentials() bool {
	return m.GrantTypes == nil || slices.Contains(m.GrantTypes, "client_credentials")
}

// sameIssuer compares issuers as RFC 8414 section 3.3 asks (identical),
// forgiving only a trailing slash.
func sameIssuer(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// WellKnownURLs returns the metadata addresses to try for an issuer, in
// order: OpenID Connect Discovery (issuer + /.well-known/openid-configuration)
// and RFC 8414 (/.well-known/oauth-authorization-server inserted before the
// issuer's path). An address that already holds /.well-known/ is used as it
// is. The issuer must be https, or http on loopback.
func WellKnownURLs(issuer string) ([]string, error) {
	u, err := checkIssuer(issuer)
	if err != nil {
		return nil, err
	}
	if strings.Contains(u.Path, "/.well-known/") {
		return []string{u.String()}, nil
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	base := u.Scheme + "://" + u.Host
	return []string{
		base + path + "/.well-known/openid-configuration",
		base + "/.well-known/oauth-authorization-server" + path,
	}, nil
}

// checkIssuer parses an issuer URL: absolute, https or loopback http, no
// user info, query or fragment.
func checkIssuer(issuer string) (*url.URL, error) {
	issuer = strings.TrimSpace(issuer)
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("authserver: issuer %q: give the server's address, e.g. https://auth.example.com", clip(issuer))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("authserver: issuer %q: remove the user name, query or fragment", clip(u.Redacted()))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && vault.IsLoopbackHost(u.Hostname()):
	default:
		return nil, fmt.Errorf("authserver: issuer %q: use https (plain http only for localhost and 127.0.0.1)", clip(issuer))
	}
	return u, nil
}

// clip shortens a server-sent string for a message and drops control
// characters.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:120], "") + "…"
	}
	return s
}

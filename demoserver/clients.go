package demoserver

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// AuthMethod says how a client may authenticate at the token endpoint.
type AuthMethod string

// Auth methods. AuthBoth accepts either; the others accept only theirs, and a
// request that uses the other one is refused with invalid_client (as fosite
// does for a client's registered token_endpoint_auth_method).
const (
	AuthBoth  AuthMethod = "both"
	AuthBasic AuthMethod = "client_secret_basic" // HTTP Basic header
	AuthPost  AuthMethod = "client_secret_post"  // client_id and client_secret in the form body
)

// Client is one registered client of the demo server.
type Client struct {
	// Name is a short handle for the client ("chat-bot"); the server does not
	// use it, the demo store does.
	Name string
	// ID is the client id, e.g. "m2m-client-test-...".
	ID string
	// Secret is the client secret in clear; the server keeps only its hash.
	Secret string
	// Scopes are the scopes the client may request; a request for any other
	// scope is refused with invalid_scope. A request without scope is
	// granted all of them.
	Scopes []string
	// Auth is how the client may authenticate; "" means AuthBoth.
	Auth AuthMethod
	// SecretSetAt is when the secret was "set" at the provider. The server
	// ignores it; package demo stores it as the secret's date so that
	// rotation warnings show.
	SecretSetAt time.Time
}

// String describes the client without its secret.
func (c Client) String() string {
	return fmt.Sprintf("%s (%s, scopes %q, auth %s)", c.Name, c.ID, strings.Join(c.Scopes, " "), c.auth())
}

// GoString describes the client without its secret, for %#v.
func (c Client) GoString() string { return "demoserver.Client{" + c.String() + "}" }

func (c Client) auth() AuthMethod {
	if c.Auth == "" {
		return AuthBoth
	}
	return c.Auth
}

func (c Client) validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("demoserver: client %q has no id: set Client.ID", c.Name)
	case c.Secret == "":
		return fmt.Errorf("demoserver: client %q has no secret: set Client.Secret (NewSecret makes one)", c.ID)
	}
	switch c.auth() {
	case AuthBoth, AuthBasic, AuthPost:
	default:
		return fmt.Errorf("demoserver: client %q: auth method %q unknown: use %q, %q or %q", c.ID, c.Auth, AuthBoth, AuthBasic, AuthPost)
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return fmt.Errorf("demoserver: client %q: scope %q is not a valid scope token (RFC 6749 3.3)", c.ID, s)
		}
	}
	return nil
}

// NewSecret returns a new random client secret (32 random bytes,
// base64url-encoded, 43 characters).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Ages of the default clients' secrets: one due for rotation soon, one
// overdue (the platform asks for a rotation every 90 days), one fresh.
const (
	DueSoonAge = 80 * 24 * time.Hour
	OverdueAge = 95 * 24 * time.Hour
	FreshAge   = 10 * 24 * time.Hour
)

// DefaultClients returns three sample clients shaped like the platform's,
// with fresh random secrets:
//
//   - "chat-bot": chat:invoke models:read, either auth method, secret set
//     80 days ago (rotation due soon);
//   - "data-sync": datasets:read files:read, client_secret_post, secret set
//     95 days ago (rotation overdue);
//   - "org-admin": org:admin, client_secret_basic, secret set 10 days ago.
//
// Their ids are fixed, so a demo store can be refreshed across runs; only
// the secrets change.
func DefaultClients() []Client {
	now := time.Now().Truncate(time.Second)
	return []Client{
		{
			Name:        "chat-bot",
			ID:          "m2m-client-test-2b7e1c4a-chat-bot",
			Secret:      NewSecret(),
			Scopes:      []string{"chat:invoke", "models:read"},
			Auth:        AuthBoth,
			SecretSetAt: now.Add(-DueSoonAge),
		},
		{
			Name:        "data-sync",
			ID:          "m2m-client-test-5d09f3b8-data-sync",
			Secret:      NewSecret(),
			Scopes:      []string{"datasets:read", "files:read"},
			Auth:        AuthPost,
			SecretSetAt: now.Add(-OverdueAge),
		},
		{
			Name:        "org-admin",
			ID:          "m2m-client-test-9c4a6e21-org-admin",
			Secret:      NewSecret(),
			Scopes:      []string{"org:admin"},
			Auth:        AuthBasic,
			SecretSetAt: now.Add(-FreshAge),
		},
	}
}

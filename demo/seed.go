package demo

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/vault"
)

// Seed writes srv's registered clients into st, the demo's own store: each
// one pointed at srv.TokenURL(), with its current secret and its
// SecretSetAt. A client of the same name already in st (from an earlier run,
// with another port, secret and signing key) is removed first, with its
// cached tokens. Other clients in st are left alone. Call it after
// srv.Start.
func Seed(srv *demoserver.Server, st *vault.Store) error {
	tokenURL := srv.TokenURL()
	if tokenURL == "" {
		return errors.New("demo: seed before start: start the server first, the token URL is not known yet")
	}
	for _, c := range srv.Clients() {
		if _, err := st.Get(c.Name); err == nil {
			if err := st.Remove(c.Name); err != nil {
				return fmt.Errorf("demo: seed %q: %w", c.Name, err)
			}
		} else if !errors.Is(err, vault.ErrNoClient) {
			return fmt.Errorf("demo: seed %q: %w", c.Name, err)
		}
		if err := st.Add(StoreClient(c, tokenURL), c.Secret); err != nil {
			return fmt.Errorf("demo: seed %q: %w", c.Name, err)
		}
	}
	return nil
}

// StoreClient returns the demo server's client c as the store keeps it
// (without its secret), pointed at tokenURL (usually Server.TokenURL()). The
// auth style follows the client's auth method (AuthBoth becomes
// vault.AuthAuto).
func StoreClient(c demoserver.Client, tokenURL string) vault.Client {
	style := vault.AuthAuto
	switch c.Auth {
	case demoserver.AuthBasic:
		style = vault.AuthHeader
	case demoserver.AuthPost:
		style = vault.AuthBody
	}
	return vault.Client{
		Name:        c.Name,
		ClientID:    c.ID,
		TokenURL:    tokenURL,
		Scopes:      slices.Clone(c.Scopes),
		AuthStyle:   style,
		SecretSetAt: c.SecretSetAt,
		CreatedAt:   c.SecretSetAt,
		Notes:       "demo client of the embedded demo server",
	}
}

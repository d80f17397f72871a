package demoserver

import (
	"errors"
	"fmt"

	"github.com/tokentray/tokentray/vault"
)

// Seed writes the registered clients into st, the demo's own store: each
// one pointed at TokenURL(), with its current secret and its SecretSetAt. A
// client of the same name already in st (from an earlier run, with another
// port, secret and signing key) is removed first, with its cached tokens.
// Other clients in st are left alone. Call it after Start.
func (s *Server) Seed(st *vault.Store) error {
	tokenURL := s.TokenURL()
	if tokenURL == "" {
		return errors.New("demoserver: seed before start: call Start first, the token URL is not known yet")
	}
	for _, c := range s.Clients() {
		if _, err := st.Get(c.Name); err == nil {
			if err := st.Remove(c.Name); err != nil {
				return fmt.Errorf("demoserver: seed %q: %w", c.Name, err)
			}
		} else if !errors.Is(err, vault.ErrNoClient) {
			return fmt.Errorf("demoserver: seed %q: %w", c.Name, err)
		}
		if err := st.Add(c.VaultClient(tokenURL), c.Secret); err != nil {
			return fmt.Errorf("demoserver: seed %q: %w", c.Name, err)
		}
	}
	return nil
}

package vault

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ImportOptions says how Import treats clients that exist already.
type ImportOptions struct {
	// Replace overwrites the metadata of existing clients (their secrets
	// stay); without it an existing name fails the whole import.
	Replace bool
	// AllowIdentityChange lets Replace give an existing client another
	// token URL host or client id: its stored secret would then go to
	// another server, or belong to another client.
	AllowIdentityChange bool
}

// IdentityChangeError refuses an import that would move existing clients to
// another token URL host or client id without ImportOptions.AllowIdentityChange.
type IdentityChangeError struct {
	Changes []string // "billing: token URL host a.example.com -> b.example.com"
}

func (e *IdentityChangeError) Error() string {
	return "vault: import: nothing imported: " + strings.Join(e.Changes, "; ") +
		": the stored secrets would go to another server or client (allow it explicitly if that is meant)"
}

// Import adds clients (without secrets: set each with SetSecret) in one
// read-modify-write under the index lock: all of them or none. Existing
// names fail with ErrExists unless opts.Replace; a replaced client keeps its
// secret and bookkeeping, and its cached tokens are dropped when its token
// settings change. It returns the names added and replaced.
func (s *Store) Import(clients []Client, opts ImportOptions) (added, replaced []string, err error) {
	in := make([]Client, 0, len(clients))
	for _, c := range clients {
		n, err := c.Normalize()
		if err != nil {
			return nil, nil, fmt.Errorf("vault: import %q: %w", c.Name, err)
		}
		if slices.ContainsFunc(in, func(o Client) bool { return o.Name == n.Name }) {
			return nil, nil, fmt.Errorf("vault: import: %q appears twice", n.Name)
		}
		n.TokenScopeSets, n.SecretSwitch = nil, nil
		in = append(in, n)
	}
	var drop []Client
	err = s.modifyIndex(func(ix *index) error {
		added, replaced, drop = nil, nil, nil
		var clash, changes []string
		for _, c := range in {
			i := find(ix.Clients, c.Name)
			if i < 0 {
				continue
			}
			clash = append(clash, c.Name)
			old := ix.Clients[i]
			if oh, nh := host(old.TokenURL), host(c.TokenURL); oh != nh {
				changes = append(changes, fmt.Sprintf("%s: token URL host %s -> %s", c.Name, oh, nh))
			}
			if old.ClientID != c.ClientID {
				changes = append(changes, fmt.Sprintf("%s: client id %s -> %s", c.Name, old.ClientID, c.ClientID))
			}
		}
		switch {
		case len(clash) > 0 && !opts.Replace:
			return fmt.Errorf("vault: import: nothing imported: %s exist already: %w", strings.Join(clash, ", "), ErrExists)
		case len(changes) > 0 && !opts.AllowIdentityChange:
			return &IdentityChangeError{Changes: changes}
		}
		for _, c := range in {
			i := find(ix.Clients, c.Name)
			if i < 0 {
				if c.CreatedAt.IsZero() {
					c.CreatedAt = s.now().UTC()
				}
				c.SecretStoredAt = time.Time{} // no secret stored yet
				ix.Clients = append(ix.Clients, c)
				added = append(added, c.Name)
				continue
			}
			old := ix.Clients[i]
			c.RotationStartedAt, c.TokenScopeSets = old.RotationStartedAt, old.TokenScopeSets
			c.SecretSwitch, c.SecretStoredAt = old.SecretSwitch, old.SecretStoredAt
			if c.CreatedAt.IsZero() {
				c.CreatedAt = old.CreatedAt
			}
			if c.SecretSetAt.IsZero() {
				c.SecretSetAt = old.SecretSetAt
			}
			if TokenSettingsChanged(old, c) {
				drop = append(drop, old.Clone())
			}
			ix.Clients[i] = c
			replaced = append(replaced, c.Name)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, c := range drop {
		if derr := s.dropTokens(c); derr != nil {
			return added, replaced, derr
		}
	}
	return added, replaced, nil
}

func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Hostname())
}

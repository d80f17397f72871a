package demoserver

import (
	"context"
	"slices"

	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"
)

// fositeStore is the storage fosite works on: fosite's in-memory store for
// everything but clients, which come from the server's registry with the
// trouble in force applied (a rejected secret, dropped scopes).
type fositeStore struct {
	*storage.MemoryStore
	s *Server
}

var (
	_ fosite.Storage = (*fositeStore)(nil)
)

// GetClient returns the registered client id as fosite should see it now.
func (st *fositeStore) GetClient(_ context.Context, id string) (fosite.Client, error) {
	return st.s.fositeClient(id)
}

// CreateAccessTokenSession keeps nothing: access tokens are self-contained
// JWTs and the demo server offers no introspection or revocation, so storing
// every issued token would only grow memory for as long as the demo runs.
func (st *fositeStore) CreateAccessTokenSession(context.Context, string, fosite.Requester) error {
	return nil
}

// fositeClient builds the fosite client for id from the registry: the
// current secret hash (or one that matches nothing while the secret is
// rejected), the rotated hashes still accepted, and the scopes minus the
// dropped ones. A client with one auth method is an OpenID Connect client
// with token_endpoint_auth_method set, so fosite refuses the other method.
func (s *Server) fositeClient(id string) (fosite.Client, error) {
	s.mu.Lock()
	reg, ok := s.clients[id]
	t := s.effectiveLocked(id)
	s.mu.Unlock()
	if !ok {
		return nil, fosite.ErrNotFound
	}
	hash, rotated := reg.hash, reg.rotated
	if t.RejectSecret {
		hash, rotated = s.rejectHash, nil
	}
	scopes := slices.DeleteFunc(slices.Clone(reg.client.Scopes), func(sc string) bool {
		return slices.Contains(t.DropScopes, sc)
	})
	dc := &fosite.DefaultClient{
		ID:             id,
		Secret:         hash,
		RotatedSecrets: rotated,
		GrantTypes:     []string{"client_credentials"},
		ResponseTypes:  []string{"token"},
		Scopes:         scopes,
		Audience:       []string{s.audience},
	}
	if m := reg.client.auth(); m != AuthBoth {
		return &fosite.DefaultOpenIDConnectClient{DefaultClient: dc, TokenEndpointAuthMethod: string(m)}, nil
	}
	return dc, nil
}

// unsupportedGrant answers unsupported_grant_type (RFC 6749 5.2) for every
// grant type but client_credentials. fosite on its own answers
// invalid_request when no handler takes a grant type; this handler plugs
// into fosite's handler chain to give the precise code.
type unsupportedGrant struct{}

var _ fosite.TokenEndpointHandler = unsupportedGrant{}

func (unsupportedGrant) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return !r.GetGrantTypes().ExactOne("client_credentials")
}

func (unsupportedGrant) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (unsupportedGrant) HandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) error {
	return fosite.ErrUnsupportedGrantType.WithHintf("This server supports only grant_type 'client_credentials', not '%s'.", r.GetGrantTypes())
}

func (unsupportedGrant) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return fosite.ErrUnknownRequest
}

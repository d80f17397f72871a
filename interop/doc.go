// Package interop holds no code: its test runs one table of token-endpoint
// behaviours against three independent OAuth 2.0 servers (Ory Hydra,
// panva's oidc-provider and the embedded demo server) through Tokentray's
// own refresher, vault and authserver packages, and prints the table that
// docs/INTEROP.md keeps.
package interop

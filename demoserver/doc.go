// Package demoserver is a small OAuth 2.0 authorization server that runs
// inside the process on the loopback interface, for `tokentray demo` and for
// tests that need a fast, real token endpoint.
//
// It is built on github.com/ory/fosite (client authentication, scope checks
// and RFC 6749 error answers come from fosite, not from this package) and
// issues RS256 JWT access tokens shaped like the platform's: sub is the
// client id, scope one space-separated string, with iss, aud, iat, nbf, exp
// and jti, and a JWKS endpoint to verify them.
//
// Trouble can be switched on at run time, per client or for every client:
// a rejected secret (401 invalid_client), a dropped scope (invalid_scope), a
// rate limit (429 with Retry-After) and an outage (the listener closes, so
// connections are refused, and reopens on the same port). A person watching
// the demo sees how Tokentray explains each one and recovers.
//
// Typical use, as `tokentray demo` does it:
//
//	s, err := demoserver.New(demoserver.Options{TokenTTL: ttl}) // DefaultClients()
//	err = s.Start(ctx)              // 127.0.0.1, a free port
//	err = demo.Seed(s, demoStore)   // package demo: clients, secrets, SecretSetAt into the demo's store
//	menu := s.Actions()             // toggles for the demo's trouble menu
//	defer s.Close()
//
// The server is for demonstrations and tests only: it speaks plain HTTP on
// 127.0.0.1, keeps everything in memory and forgets it all on Close.
package demoserver

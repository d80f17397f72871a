// Package agent is the running app's local door: a per-user endpoint on
// which the window answers "show yourself" (one instance per store) and
// serves access tokens to the command line, as ssh-agent serves keys. It
// never hands out a client secret, only tokens, from the app's refresher.
//
// # Where it listens
//
// One endpoint per store directory (the key is a hash of its absolute
// path), so `tokentray --config DIR` finds the app that has DIR open and
// the demo does not answer for the real store.
//
//   - Linux and other unix: a unix socket $XDG_RUNTIME_DIR/tokentray/KEY.sock;
//     without XDG_RUNTIME_DIR, $TMPDIR/tokentray-UID/KEY.sock (on macOS
//     $TMPDIR is already per user). The directory is created 0700 and must
//     be a real directory owned by the user with no group or other
//     permissions; the socket is 0600. Both ends check the peer's uid
//     (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS) and drop anyone else.
//   - Windows: a TCP listener on 127.0.0.1 with a random port, and a file
//     %LocalAppData%\tokentray\KEY.port (in the user's profile, which only
//     the user can read) holding the port and a 32-byte random secret; a
//     client's first line must be that secret, compared in constant time.
//
// Whoever holds the file lock KEY.lock beside the endpoint is the running
// app. The kernel releases the lock when a process dies, so a socket left
// by a killed app is stale exactly when the lock is free: Listen then
// removes it (after checking nothing answers on it) and listens afresh.
//
// # Protocol (version 1)
//
// One request per connection, one line each way, at most 4 KiB for a
// request and 64 KiB for an answer. A request is "TT1 VERB[ QUERY]\n", an
// answer "TT1 ok[ QUERY]\n" or "TT1 err QUERY\n", where QUERY is URL-query
// encoded (application/x-www-form-urlencoded, as net/url encodes it).
//
//	TT1 show\n                                   -> TT1 ok\n
//	TT1 token name=NAME[&min-ttl=10m][&scope=a,b]\n
//	  -> TT1 ok token=T&type=Bearer&exp=UNIX[&granted=a,b][&missing=b][&stale=MSG][&skew=DUR]\n
//	  -> TT1 err class=CLASS&msg=MSG\n
//
// scope absent asks for the client's configured scopes; "scope=" (empty)
// for none; otherwise a comma-separated subset. CLASS is a refresher.Class
// (rejected, scope, rate-limited, transient, keyring, config) or one of
// unknown-client, bad-request, unsupported and version, for which the
// command line falls back to reading the keyring itself. A server closes a
// connection that sends nothing within a few seconds or more than the
// request limit.
package agent

// Package vault is Tokentray's credential store.
//
// Non-secret metadata about each machine-to-machine client (its name, client
// id, token URL, scopes, auth style, when its secret was set) lives in one
// small index file, clients.json, in the configuration directory. Client
// secrets, secrets staged for rotation and cached access tokens live only in
// the OS keyring, one item each, under the keys "<name>/secret",
// "<name>/next-secret" and "<name>/token" (plus "<name>/token@<hash>" for a
// token requested with a subset of the client's scopes). On Linux cached
// tokens go to the Secret Service's memory-only session collection where
// there is one (keyring_fast_linux.go): a cache needs no disk, and every
// write to the login collection rewrites its whole file.
//
// The index is written atomically (temporary file, fsync, rename) and every
// read-modify-write runs under an inter-process file lock, so a window and a
// command line working on the same directory never lose each other's writes.
// The index never holds a secret or a token.
//
// Package vault does no networking and knows nothing of Fyne.
package vault

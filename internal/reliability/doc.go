// Package reliability holds the tests that drive the built tokentray binary
// the way a cron job, a clumsy user and a crash would: no session bus, a
// stopped or locked keyring, and kill -9 at random instants of every
// mutating command. scripts/reliability.sh runs them inside a private
// D-Bus session with an unlocked gnome-keyring; see docs/RELIABILITY.md.
package reliability

package vault

// SetBeforeReplace installs a hook that runs after the new index is written
// to its temporary file and before it replaces the old one, so tests in
// package vault_test can make the replace fail.
func SetBeforeReplace(s *Store, f func() error) { s.beforeReplace = f }

// FastGet exposes the Secret Service fast read path for the integration
// tests.
var FastGet = fastGet

// FastSet exposes the Secret Service fast write path for the integration
// tests.
var FastSet = fastSet

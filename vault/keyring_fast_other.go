//go:build !linux

package vault

// fastGet has no fast path outside Linux: go-keyring is used as it is.
func fastGet(service, key string) (string, bool, error) { return "", false, nil }

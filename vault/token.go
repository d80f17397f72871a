package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Token is a cached access token as kept in the keyring (JSON).
type Token struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Expiry      time.Time `json:"expiry"`
	// Scopes are the scopes the server granted (from the response or the
	// JWT), which may differ from those requested.
	Scopes []string `json:"scopes,omitempty"`
	// ScopesAssumed is set when the server said nothing of the scopes (no
	// scope field, not a JWT with a scope claim): Scopes are then the
	// requested ones, as RFC 6749 allows, and shown as "granted (assumed)".
	ScopesAssumed bool      `json:"scopes_assumed,omitempty"`
	FetchedAt     time.Time `json:"fetched_at"`
}

// Valid reports whether t holds a token that has not expired at now.
func (t Token) Valid(now time.Time) bool {
	return t.AccessToken != "" && (t.Expiry.IsZero() || now.Before(t.Expiry))
}

// Lifetime is the time from fetch to expiry; zero when either is unknown.
func (t Token) Lifetime() time.Duration {
	if t.Expiry.IsZero() || t.FetchedAt.IsZero() {
		return 0
	}
	return t.Expiry.Sub(t.FetchedAt)
}

// Fingerprint is a short, non-reversible name for the token (the first 8 hex
// digits of its SHA-256) that may appear in logs and messages.
func (t Token) Fingerprint() string { return Fingerprint(t.AccessToken) }

// String describes the token without revealing it, so a token printed by
// mistake with %v does not leak.
func (t Token) String() string {
	return fmt.Sprintf("token %s (%s, expires %s)", t.Fingerprint(), t.TokenType, t.Expiry.Format(time.RFC3339))
}

// GoString keeps %#v from printing the token too.
func (t Token) GoString() string { return t.String() }

// Fingerprint returns the first 8 hex digits of the SHA-256 of s, or "-" for
// an empty s.
func Fingerprint(s string) string {
	if s == "" {
		return "-"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

func encodeToken(t Token) (string, error) {
	b, err := json.Marshal(t)
	return string(b), err
}

func decodeToken(s string) (Token, error) {
	var t Token
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return Token{}, fmt.Errorf("cached token is not valid JSON: %w", err)
	}
	return t, nil
}

// ScopeSetKey names a scope set for the token cache: "" for nil (the
// client's default scopes), else the first 8 hex digits of the SHA-256 of the
// sorted, space-joined scopes.
func ScopeSetKey(scopes []string) string {
	if scopes == nil {
		return ""
	}
	s := slices.Clone(scopes)
	slices.Sort(s)
	s = slices.Compact(s)
	return Fingerprint(strings.Join(s, " "))
}

// SameScopes reports whether a and b hold the same scopes, in any order.
func SameScopes(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// MissingScopes returns the scopes in requested that granted lacks.
func MissingScopes(requested, granted []string) []string {
	var missing []string
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

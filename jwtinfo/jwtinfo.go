// Package jwtinfo decodes a JWT access token's header and claims for display
// and for reading granted scopes. It does not verify signatures: Tokentray
// only shows what a token says about itself; the resource server verifies.
package jwtinfo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxLen bounds the token length Parse accepts (64 KiB).
const MaxLen = 64 << 10

// ErrNotJWT means the token is not a JWS compact serialisation
// (header.payload.signature) with JSON header and claims. Opaque tokens are
// fine: they simply have no claims to show.
var ErrNotJWT = errors.New("jwtinfo: not a JWT")

// Info is a decoded JWT.
type Info struct {
	Header map[string]any
	Claims map[string]any
}

// Parse decodes raw without verifying it.
func Parse(raw string) (*Info, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxLen {
		return nil, fmt.Errorf("%w: %d bytes is longer than %d", ErrNotJWT, len(raw), MaxLen)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: want 3 dot-separated parts, got %d", ErrNotJWT, len(parts))
	}
	var info Info
	if err := decodePart(parts[0], &info.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrNotJWT, err)
	}
	if err := decodePart(parts[1], &info.Claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrNotJWT, err)
	}
	if info.Header == nil || info.Claims == nil {
		return nil, fmt.Errorf("%w: header and claims must be JSON objects", ErrNotJWT)
	}
	return &info, nil
}

func decodePart(s string, v *map[string]any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// String returns a string claim, or "".
func (i *Info) String(name string) string {
	s, _ := i.Claims[name].(string)
	return s
}

// Time returns a NumericDate claim (exp, iat, nbf) as a time, or the zero
// time when absent or not a number.
func (i *Info) Time(name string) time.Time {
	n, ok := i.Claims[name].(json.Number)
	if !ok {
		return time.Time{}
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}

// Audience returns the aud claim, which may be a string or a list.
func (i *Info) Audience() []string { return stringList(i.Claims["aud"], false) }

// Scopes returns the granted scopes: the `scope` claim (one space-separated
// string, as on the platform) or else `scp` (a list, or a string). ok is
// false when the token carries neither.
func (i *Info) Scopes() (scopes []string, ok bool) {
	if v, has := i.Claims["scope"]; has {
		return stringList(v, true), true
	}
	if v, has := i.Claims["scp"]; has {
		return stringList(v, true), true
	}
	return nil, false
}

func stringList(v any, splitSpaces bool) []string {
	switch x := v.(type) {
	case string:
		if splitSpaces {
			return strings.Fields(x)
		}
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

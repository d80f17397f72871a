package refresher

import "github.com/tokentray/tokentray/jwtinfo"

// grantedScopes says which scopes a token response granted: its scope field
// when present; else the token's own scope or scp claim when it is a JWT
// (oidc-provider, for one, omits the field and may grant less than asked);
// else, as RFC 6749 section 5.1 allows, the requested scopes, with assumed
// set, so that what is shown says "granted (assumed)" rather than claim a
// grant nobody confirmed. scope is the response's scope field (nil when
// absent); info is nil for an opaque token.
func grantedScopes(scope any, info *jwtinfo.Info, requested []string) (granted []string, assumed bool) {
	if s, ok := scopesOf(scope); ok {
		return s, false
	}
	if info != nil {
		if s, ok := info.Scopes(); ok {
			return s, false
		}
	}
	return append([]string(nil), requested...), true
}

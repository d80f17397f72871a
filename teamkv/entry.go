package teamkv

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/tokentray/tokentray/vault"
)

// IndexEntry is the name of the entry, under the prefix, that lists every
// client entry's current version. It is no client.
const IndexEntry = "_index"

// KV keys of a client entry.
const (
	KeyClientID     = "client_id"
	KeyClientSecret = "client_secret"
	KeyTokenURL     = "token_url"
	KeyScopes       = "scopes"
	KeyAuthStyle    = "auth_style"
	KeyAudience     = "audience"
	KeyParams       = "endpoint_params"
	KeyEnvironment  = "environment"
	KeyNotes        = "notes"
)

// ClientName is the local name of a team's entry: "<team>.<entry>".
func ClientName(team, entry string) string { return team + "." + entry }

// ParseEntry turns a KV entry's data into a client and its secret. It never
// fails: a field that is missing or wrong makes the client's Problem say
// what to fix in Vault, and the client is still returned (listed as broken,
// not hidden). The secret is never part of Problem.
func ParseEntry(team, entry string, data map[string]any) (vault.Client, string) {
	c := vault.Client{Name: ClientName(team, entry), Source: team}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	str := func(key string) string {
		v, ok := data[key]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			bad("%s is a %T, not a string", key, v)
			return ""
		}
		return s
	}
	if err := vault.ValidateName(c.Name); err != nil {
		bad("the entry name %q cannot be a client name (%s): rename it in Vault to a-z, 0-9, '.', '_' and '-'", entry, problemOf(err))
	}
	c.ClientID = strings.TrimSpace(str(KeyClientID))
	secret := str(KeyClientSecret)
	c.TokenURL = strings.TrimSpace(str(KeyTokenURL))
	c.Notes = str(KeyNotes)
	c.AuthStyle = vault.AuthStyle(str(KeyAuthStyle))
	c.EnvironmentOverride = vault.Environment(strings.ToLower(str(KeyEnvironment)))
	switch v := data[KeyScopes].(type) {
	case nil:
	case string:
		c.Scopes = strings.Fields(v)
	case []any:
		for _, item := range v {
			if s, ok := item.(string); ok {
				c.Scopes = append(c.Scopes, s)
			} else {
				bad("scopes holds a %T: give strings", item)
			}
		}
	default:
		bad("scopes is a %T: give a space-separated string or a list", v)
	}
	params := url.Values{}
	if a := str(KeyAudience); a != "" {
		params.Set("audience", a)
	}
	if p, ok := data[KeyParams]; ok && p != nil {
		m, ok := p.(map[string]any)
		if !ok {
			bad("endpoint_params is a %T: give an object of strings", p)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := m[k].(string); ok {
				params.Set(k, s)
			} else {
				bad("endpoint_params.%s is a %T: give a string", k, m[k])
			}
		}
	}
	if len(params) > 0 {
		c.EndpointParams = params
	}
	if c.ClientID == "" {
		bad("client_id is missing")
	}
	if secret == "" {
		bad("client_secret is missing")
	} else if s, err := vault.NormalizeSecret(secret); err != nil {
		bad("client_secret: %s", problemOf(err))
	} else {
		secret = s
	}
	if c.TokenURL == "" {
		bad("token_url is missing")
	}
	if len(problems) == 0 {
		n, err := c.Normalize()
		if err != nil {
			bad("%s", problemOf(err))
		} else {
			c = n
		}
	}
	if len(problems) > 0 {
		c.Problem = strings.Join(problems, "; ")
		return c, ""
	}
	return c, secret
}

// problemOf returns a validation error's field and problem, or the error.
func problemOf(err error) string {
	return strings.TrimPrefix(err.Error(), "vault: ")
}

// EntryData is the KV data for a client and its secret (what a rotation
// writes, keeping the entry's other keys).
func EntryData(old map[string]any, secret string) map[string]any {
	out := make(map[string]any, len(old)+1)
	for k, v := range old {
		out[k] = v
	}
	out[KeyClientSecret] = secret
	return out
}

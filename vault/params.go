package vault

import (
	"net/url"
	"slices"
	"sort"
	"strings"
)

// Limits on extra endpoint parameters (Client.EndpointParams), which are
// sent with every token request: RFC 8707 resource, Auth0's audience, and
// whatever else a server asks for.
const (
	MaxParams        = 16   // distinct keys
	MaxParamValues   = 16   // values of one key (resource may repeat)
	MaxParamKeyLen   = 64   // bytes
	MaxParamValueLen = 2048 // bytes
)

// ReservedParams are the token request parameters Tokentray sets itself;
// none of them can be an extra endpoint parameter.
var ReservedParams = []string{"grant_type", "client_id", "client_secret", "scope"}

// ParseParam splits a KEY=VALUE argument (as given to --param or typed in
// the form, one per line) into its key and value. The key is trimmed and
// checked; the value is kept as it is, and may be empty (which, for edit,
// means "remove KEY").
func ParseParam(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", invalid("endpoint_params", "%q is not KEY=VALUE, e.g. resource=https://api.example.com", truncate(s, 40))
	}
	k = strings.TrimSpace(k)
	if err := validateParamKey(k); err != nil {
		return "", "", err
	}
	if err := validateParamValue(k, v); err != nil {
		return "", "", err
	}
	return k, v, nil
}

// ParseParamLines reads endpoint parameters written one KEY=VALUE per line
// (the form's text area). Blank lines are skipped; a key given on several
// lines gets several values, in order. An empty result is nil.
func ParseParamLines(text string) (url.Values, error) {
	var p url.Values
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, err := ParseParam(line)
		if err != nil {
			return nil, err
		}
		if v == "" {
			return nil, invalid("endpoint_params", "%s has no value: write %s=VALUE or delete the line", k, k)
		}
		if p == nil {
			p = url.Values{}
		}
		p.Add(k, v)
	}
	return p, nil
}

// FormatParams returns p as lines of KEY=VALUE, keys sorted, values in
// order: the inverse of ParseParamLines, and what the details pane shows.
func FormatParams(p url.Values) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		for _, v := range p[k] {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// SameParams reports whether a and b send the same extra endpoint
// parameters (keys, and the values of each key in order). A token issued
// for one set of parameters (another resource or audience) is not a token
// for the other: a change drops the cached tokens.
func SameParams(a, b Client) bool {
	if len(a.EndpointParams) != len(b.EndpointParams) {
		return false
	}
	for k, v := range a.EndpointParams {
		w, ok := b.EndpointParams[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// normalizeParams checks extra endpoint parameters: no reserved key, keys
// and values without control characters, within the limits. Keys without
// values are dropped; an empty result is nil.
func normalizeParams(p url.Values) (url.Values, error) {
	if len(p) > MaxParams {
		return nil, invalid("endpoint_params", "%d parameters is too many: at most %d", len(p), MaxParams)
	}
	var out url.Values
	for k, vs := range p {
		if err := validateParamKey(k); err != nil {
			return nil, err
		}
		if len(vs) > MaxParamValues {
			return nil, invalid("endpoint_params", "%s has %d values: at most %d", k, len(vs), MaxParamValues)
		}
		for _, v := range vs {
			if err := validateParamValue(k, v); err != nil {
				return nil, err
			}
		}
		if len(vs) == 0 {
			continue
		}
		if out == nil {
			out = url.Values{}
		}
		out[k] = slices.Clone(vs)
	}
	return out, nil
}

func validateParamKey(k string) error {
	switch {
	case k == "":
		return invalid("endpoint_params", "a parameter needs a name: KEY=VALUE, e.g. resource=https://api.example.com")
	case len(k) > MaxParamKeyLen:
		return invalid("endpoint_params", "a parameter name of %d bytes is too long: at most %d", len(k), MaxParamKeyLen)
	case slices.Contains(ReservedParams, k):
		return invalid("endpoint_params", "%q is set by Tokentray itself and cannot be an extra parameter", k)
	}
	for _, r := range k {
		if r <= ' ' || r == 0x7f || r == '=' || r == '&' || r == '"' || r == '\\' {
			return invalid("endpoint_params", "the parameter name %q may not contain spaces, quotes, '=', '&' or control characters", truncate(k, 40))
		}
	}
	return nil
}

func validateParamValue(k, v string) error {
	if len(v) > MaxParamValueLen {
		return invalid("endpoint_params", "the value of %s is %d bytes: at most %d", k, len(v), MaxParamValueLen)
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return invalid("endpoint_params", "the value of %s contains a line break or control character", k)
		}
	}
	return nil
}

// truncate shortens s for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

package vault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Fields a newer Tokentray writes into clients.json (at the top level or in
// a client) survive a write by this one: decoding keeps every key that no
// field of index or Client claims, and encoding writes them back as they
// were. Without this, running an older binary once would silently drop a
// newer version's data.

// clientFields and indexFields are Client and index without their JSON
// methods, for the default encoding of the known fields.
type (
	clientFields Client
	indexFields  index
)

var (
	knownClientKeys = jsonKeys(reflect.TypeFor[clientFields]())
	knownIndexKeys  = jsonKeys(reflect.TypeFor[indexFields]())
)

// jsonKeys returns the JSON keys of a struct type's exported fields.
func jsonKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		keys = append(keys, name)
	}
	return keys
}

// unknownKeys returns the members of the JSON object b whose keys none of
// known claims. Keys are matched as encoding/json matches them to fields:
// without regard to case.
func unknownKeys(b []byte, known []string) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k := range all {
		if slices.ContainsFunc(known, func(n string) bool { return strings.EqualFold(n, k) }) {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}

// withUnknown appends the members of extra, in key order, to the JSON object
// b. Keys that a known field claims are left out, so a caller cannot make a
// field appear twice.
func withUnknown(b []byte, extra map[string]json.RawMessage, known []string) ([]byte, error) {
	if len(extra) == 0 {
		return b, nil
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("vault: encode: not a JSON object")
	}
	out := slices.Clone(b[:len(b)-1])
	first := bytes.Equal(bytes.TrimSpace(out), []byte("{"))
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if slices.ContainsFunc(known, func(n string) bool { return strings.EqualFold(n, k) }) {
			continue
		}
		v := extra[k]
		if !json.Valid(v) {
			return nil, fmt.Errorf("vault: encode: unknown field %q holds invalid JSON", k)
		}
		key, _ := json.Marshal(k)
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, key...)
		out = append(out, ':')
		out = append(out, v...)
	}
	return append(out, '}'), nil
}

// UnmarshalJSON decodes a client, keeping the fields it does not know in
// Unknown.
func (c *Client) UnmarshalJSON(b []byte) error {
	var f clientFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	extra, err := unknownKeys(b, knownClientKeys)
	if err != nil {
		return err
	}
	*c = Client(f)
	c.Unknown = extra
	return nil
}

// MarshalJSON encodes a client with the fields of Unknown after its own.
func (c Client) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(clientFields(c))
	if err != nil {
		return nil, err
	}
	return withUnknown(b, c.Unknown, knownClientKeys)
}

// UnmarshalJSON decodes an index, keeping the fields it does not know.
func (ix *index) UnmarshalJSON(b []byte) error {
	var f indexFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	extra, err := unknownKeys(b, knownIndexKeys)
	if err != nil {
		return err
	}
	*ix = index(f)
	ix.Unknown = extra
	return nil
}

// MarshalJSON encodes an index with the fields of Unknown after its own.
func (ix index) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(indexFields(ix))
	if err != nil {
		return nil, err
	}
	return withUnknown(b, ix.Unknown, knownIndexKeys)
}

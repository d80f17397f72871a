// Package teamkv reads a team's machine-to-machine clients from a HashiCorp
// Vault KV v2 mount, so a team keeps one copy of each client in the engine
// it already runs (replicated, audited), and every member's Tokentray works
// from it. It is not package vault, which is Tokentray's local store (index
// file and OS keyring); a *Team here is a vault.Source of that store.
//
// # Layout in Vault
//
// Each KV v2 entry under <mount>/<prefix> is one client: the keys
// client_id, client_secret, token_url, scopes, auth_style, audience (or
// endpoint_params), environment and notes. The current version's
// created_time is when its secret was set, so the 90-day rotation status is
// the same on every laptop. Beside them, the entry <prefix>_index holds
// {"versions": {"<entry>": <current version>, ...}}: Tokentray bumps it
// after every rotation it writes, so a member's sweep reads one small entry
// per interval and then only the entries whose version moved, instead of
// the metadata of every entry (see docs/PERFORMANCE.md, "Teams").
//
// # Names
//
// A team client is called "<team>.<entry>" locally ("acme.billing-api"):
// team names hold no dot, and the local store refuses a local client whose
// name starts with a team's "<team>.", so names are unique across sources.
//
// # What is kept where
//
// teams.json (beside clients.json, mode 0600) holds each team's address,
// mount, prefix, namespace and CA file; teams/<team>.json (0600) caches the
// entries' non-secret fields, versions and created times. The keyring holds
// the Vault token ("team/<team>/vault-token") and each entry's secret with
// its KV version ("team/<team>/<entry>/secret"), so tokens keep coming when
// Vault cannot be reached. No Vault token or client secret is ever written
// to a file, a log or a command line.
package teamkv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// ConfigFile is the team configuration file, beside the index.
const ConfigFile = "teams.json"

// cacheDir holds one cache file per team.
const cacheDir = "teams"

// configSchema is the version of teams.json this build writes.
const configSchema = 1

// DefaultSweepInterval is how often a member's sweep looks for rotations.
const DefaultSweepInterval = time.Minute

// Config is one team source as teams.json keeps it. It holds no secret.
type Config struct {
	// Name is the team's local name: 1 to 32 of [a-z0-9-], no dot.
	Name string `json:"name"`
	// Addr is Vault's address: https, or plain http on loopback only.
	Addr string `json:"addr"`
	// Mount is the KV v2 mount ("secret"); Prefix the folder under it that
	// holds the clients, ending in "/" ("tokentray/") or empty.
	Mount  string `json:"mount"`
	Prefix string `json:"prefix"`
	// Namespace is the Vault Enterprise namespace, if any.
	Namespace string `json:"namespace,omitempty"`
	// CAFile is a PEM file of the CA that signs Vault's certificate, for a
	// private CA (verification is always on).
	CAFile string `json:"ca_file,omitempty"`
	// SweepInterval is how often the sweep runs (default 1 minute).
	SweepInterval Duration `json:"sweep_interval,omitzero"`
}

// Duration is a time.Duration written as "1m0s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Interval returns the sweep interval with its default applied.
func (c Config) Interval() time.Duration {
	if c.SweepInterval <= 0 {
		return DefaultSweepInterval
	}
	return time.Duration(c.SweepInterval)
}

// ValidateTeamName checks a team name: 1 to 32 of [a-z0-9-].
func ValidateTeamName(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("teamkv: team name %q: use 1 to 32 characters of a-z, 0-9 and '-'", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("teamkv: team name %q: use only a-z, 0-9 and '-' (no dot: it separates team and entry)", name)
		}
	}
	return nil
}

// ValidateAddr checks Vault's address: https, or plain http only on
// loopback (a local Vault agent, tests), with a host and no path, user
// info, query or fragment.
func ValidateAddr(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("teamkv: address %q: give a URL like https://vault.example.com:8200", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return fmt.Errorf("teamkv: address %q: give only scheme, host and port, like https://vault.example.com:8200", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !vault.IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("teamkv: address %q: use https: plain http is allowed only for localhost and 127.0.0.1", raw)
		}
	default:
		return fmt.Errorf("teamkv: address %q: scheme %q is not supported: use https", raw, u.Scheme)
	}
	return nil
}

// validPathPart reports whether s is a safe KV path segment list: no "..",
// no empty segment, printable without spaces or URL specials.
func validPathPart(s string) bool {
	if s == "" {
		return true
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, r := range seg {
			if r <= ' ' || r == 0x7f || strings.ContainsRune("?#%\\\"", r) {
				return false
			}
		}
	}
	return true
}

// Normalize validates c and returns it with the address's trailing slash
// removed and the prefix ending in "/" (unless empty).
func (c Config) Normalize() (Config, error) {
	if err := ValidateTeamName(c.Name); err != nil {
		return c, err
	}
	c.Addr = strings.TrimRight(strings.TrimSpace(c.Addr), "/")
	if err := ValidateAddr(c.Addr); err != nil {
		return c, err
	}
	c.Mount = strings.Trim(strings.TrimSpace(c.Mount), "/")
	if c.Mount == "" || !validPathPart(c.Mount) {
		return c, fmt.Errorf("teamkv: mount %q: give the KV v2 mount's path, like secret", c.Mount)
	}
	c.Prefix = strings.Trim(strings.TrimSpace(c.Prefix), "/")
	if !validPathPart(c.Prefix) {
		return c, fmt.Errorf("teamkv: prefix %q: give a folder like tokentray/ (no spaces, '..' or empty parts)", c.Prefix)
	}
	if c.Prefix != "" {
		c.Prefix += "/"
	}
	c.Namespace = strings.Trim(strings.TrimSpace(c.Namespace), "/")
	if !validPathPart(c.Namespace) {
		return c, fmt.Errorf("teamkv: namespace %q is not a valid namespace path", c.Namespace)
	}
	if c.SweepInterval < 0 || (c.SweepInterval > 0 && time.Duration(c.SweepInterval) < 10*time.Second) {
		return c, fmt.Errorf("teamkv: sweep interval %v: use at least 10s", time.Duration(c.SweepInterval))
	}
	return c, nil
}

// configFile is the on-disk form of teams.json.
type configFile struct {
	Schema int      `json:"schema"`
	Teams  []Config `json:"teams"`
}

// DecodeConfig decodes teams.json. An empty file holds no teams.
func DecodeConfig(data []byte) ([]Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var f configFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("teamkv: %s is corrupt: %v", ConfigFile, err)
	}
	if f.Schema != configSchema {
		return nil, fmt.Errorf("teamkv: %s has schema %d; this build reads %d", ConfigFile, f.Schema, configSchema)
	}
	seen := map[string]bool{}
	out := make([]Config, 0, len(f.Teams))
	for _, c := range f.Teams {
		n, err := c.Normalize()
		if err != nil {
			return nil, fmt.Errorf("teamkv: %s: %w", ConfigFile, err)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("teamkv: %s: team %q appears twice", ConfigFile, n.Name)
		}
		seen[n.Name] = true
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Config) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// LoadConfig reads dir/teams.json; a missing file holds no teams.
func LoadConfig(dir string) ([]Config, error) {
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("teamkv: %w", err)
	}
	return DecodeConfig(data)
}

// SaveConfig writes dir/teams.json atomically, mode 0600.
func SaveConfig(dir string, teams []Config) error {
	ts := slices.Clone(teams)
	slices.SortFunc(ts, func(a, b Config) int { return strings.Compare(a.Name, b.Name) })
	if ts == nil {
		ts = []Config{}
	}
	b, err := json.MarshalIndent(configFile{Schema: configSchema, Teams: ts}, "", "  ")
	if err != nil {
		return fmt.Errorf("teamkv: encode %s: %w", ConfigFile, err)
	}
	return writeFile(filepath.Join(dir, ConfigFile), append(b, '\n'))
}

// writeFile replaces path atomically (temporary file, fsync, rename) with
// mode 0600.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("teamkv: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("teamkv: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("teamkv: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("teamkv: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("teamkv: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("teamkv: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("teamkv: write %s: %w", path, err)
	}
	return nil
}

package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/textsafe"
	"github.com/tokentray/tokentray/vault"
)

// The file formats of export and import: client metadata only, never a
// secret or a token.
//
// JSON is the index file's own format ({"schema": 1, "clients": [...]}),
// without the store's bookkeeping. CSV has a header row; import reads the
// columns it knows by name and ignores the others (export adds the rotation
// columns for a spreadsheet): see rotation.WriteCSV, which writes it, and
// textsafe.UnCell, which undoes its formula quoting.

// maxImportSize bounds an import file.
const maxImportSize = 4 << 20

// exportable strips the store's bookkeeping from a client.
func exportable(c vault.Client) vault.Client {
	c = c.Clone()
	c.TokenScopeSets = nil
	c.RotationStartedAt = time.Time{}
	return c
}

func encodeJSON(clients []vault.Client) ([]byte, error) {
	out := make([]vault.Client, 0, len(clients))
	for _, c := range clients {
		out = append(out, exportable(c))
	}
	return vault.EncodeIndex(out)
}

// encodeCSV writes clients as export's CSV: rotation.WriteCSV, the one CSV
// writer of the command line and the window.
func encodeCSV(w io.Writer, clients []vault.Client, status func(vault.Client) vault.RotationStatus) error {
	reports := make([]rotation.Report, 0, len(clients))
	for _, c := range clients {
		reports = append(reports, rotation.NewReport(c, status(c), time.Time{}))
	}
	return rotation.WriteCSV(w, reports)
}

// decodeImport reads clients from an export file, JSON or CSV (told apart
// by the first non-space byte: '{' is JSON). The clients are validated and
// their names unique.
func decodeImport(data []byte) ([]vault.Client, error) {
	if len(data) > maxImportSize {
		return nil, fmt.Errorf("the file is larger than %d bytes: is it a tokentray export?", maxImportSize)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("the file is empty")
	}
	if trimmed[0] == '{' {
		clients, err := vault.DecodeIndex(trimmed)
		if err != nil {
			return nil, fmt.Errorf("not a valid JSON export: %w", err)
		}
		return clients, nil
	}
	return decodeCSV(trimmed)
}

func decodeCSV(data []byte) ([]vault.Client, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("not a CSV export: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("CSV: column %q appears twice", h)
		}
		col[h] = i
	}
	for _, need := range []string{"name", "client_id", "token_url"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("CSV: no %q column: the header row needs at least name, client_id, token_url", need)
		}
	}
	var clients []vault.Client
	seen := map[string]bool{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(textsafe.UnCell(rec[i]))
			}
			return ""
		}
		c := vault.Client{
			Name:                get("name"),
			ClientID:            get("client_id"),
			TokenURL:            get("token_url"),
			Scopes:              strings.Fields(get("scopes")),
			EnvironmentOverride: vault.Environment(strings.ToLower(get("environment"))),
			Notes:               get("notes"),
		}
		if c.EnvironmentOverride == vault.InferEnvironment(c.ClientID) {
			c.EnvironmentOverride = "" // export writes the effective environment
		}
		style, err := vault.ParseAuthStyle(get("auth_style"))
		if err != nil {
			return nil, fmt.Errorf("CSV line %d (%q): %w", line, c.Name, err)
		}
		c.AuthStyle = style
		if p := get("params"); p != "" {
			params, err := url.ParseQuery(p)
			if err != nil {
				return nil, fmt.Errorf("CSV line %d (%q): params: write them as key=value&key=value (URL-encoded): %w", line, c.Name, err)
			}
			c.EndpointParams = params
		}
		if aud := get("audience"); aud != "" && c.EndpointParams.Get("audience") == "" {
			if c.EndpointParams == nil {
				c.EndpointParams = url.Values{}
			}
			c.EndpointParams.Set("audience", aud)
		}
		if s := get("secret_set_at"); s != "" {
			t, err := parseDate(s)
			if err != nil {
				return nil, fmt.Errorf("CSV line %d: secret_set_at: %w", line, err)
			}
			c.SecretSetAt = t.UTC()
		}
		n, err := c.Normalize()
		if err != nil {
			return nil, fmt.Errorf("CSV line %d (%q): %w", line, c.Name, err)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("CSV line %d: client %q appears twice", line, n.Name)
		}
		seen[n.Name] = true
		clients = append(clients, n)
	}
	return clients, nil
}

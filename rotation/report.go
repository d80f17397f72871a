package rotation

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokentray/tokentray/textsafe"
	"github.com/tokentray/tokentray/vault"
)

// Report is what Tokentray reports about one client: its metadata and its
// rotation status, never a secret or a token. It is the one shape of
// `tokentray list --json`, `status --json` and `export --format csv`, and of
// the window's rotation overview exports; docs/CLI.md documents its keys.
type Report struct {
	Name        string   `json:"name"`
	ClientID    string   `json:"client_id"`
	TokenURL    string   `json:"token_url"`
	Environment string   `json:"environment"` // the effective one: test, live or unknown
	Scopes      []string `json:"scopes"`      // never null
	AuthStyle   string   `json:"auth_style"`
	Audience    string   `json:"audience,omitempty"` // the first audience parameter, as before params existed
	// Params are the extra token request parameters (RFC 8707 resource,
	// audience, ...): key to values.
	Params url.Values `json:"params,omitempty"`
	Notes  string     `json:"notes,omitempty"`
	// TokenExpiresAt is the expiry of the cached token; nil when none is
	// known.
	TokenExpiresAt *time.Time     `json:"token_expires_at"`
	Rotation       RotationReport `json:"rotation"`
}

// RotationReport is the rotation part of a Report. The dates and counts are
// nil when the secret's date is unknown.
type RotationReport struct {
	Status      vault.RotationState `json:"status"` // ok, due-soon, overdue, unknown
	SecretSetAt *time.Time          `json:"secret_set_at"`
	DueAt       *time.Time          `json:"due_at"`
	DaysLeft    *int                `json:"days_left"` // negative when overdue
	AgeDays     *int                `json:"age_days"`
	InProgress  bool                `json:"in_progress"` // a new secret is staged
}

// NewReport returns the report of client c with rotation status st and the
// expiry of its cached token (zero: none known).
func NewReport(c vault.Client, st vault.RotationStatus, tokenExpiry time.Time) Report {
	r := Report{
		Name:        c.Name,
		ClientID:    c.ClientID,
		TokenURL:    c.TokenURL,
		Environment: string(c.Environment()),
		Scopes:      append([]string{}, c.Scopes...),
		AuthStyle:   string(c.AuthStyle),
		Audience:    c.Audience(),
		Params:      c.EndpointParams,
		Notes:       c.Notes,
		Rotation: RotationReport{
			Status:     st.State,
			InProgress: !c.RotationStartedAt.IsZero(),
		},
	}
	if r.AuthStyle == "" {
		r.AuthStyle = string(vault.AuthAuto)
	}
	if !tokenExpiry.IsZero() {
		t := tokenExpiry.UTC()
		r.TokenExpiresAt = &t
	}
	if st.State != vault.RotationUnknown && !st.SetAt.IsZero() {
		set, due := st.SetAt.UTC(), st.DueAt.UTC()
		left, age := st.DaysLeft, st.AgeDays
		r.Rotation.SecretSetAt, r.Rotation.DueAt = &set, &due
		r.Rotation.DaysLeft, r.Rotation.AgeDays = &left, &age
	}
	return r
}

// WriteJSON writes reports as an indented JSON array, with the characters
// that could act on a terminal escaped (textsafe.JSON).
func WriteJSON(w io.Writer, reports []Report) error {
	if reports == nil {
		reports = []Report{}
	}
	b, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(textsafe.JSON(b), '\n'))
	return err
}

// CSVColumns are the columns WriteCSV writes, in order. The first ten are
// what `tokentray import` reads back; the rest are the rotation status for
// a spreadsheet, named after the JSON keys with "rotation_" where the key
// alone would be ambiguous.
var CSVColumns = []string{
	"name", "client_id", "token_url", "environment", "scopes", "auth_style", "audience", "secret_set_at", "notes",
	"params", "rotation_status", "due_at", "days_left", "age_days", "rotation_in_progress",
}

// WriteCSV writes reports as CSV with a header row (CSVColumns): scopes
// space-separated, dates in RFC 3339, unknown values empty. Every cell goes
// through textsafe.Cell, so no cell starts a spreadsheet formula; import
// undoes it with textsafe.UnCell.
func WriteCSV(w io.Writer, reports []Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	num := func(n *int) string {
		if n == nil {
			return ""
		}
		return strconv.Itoa(*n)
	}
	for _, r := range reports {
		rot := r.Rotation
		rec := []string{r.Name, r.ClientID, r.TokenURL, r.Environment, strings.Join(r.Scopes, " "), r.AuthStyle,
			r.Audience, date(rot.SecretSetAt), r.Notes, r.Params.Encode(),
			string(rot.Status), date(rot.DueAt), num(rot.DaysLeft), num(rot.AgeDays), strconv.FormatBool(rot.InProgress)}
		for i, cell := range rec {
			rec[i] = textsafe.Cell(cell)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/vault"
)

// clientJSON is one client in the output of list --json and status --json.
// The keys are part of the command line's contract.
type clientJSON struct {
	Name           string       `json:"name"`
	ClientID       string       `json:"client_id"`
	TokenURL       string       `json:"token_url"`
	Environment    string       `json:"environment"`
	Scopes         []string     `json:"scopes"`
	AuthStyle      string       `json:"auth_style"`
	Audience       string       `json:"audience,omitempty"`
	TokenExpiresAt *time.Time   `json:"token_expires_at"` // null: no cached token (or the keyring did not answer)
	Rotation       rotationJSON `json:"rotation"`
	// Source is the team a client comes from ("" for a local client); Team
	// is its badge; Problem says why a team entry cannot be used.
	Source  string `json:"source,omitempty"`
	Team    bool   `json:"team,omitempty"`
	Problem string `json:"problem,omitempty"`
}

type rotationJSON struct {
	Status      string     `json:"status"` // ok, due-soon, overdue, unknown
	SecretSetAt *time.Time `json:"secret_set_at"`
	DueAt       *time.Time `json:"due_at"`
	DaysLeft    *int       `json:"days_left"` // negative when overdue; null when unknown
	AgeDays     *int       `json:"age_days"`
	InProgress  bool       `json:"in_progress"` // a new secret is staged
}

// clientRow is a client with what list and status show about it.
type clientRow struct {
	c        vault.Client
	rot      vault.RotationStatus
	expiry   time.Time // zero: no cached token known
	hasToken bool
}

// rows reads the clients, and, when withTokens, the expiry of each one's
// cached token. A keyring that is unavailable or locked is reported once and
// the remaining expiries are left unknown.
func (a *app) rows(s *vault.Store, withTokens bool) ([]clientRow, error) {
	clients, err := s.List()
	if err != nil {
		return nil, err
	}
	out := make([]clientRow, 0, len(clients))
	keyringOK := withTokens
	for _, c := range clients {
		r := clientRow{c: c, rot: s.Rotation(c)}
		if keyringOK {
			t, err := s.Token(c.Name, nil)
			switch {
			case err == nil:
				r.expiry, r.hasToken = t.Expiry, true
			case errors.Is(err, vault.ErrKeyringUnavailable), errors.Is(err, vault.ErrKeyringLocked):
				a.warnf("token expiries unknown: %v", err)
				keyringOK = false
			case errors.Is(err, vault.ErrNotFound):
			default:
				a.warnf("%s: %v", c.Name, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (r clientRow) json() clientJSON {
	c := r.c
	j := clientJSON{
		Name:        c.Name,
		ClientID:    c.ClientID,
		TokenURL:    c.TokenURL,
		Environment: string(c.Environment()),
		Scopes:      c.Scopes,
		AuthStyle:   string(c.AuthStyle),
		Audience:    c.Audience(),
		Source:      c.Source,
		Team:        c.Source != "",
		Problem:     c.Problem,
		Rotation: rotationJSON{
			Status:     string(r.rot.State),
			InProgress: !c.RotationStartedAt.IsZero(),
		},
	}
	if j.Scopes == nil {
		j.Scopes = []string{}
	}
	if r.hasToken && !r.expiry.IsZero() {
		t := r.expiry.UTC()
		j.TokenExpiresAt = &t
	}
	if r.rot.State != vault.RotationUnknown {
		set, due := r.rot.SetAt.UTC(), r.rot.DueAt.UTC()
		left, age := r.rot.DaysLeft, r.rot.AgeDays
		j.Rotation.SecretSetAt, j.Rotation.DueAt = &set, &due
		j.Rotation.DaysLeft, j.Rotation.AgeDays = &left, &age
	}
	return j
}

func (a *app) writeJSON(rows []clientRow) error {
	out := make([]clientJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.json())
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func (a *app) listCommand() *ffcli.Command {
	fs := a.newFlagSet("list")
	asJSON := fs.Bool("json", false, "print a JSON array, one object per client")
	return &ffcli.Command{
		Name:       "list",
		ShortUsage: "tokentray list [--json]",
		ShortHelp:  "List the stored clients: client id, environment, scopes, token expiry, rotation.",
		LongHelp: strings.TrimSpace(`
With --json, prints a JSON array with one object per client and the keys name,
client_id, token_url, environment, scopes, auth_style, audience,
token_expires_at and rotation {status, secret_set_at, due_at, days_left,
age_days, in_progress}.

EXAMPLE
  tokentray list --json | jq -r '.[] | select(.environment == "live") | .name'`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("list", fs, args); err != nil {
				return err
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			rows, err := a.rows(s, true)
			if err != nil {
				return err
			}
			if *asJSON {
				return a.writeJSON(rows)
			}
			if len(rows) == 0 {
				a.infof("no clients yet: add one with tokentray add NAME --token-url URL --client-id ID")
				return nil
			}
			now := a.clock()
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCLIENT ID\tENV\tSCOPES\tTOKEN\tROTATION")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", nameCell(r.c), r.c.ClientID, r.c.Environment(),
					orDash(strings.Join(r.c.Scopes, " ")), expiryText(r, now), rotationCell(r))
			}
			a.teamNotes(s)
			return tw.Flush()
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// expiryText says how long a cached token has left: "54m left", "expired".
func expiryText(r clientRow, now time.Time) string {
	switch {
	case !r.hasToken:
		return "-"
	case r.expiry.IsZero():
		return "no expiry"
	case !now.Before(r.expiry):
		return "expired"
	}
	return shortDuration(r.expiry.Sub(now)) + " left"
}

// shortDuration formats d as "1h5m", "54m", "42s".
func shortDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	}
	return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
}

// nameCell is a client's name with its team badge: "acme.billing [team acme]".
func nameCell(c vault.Client) string {
	if c.Source == "" {
		return c.Name
	}
	return c.Name + " [team " + c.Source + "]"
}

// rotationCell is the rotation label, or why a team entry is broken.
func rotationCell(r clientRow) string {
	if r.c.Problem != "" {
		return "broken: " + r.c.Problem
	}
	return r.rot.Label()
}

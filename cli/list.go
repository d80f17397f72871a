package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/textsafe"
	"github.com/tokentray/tokentray/vault"
)

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

// report is the row as list --json and status --json print it.
func (r clientRow) report() rotation.Report {
	var expiry time.Time
	if r.hasToken {
		expiry = r.expiry
	}
	return rotation.NewReport(r.c, r.rot, expiry)
}

func (a *app) writeJSON(rows []clientRow) error {
	out := make([]rotation.Report, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.report())
	}
	return rotation.WriteJSON(a.stdout, out)
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
client_id, token_url, environment, scopes, auth_style, audience, params, notes,
token_expires_at and rotation {status, secret_set_at, due_at, days_left,
age_days, in_progress} (docs/CLI.md describes them).

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
			return a.writeList(rows)
		},
	}
}

func (a *app) writeList(rows []clientRow) error {
	if len(rows) == 0 {
		a.infof("no clients yet: add one with tokentray add NAME --token-url URL --client-id ID")
		return nil
	}
	now := a.clock()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCLIENT ID\tENV\tSCOPES\tTOKEN\tROTATION")
	for _, r := range rows {
		fmt.Fprintln(tw, row(r.c.Name, r.c.ClientID, string(r.c.Environment()),
			orDash(strings.Join(r.c.Scopes, " ")), expiryText(r, now), r.rot.Label()))
	}
	return tw.Flush()
}

// row joins the cells of a table row with tabs for a tabwriter, each cell
// escaped (textsafe.Escape): a client id, a note or a claim with a control
// character or a tab cannot act on the terminal nor shift the columns.
func row(cells ...string) string {
	for i, c := range cells {
		cells[i] = textsafe.Escape(c)
	}
	return strings.Join(cells, "\t")
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

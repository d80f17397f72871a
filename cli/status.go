package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/vault"
)

func (a *app) statusCommand() *ffcli.Command {
	fs := a.newFlagSet("status")
	asJSON := fs.Bool("json", false, "print a JSON array (the same keys as list --json)")
	due := fs.Bool("due", false, "exit with code 1 when any secret is overdue (for cron)")
	return &ffcli.Command{
		Name:       "status",
		ShortUsage: "tokentray status [--json] [--due]",
		ShortHelp:  "Show the rotation overview: secret age, due date, status; overdue first.",
		LongHelp: strings.TrimSpace(`
Secrets must be rotated every 90 days; from day 76 a rotation is due soon.
With --due, status exits with code 1 when any secret is overdue.

EXAMPLE
  tokentray status --due --quiet >/dev/null || echo "rotate the overdue secrets" | mail -s tokentray admin`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("status", fs, args); err != nil {
				return err
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			rows, err := a.rows(s, *asJSON)
			if err != nil {
				return err
			}
			slices.SortStableFunc(rows, func(x, y clientRow) int {
				if c := cmp.Compare(y.rot.State.Severity(), x.rot.State.Severity()); c != 0 {
					return c
				}
				if c := cmp.Compare(x.rot.DaysLeft, y.rot.DaysLeft); c != 0 {
					return c
				}
				return cmp.Compare(x.c.Name, y.c.Name)
			})
			if *asJSON {
				err = a.writeJSON(rows)
			} else {
				err = a.writeStatus(rows)
			}
			if err != nil {
				return err
			}
			var overdue []string
			for _, r := range rows {
				if r.rot.State == vault.RotationOverdue {
					overdue = append(overdue, r.c.Name)
				}
			}
			if *due && len(overdue) > 0 {
				return fmt.Errorf("%d overdue: %s: rotate each with tokentray rotate NAME", len(overdue), strings.Join(overdue, ", "))
			}
			return nil
		},
	}
}

func (a *app) writeStatus(rows []clientRow) error {
	if len(rows) == 0 {
		a.infof("no clients yet")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tENV\tSECRET AGE\tDUE\tSTATUS")
	for _, r := range rows {
		age, dueAt := "-", "-"
		if !r.rot.SetAt.IsZero() {
			age = vault.DaysText(r.rot.AgeDays)
			dueAt = r.rot.DueAt.Local().Format("2006-01-02")
		}
		status := r.rot.Label()
		if !r.c.RotationStartedAt.IsZero() {
			status += " (rotation in progress)"
		}
		fmt.Fprintln(tw, row(r.c.Name, string(r.c.Environment()), age, dueAt, status))
	}
	return tw.Flush()
}

package cli

import (
	"context"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func (a *app) exportCommand() *ffcli.Command {
	fs := a.newFlagSet("export")
	format := fs.String("format", "json", "json (for import) or csv (for a spreadsheet; import reads it too)")
	return &ffcli.Command{
		Name:       "export",
		ShortUsage: "tokentray export [--format json|csv] > clients.json",
		ShortHelp:  "Write every client's metadata (never a secret or token) to stdout.",
		LongHelp: strings.TrimSpace(`
Exports names, client ids, token URLs, environments, scopes, auth styles,
audiences, secret dates and notes. Secrets and tokens stay in the keyring:
after an import on another machine, set each secret with set-secret.
The CSV is the client report of docs/CLI.md: the import columns, then
rotation_status, due_at, days_left, age_days and rotation_in_progress for the
admin's overview; a cell that would start a spreadsheet formula gets a
leading quote.

EXAMPLES
  tokentray export > clients.json
  tokentray export --format csv > rotation.csv`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("export", fs, args); err != nil {
				return err
			}
			f := strings.ToLower(*format)
			if f != "json" && f != "csv" {
				return usagef("export", "--format %q: use json or csv", *format)
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			clients, err := s.List()
			if err != nil {
				return err
			}
			if f == "csv" {
				return encodeCSV(a.stdout, clients, s.Rotation)
			}
			b, err := encodeJSON(clients)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(b)
			return err
		},
	}
}

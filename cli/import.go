package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/vault"
)

func (a *app) importCommand() *ffcli.Command {
	fs := a.newFlagSet("import")
	replace := fs.Bool("replace", false, "overwrite clients that exist already")
	return &ffcli.Command{
		Name:       "import",
		ShortUsage: "tokentray import FILE [--replace]",
		ShortHelp:  "Add clients from an export file (JSON or CSV; - for stdin). Secrets are set afterwards.",
		LongHelp: strings.TrimSpace(`
Reads a file written by export (JSON or CSV; FILE - reads stdin). Nothing is
imported when any client in the file exists already, unless --replace, which
overwrites the metadata of existing clients (their secrets stay). Imported
clients have no secret: set each with set-secret.

EXAMPLE
  tokentray import clients.json && tokentray set-secret billing`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			pos, err := parsePositional(fs, args)
			if err != nil {
				return &usageError{cmd: "import", msg: err.Error()}
			}
			if len(pos) != 1 {
				return usagef("import", "one FILE expected (- for standard input)")
			}
			data, err := a.readFile(pos[0])
			if err != nil {
				return err
			}
			clients, err := decodeImport(data)
			if err != nil {
				return fmt.Errorf("import %s: %w", pos[0], err)
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			existing, err := s.List()
			if err != nil {
				return err
			}
			var clash []string
			have := map[string]bool{}
			for _, c := range existing {
				have[c.Name] = true
			}
			for _, c := range clients {
				if have[c.Name] {
					clash = append(clash, c.Name)
				}
			}
			if len(clash) > 0 && !*replace {
				return fmt.Errorf("import %s: nothing imported: %s exist already (--replace overwrites them): %w", pos[0], strings.Join(clash, ", "), vault.ErrExists)
			}
			var noSecret []string
			for _, c := range clients {
				if err := s.Put(exportable(c)); err != nil {
					return fmt.Errorf("import %s: %w", pos[0], err)
				}
				if !have[c.Name] {
					noSecret = append(noSecret, c.Name)
				}
			}
			a.infof("imported %d clients (%d replaced)", len(clients), len(clash))
			if len(noSecret) > 0 {
				a.infof("set their secrets next: tokentray set-secret NAME for %s", strings.Join(noSecret, ", "))
			}
			return nil
		},
	}
}

// readFile reads a named file, or stdin for "-", up to maxImportSize+1 bytes.
func (a *app) readFile(name string) ([]byte, error) {
	var r io.Reader = a.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxImportSize+1))
	if err != nil {
		return nil, fmt.Errorf("import: read %s: %w", name, err)
	}
	return b, nil
}

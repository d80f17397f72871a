package cli

import (
	"context"
	"errors"
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
	allowIdentity := fs.Bool("allow-identity-change", false, "with --replace: let an existing client get another token URL host or client id (its cached tokens are dropped)")
	return &ffcli.Command{
		Name:       "import",
		ShortUsage: "tokentray import FILE [--replace [--allow-identity-change]]",
		ShortHelp:  "Add clients from an export file (JSON or CSV; - for stdin). Secrets are set afterwards.",
		LongHelp: strings.TrimSpace(`
Reads a file written by export (JSON or CSV; FILE - reads stdin). Nothing is
imported when any client in the file exists already, unless --replace, which
overwrites the metadata of existing clients (their secrets stay, their cached
tokens go when the token settings change). A replace that changes a client's
token URL host or client id would send its stored secret elsewhere: it needs
--allow-identity-change. The import is all or nothing, even when killed.
Imported clients have no secret: set each with set-secret.

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
			for i, c := range clients {
				clients[i] = exportable(c)
			}
			added, replaced, err := s.Import(clients, vault.ImportOptions{Replace: *replace, AllowIdentityChange: *allowIdentity})
			var ice *vault.IdentityChangeError
			switch {
			case errors.Is(err, vault.ErrExists):
				return fmt.Errorf("import %s: %w (--replace overwrites them)", pos[0], err)
			case errors.As(err, &ice):
				return fmt.Errorf("import %s: %w: --allow-identity-change", pos[0], err)
			case err != nil && (added != nil || replaced != nil):
				a.warnf("%v", err) // imported; old cached tokens remain
			case err != nil:
				return fmt.Errorf("import %s: %w", pos[0], err)
			}
			noSecret := added
			a.infof("imported %d clients (%d replaced)", len(clients), len(replaced))
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

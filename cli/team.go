package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/teamkv"
	"github.com/tokentray/tokentray/vault"
)

// teamCommand is `tokentray team add|list|remove|login|sync|reindex`: team
// sources, whose clients are kept in a HashiCorp Vault KV v2 mount.
func (a *app) teamCommand() *ffcli.Command {
	fs := a.newFlagSet("team")
	return &ffcli.Command{
		Name:       "team",
		ShortUsage: "tokentray team add|list|remove|login|sync|reindex ...",
		ShortHelp:  "Use a team's clients kept in HashiCorp Vault (KV v2): add the team, log in, sync.",
		LongHelp: strings.TrimSpace(`
A team keeps its machine-to-machine clients in a HashiCorp Vault KV v2 mount,
one entry per client under a prefix. Each member adds the team once and logs
in; the team's clients then appear as "TEAM.ENTRY" beside the local ones
(list and status mark them "team"). Tokens stay per person. The secrets are
cached in the keyring with their KV version, so tokens keep coming while Vault
cannot be reached. A sync reads the team's _index entry and only the entries
that changed (the window syncs every minute; the command line on team sync).

EXAMPLES
  tokentray team add acme --addr https://vault.example.com:8200 --mount secret --prefix tokentray/
  tokentray team login acme                  # paste a Vault token (or VAULT_TOKEN)
  tokentray team login acme --username alice # userpass
  tokentray team sync
  tokentray token acme.billing-api`),
		FlagSet: fs,
		Subcommands: []*ffcli.Command{
			a.teamAddCommand(), a.teamListCommand(), a.teamRemoveCommand(),
			a.teamLoginCommand(), a.teamSyncCommand(), a.teamReindexCommand(),
		},
		Exec: func(context.Context, []string) error {
			return usagef("team", "a subcommand is required: add, list, remove, login, sync or reindex")
		},
	}
}

// teams loads the team sources of the configuration directory.
func (a *app) teams() (string, []*teamkv.Team, error) {
	dir, err := a.dir()
	if err != nil {
		return "", nil, err
	}
	kr, err := a.keyringFor(dir)
	if err != nil {
		return "", nil, err
	}
	ts, err := teamkv.OpenAll(dir, kr, a.teamOptions())
	return dir, ts, err
}

func (a *app) teamOptions() teamkv.Options {
	var o teamkv.Options
	if a.now != nil {
		o.Now = a.now
	}
	return o
}

// team returns the team called name.
func (a *app) team(name string) (*teamkv.Team, error) {
	_, ts, err := a.teams()
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.Name() == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("no team named %q: tokentray team list shows them, tokentray team add adds one: %w", name, vault.ErrNoClient)
}

// oneTeam reads the one TEAM argument.
func oneTeam(cmd string, fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parsePositional(fs, args)
	if err != nil {
		return "", &usageError{cmd: cmd, msg: err.Error()}
	}
	if len(pos) != 1 {
		return "", usagef(cmd, "one TEAM name expected, got %d arguments", len(pos))
	}
	return pos[0], nil
}

func (a *app) teamAddCommand() *ffcli.Command {
	fs := a.newFlagSet("team add")
	addr := fs.String("addr", "", "Vault's `URL` (https; plain http only on loopback)")
	mount := fs.String("mount", "secret", "the KV v2 mount's `PATH`")
	prefix := fs.String("prefix", "tokentray/", "the `FOLDER` under the mount that holds the clients")
	ns := fs.String("namespace", "", "Vault Enterprise `NAMESPACE`")
	ca := fs.String("ca-file", "", "PEM `FILE` of a private CA that signs Vault's certificate")
	sweep := fs.Duration("sweep", teamkv.DefaultSweepInterval, "how often the window looks for rotations")
	return &ffcli.Command{
		Name:       "add",
		ShortUsage: "tokentray team add TEAM --addr URL [--mount secret] [--prefix tokentray/] [--namespace NS] [--ca-file FILE]",
		ShortHelp:  "Add a team source (then: tokentray team login TEAM).",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneTeam("team add", fs, args)
			if err != nil {
				return err
			}
			if *ca != "" {
				abs, err := filepath.Abs(*ca)
				if err != nil {
					return err
				}
				if _, err := os.Stat(abs); err != nil {
					return fmt.Errorf("team add: CA file: %w", err)
				}
				*ca = abs
			}
			cfg, err := teamkv.Config{Name: name, Addr: *addr, Mount: *mount, Prefix: *prefix, Namespace: *ns,
				CAFile: *ca, SweepInterval: teamkv.Duration(*sweep)}.Normalize()
			if err != nil {
				return usagef("team add", "%s", strings.TrimPrefix(err.Error(), "teamkv: "))
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			dir := s.Dir()
			cfgs, err := teamkv.LoadConfig(dir)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(cfgs, func(c teamkv.Config) bool { return c.Name == name }) {
				return fmt.Errorf("team add: a team named %q exists: remove it first (tokentray team remove %s)", name, name)
			}
			local, err := s.List()
			if err != nil {
				return err
			}
			for _, c := range local {
				if c.Source == "" && strings.HasPrefix(c.Name, name+".") {
					return fmt.Errorf("team add: the local client %q would clash with team %q's clients (named %s.ENTRY): pick another team name", c.Name, name, name)
				}
			}
			if err := teamkv.SaveConfig(dir, append(cfgs, cfg)); err != nil {
				return err
			}
			a.infof("added team %s (%s, %s/%s): now run tokentray team login %s", name, cfg.Addr, cfg.Mount, cfg.Prefix, name)
			return nil
		},
	}
}

// teamJSON is one team in team list --json.
type teamJSON struct {
	Name         string     `json:"name"`
	Addr         string     `json:"addr"`
	Mount        string     `json:"mount"`
	Prefix       string     `json:"prefix"`
	Namespace    string     `json:"namespace,omitempty"`
	Clients      int        `json:"clients"`
	Broken       int        `json:"broken"`
	SyncedAt     *time.Time `json:"synced_at"`
	OfflineSince *time.Time `json:"offline_since"`
	LoginNeeded  bool       `json:"login_needed"`
	NoIndex      bool       `json:"no_index"` // each sync reads every entry
	TokenExpiry  *time.Time `json:"vault_token_expiry"`
	Problem      string     `json:"problem,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (a *app) teamListCommand() *ffcli.Command {
	fs := a.newFlagSet("team list")
	asJSON := fs.Bool("json", false, "print a JSON array, one object per team")
	return &ffcli.Command{
		Name:       "list",
		ShortUsage: "tokentray team list [--json]",
		ShortHelp:  "List the team sources and their state (synced, offline, login needed).",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("team list", fs, args); err != nil {
				return err
			}
			_, ts, err := a.teams()
			if err != nil {
				return err
			}
			out := make([]teamJSON, 0, len(ts))
			for _, t := range ts {
				st, cfg := t.Status(), t.Config()
				out = append(out, teamJSON{Name: cfg.Name, Addr: cfg.Addr, Mount: cfg.Mount, Prefix: cfg.Prefix, Namespace: cfg.Namespace,
					Clients: st.Clients, Broken: st.Broken, SyncedAt: timePtr(st.SyncedAt), OfflineSince: timePtr(st.OfflineSince),
					LoginNeeded: st.LoginNeeded, NoIndex: st.NoIndex, TokenExpiry: timePtr(st.TokenExpiry), Problem: st.Problem})
			}
			if *asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(out) == 0 {
				a.infof("no teams yet: add one with tokentray team add TEAM --addr URL")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TEAM\tVAULT\tPATH\tCLIENTS\tSTATE")
			for i, j := range out {
				state := "synced " + orDash(shortTime(j.SyncedAt))
				if j.NoIndex {
					state += fmt.Sprintf(" (no _index entry: each sync reads every entry; a team admin runs tokentray team reindex %s)", j.Name)
				}
				if line := ts[i].Status().Line(); line != "" {
					state = line
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", j.Name, j.Addr, j.Mount+"/"+j.Prefix, j.Clients, state)
			}
			return tw.Flush()
		},
	}
}

func shortTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04")
}

func (a *app) teamRemoveCommand() *ffcli.Command {
	fs := a.newFlagSet("team remove")
	return &ffcli.Command{
		Name:       "remove",
		ShortUsage: "tokentray team remove TEAM",
		ShortHelp:  "Forget a team: its configuration, cached clients and secrets, and Vault token on this computer (Vault is not touched).",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneTeam("team remove", fs, args)
			if err != nil {
				return err
			}
			t, err := a.team(name)
			if err != nil {
				return err
			}
			dir, _, err := a.teams()
			if err != nil {
				return err
			}
			if err := t.Forget(); err != nil {
				return err
			}
			cfgs, err := teamkv.LoadConfig(dir)
			if err != nil {
				return err
			}
			cfgs = slices.DeleteFunc(cfgs, func(c teamkv.Config) bool { return c.Name == name })
			if err := teamkv.SaveConfig(dir, cfgs); err != nil {
				return err
			}
			a.infof("removed team %s from this computer", name)
			return nil
		},
	}
}

func (a *app) teamLoginCommand() *ffcli.Command {
	fs := a.newFlagSet("team login")
	user := fs.String("username", "", "log in with Vault's userpass method as `USER` (password from stdin or a prompt)")
	upMount := fs.String("userpass-mount", "userpass", "the userpass auth method's mount `PATH`")
	vaultCLI := fs.Bool("from-vault-cli", false, "use the token the vault CLI keeps in ~/.vault-token")
	return &ffcli.Command{
		Name:       "login",
		ShortUsage: "tokentray team login TEAM [--username USER | --from-vault-cli] < token-or-password",
		ShortHelp:  "Keep a Vault token for the team in the keyring (pasted, $VAULT_TOKEN, ~/.vault-token, or userpass).",
		LongHelp: strings.TrimSpace(`
The Vault token is read from $VAULT_TOKEN when set, from ~/.vault-token with
--from-vault-cli, else from stdin when piped or a prompt without echo; never
from the command line. With --username, the password is read the same way and
Vault's userpass method returns the token. The token is checked
(auth/token/lookup-self), kept in the keyring as team/TEAM/vault-token, and
the team is synced at once.`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneTeam("team login", fs, args)
			if err != nil {
				return err
			}
			t, err := a.team(name)
			if err != nil {
				return err
			}
			var ttl time.Duration
			switch {
			case *user != "":
				pw, err := a.readSecret("Vault password for " + *user + ": ")
				if err != nil {
					return err
				}
				ttl, err = t.LoginUserpass(ctx, *upMount, *user, pw)
				if err != nil {
					return err
				}
			default:
				tok := a.getenv("VAULT_TOKEN")
				if tok == "" && *vaultCLI {
					home, err := os.UserHomeDir()
					if err != nil {
						return err
					}
					b, err := os.ReadFile(filepath.Join(home, ".vault-token"))
					if err != nil {
						return fmt.Errorf("team login: the vault CLI's token: %w (log in with vault login first)", err)
					}
					tok = string(b)
				}
				if tok == "" {
					tok, err = a.readSecret("Vault token for team " + name + ": ")
					if err != nil {
						return err
					}
				}
				ttl, err = t.SetToken(ctx, tok)
				if err != nil {
					return err
				}
			}
			if ttl > 0 {
				a.infof("logged in to team %s; the Vault token expires in %s (the window renews it)", name, shortDuration(ttl))
			} else {
				a.infof("logged in to team %s", name)
			}
			res, err := t.Sync(ctx)
			if err != nil {
				return err
			}
			a.infof("team %s: %d clients (%d new or changed)", name, len(t.Entries()), len(res.Changed))
			return nil
		},
	}
}

func (a *app) teamSyncCommand() *ffcli.Command {
	fs := a.newFlagSet("team sync")
	return &ffcli.Command{
		Name:       "sync",
		ShortUsage: "tokentray team sync [TEAM]",
		ShortHelp:  "Look for new, rotated and removed clients in the team's Vault now.",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			pos, err := parsePositional(fs, args)
			if err != nil {
				return &usageError{cmd: "team sync", msg: err.Error()}
			}
			_, ts, err := a.teams()
			if err != nil {
				return err
			}
			var firstErr error
			found := false
			for _, t := range ts {
				if len(pos) > 0 && !slices.Contains(pos, t.Name()) {
					continue
				}
				found = true
				res, err := t.Sync(ctx)
				if err != nil {
					a.errorf("%s", strings.TrimPrefix(err.Error(), "teamkv: "))
					if line := t.Status().Line(); line != "" {
						a.errorf("%s", line)
					}
					if firstErr == nil {
						firstErr = &reported{err}
					}
					continue
				}
				for _, n := range res.Changed {
					fmt.Fprintf(a.stdout, "changed\t%s\n", n)
				}
				for _, n := range res.Removed {
					fmt.Fprintf(a.stdout, "removed\t%s\n", n)
				}
				a.infof("team %s: synced in %d requests", t.Name(), res.Requests)
			}
			if !found && len(pos) > 0 {
				return fmt.Errorf("no team named %q: %w", pos[0], vault.ErrNoClient)
			}
			return firstErr
		},
	}
}

func (a *app) teamReindexCommand() *ffcli.Command {
	fs := a.newFlagSet("team reindex")
	return &ffcli.Command{
		Name:       "reindex",
		ShortUsage: "tokentray team reindex TEAM",
		ShortHelp:  "(Team admins) rebuild the team's _index entry after changing entries with other tools.",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneTeam("team reindex", fs, args)
			if err != nil {
				return err
			}
			t, err := a.team(name)
			if err != nil {
				return err
			}
			n, err := t.Reindex(ctx)
			if err != nil {
				return err
			}
			a.infof("team %s: the index lists %d entries", name, n)
			return nil
		},
	}
}

// teamNotes prints each team's trouble (offline, login needed) once, for
// list and status.
func (a *app) teamNotes(s *vault.Store) {
	for _, src := range s.Sources() {
		if t, ok := src.(*teamkv.Team); ok {
			if line := t.Status().Line(); line != "" {
				a.warnf("%s", line)
			}
		}
	}
}

// rotateTeam rotates a team client: prove the new secret, then write it to
// Vault with check-and-set (see teamkv.Team.Rotate).
func (a *app) rotateTeam(ctx context.Context, s *vault.Store, c vault.Client, prove teamkv.ProveFunc) error {
	var team *teamkv.Team
	for _, src := range s.Sources() {
		if t, ok := src.(*teamkv.Team); ok && t.Name() == c.Source {
			team = t
		}
	}
	if team == nil {
		return fmt.Errorf("rotate %s: team %q is not configured", c.Name, c.Source)
	}
	secret, err := a.readSecret("New secret for " + c.Name + ": ")
	if err != nil {
		return err
	}
	res, err := team.Rotate(ctx, c.Name, secret, prove)
	if err != nil {
		return err
	}
	if res.IndexWarning != "" {
		a.warnf("%s", res.IndexWarning)
	}
	a.infof("rotated %s: team version %d -> %d; every member switches at their next sync", c.Name, res.FromVersion, res.Version)
	return nil
}

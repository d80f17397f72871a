package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/rotation/stytch"
	"github.com/tokentray/tokentray/vault"
)

// envStytchBaseURL overrides Stytch's API base URL (a proxy, or a test
// server); by default it follows the project ID (test or live).
const envStytchBaseURL = "TOKENTRAY_STYTCH_BASE_URL"

// rotateJSON is rotate's machine output (--json).
type rotateJSON struct {
	Name           string    `json:"name"`
	ClientID       string    `json:"client_id"`
	State          string    `json:"state"`
	SecretSetAt    time.Time `json:"secret_set_at,omitzero"`
	DueAt          time.Time `json:"due_at,omitzero"`
	InProgress     bool      `json:"in_progress"`
	Staged         bool      `json:"staged"`
	StartedAt      time.Time `json:"rotation_started_at,omitzero"`
	Switched       bool      `json:"switched"`
	Granted        []string  `json:"granted,omitempty"`
	Missing        []string  `json:"missing,omitempty"`
	Extra          []string  `json:"extra,omitempty"`
	Fingerprint    string    `json:"token_fingerprint,omitempty"`
	OldTokenExpiry time.Time `json:"old_token_expiry,omitzero"`
	Warnings       []string  `json:"warnings,omitempty"`
	// ProviderPending: a rotation is pending at Stytch (--stytch-project).
	ProviderPending *bool `json:"provider_pending,omitempty"`
}

func (a *app) rotateCommand() *ffcli.Command {
	fs := a.newFlagSet("rotate")
	status := fs.Bool("status", false, "only show the rotation status (and whether a rotation is in progress)")
	finish := fs.Bool("finish", false, "prove the staged secret and switch to it (a rotation in progress)")
	cancel := fs.Bool("cancel", false, "discard the staged secret; the current one stays")
	accept := fs.Bool("accept-scope-change", false, "switch even if the new secret grants different scopes")
	asJSON := fs.Bool("json", false, "print the outcome as JSON on stdout")
	project := fs.String("stytch-project", "", "let Stytch issue the new secret: the Stytch `PROJECT_ID` (its secret must be saved with --stytch-login)")
	login := fs.Bool("stytch-login", false, "with --stytch-project: read the Stytch project secret (stdin or prompt), keep it in the keyring, and exit")
	return &ffcli.Command{
		Name:       "rotate",
		ShortUsage: "tokentray rotate NAME [--finish | --cancel | --status] [--accept-scope-change] [--json] < new-secret",
		ShortHelp:  "Rotate a client's secret: stage the new one, prove it with a real token request, then switch.",
		LongHelp: strings.TrimSpace(`
Rotation never leaves the client without a working secret. The new secret
(from stdin when piped, else a prompt without echo) is staged beside the
current one, proven by a real token request, compared with the scopes the
current one grants, and only then switched to; the date restarts the 90-day
clock. If the proof fails, nothing changes and the staged secret is kept:
--finish tries again, --cancel discards it. A rotation interrupted by a crash
shows in --status and is finished or cancelled the same way. A new secret
that grants different scopes needs --accept-scope-change (or a yes on the
terminal). Tokens issued with the old secret stay valid until they expire.

Where the new secret comes from: the provider's dashboard (on the platform:
Settings -> API Access). For Stytch projects, --stytch-project lets Stytch
issue it (rotate/start) and, after the switch, revoke the old one.

EXAMPLES
  secret-tool lookup vendor billing-new | tokentray rotate billing
  tokentray rotate billing --status
  tokentray rotate billing --finish --accept-scope-change
  tokentray rotate billing --stytch-project project-test-0000 --stytch-login < project-secret
  tokentray rotate billing --stytch-project project-test-0000`),
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			name, err := oneName("rotate", fs, args)
			if err != nil {
				return err
			}
			modes := 0
			for _, m := range []bool{*status, *finish, *cancel, *login} {
				if m {
					modes++
				}
			}
			if modes > 1 {
				return usagef("rotate", "give at most one of --status, --finish, --cancel, --stytch-login")
			}
			if *login && *project == "" {
				return usagef("rotate", "--stytch-login needs --stytch-project PROJECT_ID")
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			c, err := a.client(s, name)
			if err != nil {
				return err
			}
			if *login {
				secret, err := a.readSecret("Stytch project secret for " + *project + ": ")
				if err != nil {
					return err
				}
				if err := stytch.SaveProjectSecret(s.Keyring(), *project, secret); err != nil {
					return err
				}
				a.infof("kept the Stytch project secret of %s in the keyring", *project)
				return nil
			}
			rot := &rotation.Rotator{Store: s, HTTPClient: a.tokenHTTPClient()}
			var provider rotation.Provider
			if *project != "" {
				sc, err := stytch.FromKeyring(s.Keyring(), *project)
				if err != nil {
					return fmt.Errorf("%w (tokentray rotate %s --stytch-project %s --stytch-login < project-secret)", err, name, *project)
				}
				if u := a.getenv(envStytchBaseURL); u != "" {
					sc.BaseURL = u
				}
				sc.HTTPClient = a.httpClient
				provider = sc
			}
			r := &rotateRun{a: a, rot: rot, name: name, c: c, provider: provider, accept: *accept, json: *asJSON}
			switch {
			case *status:
				return r.status(ctx)
			case *cancel:
				return r.cancel(ctx)
			case *finish:
				return r.finish(ctx)
			}
			return r.rotate(ctx)
		},
	}
}

// rotateRun is one run of the rotate command.
type rotateRun struct {
	a        *app
	rot      *rotation.Rotator
	name     string
	c        vault.Client
	provider rotation.Provider // nil: the secret is pasted
	accept   bool
	json     bool
}

func (r *rotateRun) out() (rotateJSON, error) {
	st, err := r.rot.Status(r.name)
	if err != nil {
		return rotateJSON{}, err
	}
	return rotateJSON{
		Name: r.name, ClientID: st.Client.ClientID, State: string(st.Rotation.State),
		SecretSetAt: st.Rotation.SetAt, DueAt: st.Rotation.DueAt,
		InProgress: st.InProgress, Staged: st.Staged, StartedAt: st.StartedAt,
	}, nil
}

func (r *rotateRun) print(o rotateJSON) error {
	if !r.json {
		return nil
	}
	enc := json.NewEncoder(r.a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(o)
}

func (r *rotateRun) status(ctx context.Context) error {
	o, err := r.out()
	if err != nil {
		return err
	}
	var remote *stytch.M2MClient
	if sc, ok := r.provider.(*stytch.Client); ok {
		remote, err = sc.Get(ctx, r.c.ClientID)
		if err != nil {
			return err
		}
		pending := remote.Rotating()
		o.ProviderPending = &pending
	}
	if r.json {
		return r.print(o)
	}
	st, _ := r.rot.Status(r.name)
	fmt.Fprintf(r.a.stdout, "%s\t%s\t%s\n", r.name, st.Rotation.Label(), dueText(st.Rotation))
	if st.InProgress {
		fmt.Fprintf(r.a.stdout, "%s\trotation in progress%s\t%s\n", r.name, since(st.StartedAt), nextStep(r.name, st.Staged))
	}
	if remote != nil {
		state := "no rotation pending at Stytch"
		if remote.Rotating() {
			state = "rotation pending at Stytch (next secret ..." + remote.NextClientSecretLastFour + "): --finish completes it, --cancel cancels it"
		}
		fmt.Fprintln(r.a.stdout, row(r.name, "Stytch secret ..."+remote.ClientSecretLastFour, state)) // Stytch's text, escaped
	}
	return nil
}

func dueText(rs vault.RotationStatus) string {
	if rs.SetAt.IsZero() {
		return "secret date unknown"
	}
	return "due " + rs.DueAt.Local().Format(time.DateOnly)
}

func since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " since " + t.Local().Format("2006-01-02 15:04")
}

func nextStep(name string, staged bool) string {
	if staged {
		return "finish: tokentray rotate " + name + " --finish; cancel: tokentray rotate " + name + " --cancel"
	}
	return "no staged secret: tokentray rotate " + name + " --cancel, or rotate again"
}

func (r *rotateRun) cancel(ctx context.Context) error {
	if err := r.rot.Cancel(ctx, r.name, r.provider); err != nil {
		return err
	}
	r.a.infof("cancelled the rotation of %s: the current secret stays", r.name)
	o, err := r.out()
	if err != nil {
		return err
	}
	return r.print(o)
}

func (r *rotateRun) rotate(ctx context.Context) error {
	st, err := r.rot.Status(r.name)
	if err != nil {
		return err
	}
	if st.InProgress {
		r.a.infof("a rotation of %s is in progress%s: the new secret replaces the staged one", r.name, since(st.StartedAt))
	}
	if r.provider != nil {
		if err := r.rot.StageFromProvider(ctx, r.name, r.provider); err != nil {
			return err
		}
		r.a.infof("Stytch issued a new secret for %s; it is staged, and both are valid until the switch", r.c.ClientID)
	} else {
		if _, isTerm := terminalFd(r.a.stdin); isTerm {
			r.a.infof("%s", rotation.SecretSourceHelp)
		}
		secret, err := r.a.readSecret("new client secret for " + r.name + " (" + r.c.ClientID + "): ")
		if err != nil {
			return err
		}
		// Staged and proven in one step, as the window's wizard does: a
		// secret the server refuses is never left staged.
		p, err := r.rot.StageAndProve(ctx, r.name, secret, true)
		if err != nil {
			return r.proveFailed(err)
		}
		return r.switchTo(ctx, p)
	}
	return r.finish(ctx)
}

// proveFailed says what became of the staged secret when proving it failed.
func (r *rotateRun) proveFailed(err error) error {
	var refused *rotation.RefusedError
	switch {
	case errors.As(err, &refused):
		r.a.infof("the current secret of %s stays in use", r.name)
	case !errors.Is(err, vault.ErrNoNextSecret) && !errors.Is(err, rotation.ErrAlreadyStaged):
		r.a.infof("the staged secret is kept: tokentray rotate %s --finish tries again, --cancel discards it", r.name)
	}
	return err
}

func (r *rotateRun) finish(ctx context.Context) error {
	// A pasted secret that the server refuses is discarded (ProveStaged);
	// a provider's new secret is kept for --cancel, which tells the provider.
	prove := r.rot.ProveStaged
	if r.provider != nil {
		prove = r.rot.Prove
	}
	p, err := prove(ctx, r.name)
	if sc, ok := r.provider.(*stytch.Client); ok && errors.Is(err, vault.ErrNoNextSecret) {
		// Switched here, but Stytch was not told (a crash in between)?
		if cur, cerr := r.rot.Store.Secret(r.name); cerr == nil {
			done, serr := sc.CompletePending(ctx, r.c.ClientID, cur)
			if serr != nil {
				return serr
			}
			if done {
				r.a.infof("completed the rotation pending at Stytch: the secret in use is now the only valid one")
				o, err := r.out()
				if err != nil {
					return err
				}
				return r.print(o)
			}
		}
	}
	if err != nil {
		return r.proveFailed(err)
	}
	return r.switchTo(ctx, p)
}

// switchTo switches to the proven secret, asking before a change of the
// granted scopes, and prints the outcome.
func (r *rotateRun) switchTo(ctx context.Context, p *rotation.Proof) error {
	opts := rotation.SwitchOptions{AcceptScopeChange: r.accept, Provider: r.provider}
	res, err := r.rot.Switch(ctx, p, opts)
	var sc *rotation.ScopeChangeError
	if errors.As(err, &sc) {
		r.a.warnf("the new secret grants different scopes than the current one: missing [%s], extra [%s]", strings.Join(sc.Missing, " "), strings.Join(sc.Extra, " "))
		yes, asked := r.a.confirm("switch to it anyway?")
		if !yes {
			if !asked {
				r.a.infof("the staged secret is kept: tokentray rotate %s --finish --accept-scope-change switches anyway, --cancel discards it", r.name)
			}
			return err
		}
		opts.AcceptScopeChange = true
		res, err = r.rot.Switch(ctx, p, opts)
	}
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		r.a.warnf("%v", w)
	}
	r.a.infof("rotated %s: the new secret is proven (granted: %s) and in use; the old one is no longer stored", r.name, strings.Join(res.Token.Scopes, " "))
	if !res.OldTokenExpiry.IsZero() {
		r.a.infof("tokens issued with the old secret stay valid until %s", res.OldTokenExpiry.Local().Format("2006-01-02 15:04 MST"))
	}
	o, err := r.out()
	if err != nil {
		return err
	}
	o.Switched, o.Granted, o.Missing, o.Extra = true, res.Token.Scopes, p.Missing, p.Extra
	o.Fingerprint, o.OldTokenExpiry = res.Token.Fingerprint(), res.OldTokenExpiry
	for _, w := range res.Warnings {
		o.Warnings = append(o.Warnings, w.Error())
	}
	return r.print(o)
}

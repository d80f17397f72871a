// Package rotation replaces a client's secret without ever leaving the client
// without a working one. The flow has four steps, each safe to stop after:
//
//  1. Status: the client's rotation status (vault.Rotation) and where a new
//     secret comes from.
//  2. Stage: the new secret is stored as the client's next-secret; the
//     current secret keeps serving tokens.
//  3. Prove: a real token exchange with the new secret must succeed, and the
//     scopes it grants are compared with those the current secret grants.
//     Any difference is returned as data; switching with a difference needs
//     SwitchOptions.AcceptScopeChange.
//  4. Switch: the staged secret becomes the current one (SecretSetAt = now),
//     the cached token is replaced by the proven one, and only then is the
//     staged item dropped.
//
// A failure at any step leaves the client with the secret it had, and the
// staged secret can be proven again (Finish) or discarded (Cancel). A crash
// between steps is survived: InProgress reports a client whose rotation was
// started and not finished, so a window or the command line can offer Finish
// and Cancel.
//
// The package knows nothing of Fyne or of the command line; ui and cli are
// thin front-ends on a Rotator. Subpackage stytch drives Stytch's M2M secret
// rotation API for admins who hold the project's credentials (a Provider).
package rotation

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// SecretSourceHelp says where a new client secret comes from. Front-ends show
// it beside the field the new secret is pasted into.
const SecretSourceHelp = "Create a new secret for this client in your provider's dashboard " +
	"(on the platform: Settings -> API Access) and paste it here. The current secret keeps working " +
	"until the new one is proven and switched to. For Stytch-managed projects, starting a rotation " +
	"(POST /v1/m2m/clients/{client_id}/secrets/rotate/start) returns a next_client_secret while both " +
	"secrets stay valid; completing it (/secrets/rotate) revokes the old one."

// Errors of the flow. The errors returned wrap them with the client and say
// what to do; test for them with errors.Is.
var (
	// ErrSameSecret means the secret given as the new one is the current
	// secret.
	ErrSameSecret = errors.New("the new secret is the same as the current one")
	// ErrScopeChange means the new secret grants different scopes than the
	// current one and the switch was not confirmed. The error is a
	// *ScopeChangeError.
	ErrScopeChange = errors.New("the new secret grants different scopes")
	// ErrStaleProof means the staged secret changed after it was proven.
	ErrStaleProof = errors.New("the staged secret changed after it was proven")
	// ErrAlreadySwitched means the staged secret is already the current
	// secret (a switch was interrupted), so cancelling at the provider would
	// revoke the secret in use.
	ErrAlreadySwitched = errors.New("the staged secret is already in use")
	// ErrAlreadyStaged means another new secret is staged already and the
	// caller did not ask to replace it (it may be a proven one).
	ErrAlreadyStaged = errors.New("another new secret is staged already")
	// ErrRefused means the token endpoint refused the new secret (it is
	// wrong, or not valid yet): it is not kept as the next secret. The
	// error is a *RefusedError.
	ErrRefused = errors.New("the token endpoint refused the new secret")
)

// RefusedError is returned when the token endpoint refused the new secret
// in a proof. The refused secret is not left staged: what was staged before
// it is back (Restored), or nothing is staged. It wraps ErrRefused and the
// *refresher.Error of the exchange.
type RefusedError struct {
	Name string
	// Restored is set when a secret staged earlier is staged again (the
	// refused one had replaced it); otherwise nothing is staged now.
	Restored bool
	Err      *refresher.Error
}

func (e *RefusedError) Error() string {
	left := "nothing is staged"
	if e.Restored {
		left = "the secret staged before is staged again"
	}
	return fmt.Sprintf("rotation: prove the new secret of %q: %v (%s); it was not kept and %s; the current secret keeps serving tokens: check the new secret and try again",
		e.Name, ErrRefused, e.Err.Message(), left)
}

// Unwrap returns ErrRefused and the exchange's error.
func (e *RefusedError) Unwrap() []error { return []error{ErrRefused, e.Err} }

// refusal reports whether err, from a proof's exchange, means the server
// refused the secret (as opposed to a passing failure such as an outage,
// after which the staged secret can be proven again).
func refusal(err error) (*refresher.Error, bool) {
	var re *refresher.Error
	if !errors.As(err, &re) {
		return nil, false
	}
	switch re.Class {
	case refresher.ClassRejected, refresher.ClassScope:
		return re, true
	case refresher.ClassConfig:
		return re, re.Status != 0 // the server answered 4xx; not a local problem
	}
	return re, false
}

// ExchangeFunc performs one uncached client-credentials exchange. It has the
// signature of refresher.Exchange, the default.
type ExchangeFunc func(ctx context.Context, hc *http.Client, c vault.Client, secret string, scopes []string) (refresher.Result, error)

// Provider is a secret issuer that can run the provider's side of a
// rotation itself (Stytch: rotate/start, rotate, rotate/cancel). Without a
// Provider the new secret is pasted by a person.
type Provider interface {
	// StartRotation asks the provider for a new secret for clientID; both
	// the old and the new secret stay valid until CompleteRotation.
	StartRotation(ctx context.Context, clientID string) (nextSecret string, err error)
	// CompleteRotation makes the new secret the only valid one.
	CompleteRotation(ctx context.Context, clientID string) error
	// CancelRotation drops the new secret at the provider.
	CancelRotation(ctx context.Context, clientID string) error
}

// Rotator runs the rotation flow on the clients of a store. Its fields are
// read-only after the first call; it is safe for concurrent use, and the
// store's locks serialise concurrent rotations of one client across
// processes step by step.
type Rotator struct {
	Store *vault.Store // required
	// HTTPClient is used for token exchanges (default
	// refresher.NewHTTPClient(15 * time.Second)).
	HTTPClient *http.Client
	// Exchange performs token exchanges (default refresher.Exchange); tests
	// and the demo may point it elsewhere.
	Exchange ExchangeFunc
}

// New returns a Rotator on store with the default HTTP client and
// refresher.Exchange.
func New(store *vault.Store) *Rotator { return &Rotator{Store: store} }

func (r *Rotator) exchange(ctx context.Context, c vault.Client, secret string) (refresher.Result, error) {
	hc := r.HTTPClient
	if hc == nil {
		hc = refresher.NewHTTPClient(15 * time.Second)
	}
	ex := r.Exchange
	if ex == nil {
		ex = refresher.Exchange
	}
	return ex(ctx, hc, c, secret, nil)
}

// Status is step 1: a client's rotation status and what a front-end should
// offer.
type Status struct {
	Client   vault.Client
	Rotation vault.RotationStatus // ok, due soon, overdue, with the due date
	// InProgress is set when a rotation was started and not finished or
	// cancelled: offer Finish and Cancel.
	InProgress bool
	// Staged is set when a new secret is in the keyring as next-secret
	// (Finish can prove it). InProgress without Staged means only Cancel
	// (or staging again) makes sense.
	Staged    bool
	StartedAt time.Time // when the secret was staged; zero when unknown
	// Where says where a new secret comes from (SecretSourceHelp).
	Where string
}

// Status returns the rotation status of the client called name. Errors wrap
// vault.ErrNoClient for an unknown name, and keyring errors.
func (r *Rotator) Status(name string) (Status, error) {
	c, err := r.Store.Get(name)
	if err != nil {
		return Status{}, fmt.Errorf("rotation: status: %w", err)
	}
	staged, err := hasStaged(r.Store, name)
	if err != nil {
		return Status{}, fmt.Errorf("rotation: status of %q: %w", name, err)
	}
	return Status{
		Client:     c,
		Rotation:   r.Store.Rotation(c),
		InProgress: staged || !c.RotationStartedAt.IsZero(),
		Staged:     staged,
		StartedAt:  c.RotationStartedAt,
		Where:      SecretSourceHelp,
	}, nil
}

// InProgress reports whether a rotation of c was started and not finished:
// RotationStartedAt is set or a next-secret is in the keyring (a crash
// between the keyring write and the index write leaves only the latter). It
// reads the keyring only when RotationStartedAt is zero.
func InProgress(s *vault.Store, c vault.Client) (bool, error) {
	if !c.RotationStartedAt.IsZero() {
		return true, nil
	}
	staged, err := hasStaged(s, c.Name)
	if err != nil {
		return false, fmt.Errorf("rotation: is %q rotating: %w", c.Name, err)
	}
	return staged, nil
}

func hasStaged(s *vault.Store, name string) (bool, error) {
	_, err := s.NextSecret(name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, vault.ErrNoNextSecret):
		return false, nil
	}
	return false, err
}

// Stage is step 2: it stores secret as the client's next-secret. The current
// secret keeps serving tokens. Staging again replaces an earlier staged
// secret. It fails with ErrSameSecret when secret is the current secret. On
// failure the client is as it was: a next-secret left by a failed first
// staging is removed again (best effort).
func (r *Rotator) Stage(name, secret string) error {
	secret, err := vault.NormalizeSecret(secret)
	if err != nil {
		return fmt.Errorf("rotation: stage %q: %w", name, err)
	}
	if _, err := r.Store.Get(name); err != nil {
		return fmt.Errorf("rotation: stage: %w", err)
	}
	if cur, err := r.Store.Secret(name); err == nil && equal(cur, secret) {
		return fmt.Errorf("rotation: stage %q: %w: create a new secret at the provider and paste that one", name, ErrSameSecret)
	}
	hadStaged, err := hasStaged(r.Store, name)
	if err != nil {
		return fmt.Errorf("rotation: stage %q: %w", name, err)
	}
	if err := r.Store.SetNextSecret(name, secret); err != nil {
		if !hadStaged {
			_ = r.Store.DiscardNextSecret(name) // best effort: undo a half-written staging
		}
		return fmt.Errorf("rotation: stage %q: %w; the current secret is unchanged: try again", name, err)
	}
	return nil
}

// StageAndProve stages secret and proves it (steps 2 and 3) so that a
// secret the token endpoint refuses never stays staged: on a refusal the
// staging is undone (a secret staged before is put back) and the error is a
// *RefusedError. After a passing failure (an outage, a rate limit) the new
// secret stays staged and Finish proves it later. When another secret is
// staged already it is replaced only with replace set; otherwise the error
// wraps ErrAlreadyStaged and nothing changes.
func (r *Rotator) StageAndProve(ctx context.Context, name, secret string, replace bool) (*Proof, error) {
	prev, err := r.Store.NextSecret(name)
	switch {
	case err == nil:
		if !replace {
			return nil, fmt.Errorf("rotation: stage %q: %w: finish or cancel the rotation in progress, or confirm replacing it", name, ErrAlreadyStaged)
		}
	case errors.Is(err, vault.ErrNoNextSecret):
		prev = ""
	default:
		return nil, fmt.Errorf("rotation: stage %q: %w", name, err)
	}
	if err := r.Stage(name, secret); err != nil {
		return nil, err
	}
	p, err := r.Prove(ctx, name)
	if err == nil {
		return p, nil
	}
	re, refused := refusal(err)
	if !refused {
		return nil, err
	}
	if prev != "" {
		if serr := r.Store.SetNextSecret(name, prev); serr != nil {
			return nil, fmt.Errorf("%w; putting back the secret staged before failed, so the refused one is still staged: cancel the rotation: %v", &RefusedError{Name: name, Err: re}, serr)
		}
		return nil, &RefusedError{Name: name, Restored: true, Err: re}
	}
	if derr := r.Store.DiscardNextSecret(name); derr != nil {
		return nil, fmt.Errorf("%w; discarding it failed, so it is still staged: cancel the rotation: %v", &RefusedError{Name: name, Err: re}, derr)
	}
	return nil, &RefusedError{Name: name, Err: re}
}

// ProveStaged proves the staged secret (Prove) and discards it when the
// token endpoint refuses it, so that a refused secret is never offered as
// the next one again: the error is then a *RefusedError. After a passing
// failure the staged secret stays for another try.
func (r *Rotator) ProveStaged(ctx context.Context, name string) (*Proof, error) {
	p, err := r.Prove(ctx, name)
	if err == nil {
		return p, nil
	}
	re, refused := refusal(err)
	if !refused {
		return nil, err
	}
	if derr := r.Store.DiscardNextSecret(name); derr != nil {
		return nil, fmt.Errorf("%w; discarding it failed, so it is still staged: cancel the rotation: %v", &RefusedError{Name: name, Err: re}, derr)
	}
	return nil, &RefusedError{Name: name, Err: re}
}

// BaselineSource says where the scopes of the current secret were read from.
type BaselineSource string

// Baseline sources, in order of preference.
const (
	// FromExchange: a fresh token exchange with the current secret.
	FromExchange BaselineSource = "exchange with the current secret"
	// FromCachedToken: the cached token (the current secret no longer
	// works, e.g. the provider already revoked it).
	FromCachedToken BaselineSource = "cached token"
	// FromConfigured: the client's configured scopes (nothing better known).
	FromConfigured BaselineSource = "configured scopes"
)

// Proof is the outcome of step 3: the new secret works, and what it grants
// compared with the current one. It holds the token the new secret earned,
// which Switch caches; Token.String never shows the token itself.
type Proof struct {
	Name     string
	ClientID string
	Token    vault.Token // from the new secret; Token.Scopes are the granted scopes
	// Baseline are the scopes the current secret grants, read from
	// BaselineFrom; BaselineErr says why a fresh exchange with the current
	// secret was not used (nil when it was).
	Baseline     []string
	BaselineFrom BaselineSource
	BaselineErr  error
	// Missing are baseline scopes the new secret was not granted; Extra
	// are scopes granted to the new secret beyond the baseline.
	Missing  []string
	Extra    []string
	ProvenAt time.Time

	secretSum [sha256.Size]byte // which staged secret was proven; never shown
}

// Granted returns the scopes the new secret was granted.
func (p *Proof) Granted() []string { return slices.Clone(p.Token.Scopes) }

// Differs reports whether the new secret grants different scopes than the
// current one: switching then needs SwitchOptions.AcceptScopeChange.
func (p *Proof) Differs() bool { return len(p.Missing) > 0 || len(p.Extra) > 0 }

// Prove is step 3: a real token exchange with the staged secret, and a
// comparison of its granted scopes with the current secret's (a fresh
// exchange with the current secret, else the cached token, else the
// configured scopes). Nothing is written. Errors wrap vault.ErrNoNextSecret
// when nothing is staged, and the *refresher.Error of a failed exchange.
func (r *Rotator) Prove(ctx context.Context, name string) (*Proof, error) {
	c, err := r.Store.Get(name)
	if err != nil {
		return nil, fmt.Errorf("rotation: prove: %w", err)
	}
	next, err := r.Store.NextSecret(name)
	if err != nil {
		return nil, fmt.Errorf("rotation: prove %q: %w: stage the new secret first", name, err)
	}
	res, err := r.exchange(ctx, c, next)
	if err != nil {
		return nil, fmt.Errorf("rotation: prove the new secret of %q: %w; the current secret keeps serving tokens: check the new secret and stage it again, or cancel", name, err)
	}
	p := &Proof{
		Name:      name,
		ClientID:  c.ClientID,
		Token:     res.Token,
		ProvenAt:  r.Store.Now(),
		secretSum: sha256.Sum256([]byte(next)),
	}
	p.Baseline, p.BaselineFrom, p.BaselineErr = r.baseline(ctx, c, next)
	p.Missing = vault.MissingScopes(p.Baseline, p.Token.Scopes)
	p.Extra = vault.MissingScopes(p.Token.Scopes, p.Baseline)
	return p, nil
}

// baseline returns the scopes the current secret grants.
func (r *Rotator) baseline(ctx context.Context, c vault.Client, next string) ([]string, BaselineSource, error) {
	var why error
	cur, err := r.Store.Secret(c.Name)
	switch {
	case err != nil:
		why = err
	case equal(cur, next):
		// An interrupted switch already installed the staged secret: the
		// current secret's grants are no baseline.
		why = errors.New("the current secret is the staged one (an interrupted switch)")
	default:
		res, err := r.exchange(ctx, c, cur)
		if err == nil {
			return slices.Clone(res.Token.Scopes), FromExchange, nil
		}
		why = err
	}
	if t, err := r.Store.Token(c.Name, nil); err == nil && t.AccessToken != "" {
		return slices.Clone(t.Scopes), FromCachedToken, why
	}
	return slices.Clone(c.Scopes), FromConfigured, why
}

// ScopeChangeError is returned by Switch when the new secret grants
// different scopes and the change was not accepted. It wraps
// ErrScopeChange.
type ScopeChangeError struct {
	Name    string
	Missing []string // granted to the current secret, not to the new one
	Extra   []string // granted to the new secret only
}

func (e *ScopeChangeError) Error() string {
	return fmt.Sprintf("rotation: switch %q: %v (missing %v, extra %v): review the client's scopes at the provider, or confirm the change", e.Name, ErrScopeChange, e.Missing, e.Extra)
}

// Unwrap returns ErrScopeChange.
func (e *ScopeChangeError) Unwrap() error { return ErrScopeChange }

// SwitchOptions modify Switch and Finish.
type SwitchOptions struct {
	// AcceptScopeChange confirms a switch to a secret that grants different
	// scopes than the current one (the explicit confirmation).
	AcceptScopeChange bool
	// Provider, when set, completes the rotation at the provider after the
	// local switch (Stytch: the old secret is revoked there).
	Provider Provider
}

// Result is the outcome of a switch.
type Result struct {
	Proof  *Proof
	Client vault.Client // as saved after the switch
	// Token is the token from the new secret now cached (or, when caching
	// failed, held here only).
	Token vault.Token
	// OldTokenExpiry is when the token cached from the old secret expires:
	// tokens issued with the old secret stay valid until they expire (the
	// platform does not revoke issued JWTs). Zero when none was cached.
	OldTokenExpiry time.Time
	// Warnings are problems after the switch was saved: the switch holds,
	// but the user should know (a staged item left in the keyring, the
	// token not cached, the provider not told).
	Warnings []error
}

// Switch is step 4: after checking the proof (and, when it differs,
// opts.AcceptScopeChange), it makes the staged secret the current one with
// SecretSetAt = now (vault.Store.PromoteNextSecret: the old secret is
// overwritten together with the index update and restored if that fails),
// then caches the proven token, then completes the rotation at
// opts.Provider. Errors before the switch is saved leave the client as it
// was; problems after it are Result.Warnings.
func (r *Rotator) Switch(ctx context.Context, p *Proof, opts SwitchOptions) (Result, error) {
	if p == nil {
		return Result{}, errors.New("rotation: switch: no proof: prove the staged secret first")
	}
	name := p.Name
	res := Result{Proof: p}
	if p.Differs() && !opts.AcceptScopeChange {
		return res, &ScopeChangeError{Name: name, Missing: slices.Clone(p.Missing), Extra: slices.Clone(p.Extra)}
	}
	next, err := r.Store.NextSecret(name)
	if err != nil {
		return res, fmt.Errorf("rotation: switch %q: %w: stage and prove the new secret again", name, err)
	}
	if sum := sha256.Sum256([]byte(next)); subtle.ConstantTimeCompare(sum[:], p.secretSum[:]) != 1 {
		return res, fmt.Errorf("rotation: switch %q: %w: prove it again", name, ErrStaleProof)
	}
	if old, err := r.Store.Token(name, nil); err == nil && old.Valid(r.Store.Now()) {
		res.OldTokenExpiry = old.Expiry
	}
	if err := r.Store.PromoteNextSecret(name); err != nil {
		var partial *vault.PartialError
		if !errors.As(err, &partial) {
			return res, fmt.Errorf("rotation: switch %q: %w; the client keeps its current secret: finish again or cancel", name, err)
		}
		res.Warnings = append(res.Warnings, fmt.Errorf("rotation: switch %q: switched, but the staged copy remains in the keyring (finish or cancel removes it): %w", name, err))
	}
	c, err := r.Store.Get(name)
	if err != nil {
		res.Warnings = append(res.Warnings, fmt.Errorf("rotation: switch %q: switched, but re-reading the client failed: %w", name, err))
	}
	res.Client = c
	res.Token = p.Token
	if !p.Token.Valid(r.Store.Now().Add(time.Minute)) && err == nil {
		// The proof is old: earn a fresh token with the (now current) secret.
		if fresh, ferr := r.exchange(ctx, c, next); ferr == nil {
			res.Token = fresh.Token
		} else {
			res.Warnings = append(res.Warnings, fmt.Errorf("rotation: switch %q: switched, but a fresh token could not be fetched (the next refresh will try again): %w", name, ferr))
		}
	}
	if res.Token.Valid(r.Store.Now()) {
		if err := r.Store.SetToken(name, nil, res.Token); err != nil {
			res.Warnings = append(res.Warnings, fmt.Errorf("rotation: switch %q: switched, but the new token was not cached (the next refresh fetches one): %w", name, err))
		}
	}
	if opts.Provider != nil {
		if err := opts.Provider.CompleteRotation(ctx, p.ClientID); err != nil {
			res.Warnings = append(res.Warnings, fmt.Errorf("rotation: switch %q: switched, but completing the rotation at the provider failed, so it still accepts the old secret too: complete it there: %w", name, err))
		}
	}
	return res, nil
}

// Finish proves the staged secret and switches to it (steps 3 and 4): the
// "Finish" of a rotation in progress, and the end of a rotation in one go.
// On a *ScopeChangeError the returned Result.Proof says what differs.
func (r *Rotator) Finish(ctx context.Context, name string, opts SwitchOptions) (Result, error) {
	p, err := r.Prove(ctx, name)
	if err != nil {
		return Result{}, err
	}
	return r.Switch(ctx, p, opts)
}

// Rotate stages secret and finishes the rotation (steps 2 to 4), as
// `tokentray rotate` does. After a failure in proving or switching, the
// staged secret remains: Finish retries, Cancel discards.
func (r *Rotator) Rotate(ctx context.Context, name, secret string, opts SwitchOptions) (Result, error) {
	if err := r.Stage(name, secret); err != nil {
		return Result{}, err
	}
	return r.Finish(ctx, name, opts)
}

// StageFromProvider starts a rotation at p and stages the new secret it
// returns. If staging fails, the rotation at p is cancelled again (best
// effort), since the new secret would otherwise be lost.
func (r *Rotator) StageFromProvider(ctx context.Context, name string, p Provider) error {
	c, err := r.Store.Get(name)
	if err != nil {
		return fmt.Errorf("rotation: stage from provider: %w", err)
	}
	next, err := p.StartRotation(ctx, c.ClientID)
	if err != nil {
		return fmt.Errorf("rotation: start rotation of %q at the provider: %w", name, err)
	}
	if err := r.Stage(name, next); err != nil {
		if cerr := p.CancelRotation(ctx, c.ClientID); cerr != nil {
			return fmt.Errorf("%w; cancelling at the provider failed too (cancel it there): %v", err, cerr)
		}
		return err
	}
	return nil
}

// Cancel discards the staged secret and ends the rotation; the current
// secret is untouched. With a provider the rotation is first cancelled
// there; that is refused with ErrAlreadySwitched when an interrupted switch
// already made the staged secret the current one (Finish instead).
func (r *Rotator) Cancel(ctx context.Context, name string, p Provider) error {
	c, err := r.Store.Get(name)
	if err != nil {
		return fmt.Errorf("rotation: cancel: %w", err)
	}
	if p != nil {
		next, nerr := r.Store.NextSecret(name)
		cur, cerr := r.Store.Secret(name)
		if nerr == nil && cerr == nil && equal(next, cur) {
			return fmt.Errorf("rotation: cancel %q: %w: finish the rotation instead", name, ErrAlreadySwitched)
		}
		if err := p.CancelRotation(ctx, c.ClientID); err != nil {
			return fmt.Errorf("rotation: cancel %q at the provider: %w; nothing was discarded: try again", name, err)
		}
	}
	if err := r.Store.DiscardNextSecret(name); err != nil {
		return fmt.Errorf("rotation: cancel %q: %w", name, err)
	}
	return nil
}

// SetSecretDate records when the client's current secret was created, for a
// secret older than its entry in Tokentray ("secret created on ..."). The
// date may not be zero or in the future (by the store's clock); the error is
// then a *vault.ValidationError for field "secret_set_at".
func SetSecretDate(s *vault.Store, name string, createdAt time.Time) error {
	now := s.Now()
	switch {
	case createdAt.IsZero():
		return fmt.Errorf("rotation: set secret date of %q: %w", name, &vault.ValidationError{Field: "secret_set_at", Problem: "a date is required: when was the secret created at the provider?"})
	case createdAt.After(now):
		return fmt.Errorf("rotation: set secret date of %q: %w", name, &vault.ValidationError{Field: "secret_set_at",
			Problem: fmt.Sprintf("%s is in the future: give the day the secret was created, today or earlier", createdAt.Format(time.DateOnly))})
	}
	err := s.Update(name, func(c *vault.Client) error {
		c.SecretSetAt = createdAt.UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("rotation: set secret date: %w", err)
	}
	return nil
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

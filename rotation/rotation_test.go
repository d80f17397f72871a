package rotation_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

var ctx = context.Background()

func TestRotateStepByStep(t *testing.T) {
	f := newFixture(t)
	f.ts.allow(newSecret, scopes...) // the provider's overlap: both valid

	// 1. Status.
	st := f.status()
	if st.InProgress || st.Staged {
		t.Errorf("before staging: InProgress %v, Staged %v; want false, false", st.InProgress, st.Staged)
	}
	if st.Rotation.State != vault.RotationOK || st.Where == "" {
		t.Errorf("status: state %q, where %q; want ok and a hint", st.Rotation.State, st.Where)
	}

	// 2. Stage: the current secret keeps serving tokens.
	if err := f.rot.Stage(name, newSecret+"\n"); err != nil {
		t.Fatalf("Stage: %v", err)
	}
	st = f.status()
	if !st.InProgress || !st.Staged || st.StartedAt.IsZero() {
		t.Errorf("after staging: InProgress %v, Staged %v, StartedAt %v; want true, true, set", st.InProgress, st.Staged, st.StartedAt)
	}
	if cur, next := f.secrets(); cur != oldSecret || next != newSecret {
		t.Errorf("after staging: secret %q, next %q; want %q, %q", cur, next, oldSecret, newSecret)
	}
	f.mustWork(oldSecret)

	// 3. Prove.
	before, _ := f.st.Get(name)
	p, err := f.rot.Prove(ctx, name)
	if err != nil {
		t.Fatalf("Prove: %v", err)
	}
	if p.Differs() || p.BaselineFrom != rotation.FromExchange || p.BaselineErr != nil {
		t.Errorf("proof: differs %v (missing %v, extra %v), baseline from %q (%v); want no difference, from an exchange", p.Differs(), p.Missing, p.Extra, p.BaselineFrom, p.BaselineErr)
	}
	if got := f.ts.secretOf(p.Token.AccessToken); got != newSecret {
		t.Errorf("proof token earned with %q; want %q", got, newSecret)
	}
	if after, _ := f.st.Get(name); !after.SecretSetAt.Equal(before.SecretSetAt) {
		t.Errorf("Prove changed SecretSetAt from %v to %v; want no write", before.SecretSetAt, after.SecretSetAt)
	}

	// 4. Switch.
	t0 := time.Now().UTC()
	res, err := f.rot.Switch(ctx, p, rotation.SwitchOptions{})
	if err != nil {
		t.Fatalf("Switch: %v", err)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("Switch warnings: %v; want none", res.Warnings)
	}
	if cur, next := f.secrets(); cur != newSecret || next != "" {
		t.Errorf("after switch: secret %q, next %q; want %q and none", cur, next, newSecret)
	}
	c, _ := f.st.Get(name)
	if c.SecretSetAt.Before(t0) || !c.RotationStartedAt.IsZero() {
		t.Errorf("after switch: SecretSetAt %v (want >= %v), RotationStartedAt %v (want zero)", c.SecretSetAt, t0, c.RotationStartedAt)
	}
	cached, err := f.st.Token(name, nil)
	if err != nil || cached.AccessToken != p.Token.AccessToken {
		t.Errorf("cached token %v (%v); want the proven token %v", cached, err, p.Token)
	}
	if st := f.status(); st.InProgress {
		t.Errorf("after switch: InProgress true; want false")
	}
	f.ts.revoke(oldSecret) // the provider completes its rotation
	f.mustWork(newSecret)
}

func TestSwitchKeepsOldTokenExpiry(t *testing.T) {
	f := newFixture(t)
	f.ts.allow(newSecret, scopes...)
	old, err := f.exchange()
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if err := f.st.SetToken(name, nil, old.Token); err != nil {
		t.Fatalf("SetToken: %v", err)
	}
	res, err := f.rot.Rotate(ctx, name, newSecret, rotation.SwitchOptions{})
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if !res.OldTokenExpiry.Equal(old.Token.Expiry) {
		t.Errorf("OldTokenExpiry %v; want the old token's expiry %v", res.OldTokenExpiry, old.Token.Expiry)
	}
	if got := f.ts.secretOf(res.Token.AccessToken); got != newSecret {
		t.Errorf("new token earned with %q; want %q", got, newSecret)
	}
}

// TestFailures injects a failure at each step and checks that the client
// is as it was and still gets tokens, then that the rotation can be retried
// or cancelled.
func TestFailures(t *testing.T) {
	errInjected := vault.ErrKeyringLocked
	failOn := func(op, key string) func(string, string) error {
		return func(o, k string) error {
			if o == op && k == key {
				return errInjected
			}
			return nil
		}
	}
	tests := []struct {
		name string
		// run performs the failing part of the flow and returns its error.
		run     func(f *fixture) error
		wantErr error // errors.Is target; nil: check with wantAs
		// wantStaged: after the failure a staged secret remains to retry.
		wantStaged bool
	}{
		{
			name: "keyring write fails at stage",
			run: func(f *fixture) error {
				f.kr.FailWith(failOn("set", name+"/next-secret"))
				return f.rot.Stage(name, newSecret)
			},
			wantErr: errInjected,
		},
		{
			name: "new secret rejected with 401",
			run: func(f *fixture) error {
				f.ts.revoke(newSecret)
				if err := f.rot.Stage(name, newSecret); err != nil {
					return err
				}
				_, err := f.rot.Prove(ctx, name)
				var re *refresher.Error
				if !errors.As(err, &re) || re.Class != refresher.ClassRejected {
					f.t.Errorf("Prove error %v; want a *refresher.Error of class rejected", err)
				}
				return err
			},
			wantStaged: true,
		},
		{
			name: "new secret grants fewer scopes",
			run: func(f *fixture) error {
				f.ts.allow(newSecret, "models:read")
				if err := f.rot.Stage(name, newSecret); err != nil {
					return err
				}
				p, err := f.rot.Prove(ctx, name)
				if err != nil {
					return err
				}
				if !slices.Equal(p.Missing, []string{"chat:invoke"}) || len(p.Extra) != 0 {
					f.t.Errorf("proof missing %v, extra %v; want [chat:invoke], []", p.Missing, p.Extra)
				}
				_, err = f.rot.Switch(ctx, p, rotation.SwitchOptions{})
				var sc *rotation.ScopeChangeError
				if !errors.As(err, &sc) || !slices.Equal(sc.Missing, []string{"chat:invoke"}) {
					f.t.Errorf("Switch error %v; want a *ScopeChangeError missing chat:invoke", err)
				}
				return err
			},
			wantErr:    rotation.ErrScopeChange,
			wantStaged: true,
		},
		{
			name: "keyring write fails at switch",
			run: func(f *fixture) error {
				if err := f.rot.Stage(name, newSecret); err != nil {
					return err
				}
				p, err := f.rot.Prove(ctx, name)
				if err != nil {
					return err
				}
				f.kr.FailWith(failOn("set", vault.SecretKey(name)))
				_, err = f.rot.Switch(ctx, p, rotation.SwitchOptions{})
				return err
			},
			wantErr:    errInjected,
			wantStaged: true,
		},
		{
			name: "index write fails at stage (keyring written)",
			run: func(f *fixture) error {
				defer f.blockIndexWrites()()
				return f.rot.Stage(name, newSecret)
			},
		},
		{
			name: "index write fails at switch (secret overwritten, then restored)",
			run: func(f *fixture) error {
				if err := f.rot.Stage(name, newSecret); err != nil {
					return err
				}
				p, err := f.rot.Prove(ctx, name)
				if err != nil {
					return err
				}
				defer f.blockIndexWrites()()
				_, err = f.rot.Switch(ctx, p, rotation.SwitchOptions{})
				return err
			},
			wantStaged: true,
		},
		{
			name: "keyring read of the staged secret fails at switch",
			run: func(f *fixture) error {
				if err := f.rot.Stage(name, newSecret); err != nil {
					return err
				}
				p, err := f.rot.Prove(ctx, name)
				if err != nil {
					return err
				}
				f.kr.FailWith(failOn("get", name+"/next-secret"))
				_, err = f.rot.Switch(ctx, p, rotation.SwitchOptions{})
				return err
			},
			wantErr:    errInjected,
			wantStaged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ts.allow(newSecret, scopes...)
			before, _ := f.st.Get(name)
			err := tt.run(f)
			f.kr.FailWith(nil)
			if err == nil {
				t.Fatalf("got no error; want one")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v; want one wrapping %v", err, tt.wantErr)
			}
			// The client is as it was and still gets tokens.
			after, _ := f.st.Get(name)
			if !after.SecretSetAt.Equal(before.SecretSetAt) {
				t.Errorf("SecretSetAt %v; want unchanged %v", after.SecretSetAt, before.SecretSetAt)
			}
			cur, next := f.secrets()
			if cur != oldSecret {
				t.Errorf("current secret %q; want %q", cur, oldSecret)
			}
			if got := next != ""; got != tt.wantStaged {
				t.Errorf("staged secret present %v; want %v", got, tt.wantStaged)
			}
			if st := f.status(); st.InProgress != tt.wantStaged {
				t.Errorf("InProgress %v; want %v", st.InProgress, tt.wantStaged)
			}
			f.mustWork(oldSecret)

			// Cancel leaves the client as before the rotation.
			if err := f.rot.Cancel(ctx, name, nil); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			if st := f.status(); st.InProgress || st.Staged {
				t.Errorf("after cancel: InProgress %v, Staged %v; want false, false", st.InProgress, st.Staged)
			}
			f.mustWork(oldSecret)

			// A retry with a good secret goes through.
			f.ts.allow(newSecret, scopes...)
			if _, err := f.rot.Rotate(ctx, name, newSecret, rotation.SwitchOptions{}); err != nil {
				t.Fatalf("retry: %v", err)
			}
			f.ts.revoke(oldSecret)
			f.mustWork(newSecret)
		})
	}
}

func TestAcceptScopeChange(t *testing.T) {
	f := newFixture(t)
	f.ts.allow(newSecret, "models:read", "org:admin")
	res, err := f.rot.Rotate(ctx, name, newSecret, rotation.SwitchOptions{})
	if !errors.Is(err, rotation.ErrScopeChange) {
		t.Fatalf("Rotate: %v; want ErrScopeChange", err)
	}
	if res.Proof == nil {
		t.Fatalf("Rotate returned no proof with the scope change")
	}
	// org:admin is not requested, so not granted: only chat:invoke differs.
	if !slices.Equal(res.Proof.Missing, []string{"chat:invoke"}) || len(res.Proof.Extra) != 0 {
		t.Errorf("missing %v, extra %v; want [chat:invoke], []", res.Proof.Missing, res.Proof.Extra)
	}
	f.mustWork(oldSecret)
	res, err = f.rot.Switch(ctx, res.Proof, rotation.SwitchOptions{AcceptScopeChange: true})
	if err != nil {
		t.Fatalf("Switch with AcceptScopeChange: %v", err)
	}
	if !slices.Equal(res.Token.Scopes, []string{"models:read"}) {
		t.Errorf("new token scopes %v; want [models:read]", res.Token.Scopes)
	}
	f.ts.revoke(oldSecret)
	f.mustWork(newSecret)
}

func TestExtraScopeNeedsConfirmation(t *testing.T) {
	f := newFixture(t)
	f.ts.allow(oldSecret, "models:read")
	f.ts.allow(newSecret, scopes...)
	res, err := f.rot.Rotate(ctx, name, newSecret, rotation.SwitchOptions{})
	var sc *rotation.ScopeChangeError
	if !errors.As(err, &sc) || len(sc.Missing) != 0 || !slices.Equal(sc.Extra, []string{"chat:invoke"}) {
		t.Fatalf("Rotate: %v; want a scope change with extra [chat:invoke]", err)
	}
	if _, err := f.rot.Switch(ctx, res.Proof, rotation.SwitchOptions{AcceptScopeChange: true}); err != nil {
		t.Fatalf("Switch: %v", err)
	}
	f.mustWork(newSecret)
}

func TestDeleteOfStagedFailsAfterSwitch(t *testing.T) {
	f := newFixture(t)
	f.ts.allow(newSecret, scopes...)
	if err := f.rot.Stage(name, newSecret); err != nil {
		t.Fatal(err)
	}
	f.kr.FailWith(func(op, key string) error {
		if op == "delete" && key == name+"/next-secret" {
			return vault.ErrKeyringLocked
		}
		return nil
	})
	res, err := f.rot.Finish(ctx, name, rotation.SwitchOptions{})
	f.kr.FailWith(nil)
	if err != nil {
		t.Fatalf("Finish: %v; want success with a warning", err)
	}
	if len(res.Warnings) != 1 {
		t.Errorf("warnings %v; want one about the staged copy", res.Warnings)
	}
	f.ts.revoke(oldSecret)
	f.mustWork(newSecret)
	// The leftover shows as a rotation in progress; Finish clears it.
	if st := f.status(); !st.InProgress {
		t.Errorf("InProgress false with a staged copy left; want true")
	}
	if _, err := f.rot.Finish(ctx, name, rotation.SwitchOptions{}); err != nil {
		t.Fatalf("second Finish: %v", err)
	}
	if st := f.status(); st.InProgress || st.Staged {
		t.Errorf("after second Finish: InProgress %v, Staged %v; want false", st.InProgress, st.Staged)
	}
	f.mustWork(newSecret)
}

// TestCrash simulates a process that dies between (or inside) steps: the
// state it leaves is built, the store is reopened from the same directory
// and keyring, and the rotation is finished or cancelled from there.
func TestCrash(t *testing.T) {
	tests := []struct {
		name string
		// crash leaves the state a crash would.
		crash func(f *fixture)
		// wantCur is the secret in use after the crash.
		wantCur string
		// cancelOK: Cancel is a sensible way out (the old secret is
		// still the current one).
		cancelOK bool
	}{
		{
			name:     "after stage",
			crash:    func(f *fixture) { mustNil(f.t, f.rot.Stage(name, newSecret)) },
			wantCur:  oldSecret,
			cancelOK: true,
		},
		{
			name: "inside stage: keyring written, index not",
			crash: func(f *fixture) {
				mustNil(f.t, f.kr.Set(name+"/next-secret", newSecret))
			},
			wantCur:  oldSecret,
			cancelOK: true,
		},
		{
			name: "after prove",
			crash: func(f *fixture) {
				mustNil(f.t, f.rot.Stage(name, newSecret))
				_, err := f.rot.Prove(ctx, name)
				mustNil(f.t, err)
			},
			wantCur:  oldSecret,
			cancelOK: true,
		},
		{
			name: "inside switch: secret overwritten, index not saved",
			crash: func(f *fixture) {
				mustNil(f.t, f.rot.Stage(name, newSecret))
				mustNil(f.t, f.kr.Set(vault.SecretKey(name), newSecret))
			},
			wantCur: newSecret,
		},
		{
			name: "inside switch: index saved, staged copy not deleted",
			crash: func(f *fixture) {
				mustNil(f.t, f.rot.Stage(name, newSecret))
				mustNil(f.t, f.kr.Set(vault.SecretKey(name), newSecret))
				mustNil(f.t, f.st.Update(name, func(c *vault.Client) error {
					c.SecretSetAt, c.RotationStartedAt = time.Now().UTC(), time.Time{}
					return nil
				}))
			},
			wantCur: newSecret,
		},
	}
	for _, tt := range tests {
		for _, finish := range []bool{true, false} {
			if !finish && !tt.cancelOK {
				continue
			}
			label := "finish"
			if !finish {
				label = "cancel"
			}
			t.Run(tt.name+"/"+label, func(t *testing.T) {
				f := newFixture(t)
				f.ts.allow(newSecret, scopes...)
				tt.crash(f)
				f.reopen()
				st := f.status()
				if !st.InProgress {
					t.Errorf("after reopening: InProgress false; want true")
				}
				c, _ := f.st.Get(name)
				if got, err := rotation.InProgress(f.st, c); !got || err != nil {
					t.Errorf("InProgress(store, client) = %v, %v; want true, nil", got, err)
				}
				f.mustWork(tt.wantCur)
				if !finish {
					mustNil(t, f.rot.Cancel(ctx, name, nil))
					if st := f.status(); st.InProgress {
						t.Errorf("after cancel: InProgress true; want false")
					}
					f.mustWork(oldSecret)
					return
				}
				if _, err := f.rot.Finish(ctx, name, rotation.SwitchOptions{}); err != nil {
					t.Fatalf("Finish: %v", err)
				}
				if cur, next := f.secrets(); cur != newSecret || next != "" {
					t.Errorf("after finish: secret %q, next %q; want %q and none", cur, next, newSecret)
				}
				if st := f.status(); st.InProgress {
					t.Errorf("after finish: InProgress true; want false")
				}
				f.ts.revoke(oldSecret)
				f.mustWork(newSecret)
			})
		}
	}
}

// TestOldSecretAlreadyRevoked covers providers that replace a secret at
// once (Hydra's admin API): the baseline comes from the cached token.
func TestOldSecretAlreadyRevoked(t *testing.T) {
	f := newFixture(t)
	old, err := f.exchange()
	mustNil(t, err)
	mustNil(t, f.st.SetToken(name, nil, old.Token))
	f.ts.revoke(oldSecret)
	f.ts.allow(newSecret, scopes...)
	mustNil(t, f.rot.Stage(name, newSecret))
	p, err := f.rot.Prove(ctx, name)
	if err != nil {
		t.Fatalf("Prove: %v", err)
	}
	if p.BaselineFrom != rotation.FromCachedToken || p.BaselineErr == nil || p.Differs() {
		t.Errorf("baseline from %q (err %v), differs %v; want the cached token, the exchange error, no difference", p.BaselineFrom, p.BaselineErr, p.Differs())
	}
	mustNil(t, f.kr.Delete(vault.TokenKey(name, nil)))
	p, err = f.rot.Prove(ctx, name)
	mustNil(t, err)
	if p.BaselineFrom != rotation.FromConfigured {
		t.Errorf("without a cached token: baseline from %q; want %q", p.BaselineFrom, rotation.FromConfigured)
	}
	if _, err := f.rot.Switch(ctx, p, rotation.SwitchOptions{}); err != nil {
		t.Fatalf("Switch: %v", err)
	}
	f.mustWork(newSecret)
}

func TestStageErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, client, secret string
		want                 error
	}{
		{"same secret", name, oldSecret, rotation.ErrSameSecret},
		{"unknown client", "nope", newSecret, vault.ErrNoClient},
		{"empty secret", name, "\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.rot.Stage(tt.client, tt.secret)
			if err == nil {
				t.Fatalf("Stage: no error; want one")
			}
			var ve *vault.ValidationError
			if tt.want != nil && !errors.Is(err, tt.want) || tt.want == nil && !errors.As(err, &ve) {
				t.Errorf("Stage: %v; want %v", err, tt.want)
			}
			if _, next := f.secrets(); next != "" {
				t.Errorf("a secret was staged")
			}
		})
	}
}

func TestStaleProof(t *testing.T) {
	f := newFixture(t)
	f.ts.allow(newSecret, scopes...)
	f.ts.allow("third-secret", scopes...)
	mustNil(t, f.rot.Stage(name, newSecret))
	p, err := f.rot.Prove(ctx, name)
	mustNil(t, err)
	mustNil(t, f.rot.Stage(name, "third-secret"))
	if _, err := f.rot.Switch(ctx, p, rotation.SwitchOptions{}); !errors.Is(err, rotation.ErrStaleProof) {
		t.Fatalf("Switch with a proof of another secret: %v; want ErrStaleProof", err)
	}
	f.mustWork(oldSecret)
	if _, err := f.rot.Switch(ctx, nil, rotation.SwitchOptions{}); err == nil {
		t.Errorf("Switch(nil proof): no error; want one")
	}
	if _, err := f.rot.Prove(ctx, "nope"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("Prove(unknown): %v; want ErrNoClient", err)
	}
	mustNil(t, f.rot.Cancel(ctx, name, nil))
	if _, err := f.rot.Prove(ctx, name); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("Prove with nothing staged: %v; want ErrNoNextSecret", err)
	}
}

func TestSetSecretDate(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	tests := []struct {
		name    string
		at      time.Time
		wantErr bool
	}{
		{"zero", time.Time{}, true},
		{"future", now.Add(48 * time.Hour), true},
		{"80 days ago", now.Add(-80 * 24 * time.Hour), false},
		{"now", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := f.st.Get(name)
			err := rotation.SetSecretDate(f.st, name, tt.at)
			after, _ := f.st.Get(name)
			if tt.wantErr {
				var ve *vault.ValidationError
				if !errors.As(err, &ve) || ve.Field != "secret_set_at" {
					t.Errorf("SetSecretDate: %v; want a validation error for secret_set_at", err)
				}
				if !after.SecretSetAt.Equal(before.SecretSetAt) {
					t.Errorf("SecretSetAt changed to %v on error", after.SecretSetAt)
				}
				return
			}
			if err != nil || !after.SecretSetAt.Equal(tt.at.UTC()) {
				t.Errorf("SetSecretDate: %v, SecretSetAt %v; want nil, %v", err, after.SecretSetAt, tt.at.UTC())
			}
		})
	}
	mustNil(t, rotation.SetSecretDate(f.st, name, now.Add(-80*24*time.Hour)))
	if st := f.status(); st.Rotation.State != vault.RotationDueSoon || st.Rotation.DaysLeft != 10 {
		t.Errorf("after dating the secret 80 days back: %q, %d days left; want due-soon, 10", st.Rotation.State, st.Rotation.DaysLeft)
	}
	if err := rotation.SetSecretDate(f.st, "nope", now); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("unknown client: %v; want ErrNoClient", err)
	}
}

// blockIndexWrites makes every index write fail (after the keyring calls
// that precede it): the store backs up the old index first, and a directory
// in the backup's place cannot be replaced. It returns the undo.
func (f *fixture) blockIndexWrites() func() {
	f.t.Helper()
	block := filepath.Join(f.dir, vault.BackupFile)
	_ = os.Remove(block)
	if err := os.MkdirAll(filepath.Join(block, "blocked"), 0o700); err != nil {
		f.t.Fatal(err)
	}
	return func() {
		if err := os.RemoveAll(block); err != nil {
			f.t.Fatal(err)
		}
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeProvider issues newSecret on the token server and records calls.
type fakeProvider struct {
	f                          *fixture
	startErr, completeErr      error
	started, completed, cancel int
}

func (p *fakeProvider) StartRotation(_ context.Context, id string) (string, error) {
	if p.startErr != nil {
		return "", p.startErr
	}
	p.started++
	p.f.ts.allow(newSecret, scopes...)
	return newSecret, nil
}

func (p *fakeProvider) CompleteRotation(context.Context, string) error {
	if p.completeErr != nil {
		return p.completeErr
	}
	p.completed++
	p.f.ts.revoke(oldSecret)
	return nil
}

func (p *fakeProvider) CancelRotation(context.Context, string) error {
	p.cancel++
	p.f.ts.revoke(newSecret)
	return nil
}

func TestProviderFailures(t *testing.T) {
	errDown := errors.New("provider down")
	t.Run("start fails", func(t *testing.T) {
		f := newFixture(t)
		p := &fakeProvider{f: f, startErr: errDown}
		if err := f.rot.StageFromProvider(ctx, name, p); !errors.Is(err, errDown) {
			t.Fatalf("StageFromProvider: %v; want %v", err, errDown)
		}
		if st := f.status(); st.InProgress {
			t.Errorf("InProgress after a failed start; want false")
		}
		f.mustWork(oldSecret)
	})
	t.Run("complete fails after the switch", func(t *testing.T) {
		f := newFixture(t)
		p := &fakeProvider{f: f, completeErr: errDown}
		mustNil(t, f.rot.StageFromProvider(ctx, name, p))
		res, err := f.rot.Finish(ctx, name, rotation.SwitchOptions{Provider: p})
		if err != nil {
			t.Fatalf("Finish: %v; want the switch to hold", err)
		}
		if len(res.Warnings) != 1 || !errors.Is(res.Warnings[0], errDown) {
			t.Errorf("warnings %v; want one wrapping %v", res.Warnings, errDown)
		}
		f.mustWork(newSecret)
	})
	t.Run("complete and cancel are called", func(t *testing.T) {
		f := newFixture(t)
		p := &fakeProvider{f: f}
		mustNil(t, f.rot.StageFromProvider(ctx, name, p))
		mustNil(t, f.rot.Cancel(ctx, name, p))
		f.mustWork(oldSecret)
		mustNil(t, f.rot.StageFromProvider(ctx, name, p))
		if _, err := f.rot.Finish(ctx, name, rotation.SwitchOptions{Provider: p}); err != nil {
			t.Fatal(err)
		}
		if p.started != 2 || p.cancel != 1 || p.completed != 1 {
			t.Errorf("provider calls: start %d, cancel %d, complete %d; want 2, 1, 1", p.started, p.cancel, p.completed)
		}
		f.mustWork(newSecret) // the provider revoked the old secret
	})
}

package rotation_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

const otherSecret = "other-secret-klmnopqrst"

func TestStageAndProveRefusedLeavesNothingStaged(t *testing.T) {
	f := newFixture(t)
	// newSecret is not allowed: the server answers 401 invalid_client.
	_, err := f.rot.StageAndProve(ctx, name, newSecret, false)
	var refused *rotation.RefusedError
	if !errors.As(err, &refused) || !errors.Is(err, rotation.ErrRefused) {
		t.Fatalf("StageAndProve error %v; want a *RefusedError", err)
	}
	if refused.Restored || refused.Err.Class != refresher.ClassRejected {
		t.Errorf("refused: restored %v, class %q; want false, rejected", refused.Restored, refused.Err.Class)
	}
	if cur, next := f.secrets(); cur != oldSecret || next != "" {
		t.Errorf("after a refusal: secret %q, next %q; want %q and nothing staged", cur, next, oldSecret)
	}
	if st := f.status(); st.InProgress || st.Staged {
		t.Errorf("after a refusal: InProgress %v, Staged %v; want no rotation in progress", st.InProgress, st.Staged)
	}
	f.mustWork(oldSecret)
}

func TestStageAndProveRefusedPutsBackTheEarlierStagedSecret(t *testing.T) {
	f := newFixture(t)
	f.ts.allow(newSecret, scopes...)
	if _, err := f.rot.StageAndProve(ctx, name, newSecret, false); err != nil {
		t.Fatalf("StageAndProve of a good secret: %v", err)
	}
	// A second secret over the proven one needs replace.
	if _, err := f.rot.StageAndProve(ctx, name, otherSecret, false); !errors.Is(err, rotation.ErrAlreadyStaged) {
		t.Fatalf("StageAndProve over a staged secret without replace: %v; want ErrAlreadyStaged", err)
	}
	if _, next := f.secrets(); next != newSecret {
		t.Fatalf("after a refused replacement: staged %q; want %q", next, newSecret)
	}
	// With replace, a refused one puts the proven one back.
	_, err := f.rot.StageAndProve(ctx, name, otherSecret, true)
	var refused *rotation.RefusedError
	if !errors.As(err, &refused) || !refused.Restored {
		t.Fatalf("StageAndProve(replace) of a refused secret: %v; want a *RefusedError with Restored", err)
	}
	if cur, next := f.secrets(); cur != oldSecret || next != newSecret {
		t.Errorf("secret %q, next %q; want %q, %q (the earlier staged secret back)", cur, next, oldSecret, newSecret)
	}
	if _, err := f.rot.Finish(ctx, name, rotation.SwitchOptions{}); err != nil {
		t.Fatalf("Finish of the restored secret: %v", err)
	}
	f.mustWork(newSecret)
}

func TestStageAndProveKeepsTheSecretAfterAnOutage(t *testing.T) {
	f := newFixture(t)
	f.ts.allow(newSecret, scopes...)
	down := true
	f.rot.Exchange = func(ctx context.Context, hc *http.Client, c vault.Client, secret string, sc []string) (refresher.Result, error) {
		if down {
			return refresher.Result{}, &refresher.Error{Class: refresher.ClassTransient, Client: c.Name, Host: "127.0.0.1:1", Err: errors.New("connection refused")}
		}
		return refresher.Exchange(ctx, hc, c, secret, sc)
	}
	_, err := f.rot.StageAndProve(ctx, name, newSecret, false)
	if err == nil || errors.Is(err, rotation.ErrRefused) {
		t.Fatalf("StageAndProve during an outage: %v; want the outage's error, not a refusal", err)
	}
	if _, next := f.secrets(); next != newSecret {
		t.Fatalf("after an outage: staged %q; want %q kept for Finish", next, newSecret)
	}
	down = false
	if _, err := f.rot.ProveStaged(ctx, name); err != nil {
		t.Fatalf("ProveStaged after the outage: %v", err)
	}
}

func TestProveStagedDiscardsARefusedSecret(t *testing.T) {
	f := newFixture(t)
	if err := f.rot.Stage(name, newSecret); err != nil { // staged without a proof (a crash, the command line)
		t.Fatalf("Stage: %v", err)
	}
	_, err := f.rot.ProveStaged(ctx, name)
	if !errors.Is(err, rotation.ErrRefused) {
		t.Fatalf("ProveStaged of a refused secret: %v; want ErrRefused", err)
	}
	if st := f.status(); st.Staged || st.InProgress {
		t.Errorf("after ProveStaged refused: Staged %v, InProgress %v; want neither", st.Staged, st.InProgress)
	}
}

package demo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/jwtinfo"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

func start(t *testing.T, dir string, kr vault.Keyring) *Demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := Start(ctx, Options{Dir: dir, Keyring: kr, TokenTTL: 2 * time.Minute})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestStartFillsStore(t *testing.T) {
	dir, kr := t.TempDir(), vaulttest.New()
	d := start(t, dir, kr)
	clients, err := d.Store.List()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(clients), 3; got != want {
		t.Fatalf("demo store has %d clients; want %d", got, want)
	}
	states := map[vault.RotationState]int{}
	for _, c := range clients {
		if c.TokenURL != d.Server.TokenURL() {
			t.Errorf("%s: token URL %q; want the server's %q", c.Name, c.TokenURL, d.Server.TokenURL())
		}
		if _, err := d.Store.Secret(c.Name); err != nil {
			t.Errorf("%s: no secret stored: %v", c.Name, err)
		}
		states[d.Store.Rotation(c).State]++
	}
	if states[vault.RotationDueSoon] != 1 || states[vault.RotationOverdue] != 1 {
		t.Errorf("rotation states %v; want one due soon (80 days) and one overdue (95 days)", states)
	}
	if svc, err := vault.ServiceFor(dir); err != nil || svc != Service {
		t.Errorf("ServiceFor(demo dir) = %q, %v; want %q: the demo must not use the real keyring service", svc, err, Service)
	}

	// A second start replaces the clients (new secrets, new port) and keeps
	// nothing stale.
	d.Close()
	d2 := start(t, dir, kr)
	clients2, err := d2.Store.List()
	if err != nil || len(clients2) != 3 {
		t.Fatalf("after restart: %d clients, %v; want 3", len(clients2), err)
	}
	for _, c := range d2.Server.Clients() {
		got, err := d2.Store.Secret(c.Name)
		if err != nil || got != c.Secret {
			t.Errorf("%s: stored secret is not the new server's (err %v)", c.Name, err)
		}
	}
}

func TestTokensAndTrouble(t *testing.T) {
	d := start(t, t.TempDir(), vaulttest.New())
	r := refresher.New(refresher.Options{Store: d.Store})
	ctx := context.Background()
	first := d.Server.Clients()[0]

	res, err := r.Token(ctx, first.Name, refresher.TokenOptions{})
	if err != nil {
		t.Fatalf("Token(%s): %v", first.Name, err)
	}
	info, err := jwtinfo.Parse(res.Token.AccessToken)
	if err != nil {
		t.Fatalf("demo token is not a JWT: %v", err)
	}
	if got := info.String("sub"); got != first.ID {
		t.Errorf("sub = %q; want the client id %q", got, first.ID)
	}
	if got, want := strings.Join(res.Token.Scopes, " "), strings.Join(first.Scopes, " "); got != want {
		t.Errorf("granted %q; want %q", got, want)
	}

	acts := d.Server.Actions()
	do := func(prefix string) {
		t.Helper()
		for _, a := range acts {
			if strings.HasPrefix(a.Label, prefix) {
				if err := a.Do(); err != nil {
					t.Fatalf("%s: %v", a.Label, err)
				}
				return
			}
		}
		t.Fatalf("no demo action starting %q", prefix)
	}
	wantClass := func(step string, want refresher.Class) {
		t.Helper()
		// A failing refresh either errs or, while the last good token is
		// still valid, serves it with RefreshErr set.
		res, err := r.Refresh(ctx, first.Name)
		if err == nil && res.RefreshErr != nil {
			err = res.RefreshErr
		}
		var rerr *refresher.Error
		if !errors.As(err, &rerr) || rerr.Class != want {
			t.Fatalf("%s: Refresh error %v; want class %s", step, err, want)
		}
	}

	do("Reject / accept the secret of " + first.Name)
	wantClass("rejected secret", refresher.ClassRejected)
	do("Reject / accept the secret of " + first.Name)
	if res, err := r.Refresh(ctx, first.Name); err != nil || res.RefreshErr != nil {
		t.Fatalf("after accepting the secret again: %v %v", err, res.RefreshErr)
	}
	do("Drop / restore " + first.Scopes[len(first.Scopes)-1])
	wantClass("dropped scope", refresher.ClassScope)
	do("Clear all")
	do("Rate-limit")
	wantClass("rate limit", refresher.ClassRateLimited)
	do("Clear all")
	do("Take the server down")
	wantClass("server down", refresher.ClassTransient)
	do("Clear all")
	if res, err := r.Refresh(ctx, first.Name); err != nil || res.RefreshErr != nil || res.Source != refresher.FromFetch {
		t.Fatalf("after the server came back: %v %v (source %s)", err, res.RefreshErr, res.Source)
	}
}

// The demo menu's "Issue a new secret" stands in for the provider's
// dashboard: afterwards the client has a rotation in progress whose staged
// secret the server accepts, the current secret still works, and finishing
// the rotation switches to the new secret.
func TestActionsIssueNewSecretForRotation(t *testing.T) {
	d := start(t, t.TempDir(), vaulttest.New())
	ctx := context.Background()
	first := d.Server.Clients()[0]
	var issue func() error
	for _, a := range d.Actions() {
		if strings.HasPrefix(a.Label, "Issue a new secret for "+first.Name+" ") {
			issue = a.Do
		}
	}
	if issue == nil {
		t.Fatalf("no demo action issuing a new secret for %s", first.Name)
	}
	if err := issue(); err != nil {
		t.Fatalf("issue a new secret: %v", err)
	}
	rot := rotation.New(d.Store)
	st, err := rot.Status(first.Name)
	if err != nil || !st.InProgress || !st.Staged {
		t.Fatalf("after issuing: status %+v, %v; want a rotation in progress with a staged secret", st, err)
	}
	old, _ := d.Store.Secret(first.Name)
	next, _ := d.Store.NextSecret(first.Name)
	if old == next {
		t.Fatalf("staged secret is the current one; want a new one")
	}
	c, _ := d.Store.Get(first.Name)
	if _, err := refresher.Exchange(ctx, nil, c, old, nil); err != nil {
		t.Errorf("the current secret after issuing a new one: %v; want it still accepted", err)
	}
	res, err := rot.Finish(ctx, first.Name, rotation.SwitchOptions{})
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if got, _ := d.Store.Secret(first.Name); got != next {
		t.Errorf("after Finish: the current secret is not the issued one")
	}
	if got := d.Store.Rotation(res.Client).State; got != vault.RotationOK {
		t.Errorf("after Finish: rotation %q; want ok", got)
	}
}

package refresher

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// drain returns the snapshots waiting in c.
func drain(c <-chan State) []State {
	var out []State
	for {
		select {
		case st, ok := <-c:
			if !ok {
				return out
			}
			out = append(out, st)
		default:
			return out
		}
	}
}

func phases(sts []State) []Phase {
	var out []Phase
	for _, st := range sts {
		out = append(out, st.Phase)
	}
	return out
}

func TestSubscribeSeesFetch(t *testing.T) {
	f := newFixture(t)
	sub := f.r.Subscribe()
	defer sub.Close()
	res, err := f.r.Token(context.Background(), "billing", TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(sub.C())
	if want := []Phase{PhaseRefreshing, PhaseFresh}; fmt.Sprint(phases(got)) != fmt.Sprint(want) {
		t.Fatalf("phases = %v; want %v", phases(got), want)
	}
	last := got[len(got)-1]
	if last.Fingerprint != res.Token.Fingerprint() || !last.Expiry.Equal(res.Token.Expiry) {
		t.Errorf("last state: fingerprint %s expiry %v; want %s %v", last.Fingerprint, last.Expiry, res.Token.Fingerprint(), res.Token.Expiry)
	}
	if last.Fingerprint == "" || last.Fingerprint == res.Token.AccessToken {
		t.Errorf("Fingerprint = %q; want a short fingerprint, not the token", last.Fingerprint)
	}
	if last.Rotation.State != vault.RotationOK {
		t.Errorf("Rotation = %v; want ok", last.Rotation.State)
	}
	// Nothing changes on a memory hit: nothing is published.
	if _, err := f.r.Token(context.Background(), "billing", TokenOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := drain(sub.C()); len(got) != 0 {
		t.Errorf("after a memory hit: %d snapshots; want 0", len(got))
	}
}

func TestSendKeepsLatestPerClient(t *testing.T) {
	c := make(chan State, 4)
	for i := range 100 {
		name := fmt.Sprintf("c%d", i%3)
		send(c, State{Client: vault.Client{Name: name}, FetchedAt: testEpoch.Add(durSec(i))})
	}
	latest := map[string]time.Time{}
	for _, st := range drain(c) {
		if prev, ok := latest[st.Client.Name]; ok && st.FetchedAt.Before(prev) {
			t.Errorf("%s: snapshots out of order", st.Client.Name)
		}
		latest[st.Client.Name] = st.FetchedAt
	}
	want := map[string]int{"c0": 99, "c1": 97, "c2": 98}
	if len(latest) != len(want) {
		t.Errorf("clients seen = %d; want %d", len(latest), len(want))
	}
	for name, i := range want {
		if w := testEpoch.Add(durSec(i)); !latest[name].Equal(w) {
			t.Errorf("%s: latest snapshot %v; want %v", name, latest[name], w)
		}
	}
	// More clients than room: the newest survive.
	for i := range 10 {
		send(c, State{Client: vault.Client{Name: fmt.Sprintf("d%d", i)}})
	}
	got := drain(c)
	if len(got) != 4 || got[3].Client.Name != "d9" {
		t.Errorf("got %d snapshots ending with %v; want 4 ending with d9", len(got), got[len(got)-1].Client.Name)
	}
}

func TestReloadPublishesChanges(t *testing.T) {
	f := newFixture(t)
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	sub := f.r.Subscribe()
	defer sub.Close()
	c := testClient(f.url, vault.AuthBody)
	c.Name = "search"
	if err := f.store.Add(c, "another-secret"); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	got := drain(sub.C())
	if len(got) != 1 || got[0].Client.Name != "search" || got[0].Phase != PhaseNone {
		t.Fatalf("after add: %+v; want one snapshot of search, phase none", got)
	}
	if sts := f.r.States(); len(sts) != 2 || sts[0].Client.Name != "billing" || sts[1].Client.Name != "search" {
		t.Errorf("States() = %d states; want billing, search", len(sts))
	}
	// A token, then a scope edit: the token is dropped from memory and the keyring.
	if _, err := f.r.Token(context.Background(), "search", TokenOptions{}); err != nil {
		t.Fatal(err)
	}
	drain(sub.C())
	if err := f.store.Update("search", func(c *vault.Client) error { c.Scopes = []string{"models:read"}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.kr.Items()[vault.TokenKey("search", nil)]; ok {
		t.Errorf("cached token kept after a scope edit")
	}
	if st, _ := f.r.State("search"); st.Phase != PhaseNone || st.Fingerprint != "" {
		t.Errorf("after a scope edit: phase %q fingerprint %q; want none", st.Phase, st.Fingerprint)
	}
	drain(sub.C())
	if err := f.store.Remove("search"); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	got = drain(sub.C())
	if len(got) != 1 || !got[0].Removed || got[0].Client.Name != "search" {
		t.Errorf("after remove: %+v; want one Removed snapshot of search", got)
	}
	if _, ok := f.r.State("search"); ok {
		t.Errorf("State(search) found after remove")
	}
}

func TestCloseClosesSubscriptions(t *testing.T) {
	f := newFixture(t)
	sub := f.r.Subscribe()
	sub2 := f.r.Subscribe()
	sub2.Close()
	sub2.Close() // twice is fine
	if err := f.r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-sub.C(); ok {
		t.Errorf("subscription channel still open after Close")
	}
}

var testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func durSec(i int) time.Duration { return time.Duration(i) * time.Second }

// After a rotation's switch (a new secret and a token fetched with it cached
// in the keyring), the refresher serves the new token, not the old secret's
// token it held in memory.
func TestReloadAdoptsTokenOfNewSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, err := f.r.Token(ctx, "billing", TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	now := f.clock.Now()
	fresh := vault.Token{AccessToken: "token-from-the-new-secret", TokenType: "Bearer",
		Expiry: now.Add(time.Hour), FetchedAt: now, Scopes: old.Token.Scopes}
	if err := f.store.SetSecret("billing", "the-new-secret"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetToken("billing", nil, fresh); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Reload(); err != nil {
		t.Fatal(err)
	}
	got, err := f.r.Token(ctx, "billing", TokenOptions{})
	if err != nil || got.Token.AccessToken != fresh.AccessToken {
		t.Errorf("after the switch: token %s (%v); want the new secret's token %s", got.Token, err, fresh)
	}
	if st, _ := f.r.State("billing"); st.Fingerprint != fresh.Fingerprint() {
		t.Errorf("after the switch: state fingerprint %s; want %s", st.Fingerprint, fresh.Fingerprint())
	}
	if n := f.srv.count(); n != 1 {
		t.Errorf("%d token requests; want 1 (the switch's token is adopted, not refetched)", n)
	}
}

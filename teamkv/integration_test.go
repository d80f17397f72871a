package teamkv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/hcvaultdev"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/teamkv"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// rig is a real Vault dev server with a team, and a real OAuth server
// (the demo server) with the team's clients registered.
type rig struct {
	vs    *hcvaultdev.Server
	team  hcvaultdev.Team
	oauth *demoserver.Server
	cfg   teamkv.Config
	ids   map[string]string // entry -> client id
}

func newRig(t *testing.T, entries ...string) *rig {
	t.Helper()
	vs := hcvaultdev.Start(t)
	r := &rig{vs: vs, team: vs.NewTeam("tokentray/"), ids: map[string]string{}}
	var clients []demoserver.Client
	for _, e := range entries {
		c := demoserver.Client{
			Name: e, ID: "m2m-client-test-" + e, Secret: demoserver.NewSecret(),
			Scopes: []string{"chat:invoke"}, Auth: demoserver.AuthBasic,
		}
		clients = append(clients, c)
		r.ids[e] = c.ID
	}
	oauth, err := demoserver.New(demoserver.Options{Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = oauth.Close() })
	r.oauth = oauth
	for _, c := range clients {
		vs.PutKV("tokentray/"+c.Name, map[string]any{
			"client_id": c.ID, "client_secret": c.Secret, "token_url": oauth.TokenURL(),
			"scopes": "chat:invoke", "auth_style": "header", "notes": "team " + c.Name,
		})
	}
	r.cfg = teamkv.Config{Name: "acme", Addr: vs.URL(), Mount: "secret", Prefix: "tokentray/"}
	return r
}

// member is one laptop: its own config dir, keyring, team source and store.
type member struct {
	team  *teamkv.Team
	store *vault.Store
	kr    *vaulttest.Keyring
}

func (r *rig) member(t *testing.T, token string) *member {
	t.Helper()
	dir := t.TempDir()
	kr := vaulttest.New()
	if err := teamkv.SaveConfig(dir, []teamkv.Config{r.cfg}); err != nil {
		t.Fatal(err)
	}
	teams, err := teamkv.OpenAll(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	if len(teams) != 1 {
		t.Fatalf("OpenAll: %d teams, want 1", len(teams))
	}
	if _, err := teams[0].SetToken(context.Background(), token); err != nil {
		t.Fatalf("SetToken: %v", err)
	}
	st, err := vault.Open(dir, kr, vault.WithSources(teamkv.Sources(teams)...))
	if err != nil {
		t.Fatal(err)
	}
	return &member{team: teams[0], store: st, kr: kr}
}

func (m *member) sync(t *testing.T) teamkv.SyncResult {
	t.Helper()
	res, err := m.team.Sync(context.Background())
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return res
}

// token fetches a real token for name through a refresher on the member's
// store (so through the store's source composition).
func (m *member) token(t *testing.T, name string) (refresher.Result, error) {
	t.Helper()
	rf := refresher.New(refresher.Options{Store: m.store})
	defer rf.Close()
	return rf.Token(context.Background(), name, refresher.TokenOptions{Force: true})
}

func prove(ctx context.Context, c vault.Client, secret string) error {
	_, err := refresher.Exchange(ctx, nil, c, secret, nil)
	return err
}

func TestTwoMembersSeeTheSameClients(t *testing.T) {
	r := newRig(t, "billing", "crm")
	admin := r.member(t, r.team.AdminToken)
	if _, err := admin.team.Reindex(context.Background()); err != nil {
		t.Fatalf("Reindex: %v", err)
	}
	a := r.member(t, r.team.MemberToken)
	b := r.member(t, r.team.MemberToken)
	a.sync(t)
	b.sync(t)
	la, err := a.store.List()
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := b.store.List()
	if len(la) != 2 || len(lb) != 2 {
		t.Fatalf("lists: %d and %d clients, want 2 each", len(la), len(lb))
	}
	for i := range la {
		ca, cb := la[i], lb[i]
		if ca.Name != cb.Name || ca.Source != "acme" || !ca.SecretSetAt.Equal(cb.SecretSetAt) || ca.SecretSetAt.IsZero() {
			t.Fatalf("client %d: %q/%q source %q set %v/%v: want the same team client with the same date", i, ca.Name, cb.Name, ca.Source, ca.SecretSetAt, cb.SecretSetAt)
		}
		if a.store.Rotation(ca) != b.store.Rotation(cb) {
			t.Fatalf("%s: rotation status differs between members", ca.Name)
		}
	}
	if la[0].Name != "acme.billing" || la[0].Notes != "team billing" {
		t.Fatalf("first client = %q (notes %q), want acme.billing", la[0].Name, la[0].Notes)
	}
	res, err := a.token(t, "acme.billing")
	if err != nil || res.Token.AccessToken == "" {
		t.Fatalf("member token: %v", err)
	}
	// A local client cannot take a team name.
	err = a.store.Add(vault.Client{Name: "acme.local", ClientID: "x", TokenURL: r.oauth.TokenURL()}, "s")
	if err == nil || !strings.Contains(err.Error(), "team") {
		t.Fatalf("Add acme.local: err = %v, want a refusal naming the team", err)
	}
	// An idle sweep costs one request.
	r.vs.ResetRequests()
	if res := a.sync(t); res.Requests != 1 || len(res.Changed) != 0 {
		t.Fatalf("idle sweep: %+v, want 1 request and no change", res)
	}
	if n := len(r.vs.RequestsBy(r.team.MemberToken)); n != 1 {
		t.Fatalf("idle sweep: Vault saw %d requests, want 1", n)
	}
}

func TestAdminRotationReachesMember(t *testing.T) {
	r := newRig(t, "billing")
	admin := r.member(t, r.team.AdminToken)
	if _, err := admin.team.Reindex(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin.sync(t)
	m := r.member(t, r.team.MemberToken)
	m.sync(t)
	before, err := m.token(t, "acme.billing")
	if err != nil {
		t.Fatalf("token before: %v", err)
	}
	oldSet, _ := m.store.Get("acme.billing")

	next, err := r.oauth.RotateSecret(r.ids["billing"])
	if err != nil {
		t.Fatal(err)
	}
	res, err := admin.team.Rotate(context.Background(), "acme.billing", next, prove)
	if err != nil {
		t.Fatalf("admin Rotate: %v", err)
	}
	if res.FromVersion != 1 || res.Version != 2 || res.IndexWarning != "" {
		t.Fatalf("Rotate = %+v, want version 1 -> 2 and the index bumped", res)
	}
	if err := r.oauth.RetireOldSecrets(r.ids["billing"]); err != nil {
		t.Fatal(err)
	}
	// Until its sweep the member still has the old secret: rejected now.
	if _, err := m.token(t, "acme.billing"); err == nil {
		t.Fatal("member's token with the retired secret: no error")
	}
	r.vs.ResetRequests()
	sr := m.sync(t)
	if len(sr.Changed) != 1 || sr.Changed[0] != "acme.billing" || sr.Requests != 2 {
		t.Fatalf("member sweep after the rotation: %+v, want acme.billing changed in 2 requests", sr)
	}
	after, err := m.token(t, "acme.billing")
	if err != nil {
		t.Fatalf("member token after the sweep: %v", err)
	}
	if after.Token.AccessToken == before.Token.AccessToken {
		t.Fatal("same token before and after")
	}
	cur, _ := m.store.Get("acme.billing")
	if !cur.SecretSetAt.After(oldSet.SecretSetAt) {
		t.Fatalf("secret date %v not after %v", cur.SecretSetAt, oldSet.SecretSetAt)
	}
	if v, _ := m.team.Version("acme.billing"); v != 2 {
		t.Fatalf("member's version = %d, want 2", v)
	}
}

func TestMemberCannotRotate(t *testing.T) {
	r := newRig(t, "billing")
	m := r.member(t, r.team.MemberToken)
	m.sync(t)
	next, _ := r.oauth.RotateSecret(r.ids["billing"])
	_, err := m.team.Rotate(context.Background(), "acme.billing", next, prove)
	if !errors.Is(err, teamkv.ErrForbidden) || !strings.Contains(err.Error(), "you can read this team's clients but not rotate them") {
		t.Fatalf("member Rotate: err = %v, want the clear 403 message", err)
	}
	if strings.Contains(err.Error(), next) {
		t.Fatal("the error holds the secret")
	}
}

func TestConcurrentRotationsOneWins(t *testing.T) {
	r := newRig(t, "billing")
	a1 := r.member(t, r.team.AdminToken)
	if _, err := a1.team.Reindex(context.Background()); err != nil {
		t.Fatal(err)
	}
	a2 := r.member(t, r.team.AdminToken)
	a1.sync(t)
	a2.sync(t)
	s1, _ := r.oauth.RotateSecret(r.ids["billing"])
	s2, _ := r.oauth.RotateSecret(r.ids["billing"])
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range []struct {
		m      *member
		secret string
	}{{a1, s1}, {a2, s2}} {
		wg.Go(func() {
			_, errs[i] = p.m.team.Rotate(context.Background(), "acme.billing", p.secret, prove)
		})
	}
	wg.Wait()
	won, lost := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, teamkv.ErrConflict) && strings.Contains(err.Error(), "someone else rotated acme.billing meanwhile (version 2)"):
			lost++
		default:
			t.Fatalf("Rotate: %v", err)
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("won %d, lost %d: want one each", won, lost)
	}
}

func TestOfflineKeepsTokensComing(t *testing.T) {
	r := newRig(t, "billing")
	m := r.member(t, r.team.MemberToken)
	m.sync(t)
	r.vs.Stop()
	_, err := m.team.Sync(context.Background())
	if !errors.Is(err, teamkv.ErrOffline) {
		t.Fatalf("Sync with Vault stopped: err = %v, want ErrOffline", err)
	}
	st := m.team.Status()
	if st.OfflineSince.IsZero() || !strings.Contains(st.Line(), "offline since "+st.OfflineSince.Local().Format("15:04")) {
		t.Fatalf("status line = %q, want offline since HH:MM", st.Line())
	}
	if res, err := m.token(t, "acme.billing"); err != nil || res.Token.AccessToken == "" {
		t.Fatalf("token while Vault is down: %v", err)
	}
	// A second failure keeps the first time.
	_, _ = m.team.Sync(context.Background())
	if got := m.team.Status().OfflineSince; !got.Equal(st.OfflineSince) {
		t.Fatalf("offline since moved from %v to %v", st.OfflineSince, got)
	}
}

func TestExpiredVaultTokenAndLogin(t *testing.T) {
	r := newRig(t, "billing")
	tok := r.vs.CreateToken(time.Hour, "tokentray-member")
	m := r.member(t, tok)
	m.sync(t)
	r.vs.RevokeToken(tok)
	_, err := m.team.Sync(context.Background())
	if !errors.Is(err, teamkv.ErrTokenInvalid) || !strings.Contains(err.Error(), "run tokentray team login acme") {
		t.Fatalf("Sync with a revoked token: err = %v, want ErrTokenInvalid and what to run", err)
	}
	if st := m.team.Status(); !st.LoginNeeded || !strings.Contains(st.Line(), "team login acme") {
		t.Fatalf("status = %+v / %q, want login needed", st, st.Line())
	}
	if _, err := m.team.SetToken(context.Background(), r.vs.CreateToken(time.Hour, "tokentray-member")); err != nil {
		t.Fatalf("login again: %v", err)
	}
	m.sync(t)
	if st := m.team.Status(); st.LoginNeeded || st.Line() != "" {
		t.Fatalf("status after login = %q, want none", st.Line())
	}
	if _, err := m.team.SetToken(context.Background(), tok); !errors.Is(err, teamkv.ErrTokenInvalid) {
		t.Fatalf("SetToken with the revoked token: err = %v, want ErrTokenInvalid", err)
	}
}

func TestUserpassLogin(t *testing.T) {
	r := newRig(t, "billing")
	r.vs.EnableUserpass("alice", "correct horse", "tokentray-member")
	dir := t.TempDir()
	team, err := teamkv.New(dir, r.cfg, vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := team.LoginUserpass(context.Background(), "", "alice", "wrong"); err == nil || !strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong password: err = %v", err)
	}
	if _, err := team.LoginUserpass(context.Background(), "", "alice", "correct horse"); err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := team.Sync(context.Background()); err != nil {
		t.Fatalf("Sync after login: %v", err)
	}
	if exp, err := team.RenewToken(context.Background()); err != nil || exp.IsZero() {
		t.Fatalf("RenewToken = %v, %v; want an expiry", exp, err)
	}
}

func TestBrokenEntriesAreListed(t *testing.T) {
	r := newRig(t, "billing")
	r.vs.PutKV("tokentray/no-secret", map[string]any{"client_id": "x", "token_url": r.oauth.TokenURL()})
	r.vs.PutKV("tokentray/bad-url", map[string]any{"client_id": "x", "client_secret": "s3cr3t-value", "token_url": "http://auth.example.com/token"})
	m := r.member(t, r.team.MemberToken)
	m.sync(t)
	cs, err := m.store.List()
	if err != nil {
		t.Fatal(err)
	}
	problems := map[string]string{}
	for _, c := range cs {
		problems[c.Name] = c.Problem
	}
	if len(cs) != 3 || problems["acme.billing"] != "" ||
		!strings.Contains(problems["acme.no-secret"], "client_secret is missing") ||
		!strings.Contains(problems["acme.bad-url"], "https") {
		t.Fatalf("problems = %q, want billing fine, no-secret and bad-url broken", problems)
	}
	if strings.Contains(problems["acme.bad-url"], "s3cr3t-value") {
		t.Fatal("a problem holds the secret")
	}
	if _, err := m.token(t, "acme.no-secret"); err == nil || !strings.Contains(err.Error(), "the team's entry is broken: client_secret is missing") ||
		!strings.Contains(err.Error(), "fixes it in Vault") {
		t.Fatalf("token of a broken entry: err = %v, want it called broken with what to do", err)
	}
	if _, err := m.token(t, "acme.bad-url"); err == nil {
		t.Fatal("token of an entry with a plain-http token URL: no error")
	}
}

// TestCost1000 measures what a member costs Vault for a 1,000-client team:
// the first sweep, an idle sweep, and a sweep after a rotation wave of 50.
// The figures go to docs/PERFORMANCE.md ("Teams").
func TestCost1000(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1,000 entries")
	}
	r := newRig(t, "billing")
	for i := range 999 {
		r.vs.PutKV(fmt.Sprintf("tokentray/c%04d", i), map[string]any{
			"client_id": fmt.Sprintf("m2m-client-test-%04d", i), "client_secret": "secret-" + fmt.Sprint(i),
			"token_url": r.oauth.TokenURL(),
		})
	}
	admin := r.member(t, r.team.AdminToken)
	if n, err := admin.team.Reindex(context.Background()); err != nil || n != 1000 {
		t.Fatalf("Reindex = %d, %v", n, err)
	}
	m := r.member(t, r.team.MemberToken)
	start := time.Now()
	first := m.sync(t)
	firstTook := time.Since(start)
	start = time.Now()
	idle := m.sync(t)
	idleTook := time.Since(start)
	admin.sync(t)
	// A wave: 50 clients rotated by the admin (Vault writes only; the
	// proof's token request is not Vault's cost).
	for i := range 50 {
		if _, err := admin.team.Rotate(context.Background(), fmt.Sprintf("acme.c%04d", i), fmt.Sprintf("new-secret-%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	start = time.Now()
	wave := m.sync(t)
	waveTook := time.Since(start)
	t.Logf("1,000 clients: first sweep %d requests (%v), idle sweep %d (%v), sweep after 50 rotations %d (%v; changed %d)",
		first.Requests, firstTook, idle.Requests, idleTook, wave.Requests, waveTook, len(wave.Changed))
	if got := len(r.vs.RequestsBy(r.team.MemberToken)); got < first.Requests+idle.Requests+wave.Requests {
		t.Fatalf("Vault saw %d member requests, fewer than the %d counted", got, first.Requests+idle.Requests+wave.Requests)
	}
	if first.Requests != 1001 || idle.Requests != 1 || wave.Requests != 51 || len(wave.Changed) != 50 {
		t.Fatalf("requests: first %d, idle %d, wave %d (changed %d); want 1001, 1, 51 (50)", first.Requests, idle.Requests, wave.Requests, len(wave.Changed))
	}
}

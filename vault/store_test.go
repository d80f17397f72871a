package vault_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// clock is a settable time source for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// newStore opens a store in a fresh directory with a fake keyring and a
// clock standing at t0.
func newStore(t *testing.T) (*vault.Store, *vaulttest.Keyring, *clock) {
	t.Helper()
	kr := vaulttest.New()
	clk := &clock{t: t0}
	s, err := vault.Open(filepath.Join(t.TempDir(), "tokentray"), kr, vault.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, kr, clk
}

func mustAdd(t *testing.T, s *vault.Store, c vault.Client, secret string) {
	t.Helper()
	if err := s.Add(c, secret); err != nil {
		t.Fatalf("Add(%q): %v", c.Name, err)
	}
}

func mustGet(t *testing.T, s *vault.Store, name string) vault.Client {
	t.Helper()
	c, err := s.Get(name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	return c
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenArguments(t *testing.T) {
	if _, err := vault.Open("", vaulttest.New()); err == nil {
		t.Error("Open with no directory: got no error")
	}
	if _, err := vault.Open(t.TempDir(), nil); err == nil {
		t.Error("Open with no keyring: got no error")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(file, vaulttest.New()); err == nil {
		t.Error("Open on a regular file: got no error")
	}
}

func TestOpenEmptyAndAccessors(t *testing.T) {
	s, kr, clk := newStore(t)
	got, err := s.List()
	if err != nil || len(got) != 0 {
		t.Fatalf("List of a new store = %v, %v; want empty, nil", got, err)
	}
	if s.IndexPath() != filepath.Join(s.Dir(), vault.IndexFile) {
		t.Errorf("IndexPath() = %q, want it in Dir() %q", s.IndexPath(), s.Dir())
	}
	if s.Keyring() != vault.Keyring(kr) {
		t.Errorf("Keyring() is not the keyring passed to Open")
	}
	if !s.Now().Equal(clk.Now()) {
		t.Errorf("Now() = %v, want the injected clock %v", s.Now(), clk.Now())
	}
	// An empty index file (as left by touch) holds no clients.
	if err := os.WriteFile(s.IndexPath(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := s.List(); err != nil || len(got) != 0 {
		t.Errorf("List with an empty index file = %v, %v; want empty, nil", got, err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv(vault.EnvConfigDir, "/some/where")
	if got, err := vault.DefaultDir(); err != nil || got != "/some/where" {
		t.Errorf("DefaultDir() with %s set = %q, %v; want /some/where", vault.EnvConfigDir, got, err)
	}
	t.Setenv(vault.EnvConfigDir, "")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if got, err := vault.DefaultDir(); err != nil || got != "/xdg/tokentray" {
		t.Errorf("DefaultDir() = %q, %v; want /xdg/tokentray", got, err)
	}
}

func TestAddGetList(t *testing.T) {
	s, kr, clk := newStore(t)
	c := validClient()
	mustAdd(t, s, c, "s3cret\n")
	clk.Advance(time.Hour)
	a := vault.Client{Name: "analytics", ClientID: "m2m-live-7", TokenURL: "http://127.0.0.1:4444/oauth2/token"}
	mustAdd(t, s, a, "other")

	got := mustGet(t, s, "billing")
	if got.ClientID != c.ClientID || got.TokenURL != c.TokenURL || !slices.Equal(got.Scopes, c.Scopes) {
		t.Errorf("Get(billing) = %+v, want the added client %+v", got, c)
	}
	if !got.CreatedAt.Equal(t0) || !got.SecretSetAt.Equal(t0) {
		t.Errorf("CreatedAt %v, SecretSetAt %v; want both %v", got.CreatedAt, got.SecretSetAt, t0)
	}
	if got.AuthStyle != vault.AuthAuto {
		t.Errorf("AuthStyle = %q, want %q by default", got.AuthStyle, vault.AuthAuto)
	}
	if got.Environment() != vault.EnvTest {
		t.Errorf("Environment() = %q, want test (inferred from %q)", got.Environment(), got.ClientID)
	}
	if sec, err := s.Secret("billing"); err != nil || sec != "s3cret" {
		t.Errorf("Secret(billing) = %q, %v; want the secret with its newline trimmed", sec, err)
	}
	if v := kr.Items()[vault.SecretKey("billing")]; v != "s3cret" {
		t.Errorf("keyring item %s = %q, want the secret", vault.SecretKey("billing"), v)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if want := []string{"analytics", "billing"}; !slices.Equal(names, want) {
		t.Errorf("List() names = %q, want %q (sorted)", names, want)
	}
	if _, err := s.Get("nope"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("Get(nope) error = %v, want ErrNoClient", err)
	}
}

func TestAddKeepsGivenDates(t *testing.T) {
	s, _, _ := newStore(t)
	c := validClient()
	created := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	c.CreatedAt, c.SecretSetAt = created, created.Add(24*time.Hour)
	c.RotationStartedAt = created
	c.TokenScopeSets = []string{"deadbeef"}
	mustAdd(t, s, c, "x")
	got := mustGet(t, s, c.Name)
	if !got.CreatedAt.Equal(c.CreatedAt) || !got.SecretSetAt.Equal(c.SecretSetAt) {
		t.Errorf("dates = %v, %v; want the given %v, %v", got.CreatedAt, got.SecretSetAt, c.CreatedAt, c.SecretSetAt)
	}
	if !got.RotationStartedAt.IsZero() || got.TokenScopeSets != nil {
		t.Errorf("bookkeeping fields of a new client = %v, %v; want them cleared", got.RotationStartedAt, got.TokenScopeSets)
	}
}

func TestAddErrors(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "first")

	err := s.Add(validClient(), "second")
	if !errors.Is(err, vault.ErrExists) {
		t.Errorf("Add of a taken name: error %v, want ErrExists", err)
	}
	if sec, _ := s.Secret("billing"); sec != "first" {
		t.Errorf("a refused Add changed the secret to %q", sec)
	}

	bad := validClient()
	bad.Name = "other"
	bad.TokenURL = "http://auth.example.com/token"
	wantField(t, "Add with an http token URL", s.Add(bad, "x"), "token_url")

	ok := validClient()
	ok.Name = "other"
	wantField(t, "Add with an empty secret", s.Add(ok, "\n"), "secret")
	wantField(t, "Add with a 1025-byte secret", s.Add(ok, strings.Repeat("x", 1025)), "secret")
	if _, err := s.Get("other"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("refused Adds left an index entry: Get error %v", err)
	}
	if _, found := kr.Items()[vault.SecretKey("other")]; found {
		t.Errorf("a refused Add left a keyring item")
	}
}

// Add stores the secret before the index entry, so a keyring failure leaves
// no entry without its secret.
func TestAddOrderKeyringFirst(t *testing.T) {
	s, kr, _ := newStore(t)
	var inIndexAtSet []bool
	kr.FailWith(func(op, key string) error {
		if op == "set" {
			_, err := s.Get("billing")
			inIndexAtSet = append(inIndexAtSet, err == nil)
		}
		return nil
	})
	mustAdd(t, s, validClient(), "x")
	if !slices.Equal(inIndexAtSet, []bool{false}) {
		t.Errorf("index entry present at the keyring Set: %v, want [false] (secret first)", inIndexAtSet)
	}

	boom := errors.New("keyring exploded")
	kr.FailWith(func(op, key string) error {
		if op == "set" {
			return boom
		}
		return nil
	})
	c := validClient()
	c.Name = "second"
	err := s.Add(c, "x")
	if !errors.Is(err, boom) {
		t.Errorf("Add with a failing keyring: error %v, want it to wrap %v", err, boom)
	}
	if _, err := s.Get("second"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("Add with a failing keyring left an index entry (Get error %v)", err)
	}
}

func TestPut(t *testing.T) {
	s, kr, clk := newStore(t)
	c := validClient()
	if err := s.Put(c); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if len(kr.Items()) != 0 || kr.Calls("set") != 0 {
		t.Errorf("Put touched the keyring: %v", kr.Items())
	}
	got := mustGet(t, s, c.Name)
	if !got.CreatedAt.Equal(t0) || !got.SecretSetAt.IsZero() {
		t.Errorf("new client via Put: CreatedAt %v, SecretSetAt %v; want %v and zero", got.CreatedAt, got.SecretSetAt, t0)
	}
	if _, err := s.Secret(c.Name); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Secret of a client put without one: error %v, want ErrNotFound", err)
	}

	// Replacing keeps the dates and the bookkeeping fields.
	if err := s.SetSecret(c.Name, "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNextSecret(c.Name, "y"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken(c.Name, []string{"chat:read"}, vault.Token{AccessToken: "t"}); err != nil {
		t.Fatal(err)
	}
	before := mustGet(t, s, c.Name)
	clk.Advance(48 * time.Hour)
	edit := validClient()
	edit.Scopes = []string{"models:read"}
	edit.Notes = "edited"
	edit.EnvironmentOverride = vault.EnvLive
	if err := s.Put(edit); err != nil {
		t.Fatal(err)
	}
	after := mustGet(t, s, c.Name)
	if !slices.Equal(after.Scopes, edit.Scopes) || after.Notes != "edited" || after.Environment() != vault.EnvLive {
		t.Errorf("Put did not replace the fields: %+v", after)
	}
	if !after.CreatedAt.Equal(before.CreatedAt) || !after.SecretSetAt.Equal(before.SecretSetAt) {
		t.Errorf("Put changed the dates: %v/%v, want %v/%v", after.CreatedAt, after.SecretSetAt, before.CreatedAt, before.SecretSetAt)
	}
	if !after.RotationStartedAt.Equal(before.RotationStartedAt) || !slices.Equal(after.TokenScopeSets, before.TokenScopeSets) {
		t.Errorf("Put dropped the bookkeeping: %v %v, want %v %v",
			after.RotationStartedAt, after.TokenScopeSets, before.RotationStartedAt, before.TokenScopeSets)
	}
	// An explicit SecretSetAt (the provider's creation date) wins.
	edit.SecretSetAt = t0.Add(-30 * 24 * time.Hour)
	if err := s.Put(edit); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, c.Name); !got.SecretSetAt.Equal(edit.SecretSetAt) {
		t.Errorf("SecretSetAt = %v, want the given %v", got.SecretSetAt, edit.SecretSetAt)
	}

	bad := validClient()
	bad.Name = "Bad"
	wantField(t, "Put with a bad name", s.Put(bad), "name")
}

func TestUpdate(t *testing.T) {
	s, _, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	err := s.Update("billing", func(c *vault.Client) error {
		c.Notes = "owner: team billing"
		c.Scopes = append(c.Scopes, "chat:read", "models:read")
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	got := mustGet(t, s, "billing")
	if want := []string{"chat:read", "usage:read", "models:read"}; got.Notes != "owner: team billing" || !slices.Equal(got.Scopes, want) {
		t.Errorf("after Update: notes %q scopes %q; want the note and scopes %q (de-duplicated)", got.Notes, got.Scopes, want)
	}

	if err := s.Update("nope", func(*vault.Client) error { return nil }); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("Update of a missing client: error %v, want ErrNoClient", err)
	}
	wantField(t, "Update renaming", s.Update("billing", func(c *vault.Client) error { c.Name = "other"; return nil }), "name")
	wantField(t, "Update to an invalid URL", s.Update("billing", func(c *vault.Client) error {
		c.TokenURL = "ftp://x"
		return nil
	}), "token_url")
	boom := errors.New("changed my mind")
	if err := s.Update("billing", func(c *vault.Client) error { c.Notes = "lost"; return boom }); !errors.Is(err, boom) {
		t.Errorf("Update with a failing f: error %v, want %v", err, boom)
	}
	if got := mustGet(t, s, "billing"); got.Notes != "owner: team billing" || got.TokenURL != validClient().TokenURL {
		t.Errorf("failed Updates changed the client: %+v", got)
	}
}

func TestSetSecretAndSecret(t *testing.T) {
	s, kr, clk := newStore(t)
	mustAdd(t, s, validClient(), "old")
	clk.Advance(24 * time.Hour)
	if err := s.SetSecret("billing", "new\n"); err != nil {
		t.Fatalf("SetSecret: %v", err)
	}
	if sec, err := s.Secret("billing"); err != nil || sec != "new" {
		t.Errorf("Secret after SetSecret = %q, %v; want new", sec, err)
	}
	if got := mustGet(t, s, "billing"); !got.SecretSetAt.Equal(clk.Now()) {
		t.Errorf("SecretSetAt = %v, want now %v", got.SecretSetAt, clk.Now())
	}
	if err := s.SetSecret("nope", "x"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("SetSecret of a missing client: %v, want ErrNoClient", err)
	}
	wantField(t, "SetSecret empty", s.SetSecret("billing", ""), "secret")

	boom := errors.New("locked")
	kr.FailWith(func(op, key string) error {
		if op == "set" {
			return boom
		}
		return nil
	})
	setAt := mustGet(t, s, "billing").SecretSetAt
	clk.Advance(time.Hour)
	if err := s.SetSecret("billing", "newer"); !errors.Is(err, boom) {
		t.Errorf("SetSecret with a failing keyring: %v, want %v", err, boom)
	}
	if got := mustGet(t, s, "billing"); !got.SecretSetAt.Equal(setAt) {
		t.Errorf("a failed SetSecret moved SecretSetAt to %v", got.SecretSetAt)
	}
	kr.FailWith(nil)
	if _, err := s.Secret("nope"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Secret of a missing client: %v, want ErrNotFound", err)
	}
}

func TestRemove(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	other := validClient()
	other.Name = "other"
	mustAdd(t, s, other, "y")
	if err := s.SetNextSecret("billing", "z"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken("billing", nil, vault.Token{AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken("billing", []string{"chat:read"}, vault.Token{AccessToken: "b"}); err != nil {
		t.Fatal(err)
	}

	var inIndexAtDelete []bool
	kr.FailWith(func(op, key string) error {
		if op == "delete" {
			_, err := s.Get("billing")
			inIndexAtDelete = append(inIndexAtDelete, err == nil)
		}
		return nil
	})
	if err := s.Remove("billing"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if slices.Contains(inIndexAtDelete, true) || len(inIndexAtDelete) == 0 {
		t.Errorf("index entry present at keyring deletes: %v, want all false (index first)", inIndexAtDelete)
	}
	for k := range kr.Items() {
		if strings.HasPrefix(k, "billing/") {
			t.Errorf("keyring item %s survived Remove", k)
		}
	}
	if sec, err := s.Secret("other"); err != nil || sec != "y" {
		t.Errorf("Remove touched another client: Secret(other) = %q, %v", sec, err)
	}
	if _, err := s.Get("billing"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("Get after Remove: %v, want ErrNoClient", err)
	}
	if err := s.Remove("billing"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("second Remove: %v, want ErrNoClient", err)
	}
}

// Items already gone from the keyring are no error.
func TestRemoveToleratesMissingItems(t *testing.T) {
	s, kr, _ := newStore(t)
	if err := s.Put(validClient()); err != nil { // no secret at all
		t.Fatal(err)
	}
	if err := s.Remove("billing"); err != nil {
		t.Errorf("Remove of a client without keyring items: %v, want nil", err)
	}
	if n := kr.Calls("delete"); n != 4 {
		t.Errorf("Remove made %d keyring deletes, want 4 (secret, next-secret, new-secret, token)", n)
	}
}

func TestRemovePartial(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	if err := s.SetToken("billing", nil, vault.Token{AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("keyring locked")
	kr.FailWith(func(op, key string) error {
		if op == "delete" && key == vault.SecretKey("billing") {
			return boom
		}
		return nil
	})
	err := s.Remove("billing")
	var pe *vault.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("Remove with a failing delete: error %v, want *PartialError", err)
	}
	if want := []string{vault.SecretKey("billing")}; !slices.Equal(pe.Left, want) || pe.Name != "billing" || pe.Op != "remove" {
		t.Errorf("PartialError = %+v, want Left %q", pe, want)
	}
	if !errors.Is(err, boom) {
		t.Errorf("PartialError does not wrap the cause: %v", err)
	}
	if !strings.Contains(err.Error(), vault.SecretKey("billing")) {
		t.Errorf("message %q does not say which item remains", err)
	}
	if _, err := s.Get("billing"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("after a partial Remove the index entry is still there (Get: %v)", err)
	}
	items := kr.Items()
	if _, ok := items[vault.TokenKey("billing", nil)]; ok {
		t.Errorf("the token was not deleted although its delete worked")
	}
	if _, ok := items[vault.SecretKey("billing")]; !ok {
		t.Errorf("the secret whose delete failed is gone from the fake keyring")
	}
	// The store stays usable: the name can be added again.
	kr.FailWith(nil)
	mustAdd(t, s, validClient(), "fresh")
	if sec, _ := s.Secret("billing"); sec != "fresh" {
		t.Errorf("re-added client's secret = %q, want fresh", sec)
	}
}

func sampleToken(access string) vault.Token {
	return vault.Token{
		AccessToken: access,
		TokenType:   "Bearer",
		Expiry:      t0.Add(time.Hour),
		Scopes:      []string{"chat:read", "usage:read"},
		FetchedAt:   t0,
	}
}

func sameToken(a, b vault.Token) bool {
	return a.AccessToken == b.AccessToken && a.TokenType == b.TokenType && a.Expiry.Equal(b.Expiry) &&
		a.FetchedAt.Equal(b.FetchedAt) && slices.Equal(a.Scopes, b.Scopes)
}

func TestTokenCache(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	if _, err := s.Token("billing", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Token before caching: %v, want ErrNotFound", err)
	}
	def := sampleToken("eyJ.default.sig")
	if err := s.SetToken("billing", nil, def); err != nil {
		t.Fatalf("SetToken: %v", err)
	}
	sub := sampleToken("eyJ.subset.sig")
	sub.Scopes = []string{"chat:read"}
	if err := s.SetToken("billing", []string{"chat:read"}, sub); err != nil {
		t.Fatalf("SetToken(subset): %v", err)
	}
	// Setting the same subset again records it once.
	if err := s.SetToken("billing", []string{"chat:read"}, sub); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Token("billing", nil); err != nil || !sameToken(got, def) {
		t.Errorf("Token(default) = %v, %v; want %v", got, err, def)
	}
	if got, err := s.Token("billing", []string{"chat:read"}); err != nil || !sameToken(got, sub) {
		t.Errorf("Token(subset) = %v, %v; want %v", got, err, sub)
	}
	c := mustGet(t, s, "billing")
	if want := []string{vault.ScopeSetKey([]string{"chat:read"})}; !slices.Equal(c.TokenScopeSets, want) {
		t.Errorf("TokenScopeSets = %q, want %q", c.TokenScopeSets, want)
	}
	if _, ok := kr.Items()[vault.TokenKey("billing", []string{"chat:read"})]; !ok {
		t.Errorf("no keyring item %s", vault.TokenKey("billing", []string{"chat:read"}))
	}
	if !slices.Contains(vault.KeyringKeys(c), vault.TokenKey("billing", []string{"chat:read"})) {
		t.Errorf("KeyringKeys(%v) lacks the subset token", vault.KeyringKeys(c))
	}

	if err := s.DeleteToken("billing", nil); err != nil {
		t.Errorf("DeleteToken: %v", err)
	}
	if _, err := s.Token("billing", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Token after DeleteToken: %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken("billing", nil); err != nil {
		t.Errorf("DeleteToken of a token not cached: %v, want nil", err)
	}
	boom := errors.New("bus gone")
	kr.FailWith(func(op, key string) error { return boom })
	if err := s.DeleteToken("billing", []string{"chat:read"}); !errors.Is(err, boom) {
		t.Errorf("DeleteToken with a failing keyring: %v, want %v", err, boom)
	}
	kr.FailWith(nil)

	if err := s.SetToken("nope", []string{"chat:read"}, def); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("SetToken(subset) of a missing client: %v, want ErrNoClient", err)
	}

	if err := s.Remove("billing"); err != nil {
		t.Fatal(err)
	}
	if items := kr.Items(); len(items) != 0 {
		t.Errorf("keyring items after Remove: %v, want none", keysOf(items))
	}
}

func keysOf(m map[string]string) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

func TestTokenCorruptInKeyring(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	if err := kr.Set(vault.TokenKey("billing", nil), "not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token("billing", nil); err == nil || errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Token with garbage in the keyring: %v, want a decode error", err)
	}
}

func TestSetTokenTooBig(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	kr.SetMaxSize(2560)
	big := sampleToken(strings.Repeat("A", 4096))
	err := s.SetToken("billing", nil, big)
	if !errors.Is(err, vault.ErrTooBig) {
		t.Fatalf("SetToken of a 4 KiB token into a 2,560-byte keyring: %v, want ErrTooBig", err)
	}
	if strings.Contains(err.Error(), big.AccessToken[:64]) {
		t.Errorf("the error shows the token")
	}
	if _, err := s.Token("billing", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Token after a refused SetToken: %v, want ErrNotFound (nothing truncated)", err)
	}
	if err := s.SetToken("billing", []string{"chat:read"}, big); !errors.Is(err, vault.ErrTooBig) {
		t.Errorf("SetToken(subset) too big: %v, want ErrTooBig", err)
	}
	small := sampleToken("short")
	if err := s.SetToken("billing", nil, small); err != nil {
		t.Errorf("SetToken of a small token: %v", err)
	}
}

func TestRotationStaging(t *testing.T) {
	s, kr, clk := newStore(t)
	mustAdd(t, s, validClient(), "old")
	if _, err := s.NextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("NextSecret before staging: %v, want ErrNoNextSecret", err)
	}
	if err := s.PromoteNextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("PromoteNextSecret with nothing staged: %v, want ErrNoNextSecret", err)
	}

	clk.Advance(24 * time.Hour)
	started := clk.Now()
	if err := s.SetNextSecret("billing", "new\n"); err != nil {
		t.Fatalf("SetNextSecret: %v", err)
	}
	if got, err := s.NextSecret("billing"); err != nil || got != "new" {
		t.Errorf("NextSecret = %q, %v; want new", got, err)
	}
	if sec, _ := s.Secret("billing"); sec != "old" {
		t.Errorf("staging changed the current secret to %q", sec)
	}
	if c := mustGet(t, s, "billing"); !c.RotationStartedAt.Equal(started) {
		t.Errorf("RotationStartedAt = %v, want %v", c.RotationStartedAt, started)
	}
	clk.Advance(time.Hour)
	if err := s.SetNextSecret("billing", "newer"); err != nil {
		t.Fatal(err)
	}
	if c := mustGet(t, s, "billing"); !c.RotationStartedAt.Equal(started) {
		t.Errorf("restaging moved RotationStartedAt to %v, want the first %v", c.RotationStartedAt, started)
	}

	clk.Advance(time.Hour)
	if err := s.PromoteNextSecret("billing"); err != nil {
		t.Fatalf("PromoteNextSecret: %v", err)
	}
	if sec, _ := s.Secret("billing"); sec != "newer" {
		t.Errorf("Secret after promote = %q, want newer", sec)
	}
	if _, err := s.NextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("NextSecret after promote: %v, want ErrNoNextSecret", err)
	}
	c := mustGet(t, s, "billing")
	if !c.SecretSetAt.Equal(clk.Now()) || !c.RotationStartedAt.IsZero() {
		t.Errorf("after promote SecretSetAt %v RotationStartedAt %v; want %v and zero", c.SecretSetAt, c.RotationStartedAt, clk.Now())
	}
	if _, ok := kr.Items()["billing/next-secret"]; ok {
		t.Errorf("the staged item survived the promote")
	}

	// Discard.
	if err := s.SetNextSecret("billing", "unwanted"); err != nil {
		t.Fatal(err)
	}
	if err := s.DiscardNextSecret("billing"); err != nil {
		t.Fatalf("DiscardNextSecret: %v", err)
	}
	if _, err := s.NextSecret("billing"); !errors.Is(err, vault.ErrNoNextSecret) {
		t.Errorf("NextSecret after discard: %v, want ErrNoNextSecret", err)
	}
	if sec, _ := s.Secret("billing"); sec != "newer" {
		t.Errorf("discard changed the current secret to %q", sec)
	}
	if c := mustGet(t, s, "billing"); !c.RotationStartedAt.IsZero() {
		t.Errorf("RotationStartedAt after discard = %v, want zero", c.RotationStartedAt)
	}
	if err := s.DiscardNextSecret("billing"); err != nil {
		t.Errorf("DiscardNextSecret with nothing staged: %v, want nil", err)
	}

	for _, op := range []struct {
		name string
		err  error
	}{
		{"SetNextSecret", s.SetNextSecret("nope", "x")},
		{"PromoteNextSecret", s.PromoteNextSecret("nope")},
		{"DiscardNextSecret", s.DiscardNextSecret("nope")},
	} {
		if !errors.Is(op.err, vault.ErrNoClient) {
			t.Errorf("%s of a missing client: %v, want ErrNoClient", op.name, op.err)
		}
	}
	wantField(t, "SetNextSecret empty", s.SetNextSecret("billing", ""), "secret")
}

func TestSetNextSecretKeyringFailure(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "old")
	boom := errors.New("locked")
	kr.FailWith(func(op, key string) error {
		if op == "set" {
			return boom
		}
		return nil
	})
	if err := s.SetNextSecret("billing", "new"); !errors.Is(err, boom) {
		t.Errorf("SetNextSecret with a failing keyring: %v, want %v", err, boom)
	}
	if c := mustGet(t, s, "billing"); !c.RotationStartedAt.IsZero() {
		t.Errorf("a failed SetNextSecret marked the client as rotating")
	}
	kr.FailWith(func(op, key string) error {
		if op == "delete" {
			return boom
		}
		return nil
	})
	if err := s.DiscardNextSecret("billing"); !errors.Is(err, boom) {
		t.Errorf("DiscardNextSecret with a failing keyring: %v, want %v", err, boom)
	}
}

// A keyring that fails to store the new secret at promote leaves the old
// secret working, the staged one in place and the switch marked: the next
// command (here a retry) finishes it with the date of the first attempt.
func TestPromoteKeyringSetFails(t *testing.T) {
	s, kr, clk := newStore(t)
	mustAdd(t, s, validClient(), "old")
	if err := s.SetNextSecret("billing", "new"); err != nil {
		t.Fatal(err)
	}
	before := mustGet(t, s, "billing")
	clk.Advance(time.Hour)
	switchedAt := clk.Now().UTC()
	boom := errors.New("keyring refused")
	kr.FailWith(func(op, key string) error {
		if op == "set" && key == vault.SecretKey("billing") {
			return boom
		}
		return nil
	})
	if err := s.PromoteNextSecret("billing"); !errors.Is(err, boom) {
		t.Fatalf("PromoteNextSecret with a failing Set: %v, want %v", err, boom)
	}
	kr.FailWith(nil)
	if sec, _ := s.Secret("billing"); sec != "old" {
		t.Errorf("Secret = %q, want the old secret still working", sec)
	}
	if next, _ := s.NextSecret("billing"); next != "new" {
		t.Errorf("NextSecret = %q, want the staged secret kept for a retry", next)
	}
	after := mustGet(t, s, "billing")
	if !after.SecretSetAt.Equal(before.SecretSetAt) || after.SecretSwitch == nil {
		t.Errorf("a failed promote: %+v, want the old date and the switch marked", after)
	}
	clk.Advance(time.Hour)
	if err := s.PromoteNextSecret("billing"); err != nil {
		t.Errorf("retried PromoteNextSecret: %v", err)
	}
	if sec, _ := s.Secret("billing"); sec != "new" {
		t.Errorf("Secret after the retry = %q, want new", sec)
	}
	if c := mustGet(t, s, "billing"); !c.SecretSetAt.Equal(switchedAt) || c.SecretSwitch != nil || !c.RotationStartedAt.IsZero() {
		t.Errorf("after the retry: %+v, want SecretSetAt %v, no switch, not rotating", c, switchedAt)
	}
	if _, ok := kr.Items()["billing/next-secret"]; ok {
		t.Errorf("the staged secret is still in the keyring")
	}
}

// An index write failure at promote puts the old secret back.
func TestPromoteIndexWriteFails(t *testing.T) {
	s, _, clk := newStore(t)
	mustAdd(t, s, validClient(), "old")
	if err := s.SetNextSecret("billing", "new"); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, s.IndexPath())
	clk.Advance(time.Hour)
	boom := errors.New("disk full")
	vault.SetBeforeReplace(s, func() error { return boom })
	if err := s.PromoteNextSecret("billing"); !errors.Is(err, boom) {
		t.Fatalf("PromoteNextSecret with a failing index write: %v, want %v", err, boom)
	}
	vault.SetBeforeReplace(s, nil)
	if sec, _ := s.Secret("billing"); sec != "old" {
		t.Errorf("Secret = %q, want the old secret restored", sec)
	}
	if next, _ := s.NextSecret("billing"); next != "new" {
		t.Errorf("NextSecret = %q, want the staged secret kept", next)
	}
	if after := readFile(t, s.IndexPath()); !bytes.Equal(after, before) {
		t.Errorf("the index changed although its write failed")
	}
}

// A staged secret that cannot be deleted after the switch stays listed for
// deletion, and the next store opened deletes it.
func TestPromoteStagedDeleteFails(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "old")
	if err := s.SetNextSecret("billing", "new"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("locked")
	kr.FailWith(func(op, key string) error {
		if op == "delete" {
			return boom
		}
		return nil
	})
	var pe *vault.PartialError
	if err := s.PromoteNextSecret("billing"); !errors.As(err, &pe) || !slices.Equal(pe.Left, []string{"billing/next-secret"}) {
		t.Fatalf("PromoteNextSecret with a failing delete: %v, want a *PartialError leaving billing/next-secret", err)
	}
	if sec, _ := s.Secret("billing"); sec != "new" {
		t.Errorf("Secret = %q, want new (the switch itself worked)", sec)
	}
	if c := mustGet(t, s, "billing"); !c.RotationStartedAt.IsZero() {
		t.Errorf("the index still marks the client as rotating")
	}
	if got, _ := s.Orphans(); !slices.Equal(got, []string{"billing/next-secret"}) {
		t.Errorf("Orphans = %q, want the staged secret", got)
	}
	kr.FailWith(nil)
	if _, err := vault.Open(s.Dir(), kr); err != nil {
		t.Fatal(err)
	}
	if _, ok := kr.Items()["billing/next-secret"]; ok {
		t.Errorf("opening the store did not delete the listed staged secret")
	}
	if got, _ := s.Orphans(); len(got) != 0 {
		t.Errorf("Orphans after the repair = %q, want none", got)
	}
}

func TestStoreRotation(t *testing.T) {
	s, _, clk := newStore(t)
	mustAdd(t, s, validClient(), "x")
	c := mustGet(t, s, "billing")
	clk.Advance(76 * 24 * time.Hour)
	if got := s.Rotation(c); got.State != vault.RotationDueSoon || got.DaysLeft != 14 {
		t.Errorf("Rotation at day 76 = %+v, want due soon with 14 days left", got)
	}
}

// A failing replace leaves the old index intact and no temporary files.
func TestAtomicWrite(t *testing.T) {
	s, _, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	before := readFile(t, s.IndexPath())
	boom := errors.New("rename failed")
	vault.SetBeforeReplace(s, func() error { return boom })
	other := validClient()
	other.Name = "other"
	if err := s.Put(other); !errors.Is(err, boom) {
		t.Fatalf("Put with a failing replace: %v, want %v", err, boom)
	}
	if after := readFile(t, s.IndexPath()); !bytes.Equal(after, before) {
		t.Errorf("the index changed although the replace failed:\n%s\nwant\n%s", after, before)
	}
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case vault.IndexFile, vault.BackupFile, "clients.lock":
		default:
			t.Errorf("stray file %s left after a failed write", e.Name())
		}
	}
	vault.SetBeforeReplace(s, nil)
	if err := s.Put(other); err != nil {
		t.Errorf("Put after the failure: %v", err)
	}
	if list, _ := s.List(); len(list) != 2 {
		t.Errorf("List after retry has %d clients, want 2", len(list))
	}
}

func TestFileModes(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "tokentray")
	if err := os.Mkdir(dir, 0o755); err != nil { // too open: Open restricts it
		t.Fatal(err)
	}
	s, err := vault.Open(dir, vaulttest.New())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, validClient(), "x")
	if err := s.Put(validClient()); err != nil { // a second write makes the backup
		t.Fatal(err)
	}
	unlock, err := s.LockClient(t.Context(), "billing")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	want := map[string]fs.FileMode{
		dir:                                         0o700 | fs.ModeDir,
		filepath.Join(dir, vault.IndexFile):         0o600,
		filepath.Join(dir, vault.BackupFile):        0o600,
		filepath.Join(dir, "clients.lock"):          0o600,
		filepath.Join(dir, "locks"):                 0o700 | fs.ModeDir,
		filepath.Join(dir, "locks", "billing.lock"): 0o600,
	}
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
		}
	}
}

func TestBackupKeepsLastGoodIndex(t *testing.T) {
	s, _, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	first := readFile(t, s.IndexPath())
	other := validClient()
	other.Name = "other"
	if err := s.Put(other); err != nil {
		t.Fatal(err)
	}
	if bak := readFile(t, filepath.Join(s.Dir(), vault.BackupFile)); !bytes.Equal(bak, first) {
		t.Errorf("backup = %s, want the index before the last write %s", bak, first)
	}
}

// A corrupt or too new index is refused, never overwritten, and the backup
// stays.
func TestBadIndexRefused(t *testing.T) {
	tests := []struct {
		desc    string
		content string
		want    error
	}{
		{"garbage", "{not json", vault.ErrIndexCorrupt},
		{"truncated", `{"schema":1,"clients":[{"name":"billing"`, vault.ErrIndexCorrupt},
		{"no schema", `{"clients":[]}`, vault.ErrIndexCorrupt},
		{"invalid client", `{"schema":1,"clients":[{"name":"Bad Name","client_id":"x","token_url":"https://a.example/t"}]}`, vault.ErrIndexCorrupt},
		{"newer schema", `{"schema":99,"clients":[]}`, vault.ErrIndexTooNew},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			s, kr, _ := newStore(t)
			mustAdd(t, s, validClient(), "x")
			if err := s.Put(validClient()); err != nil { // creates the backup
				t.Fatal(err)
			}
			bakPath := filepath.Join(s.Dir(), vault.BackupFile)
			bak := readFile(t, bakPath)
			if err := os.WriteFile(s.IndexPath(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}

			_, err := vault.Open(s.Dir(), kr)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), bakPath) {
				t.Errorf("Open error %q does not point to the backup %s", err, bakPath)
			}
			// A store opened before the damage refuses to write too.
			other := validClient()
			other.Name = "other"
			writes := []struct {
				name string
				err  error
			}{
				{"Put", s.Put(other)},
				{"Add", s.Add(other, "y")},
				{"Remove", s.Remove("billing")},
				{"SetSecret", s.SetSecret("billing", "z")},
				{"SetToken", s.SetToken("billing", []string{"chat:read"}, sampleToken("t"))},
			}
			for _, w := range writes {
				if !errors.Is(w.err, tt.want) {
					t.Errorf("%s on a bad index: %v, want %v", w.name, w.err, tt.want)
				}
			}
			if _, err := s.List(); !errors.Is(err, tt.want) {
				t.Errorf("List on a bad index: %v, want %v", err, tt.want)
			}
			if got := readFile(t, s.IndexPath()); string(got) != tt.content {
				t.Errorf("the bad index was overwritten with %s", got)
			}
			if got := readFile(t, bakPath); !bytes.Equal(got, bak) {
				t.Errorf("the backup changed to %s, want %s", got, bak)
			}
			if sec, _ := s.Secret("billing"); sec != "x" {
				t.Errorf("the secret of billing is %q, want it untouched", sec)
			}
		})
	}
}

// After a full add / token / rotate / remove cycle no file under the
// configuration directory holds the secret or the token.
func TestNoSecretsOnDisk(t *testing.T) {
	s, kr, _ := newStore(t)
	checkNoSecretsOnDisk(t, s, kr)
}

// checkNoSecretsOnDisk runs the cycle on s (whose keyring is kr) and scans
// every file under s.Dir(). It is shared with the real-keyring test.
func checkNoSecretsOnDisk(t *testing.T, s *vault.Store, kr vault.Keyring) {
	t.Helper()
	secret := "sec-" + randomHex(t, 16)
	next := "next-" + randomHex(t, 16)
	tok := sampleToken("tok-" + randomHex(t, 16))
	subTok := sampleToken("subtok-" + randomHex(t, 16))
	mustAdd(t, s, validClient(), secret)
	if err := s.SetToken("billing", nil, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken("billing", []string{"chat:read"}, subTok); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNextSecret("billing", next); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.LockClient(t.Context(), "billing")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	scan := func(stage string) {
		t.Helper()
		n := 0
		err := filepath.WalkDir(s.Dir(), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			n++
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, v := range []string{secret, next, tok.AccessToken, subTok.AccessToken} {
				if bytes.Contains(b, []byte(v)) {
					t.Errorf("%s: %s holds a secret or token (%s...)", stage, path, v[:6])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 3 {
			t.Fatalf("%s: scanned only %d files: is the directory right?", stage, n)
		}
	}
	scan("with the client stored")
	if got, err := s.Secret("billing"); err != nil || got != secret {
		t.Fatalf("Secret = %v; the cycle did not store the secret", err)
	}
	if err := s.Remove("billing"); err != nil {
		t.Fatal(err)
	}
	scan("after Remove")
	for _, key := range []string{vault.SecretKey("billing"), "billing/next-secret", vault.TokenKey("billing", nil),
		vault.TokenKey("billing", []string{"chat:read"})} {
		if _, err := kr.Get(key); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("keyring item %s after Remove: %v, want ErrNotFound", key, err)
		}
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// SetToken for a scope subset records the set in the index before the
// keyring item is written, so Remove always finds the item.
func TestSetTokenRecordsScopeSetFirst(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	set := vault.ScopeSetKey([]string{"chat:read"})
	var recordedAtSet []bool
	kr.FailWith(func(op, key string) error {
		if op == "set" {
			c, err := s.Get("billing")
			recordedAtSet = append(recordedAtSet, err == nil && slices.Contains(c.TokenScopeSets, set))
		}
		return nil
	})
	if err := s.SetToken("billing", []string{"chat:read"}, sampleToken("t")); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recordedAtSet, []bool{true}) {
		t.Errorf("scope set recorded at the keyring Set: %v, want [true]", recordedAtSet)
	}
}

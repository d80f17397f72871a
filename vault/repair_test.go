package vault_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// failNthWrite makes the n-th later index write of s fail (as a kill just
// before it would leave things), and every write after it succeed.
func failNthWrite(s *vault.Store, n int) {
	count := 0
	vault.SetBeforeReplace(s, func() error {
		count++
		if count == n {
			return errors.New("killed")
		}
		return nil
	})
}

func reopen(t *testing.T, s *vault.Store, kr *vaulttest.Keyring) *vault.Store {
	t.Helper()
	s2, err := vault.Open(s.Dir(), kr, vault.WithClock(s.Now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s2
}

// A remove while the keyring is locked keeps the items listed; a second
// remove retries instead of saying "no such client"; the next store opened
// with the keyring back deletes them.
func TestRemoveWhileKeyringLockedStaysPending(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	if err := s.SetToken("billing", nil, vault.Token{AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	kr.FailWith(func(op, key string) error {
		if op == "delete" {
			return vault.ErrKeyringLocked
		}
		return nil
	})
	var pe *vault.PartialError
	if err := s.Remove("billing"); !errors.As(err, &pe) || !errors.Is(err, vault.ErrKeyringLocked) {
		t.Fatalf("Remove with a locked keyring: %v, want a *PartialError wrapping ErrKeyringLocked", err)
	}
	if _, err := s.Get("billing"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("Get after the remove: %v, want ErrNoClient", err)
	}
	if left, _ := s.PendingRemoval("billing"); len(left) == 0 {
		t.Errorf("PendingRemoval is empty: the keyring items are forgotten")
	}
	if err := s.Remove("billing"); errors.Is(err, vault.ErrNoClient) || !errors.As(err, &pe) {
		t.Errorf("second Remove with the keyring still locked: %v, want a *PartialError, not ErrNoClient", err)
	}
	if got, _ := s.Orphans(); len(got) != 2 {
		t.Errorf("Orphans = %q, want the secret and the token", got)
	}
	kr.FailWith(nil)
	reopen(t, s, kr)
	if items := kr.Items(); len(items) != 0 {
		t.Errorf("after reopening, the keyring holds %v, want nothing", items)
	}
	if err := s.Remove("billing"); !errors.Is(err, vault.ErrNoClient) {
		t.Errorf("Remove after the repair: %v, want ErrNoClient", err)
	}
}

// An add killed after its secret reached the keyring and before the index
// entry was written leaves no orphan once the next store is opened.
func TestAddKilledLeavesNoOrphan(t *testing.T) {
	for write := 1; write <= 2; write++ {
		t.Run(fmt.Sprintf("kill before write %d", write), func(t *testing.T) {
			s, kr, _ := newStore(t)
			failNthWrite(s, write)
			if err := s.Add(validClient(), "x"); err == nil {
				t.Fatalf("Add with a failing write %d succeeded", write)
			}
			vault.SetBeforeReplace(s, nil)
			reopen(t, s, kr)
			if items := kr.Items(); len(items) != 0 {
				t.Errorf("keyring after the repair: %v, want nothing", items)
			}
			if got, _ := s.Orphans(); len(got) != 0 {
				t.Errorf("Orphans = %q, want none", got)
			}
			mustAdd(t, s, validClient(), "y")
			if sec, _ := s.Secret("billing"); sec != "y" {
				t.Errorf("Secret after a second add = %q, want y", sec)
			}
		})
	}
}

// An add of a name whose removal is pending deletes the old items first:
// the new client does not inherit the old tokens.
func TestAddAfterPendingRemoval(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	if err := s.SetToken("billing", nil, vault.Token{AccessToken: "old"}); err != nil {
		t.Fatal(err)
	}
	kr.FailWith(func(op, key string) error {
		if op == "delete" {
			return vault.ErrKeyringUnavailable
		}
		return nil
	})
	_ = s.Remove("billing")
	if err := s.Add(validClient(), "y"); !errors.Is(err, vault.ErrKeyringUnavailable) {
		t.Errorf("Add while the old items cannot be deleted: %v, want ErrKeyringUnavailable", err)
	}
	kr.FailWith(nil)
	mustAdd(t, s, validClient(), "y")
	if _, err := s.Token("billing", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("the new client sees a cached token (%v): the old one was not deleted", err)
	}
}

// A set-secret killed at any index write leaves either the old secret with
// its old date or the new secret with the new date, after the repair.
func TestSetSecretKilledIsAllOrNothing(t *testing.T) {
	for write := 1; write <= 3; write++ {
		t.Run(fmt.Sprintf("kill before write %d", write), func(t *testing.T) {
			s, kr, clk := newStore(t)
			mustAdd(t, s, validClient(), "old")
			oldDate := mustGet(t, s, "billing").SecretSetAt
			clk.Advance(48 * time.Hour)
			newDate := clk.Now().UTC()
			failNthWrite(s, write)
			_ = s.SetSecret("billing", "new")
			vault.SetBeforeReplace(s, nil)
			clk.Advance(time.Hour)
			s2 := reopen(t, s, kr)
			sec, err := s2.Secret("billing")
			if err != nil {
				t.Fatal(err)
			}
			c := mustGet(t, s2, "billing")
			switch {
			case sec == "old" && c.SecretSetAt.Equal(oldDate):
			case sec == "new" && c.SecretSetAt.Equal(newDate):
			default:
				t.Errorf("after the repair: secret %q dated %v; want old with %v or new with %v", sec, c.SecretSetAt, oldDate, newDate)
			}
			if c.SecretSwitch != nil {
				t.Errorf("the switch mark is still set: %+v", c.SecretSwitch)
			}
			if got, _ := s2.Orphans(); len(got) != 0 {
				t.Errorf("Orphans = %q, want none", got)
			}
		})
	}
}

// Orphans finds items of clients not in the index and tokens of scope sets
// not recorded, not items outside the clients' namespace; DeleteOrphans
// deletes exactly those.
func TestOrphans(t *testing.T) {
	s, kr, _ := newStore(t)
	mustAdd(t, s, validClient(), "x")
	if err := s.SetToken("billing", []string{"a"}, vault.Token{AccessToken: "t"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"gone/secret", "gone/token", "billing/token@deadbeef", "billing/new-secret", "stytch/project-test-1", "tokentray-doctor:probe", "notes"} {
		if err := kr.Set(k, "v"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"billing/new-secret", "billing/token@deadbeef", "gone/secret", "gone/token"}
	got, err := s.Orphans()
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Orphans = %q, %v; want %q", got, err, want)
	}
	deleted, err := s.DeleteOrphans()
	if err != nil || !slices.Equal(deleted, want) {
		t.Errorf("DeleteOrphans = %q, %v; want %q", deleted, err, want)
	}
	items := kr.Items()
	for _, k := range []string{"billing/secret", vault.TokenKey("billing", []string{"a"}), "stytch/project-test-1", "tokentray-doctor:probe", "notes"} {
		if _, ok := items[k]; !ok {
			t.Errorf("DeleteOrphans deleted %s", k)
		}
	}
}

// A secret written later than its recorded date (an older version's
// set-secret killed before the date) is found and its date corrected; a
// date set back by edit is no mismatch.
func TestSecretDateMismatch(t *testing.T) {
	s, kr, clk := newStore(t)
	kr.Now = clk.Now
	mustAdd(t, s, validClient(), "x")
	other := validClient()
	other.Name = "backdated"
	mustAdd(t, s, other, "x")
	if err := s.Update("backdated", func(c *vault.Client) error {
		c.SecretSetAt = c.SecretSetAt.Add(-30 * 24 * time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.SecretDateMismatches(); err != nil || len(ms) != 0 {
		t.Fatalf("SecretDateMismatches on a clean store = %+v, %v; want none", ms, err)
	}
	written := clk.Now().Add(10 * 24 * time.Hour).Truncate(time.Second).UTC()
	kr.Touch("billing/secret", written)
	ms, err := s.SecretDateMismatches()
	if err != nil || len(ms) != 1 || ms[0].Name != "billing" || !ms[0].Modified.Equal(written) {
		t.Fatalf("SecretDateMismatches = %+v, %v; want billing written %v", ms, err, written)
	}
	if err := s.FixSecretDate(ms[0]); err != nil {
		t.Fatal(err)
	}
	if c := mustGet(t, s, "billing"); !c.SecretSetAt.Equal(written) {
		t.Errorf("SecretSetAt after the fix = %v, want %v", c.SecretSetAt, written)
	}
	if ms, _ := s.SecretDateMismatches(); len(ms) != 0 {
		t.Errorf("after the fix: %+v, want none", ms)
	}
}

// Update drops the cached tokens when, and only when, the token settings
// change; the order of scopes does not count.
func TestUpdateDropsTokensOnTokenSettings(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *vault.Client)
		drop bool
	}{
		{"notes", func(c *vault.Client) { c.Notes = "n" }, false},
		{"scopes reordered", func(c *vault.Client) { slices.Reverse(c.Scopes) }, false},
		{"scope added", func(c *vault.Client) { c.Scopes = append(c.Scopes, "extra:read") }, true},
		{"token URL", func(c *vault.Client) { c.TokenURL = "https://other.example.com/token" }, true},
		{"client id", func(c *vault.Client) { c.ClientID = "other" }, true},
		{"auth", func(c *vault.Client) { c.AuthStyle = vault.AuthBody }, true},
		{"audience", func(c *vault.Client) { c.EndpointParams = map[string][]string{"audience": {"api"}} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, kr, _ := newStore(t)
			c := validClient()
			c.Scopes = []string{"a:read", "b:write"}
			mustAdd(t, s, c, "x")
			if err := s.SetToken("billing", nil, vault.Token{AccessToken: "t"}); err != nil {
				t.Fatal(err)
			}
			if err := s.SetToken("billing", []string{"a:read"}, vault.Token{AccessToken: "t2"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Update("billing", func(c *vault.Client) error { tt.edit(c); return nil }); err != nil {
				t.Fatal(err)
			}
			items := kr.Items()
			_, kept := items[vault.TokenKey("billing", nil)]
			_, keptSubset := items[vault.TokenKey("billing", []string{"a:read"})]
			if kept == tt.drop || keptSubset == tt.drop {
				t.Errorf("tokens kept: default %v, subset %v; want dropped = %v", kept, keptSubset, tt.drop)
			}
			if _, ok := items["billing/secret"]; !ok {
				t.Errorf("Update deleted the secret")
			}
		})
	}
}

package vaulttest_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

func TestKeyring(t *testing.T) {
	k := vaulttest.New()
	if _, err := k.Get("a"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Get of a missing key: %v, want ErrNotFound", err)
	}
	if err := k.Delete("a"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Delete of a missing key: %v, want ErrNotFound", err)
	}
	if err := k.Set("a", "1"); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get("a"); err != nil || v != "1" {
		t.Errorf("Get = %q, %v; want 1", v, err)
	}
	items := k.Items()
	items["a"] = "changed"
	if v, _ := k.Get("a"); v != "1" {
		t.Errorf("Items() is not a copy")
	}
	if err := k.Delete("a"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if got := [3]int{k.Calls("set"), k.Calls("get"), k.Calls("delete")}; got != [3]int{1, 3, 2} {
		t.Errorf("Calls set/get/delete = %v, want [1 3 2]", got)
	}
}

func TestKeyringFailuresAndSize(t *testing.T) {
	k := vaulttest.New()
	boom := errors.New("locked")
	k.FailWith(func(op, key string) error {
		if op == "get" && key == "x" {
			return boom
		}
		return nil
	})
	if err := k.Set("x", "v"); err != nil {
		t.Errorf("Set with a get-only failure: %v", err)
	}
	if _, err := k.Get("x"); !errors.Is(err, boom) {
		t.Errorf("Get: %v, want %v", err, boom)
	}
	k.FailWith(nil)
	if v, err := k.Get("x"); err != nil || v != "v" {
		t.Errorf("Get after FailWith(nil) = %q, %v", v, err)
	}
	k.SetMaxSize(3)
	if err := k.Set("y", "1234"); !errors.Is(err, vault.ErrTooBig) {
		t.Errorf("Set over the max size: %v, want ErrTooBig", err)
	}
	if err := k.Set("y", "123"); err != nil {
		t.Errorf("Set at the max size: %v", err)
	}
}

// The fake is safe for concurrent use (run with -race).
func TestKeyringConcurrent(t *testing.T) {
	k := vaulttest.New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("%d/%d", g, i)
				if err := k.Set(key, "v"); err != nil {
					t.Error(err)
				}
				if _, err := k.Get(key); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := len(k.Items()); n != 400 {
		t.Errorf("%d items, want 400", n)
	}
}

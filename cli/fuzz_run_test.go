package cli

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// FuzzRun feeds arbitrary command lines (NUL-separated arguments) to Run on a
// store with one client and a cached token: no panic, an exit code from the
// table, and never the secret in the output, nor the token outside token
// and header. exec is left out (it would run whatever the fuzzer made up),
// and so are --config (it would create directories anywhere) and rotate.
func FuzzRun(f *testing.F) {
	h := newHarness(f)
	h.http = loopbackOnly() // the fuzzer may point a client at any host
	secret := h.addClient("billing", "models:read")
	now := time.Now()
	cached := "cached-token-for-fuzzing-0123456789"
	if err := h.store().SetToken("billing", nil, vault.Token{AccessToken: cached, TokenType: "bearer", Expiry: now.Add(time.Hour), FetchedAt: now}); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"token\x00billing", "header\x00billing\x00--min-ttl\x005m", "list\x00--json", "status\x00--due",
		"inspect\x00billing\x00--json", "edit\x00billing\x00--notes\x00x", "export\x00--format\x00csv",
		"token\x00--scope\x00a,b\x00billing", "remove\x00billing", "--version", "help\x00token", "refresh\x00--all",
		"doctor\x00--timeout\x001s", "add\x00x\x00--token-url\x00https://x/t\x00--client-id\x00y\x00--no-test",
	} {
		f.Add(seed, "")
	}
	f.Fuzz(func(t *testing.T, line, stdin string) {
		args := strings.Split(line, "\x00")
		// Subcommand names match in any case (ffcli compares with
		// strings.EqualFold): "eXec" runs exec.
		has := func(name string) bool {
			return slices.ContainsFunc(args, func(a string) bool { return strings.EqualFold(a, name) })
		}
		if has("exec") || has("rotate") {
			return
		}
		for _, a := range args {
			if strings.Contains(a, "config") {
				return // the store stays in the test's directory: Open creates and chmods its dir
			}
		}
		var out, errb bytes.Buffer
		code := run(context.Background(), h.env(strings.NewReader(stdin), &out, &errb), append([]string{"--config", h.dir}, args...))
		if code < 0 || code > 7 {
			t.Fatalf("%q: exit %d; want 0 to 7", args, code)
		}
		if strings.Contains(out.String()+errb.String(), secret) {
			t.Fatalf("%q: the secret appears in the output", args)
		}
		if strings.Contains(errb.String(), cached) {
			t.Fatalf("%q: the token appears on stderr", args)
		}
		if strings.Contains(out.String(), cached) && !has("token") && !has("header") {
			t.Fatalf("%q: the token appears on stdout:\n%s", args, out.String())
		}
	})
}

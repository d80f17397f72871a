package main

import (
	"os/exec"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for _, s := range []string{"/root/.config/tokentray-demo", "/tmp/with space", "it's", "", "$HOME;rm -rf x", "a\nb"} {
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh printed %q (err %v) for shellQuote(%q) = %s; want the string back", out, err, s, shellQuote(s))
		}
	}
	if got := shellQuote("/root/.config/tokentray-demo"); got != "/root/.config/tokentray-demo" {
		t.Errorf("shellQuote of a plain path = %s; want it unquoted", got)
	}
}

package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/demo"
	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/internal/version"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// envTestMain makes the test binary run main with the arguments in
// os.Args after "--", as tokentray-gui would.
const envTestMain = "TOKENTRAY_GUI_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envTestMain) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"tokentray-gui"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs this test binary as tokentray-gui with args.
func runMain(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), envTestMain+"=1", "LANG=en_US.UTF-8")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// TestVersion: tokentray-gui --version prints the line tokentray version
// prints, and nothing else happens (no window, no store).
func TestVersion(t *testing.T) {
	t.Setenv("TOKENTRAY_CONFIG_DIR", t.TempDir()+"/never-created")
	stdout, stderr, err := runMain(t, "--version")
	if err != nil || stdout != version.Line()+"\n" {
		t.Errorf("tokentray-gui --version: %q, err %v (stderr %q); want %q", stdout, err, stderr, version.Line())
	}
	if _, err := os.Stat(os.Getenv("TOKENTRAY_CONFIG_DIR")); !os.IsNotExist(err) {
		t.Errorf("--version touched the configuration directory: %v", err)
	}
	if _, stderr, err := runMain(t, "version"); err == nil || !strings.Contains(stderr, "commands belong to tokentray") {
		t.Errorf("tokentray-gui version: err %v, stderr %q; want a usage error that sends commands to tokentray", err, stderr)
	}
}

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

// TestRunHeadless runs the headless demo on a test keyring: it prints the
// server, the directory and the example command, the server answers while
// it runs, and it returns once its context ends.
func TestRunHeadless(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := t.TempDir() + "/demo dir"
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		defer pw.Close()
		done <- runHeadless(ctx, demo.Options{Dir: dir, TokenTTL: 2 * time.Minute, Keyring: vaulttest.New()}, pw)
	}()
	lines := bufio.NewScanner(pr)
	var printed []string
	for lines.Scan() {
		printed = append(printed, lines.Text())
		if strings.HasPrefix(lines.Text(), "  tokentray --config ") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	out := strings.Join(printed, "\n")
	if !strings.Contains(out, "tokens live 2m0s") || !strings.Contains(out, "tokentray --config "+shellQuote(dir)+" token chat-bot") {
		t.Fatalf("headless demo printed %q; want the token lifetime and the example command", out)
	}
	first := strings.TrimPrefix(printed[0], "Demo authorization server: ")
	u, err := url.Parse(strings.Fields(first)[0])
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("server URL %q (%v); want one on 127.0.0.1", first, err)
	}
	resp, err := http.Get(u.String() + demoserver.MetadataPath)
	if err != nil {
		t.Fatalf("the demo server does not answer while the headless demo runs: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("metadata: %s; want 200", resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runHeadless after its context ended: %v; want nil", err)
	}
}

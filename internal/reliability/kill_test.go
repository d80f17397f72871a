//go:build linux

package reliability

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// envTrials sets the number of kill trials (TestReliabilityKill runs only
// when it is set: scripts/reliability.sh sets it, 200 by default).
const envTrials = "TOKENTRAY_RELIABILITY_TRIALS"

// permissiveTokenServer answers every client-credentials request with a
// token (every secret is accepted, so set-secret's test and rotate's proof
// pass whatever the trial chose).
func permissiveTokenServer(t *testing.T) *httptest.Server {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token": "tok-%d", "token_type": "Bearer", "expires_in": 3600, "scope": %q}`, n, r.FormValue("scope"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// secretWindow is when the command that wrote a secret ran: its date must
// fall inside.
type secretWindow struct{ start, end time.Time }

// TestReliabilityKill kills every mutating command at random instants and
// checks after each kill, and after the next command's repair: the index
// parses, no bystander client or secret is lost, no keyring item is left
// without a client (doctor says so), and the victim's secret and date
// belong together.
func TestReliabilityKill(t *testing.T) {
	trials, _ := strconv.Atoi(os.Getenv(envTrials))
	if trials <= 0 {
		t.Skipf("set %s to run (scripts/reliability.sh does)", envTrials)
	}
	if os.Getenv(vault.EnvSessionBus) == "" {
		if os.Getenv(envRequireKeyring) == "1" {
			t.Fatal("no session bus: run under scripts/reliability.sh")
		}
		t.Skip("no session bus: run under scripts/reliability.sh")
	}
	srv := permissiveTokenServer(t)
	tokenURL := srv.URL + "/oauth2/token"
	cfg := t.TempDir()
	service := fmt.Sprintf("io.github.tokentray.reliability-%d", os.Getpid())
	if err := vault.SetServiceFor(cfg, service); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("secret-tool", "clear", "service", service).Run() })
	env := append(os.Environ(), "TOKENTRAY_CONFIG_DIR="+cfg, "LANG=en_US.UTF-8")
	kr := vault.NewSystemKeyring(service)

	bystanders := map[string]string{"keep-a": "secret-keep-a", "keep-b": "secret-keep-b"}
	for name, secret := range bystanders {
		if r := run(t, env, secret+"\n", time.Minute, "add", name, "--token-url", tokenURL, "--client-id", "id-"+name, "--no-test"); r.code != 0 {
			t.Fatalf("add %s: %s", name, r.stderr)
		}
	}
	windows := map[string]secretWindow{}
	importFile := filepath.Join(t.TempDir(), "import.json")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var kills, lost, leaked, orphaned, inconsistent int
	for trial := 0; trial < trials; trial++ {
		secret := fmt.Sprintf("secret-%d-%d", trial, rng.Uint32())
		var args []string
		stdin := secret + "\n"
		switch trial % 6 {
		case 0:
			args = []string{"add", "victim", "--token-url", tokenURL, "--client-id", "id-victim", "--scope", "a:read", "--no-test"}
		case 1:
			args = []string{"edit", "victim", "--scope", fmt.Sprintf("s%d:read", trial)}
		case 2:
			args = []string{"set-secret", "victim"}
		case 3:
			args = []string{"rotate", "victim"}
		case 4:
			c := vault.Client{Name: fmt.Sprintf("imp-%d", trial), ClientID: "id-imp", TokenURL: tokenURL, SecretSetAt: time.Now().UTC()}
			c2 := c
			c2.Name += "-b"
			data, _ := vault.EncodeIndex([]vault.Client{c, c2})
			if err := os.WriteFile(importFile, data, 0o600); err != nil {
				t.Fatal(err)
			}
			args = []string{"import", importFile}
		case 5:
			args = []string{"remove", "victim", "--yes"}
		}
		cmd := exec.Command(tokentray(t), args...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The instant of the kill is random: somewhere in the command's
		// life, or after its end (then the kill finds nothing to kill).
		time.Sleep(time.Duration(rng.IntN(60_000)) * time.Microsecond)
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			kills++
		}
		_ = cmd.Wait()
		end := time.Now()
		if args[0] == "add" || args[0] == "set-secret" || args[0] == "rotate" {
			windows[secret] = secretWindow{start, end}
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && !ws.Signaled() {
			kills-- // it had ended before the signal
		}

		// The index parses.
		data, err := os.ReadFile(filepath.Join(cfg, vault.IndexFile))
		if err != nil {
			t.Fatalf("trial %d (%s): read index: %v", trial, args[0], err)
		}
		if _, err := vault.DecodeIndex(data); err != nil {
			t.Fatalf("trial %d (%s): index does not parse: %v", trial, args[0], err)
		}
		if strings.Contains(string(data), "secret-") && strings.Contains(string(data), secret) {
			leaked++
			t.Errorf("trial %d (%s): the secret is in the index", trial, args[0])
		}
		// The next command repairs; doctor then finds no orphan and no
		// wrong date.
		r := run(t, env, "", time.Minute, "doctor", "--timeout", "10s")
		if !strings.Contains(r.stdout, "orphaned keyring items: none") {
			orphaned++
			t.Errorf("trial %d (%s, killed after %v): doctor:\n%s", trial, args[0], end.Sub(start), r.stdout)
		}
		if strings.Contains(r.stdout, "FAIL  secret date of") {
			inconsistent++
			t.Errorf("trial %d (%s): doctor finds a wrong secret date:\n%s", trial, args[0], r.stdout)
		}
		s, err := vault.Open(cfg, kr)
		if err != nil {
			t.Fatalf("trial %d: open: %v", trial, err)
		}
		for name, want := range bystanders {
			got, err := s.Secret(name)
			if _, gerr := s.Get(name); gerr != nil || err != nil || got != want {
				lost++
				t.Errorf("trial %d (%s): bystander %s lost (%v, %v)", trial, args[0], name, gerr, err)
			}
		}
		if c, err := s.Get("victim"); err == nil {
			got, err := s.Secret("victim")
			if err != nil {
				lost++
				t.Errorf("trial %d (%s): victim in the index without its secret: %v", trial, args[0], err)
				continue
			}
			w, ok := windows[got]
			if !ok || c.SecretSetAt.Before(w.start.Add(-time.Second)) || c.SecretSetAt.After(w.end.Add(time.Second)) {
				inconsistent++
				t.Errorf("trial %d (%s): victim's secret %q (written %v..%v) dated %v", trial, args[0], got, w.start, w.end, c.SecretSetAt)
			}
		}
	}
	faults := 0
	summary := map[string]int{"trials": trials, "kills": kills, "faults": faults, "lost": lost, "leaked": leaked, "orphaned": orphaned, "inconsistent": inconsistent}
	b, _ := json.Marshal(summary)
	fmt.Printf("RELIABILITY-KILL %s\n", b)
}

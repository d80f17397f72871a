package reliability

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// envRequireKeyring makes the tests that need the real Secret Service fail
// instead of skipping when it is missing (CI sets it).
const envRequireKeyring = "TOKENTRAY_REQUIRE_KEYRING"

var built struct {
	once sync.Once
	path string
	err  error
	dir  string
}

// tokentray builds the command-line binary once per test run and returns
// its path.
func tokentray(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "tokentray-reliability-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		exe := filepath.Join(dir, "tokentray")
		if runtime.GOOS == "windows" {
			exe += ".exe"
		}
		cmd := exec.Command("go", "build", "-o", exe, "github.com/tokentray/tokentray")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = errors.New("go build: " + err.Error() + ": " + string(out))
			return
		}
		built.path = exe
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// result is the outcome of one run of the binary.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// run runs the binary with args, the environment env (nothing inherited
// but what env holds) and stdin, and waits for it at most limit.
func run(t testing.TB, env []string, stdin string, limit time.Duration, args ...string) result {
	t.Helper()
	exe := tokentray(t) // built before the clock starts
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("tokentray %s did not end within %v; stderr: %s", strings.Join(args, " "), limit, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("tokentray %s: %v", strings.Join(args, " "), err)
	}
	return r
}

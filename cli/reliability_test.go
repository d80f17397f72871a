package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/badserver"
	"github.com/tokentray/tokentray/refresher"
)

// reliabilitySecret has characters every encoding changes (form, JSON,
// Basic), a quote and non-ASCII.
const reliabilitySecret = `Rel+ab/l"ty%41-s3cr3t-é€-0123456789`

// reliabilityTimeout is the token request timeout of these tests; the
// command's context deadline is far beyond it, so a command that hangs
// runs into the deadline and fails the test.
const (
	reliabilityTimeout  = 2 * time.Second
	reliabilityDeadline = 30 * time.Second
)

// TestReliabilityMisbehavingServer runs token, header and add (with its test
// exchange) against a token endpoint that misbehaves in each way of package
// badserver, with each auth style. Each case asserts the exit code, that
// the command returned before its context's deadline, the message, and that
// the secret appears nowhere: stdout, stderr, the files of the config
// directory, or the requests the redirect's target received.
func TestReliabilityMisbehavingServer(t *testing.T) {
	tests := []struct {
		mode    badserver.Mode
		code    int
		message []string // in stderr
		not     []string // not in stderr
	}{
		{badserver.OK, ExitOK, nil, nil},
		{badserver.ServerError, ExitEndpoint, []string{"HTTP 503"}, []string{"upstream trouble"}},
		{badserver.RateLimitSecs, ExitEndpoint, []string{"rate-limiting", "try again after"}, nil},
		{badserver.RateLimitDate, ExitEndpoint, []string{"rate-limiting", "try again after"}, nil},
		{badserver.BadJSON, ExitEndpoint, []string{"not a valid token response"}, nil},
		{badserver.HTML, ExitEndpoint, []string{"not a valid token response"}, []string{"<html", "script"}},
		{badserver.Huge, ExitEndpoint, []string{"larger than 1048576 bytes"}, nil},
		{badserver.GzipBomb, ExitEndpoint, []string{"larger than 1048576 bytes"}, nil},
		{badserver.Hang, ExitEndpoint, []string{"no answer in time"}, nil},
		{badserver.Drip, ExitEndpoint, []string{"no answer in time"}, nil},
		{badserver.Redirect, ExitEndpoint, []string{"HTTP 307, a redirect to http://127.0.0.1", "tokentray edit rel --token-url http://127.0.0.1"}, nil},
		{badserver.RedirectPerm, ExitEndpoint, []string{"HTTP 308, a redirect to http://127.0.0.1", "/elsewhere/token"}, nil},
		{badserver.Echo, ExitError, []string{"HTTP 400", "[redacted]"}, []string{"DETAIL-FIELD", "MESSAGE-FIELD"}},
		{badserver.ControlChars, ExitEndpoint, []string{"control character"}, []string{"\x1b", "\x07", "X-Injected"}},
		{badserver.ExpiresNegative, ExitEndpoint, []string{"expires_in is -100"}, nil},
		{badserver.ExpiresHuge, ExitOK, nil, nil},
		{badserver.InvalidTarget, ExitScope, []string{"refused the resource or audience parameter", "tokentray edit rel"}, nil},
		{badserver.Untrusted, ExitEndpoint, []string{"the certificate of 127.0.0.1", "is not trusted", "SSL_CERT_FILE"}, []string{"network error"}},
	}
	if len(tests) != len(badserver.Modes) {
		t.Fatalf("%d cases for %d modes: every mode needs a case", len(tests), len(badserver.Modes))
	}
	for _, tt := range tests {
		for _, auth := range []string{"auto", "body", "header"} {
			t.Run(string(tt.mode)+"/"+auth, func(t *testing.T) {
				t.Parallel()
				srv := badserver.Start(t, tt.mode)
				h := newHarness(t)
				h.http = refresher.NewHTTPClient(reliabilityTimeout)
				h.secrets = append(h.secrets, reliabilitySecret)
				id := "m2m-client-test-rel"
				add := []string{"add", "rel", "--token-url", srv.TokenURL(), "--client-id", id, "--scope", "models:read", "--auth", auth}

				// add with its test exchange: the same failure, nothing saved.
				code, _, stderr := h.runBounded(t, reliabilitySecret+"\n", add...)
				if code != tt.code {
					t.Errorf("add: exit %d; want %d\nstderr: %s", code, tt.code, stderr)
				}
				if tt.code != ExitOK && !strings.Contains(stderr, "nothing was saved") {
					t.Errorf("add: stderr %q; want it to say nothing was saved", stderr)
				}
				checkStderr(t, "add", stderr, tt.message, tt.not)

				// token and header on a client added without a test.
				if tt.code == ExitOK {
					h.mustRun(ExitOK, "", "remove", "rel", "--yes")
				}
				h.mustRun(ExitOK, reliabilitySecret+"\n", append(add, "--no-test")...)
				for _, cmd := range []string{"token", "header"} {
					code, stdout, stderr := h.runBounded(t, "", cmd, "rel")
					if code != tt.code {
						t.Errorf("%s: exit %d; want %d\nstderr: %s", cmd, code, tt.code, stderr)
					}
					if tt.code != ExitOK && stdout != "" {
						t.Errorf("%s: stdout %q; want nothing on failure", cmd, stdout)
					}
					checkStderr(t, cmd, stderr, tt.message, tt.not)
				}
				h.checkNoSecretInFiles(t)
				if n := len(srv.Sink.Requests()); n != 0 {
					t.Errorf("the redirect's target received %d requests; want none", n)
				}
			})
		}
	}
}

// checkStderr checks a failing command's message: the words wanted, none of
// the words refused, no promise of a retry (a one-shot command retries
// nothing) and no control characters.
func checkStderr(t *testing.T, cmd, stderr string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s: stderr %q; want it to contain %q", cmd, stderr, w)
		}
	}
	for _, w := range append(not, "retrying", "backoff", "set-secret") {
		if strings.Contains(stderr, w) {
			t.Errorf("%s: stderr %q; want no %q", cmd, stderr, w)
		}
	}
	if strings.ContainsAny(strings.TrimSuffix(stderr, "\n"), "\x1b\x07\r") {
		t.Errorf("%s: stderr holds control characters: %q", cmd, stderr)
	}
}

// runBounded runs args under a context deadline far beyond the token
// request timeout: the command must return on its own, before it.
func (h *harness) runBounded(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), reliabilityDeadline)
	defer cancel()
	var out, errb bytes.Buffer
	args = append([]string{"--config", h.dir}, args...)
	code = run(ctx, h.env(strings.NewReader(stdin), &out, &errb), args)
	if ctx.Err() != nil {
		t.Errorf("%q ran into its %v deadline: it must give up on its own", args, reliabilityDeadline)
	}
	stdout, stderr = out.String(), errb.String()
	h.checkLeaks(args, stdout, stderr)
	for _, form := range secretEchoForms(reliabilitySecret) {
		if strings.Contains(stdout, form) || strings.Contains(stderr, form) {
			t.Errorf("%q: the secret appears as %q in the output:\nstdout: %s\nstderr: %s", args, form, stdout, stderr)
		}
	}
	return code, stdout, stderr
}

// secretEchoForms are forms of a secret a leak could take: as is,
// encoded, and its pieces of 8 bytes.
func secretEchoForms(secret string) []string {
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), base64.StdEncoding.EncodeToString([]byte(secret))}
	for i := 0; i+8 <= len(secret); i++ {
		forms = append(forms, secret[i:i+8])
	}
	return forms
}

// checkNoSecretInFiles checks every file of the config directory for the
// secret.
func (h *harness) checkNoSecretInFiles(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(h.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range append(h.secrets, secretEchoForms(reliabilitySecret)...) {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds the secret (as %q)", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

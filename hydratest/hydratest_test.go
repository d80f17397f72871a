package hydratest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/hydratest"
	"github.com/tokentray/tokentray/jwtinfo"
)

// tokenResponse is Hydra's token endpoint answer (success or error).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
}

// post sends a raw client-credentials request: the harness is tested without
// the refresher, so a refresher bug cannot hide a harness bug.
func post(t *testing.T, tokenURL, id, secret, scope string, basic bool) (int, tokenResponse) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if !basic {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var tr tokenResponse
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("token response %q: %v", b, err)
	}
	return resp.StatusCode, tr
}

func TestHydraHarness(t *testing.T) {
	h := hydratest.Start(t, hydratest.Options{AccessTokenTTL: 90 * time.Second})
	h.CreateClient(t, "basic-client", "s3cret+/%= &x", []string{"models:read", "chat:invoke"}, hydratest.AuthBasic)
	h.CreateClient(t, "post-client", "other-secret", []string{"models:read"}, hydratest.AuthPost)

	tests := []struct {
		name       string
		id, secret string
		scope      string
		basic      bool
		wantStatus int
		wantError  string
	}{
		{"basic", "basic-client", "s3cret+/%= &x", "models:read chat:invoke", true, 200, ""},
		{"post", "post-client", "other-secret", "models:read", false, 200, ""},
		{"basic client in body", "basic-client", "s3cret+/%= &x", "", false, 401, "invalid_client"},
		{"post client in header", "post-client", "other-secret", "", true, 401, "invalid_client"},
		{"wrong secret", "basic-client", "nope", "", true, 401, "invalid_client"},
		{"unregistered scope", "post-client", "other-secret", "chat:invoke", false, 400, "invalid_scope"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, tr := post(t, h.TokenURL(), tt.id, tt.secret, tt.scope, tt.basic)
			if status != tt.wantStatus || tr.Error != tt.wantError {
				t.Fatalf("got HTTP %d %q; want HTTP %d %q", status, tr.Error, tt.wantStatus, tt.wantError)
			}
			if got := h.TokenRequests(); got != i+1 {
				t.Errorf("TokenRequests() = %d; want %d", got, i+1)
			}
			rec := h.Requests()[i]
			if rec.Basic != tt.basic || rec.BodySecret == tt.basic || rec.Status != tt.wantStatus || rec.Scope != tt.scope {
				t.Errorf("recorded %+v; want basic=%v, body secret=%v, status %d, scope %q", rec, tt.basic, !tt.basic, tt.wantStatus, tt.scope)
			}
			if status != 200 {
				return
			}
			if tr.TokenType != "bearer" || tr.Scope != tt.scope {
				t.Errorf("got token_type %q scope %q; want bearer, %q", tr.TokenType, tr.Scope, tt.scope)
			}
			info, err := jwtinfo.Parse(tr.AccessToken)
			if err != nil {
				t.Fatalf("access token is not a JWT: %v", err)
			}
			// Hydra counts the lifetime from when it took the request, and
			// signs (iat) a moment later: within a second or two on a busy
			// machine.
			if life := info.Time("exp").Sub(info.Time("iat")); life > 90*time.Second || life < 88*time.Second {
				t.Errorf("token lifetime exp-iat = %v; want 90s (Options.AccessTokenTTL)", life)
			}
			if tr.ExpiresIn > 90 || tr.ExpiresIn < 88 {
				t.Errorf("expires_in = %d; want about 90", tr.ExpiresIn)
			}
			if got, _ := info.Scopes(); !slices.Equal(got, strings.Fields(tt.scope)) {
				t.Errorf("JWT scopes %q; want %q", got, tt.scope)
			}
			if _, ok := info.Claims["scp"]; !ok {
				t.Errorf("JWT has no scp claim with scope_claim both: %v", info.Claims)
			}
			if alg := info.Header["alg"]; alg != "RS256" {
				t.Errorf("JWT alg %v; want RS256 (as the platform signs)", alg)
			}
			if got := info.String("iss"); got != h.Issuer() {
				t.Errorf("iss = %q; want %q", got, h.Issuer())
			}
		})
	}
}

func TestHydraSetClientSecret(t *testing.T) {
	h := hydratest.Start(t)
	h.CreateClient(t, "rotating", "old-secret", []string{"a"}, hydratest.AuthBasic)
	h.SetClientSecret(t, "rotating", "new-secret")
	if status, tr := post(t, h.TokenURL(), "rotating", "old-secret", "a", true); status != 401 {
		t.Errorf("old secret after rotation: HTTP %d %q; want 401", status, tr.Error)
	}
	if status, tr := post(t, h.TokenURL(), "rotating", "new-secret", "a", true); status != 200 {
		t.Errorf("new secret after rotation: HTTP %d %q; want 200", status, tr.Error)
	}
	if got := h.GetClient(t, "rotating"); got.Scope != "a" || got.TokenEndpointAuthMethod != hydratest.AuthBasic {
		t.Errorf("after rotation the client is %+v; want scope a, client_secret_basic", got)
	}
	h.DeleteClient(t, "rotating")
	if status, _ := post(t, h.TokenURL(), "rotating", "new-secret", "a", true); status != 401 {
		t.Errorf("deleted client: HTTP %d; want 401", status)
	}
}

func TestHydraScopeClaimForms(t *testing.T) {
	tests := []struct {
		claim        string
		strip        bool
		wantScope    bool // "scope" claim present
		wantScp      bool // "scp" claim present
		wantResponse string
	}{
		{hydratest.ScopeClaimList, true, false, true, ""},
		{hydratest.ScopeClaimString, false, true, false, "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.claim, func(t *testing.T) {
			h := hydratest.Start(t, hydratest.Options{ScopeClaim: tt.claim, StripResponseScope: tt.strip})
			h.CreateClient(t, "c", "secret", []string{"a", "b"}, hydratest.AuthBasic)
			status, tr := post(t, h.TokenURL(), "c", "secret", "a b", true)
			if status != 200 {
				t.Fatalf("HTTP %d %q", status, tr.Error)
			}
			if tr.Scope != tt.wantResponse {
				t.Errorf("response scope %q; want %q", tr.Scope, tt.wantResponse)
			}
			info, err := jwtinfo.Parse(tr.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			_, hasScope := info.Claims["scope"]
			_, hasScp := info.Claims["scp"]
			if hasScope != tt.wantScope || hasScp != tt.wantScp {
				t.Errorf("claims scope=%v scp=%v; want %v %v", hasScope, hasScp, tt.wantScope, tt.wantScp)
			}
			if got, _ := info.Scopes(); !slices.Equal(got, []string{"a", "b"}) {
				t.Errorf("JWT scopes %q; want [a b]", got)
			}
		})
	}
}

// DropScopes: Hydra grants what is left after the proxy drops a scope, and
// Requests() shows the scope parameter as the client sent it.
func TestHydraDropScopes(t *testing.T) {
	h := hydratest.Start(t, hydratest.Options{DropScopes: []string{"b"}})
	h.CreateClient(t, "c", "secret", []string{"a", "b", "c"}, hydratest.AuthPost)
	status, tr := post(t, h.TokenURL(), "c", "secret", "a b c", false)
	if status != 200 {
		t.Fatalf("HTTP %d %q", status, tr.Error)
	}
	if tr.Scope != "a c" {
		t.Errorf("granted %q; want %q", tr.Scope, "a c")
	}
	if got := h.Requests()[0].Scope; got != "a b c" {
		t.Errorf("recorded scope %q; want %q", got, "a b c")
	}
}

// Without the binary, Start skips the test, or fails it when
// TOKENTRAY_REQUIRE_HYDRA=1; the message says how to build Hydra.
func TestHydraMissingBinary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-hydra")
	tests := []struct {
		require    string
		wantSkip   bool
		wantFailed bool
	}{
		{"", true, false},
		{"1", false, true},
	}
	for _, tt := range tests {
		t.Run("require="+tt.require, func(t *testing.T) {
			t.Setenv(hydratest.EnvBin, missing)
			t.Setenv(hydratest.EnvRequire, tt.require)
			rec := &recordingTB{TB: t}
			done := make(chan struct{})
			go func() { // Skip and Fatal end the goroutine with runtime.Goexit
				defer close(done)
				hydratest.Start(rec)
			}()
			<-done
			if rec.skipped != tt.wantSkip || rec.failed != tt.wantFailed {
				t.Errorf("skipped %v failed %v; want %v %v", rec.skipped, rec.failed, tt.wantSkip, tt.wantFailed)
			}
			if !strings.Contains(rec.msg, "scripts/build-hydra.sh") || !strings.Contains(rec.msg, missing) {
				t.Errorf("message %q; want it to name %s and scripts/build-hydra.sh", rec.msg, missing)
			}
		})
	}
}

// recordingTB records Skip and Fatal instead of acting on the real test.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

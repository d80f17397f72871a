package refresher

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/tokentray/tokentray/jwtinfo"
	"github.com/tokentray/tokentray/vault"
)

func TestGrantedScopes(t *testing.T) {
	requested := []string{"models:read", "chat:invoke"}
	parse := func(claims map[string]any) *jwtinfo.Info {
		info, err := jwtinfo.Parse(makeJWT(claims))
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	tests := []struct {
		desc    string
		scope   any
		info    *jwtinfo.Info
		want    []string
		assumed bool
	}{
		{"scope field", "models:read", nil, []string{"models:read"}, false},
		{"empty scope field: nothing granted", "", nil, []string{}, false},
		{"field wins over the claim", "chat:invoke", parse(map[string]any{"scope": "models:read"}), []string{"chat:invoke"}, false},
		{"no field, scope claim", nil, parse(map[string]any{"scope": "models:read"}), []string{"models:read"}, false},
		{"no field, scp list", nil, parse(map[string]any{"scp": []string{"chat:invoke"}}), []string{"chat:invoke"}, false},
		{"no field, empty scope claim: nothing granted", nil, parse(map[string]any{"scope": ""}), []string{}, false},
		{"no field, JWT without a scope claim", nil, parse(map[string]any{"sub": "x"}), requested, true},
		{"no field, opaque token", nil, nil, requested, true},
	}
	for _, tt := range tests {
		got, assumed := grantedScopes(tt.scope, tt.info, requested)
		if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) || assumed != tt.assumed {
			t.Errorf("%s: got %q, assumed %v; want %q, %v", tt.desc, got, assumed, tt.want, tt.assumed)
		}
	}
	got, _ := grantedScopes(nil, nil, requested)
	got[0] = "changed"
	if requested[0] != "models:read" {
		t.Error("the assumed scopes alias the requested ones")
	}
}

// TestExchangeScopesAssumed: a response that says nothing of scopes gives a
// token marked ScopesAssumed; one whose JWT has a scope claim does not.
func TestExchangeScopesAssumed(t *testing.T) {
	for _, tt := range []struct {
		extra   map[string]any
		assumed bool
		scopes  []string
	}{
		{map[string]any{"access_token": "opaque-token"}, true, []string{"models:read", "chat:invoke"}},
		{map[string]any{"access_token": makeJWT(map[string]any{"scope": ""})}, false, nil},
		{map[string]any{"scope": "models:read"}, false, []string{"models:read"}},
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tokenOK(w, tt.extra) }))
		res, err := Exchange(context.Background(), nil, testClient(ts.URL, vault.AuthHeader), testSecret, nil)
		ts.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Token.ScopesAssumed != tt.assumed || !slices.Equal(res.Token.Scopes, tt.scopes) && len(res.Token.Scopes)+len(tt.scopes) > 0 {
			t.Errorf("response %v: scopes %q, assumed %v; want %q, %v", tt.extra, res.Token.Scopes, res.Token.ScopesAssumed, tt.scopes, tt.assumed)
		}
	}
}

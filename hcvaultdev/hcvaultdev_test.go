package hcvaultdev_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/hcvaultdev"
)

// TestPolicies checks what the team tests rely on: the member reads and
// gets 403 on write, the admin writes, check-and-set refuses a stale
// version, and the proxy counts each token's requests.
func TestPolicies(t *testing.T) {
	s := hcvaultdev.Start(t)
	team := s.NewTeam("tokentray/")
	if v := s.PutKV("tokentray/billing", map[string]any{"client_id": "c1"}); v != 1 {
		t.Fatalf("first version = %d, want 1", v)
	}

	var got struct {
		Data struct {
			Data     map[string]any `json:"data"`
			Metadata struct {
				Version     int    `json:"version"`
				CreatedTime string `json:"created_time"`
			} `json:"metadata"`
		} `json:"data"`
	}
	if err := s.Do(http.MethodGet, "/v1/secret/data/tokentray/billing", team.MemberToken, nil, &got); err != nil {
		t.Fatalf("member read: %v", err)
	}
	if got.Data.Data["client_id"] != "c1" || got.Data.Metadata.Version != 1 || got.Data.Metadata.CreatedTime == "" {
		t.Fatalf("member read = %+v, want client_id c1 at version 1 with a created_time", got.Data)
	}
	err := s.Do(http.MethodPost, "/v1/secret/data/tokentray/billing", team.MemberToken,
		map[string]any{"data": map[string]any{"client_id": "c2"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("member write: err = %v, want HTTP 403", err)
	}
	if err := s.Do(http.MethodPost, "/v1/secret/data/tokentray/billing", team.AdminToken,
		map[string]any{"options": map[string]any{"cas": 1}, "data": map[string]any{"client_id": "c2"}}, nil); err != nil {
		t.Fatalf("admin write with cas 1: %v", err)
	}
	err = s.Do(http.MethodPost, "/v1/secret/data/tokentray/billing", team.AdminToken,
		map[string]any{"options": map[string]any{"cas": 1}, "data": map[string]any{"client_id": "c3"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "check-and-set") {
		t.Fatalf("admin write with stale cas: err = %v, want a check-and-set error", err)
	}
	if err := s.Do(http.MethodGet, "/v1/secret/data/other", team.MemberToken, nil, nil, http.StatusForbidden); err != nil {
		t.Fatalf("member read outside the prefix: %v", err)
	}

	// Through the proxy: one request, counted for the member's token.
	s.ResetRequests()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v1/secret/metadata/tokentray/?list=true", nil)
	req.Header.Set("X-Vault-Token", team.MemberToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list through the proxy: HTTP %d", resp.StatusCode)
	}
	if n := len(s.RequestsBy(team.MemberToken)); n != 1 {
		t.Fatalf("member requests counted = %d, want 1", n)
	}
	if n := len(s.RequestsBy(team.AdminToken)); n != 0 {
		t.Fatalf("admin requests counted = %d, want 0", n)
	}

	s.Stop()
	if s.Running() {
		t.Fatal("Running after Stop")
	}
	resp, err = http.Get(s.URL() + "/v1/sys/health")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("health after Stop: HTTP %d, want 502", resp.StatusCode)
		}
	}
}

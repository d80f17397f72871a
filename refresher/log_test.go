package refresher

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLogsHoldNoSecretOrToken(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	r := New(Options{Store: f.store, Now: f.clock.Now, Jitter: -1,
		Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := context.Background()
	res, err := r.Token(ctx, "billing", TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.setRespond(func(w http.ResponseWriter, req *http.Request, n int) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "bad " + testSecret})
	})
	f.clock.Add(time.Hour)
	if _, err := r.Refresh(ctx, "billing"); err == nil {
		t.Fatal("Refresh: nil error; want rejected")
	}
	f.kr.SetMaxSize(30)
	f.srv.setRespond(nil)
	if _, err := r.Refresh(ctx, "billing"); err != nil {
		t.Fatal(err)
	}
	logs := buf.String()
	for _, s := range []string{testSecret, res.Token.AccessToken, "token-2"} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
	for _, s := range []string{res.Token.Fingerprint(), `"class":"rejected"`, "kept in memory only"} {
		if !strings.Contains(logs, s) {
			t.Errorf("logs lack %q:\n%s", s, logs)
		}
	}
}

// Command tokenserver is a tiny client-credentials token endpoint for the
// GUI smoke (scripts/smoke-gui.sh): it listens on a loopback port, writes
// its token URL to the file named by -url-file, and grants JWT-shaped
// (unsigned) access tokens to the clients given with -client
// id:secret:scope,scope. Anything else gets 401 invalid_client.
package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

type client struct {
	secret string
	scopes []string
}

type clientFlags map[string]client

func (c clientFlags) String() string { return fmt.Sprint(len(c)) }

func (c clientFlags) Set(v string) error {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 {
		return fmt.Errorf("want id:secret:scope,scope; got %q", v)
	}
	c[parts[0]] = client{secret: parts[1], scopes: strings.Split(parts[2], ",")}
	return nil
}

func main() {
	clients := clientFlags{}
	urlFile := flag.String("url-file", "", "write the token URL to this file once listening")
	flag.Var(clients, "client", "a client as id:secret:scope,scope (repeatable)")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	tokenURL := "http://" + ln.Addr().String() + "/oauth2/token"
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(tokenURL), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	http.HandleFunc("/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		c, known := clients[id]
		if !known || c.secret != secret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
			return
		}
		var granted []string
		for _, s := range strings.Fields(r.PostForm.Get("scope")) {
			if slices.Contains(c.scopes, s) {
				granted = append(granted, s)
			}
		}
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{
			"iss": strings.TrimSuffix(tokenURL, "/oauth2/token"), "sub": id, "aud": "https://api.example.com",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": strings.Join(granted, " "),
		})
		jwt := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." +
			base64.RawURLEncoding.EncodeToString(claims) + ".c21va2U"
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": jwt, "token_type": "Bearer", "expires_in": 3600, "scope": strings.Join(granted, " ")})
	})
	log.Fatal(http.Serve(ln, nil))
}

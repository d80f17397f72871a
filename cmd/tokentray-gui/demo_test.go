package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/tokentray/tokentray/demo"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
	"github.com/tokentray/tokentray/vault/vaulttest"
)

// The demo's sample client gets a token from the demo server when added
// under a name of its own, as the Sample dialog tells a person to do.
func TestDemoSampleGetsAToken(t *testing.T) {
	d, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), Keyring: vaulttest.New(), Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := demoMenu{d}.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if s.Secret == "" || s.ClientID == "" {
		t.Fatalf("sample %+v: want an id and a secret", s)
	}
	c, err := vault.Client{Name: "my-first-client", ClientID: s.ClientID, TokenURL: s.TokenURL, Scopes: s.Scopes}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	res, err := refresher.Exchange(context.Background(), http.DefaultClient, c, s.Secret, nil)
	if err != nil || res.Token.AccessToken == "" {
		t.Fatalf("token for the sample: %v", err)
	}
}

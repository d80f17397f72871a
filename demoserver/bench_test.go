package demoserver

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// BenchmarkNewAndStart measures what `tokentray demo` and a test pay to get
// a serving server: with a new RSA-2048 key, or with a shared one.
func BenchmarkNewAndStart(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts func() Options
	}{
		{"new-key", func() Options { return Options{} }},
		{"shared-key", func() Options { return Options{Key: testKey()} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				s, err := New(bc.opts())
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkToken measures one client-credentials exchange over loopback
// with a kept-alive connection (authentication, JWT signing).
func BenchmarkToken(b *testing.B) {
	s, err := New(Options{Key: testKey(), Clients: []Client{chatBot}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cfg := clientcredentials.Config{ClientID: chatBot.ID, ClientSecret: chatBot.Secret, TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
	ctx := context.WithValue(b.Context(), oauth2.HTTPClient, &http.Client{})
	for b.Loop() {
		if _, err := cfg.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDownUp measures an outage and recovery on the same port.
func BenchmarkDownUp(b *testing.B) {
	s, err := New(Options{Key: testKey(), Clients: []Client{chatBot}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if err := s.Down(); err != nil {
			b.Fatal(err)
		}
		if err := s.Up(); err != nil {
			b.Fatal(err)
		}
	}
}

// Package demo sets up `tokentray demo`: the embedded demo authorization
// server (package demoserver) on loopback, and a store of its own — its own
// configuration directory and keyring service, never mixed with real
// clients — holding the server's three sample clients, so a person without
// M2M credentials sees the whole loop working.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/vault"
)

// Service is the keyring service of the demo store.
const Service = vault.DefaultService + ".demo"

// EnvDir overrides the demo's configuration directory.
const EnvDir = "TOKENTRAY_DEMO_DIR"

// Options configure a demo. Zero values take the defaults noted.
type Options struct {
	// Dir is the demo store's directory (default $TOKENTRAY_DEMO_DIR, else
	// <user config dir>/tokentray-demo).
	Dir string
	// TokenTTL is the lifetime of the server's tokens (default 1h); a short
	// one (2m) lets a person watch refreshes happen.
	TokenTTL time.Duration
	// Keyring holds the demo's secrets (default the OS keyring under
	// Service). Tests pass vaulttest.New().
	Keyring vault.Keyring
	// Addr is the server's loopback listen address (default a free port).
	Addr string
}

// Demo is a running demo: the server and the store on it.
type Demo struct {
	Server *demoserver.Server
	Store  *vault.Store
	Dir    string
}

// DefaultDir returns the demo's configuration directory.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("demo: no configuration directory (set %s): %w", EnvDir, err)
	}
	return filepath.Join(base, "tokentray-demo"), nil
}

// Start starts the server and fills the demo store with its clients. The
// store is made afresh each time (the server makes new secrets and a new
// signing key on every start); the clients' secrets are dated as the server
// says, so rotation warnings show at once. The server stops when ctx ends or
// on Close.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := vault.SetServiceFor(dir, Service); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	kr := opts.Keyring
	if kr == nil {
		kr = vault.NewSystemKeyring(Service)
	}
	store, err := vault.Open(dir, kr)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	srv, err := demoserver.New(demoserver.Options{Addr: opts.Addr, TokenTTL: opts.TokenTTL})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{Server: srv, Store: store, Dir: dir}
	if err := d.fill(); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return d, nil
}

// fill replaces the store's clients with the server's.
func (d *Demo) fill() error {
	old, err := d.Store.List()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, c := range old {
		var partial *vault.PartialError
		if err := d.Store.Remove(c.Name); err != nil && !errors.As(err, &partial) {
			return fmt.Errorf("demo: clear the previous demo: %w", err)
		}
	}
	for _, c := range d.Server.Clients() {
		if err := d.Store.Add(c.VaultClient(d.Server.TokenURL()), c.Secret); err != nil {
			return fmt.Errorf("demo: store %s: %w", c.Name, err)
		}
	}
	return nil
}

// Close stops the server. The demo store stays for the next run.
func (d *Demo) Close() error { return d.Server.Close() }

// Action is one kind of trouble a person can cause from the demo's menu, to
// see how Tokentray explains it and recovers.
type Action struct {
	Label string
	Do    func() error
}

// Actions returns the demo's trouble switches, in menu order: for the first
// client, reject its secret (401) and accept it again, drop its last scope
// (invalid_scope); answer every client 429 with Retry-After 60 s; take the
// server down (connection refused) and up again; and clear all trouble.
func (d *Demo) Actions() []Action {
	clients := d.Server.Clients()
	var acts []Action
	if len(clients) > 0 {
		c := clients[0]
		acts = append(acts,
			Action{"Reject the secret of " + c.Name + " (401 invalid_client)", func() error { d.Server.RejectSecret(c.ID); return nil }},
			Action{"Accept the secret of " + c.Name + " again", func() error { d.Server.AcceptSecret(c.ID); return nil }},
		)
		if n := len(c.Scopes); n > 0 {
			scope := c.Scopes[n-1]
			acts = append(acts, Action{"Drop " + scope + " from " + c.Name + " (invalid_scope)", func() error { d.Server.DropScope(c.ID, scope); return nil }})
		}
	}
	acts = append(acts,
		Action{"Answer 429 to every client (Retry-After 60 s)", func() error { d.Server.RateLimit(time.Minute); return nil }},
		Action{"Take the server down (connection refused)", d.Server.Down},
		Action{"Bring the server up", d.Server.Up},
		Action{"Clear all trouble", d.Server.Reset},
	)
	return acts
}

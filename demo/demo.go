// Package demo sets up `tokentray demo`: the embedded demo authorization
// server (package demoserver) on loopback, and a store of its own — its own
// configuration directory and keyring service, never mixed with real
// clients — holding the server's three sample clients, so a person without
// M2M credentials sees the whole loop working.
package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tokentray/tokentray/demoserver"
	"github.com/tokentray/tokentray/rotation"
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

// Start starts the server and seeds the demo store with its clients,
// replacing an earlier run's (the server makes new secrets and a new signing
// key on every start); the clients' secrets are dated as the server says, so
// rotation warnings show at once. The server stops when ctx ends or
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
	if err := Seed(srv, store); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	return &Demo{Server: srv, Store: store, Dir: dir}, nil
}

// Close stops the server. The demo store stays for the next run.
func (d *Demo) Close() error { return d.Server.Close() }

// Actions returns the demo menu: the server's trouble switches
// (demoserver.Server.Actions), then, for each client, an entry that plays
// the provider's dashboard for a rotation: the server issues a new secret
// (the old one stays accepted) and it is staged in the demo store as the
// client's next secret, as a person would paste it, so that Rotate secret
// shows the rotation in progress and Finish proves and switches to it. The
// secret is never shown. Each Do is safe to call from any goroutine.
func (d *Demo) Actions() []demoserver.Action {
	out := d.Server.Actions()
	for _, c := range d.Server.Clients() {
		id, name := c.ID, c.Name
		out = append(out, demoserver.Action{
			Label: fmt.Sprintf("Issue a new secret for %s (staged: finish it with Rotate secret)", name),
			Do: func() error {
				secret, err := d.Server.RotateSecret(id)
				if err != nil {
					return fmt.Errorf("demo: %w", err)
				}
				if err := rotation.New(d.Store).Stage(name, secret); err != nil {
					return fmt.Errorf("demo: %w", err)
				}
				return nil
			},
		})
	}
	return out
}

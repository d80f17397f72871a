package demoserver_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokentray/tokentray/demoserver"
)

// The demo: start the server with the default clients, use one of them,
// then switch trouble on and off.
func Example() {
	ctx := context.Background()
	s, err := demoserver.New(demoserver.Options{TokenTTL: 2 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	c := s.Clients()[0] // chat-bot
	cfg := clientcredentials.Config{ClientID: c.ID, ClientSecret: c.Secret, TokenURL: s.TokenURL()}
	tok, err := cfg.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Extra("scope"), tok.Extra("expires_in"))

	s.RejectSecret(c.ID)
	_, err = cfg.Token(ctx)
	fmt.Println(err != nil)
	if err := s.Reset(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// chat:invoke models:read 120
	// true
}

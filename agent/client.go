package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// ErrNotRunning means no app answers for the store: use the keyring.
var ErrNotRunning = errors.New("agent: no Tokentray app is running for this store")

// Error is a failure the running app answered with. Class is a
// refresher.Class, or a protocol class (unknown-client, bad-request,
// unsupported, version) for which the caller should do the work itself
// (Fallback). For a refresher class, errors.As finds a *refresher.Error of
// that class, so exit codes follow the class as on the keyring path.
type Error struct {
	Class string
	Msg   string // the app's sentence for a person
}

func (e *Error) Error() string { return "agent: " + e.Msg }

// Message returns the app's sentence, without the package prefix.
func (e *Error) Message() string { return e.Msg }

// Fallback reports whether the caller should get the token without the
// app (the app does not know the client, or cannot serve the request).
func (e *Error) Fallback() bool { return !isRefresherClass(e.Class) }

// Unwrap returns a *refresher.Error carrying the class, for a refresher
// class; nil otherwise.
func (e *Error) Unwrap() error {
	if isRefresherClass(e.Class) {
		return &refresher.Error{Class: refresher.Class(e.Class)}
	}
	return nil
}

// Token is what the agent hands out for a token request.
type Token struct {
	vault.Token               // AccessToken, TokenType, Expiry, Scopes (granted)
	Missing     []string      // requested scopes not granted
	Stale       string        // why refreshing failed while this still valid token is served; "" when fresh
	Skew        time.Duration // server clock minus local clock, when notable
}

// Show asks the app running on storeDir to show its window. It returns
// an error wrapping ErrNotRunning when none runs.
func Show(ctx context.Context, storeDir string) error {
	tr, err := newTransport(storeDir)
	if err != nil {
		return err
	}
	_, err = exchange(ctx, tr, request{verb: verbShow})
	return err
}

// GetToken asks the app running on storeDir for a token of client name.
// It returns an error wrapping ErrNotRunning at once when no app listens,
// and an *Error when the app answered with a failure.
func GetToken(ctx context.Context, storeDir, name string, opts refresher.TokenOptions) (Token, error) {
	tr, err := newTransport(storeDir)
	if err != nil {
		return Token{}, err
	}
	return getToken(ctx, tr, name, opts)
}

func getToken(ctx context.Context, tr transport, name string, opts refresher.TokenOptions) (Token, error) {
	req := request{verb: verbToken, name: name, minTTL: opts.MinTTL, scopes: opts.Scopes, scopesSet: opts.Scopes != nil}
	a, err := exchange(ctx, tr, req)
	if err != nil {
		return Token{}, err
	}
	if a.token.AccessToken == "" {
		return Token{}, errors.New("agent: answer without a token")
	}
	return Token{Token: a.token, Missing: a.missing, Stale: a.stale, Skew: a.skew}, nil
}

// exchange sends one request and reads its answer.
func exchange(ctx context.Context, tr transport, req request) (answer, error) {
	if _, err := parseRequest(req.encode()[:len(req.encode())-1]); err != nil {
		return answer{}, err // never send what the server would refuse
	}
	c, err := tr.dial(ctx)
	if err != nil {
		return answer{}, err
	}
	defer c.Close()
	deadline := time.Now().Add(tokenTimeout + 5*time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := io.WriteString(c, req.encode()); err != nil {
		return answer{}, fmt.Errorf("agent: send: %w", err)
	}
	line, err := readLine(bufio.NewReaderSize(c, 4096), maxAnswer)
	if err != nil {
		return answer{}, fmt.Errorf("agent: no answer: %w", err)
	}
	a, err := parseAnswer(line)
	if err != nil {
		return answer{}, err
	}
	if a.class != "" {
		return answer{}, &Error{Class: a.class, Msg: a.msg}
	}
	return a, nil
}

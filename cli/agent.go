package cli

import (
	"context"
	"errors"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/refresher"
)

// EnvNoAgent set to 1 makes token, header and exec read the keyring
// themselves even when the app runs (for comparing, and for debugging).
const EnvNoAgent = "TOKENTRAY_NO_AGENT"

// agentToken asks the running app for the token (package agent). served
// is false when no app answers for this store, or the app cannot serve
// this request (it does not know the client, speaks another version): the
// caller then reads the keyring itself. A failure the app classified
// (rejected, scope, endpoint failing) is returned with its class, so the
// exit code is the same as on the keyring path. stale is the app's reason
// why refreshing failed while the token it sent is still valid.
func (a *app) agentToken(ctx context.Context, name string, tf tokenFlags) (res refresher.Result, stale string, served bool, err error) {
	if a.getenv(EnvNoAgent) == "1" {
		return res, "", false, nil
	}
	dir, err := a.dir()
	if err != nil {
		return res, "", false, nil
	}
	opts := refresher.TokenOptions{MinTTL: tf.minTTL}
	if tf.scopes.set {
		opts.Scopes = append([]string{}, tf.scopes.scopes...)
	}
	tok, err := agent.GetToken(ctx, dir, name, opts)
	var ae *agent.Error
	switch {
	case err == nil:
	case errors.As(err, &ae) && !ae.Fallback():
		return res, "", true, err
	default:
		return res, "", false, nil
	}
	return refresher.Result{
		Token:     tok.Token,
		Source:    refresher.FromMemory,
		Requested: opts.Scopes,
		Missing:   tok.Missing,
		Skew:      tok.Skew,
	}, tok.Stale, true, nil
}

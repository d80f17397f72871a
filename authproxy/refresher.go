package authproxy

import (
	"context"
	"errors"

	"github.com/tokentray/tokentray/refresher"
)

// ClientTokens is what RefresherTokens needs from the refresher:
// *refresher.Refresher has it, and so does the window's view of it.
type ClientTokens interface {
	Token(ctx context.Context, name string, opts refresher.TokenOptions) (refresher.Result, error)
}

// refresherTokens gives the proxy one stored client's tokens.
type refresherTokens struct {
	r    ClientTokens
	name string
	opts refresher.TokenOptions
}

// RefresherTokens gives the proxy the tokens of the stored client name
// through r: the cached token while it is fresh (opts.MinTTL and
// opts.Scopes apply), a fetched one when it is due, and a forced fetch
// after the upstream refused one. Errors are the refresher's sentences for
// a person, without a secret.
func RefresherTokens(r ClientTokens, name string, opts refresher.TokenOptions) Tokens {
	return &refresherTokens{r: r, name: name, opts: opts}
}

func (t *refresherTokens) Token(ctx context.Context, force bool) (string, string, error) {
	opts := t.opts
	opts.Force = force
	res, err := t.r.Token(ctx, t.name, opts)
	if err != nil {
		var re *refresher.Error
		if errors.As(err, &re) {
			return "", "", errors.New(re.Message())
		}
		return "", "", err
	}
	return res.Token.AccessToken, res.Token.TokenType, nil
}

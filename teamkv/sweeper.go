package teamkv

import (
	"context"
	"fmt"
	"time"
)

// RenewBefore is how close to its expiry the sweeper renews a team's Vault
// token; when the token still expires within it after the renewal (a token
// at its maximum TTL cannot be renewed further), the sweeper warns.
const RenewBefore = 24 * time.Hour

// Sweeper runs every team's sweep on the team's interval while the app
// runs, and keeps the Vault tokens renewed (auth/token/renew-self).
type Sweeper struct {
	Teams []*Team
	// OnChange is called after a sweep that added, changed or removed
	// clients (the window reloads the refresher's client list).
	OnChange func(team string, res SyncResult)
	// OnWarn is called with a sentence for a person: a token about to
	// expire, a team gone offline or needing a login (once per problem).
	OnWarn func(msg string)
}

// Run sweeps until ctx ends: each team at once, then on its interval.
func (s *Sweeper) Run(ctx context.Context) {
	done := make(chan struct{})
	for _, t := range s.Teams {
		go func() {
			defer func() { done <- struct{}{} }()
			s.runTeam(ctx, t)
		}()
	}
	for range s.Teams {
		<-done
	}
}

func (s *Sweeper) runTeam(ctx context.Context, t *Team) {
	tick := time.NewTicker(t.cfg.Interval())
	defer tick.Stop()
	lastWarn := ""
	var lastRenew time.Time
	for {
		warn := s.sweepOnce(ctx, t, &lastRenew)
		if warn != lastWarn && warn != "" && s.OnWarn != nil {
			s.OnWarn(warn)
		}
		lastWarn = warn
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sweepOnce syncs a team, renews its token when due (at most hourly), and
// returns a warning for a person, "" when all is well.
func (s *Sweeper) sweepOnce(ctx context.Context, t *Team, lastRenew *time.Time) string {
	res, err := t.Sync(ctx)
	if err != nil {
		return t.Status().Line()
	}
	if (len(res.Changed) > 0 || len(res.Removed) > 0) && s.OnChange != nil {
		s.OnChange(t.Name(), res)
	}
	exp := t.Status().TokenExpiry
	now := t.now()
	if !exp.IsZero() && exp.Sub(now) < RenewBefore && now.Sub(*lastRenew) >= time.Hour {
		*lastRenew = now
		if e, err := t.RenewToken(ctx); err == nil {
			exp = e
		}
	}
	if !exp.IsZero() && exp.Sub(now) < RenewBefore {
		return fmt.Sprintf("team %s: the Vault token expires at %s and cannot be renewed further: run tokentray team login %s", t.Name(), exp.Local().Format("Mon 15:04"), t.Name())
	}
	return ""
}

package refresher

import (
	"context"
	"errors"
)

// scheduler runs the sweeps and rotation checks.
type scheduler struct{}

func (s *scheduler) kick() {}

// Start runs the scheduler (sweep and rotation checks) until Stop. It reads
// the client list from the store and publishes an initial State per client.
func (r *Refresher) Start(ctx context.Context) error {
	return errors.New("refresher: start: not implemented yet")
}

// Stop cancels fetches in flight and waits for running jobs, or for ctx.
func (r *Refresher) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.fetchCancel()
	r.fetchCtx, r.fetchCancel = context.WithCancel(context.Background())
	r.mu.Unlock()
	return nil
}

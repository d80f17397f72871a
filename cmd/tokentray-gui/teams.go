package main

import (
	"context"

	"fyne.io/fyne/v2"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/teamkv"
	"github.com/tokentray/tokentray/vault"
)

// openWithTeams opens the store in dir on the OS keyring with the team
// sources of dir/teams.json.
func openWithTeams(dir string) (*vault.Store, error) {
	service, err := vault.ServiceFor(dir)
	if err != nil {
		return nil, err
	}
	kr := vault.NewSystemKeyring(service)
	teams, err := teamkv.OpenAll(dir, kr)
	if err != nil {
		return nil, err
	}
	return vault.Open(dir, kr, vault.WithSources(teamkv.Sources(teams)...))
}

// sweepTeams runs the team sources' sweeps while the app runs: a rotation
// by anyone reaches the refresher within one interval, and the Vault
// tokens are renewed; trouble is notified once.
func sweepTeams(ctx context.Context, store *vault.Store, r *refresher.Refresher, a fyne.App) {
	var teams []*teamkv.Team
	for _, src := range store.Sources() {
		if t, ok := src.(*teamkv.Team); ok {
			teams = append(teams, t)
		}
	}
	if len(teams) == 0 {
		return
	}
	s := &teamkv.Sweeper{
		Teams:    teams,
		OnChange: func(string, teamkv.SyncResult) { _ = r.Reload() },
		OnWarn: func(msg string) {
			a.SendNotification(fyne.NewNotification("Tokentray team", msg))
		},
	}
	s.Run(ctx)
}

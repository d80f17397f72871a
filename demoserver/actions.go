package demoserver

import (
	"fmt"
	"slices"
	"time"
)

// Action is one entry of the demo's trouble menu: a label and the function
// that toggles that trouble (or, for the last entry, clears all trouble).
// It matches ui.DemoAction field for field, so the demo can convert each
// with ui.DemoAction(a) without this package importing Fyne.
type Action struct {
	Label string
	Do    func() error
	// Active reports whether the trouble a toggle switches is on now (the
	// menu shows a check mark); nil for an entry that is not a toggle.
	Active func() bool
}

// MenuRateLimit is the Retry-After of the rate-limit entry of Actions.
const MenuRateLimit = 30 * time.Second

// Actions returns the demo's trouble menu for the registered clients, in
// this order: for each client, toggle rejecting its secret; for each client
// with scopes, toggle dropping its last scope; toggle a rate limit for every
// client (Retry-After MenuRateLimit); toggle the outage (Down / Up); clear
// all trouble (Reset). Each Do is safe to call from any goroutine.
func (s *Server) Actions() []Action {
	clients := s.Clients()
	var out []Action
	for _, c := range clients {
		id := c.ID
		out = append(out, Action{
			Label: fmt.Sprintf("Reject / accept the secret of %s (401 invalid_client)", c.Name),
			Do: func() error {
				s.update(id, func(t *Trouble) { t.RejectSecret = !t.RejectSecret })
				return nil
			},
			Active: func() bool { return s.Trouble(id).RejectSecret },
		})
	}
	for _, c := range clients {
		if len(c.Scopes) == 0 {
			continue
		}
		id, scope := c.ID, c.Scopes[len(c.Scopes)-1]
		out = append(out, Action{
			Label: fmt.Sprintf("Drop / restore %s of %s (invalid_scope)", scope, c.Name),
			Do: func() error {
				s.update(id, func(t *Trouble) { t.toggleScope(scope) })
				return nil
			},
			Active: func() bool { return slices.Contains(s.Trouble(id).DropScopes, scope) },
		})
	}
	out = append(out,
		Action{
			Label: fmt.Sprintf("Rate-limit / allow token requests (429, Retry-After %d s)", int(MenuRateLimit/time.Second)),
			Do: func() error {
				s.update(AllClients, func(t *Trouble) {
					if t.RateLimit > 0 {
						t.RateLimit = 0
					} else {
						t.RateLimit = MenuRateLimit
					}
				})
				return nil
			},
			Active: func() bool { return s.Trouble(AllClients).RateLimit > 0 },
		},
		Action{Label: "Take the server down / bring it up (connection refused)", Do: s.ToggleDown, Active: s.IsDown},
		Action{Label: "Clear all trouble", Do: s.Reset},
	)
	return out
}

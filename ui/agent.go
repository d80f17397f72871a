package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/agent"
)

// SetAgent gives the window the agent's request log (agent.Server.Recent):
// File > Recent token requests lists it. Call before Start.
func (u *UI) SetAgent(recent func() []agent.Request) { u.agentRecent = recent }

// AgentRequest is told of every token request the agent served or
// refused (from the agent's goroutine): an open list of recent requests
// is brought up to date. With no list open it does nothing: a script
// asking for tokens does not keep a parked driver loop awake.
func (u *UI) AgentRequest(agent.Request) {
	if !u.recentOpen.Load() {
		return
	}
	u.do(func() {
		if u.recentList != nil {
			u.recentRows = u.agentRecent()
			u.recentList.Refresh()
		}
	})
}

// recentLine is one request as the list shows it: when, which client,
// the fingerprint of the token handed out, and how it went.
func recentLine(r agent.Request, now time.Time) string {
	fp := r.Fingerprint
	if fp == "" {
		fp = "no token"
	}
	outcome := "served"
	if r.Outcome != "ok" {
		outcome = "refused: " + r.Outcome
	}
	when := r.At.Format("15:04:05")
	if now.Sub(r.At) > 20*time.Hour {
		when = r.At.Format("Jan 2 15:04")
	}
	return fmt.Sprintf("%s   %s   token %s   %s", when, r.Client, fp, outcome)
}

// showRecent opens the list of the latest token requests the agent served
// to the command line (newest first). It holds fingerprints, never tokens.
func (u *UI) showRecent() {
	if u.agentRecent == nil {
		u.showDialog(infoDialog("Recent token requests", "This window serves no tokens to the command line.", u.win))
		return
	}
	u.recentRows = u.agentRecent()
	u.recentList = &widget.List{
		Length:     func() int { return len(u.recentRows) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("") },
		UpdateItem: func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(u.recentRows) {
				o.(*widget.Label).SetText(recentLine(u.recentRows[id], u.time.Now()))
			}
		},
	}
	u.recentList.ExtendBaseWidget(u.recentList)
	u.recentOpen.Store(true)
	info := widget.NewLabel("tokentray token, header and exec ask this app first: these are the latest requests (token fingerprints, never tokens).")
	info.Wrapping = fyne.TextWrapWord
	empty := widget.NewLabel("No requests yet.")
	if len(u.recentRows) > 0 {
		empty.Hide()
	}
	content := container.NewBorder(info, empty, nil, nil, u.recentList)
	d := dialog.NewCustom("Recent token requests", "Close", content, u.win)
	d.SetOnClosed(func() { u.recentList = nil; u.recentOpen.Store(false) })
	d.Resize(fyne.NewSize(640, 420))
	d.Show()
}

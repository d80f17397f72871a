package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

// notifyPrefs are the notification switches of the Settings window.
type notifyPrefs struct {
	rotation  bool          // rotation due soon and overdue
	failures  bool          // rejected, failing, recovered
	failAfter time.Duration // how long a refresh must fail before it is worth a notification
}

// notifier decides which system notifications a client's state is worth.
// Each condition of each client notifies once, however many snapshots or
// sweeps repeat it: it remembers, per client and condition, the stage it
// last notified. Switched-off notifications are remembered as sent, so
// switching them on later does not replay old news.
type notifier struct {
	sent map[string]string // client name + "|" + condition -> stage notified
}

func newNotifier() *notifier { return &notifier{sent: map[string]string{}} }

// prefNotified keeps what was notified across restarts, so a rotation
// reminder or an overdue notice is not repeated each time the app starts.
const prefNotified = "notify.sent"

// load restores what was notified from the preferences.
func (n *notifier) load(p fyne.Preferences) {
	var m map[string]string
	if err := json.Unmarshal([]byte(p.String(prefNotified)), &m); err == nil && m != nil {
		n.sent = m
	}
}

// save stores what was notified in the preferences.
func (n *notifier) save(p fyne.Preferences) {
	b, err := json.Marshal(n.sent)
	if err == nil {
		p.SetString(prefNotified, string(b))
	}
}

// rotationAt is the rotation status of st's client at now (the state's own
// status is only as fresh as the refresher's last rotation check).
func rotationAt(st refresher.State, now time.Time) vault.RotationStatus {
	if st.Client.SecretSetAt.IsZero() {
		return st.Rotation
	}
	return vault.Rotation(st.Client.SecretSetAt, now, vault.DefaultRotationPolicy)
}

// check returns the notifications st is worth at now that were not sent yet.
func (n *notifier) check(st refresher.State, now time.Time, p notifyPrefs) []*fyne.Notification {
	var out []*fyne.Notification
	name := st.Client.Name
	key := func(cond string) string { return name + "|" + cond }
	emit := func(on bool, cond, stage, title, body string) {
		if n.sent[key(cond)] == stage {
			return
		}
		n.sent[key(cond)] = stage
		if on {
			out = append(out, &fyne.Notification{Title: title, Content: body})
		}
	}

	// Rotation reminders follow the rotation package's schedule (days 76,
	// 83 and 89, then daily once overdue); the last one sent is remembered
	// with the secret's date, so a new secret starts afresh.
	rot := rotationAt(st, now)
	if rem, due := rotation.DueReminder(rot, n.lastReminder(name)); due {
		n.sent[key("rotation")] = encodeSent(rem.Sent())
		switch {
		case !p.rotation:
		case rem.Overdue:
			out = append(out, &fyne.Notification{Title: name + "'s secret is overdue for rotation",
				Content: fmt.Sprintf("It was due on %s, %s ago. Create a new secret in the provider's dashboard and use Rotate secret.",
					rot.DueAt.Local().Format("Mon 2 Jan"), vault.DaysText(-rot.DaysLeft))})
		default:
			out = append(out, &fyne.Notification{Title: "Rotate " + name + "'s secret soon",
				Content: fmt.Sprintf("Its secret is due for rotation on %s (%s). Tokens issued with the old secret stay valid until they expire.",
					rot.DueAt.Local().Format("Mon 2 Jan"), dueIn(rot.DaysLeft))})
		}
	}

	rejected := st.Phase == refresher.PhaseRejected || (st.Err != nil && st.Err.Class == refresher.ClassRejected)
	// A failure is news when work stops: once no valid token is left (at
	// once when there was none), or after failAfter at the latest.
	failing := (st.Phase == refresher.PhaseStale || st.Phase == refresher.PhaseExpired) &&
		!st.StaleSince.IsZero() && (validUntil(st, now).IsZero() || now.Sub(st.StaleSince) >= p.failAfter)
	// One server outage is one notification, however many of its clients
	// fail: the host's key holds while any of them has not recovered.
	outageKey := ""
	if st.Err != nil && st.Err.Class == refresher.ClassTransient && st.Err.Host != "" {
		outageKey = "\x00outage|" + st.Err.Host
	}
	switch {
	case rejected:
		body := "The token endpoint rejected " + name + "'s client secret. Paste the current secret with Rotate secret, or correct the client with Edit."
		if st.Err != nil {
			what, todo := explain(st.Err, validUntil(st, now))
			body = what + " " + todo
		}
		emit(p.failures, "rejected", "yes", name+": credentials rejected", body)
	case failing:
		body := "Refreshing " + name + "'s token has failed since " + st.StaleSince.Local().Format("15:04") + "."
		if !st.Expiry.IsZero() && now.Before(st.Expiry) {
			body += " The last good token is valid until " + st.Expiry.Local().Format("15:04") + "."
		} else {
			body += " There is no valid token."
		}
		title := name + ": token refresh failing"
		if st.Err != nil {
			what, _ := explain(st.Err, time.Time{})
			body = what + " " + body
		}
		if outageKey != "" {
			stage := st.StaleSince.UTC().Format(time.RFC3339Nano)
			if n.sent[outageKey] != "" {
				n.sent[key("failing")] = stage // told with the host's outage
				break
			}
			n.sent[outageKey] = name
			title = "Can't reach " + st.Err.Host
			body += " Other clients of " + st.Err.Host + " are not notified separately."
		}
		emit(p.failures, "failing", st.StaleSince.UTC().Format(time.RFC3339Nano), title, body)
	case st.Phase == refresher.PhaseFresh:
		host := hostOf(st.Client.TokenURL)
		if host != "" && n.sent["\x00outage|"+host] != "" {
			delete(n.sent, "\x00outage|"+host)
		}
		if n.sent[key("rejected")] != "" || n.sent[key("failing")] != "" {
			delete(n.sent, key("rejected"))
			delete(n.sent, key("failing"))
			emit(p.failures, "recovered", strconv.FormatInt(now.UnixNano(), 10), name+": recovered",
				name+" has a fresh token again.")
		}
	}
	return out
}

// forget drops what was remembered about a removed client.
func (n *notifier) forget(name string) {
	for k := range n.sent {
		if len(k) > len(name) && k[:len(name)+1] == name+"|" {
			delete(n.sent, k)
		}
	}
}

// lastReminder is the rotation reminder last sent for the client called
// name (the zero Sent when none was).
func (n *notifier) lastReminder(name string) rotation.Sent {
	var last rotation.Sent
	_ = json.Unmarshal([]byte(n.sent[name+"|rotation"]), &last)
	return last
}

func encodeSent(s rotation.Sent) string {
	b, _ := json.Marshal(s)
	return string(b)
}

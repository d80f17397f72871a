package vault

import (
	"errors"
	"fmt"
	"time"
)

// secretDateSlack is how much later than its recorded date a secret's
// keyring item may have been written: older versions wrote the secret a
// moment before the date, and clocks of the keyring daemon and of the writer
// may differ by a little.
const secretDateSlack = 2 * time.Minute

// SecretDateMismatch is a client whose secret was written to the keyring
// later than the index says: left by a set-secret or rotation switch of an
// older version killed between writing the secret and its date.
type SecretDateMismatch struct {
	Name     string
	Recorded time.Time // when the index says the secret was stored
	Modified time.Time // when the keyring item was last written
}

// SecretDateMismatches compares each client's secret item's modification
// time (where the keyring knows it, see ModTimer) with the time the index
// says the secret was stored: SecretStoredAt when recorded (this version
// records it in the same write as SecretSetAt), else the later of
// SecretSetAt and CreatedAt (a date set back with edit --secret-set-at is
// earlier than the add that stored the secret, and is no mismatch). An item
// written more than secretDateSlack after that is a mismatch. A client with
// a secret change in progress is skipped: Repair finishes it. The result is
// nil where the keyring cannot tell.
func (s *Store) SecretDateMismatches() ([]SecretDateMismatch, error) {
	mt, ok := s.keyring.(ModTimer)
	if !ok {
		return nil, nil
	}
	clients, err := s.read()
	if err != nil {
		return nil, err
	}
	var out []SecretDateMismatch
	for _, c := range clients {
		if c.SecretSwitch != nil {
			continue
		}
		mod, err := mt.Modified(secretKey(c.Name))
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			return nil, nil
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return out, fmt.Errorf("vault: secret date of %q: %w", c.Name, err)
		}
		rec := recordedStore(c)
		if mod.After(rec.Add(secretDateSlack)) {
			out = append(out, SecretDateMismatch{Name: c.Name, Recorded: rec, Modified: mod})
		}
	}
	return out, nil
}

func recordedStore(c Client) time.Time {
	if !c.SecretStoredAt.IsZero() {
		return c.SecretStoredAt
	}
	if c.CreatedAt.After(c.SecretSetAt) {
		return c.CreatedAt
	}
	return c.SecretSetAt
}

// FixSecretDate repairs a mismatch: the secret's date (SecretSetAt and
// SecretStoredAt) becomes the keyring item's modification time, the moment
// the secret in use was stored. It does nothing when the client changed
// since the mismatch was found.
func (s *Store) FixSecretDate(m SecretDateMismatch) error {
	return s.modify(func(clients []Client) ([]Client, error) {
		i := find(clients, m.Name)
		if i < 0 || !recordedStore(clients[i]).Equal(m.Recorded) || clients[i].SecretSwitch != nil {
			return nil, errNoWrite
		}
		clients[i].SecretSetAt, clients[i].SecretStoredAt = m.Modified.UTC(), m.Modified.UTC()
		return clients, nil
	})
}

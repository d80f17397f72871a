package vault

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	dbus "github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"
)

// The Secret Service names fastGet uses (freedesktop.org Secret Service API).
const (
	ssName          = "org.freedesktop.secrets"
	ssPath          = "/org/freedesktop/secrets"
	ssService       = "org.freedesktop.Secret.Service"
	ssItem          = "org.freedesktop.Secret.Item"
	ssCollection    = "org.freedesktop.Secret.Collection"
	ssLoginPath     = "/org/freedesktop/secrets/collection/login"
	ssLoginItemPath = ssLoginPath + "/"
	ssNoSession     = "org.freedesktop.Secret.Error.NoSession"
)

// ssSession is the plain-text Secret Service session fastGet reuses for the
// life of the process (go-keyring opens and closes one per call).
var ssSession struct {
	mu   sync.Mutex      // guards path
	path dbus.ObjectPath // "" until opened
}

// fastGet reads an item go-keyring stored, in three D-Bus calls instead of
// go-keyring's seven: SearchItems on the service, OpenSession (once per
// process) and GetSecret. The warm path of `tokentray token` is one keyring
// read, so this is most of its cost. ok is false when the fast path does not
// apply (no session bus, the item is locked or outside the login
// collection, an unexpected answer): the caller then uses go-keyring, which
// also unlocks and prompts.
func fastGet(service, key string) (value string, ok bool, err error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return "", false, nil
	}
	svc := conn.Object(ssName, ssPath)
	var unlocked, locked []dbus.ObjectPath
	attrs := map[string]string{"username": key, "service": service}
	if err := svc.Call(ssService+".SearchItems", 0, attrs).Store(&unlocked, &locked); err != nil {
		return "", false, nil
	}
	var item dbus.ObjectPath
	for _, p := range unlocked {
		if strings.HasPrefix(string(p), ssLoginItemPath) {
			item = p
			break
		}
	}
	switch {
	case item == "" && len(unlocked) == 0 && len(locked) == 0:
		return "", true, gokeyring.ErrNotFound
	case item == "":
		return "", false, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		session, err := plainSession(conn, attempt > 0)
		if err != nil {
			return "", false, nil
		}
		var secret struct {
			Session     dbus.ObjectPath
			Parameters  []byte
			Value       []byte
			ContentType string
		}
		err = conn.Object(ssName, item).Call(ssItem+".GetSecret", 0, session).Store(&secret)
		if err == nil {
			return string(secret.Value), true, nil
		}
	}
	return "", false, nil
}

// fastSet stores an item the way go-keyring does (same attributes, label
// and content type, replacing an item with the same attributes) in one
// D-Bus call: CreateItem(replace=true) on the login collection over the
// process's plain session, where go-keyring makes five (OpenSession,
// Properties.Get, Unlock, CreateItem, Session.Close). A forced refresh
// writes one token, so this is most of its keyring cost. It returns false when
// the fast path does not apply (no session bus, no Secret Service, no login
// collection, the collection is locked, a prompt is needed): the caller then
// uses go-keyring, which unlocks, prompts and gives the errors it always
// gave.
func fastSet(service, key, value string) bool {
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	props := map[string]dbus.Variant{
		ssItem + ".Label":      dbus.MakeVariant(fmt.Sprintf("Password for '%s' on '%s'", key, service)),
		ssItem + ".Attributes": dbus.MakeVariant(map[string]string{"username": key, "service": service}),
	}
	for attempt := 0; attempt < 2; attempt++ {
		session, err := plainSession(conn, attempt > 0)
		if err != nil {
			return false
		}
		secret := struct {
			Session     dbus.ObjectPath
			Parameters  []byte
			Value       []byte
			ContentType string
		}{session, []byte{}, []byte(value), "text/plain; charset=utf8"}
		var item, prompt dbus.ObjectPath
		err = conn.Object(ssName, ssLoginPath).Call(ssCollection+".CreateItem", 0, props, secret, true).Store(&item, &prompt)
		var de dbus.Error
		switch {
		case err == nil && prompt == "/" && strings.HasPrefix(string(item), ssLoginItemPath):
			return true
		case err == nil:
			return false // a prompt to answer: go-keyring handles it
		case errors.As(err, &de) && de.Name == ssNoSession:
			continue // the service dropped the session: open a new one once
		default:
			return false
		}
	}
	return false
}

// plainSession returns the process's plain session, opening a new one when
// there is none or renew is set (the service may have dropped it).
func plainSession(conn *dbus.Conn, renew bool) (dbus.ObjectPath, error) {
	ssSession.mu.Lock()
	defer ssSession.mu.Unlock()
	if ssSession.path != "" && !renew {
		return ssSession.path, nil
	}
	var output dbus.Variant
	var path dbus.ObjectPath
	err := conn.Object(ssName, ssPath).Call(ssService+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&output, &path)
	if err != nil {
		return "", err
	}
	ssSession.path = path
	return path, nil
}

// listKeys returns the keys (go-keyring's "username" attribute) of every
// Secret Service item of service, locked or not.
func listKeys(service string) ([]string, error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return nil, err
	}
	var unlocked, locked []dbus.ObjectPath
	attrs := map[string]string{"service": service}
	if err := conn.Object(ssName, ssPath).Call(ssService+".SearchItems", 0, attrs).Store(&unlocked, &locked); err != nil {
		return nil, err
	}
	var keys []string
	for _, p := range append(unlocked, locked...) {
		v, err := conn.Object(ssName, p).GetProperty(ssItem + ".Attributes")
		if err != nil {
			return nil, err
		}
		a, ok := v.Value().(map[string]string)
		if !ok {
			return nil, fmt.Errorf("item %s: attributes of an unexpected type %T", p, v.Value())
		}
		if a["service"] == service && a["username"] != "" {
			keys = append(keys, a["username"])
		}
	}
	return keys, nil
}

// itemModified returns when the item of service and key was last changed
// (the Secret Service's Modified property, in seconds).
func itemModified(service, key string) (time.Time, error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return time.Time{}, err
	}
	var unlocked, locked []dbus.ObjectPath
	attrs := map[string]string{"username": key, "service": service}
	if err := conn.Object(ssName, ssPath).Call(ssService+".SearchItems", 0, attrs).Store(&unlocked, &locked); err != nil {
		return time.Time{}, err
	}
	all := append(unlocked, locked...)
	if len(all) == 0 {
		return time.Time{}, gokeyring.ErrNotFound
	}
	v, err := conn.Object(ssName, all[0]).GetProperty(ssItem + ".Modified")
	if err != nil {
		return time.Time{}, err
	}
	sec, ok := v.Value().(uint64)
	if !ok {
		return time.Time{}, fmt.Errorf("item %s: Modified of an unexpected type %T", all[0], v.Value())
	}
	return time.Unix(int64(sec), 0).UTC(), nil
}

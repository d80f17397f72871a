package vault

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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

// sessionPath is the collection that lives only in the daemon's memory
// (gnome-keyring's "session" collection): cached tokens go there (see
// cacheCollection). A variable so a test can name one that does not exist.
var sessionPath dbus.ObjectPath = "/org/freedesktop/secrets/collection/session"

// Cached tokens live in the Secret Service's session collection where it
// has one: gnome-keyring keeps it in memory, where a write costs the same
// whatever the count, while every write to the login collection rewrites
// the whole collection file, a cost that grows with the items stored (a
// 1,000-client fill was quadratic in the keyring; the figures, with their
// load, are in docs/PERFORMANCE.md, issue 13 §3). A token is a cache: it
// does not survive the end of the login session (the next use fetches one
// with the secret, which stays in the login collection). Services without a
// session collection (KeePassXC, KWallet's bridge) keep tokens in the login
// collection as before.

// noSessionCollection is set once the Secret Service said it has no
// session collection: tokens then go to the login collection.
var noSessionCollection atomic.Bool

// staleLogin holds the login-collection copies of cached tokens that a read
// saw (written by a version before the session collection was used): the
// next write of the token to the session collection deletes them. Keyed by
// service and key.
var staleLogin sync.Map // staleKey -> dbus.ObjectPath

func staleKey(service, key string) string { return service + "\x00" + key }

// cacheCollection returns the collection an item of key is written to.
func cacheCollection(key string) dbus.ObjectPath {
	if isTokenKey(key) && !noSessionCollection.Load() {
		return sessionPath
	}
	return ssLoginPath
}

// isNoSuchCollection reports whether err says the collection does not
// exist on this Secret Service.
func isNoSuchCollection(err error) bool {
	var de dbus.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Name {
	case "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod",
		"org.freedesktop.DBus.Error.UnknownInterface", "org.freedesktop.Secret.Error.NoSuchObject":
		return true
	}
	return false
}

// ssSession is the plain-text Secret Service session fastGet reuses for the
// life of the process (go-keyring opens and closes one per call).
var ssSession struct {
	mu   sync.Mutex      // guards path
	path dbus.ObjectPath // "" until opened
}

// fastGet reads an item go-keyring stored (or fastSet, in the session
// collection), in three D-Bus calls instead of go-keyring's seven:
// SearchItems on the service, OpenSession (once per process) and GetSecret.
// The warm path of `tokentray token` is one keyring read, so this is most of
// its cost. A session-collection item wins over a login-collection copy of
// the same key (left by an older version; noted for deletion). ok is false
// when the fast path does not apply (no session bus, the item is locked or
// in another collection, an unexpected answer): the caller then uses
// go-keyring, which also unlocks and prompts.
func fastGet(service, key string) (value string, ok bool, err error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return "", false, nil
	}
	unlocked, locked, err := searchItems(conn, keyAttrs(service, key))
	if err != nil {
		return "", false, nil
	}
	token := isTokenKey(key) // only tokens are written to the session collection
	var item, login dbus.ObjectPath
	for _, p := range unlocked {
		switch {
		case token && strings.HasPrefix(string(p), string(sessionPath)+"/") && item == "":
			item = p
		case strings.HasPrefix(string(p), ssLoginItemPath) && login == "":
			login = p
		}
	}
	if login != "" && token {
		staleLogin.Store(staleKey(service, key), login) // the next write moves it
	}
	if item == "" {
		item = login
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
// D-Bus call: CreateItem(replace=true) over the process's plain session,
// where go-keyring makes five (OpenSession, Properties.Get, Unlock,
// CreateItem, Session.Close). A forced refresh writes one token, so this is
// most of its keyring cost. Secrets go to the login collection, cached
// tokens to the session collection where there is one (cacheCollection);
// a login copy of the token a read saw is then deleted. It returns false
// when the fast path does not apply (no session bus, no Secret Service, no
// login collection, the collection is locked, a prompt is needed): the
// caller then uses go-keyring, which unlocks, prompts and gives the errors
// it always gave (and writes to the login collection).
func fastSet(service, key, value string) bool {
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	props := map[string]dbus.Variant{
		ssItem + ".Label":      dbus.MakeVariant(fmt.Sprintf("Password for '%s' on '%s'", key, service)),
		ssItem + ".Attributes": dbus.MakeVariant(keyAttrs(service, key)),
	}
	coll := cacheCollection(key)
	renew := false
	for attempt := 0; attempt < 3; attempt++ {
		session, err := plainSession(conn, renew)
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
		err = conn.Object(ssName, coll).Call(ssCollection+".CreateItem", 0, props, secret, true).Store(&item, &prompt)
		var de dbus.Error
		switch {
		case err == nil && prompt == "/" && strings.HasPrefix(string(item), string(coll)+"/"):
			if coll == sessionPath {
				dropStaleLogin(conn, service, key)
			}
			return true
		case err == nil:
			return false // a prompt to answer: go-keyring handles it
		case errors.As(err, &de) && de.Name == ssNoSession && !renew:
			renew = true // the service dropped the session: open a new one once
		case coll == sessionPath && isNoSuchCollection(err):
			noSessionCollection.Store(true) // tokens go to the login collection
			coll = ssLoginPath
		default:
			return false
		}
	}
	return false
}

// dropStaleLogin deletes the login-collection copy of a token that a read
// saw, now that the token is in the session collection. The item at that
// path must still be that token (another process may have deleted it, and
// the path gone to a new item, a secret perhaps). A failure (locked, gone)
// leaves it: reads prefer the session copy, and Delete removes both.
func dropStaleLogin(conn *dbus.Conn, service, key string) {
	v, ok := staleLogin.LoadAndDelete(staleKey(service, key))
	if !ok {
		return
	}
	item := conn.Object(ssName, v.(dbus.ObjectPath))
	attrs, err := item.GetProperty(ssItem + ".Attributes")
	if err != nil {
		return
	}
	if a, ok := attrs.Value().(map[string]string); !ok || a["service"] != service || a["username"] != key {
		return
	}
	var prompt dbus.ObjectPath
	_ = item.Call(ssItem+".Delete", 0).Store(&prompt)
}

// deleteCached deletes every session-collection item of service and key
// and reports how many it deleted: go-keyring's Delete sees only the login
// collection.
func deleteCached(service, key string) (int, error) {
	if !isTokenKey(key) {
		return 0, nil
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return 0, err
	}
	unlocked, locked, err := searchItems(conn, keyAttrs(service, key))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range append(unlocked, locked...) {
		if !strings.HasPrefix(string(p), string(sessionPath)+"/") {
			continue
		}
		var prompt dbus.ObjectPath
		if err := conn.Object(ssName, p).Call(ssItem+".Delete", 0).Store(&prompt); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// searchItems returns the paths of the Secret Service items with attrs, in
// every collection (Service.SearchItems).
func searchItems(conn *dbus.Conn, attrs map[string]string) (unlocked, locked []dbus.ObjectPath, err error) {
	err = conn.Object(ssName, ssPath).Call(ssService+".SearchItems", 0, attrs).Store(&unlocked, &locked)
	return unlocked, locked, err
}

// keyAttrs are the attributes go-keyring gives the item of service and key.
func keyAttrs(service, key string) map[string]string {
	return map[string]string{"username": key, "service": service}
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
	unlocked, locked, err := searchItems(conn, map[string]string{"service": service})
	if err != nil {
		return nil, err
	}
	var keys []string
	seen := map[string]bool{} // a token may be in two collections
	for _, p := range append(unlocked, locked...) {
		v, err := conn.Object(ssName, p).GetProperty(ssItem + ".Attributes")
		if err != nil {
			return nil, err
		}
		a, ok := v.Value().(map[string]string)
		if !ok {
			return nil, fmt.Errorf("item %s: attributes of an unexpected type %T", p, v.Value())
		}
		if k := a["username"]; a["service"] == service && k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
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
	unlocked, locked, err := searchItems(conn, keyAttrs(service, key))
	if err != nil {
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

package vault

import dbus "github.com/godbus/dbus/v5"

// CloseFastSession closes the process's plain Secret Service session behind
// the fast paths' back, as a restarted or tidying service would, so tests
// can check that they open a new one.
func CloseFastSession() error {
	ssSession.mu.Lock()
	path := ssSession.path
	ssSession.mu.Unlock()
	if path == "" {
		return nil
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return err
	}
	return conn.Object(ssName, path).Call("org.freedesktop.Secret.Session.Close", 0).Err
}

// UseSessionCollection points the token writes at the collection path
// (one a test knows does not exist) until the returned func restores it.
func UseSessionCollection(path string) (restore func()) {
	old := sessionPath
	sessionPath = dbus.ObjectPath(path)
	noSessionCollection.Store(false)
	return func() {
		sessionPath = old
		noSessionCollection.Store(false)
	}
}

// NoteStaleLogin records path as the login-collection copy of service's
// key, as a read that saw one there does.
func NoteStaleLogin(service, key, path string) {
	staleLogin.Store(staleKey(service, key), dbus.ObjectPath(path))
}

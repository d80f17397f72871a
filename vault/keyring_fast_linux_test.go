package vault

import (
	"errors"
	"fmt"
	"testing"

	dbus "github.com/godbus/dbus/v5"
)

// A Secret Service without a session collection answers a call on its
// path with one of these errors: tokens then go to the login collection.
// Any other failure (a lock, a lost session) is not read as "no session
// collection".
func TestIsNoSuchCollection(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownObject"}, true},
		{dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownMethod"}, true},
		{fmt.Errorf("call: %w", dbus.Error{Name: "org.freedesktop.Secret.Error.NoSuchObject"}), true},
		{dbus.Error{Name: ssNoSession}, false},
		{dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, false},
		{dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"}, false},
		{errors.New("org.freedesktop.DBus.Error.UnknownObject"), false}, // words, not a D-Bus error
		{nil, false},
	} {
		if got := isNoSuchCollection(tc.err); got != tc.want {
			t.Errorf("isNoSuchCollection(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

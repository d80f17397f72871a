package main

import (
	"slices"
	"testing"

	"github.com/tokentray/tokentray/internal/launch"
)

func TestWindow(t *testing.T) {
	tests := []struct {
		args []string
		want bool
		win  launch.Window
	}{
		{nil, true, launch.Window{}},
		{[]string{"--config", "/tmp/x"}, true, launch.Window{Config: "/tmp/x"}},
		{[]string{"-config=/tmp/x"}, true, launch.Window{Config: "/tmp/x"}},
		{[]string{"--hidden"}, true, launch.Window{Hidden: true}},
		{[]string{"--config", "/tmp/x", "--hidden"}, true, launch.Window{Config: "/tmp/x", Hidden: true}},
		{[]string{"demo"}, false, launch.Window{}}, // the command line's demo command opens the demo window
		{[]string{"demo", "--headless"}, false, launch.Window{}},
		{[]string{"--config", "/tmp/x", "demo"}, false, launch.Window{}},
		{[]string{"token", "billing"}, false, launch.Window{}},
		{[]string{"--config", "/tmp/x", "list"}, false, launch.Window{}},
		{[]string{"--version"}, false, launch.Window{}},
		{[]string{"-h"}, false, launch.Window{}},
		{[]string{"--quiet", "token", "x"}, false, launch.Window{}},
	}
	for _, tt := range tests {
		w, ok := window(tt.args)
		if ok != tt.want || (ok && !slices.Equal(w.Args(), tt.win.Args())) {
			t.Errorf("window(%q) = %+v, %v; want %+v, %v", tt.args, w, ok, tt.win, tt.want)
		}
	}
}

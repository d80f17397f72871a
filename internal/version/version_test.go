package version

import (
	"regexp"
	"testing"
)

func TestCommitOf(t *testing.T) {
	tests := []struct{ stamped, fromBuild, want string }{
		{"v0.1.0-3-gabc1234-dirty", "0123456789ab", "v0.1.0-3-gabc1234-dirty"},
		{"", "0123456789ab-dirty", "0123456789ab-dirty"},
		{"", "", "unknown"},
	}
	for _, tt := range tests {
		if got := commitOf(tt.stamped, tt.fromBuild); got != tt.want {
			t.Errorf("commitOf(%q, %q) = %q; want %q", tt.stamped, tt.fromBuild, got, tt.want)
		}
	}
}

func TestLineStamped(t *testing.T) {
	v, c := Version, Commit
	t.Cleanup(func() { Version, Commit = v, c })
	Version, Commit = "1.2.3", "v1.2.3-4-gabcdef0"
	want := regexp.MustCompile(`^tokentray 1\.2\.3 \(commit v1\.2\.3-4-gabcdef0, go[0-9][^ ,]*, [a-z0-9]+/[a-z0-9]+\)$`)
	if got := Line(); !want.MatchString(got) {
		t.Errorf("Line() = %q; want it to match %s", got, want)
	}
}

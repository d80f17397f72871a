// Package version is the stamped version of both programs, tokentray and
// tokentray-gui, and the line `tokentray version` and
// `tokentray-gui --version` print. Release builds (scripts/build-release.sh)
// set Version and Commit with -ldflags "-X
// github.com/tokentray/tokentray/internal/version.Version=1.2.3 -X
// github.com/tokentray/tokentray/internal/version.Commit=$(git describe --always --dirty)".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the program version.
var Version = "0.1.0"

// Commit is the source revision the program was built from. When it is
// empty, Line names the revision Go recorded in the build information, if
// any.
var Commit = ""

// Line is the version line: "tokentray 0.1.0 (commit 1a2b3c4d5e6f, go1.26.0,
// linux/amd64)".
func Line() string {
	return fmt.Sprintf("tokentray %s (commit %s, %s, %s/%s)",
		Version, commitOf(Commit, buildRevision()), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// commitOf is the commit to print: the stamped one, else the revision from
// the build information, else "unknown".
func commitOf(stamped, fromBuild string) string {
	switch {
	case stamped != "":
		return stamped
	case fromBuild != "":
		return fromBuild
	}
	return "unknown"
}

// buildRevision is the VCS revision Go recorded at build time (shortened,
// "-dirty" when the tree had changes), or "" when there is none (go build
// -buildvcs=false, or not built from a repository).
func buildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return rev
}

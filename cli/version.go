package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// Commit is the source revision the program was built from; release builds
// (scripts/install.sh, scripts/package-linux.sh) set it with
// -ldflags "-X github.com/tokentray/tokentray/cli.Commit=$(git describe --always --dirty)".
// When it is empty, the version command prints the revision Go recorded in
// the build information, if any.
var Commit = ""

func (a *app) versionCommand() *ffcli.Command {
	fs := a.newFlagSet("version")
	return &ffcli.Command{
		Name:       "version",
		ShortUsage: "tokentray version",
		ShortHelp:  "Print the version and commit (also: tokentray --version).",
		LongHelp:   "EXAMPLE\n  tokentray version",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("version", fs, args); err != nil {
				return err
			}
			return a.printVersion()
		},
	}
}

func (a *app) printVersion() error {
	_, err := fmt.Fprintf(a.stdout, "tokentray %s (commit %s, %s, %s/%s)\n",
		Version, commitOf(Commit, buildRevision()), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
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

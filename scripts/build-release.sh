#!/usr/bin/env bash
# build-release.sh STAGE: release builds of both programs, staged with
# everything `make install` needs (assets/linux/Makefile) in STAGE:
#   STAGE/Makefile
#   STAGE/bin/tokentray        the command line: CGO_ENABLED=0, static
#   STAGE/bin/tokentray-gui    the window and tray (cmd/tokentray-gui): cgo
#   STAGE/share/applications/io.github.tokentray.desktop
#   STAGE/share/icons/hicolor/NxN/apps/io.github.tokentray.png
# Both are built with -trimpath and stamped with the version of FyneApp.toml
# ([Details] Version) and the commit (git describe --always --dirty), which
# `tokentray version` prints. The first build of tokentray-gui this way is
# cold (-trimpath builds are cached apart): a few minutes.
#
# Env: GUI_EXE   a tokentray-gui already built by this script (package-linux.sh
#                passes fyne package's copy): staged instead of building one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stage=${1:?usage: scripts/build-release.sh STAGE-DIRECTORY}
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
cd "$root"

version=$(sed -n '/^\[Details\]/,/^\[/s/^Version *= *"\([^"]*\)".*/\1/p' FyneApp.toml)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  { echo "build-release: FyneApp.toml [Details] Version is '$version', not MAJOR.MINOR.PATCH" >&2; exit 1; }
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
ldflags="-s -w -X github.com/tokentray/tokentray/internal/version.Version=$version -X github.com/tokentray/tokentray/internal/version.Commit=$commit"

mkdir -p "$stage/bin" "$stage/share/applications"
echo "build-release: tokentray $version ($commit) into $stage"
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$stage/bin/tokentray" .
if [[ -n ${GUI_EXE:-} ]]; then
  install -m0755 "$GUI_EXE" "$stage/bin/tokentray-gui"
else
  CGO_ENABLED=1 go build -trimpath -ldflags "$ldflags" -o "$stage/bin/tokentray-gui" ./cmd/tokentray-gui
fi
install -m0644 assets/linux/Makefile "$stage/Makefile"
install -m0644 assets/linux/io.github.tokentray.desktop "$stage/share/applications/"
for dir in assets/linux/icons/*x*; do
  install -Dm0644 "$dir/io.github.tokentray.png" "$stage/share/icons/hicolor/${dir##*/}/apps/io.github.tokentray.png"
done

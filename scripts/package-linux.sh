#!/usr/bin/env bash
# package-linux.sh: the Linux release archive
#   OUT_DIR/tokentray-VERSION-linux-ARCH.tar.xz   (OUT_DIR default: bin/release)
# `fyne package -os linux` (fyne.io/tools v1.7.4, pinned in tools/fyne)
# packages tokentray-gui, built for release by scripts/build-release.sh
# (stamped, -trimpath). Fyne's archive holds one program, so it is then
# completed: its tokentray-gui goes beside the command line tokentray, with
# the desktop entry and hicolor icons from assets/linux and the Makefile
# (assets/linux/Makefile) whose `make install` is the one scripts/install.sh
# runs. Fyne's own desktop entry is checked against ours (name, icon, window
# class) and then left out, ours having the comment and categories.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
cd "$root"
out=${OUT_DIR:-$root/bin/release}
fail() { echo "package-linux: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d)
# fyne package increments [Details] Build in FyneApp.toml: put it back.
cp FyneApp.toml "$work/FyneApp.toml.orig"
trap 'cp "$work/FyneApp.toml.orig" "$root/FyneApp.toml"; rm -rf "$work"' EXIT
version=$(sed -n '/^\[Details\]/,/^\[/s/^Version *= *"\([^"]*\)".*/\1/p' FyneApp.toml)
arch=$(go env GOARCH)
scripts/build-release.sh "$work/stage"
(cd tools/fyne && go build -o "$work/fyne" fyne.io/tools/cmd/fyne)

# fyne package reads FyneApp.toml and the icon from the source directory
# (which must hold the Go code, even with --exe) and writes Tokentray.tar.xz
# there: moved out at once.
"$work/fyne" package -os linux --exe "$work/stage/bin/tokentray-gui" >"$work/fyne.log" 2>&1 ||
  fail "fyne package: $(cat "$work/fyne.log")"
mv Tokentray.tar.xz "$work/fyne.tar.xz"
mkdir "$work/fyne-archive"
tar -xJf "$work/fyne.tar.xz" -C "$work/fyne-archive"
fyne_entry=$(find "$work/fyne-archive" -name io.github.tokentray.desktop)
fyne_bin=$(find "$work/fyne-archive" -path '*/bin/tokentray-gui' -type f)
[[ -n $fyne_entry && -n $fyne_bin ]] || fail "fyne's archive lacks the desktop entry or tokentray-gui: $(cd "$work/fyne-archive" && find . -type f)"
cmp -s "$fyne_bin" "$work/stage/bin/tokentray-gui" || fail "fyne's archive holds another tokentray-gui than the one given"
for key in Name Icon StartupWMClass; do
  ours=$(sed -n "s/^$key=//p" assets/linux/io.github.tokentray.desktop)
  theirs=$(sed -n "s/^$key=//p" "$fyne_entry")
  [[ $ours == "$theirs" ]] || fail "desktop entry $key: fyne package writes '$theirs', assets/linux has '$ours'"
done

name=tokentray-$version
mv "$work/stage" "$work/$name"
install -m0755 "$fyne_bin" "$work/$name/bin/tokentray-gui"
mkdir -p "$out"
tar -C "$work" --owner=0 --group=0 -cJf "$out/$name-linux-$arch.tar.xz.tmp" "$name"
mv -f "$out/$name-linux-$arch.tar.xz.tmp" "$out/$name-linux-$arch.tar.xz"
echo "package-linux: $out/$name-linux-$arch.tar.xz"

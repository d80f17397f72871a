#!/usr/bin/env bash
# test-install.sh: the release archive and scripts/install.sh give the same,
# working installation, and uninstall leaves nothing behind. In a temporary
# directory it
#   - makes the archive (scripts/package-linux.sh), unpacks it and runs its
#     `make install PREFIX=...`; runs scripts/install.sh --prefix ... into a
#     second prefix; both trees must hold the same files with the same modes
#     and contents (desktop entry, icons), and the same programs (version);
#   - checks the desktop entry with desktop-file-validate, the icons' sizes,
#     and `tokentray version` / `--version` (the stamped version and commit);
#   - launches the GUI from the installed entry's Exec line under Xvfb with a
#     tray host (scripts/smoke-rig.sh): its tray item must register
#     (RegisterStatusNotifierItem) and its window's WM_CLASS must be the
#     entry's StartupWMClass (xprop); SIGTERM, exit 0;
#   - uninstalls both (install.sh --uninstall, make uninstall): no file left.
# Artifacts in smoke-artifacts/install-* (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
ART=$PWD/smoke-artifacts
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }

if [[ -z ${TEST_INSTALL_INNER:-} ]]; then
  for cmd in go make xz desktop-file-validate identify xprop xdotool Xvfb dbus-run-session dbus-monitor \
    gnome-keyring-daemon gtk-sni-tray-standalone dunst; do
    command -v "$cmd" >/dev/null || fail "$cmd is not installed (scripts/setup-debian.sh --tests installs it)"
  done
  mkdir -p "$ART"
  rm -f "$ART"/install-*
  export TEST_INSTALL_INNER=1
  exec dbus-run-session -- "$0" "$@"
fi

# shellcheck source=scripts/smoke-rig.sh
source scripts/smoke-rig.sh
rig_init
export TOKENTRAY_CONFIG_DIR=$WORK/tokentray
version=$(sed -n '/^\[Details\]/,/^\[/s/^Version *= *"\([^"]*\)".*/\1/p' FyneApp.toml)
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
APPID=io.github.tokentray

# The archive, unpacked and installed with its Makefile.
OUT_DIR=$WORK/release scripts/package-linux.sh >"$ART/install-package.log" 2>&1 ||
  fail "scripts/package-linux.sh (see $ART/install-package.log)"
archive=$(echo "$WORK"/release/tokentray-"$version"-linux-*.tar.xz)
[[ -f $archive ]] || fail "no archive tokentray-$version-linux-*.tar.xz"
mkdir "$WORK/unpacked"
tar -xJf "$archive" -C "$WORK/unpacked"
tar -tJf "$archive" | sort >"$ART/install-archive.txt"
A=$WORK/archive-prefix
make -s -C "$WORK/unpacked/tokentray-$version" install PREFIX="$A" >"$ART/install-make.log" 2>&1 ||
  fail "make install from the archive (see $ART/install-make.log)"

# install.sh into another prefix.
S=$WORK/script-prefix
scripts/install.sh --prefix "$S" >"$ART/install-script.log" 2>&1 || fail "scripts/install.sh (see $ART/install-script.log)"

# The same installation.
tree() { (cd "$1" && find . -printf '%y %m %P\n' | sort); }
diff <(tree "$A") <(tree "$S") >"$ART/install-tree.diff" ||
  fail "make install and install.sh install different files or modes (see $ART/install-tree.diff)"
for f in $(cd "$S" && find . -type f ! -path './bin/*'); do
  cmp -s <(sed "s|$A|PREFIX|g" "$A/$f") <(sed "s|$S|PREFIX|g" "$S/$f") || fail "$f differs between make install and install.sh"
done
want_files="bin/tokentray bin/tokentray-gui share/applications/$APPID.desktop"
for s in 16 22 24 32 48 64 128 256 512; do want_files+=" share/icons/hicolor/${s}x${s}/apps/$APPID.png"; done
[[ $(cd "$S" && find . -type f -printf '%P\n' | sort) == "$(tr ' ' '\n' <<<"$want_files" | sort)" ]] ||
  fail "installed files: $(cd "$S" && find . -type f -printf '%P ')"
for s in 16 22 24 32 48 64 128 256 512; do
  [[ $(identify -format '%wx%h' "$S/share/icons/hicolor/${s}x${s}/apps/$APPID.png") == "${s}x${s}" ]] ||
    fail "the ${s}x${s} icon is not ${s}x${s}"
done

# Versions: stamped, the same from both installs, from both programs.
want="tokentray $version (commit $commit, "
for p in "$A" "$S"; do
  for cmd in "tokentray version" "tokentray --version" "tokentray-gui --version"; do
    read -r bin arg <<<"$cmd"
    got=$("$p/bin/$bin" "$arg") || fail "$p/bin/$cmd failed"
    [[ $got == "$want"* ]] || fail "$cmd printed '$got'; want '$want...'"
  done
done
go version -m "$S/bin/tokentray" | grep -q "CGO_ENABLED=0" || fail "tokentray was not built with CGO_ENABLED=0 (static)"

# The desktop entry.
entry=$S/share/applications/$APPID.desktop
desktop-file-validate "$entry" >"$ART/install-validate.log" 2>&1 || fail "desktop-file-validate: $(cat "$ART/install-validate.log")"
! grep -q 'error:' "$ART/install-validate.log" || fail "desktop-file-validate: $(cat "$ART/install-validate.log")"
exec_line=$(sed -n 's/^Exec=//p' "$entry")
[[ $exec_line == "$S/bin/tokentray-gui" ]] || fail "Exec=$exec_line; want $S/bin/tokentray-gui"
wmclass=$(sed -n 's/^StartupWMClass=//p' "$entry")
grep -qx "Icon=$APPID" "$entry" || fail "the entry's Icon is not $APPID"
grep -qx 'Categories=Utility;Security;' "$entry" || fail "the entry's Categories are not Utility;Security;"

# Launch it as the desktop would: the Exec line, with a tray host.
rig_desktop install-
$exec_line >"$ART/install-app.log" 2>&1 &
APP=$!
pids+=($APP)
wait_for 60 "tray item registration (RegisterStatusNotifierItem)" grep -q 'member=RegisterStatusNotifierItem' "$DBUS_LOG"
wait_for 30 "a mapped window named Tokentray" xdotool search --onlyvisible --name '^Tokentray$'
win=$(xdotool search --onlyvisible --name '^Tokentray$' | head -n1)
class=$(xprop -id "$win" WM_CLASS | sed -n 's/^WM_CLASS(STRING) = "[^"]*", "\([^"]*\)"$/\1/p')
[[ $class == "$wmclass" ]] || fail "the window's WM_CLASS class is '$class'; the entry's StartupWMClass is '$wmclass'"
import -window root "$ART/install-window.png" 2>/dev/null || true
stop_app "$APP" "the installed tokentray-gui"

# Uninstall: nothing of ours left.
scripts/install.sh --prefix "$S" --uninstall >>"$ART/install-script.log" 2>&1 || fail "install.sh --uninstall"
make -s -C "$WORK/unpacked/tokentray-$version" uninstall PREFIX="$A" >>"$ART/install-make.log" 2>&1 || fail "make uninstall"
for p in "$A" "$S"; do
  left=$(cd "$p" && find . ! -type d -printf '%P ')
  [[ -z $left ]] || fail "uninstall left $left in $p"
done
echo "test-install: archive ($(du -h "$archive" | cut -f1)) and install.sh agree; entry valid; launched from its Exec line (tray up, WM_CLASS $class); uninstalled ($((($(date +%s%N) - start) / 1000000)) ms)"

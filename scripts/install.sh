#!/usr/bin/env bash
# install.sh: builds Tokentray for release and installs it, or uninstalls it.
#
#   scripts/install.sh [--prefix DIR]                # install
#   scripts/install.sh [--prefix DIR] --uninstall    # remove what install put there
#
# DIR defaults to /usr/local for root and ~/.local for anyone else. Installed:
# DIR/bin/tokentray and DIR/bin/tokentray-gui, the desktop entry
# DIR/share/applications/io.github.tokentray.desktop (the app appears in the
# desktop's menu) and the icon in DIR/share/icons/hicolor/*/apps. It builds
# with scripts/build-release.sh and installs with the same Makefile as the
# release archive's `make install`. Clients, secrets and tokens (in
# ~/.config/tokentray and the keyring) are not touched: an upgrade is an
# install over the old one, and an uninstall keeps them for a later install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LANG=en_US.UTF-8

usage() { sed -n '2,/^set /s/^# \{0,1\}//p' "$0"; }
prefix=
uninstall=0
while (($#)); do
  case $1 in
  --prefix) [[ $# -ge 2 ]] || { echo "install: --prefix needs a directory" >&2; exit 2; }; prefix=$2; shift 2 ;;
  --prefix=*) prefix=${1#--prefix=}; shift ;;
  --uninstall) uninstall=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) echo "install: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z $prefix ]]; then
  if [[ $(id -u) == 0 ]]; then prefix=/usr/local; else prefix=$HOME/.local; fi
fi
[[ $prefix == /* ]] || prefix=$PWD/$prefix
prefix=${prefix%/}
[[ $prefix != *[!A-Za-z0-9/._+-]* ]] ||
  { echo "install: the prefix '$prefix' may hold only letters, digits and / . _ + - (the desktop entry's Exec line)" >&2; exit 2; }
command -v make >/dev/null || { echo "install: make is required (apt-get install make)" >&2; exit 1; }

if ((uninstall)); then
  make -s -C "$root/assets/linux" uninstall PREFIX="$prefix"
  echo "install: removed Tokentray from $prefix (your clients, secrets and tokens are kept)"
  exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
"$root/scripts/build-release.sh" "$stage"
make -s -C "$stage" install PREFIX="$prefix"
echo "install: installed $("$prefix/bin/tokentray" version) into $prefix"
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "install: note: $prefix/bin is not on your PATH; the menu entry works anyway" ;;
esac

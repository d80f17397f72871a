#!/usr/bin/env bash
# A scripted walk through the window under a window manager (openbox), as
# its three kinds of users meet it, driven with xdotool (real X key presses
# and clicks), with a screenshot at each step in smoke-artifacts/walk-*.png:
#   - a developer copies a token (Ctrl+Shift+C): the clipboard (xclip) holds
#     it and a "Copied" notification goes out;
#   - someone relying on notifications: a client whose secret the server
#     rejects is notified, and Copy token refuses it (no last good token);
#   - an admin rotates that client's secret in the wizard (Ctrl+Shift+R):
#     first a wrong secret (refused, nothing stays staged), then the right
#     one (proven, switched): the command line then gets a token with it.
# Inside a private D-Bus session with an unlocked gnome-keyring, Xvfb,
# openbox, dunst and the SNI tray host (scripts/smoke-rig.sh). Builds into
# $SMOKE_BIN (default bin/). Exits non-zero with a message on the first
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
ART=$PWD/smoke-artifacts
BIN=${SMOKE_BIN:-bin}
BIN=$(mkdir -p "$BIN" && cd "$BIN" && pwd)
export SMOKE_BIN=$BIN

fail() {
  echo "smoke-walk: FAIL: $*" >&2
  if [[ -f $ART/walk-app.log ]]; then
    echo "--- last lines of $ART/walk-app.log:" >&2
    tail -n 20 "$ART/walk-app.log" >&2
  fi
  exit 1
}

if [[ -z ${SMOKE_WALK_INNER:-} ]]; then
  for cmd in Xvfb openbox dbus-run-session dbus-monitor gnome-keyring-daemon dunst gtk-sni-tray-standalone import xdotool xclip; do
    command -v "$cmd" >/dev/null || fail "$cmd is not installed (scripts/setup-debian.sh --tests installs it)"
  done
  mkdir -p "$ART"
  rm -f "$ART"/walk-*
  echo "smoke-walk: building into $BIN"
  CGO_ENABLED=0 go build -o "$BIN/tokentray" . || fail "go build of the command line failed"
  go build -o "$BIN/tokentray-gui" ./cmd/tokentray-gui || fail "go build of the window failed"
  go build -o "$BIN/testserver" ./demoserver/cmd/testserver || fail "go build of the token server failed"
  export SMOKE_WALK_INNER=1
  exec dbus-run-session -- "$0" "$@"
fi

# --- inside the private session bus ---
# shellcheck source=scripts/smoke-rig.sh
source scripts/smoke-rig.sh
rig_init
CFG=$WORK/tokentray
rig_desktop "walk-"
openbox >"$ART/walk-openbox.log" 2>&1 &
pids+=($!)

"$BIN/testserver" -url-file "$WORK/url" \
  -client m2m-client-test-smoke:good-secret:models:read,chat:invoke \
  -client m2m-client-live-billing:the-new-secret:models:read \
  >"$ART/walk-tokenserver.log" 2>&1 &
pids+=($!)
wait_for 10 "token server start" test -s "$WORK/url"
URL=$(cat "$WORK/url")
tt() { "$BIN/tokentray" --config "$CFG" "$@"; }
printf %s good-secret | tt add smoke-test --token-url "$URL" --client-id m2m-client-test-smoke \
  --scope models:read --scope chat:invoke >>"$ART/walk-add.log" 2>&1 || fail "add smoke-test"
# billing-live's secret was rotated at the provider: the stored one is refused.
printf %s the-old-secret | tt add billing-live --token-url "$URL" --client-id m2m-client-live-billing \
  --scope models:read --no-test >>"$ART/walk-add.log" 2>&1 || fail "add billing-live"

"$BIN/tokentray" --config "$CFG" >"$ART/walk-app.log" 2>&1 &
APP=$!
pids+=($APP)
wait_for 20 "the window" xdotool search --onlyvisible --name '^Tokentray$'
WIN=$(xdotool search --onlyvisible --name '^Tokentray$' | head -n1)
n=0
shot() { # shot NAME: a screenshot of the screen, numbered in walk order
  n=$((n + 1))
  sleep 0.7 # let the window paint what the last key changed
  import -window root "$(printf '%s/walk-%02d-%s.png' "$ART" "$n" "$1")" || fail "screenshot $1"
}
key() { xdotool windowactivate --sync "$WIN" key --clearmodifiers "$@"; }
eval "$(xdotool getwindowgeometry --shell "$WIN")"
pick() { # pick NAME: filter the list down to the client NAME (Ctrl+F) and click it
  key ctrl+f ctrl+a
  xdotool type --delay 20 "$1"
  sleep 0.3
  xdotool mousemove --sync $((X + 150)) $((Y + 170)) click 1 # the first row, below the legend
}

# The first run asks about start at login: Escape closes it.
sleep 1
shot first-run
key Escape

# Someone relying on notifications: the rejected client was notified.
wait_for 20 "the notification naming the rejected client billing-live" \
  bash -c "grep -A12 'member=Notify' '$DBUS_LOG' | grep -q billing-live"
pick billing-live
shot rejected-client
# Copy refuses a rejected client that has no last good token left.
key ctrl+shift+c
shot copy-refused
key Escape

# A developer copies a token.
pick smoke-test
key ctrl+shift+c
wait_for 10 "the token on the clipboard" bash -c "xclip -selection clipboard -o | grep -qE '^[A-Za-z0-9._-]{20,}$'"
wait_for 10 "the Copied notification" grep -q 'Copied smoke-test token' "$DBUS_LOG"
shot copied

# An admin rotates billing-live: a wrong secret first.
pick billing-live
key ctrl+shift+r
shot rotate-wizard
xdotool type --delay 20 "not-the-new-secret"
key Return
# The refusal leaves no trace outside the window (that is the point: nothing
# stays staged): give the wizard its token request, then look.
sleep 3
shot rotate-refused
tt list --json | grep -q '"in_progress": *true' && fail "a refused secret was left staged"
# The right secret: proven, then switched.
key ctrl+a
xdotool type --delay 20 "the-new-secret"
key Return
wait_for 15 "the right secret staged and proven" bash -c "'$BIN/tokentray' --config '$CFG' list --json | grep -q '\"in_progress\": *true'"
shot rotate-proven
# The proof's buttons: Later, Cancel rotation, Switch to the new secret.
key Tab Tab Tab space
wait_for 15 "the switch to the new secret" bash -c "'$BIN/tokentray' --config '$CFG' list --json | grep -q '\"in_progress\": *false'"
shot rotate-switched
wait_for 15 "a token with the new secret" bash -c "'$BIN/tokentray' --config '$CFG' token billing-live >/dev/null"
key Escape
shot after-rotation

# Closed with the window manager (alt+F4), the window hides to the tray and
# the driver loop parks (ui/park.go), though the window "enters the
# foreground" once more after the hide. The token copied above keeps the
# loop awake (to serve a paste) until another program's copy replaces it.
printf %s not-a-token | xclip -selection clipboard -i >/dev/null 2>&1 || fail "xclip: copy"
key alt+F4
wait_for 10 "the window closed to the tray by alt+F4" bash -c "! xdotool search --onlyvisible --name '^Tokentray\$'"
wait_for 10 "the driver loop parked after alt+F4" loop_parked "$APP"

stop_app "$APP" "the app"
if grep -qiE 'panic|data race|fatal' "$ART/walk-app.log"; then
  fail "the app log shows a panic, race or fatal error"
fi
echo "smoke-walk: ok: copy, a rejected client notified and refused, rotation refused a wrong secret and switched to the right one, closed by alt+F4 it parked its loop; $n screenshots in $ART/walk-*.png"

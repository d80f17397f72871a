#!/usr/bin/env bash
# Headless smoke of the built GUI: builds bin/tokentray and
# bin/tokentray-gui (which `tokentray` executes for the window), then inside a
# private D-Bus session with an unlocked gnome-keyring (the real Secret
# Service), Xvfb, dunst (notification daemon) and gtk-sni-tray-standalone
# (StatusNotifierItem tray host) it
#   - starts a loopback token server with two clients (demoserver/cmd/testserver),
#   - adds them with `tokentray add` (secrets on stdin): one good, one whose
#     secret the server rejects,
#   - starts `tokentray --config DIR`,
#   - checks with dbus-monitor that the tray item registered
#     (RegisterStatusNotifierItem) and that a notification was sent (Notify)
#     naming the rejected client,
#   - reads the tray menu over D-Bus (dbusmenu GetLayout): a Copy entry per
#     client, the status line, Show window, Quit; clicks "Copy token:
#     smoke-test" and waits for the "Copied ..." notification,
#   - selects the first client and saves a screenshot to smoke-artifacts/,
#   - answers Yes to the first run's "start at login" question and checks
#     the XDG autostart entry (desktop-file-validate),
#   - hides the window and starts `tokentray` a second time: it must show
#     the running app's window and exit 0, with still one tray item,
#   - runs the autostart entry's command (--hidden): tray registered, no
#     window mapped, the driver loop parked (its main thread asleep), SIGTERM
#     ends it; started again: a tray copy from the parked app reaches the
#     clipboard (xclip), a second launch shows its window,
#   - sends SIGTERM and checks that the app exits cleanly within 2 s.
# Exits non-zero with a message on the first failure. Logs, the D-Bus trace
# and the screenshot stay in smoke-artifacts/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
ART=$PWD/smoke-artifacts

fail() {
  echo "smoke-gui: FAIL: $*" >&2
  if [[ -f $ART/app.log ]]; then
    echo "--- last lines of $ART/app.log:" >&2
    tail -n 20 "$ART/app.log" >&2
  fi
  exit 1
}

if [[ -z ${SMOKE_GUI_INNER:-} ]]; then
  for cmd in Xvfb dbus-run-session dbus-monitor gnome-keyring-daemon dunst gtk-sni-tray-standalone import xdotool xclip desktop-file-validate; do
    command -v "$cmd" >/dev/null || fail "$cmd is not installed (scripts/setup-debian.sh --tests installs it)"
  done
  # ui must never link the GL driver: its tests build fast and need no display.
  if go list -deps ./ui | grep -q 'fyne.io/fyne/v2/app$'; then
    fail "package ui imports fyne.io/fyne/v2/app (it must receive the fyne.App instead)"
  fi
  mkdir -p "$ART" bin
  find "$ART" -maxdepth 1 -type f -delete # files only: check-fresh-debian keeps its logs in a directory here
  SECONDS=0
  echo "smoke-gui: building bin/tokentray and bin/tokentray-gui"
  CGO_ENABLED=0 go build -o bin/tokentray . || fail "go build of the command line failed"
  go build -o bin/tokentray-gui ./cmd/tokentray-gui || fail "go build of the window (cmd/tokentray-gui) failed"
  go build -o bin/testserver ./demoserver/cmd/testserver || fail "go build of the token server failed"
  echo "smoke-gui: built in ${SECONDS}s"
  export SMOKE_GUI_INNER=1
  exec dbus-run-session -- "$0" "$@"
fi

# --- inside the private session bus ---
# shellcheck source=scripts/smoke-rig.sh
source scripts/smoke-rig.sh
rig_init
CFG=$WORK/tokentray
rig_desktop ""

bin/testserver -url-file "$WORK/url" \
  -client m2m-client-test-smoke:good-secret:models:read,chat:invoke,files:read \
  -client m2m-client-live-billing:the-new-secret:models:read \
  >"$ART/tokenserver.log" 2>&1 &
pids+=($!)
wait_for 10 "token server start" test -s "$WORK/url"
URL=$(cat "$WORK/url")

printf %s good-secret | bin/tokentray --config "$CFG" add smoke-test --token-url "$URL" \
  --client-id m2m-client-test-smoke --scope models:read --scope chat:invoke --scope files:read \
  >>"$ART/add.log" 2>&1 || fail "tokentray add smoke-test (see $ART/add.log)"
# The second client's secret was rotated at the provider: the server rejects
# the stored one, which the app must report (a notification).
printf %s the-old-secret | bin/tokentray --config "$CFG" add billing-live --token-url "$URL" \
  --client-id m2m-client-live-billing --scope models:read --no-test \
  >>"$ART/add.log" 2>&1 || fail "tokentray add billing-live (see $ART/add.log)"

launched=$(date +%s%N)
bin/tokentray --config "$CFG" >"$ART/app.log" 2>&1 &
APP=$!

wait_for 20 "tray item registration (RegisterStatusNotifierItem on the session bus)" \
  grep -q 'member=RegisterStatusNotifierItem' "$ART/dbus.log"
tray_ms=$((($(date +%s%N) - launched) / 1000000))
wait_for 20 "a notification (org.freedesktop.Notifications.Notify)" grep -q 'member=Notify' "$ART/dbus.log"
grep -A12 'member=Notify' "$ART/dbus.log" | grep -q 'billing-live' ||
  fail "the notification does not name the rejected client billing-live (see $ART/dbus.log)"
kill -0 "$APP" 2>/dev/null || fail "the app exited early"

# The tray menu, read over D-Bus (com.canonical.dbusmenu) from the item that
# registered: one Copy entry per client, the status line, Show window, Quit.
tray_item
tray_menu() {
  tray_layout "$ART/tray-menu.txt" &&
    grep -qE '"Copy token: smoke-test( \([^"]*\))?"' "$ART/tray-menu.txt" &&
    grep -q '"Copy token: billing-live (rejected)"' "$ART/tray-menu.txt" &&
    grep -q '"2 clients · 1 rejected"' "$ART/tray-menu.txt" &&
    grep -q '"Show window"' "$ART/tray-menu.txt" && grep -q '"Quit"' "$ART/tray-menu.txt"
}
wait_for 15 "the tray menu with both clients, the status line, Show window and Quit (see $ART/tray-menu.txt)" tray_menu

# Click "Copy token: smoke-test" in the tray menu: the token goes to the
# clipboard and a "Copied smoke-test token, expires in mm:ss" notification follows.
tray_click "$ART/tray-menu.txt" "Copy token: smoke-test"
wait_for 10 "the Copied notification after the tray click" grep -q 'Copied smoke-test token, expires in [0-9][0-9]:[0-9][0-9]' "$ART/dbus.log"

wait_for 20 "the window" xdotool search --onlyvisible --name '^Tokentray$'
window_ms=$((($(date +%s%N) - launched) / 1000000))
WIN=$(xdotool search --onlyvisible --name '^Tokentray$' | head -n1)
# Select the first client so the screenshot shows its details, and wait for
# the list to show a live countdown for it.
eval "$(xdotool getwindowgeometry --shell "$WIN")"
# The first real run asks once about start at login: answer Yes (the
# dialog's Yes button, centred in the 1080x680 window); the XDG autostart
# entry must appear and pass desktop-file-validate.
sleep 1
xdotool mousemove --sync $((X + 573)) $((Y + 387)) click 1
AUTOSTART=$XDG_CONFIG_HOME/autostart/io.github.tokentray.desktop
wait_for 10 "the autostart entry after answering Yes ($AUTOSTART)" test -s "$AUTOSTART"
desktop-file-validate "$AUTOSTART" >"$ART/desktop-file-validate.log" 2>&1 && ! grep -q . "$ART/desktop-file-validate.log" ||
  fail "the autostart entry does not validate (see $ART/desktop-file-validate.log)"
bin/tokentray autostart status | grep -q '^start at login: on' || fail "tokentray autostart status does not say on"
xdotool mousemove --sync $((X + 150)) $((Y + 100)) click 1
sleep 1.5 # let the window paint the selection and a countdown tick
import -window root "$ART/smoke.png" || fail "screenshot"
# The healthy client, the Add form (Ctrl+N) and the rotation overview, for
# people to look at.
xdotool mousemove --sync $((X + 150)) $((Y + 165)) click 1
sleep 0.5
import -window root "$ART/smoke-details.png" || fail "screenshot"
# The form is a dialog over the window: no window of its own may appear.
xdotool key --window "$WIN" ctrl+n
sleep 1
! xdotool search --onlyvisible --name '^Add client$' >/dev/null || fail "Add client opened a window of its own (it is a dialog over the window)"
import -window root "$ART/smoke-add.png" || fail "screenshot"
xdotool key --window "$WIN" Escape
echo "smoke-gui: screenshots in $ART/"

# One instance: hide the window to the tray (Ctrl+W); a second `tokentray`
# must ask the running app to show it and exit 0, with no second tray item
# and no second scheduler.
xdotool key --window "$WIN" ctrl+w
wait_for 10 "the window hidden by Ctrl+W" bash -c "! xdotool search --onlyvisible --name '^Tokentray\$'"
# The window hid on the press: the release went to a window no longer
# mapped, the X server still holds Ctrl+W down and repeats it into the next
# window under the pointer. Release both.
xdotool keyup ctrl+w
second=0
timeout 20 bin/tokentray --config "$CFG" >"$ART/second-launch.log" 2>&1 || second=$?
((second == 0)) || fail "the second tokentray exited with status $second (see $ART/second-launch.log)"
grep -q 'already running' "$ART/second-launch.log" || fail "the second tokentray did not find the first (see $ART/second-launch.log)"
wait_for 10 "the window shown again by the second launch" xdotool search --onlyvisible --name '^Tokentray$'
items=$(grep -c 'member=RegisterStatusNotifierItem' "$ART/dbus.log")
((items == 1)) || fail "$items tray items registered after a second launch, want 1"
kill -0 "$APP" 2>/dev/null || fail "the first app exited after the second launch"

stop_app "$APP" "the app"
if grep -qiE 'panic|data race|fatal' "$ART/app.log"; then
  fail "the app log shows a panic, race or fatal error"
fi

# Start at login: run the autostart entry's command (the app --hidden, on
# the default store): the tray registers, no window is mapped; a plain
# `tokentray` then shows the hidden app's window and exits 0.
EXEC=$(sed -n 's/^Exec=//p' "$AUTOSTART")
[[ $EXEC == *" --hidden" && $EXEC != *'"'* ]] || fail "unexpected Exec line in the autostart entry: $EXEC"
# start_hidden N: runs the entry's command; waits for the Nth tray item.
start_hidden() {
  $EXEC >>"$ART/hidden.log" 2>&1 &
  HIDDEN=$!
  wait_for 20 "tray item registration of the --hidden app" \
    bash -c "(( \$(grep -c 'member=RegisterStatusNotifierItem' '$ART/dbus.log') == $1 ))"
  ITEM=$(grep 'member=RegisterStatusNotifierItem' "$ART/dbus.log" | tail -n1 | sed -n 's/.*sender=\([^ ]*\).*/\1/p')
}
printf %s good-secret | bin/tokentray add smoke-test --token-url "$URL" --client-id m2m-client-test-smoke \
  --scope models:read >>"$ART/add.log" 2>&1 || fail "tokentray add smoke-test to the default store (see $ART/add.log)"
start_hidden 2
sleep 2 # a window would be mapped by now
! xdotool search --onlyvisible --name '^Tokentray$' >/dev/null || fail "--hidden mapped a window"
kill -0 "$HIDDEN" 2>/dev/null || fail "the --hidden app exited"
loop_parked "$HIDDEN" || fail "the --hidden app's main thread switched $switches times in 3 s: its driver loop is not parked"
stop_app "$HIDDEN" "the --hidden app (parked)" # SIGTERM wakes a parked loop
start_hidden 3
wait_for 10 "the --hidden app's driver loop parked" loop_parked "$HIDDEN"
# The parked app answers its tray: a copy wakes the loop, which then owns
# the clipboard selection and answers the paste.
tray_layout "$ART/hidden-tray-menu.txt"
tray_click "$ART/hidden-tray-menu.txt" "Copy token: smoke-test"
tok=$(bin/tokentray token smoke-test 2>>"$ART/hidden.log") || fail "tokentray token smoke-test beside the --hidden app"
wait_for 10 "smoke-test's token on the clipboard after a tray copy from the parked app" \
  bash -c '[[ $(timeout 5 xclip -o -selection clipboard 2>/dev/null) == "$1" ]]' _ "$tok"
timeout 20 bin/tokentray >"$ART/hidden-second.log" 2>&1 || fail "tokentray beside the --hidden app failed (see $ART/hidden-second.log)"
wait_for 10 "the --hidden app's window shown by a second launch" xdotool search --onlyvisible --name '^Tokentray$'
# Hidden again (Ctrl+W), the loop parks again (smoke-walk.sh tries the same
# after alt+F4 under a window manager). The token copied above keeps the
# loop awake (to serve a paste) until another program's copy replaces it.
printf %s not-a-token | xclip -selection clipboard -i >/dev/null 2>&1 || fail "xclip: copy"
HWIN=$(xdotool search --onlyvisible --name '^Tokentray$' | head -n1)
sleep 1 # the window takes its content
xdotool windowfocus --sync "$HWIN" key --window "$HWIN" ctrl+w
wait_for 10 "the window hidden again by Ctrl+W" bash -c "! xdotool search --onlyvisible --name '^Tokentray\$'"
wait_for 10 "the driver loop parked again after Ctrl+W hid the window" loop_parked "$HIDDEN"
stop_app "$HIDDEN" "the --hidden app"
bin/tokentray autostart off >/dev/null || fail "tokentray autostart off"
[[ ! -e $AUTOSTART ]] || fail "tokentray autostart off left $AUTOSTART"

echo "smoke-gui: ok: tray registered ${tray_ms} ms after launch (window seen at ${window_ms} ms); tray menu right; tray copy notified; rejection notified; second launch showed the window (one tray item); autostart entry valid; --hidden start mapped no window, parked its loop, answered SIGTERM and a tray copy, parked again after its window was shown and hidden; exit ${exit_ms} ms after SIGTERM; rig total $((($(date +%s%N) - start) / 1000000)) ms"

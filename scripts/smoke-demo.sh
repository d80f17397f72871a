#!/usr/bin/env bash
# Headless smoke of the demo, through the README's run command: inside a
# private D-Bus session with an unlocked gnome-keyring (the real Secret
# Service), Xvfb, dunst (notification daemon) and gtk-sni-tray-standalone
# (StatusNotifierItem tray host), with HOME, the XDG directories,
# TOKENTRAY_CONFIG_DIR and TOKENTRAY_DEMO_DIR in a temporary directory (so no
# stored clients are found and nothing is left behind), it
#   - runs scripts/run.sh, which sets up, builds both binaries and, finding no
#     stored clients, opens `tokentray demo` on the rig's display and bus,
#   - checks with dbus-monitor that the tray item registered,
#   - reads the tray menu over D-Bus (dbusmenu GetLayout): exactly the three
#     demo clients' "Copy token: NAME" entries,
#   - clicks "Copy token: chat-bot" over D-Bus, waits for the Copied
#     notification and reads the X clipboard with xclip: a JWT whose claims
#     have sub = chat-bot's client id and scope "chat:invoke models:read",
#   - finds the "Tokentray demo" window and takes two screenshots of it a few
#     seconds apart that must differ in the client list (the countdowns),
#   - runs `tokentray --config DEMO_DIR token chat-bot` against the running
#     demo (the demo store is shared with the command line),
#   - sends SIGTERM and checks that the app exits cleanly within 2 s;
# then, without a display, runs `tokentray demo --headless`, checks that it
# prints the demo configuration directory and an example command line, runs
# that line while the server runs, and stops it with SIGTERM.
# Exits non-zero with a message on the first failure. Logs, the D-Bus trace
# and the screenshots stay in smoke-artifacts/demo-* (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
ART=$PWD/smoke-artifacts

fail() {
  echo "smoke-demo: FAIL: $*" >&2
  for log in "$ART/demo-run.log" "$ART/demo-headless.log"; do
    if [[ -s $log ]]; then
      echo "--- last lines of $log:" >&2
      tail -n 20 "$log" >&2
    fi
  done
  exit 1
}

if [[ -z ${SMOKE_DEMO_INNER:-} ]]; then
  for cmd in go Xvfb dbus-run-session dbus-monitor dbus-send gnome-keyring-daemon dunst \
    gtk-sni-tray-standalone import compare xdotool xclip base64; do
    command -v "$cmd" >/dev/null || fail "$cmd is not installed (scripts/setup-debian.sh --tests installs it)"
  done
  mkdir -p "$ART"
  rm -f "$ART"/demo-*
  export SMOKE_DEMO_INNER=1
  exec dbus-run-session -- "$0" "$@"
fi

# --- inside the private session bus ---
# shellcheck source=scripts/smoke-rig.sh
source scripts/smoke-rig.sh
rig_init
export TOKENTRAY_CONFIG_DIR=$WORK/tokentray TOKENTRAY_DEMO_DIR=$WORK/tokentray-demo
DEMO_DIR=$TOKENTRAY_DEMO_DIR

# check_jwt TOKEN WHAT: TOKEN is a JWT whose claims have sub = chat-bot's
# client id and scope "chat:invoke models:read".
check_jwt() {
  local tok=$1 what=$2 payload claims
  [[ $tok =~ ^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$ ]] ||
    fail "$what is not a JWT (got ${#tok} characters starting ${tok:0:12})"
  payload=$(printf %s "${BASH_REMATCH[1]}" | tr '_-' '/+')
  while ((${#payload} % 4)); do payload+="="; done
  claims=$(printf %s "$payload" | base64 -d 2>/dev/null) || fail "$what: its claims are not base64url"
  printf '%s\n' "$claims" >"$ART/demo-claims.json"
  grep -Eq "\"sub\" *: *\"$CHAT_ID\"" <<<"$claims" ||
    fail "$what: sub is not chat-bot's client id $CHAT_ID (claims in $ART/demo-claims.json)"
  grep -Eq '"scope" *: *"chat:invoke models:read"' <<<"$claims" ||
    fail "$what: scope is not \"chat:invoke models:read\" (claims in $ART/demo-claims.json)"
}

rig_desktop demo-

# === Phase 1: the README's run command opens the demo window and tray.
# run.sh sets up and builds, then becomes the app (exec): its pid is the app's.
launched=$(date +%s%N)
scripts/run.sh >"$ART/demo-run.log" 2>&1 &
APP=$!
pids+=($APP)

deadline=$((SECONDS + 180)) # setup and two warm builds take seconds; cold, minutes
until grep -q 'no stored clients yet: opening the demo' "$ART/demo-run.log"; do
  kill -0 "$APP" 2>/dev/null || fail "scripts/run.sh exited before opening the demo (see $ART/demo-run.log)"
  ((SECONDS < deadline)) || fail "scripts/run.sh did not open the demo within 180 s (see $ART/demo-run.log)"
  sleep 0.1
done
wait_for 20 "tray item registration (RegisterStatusNotifierItem on the session bus)" \
  grep -q 'member=RegisterStatusNotifierItem' "$ART/demo-dbus.log"
tray_ms=$((($(date +%s%N) - launched) / 1000000))
kill -0 "$APP" 2>/dev/null || fail "the demo exited early"
[[ $(readlink "/proc/$APP/exe") == */tokentray-gui ]] ||
  fail "run.sh did not become the app (exec): its process runs $(readlink "/proc/$APP/exe"), so SIGTERM would not reach the window"

# The demo store is the one the command line sees with --config DEMO_DIR.
list=$(bin/tokentray --config "$DEMO_DIR" list --json 2>"$ART/demo-list.err") ||
  fail "tokentray --config $DEMO_DIR list --json (see $ART/demo-list.err)"
CHAT_ID=$(tr -d ' \n' <<<"$list" | grep -o '"name":"chat-bot","client_id":"[^"]*"' | sed 's/.*"client_id":"//; s/"$//')
[[ -n $CHAT_ID ]] || fail "no chat-bot client in the demo store $DEMO_DIR: $list"

# The tray menu, read over D-Bus: exactly the three demo clients' Copy entries.
tray_item
want_copies=$'"Copy token: chat-bot"\n"Copy token: data-sync"\n"Copy token: org-admin"'
tray_menu() {
  tray_layout "$ART/demo-tray-menu.txt" &&
    [[ $(grep -o '"Copy token: [^"]*"' "$ART/demo-tray-menu.txt" | sed -E 's/ \([^)]*\)"$/"/' | sort) == "$want_copies" ]]
}
wait_for 15 "a tray menu with exactly the Copy entries of chat-bot, data-sync and org-admin (see $ART/demo-tray-menu.txt)" tray_menu

# Click "Copy token: chat-bot": the token goes to the clipboard.
tray_click "$ART/demo-tray-menu.txt" "Copy token: chat-bot"
wait_for 10 "the Copied notification after the tray click" \
  grep -Eq 'Copied chat-bot token, expires in [0-9]+:[0-9][0-9]' "$ART/demo-dbus.log"
clip=$(timeout 5 xclip -o -selection clipboard 2>"$ART/demo-xclip.err") ||
  fail "reading the clipboard with xclip (see $ART/demo-xclip.err)"
check_jwt "$clip" "the clipboard after Copy token: chat-bot"

# The window: three clients counting down. Two shots of the client list a few
# seconds apart must differ (the countdowns tick).
wait_for 20 "the window \"Tokentray demo\"" xdotool search --onlyvisible --name '^Tokentray demo$'
window_ms=$((($(date +%s%N) - launched) / 1000000))
WIN=$(xdotool search --onlyvisible --name '^Tokentray demo$' | head -n1)
eval "$(xdotool getwindowgeometry --shell "$WIN")"
# The client list is the left part of the window, below the toolbar.
list_w=$((WIDTH * 2 / 5)) list_h=$((HEIGHT - 60))
import -window root "$ART/demo-1.png" || fail "screenshot"
sleep 2.5 # let the countdowns tick
import -window root "$ART/demo-2.png" || fail "screenshot"
crop=${list_w}x${list_h}+${X}+$((Y + 60))
diff_px=$(compare -metric AE "$ART/demo-1.png[$crop]" "$ART/demo-2.png[$crop]" null: 2>&1 || true)
[[ $diff_px =~ ^[0-9]+$ ]] || fail "comparing the screenshots: $diff_px"
((diff_px > 0)) || fail "the client list did not change in 2.5 s: no countdowns (see $ART/demo-1.png, $ART/demo-2.png)"

# The command line against the running demo.
tok=$(bin/tokentray --config "$DEMO_DIR" token chat-bot 2>"$ART/demo-cli.err") ||
  fail "tokentray --config $DEMO_DIR token chat-bot exited non-zero (see $ART/demo-cli.err)"
check_jwt "$tok" "tokentray --config DEMO_DIR token chat-bot"

stop_app "$APP" "the demo (scripts/run.sh)"
gui_exit_ms=$exit_ms
if grep -qiE 'panic|data race|fatal' "$ART/demo-run.log"; then
  fail "the demo's log shows a panic, race or fatal error"
fi

# === Phase 2: `tokentray demo --headless`, without a display.
env -u DISPLAY bin/tokentray demo --headless >"$ART/demo-headless.log" 2>&1 &
HEADLESS=$!
pids+=($HEADLESS)
wait_for 20 "the headless demo's example command line" grep -q '^  tokentray --config ' "$ART/demo-headless.log"
grep -qxF "Demo configuration directory: $DEMO_DIR" "$ART/demo-headless.log" ||
  fail "the headless demo does not print its configuration directory $DEMO_DIR"
line=$(grep -m1 '^  tokentray --config ' "$ART/demo-headless.log" | sed 's/^ *//')
# Run the printed line as a person would, with bin/ on PATH.
tok=$(PATH=$PWD/bin:$PATH bash -c "$line" 2>"$ART/demo-headless-cli.err") ||
  fail "the printed line \"$line\" exited non-zero (see $ART/demo-headless-cli.err)"
[[ $tok =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] ||
  fail "the printed line \"$line\" did not print a JWT"
if [[ $line == *" token chat-bot" ]]; then
  check_jwt "$tok" "the headless demo's printed line"
fi
stop_app "$HEADLESS" "the headless demo"
headless_exit_ms=$exit_ms

echo "smoke-demo: ok: run.sh opened the demo; tray registered ${tray_ms} ms after launch (window seen at ${window_ms} ms); tray menu holds the 3 demo clients; tray copy put chat-bot's JWT on the clipboard; countdowns tick (${diff_px} px changed); CLI token from the demo store; exit ${gui_exit_ms} ms after SIGTERM; headless demo's printed line works, exit ${headless_exit_ms} ms; rig total $((($(date +%s%N) - start) / 1000000)) ms"

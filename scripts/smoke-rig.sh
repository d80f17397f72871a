# shellcheck shell=bash
# The headless desktop the smoke scripts share, sourced by smoke-gui.sh and
# smoke-demo.sh inside their private D-Bus session (dbus-run-session). The
# sourcing script defines fail MESSAGE (print and exit 1) and ART (the
# artifacts directory) first.

# rig_init: a scratch directory removed on exit with every process started
# through pids+=(...); HOME and the XDG directories inside it, so nothing of
# the smoke lands in the user's home. Go keeps its caches and settings where
# they were (a cold build of Fyne takes minutes). Defines wait_for and
# stop_app.
rig_init() {
  start=$(date +%s%N)
  WORK=$(mktemp -d)
  pids=()
  trap rig_cleanup EXIT
  local gocache gomodcache gopath goenv
  { read -r gocache && read -r gomodcache && read -r gopath && read -r goenv; } < <(go env GOCACHE GOMODCACHE GOPATH GOENV)
  export GOCACHE=$gocache GOMODCACHE=$gomodcache GOPATH=$gopath GOENV=$goenv
  export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data XDG_CACHE_HOME=$WORK/cache
  export XDG_RUNTIME_DIR=$WORK/run MESA_SHADER_CACHE_DIR=$WORK/mesa
  mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
}

rig_cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 50 ms.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$what: not within ${limit}s"
    sleep 0.05
  done
}

# loop_parked PID: whether the app's Fyne driver loop is parked (ui/park.go):
# its main thread sleeps instead of waking 60 times a second. Over 3 s a
# running loop makes 180 wake-ups on that thread (a 60 Hz ticker); a parked
# one next to none. Sets switches.
loop_parked() {
  local s0 s1
  s0=$(awk '/ctxt_switches/ {n += $2} END {print n}' "/proc/$1/task/$1/status")
  sleep 3
  s1=$(awk '/ctxt_switches/ {n += $2} END {print n}' "/proc/$1/task/$1/status")
  switches=$((s1 - s0))
  ((switches < 30))
}

# stop_app PID NAME: SIGTERM, then the app must exit with status 0 within 2 s.
# Sets exit_ms.
stop_app() {
  local pid=$1 name=$2 code=0 term
  kill -0 "$pid" 2>/dev/null || fail "$name exited before SIGTERM"
  kill -TERM "$pid"
  term=$(date +%s%N)
  for _ in $(seq 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    fail "$name did not exit within 2 s of SIGTERM"
  fi
  wait "$pid" || code=$?
  exit_ms=$((($(date +%s%N) - term) / 1000000))
  ((code == 0)) || fail "$name exited with status $code after SIGTERM"
}

# rig_desktop PREFIX: an unlocked gnome-keyring (the real Secret Service), a
# dbus-monitor trace of tray registrations and notifications in DBUS_LOG,
# Xvfb (DISPLAY exported), the SNI tray host and dunst. Logs go to
# $ART/PREFIX*.log.
rig_desktop() {
  local prefix=$1
  eval "$(printf %s smoke-password | gnome-keyring-daemon --replace --unlock --components=secrets)" >/dev/null
  export GNOME_KEYRING_CONTROL
  DBUS_LOG=$ART/${prefix}dbus.log
  dbus-monitor --session \
    "type='method_call',interface='org.kde.StatusNotifierWatcher'" \
    "type='method_call',interface='org.freedesktop.Notifications',member='Notify'" \
    >"$DBUS_LOG" 2>&1 &
  pids+=($!)
  exec 3>"$WORK/display"
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$ART/${prefix}xvfb.log" 2>&1 &
  pids+=($!)
  exec 3>&-
  wait_for 10 "Xvfb start" test -s "$WORK/display"
  DISPLAY=:$(head -n1 "$WORK/display")
  export DISPLAY
  gtk-sni-tray-standalone --watcher --bottom --end -s 48 >"$ART/${prefix}tray-host.log" 2>&1 &
  pids+=($!)
  dunst >"$ART/${prefix}dunst.log" 2>&1 &
  pids+=($!)
}

# tray_item: sets ITEM to the bus name that registered the tray item.
tray_item() {
  ITEM=$(grep -m1 'member=RegisterStatusNotifierItem' "$DBUS_LOG" | sed -n 's/.*sender=\([^ ]*\).*/\1/p')
  [[ -n $ITEM ]] || fail "cannot tell which bus name registered the tray item"
}

# tray_layout FILE: the tray menu's layout, read over D-Bus
# (com.canonical.dbusmenu GetLayout), into FILE.
tray_layout() {
  dbus-send --session --print-reply --dest="$ITEM" /StatusNotifierMenu \
    com.canonical.dbusmenu.GetLayout int32:0 int32:-1 array:string:label >"$1" 2>&1
}

# tray_click FILE LABEL: click the entry labelled LABEL of the layout in FILE
# (or LABEL followed by a state in brackets: "Copy token: NAME (12 min left)").
tray_click() {
  local id
  id=$(awk -v want="\"$2\"" -v state="\"$2 (" '/^ +int32 [0-9]+$/ && !/variant/ {id = $2} index($0, want) || index($0, state) {print id; exit}' "$1")
  [[ -n $id ]] || fail "no id for the tray item $2"
  dbus-send --session --type=method_call --dest="$ITEM" /StatusNotifierMenu \
    com.canonical.dbusmenu.Event int32:"$id" string:clicked variant:int32:0 uint32:0 ||
    fail "clicking the tray item $2 over D-Bus"
}

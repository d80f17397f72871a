#!/usr/bin/env bash
# The standing reliability suite (issue 10): run by .ci/run, a few minutes.
#   scripts/reliability.sh [--trials N] [--fuzztime D]   (--fuzztime 0 skips fuzzing)
# The fuzz budget is a count of executions (5000x): a duration (-fuzztime 10s)
# makes Go 1.26's fuzz coordinator fail a target with a bare "context deadline
# exceeded" when the deadline races a busy worker (go.dev/issue/75804, fixed
# in Go 1.27), which would fail CI with no finding on a loaded machine.
# Inside a private D-Bus session with its own unlocked gnome-keyring (never
# the user's), it runs
#   - the kill -9 trials of every mutating command (internal/reliability),
#   - the keyring faults: no session bus, a bus without Secret Service, a
#     locked collection, a stopped (SIGSTOP) keyring daemon: each must exit 7
#     within the keyring timeout, change nothing and leave nothing running,
#   - every TestReliability* test of the module (exchange-side cases too),
#   - every fuzz target for a bounded time,
# and prints the counts: trials, kills, faults, lost, leaked, orphaned.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin

trials=200
fuzztime=5000x
while [[ $# -gt 0 ]]; do
  case $1 in
    --trials) trials=$2; shift 2 ;;
    --fuzztime) fuzztime=$2; shift 2 ;;
    *) echo "usage: $0 [--trials N] [--fuzztime D]" >&2; exit 2 ;;
  esac
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Each session gets its own keyring directory (XDG_DATA_HOME/keyrings).
export XDG_DATA_HOME=$scratch/data XDG_CONFIG_HOME=$scratch/config
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
go build -o "$scratch/tokentray" .
export TT=$scratch/tokentray SCRATCH=$scratch TRIALS=$trials FUZZTIME=$fuzztime

# The dbus-daemons this script started (they inherit $scratch in their
# environment); other users of the machine may run their own.
dbus_daemons() {
  local pid
  for pid in $(pgrep -x dbus-daemon || true); do
    if tr "\\0" "\\n" 2>/dev/null <"/proc/$pid/environ" | grep -F "$scratch" >/dev/null; then echo "$pid"; fi
  done | sort
}
before_daemons=$(dbus_daemons)

# ---- keyring faults -------------------------------------------------------
faults=0 fault_failures=0
fault() { # fault NAME EXPECTED-EXIT ACTUAL-EXIT SECONDS LIMIT
  faults=$((faults + 1))
  if [[ $3 -ne $2 ]] || awk -v s="$4" -v l="$5" 'BEGIN {exit !(s > l)}'; then
    echo "FAIL fault $1: exit $3 (want $2) after ${4}s (limit ${5}s)"; fault_failures=$((fault_failures + 1))
  else
    echo "ok   fault $1: exit $3 after ${4}s"
  fi
}
seed_store() { # a store with one client, no keyring needed
  local dir=$1
  mkdir -p "$dir"
  printf '{"schema": 1, "clients": [{"name": "billing", "client_id": "m2m-client-test-1", "token_url": "http://127.0.0.1:9/oauth2/token", "secret_set_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z"}]}\n' > "$dir/clients.json"
}
timed() { # timed CMD...: runs CMD, sets rc and secs
  local t0 t1
  t0=$(date +%s.%N); set +e; "$@" >"$scratch/out" 2>&1; rc=$?; set -e; t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
}

# 1. No session bus at all (cron): exit 7 at once, no daemon started.
seed_store "$scratch/f1"
mkdir -p "$scratch/rt-empty"
timed env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$scratch/rt-empty" TOKENTRAY_CONFIG_DIR="$scratch/f1" "$TT" token billing
fault "no session bus" 7 "$rc" "$secs" 1
grep -q "no D-Bus session bus" "$scratch/out" || { echo "FAIL no-bus message: $(cat "$scratch/out")"; fault_failures=$((fault_failures + 1)); }

# 2. A bus without Secret Service.
seed_store "$scratch/f2"
timed dbus-run-session -- env TOKENTRAY_CONFIG_DIR="$scratch/f2" "$TT" set-secret billing --no-test <<<"s3cret"
fault "bus without Secret Service" 7 "$rc" "$secs" 6
if grep -q '"secret_switch"' "$scratch/f2/clients.json" || ! grep -q '"name": "billing"' "$scratch/f2/clients.json"; then
  echo "FAIL bus without Secret Service: index half-written"; fault_failures=$((fault_failures + 1))
fi

# 3. A locked collection (a keyring daemon never unlocked, no display).
seed_store "$scratch/f3"
timed dbus-run-session -- bash -c '
  export XDG_DATA_HOME=$SCRATCH/locked-data; mkdir -p "$XDG_DATA_HOME"
  gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1
  TOKENTRAY_CONFIG_DIR=$SCRATCH/f3 "$TT" set-secret billing --no-test <<<"s3cret"'
fault "locked collection" 7 "$rc" "$secs" 6

# 4. A stopped keyring daemon (SIGSTOP): the keyring timeout (5 s) ends it.
# gnome-keyring-daemon prints its environment before it owns
# org.freedesktop.secrets, so the owner is polled for (a loaded CI machine
# once asked too early, stopped nothing and saw set-secret succeed); the
# stopped process must be that daemon, and only set-secret is timed.
seed_store "$scratch/f4"
timed dbus-run-session -- bash -c '
  export XDG_DATA_HOME=$SCRATCH/stopped-data; mkdir -p "$XDG_DATA_HOME"
  eval "$(printf %s pw | gnome-keyring-daemon --replace --unlock --components=secrets)" >/dev/null
  pid=""
  for _ in $(seq 100); do
    pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null | awk "/uint32/ {print \$2}")
    [[ -n $pid ]] && break
    sleep 0.1
  done
  if [[ -z $pid || $(cat "/proc/$pid/comm" 2>/dev/null) != gnome-keyring-d* ]]; then
    echo "no gnome-keyring-daemon owns org.freedesktop.secrets after 10 s (owner pid: ${pid:-none})"; exit 98
  fi
  kill -STOP "$pid"
  t0=$(date +%s.%N)
  TOKENTRAY_CONFIG_DIR=$SCRATCH/f4 "$TT" set-secret billing --no-test <<<"s3cret"; rc=$?
  t1=$(date +%s.%N)
  kill -CONT "$pid"
  awk -v a="$t0" -v b="$t1" "BEGIN {printf \"%.2f\", b - a}" >"$SCRATCH/f4.secs"
  exit $rc'
[[ -s $scratch/f4.secs ]] && secs=$(cat "$scratch/f4.secs")
fault "stopped keyring daemon" 7 "$rc" "$secs" 8
[[ $rc -eq 7 ]] || sed 's/^/    /' "$scratch/out"

after_daemons=$(dbus_daemons)
if [[ "$(comm -13 <(echo "$before_daemons") <(echo "$after_daemons"))" != "" ]]; then
  echo "FAIL a dbus-daemon was left running"; fault_failures=$((fault_failures + 1))
fi

# ---- kill trials and the TestReliability* tests, on a private keyring ----
export TOKENTRAY_RELIABILITY_TRIALS=$trials TOKENTRAY_REQUIRE_KEYRING=1
dbus-run-session -- bash -c '
  set -euo pipefail
  eval "$(printf %s reliability | gnome-keyring-daemon --replace --unlock --components=secrets)" >/dev/null
  go test -v -count=1 -timeout 60m -run "^TestReliability" ./... >"$SCRATCH/tests.out" 2>&1 || { cat "$SCRATCH/tests.out"; exit 1; }
  grep -E "^(--- |ok|FAIL|RELIABILITY)" "$SCRATCH/tests.out"
' || { echo "FAIL the reliability tests"; fault_failures=$((fault_failures + 1)); }

# ---- fuzz targets, each for a bounded time --------------------------------
fuzzed=0
[[ $fuzztime == 0 ]] && pkgs="" || pkgs=$(go list ./... | grep -v /tools/)
for pkg in $pkgs; do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -timeout 5m "$pkg" >"$scratch/fuzz.out" 2>&1 ||
      { cat "$scratch/fuzz.out"; echo "FAIL fuzz $pkg $target"; fault_failures=$((fault_failures + 1)); }
    fuzzed=$((fuzzed + 1))
  done
done

summary=$(grep -o 'RELIABILITY-KILL {.*}' "$scratch/tests.out" | tail -n 1 | sed 's/RELIABILITY-KILL //')
num() { echo "$summary" | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
echo
echo "reliability: trials=$(num trials) kills=$(num kills) faults=$faults fuzz_targets=$fuzzed lost=$(num lost) leaked=$(num leaked) orphaned=$(num orphaned) inconsistent=$(num inconsistent) failures=$fault_failures"
echo "machine: $(uname -srm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
[[ $fault_failures -eq 0 && $(num lost) -eq 0 && $(num leaked) -eq 0 && $(num orphaned) -eq 0 && $(num inconsistent) -eq 0 ]]

#!/usr/bin/env bash
# check-fresh-debian.sh: the README's two commands on a really fresh Debian 12,
# so that a missing install step cannot land unnoticed (the machines we work on
# already have most packages; a new user's machine does not).
#
# As root, it
#   - builds once a minimal Debian 12 root (debootstrap --variant=minbase
#     bookworm) and keeps it as a tarball in $TOKENTRAY_FRESH_CACHE (rebuilt
#     when older than 30 days), then unpacks a fresh copy for every run;
#   - clones the current commit (HEAD; uncommitted changes are not part of it)
#     into /root/tokentray of that root;
#   - binds the host's Go read-only at /usr/local/go (the README's one
#     prerequisite) and the host's Go module download cache read-only as the
#     first GOPROXY entry (file://), falling back to the host's own GOPROXY;
#   - gives the root the host's Go build cache copy-on-write (an overlay:
#     nothing written inside reaches the host's cache), so pure-Go packages
#     the host has compiled are not compiled again, while CGO_CFLAGS carries a
#     marker the host's builds never use: Go keys every cgo package on its C
#     flags, so every cgo package (Fyne's GLFW and GL, sqlite, runtime/cgo) is
#     compiled cold against the root's own headers, and every program and
#     test binary is linked against the root's own libraries: a missing
#     Debian package still shows. TOKENTRAY_FRESH_COLD_CACHE=1 starts from an
#     empty build cache instead;
#   - in a private mount and PID namespace (unshare), mounts /proc, /sys,
#     /dev (with /dev/pts and /dev/shm) and a tmpfs /run, chroots, and runs
#       1. the README's run command, scripts/run.sh, which finds no display
#          and no session bus and takes its headless path (Xvfb, a private
#          D-Bus session, a throw-away gnome-keyring), until the demo's
#          window is mapped and its tray item answers on the session bus
#          with the three demo clients' Copy entries; then SIGTERM to the
#          app, and run.sh must exit 0;
#       2. the README's test command, scripts/test.sh;
#   - always unmounts and removes what it made (the namespaces end with their
#     last process, a trap removes the directory), and checks with findmnt
#     and /proc that no mount and no process is left.
# Logs, the screenshot and the suite's smoke artifacts are copied to
# smoke-artifacts/fresh-debian/ (git-ignored).
#
# Environment:
#   TOKENTRAY_FRESH_CACHE     where the root tarball and downloaded .debs live
#                             (default /var/cache/tokentray-fresh)
#   TOKENTRAY_FRESH_MIRROR    Debian mirror (default: the host's own, from its apt sources)
#   TOKENTRAY_FRESH_SECURITY  security mirror (default: the host's own security source)
#   TOKENTRAY_FRESH_TIMEOUT   limit for both commands together, in seconds
#                             (default 4500; a cold run.sh alone took 60+ min
#                             on a 2-core machine at load average 30)
#   TOKENTRAY_FRESH_COLD_CACHE  1: do not reuse the host's build cache
#   TOKENTRAY_FRESH_PREBUILT  names of environment variables that hold paths to
#                             prebuilt test-service binaries (for example
#                             "TOKENTRAY_VAULT_BIN"); each must be pure Go
#                             (built with CGO_ENABLED=0, so it hides no missing
#                             C header); it is copied into the root and the
#                             variable set to its path there. Use it only for
#                             services whose cold build would push CI past its
#                             time limit.
set -euo pipefail
export LANG=en_US.UTF-8

self=$(readlink -f "$0")

# ---------------------------------------------------------------------------
# Inside the chroot: the README's commands, as a new user runs them.
if [[ ${1:-} == --inside ]]; then
  cd /root/tokentray
  fail() {
    echo "check-fresh-debian: FAIL: $*" >&2
    if [[ -s /root/fresh/run.log ]]; then
      echo "--- last lines of scripts/run.sh's output:" >&2
      tail -n 30 /root/fresh/run.log >&2
    fi
    exit 1
  }
  wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2
    shift 2
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
      ((SECONDS < deadline)) || fail "$what: not within ${limit}s"
      kill -0 "$run" 2>/dev/null || fail "scripts/run.sh exited while waiting for: $what"
      sleep 0.2
    done
  }
  gui_pid() { # the pid of the running tokentray-gui, if any
    local p
    for p in /proc/[0-9]*; do
      [[ $(readlink "$p/exe" 2>/dev/null) == */tokentray-gui ]] && { echo "${p#/proc/}"; return 0; }
    done
    return 1
  }
  tray_menu() {
    dbus-send --bus="$BUS" --print-reply --dest="org.kde.StatusNotifierItem-$GUI-1" /StatusNotifierMenu \
      com.canonical.dbusmenu.GetLayout int32:0 int32:-1 array:string:label >/root/fresh/tray-menu.txt 2>&1 &&
      [[ $(grep -o '"Copy token: [^"]*"' /root/fresh/tray-menu.txt | sed -E 's/ \([^)]*\)"$/"/' | sort | tr '\n' ' ') == \
        '"Copy token: chat-bot" "Copy token: data-sync" "Copy token: org-admin" ' ]]
  }
  mkdir -p /root/fresh

  echo "=== check-fresh-debian: scripts/run.sh (no display, no session bus: its headless path)"
  start=$SECONDS
  scripts/run.sh >/root/fresh/run.log 2>&1 &
  run=$!
  # Setup, apt and two cold builds of Fyne take minutes (on a loaded 2-core
  # machine, most of an hour): TOKENTRAY_FRESH_TIMEOUT bounds the whole check.
  until grep -q 'no stored clients yet: opening the demo' /root/fresh/run.log; do
    kill -0 "$run" 2>/dev/null || fail "scripts/run.sh exited before opening the demo"
    sleep 1
  done
  echo "run.sh: set up and built in $((SECONDS - start)) s; opening the demo"
  wait_for 60 "tokentray-gui running" gui_pid
  GUI=$(gui_pid)
  BUS=$(tr '\0' '\n' <"/proc/$GUI/environ" | sed -n 's/^DBUS_SESSION_BUS_ADDRESS=//p')
  DISP=$(tr '\0' '\n' <"/proc/$GUI/environ" | sed -n 's/^DISPLAY=//p')
  [[ -n $BUS && -n $DISP ]] || fail "the app has no DBUS_SESSION_BUS_ADDRESS or DISPLAY: run.sh did not start its own"
  # The tray item: Fyne exports it as org.kde.StatusNotifierItem-PID-1 on the
  # session bus (run.sh's headless path has no tray host to register with).
  wait_for 60 "the tray item's menu on the session bus with the three demo clients' Copy entries" tray_menu
  # The window: a checker's tool, installed now that run.sh's setup is done
  # (scripts/test.sh installs it later anyway).
  if ! command -v xdotool >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xdotool >/dev/null
  fi
  wait_for 60 "a mapped window named 'Tokentray demo'" env DISPLAY="$DISP" xdotool search --onlyvisible --name '^Tokentray demo$'
  DISPLAY=$DISP import -window root /root/fresh/run.png 2>/dev/null || true
  kill -TERM "$GUI"
  code=0
  wait "$run" || code=$?
  ((code == 0)) || fail "scripts/run.sh exited with status $code after SIGTERM to the app"
  echo "run.sh: window and tray up, SIGTERM, exit 0 ($((SECONDS - start)) s in all)"

  echo "=== check-fresh-debian: scripts/test.sh"
  start=$SECONDS
  scripts/test.sh
  echo "test.sh: passed in $((SECONDS - start)) s"
  exit 0
fi

# ---------------------------------------------------------------------------
# In the private mount and PID namespaces: mount, chroot, unmount.
if [[ ${1:-} == --namespace ]]; then
  root=$2 goroot=$3 proxy_dir=$4 debs=$5 gocache=$6
  shift 6
  made=()
  unmount_all() {
    local i
    for ((i = ${#made[@]} - 1; i >= 0; i--)); do
      umount -R "${made[i]}" 2>/dev/null || umount -R -l "${made[i]}" || true
    done
  }
  trap unmount_all EXIT
  mnt() { # mnt TARGET MOUNT-ARGS...: mount and remember TARGET for the trap
    local target=$1
    shift
    mkdir -p "$target"
    mount "$@" "$target"
    made+=("$target")
  }
  ro_bind() {
    mnt "$2" --bind "$1"
    mount -o remount,bind,ro "$2"
  }
  mnt "$root/proc" -t proc proc
  mnt "$root/sys" --rbind /sys
  mnt "$root/dev" --rbind /dev
  mnt "$root/run" -t tmpfs -o mode=0755,nosuid,nodev tmpfs
  ro_bind "$goroot" "$root/usr/local/go"
  [[ -n $proxy_dir ]] && ro_bind "$proxy_dir" "$root/var/cache/host-go-proxy"
  mnt "$root/var/cache/apt/archives" --bind "$debs"
  if [[ -n $gocache ]]; then
    # Copy-on-write: the upper layer lives beside the root and goes with it.
    over=$(dirname "$root")/gocache
    mkdir -p "$over/upper" "$over/work"
    mnt "$root/root/.cache/go-build" -t overlay overlay \
      -o "lowerdir=$gocache,upperdir=$over/upper,workdir=$over/work"
  fi
  code=0
  chroot "$root" /usr/bin/env -i "$@" /bin/bash /root/check-fresh-debian.sh --inside || code=$?
  exit "$code"
fi

# ---------------------------------------------------------------------------
# On the host.
cd "$(dirname "$self")/.."
repo=$PWD
say() { printf 'check-fresh-debian: %s\n' "$*"; }
die() { printf 'check-fresh-debian: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root (debootstrap, mounts, chroot): run it with sudo"
export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || die "Go is required (/usr/local/go); it is bound into the fresh root"
for cmd in unshare chroot findmnt git; do
  command -v "$cmd" >/dev/null || die "$cmd is not installed"
done
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap >/dev/null
fi

SUITE=bookworm
# host_source PATTERN: the first URI of the host's enabled apt sources (deb822
# or one-line format) whose suite matches PATTERN, so the fresh root uses the
# mirror this machine is configured for.
host_source() {
  local pattern=$1
  awk -v pat="$pattern" '
    /^[[:space:]]*#/ { next }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i ~ pat) { print uri; exit } }
    /^deb[[:space:]]/ { u = $2; if ($2 ~ /^\[/) u = $3; for (i = 3; i <= NF; i++) if ($i ~ pat) { print u; exit } }
  ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1
}
MIRROR=${TOKENTRAY_FRESH_MIRROR:-$(host_source '^bookworm$')}
SECURITY=${TOKENTRAY_FRESH_SECURITY:-$(host_source '^bookworm-security$')}
[[ -n $MIRROR && -n $SECURITY ]] ||
  die "no bookworm and bookworm-security sources in the host's apt configuration: set TOKENTRAY_FRESH_MIRROR and TOKENTRAY_FRESH_SECURITY"
CACHE=${TOKENTRAY_FRESH_CACHE:-/var/cache/tokentray-fresh}
LIMIT=${TOKENTRAY_FRESH_TIMEOUT:-4500}
ART=$repo/smoke-artifacts/fresh-debian
tarball=$CACHE/$SUITE-minbase.tar.gz
mkdir -p "$CACHE/debs/partial" "$ART"
rm -rf "${ART:?}"/*
exec 9>"$CACHE/lock"
flock -n 9 || { say "another check holds $CACHE/lock; waiting"; flock 9; }

begin=$SECONDS
head=$(git rev-parse HEAD)
[[ -z $(git status --porcelain --untracked-files=no) ]] ||
  say "note: the working tree has uncommitted changes; the check runs the commit $head without them"

work=$(mktemp -d /var/tmp/tokentray-fresh.XXXXXX)
root=$work/root
nspid=
cleanup() {
  local code=$? p left
  trap - EXIT INT TERM
  if [[ -n $nspid ]] && kill -0 "$nspid" 2>/dev/null; then
    kill -TERM "$nspid" 2>/dev/null || true
    wait "$nspid" 2>/dev/null || true
  fi
  # Evidence for a failed (or passed) run.
  cp -f "$root"/root/fresh/* "$ART"/ 2>/dev/null || true
  [[ -d $root/root/tokentray/smoke-artifacts ]] && cp -rf "$root/root/tokentray/smoke-artifacts" "$ART/suite" 2>/dev/null
  # The namespaces' mounts ended with them; nothing of them may show here.
  if left=$(findmnt -rn -o TARGET | grep -F "$work"); then
    say "FAIL: mounts left under $work:"$'\n'"$left" >&2
    code=1
  fi
  for p in /proc/[0-9]*; do
    if [[ $(readlink "$p/root" 2>/dev/null) == "$root"* ]]; then
      say "FAIL: process ${p#/proc/} still runs in the fresh root: $(tr '\0' ' ' <"$p/cmdline")" >&2
      code=1
    fi
  done
  if [[ -z $left ]]; then
    rm -rf --one-file-system "$work" || { say "FAIL: cannot remove $work" >&2; code=1; }
  fi
  [[ -e $work ]] && { say "FAIL: $work is left" >&2; code=1; }
  exit "$code"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The minimal root, built once.
if [[ -s $tarball && -n $(find "$tarball" -mtime -30) ]]; then
  say "using the cached minimal root $tarball"
else
  say "building a minimal Debian root (debootstrap --variant=minbase $SUITE): a few minutes, once"
  t=$SECONDS
  debootstrap --variant=minbase "$SUITE" "$work/build" "$MIRROR" >"$ART/debootstrap.log" 2>&1 ||
    die "debootstrap failed (see $ART/debootstrap.log)"
  rm -f "$work/build"/var/cache/apt/archives/*.deb  # (debootstrap keeps the .debs it installed)
  tar -C "$work/build" --numeric-owner -czf "$tarball.tmp" .
  mv -f "$tarball.tmp" "$tarball"
  rm -rf --one-file-system "$work/build"
  say "built $tarball in $((SECONDS - t)) s"
fi
mkdir "$root"
tar -C "$root" --numeric-owner -xzf "$tarball"

# Apt sources as a Debian 12 installation has them, the host's DNS, and no
# service starts inside the chroot.
cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
rm -f "$root/etc/resolv.conf"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# The host's own extra certificate authorities (a network that inspects TLS
# has one): the root's ca-certificates, when setup installs it, adds them to
# its bundle, as it would on a new machine of this network; Node reads the
# bundle through NODE_EXTRA_CA_CERTS.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# The repository at HEAD, and this script.
git clone -q --no-checkout "$repo" "$root/root/tokentray"
git -C "$root/root/tokentray" checkout -q --detach "$head"
cp "$self" "$root/root/check-fresh-debian.sh"

# The environment inside: a login's, with nothing of this machine's but the
# Go proxy settings (the host's module downloads first, read-only).
goroot=$(go env GOROOT)
{ read -r gomodcache && read -r goproxy && read -r gosumdb; } < <(go env GOMODCACHE GOPROXY GOSUMDB)
proxy_dir=
inner_proxy=$goproxy
if [[ -d $gomodcache/cache/download ]]; then
  proxy_dir=$gomodcache/cache/download
  inner_proxy=file:///var/cache/host-go-proxy
  [[ $goproxy != off ]] && inner_proxy+=",$goproxy"
fi
gocache=
if [[ ${TOKENTRAY_FRESH_COLD_CACHE:-0} != 1 ]]; then
  gocache=$(go env GOCACHE)
  [[ -d $gocache ]] || gocache=
fi
inner_env=(HOME=/root USER=root LOGNAME=root TERM=dumb
  CGO_CFLAGS="-O2 -g -DTOKENTRAY_FRESH_ROOT=1"
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  GOPROXY="$inner_proxy" GOSUMDB="$gosumdb" NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
for name in ${TOKENTRAY_FRESH_PREBUILT:-}; do
  bin=${!name:-}
  [[ -f $bin && -x $bin ]] || die "$name (in TOKENTRAY_FRESH_PREBUILT) is not an executable file: '$bin'"
  go version -m "$bin" 2>/dev/null | grep -q $'\tCGO_ENABLED=0$' ||
    die "$name=$bin is not a pure Go binary (CGO_ENABLED=0): build it here instead"
  mkdir -p "$root/opt/tokentray-prebuilt"
  cp "$bin" "$root/opt/tokentray-prebuilt/$(basename "$bin")"
  inner_env+=("$name=/opt/tokentray-prebuilt/$(basename "$bin")")
  say "using the prebuilt $name ($bin)"
done

say "checking commit $head in a fresh root at $root (Go: $goroot; GOPROXY=$inner_proxy; build cache: ${gocache:-empty}${gocache:+, copy-on-write, cgo cold})"
timeout --signal=TERM --kill-after=30 "$LIMIT" \
  unshare --mount --pid --fork --kill-child --propagation private -- \
  "$self" --namespace "$root" "$goroot" "$proxy_dir" "$CACHE/debs" "$gocache" "${inner_env[@]}" \
  > >(tee "$ART/check.log") 2>&1 &
nspid=$!
code=0
wait "$nspid" || code=$?
nspid=
if ((code != 0)); then
  ((code == 124)) && say "the commands did not finish within TOKENTRAY_FRESH_TIMEOUT=$LIMIT s" >&2
  say "FAIL (status $code) after $((SECONDS - begin)) s (logs: $ART)" >&2
  exit 1
fi
say "passed: the README's run and test commands work on a fresh Debian 12 root ($((SECONDS - begin)) s in all)"

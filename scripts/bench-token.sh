#!/usr/bin/env bash
# bench-token.sh measures the warm path of `tokentray token NAME` (the token
# cached in a real gnome-keyring, read over D-Bus) against a file-read floor:
# a tiny Go binary that reads a small file and prints it, built here and
# measured in the same hyperfine run. Prints the median of each and the
# ratio. Target (issue 5): warm token median under 4 ms. Then the same
# through the app's agent (issue 13), against the keyring path and the floor
# in one hyperfine run.
#
# It runs everything inside a private D-Bus session with its own unlocked
# gnome-keyring, a temporary config dir and a local token server (the demo
# server, demoserver/cmd/testserver), so nothing touches the user's keyring or
# store.
#
# Usage: scripts/bench-token.sh [RUNS]      (default 300 runs per command)
# Needs: go, hyperfine, dbus-run-session, gnome-keyring-daemon, secret-tool, python3.
# Also measured: secret-tool reading the same keyring item (libsecret, in C),
# the keyring's own cost for one read.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-300}"

if [[ -z "${BENCH_TOKEN_INSIDE:-}" ]]; then
	exec dbus-run-session -- env BENCH_TOKEN_INSIDE=1 "$0" "$@"
fi
tmp="$(mktemp -d)"
# A keyring of our own: an existing login keyring with another password would
# refuse the unlock.
export XDG_DATA_HOME="$tmp/data" LANG="${LANG:-en_US.UTF-8}"
[[ "$LANG" == C* || "$LANG" == POSIX ]] && export LANG=en_US.UTF-8
mkdir -p "$XDG_DATA_HOME"
eval "$(printf %s bench-password | gnome-keyring-daemon --replace --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
server_pid=""
cleanup() {
	[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cd "$root"
bin="$root/bin/tokentray"
echo "bench-token: building $bin"
have_app=1
if ! CGO_ENABLED=0 go build -o "$bin" . 2>"$tmp/build.log"; then
	echo "bench-token: the app does not build; measuring only the cli-only binary:" >&2
	tail -5 "$tmp/build.log" >&2
	have_app=0
fi
# A cli-only binary (a main that calls cli.Run, without Fyne linked), put
# into the module with an overlay so nothing is written to the tree: the
# difference to the app binary is what linking Fyne costs every command.
mkdir -p "$tmp/climain"
cat >"$tmp/climain/main.go" <<'EOF'
package main

import (
	"context"
	"os"

	"github.com/tokentray/tokentray/cli"
)

func main() { os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
EOF
printf '{"Replace":{"%s":"%s"}}' "$root/bin/benchmain/main.go" "$tmp/climain/main.go" >"$tmp/overlay.json"
CGO_ENABLED=0 go build -overlay "$tmp/overlay.json" -o "$tmp/tokentray-cli" ./bin/benchmain
[[ $have_app == 1 ]] || bin="$tmp/tokentray-cli"

# The floor: a Go binary that reads a small file and prints it.
mkdir -p "$tmp/floor"
cat >"$tmp/floor/main.go" <<'EOF'
package main

import "os"

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
EOF
(cd "$tmp/floor" && go mod init floor >/dev/null 2>&1 && go build -o "$tmp/readfile" .)

# A local client-credentials token endpoint: the demo server, issuing RS256
# JWTs shaped like the platform's (about 800 bytes).
go build -o "$tmp/tokenserver" ./demoserver/cmd/testserver
"$tmp/tokenserver" -url-file "$tmp/url" -client m2m-client-test-bench:bench-client-secret:models:read &
server_pid=$!
for _ in $(seq 100); do [[ -s "$tmp/url" ]] && break; sleep 0.05; done
token_url="$(cat "$tmp/url")"

cfg="$tmp/config"
printf '%s\n' 'bench-client-secret' | "$bin" --config "$cfg" add bench \
	--token-url "$token_url" --client-id m2m-client-test-bench --scope models:read
"$bin" --config "$cfg" token bench >"$tmp/small.txt" # warm: cached in the keyring now
# The same store in a second directory: the agent (below) serves only the
# directory it was started on, so this copy measures the keyring path while
# the agent runs.
cp -r "$cfg" "$tmp/config-keyring"
kill "$server_pid"
server_pid=""

# From here on no token server runs: every token call must come from the cache.
echo "bench-token: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -sr)"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$tmp/result.json" \
	-n "tokentray token (warm)" "$bin --config $cfg token bench" \
	-n "cli-only binary token (warm)" "$tmp/tokentray-cli --config $cfg token bench" \
	-n "file-read floor" "$tmp/readfile $tmp/small.txt" \
	-n "secret-tool lookup (same item)" "secret-tool lookup service io.github.tokentray username bench/token"

python3 - "$tmp/result.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
floor = r["file-read floor"]
mf = floor["median"] * 1000
for name in ("tokentray token (warm)", "cli-only binary token (warm)"):
    x = r[name]
    m = x["median"] * 1000
    print(f"{name:30s} median {m:6.2f} ms (mean {x['mean']*1000:.2f} ± {x['stddev']*1000:.2f})  {m/mf:.2f}x the floor  target < 4 ms: {'met' if m < 4 else 'NOT met'}")
print(f"{'file-read floor':30s} median {mf:6.2f} ms (mean {floor['mean']*1000:.2f} ± {floor['stddev']*1000:.2f})")
st = r["secret-tool lookup (same item)"]
print(f"{'secret-tool lookup (C client)':30s} median {st['median']*1000:6.2f} ms (mean {st['mean']*1000:.2f} ± {st['stddev']*1000:.2f})  {st['median']*1000/mf:.2f}x the floor")
EOF

# The app as an agent (issue 13 section 1): the app's token-serving part
# (package agent over the app's refresher on the same store), without the
# window, built with an overlay main; `tokentray token` asks it first.
mkdir -p "$tmp/agentmain"
cat >"$tmp/agentmain/main.go" <<'EOF'
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

func main() {
	store, err := vault.OpenSystem(os.Args[1])
	if err != nil {
		panic(err)
	}
	srv, err := agent.Listen(os.Args[1])
	if err != nil {
		panic(err)
	}
	srv.Start(agent.Options{Tokens: refresher.New(refresher.Options{Store: store})})
	fmt.Println("ready")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	<-ctx.Done()
	stop()
	srv.Close()
}
EOF
printf '{"Replace":{"%s":"%s"}}' "$root/bin/agentmain/main.go" "$tmp/agentmain/main.go" >"$tmp/overlay-agent.json"
CGO_ENABLED=0 go build -overlay "$tmp/overlay-agent.json" -o "$tmp/agent" ./bin/agentmain
export XDG_RUNTIME_DIR="$tmp/run"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
"$tmp/agent" "$cfg" >"$tmp/agent.log" 2>&1 &
agent_pid=$!
trap 'kill "$agent_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do grep -q ready "$tmp/agent.log" 2>/dev/null && break; sleep 0.05; done
"$bin" --config "$cfg" token bench >/dev/null # the agent's first answer reads the keyring once

echo "bench-token (agent): $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$tmp/result-agent.json" \
	-n "tokentray token via the agent" "$bin --config $cfg token bench" \
	-n "tokentray token, keyring path" "$bin --config $tmp/config-keyring token bench" \
	-n "file-read floor" "$tmp/readfile $tmp/small.txt"
python3 - "$tmp/result-agent.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
mf = r["file-read floor"]["median"] * 1000
for name in ("tokentray token via the agent", "tokentray token, keyring path", "file-read floor"):
    x = r[name]
    m = x["median"] * 1000
    print(f"{name:32s} median {m:6.2f} ms (mean {x['mean']*1000:.2f} ± {x['stddev']*1000:.2f})  {m/mf:.2f}x the floor")
print(f"goal (issue 13): the agent at most 2.0x the floor: {'met' if r['tokentray token via the agent']['median']*1000 <= 2*mf else 'NOT met'}")
EOF
echo "bench-token (agent): load average after $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# bench.sh prints the ratios of issue 13 from one run on this machine: each
# Tokentray figure beside its anchor measured in the same run (the file-read
# floor, a bare x/oauth2 clientcredentials program against the same Ory
# Hydra), with load average, CPU model, Go version and date. Results also go
# to out/bench.json.
#
# Usage: scripts/bench.sh [--quick] [--only token,version,refresh,proxy,agent]
#   --quick   a handful of runs: proves the script works (CI smoke); the
#             figures mean nothing then.
# Parts not measured by this script yet (window, fill) are printed as such.
# Needs: go, hyperfine, dbus-run-session, gnome-keyring-daemon, python3, curl,
# bin/hydra (scripts/build-hydra.sh).
set -euo pipefail
export LANG=en_US.UTF-8

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0
only="token,version,refresh,proxy,agent,window,fill"
args=("$@")
while [[ $# -gt 0 ]]; do
	case "$1" in
	--quick) quick=1 ;;
	--only) only="$2"; shift ;;
	--only=*) only="${1#--only=}" ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
want() { [[ ",$only," == *",$1,"* ]]; }

if [[ -z "${BENCH_INSIDE:-}" ]]; then
	exec dbus-run-session -- env BENCH_INSIDE=1 "$0" "${args[@]}"
fi

if [[ $quick == 1 ]]; then runs=5; warm=1; else runs=200; warm=20; fi
tmp="$(mktemp -d)"
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/xdgconfig" XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
eval "$(printf %s bench-password | gnome-keyring-daemon --replace --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
hydra_pid=""
cleanup() {
	if [[ -n "$hydra_pid" ]]; then kill "$hydra_pid" 2>/dev/null || true; wait "$hydra_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
results="$tmp/results.tsv" # what \t ours \t anchor \t unit \t goal(max ratio) \t note
: >"$results"
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }

load="$(cut -d' ' -f1-3 /proc/loadavg)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
gover="$(go env GOVERSION)"
echo "bench: $(date -u +%FT%TZ), $(nproc) cores, $cpu, $gover, load average $load"
if awk -v l="${load%% *}" 'BEGIN{exit !(l >= 0.5)}'; then
	echo "bench: WARNING: load average ${load%% *} >= 0.5: the figures below say nothing about this program" >&2
fi
[[ $quick == 1 ]] && echo "bench: --quick: $runs runs each, figures are a smoke test only"

cd "$root"
echo "bench: building"
CGO_ENABLED=0 go build -o "$tmp/tokentray" .
bin="$tmp/tokentray"
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

# The bare x/oauth2 program, built inside this module with an overlay so it
# uses this module's x/oauth2 version. The secret comes from the environment,
# never argv. With -n N -p P it fetches for clients PREFIX0..PREFIX(N-1).
mkdir -p "$tmp/bare"
cat >"$tmp/bare/main.go" <<'EOF'
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"

	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	url := flag.String("url", "", "token URL")
	id := flag.String("id", "", "client id (prefix with -n)")
	n := flag.Int("n", 0, "fetch for clients id0..id(n-1)")
	p := flag.Int("p", 8, "in parallel")
	flag.Parse()
	secret := os.Getenv("BARE_SECRET")
	fetch := func(cid string) error {
		c := clientcredentials.Config{ClientID: cid, ClientSecret: secret, TokenURL: *url}
		t, err := c.Token(context.Background())
		if err != nil {
			return err
		}
		if *n == 0 {
			fmt.Println(t.AccessToken)
		}
		return nil
	}
	if *n == 0 {
		if err := fetch(*id); err != nil {
			fmt.Fprintln(os.Stderr, "bare:", err)
			os.Exit(1)
		}
		return
	}
	ids := make(chan string)
	var wg sync.WaitGroup
	failed := false
	var mu sync.Mutex
	for range *p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cid := range ids {
				if err := fetch(cid); err != nil {
					mu.Lock()
					failed = true
					mu.Unlock()
					fmt.Fprintln(os.Stderr, "bare:", err)
				}
			}
		}()
	}
	for i := range *n {
		ids <- fmt.Sprintf("%s%d", *id, i)
	}
	close(ids)
	wg.Wait()
	if failed {
		os.Exit(1)
	}
}
EOF
printf '{"Replace":{"%s":"%s"}}' "$root/bin/benchbare/main.go" "$tmp/bare/main.go" >"$tmp/overlay.json"
go build -overlay "$tmp/overlay.json" -o "$tmp/bare-oauth2" ./bin/benchbare

# Ory Hydra on loopback, configured like hydratest does.
hydra="${TOKENTRAY_HYDRA_BIN:-$root/bin/hydra}"
[[ -x "$hydra" ]] || { echo "bench: no Hydra at $hydra: run scripts/build-hydra.sh (or set TOKENTRAY_HYDRA_BIN)" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pub="$(port)"; adm="$(port)"
cat >"$tmp/hydra.yml" <<EOF
dsn: memory
serve:
  public: {host: 127.0.0.1, port: $pub}
  admin: {host: 127.0.0.1, port: $adm}
urls:
  self: {issuer: "http://127.0.0.1:$pub/"}
  login: http://127.0.0.1:1/login
  consent: http://127.0.0.1:1/consent
secrets:
  system: ["$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"]
strategies:
  access_token: jwt
ttl:
  access_token: 1h
log: {level: warn}
EOF
SQA_OPT_OUT=true "$hydra" serve all --dev --sqa-opt-out -c "$tmp/hydra.yml" >"$tmp/hydra.log" 2>&1 &
hydra_pid=$!
for _ in $(seq 600); do curl -fsS "http://127.0.0.1:$adm/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$adm/health/ready" >/dev/null || { echo "bench: Hydra did not start:" >&2; tail -20 "$tmp/hydra.log" >&2; exit 1; }
token_url="http://127.0.0.1:$pub/oauth2/token"
export BARE_SECRET=bench-client-secret-0123456789
mkclient() {
	curl -fsS -o /dev/null -X POST "http://127.0.0.1:$adm/admin/clients" -H 'Content-Type: application/json' \
		-d "{\"client_id\":\"$1\",\"client_secret\":\"$BARE_SECRET\",\"grant_types\":[\"client_credentials\"],\"token_endpoint_auth_method\":\"client_secret_basic\"}"
}
mkclient bench
"$tmp/bare-oauth2" -url "$token_url" -id bench >/dev/null # Hydra makes its signing key on the first token

cfg="$tmp/config"
printf '%s\n' "$BARE_SECRET" | "$bin" --config "$cfg" add bench --token-url "$token_url" --client-id bench >/dev/null
"$bin" --config "$cfg" token bench >"$tmp/small.txt" # warm: cached in the keyring now

hf() { # hf OUT.json name cmd name cmd ...
	local out="$1"; shift
	local a=()
	while [[ $# -gt 0 ]]; do a+=(-n "$1" "$2"); shift 2; done
	hyperfine -N --style none --warmup "$warm" --runs "$runs" --export-json "$out" "${a[@]}" >/dev/null
}
median() { python3 -c 'import json,sys; r={x["command"]:x for x in json.load(open(sys.argv[1]))["results"]}; print(r[sys.argv[2]]["median"]*1000)' "$1" "$2"; }

if want token || want version; then
	hf "$tmp/cli.json" token "$bin --config $cfg token bench" version "$bin version" floor "$tmp/readfile $tmp/small.txt"
	want token && row "warm tokentray token (gnome-keyring)" "$(median "$tmp/cli.json" token)" "$(median "$tmp/cli.json" floor)" ms 4.0 "anchor: file-read floor"
	want version && row "tokentray version (start-up)" "$(median "$tmp/cli.json" version)" "$(median "$tmp/cli.json" floor)" ms "" "anchor: file-read floor"
fi
if want refresh; then
	hf "$tmp/refresh.json" refresh "$bin --config $cfg refresh bench" bare "$tmp/bare-oauth2 -url $token_url -id bench"
	row "forced fetch tokentray refresh (Hydra)" "$(median "$tmp/refresh.json" refresh)" "$(median "$tmp/refresh.json" bare)" ms 1.3 "anchor: bare x/oauth2 clientcredentials"
fi
if want proxy; then
	if [[ -f authproxy/bench_test.go ]]; then
		bt=2s; [[ $quick == 1 ]] && bt=50x
		go test -run '^$' -bench ProxyOverhead -benchtime "$bt" ./authproxy/ >"$tmp/proxy.txt" 2>&1 || { cat "$tmp/proxy.txt" >&2; exit 1; }
		read -r prox direct added < <(python3 - "$tmp/proxy.txt" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
g = lambda k: float(re.search(r"([\d.]+) " + re.escape(k), t).group(1)) / 1000
print(g("proxied-µs/median"), g("direct-µs/median"), g("added-µs/median"))
EOF
)
		row "proxy: request through tokentray proxy" "$prox" "$direct" ms "" "anchor: direct request; added ${added} ms (goal <= 0.3 ms)"
	else
		row "proxy" "" "" "" "" "not built (no authproxy/bench_test.go)"
	fi
fi
if want agent; then
	if [[ -d agent ]]; then
		# The app (cgo, Fyne) on a private Xvfb serves the agent socket.
		go build -o "$tmp/tokentray-gui" ./cmd/tokentray-gui # started by tokentray from beside it
		export XDG_RUNTIME_DIR="$tmp/run"; mkdir -m 0700 -p "$XDG_RUNTIME_DIR"
		Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$tmp/dpy" 2>/dev/null &
		xvfb_pid=$!
		for _ in $(seq 100); do [[ -s "$tmp/dpy" ]] && break; sleep 0.1; done
		DISPLAY=":$(cat "$tmp/dpy")" "$bin" --config "$cfg" >"$tmp/app.log" 2>&1 &
		app_pid=$!
		for _ in $(seq 600); do compgen -G "$XDG_RUNTIME_DIR/tokentray/*.sock" >/dev/null && break; sleep 0.1; done
		if compgen -G "$XDG_RUNTIME_DIR/tokentray/*.sock" >/dev/null; then
			hf "$tmp/agent.json" agent "$bin --config $cfg token bench" floor "$tmp/readfile $tmp/small.txt"
			row "warm tokentray token through the agent (app running)" "$(median "$tmp/agent.json" agent)" "$(median "$tmp/agent.json" floor)" ms 2.0 "anchor: file-read floor"
		else
			row "agent" "" "" "" "" "the app did not open its agent socket within 60 s; see its log"
			tail -5 "$tmp/app.log" >&2
		fi
		kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true
		kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true
	else
		row "agent" "" "" "" "" "agent: not built"
	fi
fi
want window && row "window with 100 clients (exec to visible, RSS, CPU shown/hidden)" "" "" "" "" "not measured by this script yet: see docs/PERFORMANCE.md for the commands"
want fill && row "1,000 clients first fill" "" "" "" "" "not measured by this script yet: see docs/PERFORMANCE.md for the commands"

mkdir -p "$root/out"
python3 - "$results" "$root/out/bench.json" "$load" "$cpu" "$gover" "$quick" <<'EOF'
import json, sys, datetime
rows = []
print(f"{'what':62s} {'ours':>9s} {'anchor':>9s} {'ratio':>7s} {'goal':>6s}  result")
for line in open(sys.argv[1]):
    what, ours, anchor, unit, goal, note = line.rstrip("\n").split("\t")
    r = {"what": what, "unit": unit or None, "note": note}
    if ours and anchor:
        o, a = float(ours), float(anchor)
        ratio = o / a
        r.update(ours=o, anchor=a, ratio=ratio)
        res = ""
        if goal:
            r["goal"] = float(goal); r["met"] = ratio <= float(goal)
            res = "met" if r["met"] else "NOT met"
        print(f"{what:62s} {o:7.2f}{unit:2s} {a:7.2f}{unit:2s} {ratio:6.2f}x {(goal + 'x') if goal else '-':>6s}  {res}  ({note})")
    else:
        print(f"{what:62s} {'-':>9s} {'-':>9s} {'-':>7s} {'-':>6s}  {note}")
    rows.append(r)
out = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "load_average": sys.argv[3],
       "cpu": sys.argv[4], "go": sys.argv[5], "quick": sys.argv[6] == "1", "results": rows}
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(f"bench: results in {sys.argv[2]}")
EOF

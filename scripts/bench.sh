#!/usr/bin/env bash
# bench.sh prints the ratios of issue 13 from one run on this machine: each
# Tokentray figure beside its anchor measured in the same run (the file-read
# floor, a bare x/oauth2 clientcredentials program against the same Ory
# Hydra), with load average, CPU model, Go version and date. Results also go
# to out/bench.json.
#
# Usage: scripts/bench.sh [--quick] [--only token,version,refresh,proxy,agent,window,fill]
#   --quick   a handful of runs, short windows, a 50-client fill: proves the
#             script works (CI smoke); the figures mean nothing then.
# window (about 4 minutes) and fill (a few minutes) need Xvfb, openbox and
# xdotool, and build the cgo Fyne app.
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
	-h|--help) sed -n '2,15p' "$0"; exit 0 ;;
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
	same := flag.Bool("same", false, "with -n: n fetches for the id itself")
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
		if *same {
			ids <- *id
		} else {
			ids <- fmt.Sprintf("%s%d", *id, i)
		}
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

# The GUI rows: Tokentray's app and a bare Fyne 2.7.1 app on a private Xvfb
# with openbox (so alt+F4 reaches the close intercept: hidden to the tray).
gui_built=0
build_gui() {
	[[ $gui_built == 1 ]] && return
	go build -o "$tmp/tokentray-gui" ./cmd/tokentray-gui # started by tokentray from beside it
	mkdir -p "$tmp/fyne"
	cat >"$tmp/fyne/main.go" <<'EOF2'
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("io.github.tokentray.benchbare")
	w := a.NewWindow("BareFyne")
	rows := []string{"one", "two", "three"}
	w.SetContent(widget.NewList(func() int { return len(rows) },
		func() fyne.CanvasObject { return widget.NewLabel("template") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(rows[i]) }))
	w.Resize(fyne.NewSize(640, 480))
	if d, ok := a.(desktop.App); ok {
		d.SetSystemTrayMenu(fyne.NewMenu("BareFyne", fyne.NewMenuItem("Show", w.Show)))
	}
	w.SetCloseIntercept(w.Hide)
	w.ShowAndRun()
}
EOF2
	printf '{"Replace":{"%s":"%s"}}' "$root/bin/benchfyne/main.go" "$tmp/fyne/main.go" >"$tmp/overlay-fyne.json"
	go build -overlay "$tmp/overlay-fyne.json" -o "$tmp/bare-fyne" ./bin/benchfyne
	# Adds N clients of one Hydra client to a store quickly (the fill's setup, not measured).
	mkdir -p "$tmp/setup"
	cat >"$tmp/setup/main.go" <<'EOF2'
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/tokentray/tokentray/vault"
)

func main() {
	dir, url, id := os.Args[1], os.Args[2], os.Args[3]
	n, err := strconv.Atoi(os.Args[4])
	if err != nil {
		panic(err)
	}
	service, err := vault.ServiceFor(dir)
	if err != nil {
		panic(err)
	}
	s, err := vault.Open(dir, vault.NewSystemKeyring(service))
	if err != nil {
		panic(err)
	}
	for i := range n {
		if err := s.Add(vault.Client{Name: fmt.Sprintf("c%04d", i), ClientID: id, TokenURL: url}, os.Getenv("BARE_SECRET")); err != nil {
			fmt.Fprintln(os.Stderr, "setup:", err)
			os.Exit(1)
		}
	}
}
EOF2
	printf '{"Replace":{"%s":"%s"}}' "$root/bin/benchsetup/main.go" "$tmp/setup/main.go" >"$tmp/overlay-setup.json"
	go build -overlay "$tmp/overlay-setup.json" -o "$tmp/setup-clients" ./bin/benchsetup
	gui_built=1
}
gui_pids=()
start_display() { # sets DISPLAY to a private Xvfb with openbox
	Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$tmp/dpy-$1" 2>/dev/null &
	gui_pids+=($!)
	for _ in $(seq 100); do [[ -s "$tmp/dpy-$1" ]] && break; sleep 0.1; done
	export DISPLAY=":$(cat "$tmp/dpy-$1")"
	openbox >/dev/null 2>&1 &
	gui_pids+=($!)
	sleep 1 # openbox takes the screen
}
stop_display() {
	local p
	for p in "${gui_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	gui_pids=()
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# window_figures TAG TITLE CMD...: exec to visible (ms), RSS after start (MB),
# CPU % over $shown s shown, CPU % over $hidden s hidden (closed to the tray);
# written to $tmp/win-TAG.
window_figures() {
	local tag="$1" title="$2"; shift 2
	local t0 t1 pid win c0 c1 hz
	hz="$(getconf CLK_TCK)"
	t0="$(date +%s%N)"
	"$@" >"$tmp/$tag.log" 2>&1 &
	pid=$!
	win="$(timeout 120 xdotool search --sync --onlyvisible --name "^$title\$" | head -1)"
	t1="$(date +%s%N)"
	[[ -n "$win" ]] || { echo "bench: $tag: no visible window within 120 s" >&2; tail -5 "$tmp/$tag.log" >&2; kill "$pid"; return 1; }
	sleep "$settle"
	local rss; rss="$(awk '/^VmRSS/{print $2/1024}' "/proc/$pid/status")"
	c0="$(cpu_ticks "$pid")"; sleep "$shown"; c1="$(cpu_ticks "$pid")"
	local cshown; cshown="$(awk -v a="$c0" -v b="$c1" -v s="$shown" -v hz="$hz" 'BEGIN{print (b-a)/hz/s*100}')"
	xdotool windowactivate --sync "$win" key --clearmodifiers alt+F4
	sleep 2
	if xdotool search --onlyvisible --name "^$title\$" >/dev/null 2>&1; then
		echo "bench: $tag: the window is still visible after alt+F4" >&2; kill "$pid"; return 1
	fi
	kill -0 "$pid" || { echo "bench: $tag: the app exited on close" >&2; return 1; }
	c0="$(cpu_ticks "$pid")"; sleep "$hidden"; c1="$(cpu_ticks "$pid")"
	local chidden; chidden="$(awk -v a="$c0" -v b="$c1" -v s="$hidden" -v hz="$hz" 'BEGIN{print (b-a)/hz/s*100}')"
	kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
	echo "$(( (t1 - t0) / 1000000 )) $rss $cshown $chidden" >"$tmp/win-$tag"
}
# hidden_start_figures TAG CMD...: the app started hidden (--hidden, as the
# autostart entry starts it at login): RSS after $settle s and CPU % over
# $hidden s, with no window mapped; written to $tmp/win-TAG.
hidden_start_figures() {
	local tag="$1"; shift
	local pid c0 c1 hz
	hz="$(getconf CLK_TCK)"
	"$@" >"$tmp/$tag.log" 2>&1 &
	pid=$!
	sleep "$settle"
	kill -0 "$pid" || { echo "bench: $tag: the app exited" >&2; tail -5 "$tmp/$tag.log" >&2; return 1; }
	if xdotool search --onlyvisible --name "^Tokentray\$" >/dev/null 2>&1; then
		echo "bench: $tag: --hidden mapped a window" >&2; kill "$pid"; return 1
	fi
	local rss; rss="$(awk '/^VmRSS/{print $2/1024}' "/proc/$pid/status")"
	c0="$(cpu_ticks "$pid")"; sleep "$hidden"; c1="$(cpu_ticks "$pid")"
	local chidden; chidden="$(awk -v a="$c0" -v b="$c1" -v s="$hidden" -v hz="$hz" 'BEGIN{print (b-a)/hz/s*100}')"
	kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
	echo "$rss $chidden" >"$tmp/win-$tag"
}
if [[ $quick == 1 ]]; then settle=2; shown=3; hidden=3; fill_n=50; else settle=10; shown=30; hidden=60; fill_n=1000; fi
if want window; then
	build_gui
	wcfg="$tmp/config-window"
	printf '%s\n' "$BARE_SECRET" | "$bin" --config "$wcfg" add c-first --token-url "$token_url" --client-id bench --no-test >/dev/null
	"$tmp/setup-clients" "$wcfg" "$token_url" bench 99
	export XDG_RUNTIME_DIR="$tmp/run"; mkdir -m 0700 -p "$XDG_RUNTIME_DIR"
	start_display window
	if window_figures ours Tokentray "$bin" --config "$wcfg" && window_figures bare BareFyne "$tmp/bare-fyne"; then
		read -r o_vis o_rss o_shown o_hidden <"$tmp/win-ours"
		read -r b_vis b_rss b_shown b_hidden <"$tmp/win-bare"
		row "window, 100 clients: exec to visible" "$o_vis" "$b_vis" ms 1.5 "anchor: bare Fyne 2.7.1 app (3-row list + tray menu)"
		row "window, 100 clients: RSS after start" "$o_rss" "$b_rss" MB 1.3 "anchor: same bare app, ${settle} s after visible"
		row "window, 100 clients: CPU over ${shown} s shown" "$o_shown" "$b_shown" % 1.5 "anchor: same bare app"
		row "window, 100 clients: CPU over ${hidden} s hidden in the tray" "$o_hidden" "$b_hidden" % "" "anchor: same bare app hidden the same way (openbox alt+F4 -> Hide); goal: under 0.2 %"
		row "window, 100 clients: CPU hidden in the tray, against the goal" "$o_hidden" 0.2 % 1 "anchor: the issue's goal, 0.2 % of a core"
	else
		row "window" "" "" "" "" "not measured: see the messages above"
	fi
	if [[ -s "$tmp/win-ours" ]] && hidden_start_figures hidden-start "$bin" --config "$wcfg" --hidden; then
		read -r h_rss h_cpu <"$tmp/win-hidden-start"
		row "window, 100 clients: RSS started --hidden (login)" "$h_rss" "$o_rss" MB "" "anchor: the same app with its window shown; no window mapped"
		row "window, 100 clients: CPU over ${hidden} s started --hidden" "$h_cpu" "$o_shown" % "" "anchor: the same app, CPU over ${shown} s shown"
		row "window, 100 clients: CPU started --hidden, against the goal" "$h_cpu" 0.2 % 1 "anchor: the issue's goal, 0.2 % of a core"
	fi
	stop_display
fi
if want fill; then
	build_gui
	fcfg="$tmp/config-fill"
	# A keyring service of its own: the window rows' store uses the same client names under the default
	# service, and their cached tokens would be adopted without a CreateItem (the fill never reaching fill_n).
	mkdir -m 0700 -p "$fcfg"
	printf 'io.github.tokentray.bench-fill-%s\n' "$$" >"$fcfg/keyring-service"
	printf '%s\n' "$BARE_SECRET" | "$bin" --config "$fcfg" add c-first --token-url "$token_url" --client-id bench --no-test >/dev/null
	"$tmp/setup-clients" "$fcfg" "$token_url" bench $((fill_n - 1))
	export XDG_RUNTIME_DIR="$tmp/run"; mkdir -m 0700 -p "$XDG_RUNTIME_DIR"
	start_display fill
	# Every token cached = fill_n CreateItem calls on the bus (the secrets were written before).
	stdbuf -oL dbus-monitor --session --profile "type='method_call',member='CreateItem'" >"$tmp/fill.mon" 2>/dev/null &
	mon_pid=$!
	sleep 1
	t0="$(date +%s.%N)"
	"$bin" --config "$fcfg" --hidden >"$tmp/fill.log" 2>&1 &
	app_pid=$!
	for _ in $(seq 6000); do (( $(grep -c CreateItem "$tmp/fill.mon" || true) >= fill_n )) && break; sleep 0.1; done
	n_written="$(grep -c CreateItem "$tmp/fill.mon" || true)"
	t1="$(grep CreateItem "$tmp/fill.mon" | sed -n "${fill_n}p" | awk '{print $2}')"
	kill "$app_pid" "$mon_pid" 2>/dev/null || true; wait "$app_pid" "$mon_pid" 2>/dev/null || true
	stop_display
	t2="$(date +%s.%N)"
	"$tmp/bare-oauth2" -url "$token_url" -id bench -same -n "$fill_n" -p 8
	t3="$(date +%s.%N)"
	if [[ -n "$t1" ]]; then
		row "first fill, ${fill_n} clients: app start until every token is cached" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$(awk -v a="$t2" -v b="$t3" 'BEGIN{print b-a}')" s 1.5 "anchor: ${fill_n} fetches by the bare x/oauth2 program, 8 in parallel, same Hydra"
	else
		row "first fill" "" "" "" "" "not measured: only $n_written of $fill_n tokens were written within 600 s"
	fi
fi

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
        ratio = o / a if a else float("inf")
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

#!/usr/bin/env bash
# test-upgrade.sh: a store written by Tokentray 0.1.0 (testdata/upgrade/0.1.0:
# its clients.json and keyring items) opens with the current build, on the
# real Secret Service (gnome-keyring in a private D-Bus session):
#   - list --json finds both clients with their settings (scopes, auth style,
#     audience, notes, secret dates);
#   - token billing prints the token 0.1.0 cached in the keyring (the exact
#     string: no new token was fetched);
#   - refresh billing fetches a new token from the demo token server with the
#     secret 0.1.0 stored (the secret was found), and the server issues it;
#   - the secrets are still in the keyring afterwards, and clients.json is
#     still readable, with both clients (a later schema would be migrated,
#     keeping a backup: then clients.json.bak must hold the 0.1.0 file).
# Usage: scripts/test-upgrade.sh [TOKENTRAY-BINARY]   (default: builds one)
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
fixture=$PWD/testdata/upgrade/0.1.0

fail() { echo "test-upgrade: FAIL: $*" >&2; exit 1; }

if [[ -z ${TEST_UPGRADE_INNER:-} ]]; then
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  if [[ -n ${1:-} ]]; then
    cp "$1" "$WORK/tokentray"
  else
    CGO_ENABLED=0 go build -o "$WORK/tokentray" .
  fi
  go build -o "$WORK/testserver" ./demoserver/cmd/testserver
  TEST_UPGRADE_INNER=1 WORK=$WORK dbus-run-session -- "$0"
  echo "test-upgrade: a 0.1.0 store opens with $("$WORK/tokentray" version): clients, secrets and tokens found"
  exit 0
fi

# --- inside a private session bus, in $WORK ---
export HOME=$WORK/home XDG_DATA_HOME=$WORK/data XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/cache
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
eval "$(printf %s upgrade-test | gnome-keyring-daemon --replace --unlock --components=secrets)" >/dev/null
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
"$WORK/testserver" -url-file "$WORK/url" \
  -client 'm2m-client-test-upgrade1:billing-secret-0.1.0:models:read,chat:invoke' >"$WORK/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [[ -s $WORK/url ]] && break; sleep 0.05; done
[[ -s $WORK/url ]] || fail "the demo token server did not start: $(cat "$WORK/server.log")"
url=$(cat "$WORK/url")

# The 0.1.0 store: its index with the token URL moved to this server, its
# keyring items as 0.1.0's go-keyring wrote them (service, username, label).
C=$WORK/store
mkdir -m 0700 "$C"
sed "s|http://127.0.0.1:[0-9]*/oauth2/token|$url|" "$fixture/clients.json" >"$C/clients.json"
chmod 0600 "$C/clients.json"
cmp -s <(sed 's|"token_url": "[^"]*"||' "$fixture/clients.json") <(sed 's|"token_url": "[^"]*"||' "$C/clients.json") ||
  fail "moving the token URL changed more than the token URL"
put() { # put USERNAME VALUE: a keyring item as go-keyring stores it
  printf %s "$2" | secret-tool store --label="Password for '$1' on 'io.github.tokentray'" \
    service io.github.tokentray username "$1"
}
put billing/secret billing-secret-0.1.0
put reports/secret reports-secret-0.1.0
# The cached token: still valid for 50 minutes, fetched 10 minutes ago.
expiry=$(date -u -d '+50 min' +%Y-%m-%dT%H:%M:%SZ)
fetched=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)
token_item=$(sed -e "s|\"expiry\":\"[^\"]*\"|\"expiry\":\"$expiry\"|" \
  -e "s|\"fetched_at\":\"[^\"]*\"|\"fetched_at\":\"$fetched\"|" "$fixture/billing.token.json")
put billing/token "$token_item"
old_token=$(sed 's/.*"access_token":"\([^"]*\)".*/\1/' "$fixture/billing.token.json")
[[ $old_token == eyJ* ]] || fail "no access token in $fixture/billing.token.json"

T=("$WORK/tokentray" --config "$C")
list=$("${T[@]}" list --json 2>"$WORK/list.err") || fail "list --json: $(cat "$WORK/list.err")"
flat=$(tr -d ' \n' <<<"$list")
for want in '"name":"billing","client_id":"m2m-client-test-upgrade1"' \
  '"scopes":["models:read","chat:invoke"],"auth_style":"auto"' \
  '"name":"reports","client_id":"m2m-client-live-upgrade2"' \
  '"auth_style":"body","audience":"https://api.example.com"' \
  "\"token_expires_at\":\"$expiry\"" \
  '"secret_set_at":"2026-11-30T17:28:54.390659458Z"' '"secret_set_at":"2026-11-30T17:28:56.112665589Z"'; do
  [[ $flat == *"$want"* ]] || fail "list --json lacks $want: $list"
done

got=$("${T[@]}" token billing 2>"$WORK/token.err") || fail "token billing: $(cat "$WORK/token.err")"
[[ $got == "$old_token" ]] || fail "token billing did not print the token 0.1.0 cached (got ${#got} characters starting ${got:0:12})"

"${T[@]}" refresh billing 2>"$WORK/refresh.err" || fail "refresh billing with 0.1.0's secret: $(cat "$WORK/refresh.err")"
new=$("${T[@]}" token billing 2>"$WORK/token2.err") || fail "token billing after refresh: $(cat "$WORK/token2.err")"
[[ $new == eyJ* && $new != "$old_token" ]] || fail "refresh billing did not store a new token"

for item in billing/secret reports/secret; do
  [[ -n $(secret-tool lookup service io.github.tokentray username "$item") ]] || fail "the keyring item $item is gone"
done
"${T[@]}" list --json >/dev/null 2>"$WORK/list2.err" || fail "list --json after the upgrade: $(cat "$WORK/list2.err")"
schema=$(sed -n 's/^ *"schema": *\([0-9]*\).*/\1/p' "$C/clients.json")
if [[ $schema != 1 ]]; then
  [[ -f $C/clients.json.bak ]] && cmp -s "$C/clients.json.bak" <(sed "s|http://127.0.0.1:[0-9]*/oauth2/token|$url|" "$fixture/clients.json") ||
    fail "clients.json moved to schema $schema without keeping the 0.1.0 file as clients.json.bak"
fi

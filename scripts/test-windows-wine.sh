#!/usr/bin/env bash
# test-windows-wine.sh: the Windows command line (tokentray.exe, windows/amd64,
# CGO off) run under Debian's wine64 against the embedded demo server, with
# secrets and tokens in the Credential Manager Wine implements (go-keyring's
# Windows backend: CredWriteW/CredReadW/CredDeleteW).
#
# It adds a client (secret on stdin), gets a token twice (the second from the
# cached one), refuses a wrong new secret while keeping the good one, removes
# the client, and checks Wine's registry: the secret and token items exist
# while the client does, hold no plaintext secret, and are gone after remove.
#
# Wine 8.0 (Debian 12) lacks bcryptprimitives.dll, which Go's Windows runtime
# needs for ProcessPrng: tools/wine/bcryptprimitives.c supplies that one
# export (over RtlGenRandom) in the throw-away prefix's system32.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
fail() { echo "test-windows-wine: FAIL: $*" >&2; exit 1; }
say() { echo "test-windows-wine: $*"; }

WINE=/usr/lib/wine/wine64
[[ -x $WINE ]] || fail "wine64 is not installed (scripts/setup-debian.sh --tests installs it)"
command -v x86_64-w64-mingw32-gcc >/dev/null || fail "x86_64-w64-mingw32-gcc is not installed (gcc-mingw-w64-x86-64)"

tmp=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  WINEPREFIX=$tmp/prefix /usr/lib/wine/wineserver -k 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

start=$SECONDS
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -trimpath -o "$tmp/tokentray.exe" . || fail "go build for windows/amd64"
go build -o "$tmp/testserver" ./demoserver/cmd/testserver || fail "go build ./demoserver/cmd/testserver"
x86_64-w64-mingw32-gcc -shared -O2 -o "$tmp/bcryptprimitives.dll" \
  tools/wine/bcryptprimitives.c tools/wine/bcryptprimitives.def -ladvapi32 || fail "building the ProcessPrng shim"

export WINEPREFIX=$tmp/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
"$WINE" wineboot --init >"$tmp/wineboot.log" 2>&1 || { cat "$tmp/wineboot.log" >&2; fail "wineboot --init"; }
/usr/lib/wine/wineserver -w
cp "$tmp/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
say "Wine prefix ready ($((SECONDS - start)) s)"

secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
"$tmp/testserver" -url-file "$tmp/url" -client "wine-ci:$secret:read,write" >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do [[ -s $tmp/url ]] && break; sleep 0.1; done
[[ -s $tmp/url ]] || fail "the demo server did not start: $(cat "$tmp/server.log")"
url=$(cat "$tmp/url")

tt() { "$WINE" "$tmp/tokentray.exe" --config 'C:\tokentray' "$@"; }
reg=$WINEPREFIX/user.reg
items() { # the Credential Manager items of client ci in Wine's registry, once wineserver has written it
  /usr/lib/wine/wineserver -w
  grep -o 'Credential Manager\\\\Generic: io\.github\.tokentray:ci/[a-z-]*' "$reg" | sed 's/.*://' | sort | tr '\n' ' '
}

printf %s "$secret" | tt add ci --token-url "$url" --client-id wine-ci --scope read >"$tmp/add.out" 2>&1 ||
  fail "add: $(cat "$tmp/add.out")"
grep -q 'granted scopes: read' "$tmp/add.out" || fail "add did not report the granted scope: $(cat "$tmp/add.out")"
first=$(tt token ci) || fail "token"
[[ $first =~ ^[A-Za-z0-9._~+/-]+=*$ ]] || fail "token printed something that is not a bearer token"
second=$(tt token ci) || fail "token (second)"
[[ $first == "$second" ]] || fail "the second token was not the cached one"
tt list --json | grep -q '"client_id": *"wine-ci"' || fail "list --json does not show the client"
[[ $(items) == "ci/secret ci/token " ]] || fail "Credential Manager items after add: '$(items)', want ci/secret and ci/token"
grep -rqF -- "$secret" "$WINEPREFIX" && fail "the secret is in plaintext under the Wine prefix"

# A wrong new secret is refused by the server and the good one stays.
code=0
printf %s "wrong-$secret" | tt set-secret ci >"$tmp/set.out" 2>&1 || code=$?
((code != 0)) || fail "set-secret with a wrong secret succeeded"
grep -qF -- "$secret" "$tmp/set.out" && fail "set-secret's error shows the secret"
tt refresh ci >/dev/null 2>"$tmp/refresh.err" || fail "refresh with the kept secret: $(cat "$tmp/refresh.err")"
third=$(tt token ci) || fail "token after refresh"
[[ $third != "$first" ]] || fail "refresh did not store a new token"

tt remove ci --yes >/dev/null 2>&1 || fail "remove"
[[ -z $(items) ]] || fail "Credential Manager items left after remove: $(items)"
code=0
tt token ci >/dev/null 2>"$tmp/gone.err" || code=$?
((code != 0)) || fail "token of a removed client succeeded"
say "passed: add, token (cached), wrong secret refused, refresh, remove under wine64 with its Credential Manager ($((SECONDS - start)) s)"

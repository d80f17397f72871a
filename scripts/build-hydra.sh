#!/usr/bin/env bash
# build-hydra.sh builds Ory Hydra (a real OAuth 2.0 server, used by the
# integration tests in refresher/ through package hydratest) from the separate
# Go module tools/hydra into ./bin/hydra.
#
# Idempotent: it does nothing when the binary exists and is newer than
# tools/hydra/go.sum (and go.mod). Cold build: about 80-150 s on 2 cores (cgo
# sqlite); a warm rebuild takes seconds.
#
# Usage: scripts/build-hydra.sh [-f]    (-f rebuilds unconditionally)
# Env:   OUT   output path (default: <repo>/bin/hydra)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$root/bin/hydra}"
mod="$root/tools/hydra"
force=0
[[ "${1:-}" == "-f" ]] && force=1

if [[ $force -eq 0 && -x "$OUT" && "$OUT" -nt "$mod/go.sum" && "$OUT" -nt "$mod/go.mod" ]]; then
	echo "build-hydra: $OUT is up to date (newer than tools/hydra/go.sum)"
	exit 0
fi

mkdir -p "$(dirname "$OUT")"
echo "build-hydra: building $OUT from tools/hydra (cold: about 80-150 s)"
start=$SECONDS
# -mod=readonly: go.mod/go.sum are complete and must not change during a build.
# The version Hydra reports is the one tools/hydra/go.mod pins.
version="$(cd "$mod" && go list -m -f '{{.Version}}' github.com/ory/hydra/v2)"
(cd "$mod" && CGO_ENABLED=1 go build -mod=readonly -trimpath \
	-ldflags "-X github.com/ory/hydra/v2/driver/config.Version=$version" \
	-tags sqlite,sqlite_omit_load_extension -o "$OUT.tmp" github.com/ory/hydra/v2)
mv -f "$OUT.tmp" "$OUT"
echo "build-hydra: built $OUT in $((SECONDS - start)) s ($("$OUT" version 2>/dev/null | grep -m1 -i version || echo 'version unknown'))"

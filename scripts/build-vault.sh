#!/usr/bin/env bash
# build-vault.sh builds a HashiCorp Vault server (used by the team-source
# integration tests through package hcvaultdev) from the separate Go module
# tools/vault into ./bin/vault.
#
# Vault v1.21.4's tagged source disagrees in three lines with the sdk version
# its own go.mod requires, so the module's source is copied out of the module
# cache into tools/vault/vault-src (regenerated on every build, not in git),
# patched with three seds (each checked: a changed upstream fails loudly) and
# used through the replace in tools/vault/go.mod. -tags minimal is Vault's own
# build option: no cloud storage backends or extra plugins; the KV secrets
# engine, in-memory storage, userpass and approle stay.
#
# Idempotent: it does nothing when the binary exists and is newer than
# tools/vault/go.sum, go.mod and this script. Cold build: about 4.5 min on 2
# idle cores (7+ under load), 3.3 GB peak compiler memory, about 3 GB of module
# cache; a warm rebuild takes about a minute (linking a 139 MB binary).
#
# Usage: scripts/build-vault.sh [-f]    (-f rebuilds unconditionally)
# Env:   OUT   output path (default: <repo>/bin/vault)
set -euo pipefail
export LANG=en_US.UTF-8

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$root/bin/vault}"
mod="$root/tools/vault"
self="$root/scripts/build-vault.sh"
version=v1.21.4
force=0
[[ "${1:-}" == "-f" ]] && force=1

if [[ $force -eq 0 && -x "$OUT" && "$OUT" -nt "$mod/go.sum" && "$OUT" -nt "$mod/go.mod" && "$OUT" -nt "$self" ]]; then
	echo "build-vault: $OUT is up to date (newer than tools/vault/go.sum)"
	exit 0
fi

if ! grep -qF "github.com/hashicorp/vault $version" "$mod/go.mod"; then
	echo "build-vault: tools/vault/go.mod does not require github.com/hashicorp/vault $version: update this script's version and patches together with it" >&2
	exit 1
fi

export CGO_ENABLED=0
mkdir -p "$(dirname "$OUT")"
echo "build-vault: building $OUT from tools/vault (Vault $version; cold: about 5-8 min, 3.3 GB RAM)"
start=$SECONDS

# The pristine module source (downloaded if missing; go.sum verifies it).
dir="$(cd "$mod" && go mod download -json "github.com/hashicorp/vault@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "$dir" || ! -f "$dir/go.mod" ]]; then
	echo "build-vault: could not download github.com/hashicorp/vault@$version" >&2
	exit 1
fi
src="$mod/vault-src"
rm -rf "$src"
cp -r "$dir" "$src"
chmod -R u+w "$src"

# patch FILE SED FROM: apply the sed expression SED to FILE, which must hold
# the fixed string FROM exactly once before and not at all after.
patch() {
	local file="$src/$1" expr="$2" from="$3" n
	n="$(grep -cF -- "$from" "$file" || true)"
	if [[ "$n" != 1 ]]; then
		echo "build-vault: patch of $1: expected the line once, found it $n times (did the Vault version change?)" >&2
		exit 1
	fi
	sed -i "$expr" "$file"
	n="$(grep -cF -- "$from" "$file" || true)"
	if [[ "$n" != 0 ]]; then
		echo "build-vault: patch of $1 did not apply" >&2
		exit 1
	fi
}
patch builtin/logical/transit/path_restore.go \
	's/restoredKeyName, err := b.lm.RestorePolicy(/restoredKeyName := keyName; err := b.lm.RestorePolicy(/' \
	'restoredKeyName, err := b.lm.RestorePolicy('
patch vault/identity_store.go \
	's/ActivationFunc: iStore.activateDeduplication,/ActivationFunc: func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },/' \
	'ActivationFunc: iStore.activateDeduplication,'
patch vault/logical_system_activation_flags.go \
	's/b.idStoreBackend.ActivationFunc(ctx, nil)/b.idStoreBackend.ActivationFunc(ctx, nil, "")/' \
	'b.idStoreBackend.ActivationFunc(ctx, nil)'

# -mod=readonly: go.mod/go.sum are complete and must not change during a build.
(cd "$mod" && go build -mod=readonly -trimpath -ldflags "-s -w" -tags minimal -o "$OUT.tmp" github.com/hashicorp/vault)
mv -f "$OUT.tmp" "$OUT"
echo "build-vault: built $OUT in $((SECONDS - start)) s ($("$OUT" version 2>/dev/null || echo 'version unknown'))"

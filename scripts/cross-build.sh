#!/usr/bin/env bash
# cross-build.sh: Tokentray builds for Windows and macOS, from Debian:
#   - tokentray (the command line, CGO_ENABLED=0) for windows/amd64,
#     darwin/amd64 and darwin/arm64;
#   - go vet of every package that does not link Fyne, for those targets;
#   - tokentray-gui.exe for windows/amd64 with cgo through mingw-w64
#     (CC=x86_64-w64-mingw32-gcc, Debian gcc-mingw-w64-x86-64). Its first
#     build is cold (Fyne's GLFW C code for Windows): minutes.
# The macOS window (tokentray-gui) needs Apple's SDK and is not built here; its
# build-tagged code is compiled as part of `go vet` where it has no cgo.
# Outputs go to OUT_DIR (default: a temporary directory, removed).
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export PATH=$PATH:/usr/local/go/bin
fail() { echo "cross-build: FAIL: $*" >&2; exit 1; }
if [[ -n ${OUT_DIR:-} ]]; then
  out=$OUT_DIR
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

for target in windows/amd64 darwin/amd64 darwin/arm64; do
  os=${target%/*} arch=${target#*/}
  exe=tokentray-$os-$arch
  [[ $os == windows ]] && exe+=.exe
  t=$SECONDS
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -o "$out/$exe" . || fail "tokentray for $target"
  # The packages that do not link Fyne (the GUI ones need cgo or an SDK).
  pkgs=$(CGO_ENABLED=0 GOOS=$os GOARCH=$arch go list -e -f '{{.ImportPath}}{{range .Deps}} {{.}}{{end}}' ./... |
    awk '!/ fyne\.io\/fyne\/v2( |$)/ {print $1}')
  [[ -n $pkgs ]] || fail "no non-GUI packages for $target"
  # shellcheck disable=SC2086
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go vet $pkgs || fail "go vet for $target"
  echo "cross-build: tokentray and go vet of $(wc -w <<<"$pkgs") packages for $target ($((SECONDS - t)) s)"
done

command -v x86_64-w64-mingw32-gcc >/dev/null ||
  fail "x86_64-w64-mingw32-gcc is not installed (scripts/setup-debian.sh --tests installs gcc-mingw-w64-x86-64)"
t=$SECONDS
CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc GOOS=windows GOARCH=amd64 \
  go build -trimpath -ldflags "-H=windowsgui" -o "$out/tokentray-gui.exe" ./cmd/tokentray-gui ||
  fail "tokentray-gui.exe for windows/amd64 with mingw-w64"
head -c 2 "$out/tokentray-gui.exe" | grep -q MZ || fail "tokentray-gui.exe is not a Windows executable"
echo "cross-build: tokentray-gui.exe for windows/amd64 with mingw-w64 ($((SECONDS - t)) s)"

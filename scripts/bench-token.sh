#!/usr/bin/env bash
# bench-token.sh: the warm `tokentray token NAME` (from a real gnome-keyring,
# and through the running app's agent) against the file-read floor. The
# measurement is scripts/bench.sh's (one floor, one set-up); this runs its
# token, version and agent parts:
#   scripts/bench-token.sh [--quick]
# Its earlier, stand-alone version also timed a cli-only binary (the same as
# bin/tokentray since that links no Fyne) and `secret-tool lookup` of the same
# item; docs/PERFORMANCE.md keeps those figures, and git history the script.
set -euo pipefail
export LANG=en_US.UTF-8
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/scripts/bench.sh" --only token,version,agent "$@"

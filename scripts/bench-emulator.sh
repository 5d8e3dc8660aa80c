#!/usr/bin/env bash
# Benchmark: requests and wall time of `orgctl plan` on a 500-account organization (20 OUs,
# 5 SCPs) in the local emulator, against the request budget
#   2 + Σ pages(ListOrganizationalUnitsForParent, ListAccountsForParent) + (R−1) + A + P
#     + type pages + 2P
# (R roots and OUs, A accounts, P policies). Usage: scripts/bench-emulator.sh [ACCOUNTS]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
cargo build --locked --release --quiet --bin orgctl
./scripts/emulator.sh install >/dev/null
trap './scripts/emulator.sh stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
WORK="$(mktemp -d)"
./scripts/emulator.sh stop >/dev/null 2>&1 || true
eval "$(./scripts/emulator.sh start 2>/dev/null)"
echo "seeding $N accounts ..." >&2
.venv-moto/bin/python scripts/seed_scale.py --accounts "$N" --out "$WORK/desired" >&2
for run in 1 2 3; do
  start=$EPOCHREALTIME
  ./target/release/orgctl plan "$WORK/desired" --detailed-exitcode -v >"$WORK/plan.txt" 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" "$WORK/plan.txt" >&2; exit 1; }
  end=$EPOCHREALTIME
  total=$(grep -o 'AWS requests: [0-9]*' "$WORK/stderr.txt" | grep -o '[0-9]*$')
  printf 'run %d: %s requests, %.2f s\n' "$run" "$total" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')"
done
echo "per operation (last run):"
sed -n '/AWS requests/,$p' "$WORK/stderr.txt"

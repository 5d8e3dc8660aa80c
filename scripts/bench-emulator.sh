#!/usr/bin/env bash
# Benchmark: requests and wall time of `orgctl plan` on a 500-account organization (20 OUs,
# 5 SCPs) in the local emulator, against the request budget
#   2 + Σ pages(ListOrganizationalUnitsForParent, ListAccountsForParent) + (R−1) + A + P
#     + type pages + 2P
# (R roots and OUs, A accounts, P policies). With --grants, two partner grants on 50 accounts
# (scripts/seed_scale.py --grants) are applied once first, so the plan also reads real grant
# roles; the IAM part of the budget is
#   A_members × (1 AssumeRole + ListRoles pages)
#     + Σ roles under /orgctl/ × (GetRole + ListAttachedRolePolicies + ListRolePolicies + inline)
# `-v` prints the requests per operation and how long the organization and IAM reads took.
# Usage: scripts/bench-emulator.sh [--grants] [ACCOUNTS]
set -euo pipefail
cd "$(dirname "$0")/.."
GRANTS=()
if [ "${1:-}" = --grants ]; then GRANTS=(--grants); shift; fi
N="${1:-500}"
cargo build --locked --release --quiet --bin orgctl
./scripts/emulator.sh install >/dev/null
trap './scripts/emulator.sh stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
WORK="$(mktemp -d)"
./scripts/emulator.sh stop >/dev/null 2>&1 || true
eval "$(./scripts/emulator.sh start 2>/dev/null)"
echo "seeding $N accounts ..." >&2
.venv-moto/bin/python scripts/seed_scale.py --accounts "$N" "${GRANTS[@]}" --out "$WORK/desired" >&2
if [ ${#GRANTS[@]} -gt 0 ]; then
  echo "applying the grants (creates their roles) ..." >&2
  ./target/release/orgctl apply "$WORK/desired" --auto-approve >"$WORK/apply.txt" 2>&1 || { cat "$WORK/apply.txt" >&2; exit 1; }
fi
for run in 1 2 3; do
  start=$EPOCHREALTIME
  ./target/release/orgctl plan "$WORK/desired" --detailed-exitcode -v >"$WORK/plan.txt" 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" "$WORK/plan.txt" >&2; exit 1; }
  end=$EPOCHREALTIME
  total=$(grep -o 'AWS requests: [0-9]*' "$WORK/stderr.txt" | grep -o '[0-9]*$')
  printf 'run %d: %s requests, %.2f s\n' "$run" "$total" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')"
  grep -o 'read the organization in .*' "$WORK/stderr.txt" | sed 's/^/  /' || true
done
echo "per operation (last run):"
sed -n '/AWS requests/,$p' "$WORK/stderr.txt"

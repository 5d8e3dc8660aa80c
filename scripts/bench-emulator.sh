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
# `-v` prints the requests per operation and how long the organization and IAM reads took;
# `/usr/bin/time -v` gives each run's peak RSS (issue 9: under 50 MiB for 500 accounts).
# With --import, `orgctl import` is timed instead of `orgctl plan` (the same reads; IAM is
# read through orgctl's read role first, so each account without it costs one AssumeRole
# more), and the plan from the imported files must be empty (exit 0).
# With --scale5000, the organization of issue 9 (scripts/seed_scale.py --scale5000: 5,000
# accounts in 100 OUs, 5 SCPs; the YAML manages 50 accounts, by id, in 5 OUs, with a grant on
# 20 of them, applied once first): `plan` reads only what the YAML manages (the scoped read,
# docs/performance.md); the requests are checked to be under 400.
# Usage: scripts/bench-emulator.sh [--grants] [--import] [--scale5000] [ACCOUNTS]
set -euo pipefail
cd "$(dirname "$0")/.."
GRANTS=()
IMPORT=
if [ "${1:-}" = --grants ]; then GRANTS=(--grants); shift; fi
if [ "${1:-}" = --import ]; then IMPORT=1; shift; fi
SCALE=
if [ "${1:-}" = --scale5000 ]; then SCALE=1; GRANTS=(--scale5000); shift; fi
if [ -n "$SCALE" ]; then N="${1:-5000}"; else N="${1:-500}"; fi
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
  start=$EPOCHREALTIME
  ./target/release/orgctl apply "$WORK/desired" --auto-approve -v >"$WORK/apply.txt" 2>&1 || { cat "$WORK/apply.txt" >&2; exit 1; }
  printf 'apply: %s requests, %.2f s\n' "$(grep -o 'AWS requests: [0-9]*' "$WORK/apply.txt" | grep -o '[0-9]*$' | tail -1)" \
    "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{print b-a}')"
fi
for run in 1 2 3; do
  start=$EPOCHREALTIME
  if [ -n "$IMPORT" ]; then
    /usr/bin/time -v -o "$WORK/time.txt" ./target/release/orgctl import --out "$WORK/imported-$run" -v >"$WORK/plan.txt" 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" >&2; exit 1; }
  else
    /usr/bin/time -v -o "$WORK/time.txt" ./target/release/orgctl plan "$WORK/desired" --detailed-exitcode -v >"$WORK/plan.txt" 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" "$WORK/plan.txt" >&2; exit 1; }
  fi
  end=$EPOCHREALTIME
  total=$(grep -o 'AWS requests: [0-9]*' "$WORK/stderr.txt" | grep -o '[0-9]*$')
  rss=$(awk '/Maximum resident set size/ {print $NF}' "$WORK/time.txt")
  printf 'run %d: %s requests, %.2f s, peak RSS %.1f MiB\n' "$run" "$total" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
  grep -o 'read the organization in .*' "$WORK/stderr.txt" | sed 's/^/  /' || true
done
echo "per operation (last run):"
sed -n '/AWS requests/,$p' "$WORK/stderr.txt"
if [ -n "$SCALE" ]; then
  [ "$total" -lt 400 ] || { echo "plan made $total requests, not under 400" >&2; exit 1; }
  echo "under 400 requests: $total"
fi
if [ -n "$IMPORT" ]; then
  diff -r "$WORK/imported-1" "$WORK/imported-3" >&2 \
    || { echo "two imports of the same organization differ" >&2; exit 1; }
  ./target/release/orgctl plan "$WORK/imported-1" --detailed-exitcode >"$WORK/plan.txt" 2>&1 \
    || { echo "the plan from the imported files is not empty:" >&2; cat "$WORK/plan.txt" >&2; exit 1; }
  echo "the plan from the imported files is empty; two imports are byte-identical"
fi

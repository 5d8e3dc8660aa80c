#!/usr/bin/env bash
# Benchmark: `orgctl plan` on the 500-account organization of scripts/bench-emulator.sh
# (scripts/seed_scale.py: 20 OUs, 5 SCPs) through the project's fault proxy
# (crates/orgctl-faultproxy, the same code the emulator tests use) in front of the emulator:
#   (a) 50 ms added to every request:   the default --concurrency next to --concurrency 1
#   (b) a token bucket of 10 requests/s (bursts of 10) answering
#       `TooManyRequestsException: Rate exceeded` beyond it: the default --concurrency next to
#       --concurrency 1, and the limit requests / 10 s
# Per case: requests (HTTP attempts orgctl made, minus its retries), retried requests (orgctl's
# `-v` count; the proxy's count of throttled requests must agree), wall time, the limit.
# Targets (issue 9): (a) wall time ≤ 1/4 of the sequential read's; (b) wall time ≤ 1.25 × the
# limit, retried requests ≤ 10 % of the requests, and no failure. Exits 1 when one is missed.
# Usage: scripts/bench-rate.sh [ACCOUNTS] [CASE...]   (CASE: a-seq a-conc b-seq b-conc ab-conc;
#                                                      default: all but b-seq)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
shift || true
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(a-seq a-conc b-conc ab-conc)
LATENCY_MS=50
RATE=10
cargo build --locked --release --quiet -p orgctl -p orgctl-faultproxy --bins
./scripts/emulator.sh install >/dev/null
WORK="$(mktemp -d)"
export ORGCTL_RUN_DIR="$WORK/run"
PROXY_PID=
# shellcheck disable=SC2329  # called by the EXIT trap
cleanup() {
  [ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null || true
  ./scripts/emulator.sh stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(./scripts/emulator.sh start 2>/dev/null)"
UPSTREAM="${AWS_ENDPOINT_URL#http://}"
echo "seeding $N accounts ..." >&2
.venv-moto/bin/python scripts/seed_scale.py --accounts "$N" --out "$WORK/desired" >&2

# run CASE PROXY_ARGS... -- ORGCTL_ARGS...: one plan through a fresh proxy; prints a table row.
run() {
  local name="$1"; shift
  local proxy_args=()
  while [ "$1" != -- ]; do proxy_args+=("$1"); shift; done
  shift
  ./target/release/orgctl-faultproxy --upstream "$UPSTREAM" "${proxy_args[@]}" >"$WORK/proxy.url" &
  PROXY_PID=$!
  for _ in $(seq 1 100); do [ -s "$WORK/proxy.url" ] && break; sleep 0.05; done
  local url; url="$(head -n1 "$WORK/proxy.url")"
  local start end code=0
  start=$EPOCHREALTIME
  AWS_ENDPOINT_URL="$url" ./target/release/orgctl plan "$WORK/desired" --detailed-exitcode -v "$@" \
    >"$WORK/plan.txt" 2>"$WORK/$name.stderr" || code=$?
  end=$EPOCHREALTIME
  local stats; stats="$(curl -sf "$url/_faultproxy/stats")"
  kill "$PROXY_PID" 2>/dev/null || true
  wait "$PROXY_PID" 2>/dev/null || true
  PROXY_PID=
  local attempts retries throttled secs
  attempts=$(grep -o 'AWS requests: [0-9]*' "$WORK/$name.stderr" | grep -o '[0-9]*$' || echo 0)
  retries=$(grep -o 'AWS retries: [0-9]*' "$WORK/$name.stderr" | grep -o '[0-9]*$' || echo 0)
  throttled=$(echo "$stats" | .venv-moto/bin/python -c 'import json,sys; print(json.load(sys.stdin)["rate_limited"])')
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')
  local requests=$((attempts - retries))
  local limit; limit=$(awk -v r="$requests" -v q="$RATE" 'BEGIN{printf "%.1f", r/q}')
  printf '| %s | %s | %d | %d | %d | %s s | %s s | %d |\n' \
    "$name" "$*" "$requests" "$retries" "$throttled" "$secs" "$limit" "$code"
  echo "$name $requests $retries $throttled $secs $limit $code" >>"$WORK/results"
  if [ "$code" != 0 ]; then
    echo "$name: plan exited $code" >&2
    tail -n 30 "$WORK/$name.stderr" >&2
  fi
}

echo "| case | orgctl flags | requests | retried | throttled by the proxy | wall time | requests / $RATE s | exit |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
  case "$c" in
    a-seq) run a-seq --latency-ms "$LATENCY_MS" -- --concurrency 1 ;;
    a-conc) run a-conc --latency-ms "$LATENCY_MS" -- ;;
    b-seq) run b-seq --rate "$RATE" --burst "$RATE" -- --concurrency 1 ;;
    b-conc) run b-conc --rate "$RATE" --burst "$RATE" -- ;;
    ab-conc) run ab-conc --latency-ms "$LATENCY_MS" --rate "$RATE" --burst "$RATE" -- ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
done
echo "per operation (last case):"
sed -n '/AWS requests/,$p' "$WORK/${CASES[-1]}.stderr"
# The targets.
fail=0
get() { awk -v c="$1" -v f="$2" '$1 == c {print $f}' "$WORK/results"; }
if [ -n "$(get a-seq 5)" ] && [ -n "$(get a-conc 5)" ]; then
  if awk -v s="$(get a-seq 5)" -v c="$(get a-conc 5)" 'BEGIN{exit !(c * 4 <= s)}'; then
    echo "(a) met: $(get a-conc 5) s ≤ $(get a-seq 5) s / 4"
  else
    echo "(a) MISSED: $(get a-conc 5) s > $(get a-seq 5) s / 4"; fail=1
  fi
fi
for c in b-conc ab-conc; do
  [ -n "$(get $c 5)" ] || continue
  read -r _ requests retries _ secs limit code < <(grep "^$c " "$WORK/results")
  if [ "$code" = 0 ] && awk -v t="$secs" -v l="$limit" -v r="$retries" -v n="$requests" \
       'BEGIN{exit !(t <= 1.25 * l && r * 10 <= n)}'; then
    echo "($c) met: $secs s ≤ 1.25 × $limit s, $retries retried of $requests, exit 0"
  else
    echo "($c) MISSED: $secs s vs 1.25 × $limit s, $retries retried of $requests, exit $code"
    fail=1
  fi
done
exit "$fail"

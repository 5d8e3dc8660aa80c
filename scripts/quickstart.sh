#!/usr/bin/env bash
# The main job, end to end, on a fresh machine (Rust and Python 3, nothing else):
#   1. builds orgctl and installs the pinned AWS emulator (moto) into .venv-moto;
#   2. starts the emulator on a free loopback port;
#   3. seeds an organization that looks hand-built (accounts in the wrong OU, a stale tag, an
#      SCP with another document, an unrelated OU orgctl must leave alone);
#   4. orgctl plan      -> access changes first (the partner's and the auditor's grants, SCPs),
#                          then creates, moves, updates and adoptions
#      orgctl apply --auto-approve   (the grants' IAM roles in the member accounts too)
#      orgctl plan --detailed-exitcode -> no changes (exit 0)
#      orgctl access     -> who can reach each account, and how (grants, root emails)
#   5. stops the emulator (also when a step fails).
#
# ORGCTL_BIN=path/to/orgctl skips the build and runs that binary (the quick start's test).
set -euo pipefail
cd "$(dirname "$0")/.."

# Bold headings only on a terminal (a log file gets plain text).
if [ -t 2 ]; then
  step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  step() { printf '\n==> %s\n' "$*" >&2; }
fi

if [ -n "${ORGCTL_BIN:-}" ]; then
  ORGCTL="$ORGCTL_BIN"
else
  step "building orgctl"
  cargo build --locked --quiet --bin orgctl
  ORGCTL="$PWD/target/debug/orgctl"
fi

step "installing the AWS emulator (moto, pinned) into .venv-moto"
./scripts/emulator.sh install

step "starting the emulator"
trap './scripts/emulator.sh stop >/dev/null 2>&1 || true' EXIT
eval "$(./scripts/emulator.sh start)"
echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" >&2

step "seeding a hand-built organization (management account 123456789012)"
.venv-moto/bin/python scripts/seed_handbuilt.py >/dev/null

step "orgctl plan"
"$ORGCTL" plan

step "orgctl apply --auto-approve"
"$ORGCTL" apply --auto-approve

step "orgctl plan --detailed-exitcode (expect: no changes, exit 0)"
"$ORGCTL" plan --detailed-exitcode
echo "exit code $? - the organization matches desired-state/." >&2

step "orgctl access (who can reach each account, and how)"
"$ORGCTL" access

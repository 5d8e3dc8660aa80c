#!/usr/bin/env bash
# The CI recipes' own steps, run here against the local AWS emulator, so a broken recipe fails
# CI (.ci/run) although no CI service can be reached. The steps are read from the recipe files
# themselves (scripts/ci_recipes.py), never copied, so recipe and check cannot drift apart:
#
#   GitHub (docs/ci/github/)  the run: steps and the orgctl action's `command`, with bash as the
#                             runner runs them; the actions/github-script steps (the sticky plan
#                             comment, the drift issue) against a simulated GitHub
#                             (scripts/github-script-sim.cjs); checkout, install, credentials
#                             and artifact steps are setup and are not run
#   GitLab (docs/ci/gitlab/)  each job's `script:` (its before_script installs orgctl and turns
#                             the OIDC token into credentials: not run); the note and issue jobs
#                             against a simulated GitLab API (scripts/fake_gitlab_curl.py as curl)
#
# The story, on the quick start's hand-built organization: the pull-request plan (changes,
# exit 2, one comment), the apply after merge, the next plan (no changes, the same comment
# updated), a broken desired state (the job fails, the comment shows the errors), a failing
# plan (another organization: the job fails, the comment shows orgctl's error), the nightly
# drift check (none: no issue; a tag added by hand: one issue reporting it out-of-band, updated
# the next night; reverted
# by an apply: the issue closed); then the same on GitLab with a YAML edit (one note, updated),
# its apply, a broken state and the scheduled drift check.
#
#   scripts/ci-steps.sh          builds orgctl (debug) unless ORGCTL_BIN names a binary;
#                                ORGCTL_CI_STEPS_KEEP=1 keeps the work directory to look at
#
# Needs scripts/ci-tools.sh install (its Python reads the YAML; fails when missing) and the
# emulator (installed here like the quick start does). Each run uses its own emulator and
# temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="$ROOT/.venv-tools/bin/python"

die() { echo "ci-steps.sh: $*" >&2; exit 1; }
say() { printf '\n==> %s\n' "$*" >&2; }
[ -x "$PY" ] || die "the CI tools are not installed: run scripts/ci-tools.sh install"
command -v node >/dev/null || die "node is required (the github-script steps)"
command -v jq >/dev/null || die "jq is required (the GitLab recipe uses it)"

if [ -n "${ORGCTL_BIN:-}" ]; then
  ORGCTL="$ORGCTL_BIN"
else
  cargo build --locked --quiet --bin orgctl
  ORGCTL="$ROOT/target/debug/orgctl"
fi
./scripts/emulator.sh install >/dev/null

WORK="$(mktemp -d)"
export ORGCTL_RUN_DIR="$WORK/run"   # this run's own emulator
cleanup() {
  ./scripts/emulator.sh stop >/dev/null 2>&1 || true
  if [ -n "${ORGCTL_CI_STEPS_KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
eval "$(./scripts/emulator.sh start 2>/dev/null)"
.venv-moto/bin/python scripts/seed_handbuilt.py >/dev/null
export ORGCTL_TODAY="${ORGCTL_TODAY:-2026-11-27}" NO_COLOR=1

# `orgctl` and the simulated GitLab's `curl` on PATH, as the recipes expect.
mkdir -p "$WORK/bin"
ln -s "$ORGCTL" "$WORK/bin/orgctl"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$PY" "$ROOT/scripts/fake_gitlab_curl.py" >"$WORK/bin/curl"
chmod +x "$WORK/bin/curl"
export PATH="$WORK/bin:$PATH"

# expect CODE COMMAND...: runs the command, fails unless it exits with CODE; its stdout (the
# recipe runner's JSON outputs) is kept in $OUT.
expect() {
  local want="$1" got=0
  shift
  OUT="$("$@")" || got=$?
  [ "$got" = "$want" ] || die "expected exit $want, got $got: $*"
}
check() {  # check DESCRIPTION TEST...
  local what="$1"
  shift
  "$@" || die "check failed: $what"
  echo "ok: $what" >&2
}

# edit_out_of_band ACCOUNT: adds a tag to that account in the emulator, as a console edit would.
edit_out_of_band() {
  "$ROOT/.venv-moto/bin/python" - "$1" <<'PY' || die "the out-of-band edit failed"
import sys
import boto3
org = boto3.client("organizations", region_name="us-east-1")
accounts = [a for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
account = next(a for a in accounts if a["Name"] == sys.argv[1])
org.tag_resource(ResourceId=account["Id"], Tags=[{"Key": "edited-by", "Value": "console"}])
PY
}

# --- GitHub Actions ----------------------------------------------------------------------
GH="$WORK/github"
mkdir -p "$GH"
cp -r desired-state "$GH/"
cat >"$WORK/event.json" <<'JSON'
{"repo": {"owner": "companyx", "repo": "aws-organization"}, "runId": 4242,
 "serverUrl": "https://github.test",
 "payload": {"pull_request": {"number": 17, "head": {"sha": "0123456789abcdef"}}}}
JSON
GH_STATE="$WORK/github-state.json"
github() {
  "$PY" scripts/ci_recipes.py github "docs/ci/github/$1" --workdir "$GH" --state "$GH_STATE" \
    --event "$WORK/event.json"
}
drift_issues() { jq -r "[.issues[] | select(.body | startswith(\"<!-- orgctl-drift -->\"))] | $1" "$GH_STATE"; }
comments() { jq -r "[.comments[] | select(.body | startswith(\"<!-- orgctl-plan -->\"))] | $1" "$GH_STATE"; }

say "GitHub: pull request (orgctl-plan.yml) on the hand-built organization"
expect 0 github orgctl-plan.yml
check "the plan step said: changes (exit 2)" [ "$(jq -r '.plan."exit-code"' <<<"$OUT")" = 2 ]
check "plan.json is the saved plan" jq -e '.changes | length > 0' "$GH/plan.json" >/dev/null
check "one plan comment, with the plan" [ "$(comments 'length')" = 1 ]
check "the comment shows the changes" grep -q "restrict-regions" <(comments '.[0].body')

say "GitHub: merge (orgctl-apply.yml)"
expect 0 github orgctl-apply.yml
check "the apply's summary shows the applied plan" grep -q "restrict-regions" "$GH/step-summary.md"

say "GitHub: the next push (orgctl-plan.yml): no changes, the same comment updated"
rm -f "$GH/plan.md" "$GH/plan.json"
expect 0 github orgctl-plan.yml
check "the plan step said: no changes (exit 0)" [ "$(jq -r '.plan."exit-code"' <<<"$OUT")" = 0 ]
check "still one plan comment" [ "$(jq '.comments | length' "$GH_STATE")" = 1 ]
check "the comment was updated in place" [ "$(comments '.[0].updates')" = 1 ]
body="$(comments '.[0].body')"
check "the comment is the new plan" grep -q "<!-- orgctl-plan -->" <<<"$body"
check "the comment no longer shows the changes" bash -c '! grep -q restrict-regions' <<<"$body"

say "GitHub: a broken desired state fails the job and the comment shows why"
printf 'ous:\n  - path: Workloads\n' >"$GH/desired-state/broken.yaml"
rm -f "$GH/plan.md"
expect 1 github orgctl-plan.yml
check "still one plan comment" [ "$(jq '.comments | length' "$GH_STATE")" = 1 ]
check "the comment says the desired state is invalid" grep -q "the desired state is invalid" <(comments '.[0].body')
check "and names the file" grep -q "broken.yaml" <(comments '.[0].body')
rm "$GH/desired-state/broken.yaml"

say "GitHub: a plan that fails (another organization's id) fails the job; the comment says why"
cp "$GH/desired-state/organization.yaml" "$WORK/organization.yaml"
sed -i 's/123456789012/999999999999/g' "$GH/desired-state/organization.yaml"
grep -q '"999999999999"' "$GH/desired-state/organization.yaml" || die "the organization edit did not apply"
rm -f "$GH/plan.md"
expect 1 github orgctl-plan.yml
check "the comment says the plan failed, with orgctl's error" \
  grep -q "orgctl plan failed (exit 1)" <<<"$(comments '.[0].body')"
check "and names both management accounts" grep -q "999999999999" <<<"$(comments '.[0].body')"
cp "$WORK/organization.yaml" "$GH/desired-state/organization.yaml"

say "GitHub: nightly drift (orgctl-drift.yml) on the organization as applied: no drift, no issue"
expect 0 github orgctl-drift.yml
check "the drift step said: no drift (exit 0)" [ "$(jq -r '.drift."exit-code"' <<<"$OUT")" = 0 ]
check "no drift issue" [ "$(drift_issues 'length')" = 0 ]

say "GitHub: a tag added by hand outside orgctl: drift, one issue"
edit_out_of_band companyx-sandbox
expect 0 github orgctl-drift.yml
check "the drift step said: drift (exit 2)" [ "$(jq -r '.drift."exit-code"' <<<"$OUT")" = 2 ]
check "one open drift issue" [ "$(drift_issues '[.[] | select(.state == "open")] | length')" = 1 ]
check "the issue names the edited account" grep -q "companyx-sandbox" <<<"$(drift_issues '.[0].body')"
check "as out-of-band (orgctl applied it; AWS changed since)" \
  grep -q "Drift found: 1 out-of-band, 0 expired, 0 unverifiable, 0 pending" <<<"$(drift_issues '.[0].body')"
expect 0 github orgctl-drift.yml
check "the next night: still one drift issue, updated in place" \
  [ "$(drift_issues 'length'):$(drift_issues '.[0].updates')" = 1:1 ]

say "GitHub: an apply reverts the edit; the next drift check closes the issue"
expect 0 github orgctl-apply.yml
expect 0 github orgctl-drift.yml
check "the drift step said: no drift (exit 0)" [ "$(jq -r '.drift."exit-code"' <<<"$OUT")" = 0 ]
check "the drift issue is closed" [ "$(drift_issues '.[0].state')" = closed ]
check "with a comment saying why" grep -q "No drift on" <<<"$(jq -r '.comments[-1].body' "$GH_STATE")"

say "action.yml: its cache key and command steps"
action_step() {  # action_step ID: runs that step of action.yml as the runner would
  "$PY" "$ROOT/scripts/ci_recipes.py" body "$ROOT/action.yml" "$1" >"$WORK/action-$1.sh" \
    || die "action.yml has no step $1"
  bash --noprofile --norc -eo pipefail "$WORK/action-$1.sh"
}
: >"$WORK/action-output"
GITHUB_ACTION_PATH="$ROOT" RUNNER_OS=Linux RUNNER_ARCH=X64 GITHUB_OUTPUT="$WORK/action-output" \
  action_step key
check "the cache key hashes the sources" grep -Eqx 'key=orgctl-Linux-X64-[0-9a-f]{20}' "$WORK/action-output"
# shellcheck disable=SC2016  # the command is expanded by the action's bash, as on a runner
(cd "$GH" && ORGCTL_DIR=desired-state ORGCTL_ACTION_COMMAND='orgctl validate "$ORGCTL_DIR"' action_step command) \
  || die "the action's command step failed"
echo "ok: the action runs its command" >&2
if (cd "$GH" && ORGCTL_ACTION_COMMAND='orgctl validate no-such-dir' action_step command 2>/dev/null); then
  die "the action's command step passed a failing command"
fi
echo "ok: a failing command fails the action's step" >&2

# --- GitLab CI ---------------------------------------------------------------------------
GL="$WORK/gitlab"
mkdir -p "$GL"
cp -r desired-state "$GL/"
export FAKE_GITLAB_STATE="$WORK/gitlab-state.json"
gitlab() {
  "$PY" scripts/ci_recipes.py gitlab docs/ci/gitlab/gitlab-ci.yml --workdir "$GL" \
    --set CI_API_V4_URL=https://gitlab.test/api/v4 --set CI_PROJECT_ID=42 \
    --set CI_MERGE_REQUEST_IID=7 --set CI_COMMIT_SHORT_SHA=0123456 \
    --set CI_PIPELINE_URL=https://gitlab.test/companyx/aws-organization/-/pipelines/99 \
    --set CI_JOB_URL=https://gitlab.test/companyx/aws-organization/-/jobs/1234 \
    --set CI_JOB_ID=1234 --set ORGCTL_GITLAB_TOKEN=glpat-simulated "$@"
}
gl_issues() { jq -r "[.issues[] | select(.description | startswith(\"<!-- orgctl-drift -->\"))] | $1" "$FAKE_GITLAB_STATE"; }
notes() { jq -r "[.notes[] | select(.body | startswith(\"<!-- orgctl-plan -->\"))] | $1" "$FAKE_GITLAB_STATE"; }

say "GitLab: merge request with a YAML edit (orgctl-plan, orgctl-plan-note)"
sed -i 's/      environment: production/      environment: prod/' "$GL/desired-state/accounts.yaml"
grep -q 'environment: prod$' "$GL/desired-state/accounts.yaml" || die "the YAML edit did not apply"
expect 0 gitlab --job orgctl-plan --job orgctl-plan-note
check "one plan note" [ "$(notes 'length')" = 1 ]
check "the note shows the edit" grep -q '"prod"' <(notes '.[0].body')

say "GitLab: the next push: the same note, updated"
expect 0 gitlab --job orgctl-plan --job orgctl-plan-note
check "still one plan note, updated in place" [ "$(notes 'length'):$(notes '.[0].updates')" = 1:1 ]

say "GitLab: the default branch (orgctl-apply, resource_group)"
expect 0 gitlab --job orgctl-apply
check "the apply converged (orgctl plan --detailed-exitcode: 0)" \
  bash -c "cd '$GL' && orgctl plan desired-state --detailed-exitcode >/dev/null 2>&1"

say "GitLab: a broken desired state fails the plan job; the note job still reports it"
printf 'ous:\n  - path: Workloads\n' >"$GL/desired-state/broken.yaml"
expect 1 gitlab --job orgctl-plan
expect 0 gitlab --job orgctl-plan-note
check "still one plan note, saying the desired state is invalid" \
  bash -c "[ \"\$(jq '.notes | length' '$FAKE_GITLAB_STATE')\" = 1 ] && jq -r '.notes[0].body' '$FAKE_GITLAB_STATE' | grep -q 'the desired state is invalid'"
rm "$GL/desired-state/broken.yaml"

say "GitLab: the nightly schedule (orgctl-drift, orgctl-drift-issue): no drift, no issue"
expect 0 gitlab --job orgctl-drift --job orgctl-drift-issue
check "the drift job said: no drift (exit 0)" [ "$(jq -r '.DRIFT_EXIT_CODE' <<<"$OUT")" = 0 ]
check "no drift issue" [ "$(gl_issues 'length')" = 0 ]

say "GitLab: a tag added by hand outside orgctl: one issue, updated the next night"
edit_out_of_band companyx-sandbox
expect 0 gitlab --job orgctl-drift --job orgctl-drift-issue
check "the drift job said: drift (exit 2)" [ "$(jq -r '.DRIFT_EXIT_CODE' <<<"$OUT")" = 2 ]
check "one open drift issue" [ "$(gl_issues '[.[] | select(.state == "opened")] | length')" = 1 ]
check "the issue names the edited account" grep -q "companyx-sandbox" <<<"$(gl_issues '.[0].description')"
check "as out-of-band" \
  grep -q "Drift found: 1 out-of-band, 0 expired, 0 unverifiable, 0 pending" <<<"$(gl_issues '.[0].description')"
expect 0 gitlab --job orgctl-drift --job orgctl-drift-issue
check "still one drift issue, updated in place" [ "$(gl_issues 'length'):$(gl_issues '.[0].updates')" = 1:1 ]

say "GitLab: the apply reverts it; the next drift check closes the issue"
expect 0 gitlab --job orgctl-apply
expect 0 gitlab --job orgctl-drift --job orgctl-drift-issue
check "the drift job said: no drift (exit 0)" [ "$(jq -r '.DRIFT_EXIT_CODE' <<<"$OUT")" = 0 ]
check "the drift issue is closed, with a note" \
  [ "$(gl_issues '.[0].state'):$(gl_issues '.[0].notes | length')" = closed:1 ]

say "the CI recipes' steps ran as their files say"

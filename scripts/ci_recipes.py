#!/usr/bin/env python3
"""The CI recipes (docs/ci/github/*.yml, action.yml, docs/ci/gitlab/*.yml), read as the CI
services read them, for scripts/ci-tools.sh and scripts/ci-steps.sh. Runs with .venv-tools's
Python (ruamel.yaml comes with check-jsonschema).

  ci_recipes.py trust FILE...                 the OIDC trust policies are sound
  ci_recipes.py shellcheck --shellcheck BIN FILE...
                                              every run:/script: body through shellcheck, as the
                                              runner runs it; `${{ }}` in a GitHub run: body is
                                              an error (values go through env:)
  ci_recipes.py body FILE STEP_ID             prints the run: body of the step with that id
  ci_recipes.py github WORKFLOW --workdir DIR --state FILE --event JSON [--set K=V]...
                                              runs the workflow's steps locally: run: steps and
                                              the orgctl action's `command` with bash as the
                                              runner would, actions/github-script steps against
                                              a simulated GitHub (scripts/github-script-sim.cjs,
                                              its issues and comments in --state), setup steps
                                              (checkout, credentials, artifacts) skipped
  ci_recipes.py gitlab PIPELINE --job NAME... --workdir DIR [--set K=V]...
                                              runs the jobs' `script:` in order as the runner
                                              would (before_script, which installs orgctl and
                                              sets credentials, is skipped), passing dotenv
                                              reports on to later jobs

`github` and `gitlab` print one line per step and exit with the first failing step's code (0 when
every step passed); the outputs of the steps (GITHUB_OUTPUT) are printed as JSON on the last
line of stdout.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

from ruamel.yaml import YAML

HERE = os.path.dirname(os.path.abspath(__file__))
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(path):
    with open(path, encoding="utf-8") as f:
        return YAML(typ="safe", pure=True).load(f)


def fail(msg):
    print(f"ci_recipes.py: {msg}", file=sys.stderr)
    sys.exit(1)


# --- what the runners execute --------------------------------------------------------------


def github_bodies(path):
    """(label, body) of every run: step of a workflow or composite action, and the `command`
    input of every use of the orgctl action."""
    doc = load(path)
    out = []
    if "runs" in doc:  # an action
        for i, step in enumerate(doc["runs"].get("steps", [])):
            if "run" in step:
                out.append((f"{path}: runs.steps[{i}] {step.get('name', '')}", step["run"]))
        return out
    for job_name, job in (doc.get("jobs") or {}).items():
        for i, step in enumerate(job.get("steps", [])):
            label = f"{path}: jobs.{job_name}.steps[{i}] {step.get('name', step.get('uses', ''))}"
            if "run" in step:
                out.append((label, step["run"]))
            elif is_orgctl_action(step) and (step.get("with") or {}).get("command"):
                out.append((label + " (command)", step["with"]["command"]))
    return out


def is_orgctl_action(step):
    uses = step.get("uses", "")
    return uses.split("@")[0].endswith("/orgctl") or uses == "./"


def gitlab_jobs(doc):
    """Jobs by name, `extends` resolved (one level of templates is all the recipe uses)."""
    jobs = {}
    for name, job in doc.items():
        if not isinstance(job, dict) or name in ("workflow", "variables", "default", "include"):
            continue
        merged = {}
        parents = job.get("extends", [])
        for parent in [parents] if isinstance(parents, str) else parents:
            merged.update(doc[parent])
        merged.update(job)
        jobs[name] = merged
    return jobs


def script_text(items):
    return "\n".join(items if isinstance(items, list) else [items]) + "\n"


def gitlab_bodies(path):
    out = []
    for name, job in gitlab_jobs(load(path)).items():
        for key in ("before_script", "script", "after_script"):
            if key in job:
                out.append((f"{path}: {name}.{key}", script_text(job[key])))
    return out


def bodies(path):
    doc = load(path)
    if isinstance(doc, dict) and ("jobs" in doc or "runs" in doc):
        return github_bodies(path), True
    return gitlab_bodies(path), False


# --- trust --------------------------------------------------------------------------------


def cmd_trust(files):
    problems = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            problems.append(f"{path}: not JSON: {e}")
            continue
        if doc.get("Version") != "2012-10-17":
            problems.append(f'{path}: Version must be "2012-10-17"')
        for i, st in enumerate(doc.get("Statement", [])):
            where = f"{path}: Statement[{i}]"
            fed = (st.get("Principal") or {}).get("Federated", "")
            m = re.fullmatch(r"arn:aws:iam::\d{12}:oidc-provider/(.+)", fed)
            if st.get("Effect") != "Allow" or st.get("Action") != "sts:AssumeRoleWithWebIdentity" or not m:
                problems.append(f"{where}: must Allow sts:AssumeRoleWithWebIdentity to an oidc-provider")
                continue
            provider = m.group(1)
            cond = st.get("Condition") or {}
            keys = {}
            for op, kv in cond.items():
                for k, v in kv.items():
                    keys[k] = (op, v if isinstance(v, list) else [v])
            aud = keys.get(f"{provider}:aud")
            sub = keys.get(f"{provider}:sub")
            if not aud or aud[0] != "StringEquals":
                problems.append(f"{where}: needs StringEquals {provider}:aud (the token's audience)")
            if not sub:
                problems.append(f"{where}: needs a {provider}:sub condition (which repository and ref)")
                continue
            for v in sub[1]:
                if not re.match(r"(repo:[^/*]+/[^/*:]+:|project_path:[^*:]+:)", v):
                    problems.append(f"{where}: sub {v!r} does not pin one repository or project")
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"{len(files)} trust policies: ok", file=sys.stderr)


# --- shellcheck ----------------------------------------------------------------------------


def cmd_shellcheck(shellcheck, files):
    findings = 0
    count = 0
    for path in files:
        found, is_github = bodies(path)
        for label, body in found:
            count += 1
            if is_github and "${{" in body:
                print(f"{label}: `${{{{ }}}}` in a run body (pass the value through env: instead)")
                findings += 1
                continue
            # As the runners run them: GitHub `bash -eo pipefail`, GitLab `set -eo pipefail`.
            script = "#!/usr/bin/env bash\nset -eo pipefail\n" + body
            r = subprocess.run([shellcheck, "--shell=bash", "--format=gcc", "-"],
                               input=script, capture_output=True, text=True)
            if r.returncode != 0:
                findings += 1
                for line in (r.stdout + r.stderr).splitlines():
                    m = re.match(r"-:(\d+):(\d+): (.*)", line)
                    print(f"{label}: line {int(m.group(1)) - 2}:{m.group(2)}: {m.group(3)}" if m else f"{label}: {line}")
    if findings:
        print(f"shellcheck: {findings} body(ies) with findings", file=sys.stderr)
        sys.exit(1)
    print(f"shellcheck: {count} run bodies, no findings", file=sys.stderr)


# --- running the recipes locally -----------------------------------------------------------


def substitute(value, outputs, extra):
    """An env value of a workflow: `${{ steps.ID.outputs.NAME }}` and `${{ env.NAME }}` are
    resolved; any other expression becomes `ci-steps:EXPR` (or the --set value of EXPR)."""

    def one(m):
        expr = m.group(1)
        sm = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if sm:
            return outputs.get(sm.group(1), {}).get(sm.group(2), "")
        em = re.fullmatch(r"env\.(\w+)", expr)
        if em and em.group(1) in extra:
            return extra[em.group(1)]
        return extra.get(expr, f"ci-steps:{expr}")

    return EXPR.sub(one, str(value))


def run_bash(body, env, cwd, label):
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(body)
        script = f.name
    try:
        print(f"--- {label}", file=sys.stderr, flush=True)
        # The step's stdout goes to stderr: stdout carries only the outputs' JSON.
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                              env=env, cwd=cwd, stdout=sys.stderr).returncode
    finally:
        os.unlink(script)


def read_outputs(path):
    out = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    out[k] = v
    return out


def condition_allows(cond, failed, workdir):
    """The `if:` forms the recipes use: none, always(), `always() && hashFiles('F') != ''`."""
    if cond is None:
        return not failed
    cond = str(cond)
    if "always()" not in cond and failed:
        return False
    for name in re.findall(r"hashFiles\('([^']+)'\)\s*!=\s*''", cond):
        if not os.path.exists(os.path.join(workdir, name)):
            return False
    rest = re.sub(r"always\(\)|hashFiles\('[^']+'\)\s*!=\s*''|&&|\s", "", cond)
    if rest:
        fail(f"unsupported `if:` in a recipe step: {cond}")
    return True


def cmd_github(args):
    doc = load(args.workflow)
    extra = dict(kv.split("=", 1) for kv in args.set)
    base = dict(os.environ)
    base.update({k: substitute(v, {}, extra) for k, v in (doc.get("env") or {}).items()})
    outputs = {}
    first_failure = 0
    tmp = tempfile.mkdtemp(prefix="ci-steps-gh-")
    for job_name, job in doc["jobs"].items():
        env = dict(base)
        env.update({k: substitute(v, outputs, extra) for k, v in (job.get("env") or {}).items()})
        failed = False
        for i, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {i}"
            label = f"{os.path.basename(args.workflow)} {job_name}: {name}"
            if not condition_allows(step.get("if"), failed, args.workdir):
                print(f"skipped (if): {label}", file=sys.stderr)
                continue
            step_env = dict(env)
            extra_env = {k: substitute(v, outputs, dict(extra, **env)) for k, v in (step.get("env") or {}).items()}
            step_env.update(extra_env)
            out_file = os.path.join(tmp, f"output-{i}")
            open(out_file, "w").close()
            step_env["GITHUB_OUTPUT"] = out_file
            step_env["GITHUB_STEP_SUMMARY"] = os.path.join(args.workdir, "step-summary.md")
            cwd = os.path.join(args.workdir, step.get("working-directory", "."))
            uses = step.get("uses", "")
            if "run" in step:
                code = run_bash(step["run"], step_env, cwd, label)
            elif is_orgctl_action(step):
                command = (step.get("with") or {}).get("command", "")
                if not command:
                    print(f"installed (the orgctl under test is on PATH): {label}", file=sys.stderr)
                    continue
                code = run_bash(command, step_env, cwd, label + " (orgctl action)")
            elif uses.startswith("actions/github-script@"):
                script = step["with"]["script"]
                with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as f:
                    f.write(script)
                print(f"--- {label} (github-script, simulated GitHub)", file=sys.stderr, flush=True)
                code = subprocess.run(
                    ["node", os.path.join(HERE, "github-script-sim.cjs"), f.name, args.state, args.event],
                    env=step_env, cwd=cwd, stdout=sys.stderr).returncode
                os.unlink(f.name)
            else:
                print(f"skipped (setup, not run locally): {label}", file=sys.stderr)
                continue
            if "id" in step:
                outputs[step["id"]] = read_outputs(out_file)
            print(f"{'ok' if code == 0 else f'FAILED (exit {code})'}: {label}", file=sys.stderr)
            if code != 0 and not failed:
                failed = True
                first_failure = first_failure or code
    print(json.dumps(outputs))
    sys.exit(first_failure)


def cmd_gitlab(args):
    doc = load(args.pipeline)
    jobs = gitlab_jobs(doc)
    env = dict(os.environ)
    env.update(dict(kv.split("=", 1) for kv in args.set))

    def expand(v, scope):
        return re.sub(r"\$\{?(\w+)\}?", lambda m: scope.get(m.group(1), ""), str(v))

    for k, v in (doc.get("variables") or {}).items():
        env[k] = expand(v, env)
    dotenv = {}
    for name in args.job:
        if name not in jobs:
            fail(f"{args.pipeline}: no job {name}")
        job = jobs[name]
        job_env = dict(env)
        job_env.update(dotenv)
        for k, v in (job.get("variables") or {}).items():
            job_env[k] = expand(v, job_env)
        code = run_bash(script_text(job["script"]), job_env, args.workdir, f"{os.path.basename(args.pipeline)} {name}: script")
        print(f"{'ok' if code == 0 else f'FAILED (exit {code})'}: {name}", file=sys.stderr)
        if code != 0:
            print(json.dumps(dotenv))
            sys.exit(code)
        report = ((job.get("artifacts") or {}).get("reports") or {}).get("dotenv")
        if report:
            dotenv.update(read_outputs(os.path.join(args.workdir, report)))
    print(json.dumps(dotenv))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("trust")
    t.add_argument("files", nargs="+")
    s = sub.add_parser("shellcheck")
    s.add_argument("--shellcheck", required=True)
    s.add_argument("files", nargs="+")
    g = sub.add_parser("github")
    g.add_argument("workflow")
    g.add_argument("--workdir", required=True)
    g.add_argument("--state", required=True)
    g.add_argument("--event", required=True)
    g.add_argument("--set", action="append", default=[])
    gl = sub.add_parser("gitlab")
    gl.add_argument("pipeline")
    gl.add_argument("--job", action="append", required=True)
    gl.add_argument("--workdir", required=True)
    gl.add_argument("--set", action="append", default=[])
    b = sub.add_parser("body")
    b.add_argument("file")
    b.add_argument("step_id")
    a = p.parse_args()
    if a.cmd == "body":
        doc = load(a.file)
        steps = doc["runs"]["steps"] if "runs" in doc else [s for j in doc["jobs"].values() for s in j["steps"]]
        found = [s["run"] for s in steps if s.get("id") == a.step_id and "run" in s]
        if len(found) != 1:
            fail(f"{a.file}: no single run: step with id {a.step_id}")
        sys.stdout.write(found[0])
    elif a.cmd == "trust":
        cmd_trust(a.files)
    elif a.cmd == "shellcheck":
        cmd_shellcheck(a.shellcheck, a.files)
    elif a.cmd == "github":
        cmd_github(a)
    else:
        cmd_gitlab(a)


if __name__ == "__main__":
    main()

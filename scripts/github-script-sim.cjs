// Runs the script of an actions/github-script step against a simulated GitHub, so the recipes'
// sticky plan comment and drift issue are exercised locally (scripts/ci-steps.sh).
//
//   node scripts/github-script-sim.cjs SCRIPT.js STATE.json EVENT.json
//
// STATE.json holds the simulated repository's issues, comments and labels (created when
// missing, rewritten after the run). EVENT.json gives `context` (repo, runId, serverUrl,
// payload). Only the REST calls the recipes make exist; any other call fails the script, as
// would a call the real API rejects. core.setFailed and a thrown error exit 1.
"use strict";

const fs = require("node:fs");

const [scriptPath, statePath, eventPath] = process.argv.slice(2);
const script = fs.readFileSync(scriptPath, "utf8");
const state = fs.existsSync(statePath)
  ? JSON.parse(fs.readFileSync(statePath, "utf8"))
  : { issues: [], comments: [], labels: [], next: 1 };
const event = JSON.parse(fs.readFileSync(eventPath, "utf8"));
const BOT = { login: "github-actions[bot]", type: "Bot" };

function need(params, ...keys) {
  for (const k of keys) {
    if (params[k] === undefined) throw Object.assign(new Error(`missing ${k}`), { status: 422 });
  }
  if (params.owner !== event.repo.owner || params.repo !== event.repo.repo) {
    throw Object.assign(new Error("wrong repository"), { status: 404 });
  }
}
const url = (kind, n) => `https://github.test/${event.repo.owner}/${event.repo.repo}/${kind}/${n}`;
function issue(number) {
  const i = state.issues.find((x) => x.number === number);
  if (!i) throw Object.assign(new Error(`no issue #${number}`), { status: 404 });
  return i;
}

const issues = {
  async listComments(p) {
    need(p, "issue_number");
    return { data: state.comments.filter((c) => c.issue_number === p.issue_number) };
  },
  async createComment(p) {
    need(p, "issue_number", "body");
    const c = { id: state.next++, issue_number: p.issue_number, body: p.body, user: BOT };
    c.html_url = url("issues", `${p.issue_number}#issuecomment-${c.id}`);
    state.comments.push(c);
    return { data: c };
  },
  async updateComment(p) {
    need(p, "comment_id", "body");
    const c = state.comments.find((x) => x.id === p.comment_id);
    if (!c) throw Object.assign(new Error(`no comment ${p.comment_id}`), { status: 404 });
    c.body = p.body;
    c.updates = (c.updates || 0) + 1;
    return { data: c };
  },
  async listForRepo(p) {
    need(p);
    const labels = p.labels ? p.labels.split(",") : [];
    return {
      data: state.issues.filter(
        (i) =>
          (p.state === "all" || i.state === (p.state || "open")) &&
          labels.every((l) => i.labels.some((x) => x.name === l)),
      ),
    };
  },
  async create(p) {
    need(p, "title");
    for (const l of p.labels || []) {
      if (!state.labels.includes(l)) state.labels.push(l);
    }
    const i = {
      number: state.next++,
      title: p.title,
      body: p.body || "",
      state: "open",
      labels: (p.labels || []).map((name) => ({ name })),
      user: BOT,
    };
    i.html_url = url("issues", i.number);
    state.issues.push(i);
    return { data: i };
  },
  async update(p) {
    need(p, "issue_number");
    const i = issue(p.issue_number);
    for (const k of ["title", "body", "state", "state_reason"]) {
      if (p[k] !== undefined) i[k] = p[k];
    }
    i.updates = (i.updates || 0) + 1;
    return { data: i };
  },
  async createLabel(p) {
    need(p, "name");
    if (state.labels.includes(p.name)) {
      throw Object.assign(new Error("Validation Failed: already_exists"), { status: 422 });
    }
    state.labels.push(p.name);
    return { data: { name: p.name } };
  },
};
const github = {
  rest: { issues },
  async paginate(fn, params) {
    return (await fn(params)).data;
  },
};
let failed = false;
const core = {
  info: (m) => console.log(m),
  warning: (m) => console.log(`warning: ${m}`),
  setFailed: (m) => {
    console.error(`error: ${m}`);
    failed = true;
  },
};
const context = {
  repo: event.repo,
  runId: event.runId,
  serverUrl: event.serverUrl,
  payload: event.payload || {},
};

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction("require", "github", "context", "core", script)(require, github, context, core).then(
  () => {
    fs.writeFileSync(statePath, JSON.stringify(state, null, 2));
    process.exit(failed ? 1 : 0);
  },
  (err) => {
    fs.writeFileSync(statePath, JSON.stringify(state, null, 2));
    console.error(`the github-script step threw: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);

//! What each main command prints, as reviewed snapshots: exit code, stdout and stderr together
//! (`tests/snapshots/`). Runs go against the example desired state and a `--live-state`
//! sandbox with a pinned date and no colour, so they are deterministic; the sandbox's temporary
//! path is replaced by `[SANDBOX]`, and progress lines (printed only by a step that runs for
//! seconds) are left out.
//!
//! After an intended change of output, rerun with `INSTA_UPDATE=always` (or `cargo insta
//! review`) and review the diff of the `.snap` files like code.

use orgctl_backend::MemoryOrg;
use orgctl_model::Tags;

use crate::common::{Run, Sandbox, create_ou, orgctl};

/// The run as one reviewable text, temporary paths filtered.
fn shown(sb: &Sandbox, run: &Run) -> String {
    let filter = |s: &str| {
        let mut s = s.to_owned();
        for path in [
            sb.path().display().to_string(),
            sb.path()
                .canonicalize()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ] {
            if !path.is_empty() {
                s = s.replace(&path, "[SANDBOX]");
            }
        }
        s
    };
    format!(
        "exit code: {}\n--- stdout\n{}--- stderr\n{}",
        run.code,
        filter(&run.stdout),
        without_progress(&filter(&run.stderr))
    )
}

/// `stderr` without the progress lines a slow step prints (`applying: 3/15 changes (2 s)`):
/// how many there are depends on the machine's speed.
pub fn without_progress(stderr: &str) -> String {
    let is_progress = |line: &str| {
        line.strip_suffix(" s)")
            .and_then(|rest| rest.rsplit_once(" ("))
            .is_some_and(|(_, secs)| !secs.is_empty() && secs.chars().all(|c| c.is_ascii_digit()))
    };
    stderr
        .lines()
        .filter(|line| !is_progress(line))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Runs orgctl in the sandbox (with `--live-state live.json`) and snapshots the run.
macro_rules! snap {
    ($name:literal, $sb:expr, $args:expr) => {{
        let sb: &Sandbox = $sb;
        let run = sb.run($args);
        insta::assert_snapshot!($name, shown(sb, &run));
        run
    }};
}

#[test]
fn validate() {
    let sb = Sandbox::new();
    let run = orgctl(sb.path(), &["validate"], &[]);
    insta::assert_snapshot!("validate_ok", shown(&sb, &run));

    sb.write(
        "desired-state/broken.yaml",
        "accounts:\n  - name: x\n    emial: x@example.com\n    ou: /Nowhere\n",
    );
    let run = orgctl(sb.path(), &["validate"], &[]);
    insta::assert_snapshot!("validate_invalid", shown(&sb, &run));
}

#[test]
fn plan_in_every_format() {
    let sb = Sandbox::new();
    snap!(
        "plan_text_detailed_exitcode",
        &sb,
        &["plan", "--detailed-exitcode"]
    );
    snap!("plan_markdown", &sb, &["plan", "--format", "markdown"]);
    snap!(
        "plan_json_out",
        &sb,
        &["plan", "--format", "json", "--out", "plan.json"]
    );
}

#[test]
fn apply_against_a_sandbox() {
    let sb = Sandbox::new();
    snap!("apply_refused_without_approval", &sb, &["apply"]);
    snap!("apply_auto_approve", &sb, &["apply", "--auto-approve"]);
    snap!("plan_after_apply", &sb, &["plan", "--detailed-exitcode"]);

    // Drift: an OU created out of band is reported, and the plan says it is left alone.
    let live = sb.snapshot_text();
    let org = sandbox_org(&live);
    create_ou(&org, None, "OutOfBand", &Tags::new());
    sb.write_org(&org);
    snap!(
        "plan_with_an_unmanaged_ou",
        &sb,
        &["plan", "--detailed-exitcode"]
    );
}

/// The organization a sandbox's snapshot file holds.
fn sandbox_org(snapshot: &str) -> MemoryOrg {
    let live: orgctl_model::LiveState = serde_json::from_str(snapshot).expect("snapshot");
    MemoryOrg::from_live(&live).expect("a valid organization")
}

#[test]
fn saved_plans() {
    let sb = Sandbox::new();
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    let mut v: serde_json::Value = serde_json::from_str(&sb.read("plan.json")).expect("JSON");
    v["changes"][0]["reason"] = serde_json::json!("edited after review");
    sb.write("plan.json", &v.to_string());
    snap!(
        "apply_edited_plan_refused",
        &sb,
        &["apply", "--plan", "plan.json", "--auto-approve"]
    );
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    snap!(
        "apply_saved_plan",
        &sb,
        &["apply", "--plan", "plan.json", "--auto-approve"]
    );
}

#[test]
fn usage_and_schema() {
    let sb = Sandbox::new();
    snap!(
        "usage_error",
        &sb,
        &["plan", "--detailed-exitcode", "--fromat", "markdown"]
    );
    let run = orgctl(sb.path(), &["schema", "--kind", "nosuch"], &[]);
    insta::assert_snapshot!("schema_unknown_kind", shown(&sb, &run));
    let run = orgctl(sb.path(), &["schema", "--kind", "snapshot"], &[]);
    insta::assert_snapshot!("schema_snapshot", shown(&sb, &run));
}

#[test]
fn a_held_lease_and_force_unlock() {
    let sb = Sandbox::new();
    crate::lease::hold_at(
        &sb,
        "killed@ci",
        "2026-11-27T09:30:00Z",
        "2099-01-01T00:00:00Z",
    );
    snap!("apply_lease_held", &sb, &["apply", "--auto-approve"]);
    snap!(
        "force_unlock_without_yes",
        &sb,
        &["force-unlock", crate::lease::TOKEN]
    );
    snap!(
        "force_unlock",
        &sb,
        &["force-unlock", crate::lease::TOKEN, "--yes"]
    );
}

//! The apply lease through the binary, on sandboxes: the snapshot file keeps the root's tags,
//! so a lease written there is what a second apply finds, as on AWS.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use orgctl_backend::LEASE_TAG;
use orgctl_backend::lease::format_utc;

use crate::common::{Run, Sandbox, orgctl};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Puts a lease held by `holder` until `until` (seconds since 1970) on the sandbox's root.
fn hold(sb: &Sandbox, holder: &str, until: u64) {
    let mut snap: serde_json::Value =
        serde_json::from_str(&sb.snapshot_text()).expect("snapshot JSON");
    snap["root_tags"] = serde_json::json!({
        LEASE_TAG: format!(
            "held serial=4 holder={holder} since={} until={} token=0123456789abcdef",
            format_utc(now() - 60),
            format_utc(until)
        )
    });
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&snap).expect("json"),
    );
}

/// The lease tag in the sandbox's snapshot file.
fn lease_tag(sb: &Sandbox) -> Option<String> {
    let snap: serde_json::Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot JSON");
    snap["root_tags"][LEASE_TAG].as_str().map(str::to_owned)
}

fn apply(sb: &Sandbox, extra: &[&str]) -> Run {
    let mut args = vec!["apply", "--auto-approve", "--live-state", "live.json"];
    args.extend(extra);
    orgctl(sb.path(), &args, &[("ORGCTL_LOCK_HOLDER", "tester")])
}

#[test]
fn apply_takes_the_lease_and_releases_it_and_a_plan_never_needs_it() {
    let sb = Sandbox::new();
    apply(&sb, &[]).expect_code(0);
    let tag = lease_tag(&sb).expect("the lease tag stays, marked free");
    assert!(tag.starts_with("free serial=1 holder=tester "), "{tag}");

    // Nothing to do: no lease taken, nothing written.
    let before = sb.snapshot_text();
    apply(&sb, &[]).expect_code(0);
    assert_eq!(sb.snapshot_text(), before);

    // The lease is not a change, and plans ignore a held one.
    hold(&sb, "alice@ci", now() + 3600);
    let plan = sb.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert!(!plan.stdout.contains(LEASE_TAG), "{}", plan.stdout);
}

#[test]
fn a_held_lease_stops_apply_naming_the_holder() {
    let sb = Sandbox::new();
    hold(&sb, "alice@ci", now() + 3600);
    let before = sb.snapshot_text();
    let run = apply(&sb, &[]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("another apply holds the lease on this organization: alice@ci")
            && run.stderr.contains("--wait-lock")
            && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "stopped before planning: {}",
        run.stdout
    );
    assert_eq!(sb.snapshot_text(), before, "nothing written");
    // A plan still works.
    sb.run(&["plan", "--detailed-exitcode"]).expect_code(2);
}

#[test]
fn wait_lock_times_out_naming_the_holder() {
    let sb = Sandbox::new();
    hold(&sb, "alice@ci", now() + 3600);
    let before = sb.snapshot_text();
    let started = Instant::now();
    let run = apply(&sb, &["--wait-lock", "3s"]);
    run.expect_code(1);
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert!(
        run.stderr.contains("waiting up to 3s")
            && run.stderr.contains("alice@ci")
            && run.stderr.contains("(waited 3s)"),
        "{}",
        run.stderr
    );
    assert_eq!(sb.snapshot_text(), before);
}

#[test]
fn wait_lock_waits_out_a_lease_then_applies_with_a_warning() {
    let sb = Sandbox::new();
    hold(&sb, "alice@ci", now() + 3);
    let started = Instant::now();
    let run = apply(&sb, &["--wait-lock", "1m"]);
    run.expect_code(0);
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited");
    assert!(
        run.stderr.contains("waiting up to 60s")
            && run
                .stderr
                .contains("warning: took over the expired apply lease of alice@ci")
            && run.stderr.contains("Apply complete"),
        "{}",
        run.stderr
    );
    let tag = lease_tag(&sb).expect("lease");
    assert!(tag.starts_with("free serial=5 holder=tester "), "{tag}");
}

#[test]
fn an_expired_lease_is_taken_over_and_does_not_make_a_saved_plan_stale() {
    let sb = Sandbox::new();
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    hold(&sb, "crashed@ci", now() - 1);
    let run = apply(&sb, &["--plan", "plan.json"]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("warning: took over the expired apply lease of crashed@ci"),
        "{}",
        run.stderr
    );
    sb.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn a_bad_wait_lock_is_a_usage_error() {
    let sb = Sandbox::new();
    let run = apply(&sb, &["--wait-lock", "soon"]);
    run.expect_code(1);
    assert!(run.stderr.contains("not a duration"), "{}", run.stderr);
}

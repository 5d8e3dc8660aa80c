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

/// The token of the leases [`hold`] writes.
pub const TOKEN: &str = "0123456789abcdef";

/// Puts a lease held by `holder` until `until` (seconds since 1970) on the sandbox's root.
fn hold(sb: &Sandbox, holder: &str, until: u64) {
    hold_at(sb, holder, &format_utc(now() - 60), &format_utc(until));
}

/// Puts a lease held by `holder` from `since` until `until` (`2026-12-02T09:30:00Z`), with
/// [`TOKEN`], on the sandbox's root.
pub fn hold_at(sb: &Sandbox, holder: &str, since: &str, until: &str) {
    let mut snap: serde_json::Value =
        serde_json::from_str(&sb.snapshot_text()).expect("snapshot JSON");
    snap["root_tags"] = serde_json::json!({
        LEASE_TAG: format!("held serial=4 holder={holder} since={since} until={until} token={TOKEN}")
    });
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&snap).expect("json"),
    );
}

fn force_unlock(sb: &Sandbox, token: &str, extra: &[&str]) -> Run {
    let mut args = vec!["force-unlock", token];
    args.extend(extra);
    args.extend(["--live-state", "live.json"]);
    orgctl(sb.path(), &args, &[])
}

/// The `orgctl force-unlock …` command a held lease's message prints, as words.
fn unlock_command(stderr: &str) -> Vec<String> {
    let start = stderr
        .find("`orgctl force-unlock ")
        .unwrap_or_else(|| panic!("no force-unlock command in:\n{stderr}"));
    let rest = &stderr[start + 1..];
    let end = rest.find('`').expect("closing backquote");
    rest[..end].split_whitespace().map(str::to_owned).collect()
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
    // It says how to release it: the exact command, for this sandbox.
    assert!(
        run.stderr.contains(&format!(
            "release it with `orgctl force-unlock {TOKEN} --live-state live.json`"
        )),
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

#[test]
fn the_command_a_held_lease_prints_releases_it_and_the_next_apply_converges() {
    let sb = Sandbox::new();
    // Another directory than the default: the command names it.
    std::fs::rename(sb.path().join("desired-state"), sb.path().join("infra")).expect("rename");
    hold_at(
        &sb,
        "killed@ci",
        "2026-12-02T09:30:00Z",
        &format_utc(now() + 600),
    );
    let blocked = orgctl(
        sb.path(),
        &[
            "apply",
            "infra",
            "--auto-approve",
            "--live-state",
            "live.json",
        ],
        &[("ORGCTL_LOCK_HOLDER", "tester")],
    );
    blocked.expect_code(1);
    let command = unlock_command(&blocked.stderr);
    assert_eq!(
        command,
        [
            "orgctl",
            "force-unlock",
            TOKEN,
            "infra",
            "--live-state",
            "live.json"
        ],
        "{}",
        blocked.stderr
    );
    let mut args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
    args.push("--yes");
    let run = orgctl(sb.path(), &args, &[]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("Released the apply lease of killed@ci (since 2026-12-02T09:30:00Z, until ")
            && run.stderr.contains("serial 4"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let tag = lease_tag(&sb).expect("the lease tag stays, marked free");
    assert!(
        tag.starts_with("free serial=4 holder=killed@ci since=2026-12-02T09:30:00Z until="),
        "{tag}"
    );
    assert!(!tag.contains("token="), "{tag}");
    // The organization itself was not touched.
    sb.run(&["plan", "infra", "--detailed-exitcode"])
        .expect_code(2);

    // The next apply takes the released lease (no takeover) and converges.
    let next = orgctl(
        sb.path(),
        &[
            "apply",
            "infra",
            "--auto-approve",
            "--live-state",
            "live.json",
        ],
        &[("ORGCTL_LOCK_HOLDER", "tester")],
    );
    next.expect_code(0);
    assert!(!next.stderr.contains("took over"), "{}", next.stderr);
    let tag = lease_tag(&sb).expect("lease");
    assert!(tag.starts_with("free serial=5 holder=tester "), "{tag}");
    // Releasing again: nothing held.
    let again = orgctl(sb.path(), &args, &[]);
    again.expect_code(1);
    assert!(
        again
            .stderr
            .contains("the apply lease on this organization is not held (last held by tester"),
        "{}",
        again.stderr
    );
}

#[test]
fn force_unlock_off_a_terminal_needs_yes() {
    let sb = Sandbox::new();
    hold(&sb, "alice@ci", now() + 3600);
    let before = sb.snapshot_text();
    let run = force_unlock(&sb, TOKEN, &[]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("refusing to release the apply lease of alice@ci (since ")
            && run.stderr.contains(&format!("token {TOKEN}"))
            && run.stderr.contains("pass --yes")
            && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(sb.snapshot_text(), before, "nothing written");
}

#[test]
fn force_unlock_refuses_another_token_a_free_lease_and_an_expiring_one() {
    let sb = Sandbox::new();
    // No lease at all.
    let before = sb.snapshot_text();
    let run = force_unlock(&sb, TOKEN, &["--yes"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("the apply lease on this organization is not held (the orgctl:apply-lease"),
        "{}",
        run.stderr
    );
    assert_eq!(sb.snapshot_text(), before);

    // Held with another token: someone took it since.
    hold(&sb, "bob@ci", now() + 3600);
    let before = sb.snapshot_text();
    let run = force_unlock(&sb, "fedcba9876543210", &["--yes"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("is not the one with token fedcba9876543210: it is held by bob@ci")
            && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(sb.snapshot_text(), before);

    // Expired: the next apply takes it over anyway.
    hold(&sb, "bob@ci", now() - 5);
    let before = sb.snapshot_text();
    let run = force_unlock(&sb, TOKEN, &["--yes"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("the next apply takes it over"),
        "{}",
        run.stderr
    );
    assert_eq!(sb.snapshot_text(), before);
}

#[test]
fn force_unlock_refuses_another_organization_before_reading_the_lease() {
    let sb = Sandbox::new();
    // The example pins 123456789012; this organization is another one.
    sb.write_org(&orgctl_backend::MemoryOrg::new(
        "999999999999",
        "root@elsewhere.example",
    ));
    hold(&sb, "alice@ci", now() + 3600);
    let before = sb.snapshot_text();
    let run = force_unlock(&sb, TOKEN, &["--yes"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("123456789012") && run.stderr.contains("999999999999"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Released"), "{}", run.stderr);
    assert_eq!(sb.snapshot_text(), before);
}

/// Runs `orgctl ARGS` in the sandbox with a terminal as stdin (through `script`), typing
/// `answer`; stdout and stderr both come back in `stdout`.
fn on_a_terminal(sb: &Sandbox, args: &[&str], answer: &str) -> Run {
    use std::io::Write as _;
    let quote = |w: &str| format!("'{}'", w.replace('\'', "'\\''"));
    let command = std::iter::once(env!("CARGO_BIN_EXE_orgctl"))
        .chain(args.iter().copied())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(sb.path())
        .env("NO_COLOR", "1")
        .env("ORGCTL_TODAY", "2026-11-27")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs (it gives orgctl a terminal)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answer.as_bytes())
        .expect("type the answer");
    let out = child.wait_with_output().expect("script ends");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn force_unlock_on_a_terminal_asks_and_releases_only_on_yes() {
    let sb = Sandbox::new();
    hold(&sb, "alice@ci", now() + 3600);
    let before = sb.snapshot_text();
    let args = ["force-unlock", TOKEN, "--live-state", "live.json"];
    let no = on_a_terminal(&sb, &args, "no\n");
    no.expect_code(1);
    assert!(
        no.stdout
            .contains("Release the apply lease of alice@ci (since ")
            && no.stdout.contains("Only 'yes' will be accepted")
            && no
                .stdout
                .contains("force-unlock cancelled (nothing was changed)"),
        "{}",
        no.stdout
    );
    assert_eq!(sb.snapshot_text(), before, "nothing written");

    let yes = on_a_terminal(&sb, &args, "yes\n");
    yes.expect_code(0);
    assert!(
        yes.stdout.contains("Released the apply lease of alice@ci"),
        "{}",
        yes.stdout
    );
    let tag = lease_tag(&sb).expect("lease");
    assert!(tag.starts_with("free serial=4 holder=alice@ci "), "{tag}");
}

#[test]
fn apply_on_a_terminal_asks_about_one_change_in_the_singular() {
    let sb = Sandbox::new();
    let args = ["apply", "--live-state", "live.json"];
    let many = on_a_terminal(&sb, &args, "no\n");
    many.expect_code(1);
    assert!(
        many.stdout.contains(" changes to organization "),
        "{}",
        many.stdout
    );
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    let accounts = sb.read("desired-state/accounts.yaml");
    sb.write(
        "desired-state/accounts.yaml",
        &accounts.replace("environment: sandbox", "environment: playground"),
    );
    let one = on_a_terminal(&sb, &args, "no\n");
    one.expect_code(1);
    assert!(
        one.stdout.contains("Apply this 1 change to organization "),
        "{}",
        one.stdout
    );
}

#[test]
fn force_unlock_with_a_token_that_does_not_match_names_a_typo_as_a_cause() {
    let sb = Sandbox::new();
    hold(&sb, "alice@ci", now() + 3600);
    let before = sb.snapshot_text();
    // One character off the token the blocked apply printed.
    let run = force_unlock(&sb, "0123456789abcdee", &["--yes"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "(the token is mistyped, or another apply took it since; nothing was changed)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(sb.snapshot_text(), before);
}

/// Removes every record of what was applied (`orgctl:applied`) from the sandbox's snapshot.
fn drop_records(sb: &Sandbox) -> usize {
    let mut snap: serde_json::Value =
        serde_json::from_str(&sb.snapshot_text()).expect("snapshot JSON");
    let mut dropped = 0;
    for list in ["ous", "accounts", "policies"] {
        for item in snap[list].as_array_mut().into_iter().flatten() {
            if let Some(tags) = item["tags"].as_object_mut()
                && tags.remove(orgctl_model::RECORD_TAG).is_some()
            {
                dropped += 1;
            }
        }
    }
    if let Some(org) = snap["organization"].as_object_mut()
        && org.remove("root_record").is_some()
    {
        dropped += 1;
    }
    if let Some(tags) = snap["root_tags"].as_object_mut() {
        tags.remove(orgctl_model::RECORD_TAG);
    }
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&snap).expect("json"),
    );
    dropped
}

#[test]
fn an_apply_with_only_stale_records_takes_the_lease_and_writes_them() {
    let sb = Sandbox::new();
    let first = apply(&sb, &[]);
    first.expect_code(0);
    assert!(
        first.stderr.contains("resources recorded"),
        "{}",
        first.stderr
    );
    let dropped = drop_records(&sb);
    assert!(dropped > 1, "the apply recorded what it applied");

    // The plan has no changes: it exits 0 and says in one line what the next apply records.
    let plan = sb.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    let line = format!(
        "{dropped} records of what was applied are out of date; the next apply rewrites them."
    );
    assert_eq!(plan.stdout.matches(&line).count(), 1, "{}", plan.stdout);

    // The apply takes the lease (no confirmation needed) and writes only the records.
    let run = orgctl(
        sb.path(),
        &["apply", "--live-state", "live.json"],
        &[("ORGCTL_LOCK_HOLDER", "tester")],
    );
    run.expect_code(0);
    assert!(
        run.stderr.contains(&format!(
            "Recorded {dropped} resources. The organization matches"
        )),
        "{}",
        run.stderr
    );
    let tag = lease_tag(&sb).expect("lease");
    assert!(tag.starts_with("free serial=2 holder=tester "), "{tag}");
    let plan = sb.run(&["plan"]);
    plan.expect_code(0);
    assert!(!plan.stdout.contains("records of what"), "{}", plan.stdout);

    // Now nothing is out of date: no lease, no write.
    let before = sb.snapshot_text();
    apply(&sb, &[]).expect_code(0);
    assert_eq!(sb.snapshot_text(), before);
}

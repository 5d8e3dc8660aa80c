//! The CLI end to end against snapshot files (the strict in-memory organization): exit codes,
//! stdout and stderr.

use orgctl_backend::MemoryOrg;
use orgctl_model::Tags;

use crate::common::{Sandbox, create_ou, orgctl, repo};

#[test]
fn validate_accepts_the_example() {
    let run = orgctl(&repo(), &["validate"], &[]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("desired-state: valid"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "validate prints nothing on stdout");
}

#[test]
fn plan_apply_plan_converges_on_an_empty_organization() {
    let sb = Sandbox::new();
    let plan = sb.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    // The plan leads with access changes, ends with the summary.
    let access = plan
        .stdout
        .find("Access changes")
        .expect("an access section");
    let first_ou = plan
        .stdout
        .find("ou /Workloads")
        .expect("OU creation listed");
    assert!(
        access < first_ou,
        "access changes come first:\n{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("to create"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("account companyx-staging"),
        "{}",
        plan.stdout
    );

    let before = sb.snapshot_text();
    let refused = sb.run(&["apply"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("--auto-approve"),
        "{}",
        refused.stderr
    );
    assert_eq!(sb.snapshot_text(), before, "a refused apply writes nothing");

    let apply = sb.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    assert!(apply.stderr.contains("Apply complete"), "{}", apply.stderr);

    let again = sb.run(&["plan", "--detailed-exitcode"]);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);

    let noop = sb.run(&["apply", "--auto-approve"]);
    noop.expect_code(0);
}

#[test]
fn plan_formats_markdown_and_json() {
    let sb = Sandbox::new();
    let md = sb.run(&["plan", "--format", "markdown"]);
    md.expect_code(0);
    assert!(
        md.stdout.contains("Access changes") && md.stdout.contains("<details>"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.len() <= 60_000);

    let json = sb.run(&["plan", "--format", "json"]);
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("stdout is JSON");
    assert_eq!(v["format_version"], 2);
    let changes = v["changes"].as_array().expect("changes[]");
    assert!(!changes.is_empty());
    for c in changes {
        assert!(
            c["address"].is_string() && c["action"].is_string() && c["reason"].is_string(),
            "{c}"
        );
    }
    assert!(v["summary"]["create"].as_u64().unwrap_or(0) > 0);
}

#[test]
fn saved_plan_applies_and_a_stale_one_is_refused() {
    let sb = Sandbox::new();
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    assert!(sb.read("plan.json").contains("\"format_version\": 2"));

    // A plan an older orgctl wrote (format_version 1: fingerprints that were hashes of JSON) is
    // refused as such before anything is read or written, not applied nor called stale.
    let old = sb
        .read("plan.json")
        .replace("\"format_version\": 2", "\"format_version\": 1");
    sb.write("old-plan.json", &old);
    let before = sb.snapshot_text();
    let refused = sb.run(&["apply", "--plan", "old-plan.json", "--auto-approve"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("old-plan.json")
            && refused.stderr.contains("format_version 1 is not supported")
            && refused.stderr.contains("an older orgctl")
            && refused.stderr.contains("orgctl plan --out FILE"),
        "{}",
        refused.stderr
    );
    assert_eq!(sb.snapshot_text(), before);

    // The organization changes behind the plan's back: refused, nothing written.
    let org = MemoryOrg::new("123456789012", "root@companyx.example");
    create_ou(&org, None, "OutOfBand", &Tags::new());
    sb.write_org(&org);
    let before = sb.snapshot_text();
    let stale = sb.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    stale.expect_code(1);
    assert!(stale.stderr.contains("stale"), "{}", stale.stderr);
    assert_eq!(sb.snapshot_text(), before);

    // A fresh saved plan applies exactly.
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    sb.run(&["apply", "--plan", "plan.json", "--auto-approve"])
        .expect_code(0);
    sb.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // A desired-state edit also makes a saved plan stale.
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    let accounts = sb.read("desired-state/accounts.yaml");
    sb.write(
        "desired-state/accounts.yaml",
        &accounts.replace("environment: staging\n", "environment: staging-2\n"),
    );
    assert_ne!(
        sb.read("desired-state/accounts.yaml"),
        accounts,
        "the edit changes the desired state"
    );
    let before = sb.snapshot_text();
    let stale = sb.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    stale.expect_code(1);
    assert!(stale.stderr.contains("stale"), "{}", stale.stderr);
    assert_eq!(sb.snapshot_text(), before);
}

/// Issue 7, section 2: a saved plan is applied only on the day it was made for (grant expiry
/// is judged against the plan's `today`).
#[test]
fn a_saved_plan_made_for_another_day_is_refused() {
    let sb = Sandbox::new();
    let made = orgctl(
        sb.path(),
        &["plan", "--out", "plan.json", "--live-state", "live.json"],
        &[("ORGCTL_TODAY", "2026-11-26")],
    );
    made.expect_code(0);
    assert!(sb.read("plan.json").contains("\"today\": \"2026-11-26\""));
    let before = sb.snapshot_text();
    // Applied the next day (the sandbox runs orgctl on 2026-11-27): refused, nothing written.
    let run = sb.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("plan.json")
            && run
                .stderr
                .contains("made for 2026-11-26 but today is 2026-11-27")
            && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(sb.snapshot_text(), before, "nothing written");
    // Made for the day of the apply, the same plan applies.
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    sb.run(&["apply", "--plan", "plan.json", "--auto-approve"])
        .expect_code(0);
}

#[test]
fn wrong_organization_is_refused_before_anything_else() {
    let sb = Sandbox::new();
    sb.write_org(&MemoryOrg::new("999999999999", "other@example.com"));
    let before = sb.snapshot_text();
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let run = sb.run(args);
        run.expect_code(1);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            run.stderr.contains("123456789012") && run.stderr.contains("999999999999"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(sb.snapshot_text(), before);
}

#[test]
fn a_plan_with_an_error_is_not_applied_in_part() {
    // Deleting /Retired is a plan error, next to the example's many applicable changes.
    let sb = sandbox_with_an_ou_in_the_way_of_a_deletion();
    let before = sb.snapshot_text();
    let run = sb.run(&["apply", "--auto-approve"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("ou /Retired") && run.stderr.contains("OU Audit"),
        "{}",
        run.stderr
    );
    assert_eq!(sb.snapshot_text(), before, "nothing is written");
}

/// A sandbox whose organization has a managed OU gone from the YAML, /Retired, that still holds
/// an OU orgctl does not manage, /Retired/Audit: deleting /Retired is a plan error.
fn sandbox_with_an_ou_in_the_way_of_a_deletion() -> Sandbox {
    let sb = Sandbox::new();
    let org = MemoryOrg::new("123456789012", "root@companyx.example");
    let managed: Tags = [("managed-by".to_owned(), "orgctl".to_owned())].into();
    let retired = create_ou(&org, None, "Retired", &managed);
    create_ou(&org, Some(&retired), "Audit", &Tags::new());
    sb.write_org(&org);
    sb
}

#[test]
fn closing_an_account_needs_allow_close() {
    let sb = Sandbox::new();
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    let accounts = sb.read("desired-state/accounts.yaml");
    let closed = set_lifecycle_closed(&accounts, "companyx-sandbox");
    sb.write("desired-state/accounts.yaml", &closed);
    let plan = sb.run(&["plan"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("close"), "{}", plan.stdout);

    let before = sb.snapshot_text();
    let refused = sb.run(&["apply", "--auto-approve"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("--allow-close"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        sb.snapshot_text(),
        before,
        "nothing is written before the refusal"
    );

    sb.run(&["apply", "--auto-approve", "--allow-close"])
        .expect_code(0);
    assert!(sb.snapshot_text().contains("SUSPENDED"));
    sb.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

/// Adds `lifecycle: closed` to the named account's YAML entry.
fn set_lifecycle_closed(yaml: &str, name: &str) -> String {
    let mut out = String::new();
    let mut in_entry = false;
    for line in yaml.lines() {
        if line.trim_start().starts_with("- name:") {
            in_entry = line.contains(name);
        }
        if in_entry && line.trim_start().starts_with("lifecycle:") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if in_entry && line.trim_start().starts_with("- name:") {
            let indent = line.len() - line.trim_start().len() + 2;
            out.push_str(&format!("{}lifecycle: closed\n", " ".repeat(indent)));
        }
    }
    out
}

#[test]
fn invalid_input_touches_nothing() {
    let sb = Sandbox::new();
    sb.write(
        "desired-state/broken.yaml",
        "accounts:\n  - name: x\n    emial: x@example.com\n",
    );
    let before = sb.snapshot_text();
    let run = sb.run(&["apply", "--auto-approve"]);
    run.expect_code(1);
    assert!(run.stderr.contains("broken.yaml:3"), "{}", run.stderr);
    assert_eq!(sb.snapshot_text(), before);
}

#[test]
fn bad_flags_and_files_are_errors_not_panics() {
    let sb = Sandbox::new();
    let run = orgctl(
        sb.path(),
        &["plan", "--live-state", "live.json", "--today", "27/11/2026"],
        &[],
    );
    run.expect_code(1);
    assert!(run.stderr.contains("YYYY-MM-DD"), "{}", run.stderr);
    // A date that is not in the calendar is an error too, not a plan for "2026-02-31".
    for not_a_day in ["2026-02-31", "2026-04-31", "2025-02-29"] {
        let run = orgctl(
            sb.path(),
            &["plan", "--live-state", "live.json", "--today", not_a_day],
            &[],
        );
        run.expect_code(1);
        assert!(run.stderr.contains(not_a_day), "{}", run.stderr);
    }

    sb.write("bad.json", "{\"format_version\": 7}");
    let run = orgctl(sb.path(), &["plan", "--live-state", "bad.json"], &[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("bad.json") && run.stderr.contains("format_version"),
        "{}",
        run.stderr
    );

    let run = orgctl(sb.path(), &["plan", "--live-state", "missing.json"], &[]);
    run.expect_code(1);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);

    let run = orgctl(sb.path(), &["validate", "nowhere"], &[]);
    run.expect_code(1);
    assert!(run.stderr.contains("nowhere"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let run = orgctl(&repo(), &["schema"], &[]);
    run.expect_code(0);
    let committed = std::fs::read_to_string(repo().join("docs/desired-state.schema.json"))
        .expect("schema file");
    assert_eq!(run.stdout.trim_end(), committed.trim_end());
}

/// `docs/<kind>.schema.json` is `orgctl schema --kind <kind>`, committed. Rerun with
/// `ORGCTL_UPDATE_SCHEMA=1` to rewrite them after changing the plan or live-state types.
#[test]
fn committed_plan_and_snapshot_schemas_are_current() {
    for kind in ["plan", "snapshot", "desired-state", "access", "drift"] {
        let run = orgctl(&repo(), &["schema", "--kind", kind], &[]);
        run.expect_code(0);
        let path = repo().join(format!("docs/{kind}.schema.json"));
        if std::env::var_os("ORGCTL_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &run.stdout).expect("write the schema");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == run.stdout,
            "{} is stale: rerun with ORGCTL_UPDATE_SCHEMA=1 cargo test --test integration \
             committed_plan_and_snapshot_schemas_are_current, then commit it",
            path.display()
        );
        let schema: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{kind}"
        );
    }
}

#[test]
fn the_plan_and_snapshot_schemas_describe_the_files() {
    let schema = |kind: &str| -> serde_json::Value {
        let run = orgctl(&repo(), &["schema", "--kind", kind], &[]);
        run.expect_code(0);
        serde_json::from_str(&run.stdout).expect("JSON")
    };
    let sb = Sandbox::new();
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    for (kind, file) in [("plan", "plan.json"), ("snapshot", "live.json")] {
        let schema = schema(kind);
        let version = if kind == "plan" { 2 } else { 1 };
        assert_eq!(
            schema["properties"]["format_version"]["const"], version,
            "{kind}"
        );
        let doc: serde_json::Value = serde_json::from_str(&sb.read(file)).expect("JSON");
        let props = schema["properties"].as_object().expect("properties");
        for key in doc.as_object().expect("object").keys() {
            assert!(
                props.contains_key(key),
                "{kind}: {key} is not in the schema"
            );
        }
        for key in schema["required"].as_array().expect("required") {
            let key = key.as_str().expect("name");
            assert!(doc.get(key).is_some(), "{kind}: required {key} missing");
        }
    }
    // docs/plan-format.md names every field and every operation of both schemas.
    let reference =
        std::fs::read_to_string(repo().join("docs/plan-format.md")).expect("plan-format.md");
    for (kind, sample) in [("plan", "detach_policy"), ("snapshot", "parent_id")] {
        let mut names = std::collections::BTreeSet::new();
        collect_names(&schema(kind), &mut names);
        assert!(names.contains(sample), "{kind}: {names:?}");
        for name in names {
            assert!(
                reference.contains(&format!("`{name}`")),
                "docs/plan-format.md does not describe `{name}` of the {kind} schema"
            );
        }
    }
}

/// Property names and `const` tags (operation and reference kinds) of a schema.
fn collect_names(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(props) = map.get("properties").and_then(|p| p.as_object()) {
                out.extend(props.keys().cloned());
                for p in props.values() {
                    if let Some(c) = p.get("const").and_then(|c| c.as_str()) {
                        out.insert(c.to_owned());
                    }
                }
            }
            for v in map.values() {
                collect_names(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_names(v, out)),
        _ => {}
    }
}

#[test]
fn usage_errors_exit_1_never_the_changes_pending_code() {
    let sb = Sandbox::new();
    // A typo in a flag: exit 1 (2 means "changes pending" with --detailed-exitcode).
    let run = sb.run(&["plan", "--detailed-exitcode", "--fromat", "markdown"]);
    run.expect_code(1);
    assert!(run.stdout.is_empty(), "no plan: {}", run.stdout);
    assert!(run.stderr.contains("--fromat"), "{}", run.stderr);
    for args in [
        &["plan", "--format", "yaml"][..],
        &["nosuchcommand"][..],
        &[][..],
        &["plan", "--concurrency", "0"][..],
    ] {
        let run = orgctl(sb.path(), args, &[]);
        run.expect_code(1);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains("error"), "{args:?}: {}", run.stderr);
    }
    // Help and version are not errors.
    for args in [&["--help"][..], &["plan", "--help"][..], &["--version"][..]] {
        let run = orgctl(sb.path(), args, &[]);
        run.expect_code(0);
        assert!(!run.stdout.is_empty(), "{args:?}");
    }
}

/// Rewrites the saved plan `plan.json` of a sandbox with `edit`, keeping its fingerprints.
fn edit_saved_plan(sb: &Sandbox, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_str(&sb.read("plan.json")).expect("plan JSON");
    let fingerprints = (
        v["live_fingerprint"].clone(),
        v["desired_fingerprint"].clone(),
    );
    edit(&mut v);
    assert_eq!(
        (
            v["live_fingerprint"].clone(),
            v["desired_fingerprint"].clone()
        ),
        fingerprints
    );
    sb.write(
        "plan.json",
        &serde_json::to_string_pretty(&v).expect("serialise"),
    );
}

#[test]
fn a_saved_plan_edited_after_review_is_refused_before_any_write() {
    let sb = Sandbox::new();
    let is_attachment = |c: &serde_json::Value| c["kind"] == "attachment";
    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        // Drop every SCP attachment: the accounts would be created without their guardrails.
        (
            "changes dropped",
            Box::new(move |v| {
                let changes = v["changes"].as_array_mut().expect("changes");
                let before = changes.len();
                changes.retain(|c| !is_attachment(c));
                assert!(changes.len() < before, "the plan attaches SCPs");
            }),
        ),
        // Keep what the reviewer sees, empty what the applier does.
        (
            "ops emptied",
            Box::new(move |v| {
                for c in v["changes"].as_array_mut().expect("changes") {
                    if is_attachment(c) {
                        c["ops"] = serde_json::json!([]);
                    }
                }
            }),
        ),
        // Keep the ops, change what the reviewer saw.
        (
            "reason reworded",
            Box::new(|v| {
                v["changes"][0]["reason"] = serde_json::json!("harmless, trust me");
            }),
        ),
    ];
    for (what, edit) in edits {
        sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
        edit_saved_plan(&sb, edit);
        let before = sb.snapshot_text();
        let run = sb.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
        assert_eq!(run.code, 1, "{what}: exit code\n{}", run.stderr);
        assert!(
            run.stderr.contains("plan.json") && run.stderr.contains("does not match"),
            "{what}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("nothing was changed"),
            "{what}: {}",
            run.stderr
        );
        assert_eq!(sb.snapshot_text(), before, "{what}: nothing written");
    }
    // The unedited saved plan still applies.
    sb.run(&["plan", "--out", "plan.json"]).expect_code(0);
    sb.run(&["apply", "--plan", "plan.json", "--auto-approve"])
        .expect_code(0);
    sb.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

/// Characters a terminal would act on or a reader would not see.
const HIDDEN: [char; 6] = [
    '\u{1b}', '\u{9b}', '\u{200b}', '\u{202e}', '\u{feff}', '\u{7}',
];

fn assert_no_hidden(what: &str, out: &str) {
    for c in HIDDEN {
        assert!(
            !out.contains(c),
            "{what} prints U+{:04X} raw:\n{out}",
            u32::from(c)
        );
    }
}

#[test]
fn names_read_from_the_organization_are_never_printed_raw() {
    let sb = Sandbox::new();
    // AWS accepts any characters in an OU name; orgctl does not manage this one, so every
    // rendering lists it, and the snapshot and plan files carry it.
    let evil = "Work\u{200b}loads\u{1b}[2J\u{9b}31m\u{202e}\u{feff}\u{7}";
    let org = MemoryOrg::new("123456789012", "root@companyx.example");
    create_ou(&org, None, evil, &Tags::new());
    sb.write_org(&org);
    for format in ["text", "markdown", "json"] {
        let run = sb.run(&["plan", "--format", format, "--out", "plan.json"]);
        run.expect_code(0);
        assert_no_hidden(format, &run.stdout);
        assert_no_hidden("stderr", &run.stderr);
        assert!(
            run.stdout.contains("Work\\u{200b}loads") || run.stdout.contains("Work\\u200bloads"),
            "{format} shows the hidden character: {}",
            run.stdout
        );
        assert_no_hidden("the plan file", &sb.read("plan.json"));
    }
    // The saved plan still reads back exactly: it applies.
    sb.run(&["apply", "--plan", "plan.json", "--auto-approve"])
        .expect_code(0);
    // The sandbox file written back by apply escapes them too, and still names the OU.
    let snapshot = sb.snapshot_text();
    assert_no_hidden("the snapshot", &snapshot);
    let v: serde_json::Value = serde_json::from_str(&snapshot).expect("snapshot JSON");
    assert!(
        v["ous"]
            .as_array()
            .expect("ous")
            .iter()
            .any(|o| o["name"] == evil),
        "{snapshot}"
    );

    // Errors quoting a file or the command line show them escaped too.
    let mut v = v;
    v["accounts"][0]["status"] = serde_json::json!(evil);
    sb.write("live.json", &v.to_string());
    let run = sb.run(&["plan"]);
    run.expect_code(1);
    assert_no_hidden("stderr", &run.stderr);
    assert!(run.stderr.contains("\\u{200b}"), "{}", run.stderr);
    let run = orgctl(sb.path(), &["plan", &format!("--{evil}")], &[]);
    run.expect_code(1);
    assert_no_hidden("stderr", &run.stderr);
}

#[test]
fn a_child_ou_in_the_way_of_a_deletion_gets_advice_that_fits_an_ou() {
    let sb = sandbox_with_an_ou_in_the_way_of_a_deletion();
    let run = sb.run(&["plan"]);
    run.expect_code(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("OU Audit"), "{all}");
    assert!(
        !all.contains("move it into an OU"),
        "AWS cannot move an OU:\n{all}"
    );
    assert!(
        all.contains("AWS cannot move an OU: keep /Retired in the YAML with /Retired/Audit under it, or delete it in AWS first"),
        "{all}"
    );
}

/// Issue 6, section 3: dropping an account from a policy's targets while its OU keeps the policy
/// does not claim the policy stops applying to the account.
#[test]
fn a_detached_scp_the_account_still_inherits_is_not_said_to_stop_applying() {
    let sb = Sandbox::new();
    let policies = sb.read("desired-state/policies.yaml");
    let narrow = "    targets:\n      - /Workloads\n";
    assert!(policies.contains(narrow), "the example changed");
    sb.write(
        "desired-state/policies.yaml",
        &policies.replace(
            narrow,
            "    targets:\n      - /Workloads\n      - companyx-staging\n",
        ),
    );
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    sb.write("desired-state/policies.yaml", &policies);
    let plan = sb.run(&["plan"]);
    plan.expect_code(0);
    assert!(
        plan.stdout.contains(
            "SCP restrict-regions will be detached from account companyx-staging, but still \
             applies to it through /Workloads"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        !plan
            .stdout
            .contains("will no longer apply to account companyx-staging"),
        "{}",
        plan.stdout
    );
}

#[test]
fn a_file_that_cannot_be_read_or_written_is_named_with_what_was_being_done() {
    let sb = Sandbox::new();
    let run = orgctl(
        sb.path(),
        &[
            "apply",
            "--plan",
            "missing-plan.json",
            "--live-state",
            "live.json",
        ],
        &[],
    );
    run.expect_code(1);
    assert!(
        run.stderr.contains("cannot read missing-plan.json: "),
        "{}",
        run.stderr
    );
    let run = orgctl(sb.path(), &["plan", "--live-state", "missing.json"], &[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("cannot read missing.json: "),
        "{}",
        run.stderr
    );
    sb.write("adir/keep", "");
    let run = orgctl(
        sb.path(),
        &["plan", "--live-state", "live.json", "--out", "adir"],
        &[],
    );
    run.expect_code(1);
    assert!(run.stderr.contains("cannot write adir: "), "{}", run.stderr);
}

#[test]
fn an_empty_policy_document_file_is_called_empty() {
    let sb = Sandbox::new();
    sb.write("desired-state/policies/restrict-regions.json", " \n");
    let run = orgctl(sb.path(), &["validate"], &[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "policies[1].document_file: `policies/restrict-regions.json` is not valid JSON: \
             line 1, column 1: it is empty"
        ) && !run.stderr.contains("EOF"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_desired_state_dir_that_cannot_be_read_is_named_as_given() {
    let run = orgctl(&repo(), &["validate", "desired-state/accounts.yaml"], &[]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("cannot read desired-state/accounts.yaml: Not a directory"),
        "{}",
        run.stderr
    );
    let run = orgctl(&repo(), &["validate", "no-such-dir"], &[]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("cannot read no-such-dir: No such file or directory"),
        "{}",
        run.stderr
    );
}

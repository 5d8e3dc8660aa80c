//! `orgctl drift` on `--live-state` sandboxes: every class through the binary (out-of-band,
//! expired, unverifiable, pending, unmanaged), the three formats as reviewed insta snapshots,
//! exit codes, `--out`, and the JSON against `docs/drift.schema.json` and `docs/drift.md`.

use serde_json::{Value, json};

use crate::common::{Run, Sandbox, repo};

/// The day the drift runs are made for in the scenario: grant `partner-production` of the
/// example ended on 2027-03-31.
pub const LATER: &str = "2027-04-01";

/// The run as one reviewable text, the sandbox's path filtered.
fn shown(sb: &Sandbox, run: &Run) -> String {
    let filter = |s: &str| s.replace(&sb.path().display().to_string(), "[SANDBOX]");
    format!(
        "exit code: {}\n--- stdout\n{}--- stderr\n{}",
        run.code,
        filter(&run.stdout),
        crate::cli_snapshots::without_progress(&filter(&run.stderr))
    )
}

/// Runs `orgctl drift ARGS --today LATER --live-state live.json` in the sandbox.
pub fn drift(sb: &Sandbox, args: &[&str]) -> Run {
    let mut all = vec!["drift", "--today", LATER];
    all.extend(args);
    sb.run(&all)
}

fn account_id(live: &Value, name: &str) -> String {
    live["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["name"] == name)
        .and_then(|a| a["id"].as_str())
        .expect("account")
        .to_owned()
}

fn ou_id(live: &Value, name: &str) -> String {
    live["ous"]
        .as_array()
        .expect("ous")
        .iter()
        .find(|o| o["name"] == name)
        .and_then(|o| o["id"].as_str())
        .expect("ou")
        .to_owned()
}

/// The example applied on 2026-11-27, then, by hand in AWS: companyx-staging's `owner` tag
/// edited, SCP restrict-regions attached to /Sandbox, an OU `Legacy` made at the root, a role
/// `vendor-support` outside `/orgctl/` in companyx-staging trusting an outside account, and
/// companyx-sandbox's member role removed (IAM unreadable); in the YAML, /Workloads/Staging
/// gets a new tag (not applied). On [`LATER`], grant partner-production has expired.
pub fn drifted_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    let mut live: Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot");
    let staging = account_id(&live, "companyx-staging");
    let sandbox = account_id(&live, "companyx-sandbox");
    let sandbox_ou = ou_id(&live, "Sandbox");
    let root = live["organization"]["root_id"]
        .as_str()
        .expect("root")
        .to_owned();
    for a in live["accounts"].as_array_mut().expect("accounts") {
        if a["id"] == staging.as_str() {
            a["tags"]["owner"] = json!("someone-else");
        }
    }
    for p in live["policies"].as_array_mut().expect("policies") {
        if p["name"] == "restrict-regions" {
            p["targets"]
                .as_array_mut()
                .expect("targets")
                .push(json!(sandbox_ou));
        }
        if p["name"] == "FullAWSAccess" {
            p["targets"]
                .as_array_mut()
                .expect("targets")
                .push(json!("ou-1000-0000beef"));
        }
    }
    live["ous"].as_array_mut().expect("ous").push(json!({
        "id": "ou-1000-0000beef",
        "name": "Legacy",
        "parent_id": root,
        "tags": {},
    }));
    live["access_roles"]
        .as_array_mut()
        .expect("roles")
        .push(json!({
            "account_id": staging,
            "role_name": "vendor-support",
            "path": "/",
            "trust_policy": orgctl_model::trust_policy("arn:aws:iam::111122223333:root", None, false, None),
            "max_session_secs": 3600,
            "managed_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        }));
    live["iam_accounts"] = json!([{
        "account_id": sandbox,
        "read": {"via": "unreadable", "reason": "AccessDenied: the member role was removed"}
    }]);
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&live).expect("json"),
    );
    let ous = sb.read("desired-state/ous.yaml");
    let edited = ous.replacen(
        "      environment: staging\n",
        "      environment: staging\n      tier: pre-production\n",
        1,
    );
    assert_ne!(
        ous, edited,
        "the example's /Workloads/Staging has an environment tag"
    );
    sb.write("desired-state/ous.yaml", &edited);
    sb
}

/// The (class, address) pairs of a JSON report.
pub fn classes(report: &Value) -> Vec<(String, String)> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["class"].as_str().unwrap_or_default().to_owned(),
                i["address"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pair(class: &str, address: &str) -> (String, String) {
    (class.to_owned(), address.to_owned())
}

#[test]
fn every_class_in_every_format() {
    let sb = drifted_sandbox();
    let run = drift(&sb, &["--detailed-exitcode"]);
    insta::assert_snapshot!("drift_text_detailed_exitcode", shown(&sb, &run));
    run.expect_code(2);
    drift(&sb, &[]).expect_code(0);
    let run = drift(&sb, &["--format", "markdown"]);
    insta::assert_snapshot!("drift_markdown", shown(&sb, &run));
    run.expect_code(0);
    let run = drift(&sb, &["--format", "json"]);
    insta::assert_snapshot!("drift_json", shown(&sb, &run));
    run.expect_code(0);

    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["format_version"], 1);
    let got = classes(&report);
    for want in [
        pair("out_of_band", "account companyx-staging"),
        pair("out_of_band", "attachment scp/restrict-regions -> /Sandbox"),
        pair(
            "expired",
            "grant/partner-production -> account companyx-production",
        ),
        pair("unverifiable", "account companyx-sandbox"),
        pair("pending", "ou /Workloads/Staging"),
        pair("unmanaged", "ou /Legacy"),
        pair(
            "unmanaged",
            "role /vendor-support in account companyx-staging",
        ),
    ] {
        assert!(got.contains(&want), "{want:?} not in {got:#?}");
    }
    // The hand edits say when orgctl last applied there; the YAML edit says the YAML changed.
    let item = |address: &str| {
        report["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["address"] == address))
            .cloned()
            .unwrap_or_else(|| panic!("{address}"))
    };
    assert_eq!(item("account companyx-staging")["applied_on"], "2026-11-27");
    assert_eq!(item("ou /Workloads/Staging")["pending"], "yaml_changed");
    assert_eq!(report["summary"]["out_of_band"], 2);
    assert_eq!(report["summary"]["pending"], 1);
    // Most important first.
    let order = [
        "out_of_band",
        "expired",
        "unverifiable",
        "pending",
        "unmanaged",
    ];
    let rank = |c: &str| order.iter().position(|o| *o == c).expect("a class");
    assert!(
        got.windows(2).all(|w| rank(&w[0].0) <= rank(&w[1].0)),
        "{got:#?}"
    );
    // The counts are the items'.
    for class in order {
        assert_eq!(
            report["summary"][class].as_u64(),
            Some(got.iter().filter(|(c, _)| c == class).count() as u64),
            "{class}"
        );
    }
}

#[test]
fn no_drift_exits_0_and_unmanaged_resources_alone_are_not_drift() {
    let sb = Sandbox::new();
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    let run = sb.run(&["drift", "--detailed-exitcode"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("No drift: AWS matches the desired state (1 unmanaged resource listed"),
        "{}",
        run.stdout
    );
    // An unmanaged OU is listed, and still no drift.
    let mut live: Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot");
    let root = live["organization"]["root_id"].clone();
    live["ous"]
        .as_array_mut()
        .expect("ous")
        .push(json!({"id": "ou-1000-0000beef", "name": "Legacy", "parent_id": root, "tags": {}}));
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&live).expect("json"),
    );
    let run = sb.run(&["drift", "--detailed-exitcode", "--format", "json"]);
    run.expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(classes(&report).contains(&pair("unmanaged", "ou /Legacy")));
    assert_eq!(report["summary"]["unmanaged"], 2);
}

#[test]
fn an_account_closed_in_aws_but_active_in_the_yaml_is_unverifiable() {
    let sb = Sandbox::new();
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    let mut live: Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot");
    for a in live["accounts"].as_array_mut().expect("accounts") {
        if a["name"] == "companyx-sandbox" {
            a["status"] = json!("SUSPENDED");
        }
    }
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&live).expect("json"),
    );
    let run = sb.run(&["drift", "--detailed-exitcode", "--format", "json"]);
    run.expect_code(2);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let item = report["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["class"] == "unverifiable")
        .expect("an unverifiable item");
    assert_eq!(item["address"], "account companyx-sandbox");
    assert!(
        item["message"]
            .as_str()
            .is_some_and(|m| m.contains("SUSPENDED in AWS but active in the YAML")),
        "{item}"
    );
    // Its plan warning is the item, not a warning as well.
    assert!(report.get("warnings").is_none(), "{report}");
}

/// `--out FILE` writes the chosen format to the file and one line to stdout; the exit code is
/// the same.
#[test]
fn out_writes_the_report_and_prints_one_line() {
    let sb = drifted_sandbox();
    for format in ["text", "markdown", "json"] {
        let full = drift(&sb, &["--format", format]);
        full.expect_code(0);
        let run = drift(
            &sb,
            &[
                "--format",
                format,
                "--out",
                "report.out",
                "--detailed-exitcode",
            ],
        );
        run.expect_code(2);
        assert_eq!(sb.read("report.out"), full.stdout, "{format}");
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
        assert!(
            run.stdout.starts_with("Drift found: ") && run.stdout.contains("report.out"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn errors_exit_1() {
    let sb = Sandbox::new();
    let run = sb.run(&["drift", "--format", "yaml"]);
    run.expect_code(1);
    // A wrong organization is refused before anything else.
    sb.write(
        "live.json",
        &sb.snapshot_text().replace("123456789012", "210987654321"),
    );
    let run = sb.run(&["drift", "--detailed-exitcode"]);
    run.expect_code(1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("wrong organization"), "{}", run.stderr);
}

/// The committed schema is the one the binary prints, every key of the JSON output is in it,
/// and docs/drift.md names every field.
#[test]
fn the_drift_schema_describes_the_output_and_the_docs_name_every_field() {
    let sb = drifted_sandbox();
    let run = drift(&sb, &["--format", "json"]);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let schema = crate::common::orgctl(&repo(), &["schema", "--kind", "drift"], &[]);
    schema.expect_code(0);
    let schema: Value = serde_json::from_str(&schema.stdout).expect("JSON");
    assert_eq!(schema["properties"]["format_version"]["const"], 1);
    let mut names = std::collections::BTreeSet::new();
    crate::access::collect_names(&schema, &mut names);
    // Plan changes inside items follow the plan's schema (docs/plan-format.md).
    let mut without_changes = doc.clone();
    for item in without_changes["items"].as_array_mut().expect("items") {
        if let Some(item) = item.as_object_mut() {
            assert!(item.remove("change").is_some() || item["class"] != "pending");
        }
    }
    let mut keys = std::collections::BTreeSet::new();
    crate::access::collect_keys(&without_changes, &mut keys);
    for key in &keys {
        assert!(names.contains(key), "{key} is not in the drift schema");
    }
    let docs = std::fs::read_to_string(repo().join("docs/drift.md")).expect("docs/drift.md");
    for name in [
        "format_version",
        "summary",
        "items",
        "class",
        "address",
        "message",
        "change",
        "pending",
        "applied_on",
        "why",
        "what_to_do",
        "warnings",
        "errors",
        "out_of_band",
        "expired",
        "unverifiable",
        "unmanaged",
        "yaml_changed",
        "not_recorded",
    ] {
        assert!(names.contains(name), "{name} is not in the schema");
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/drift.md does not describe `{name}`"
        );
    }
}

/// The fenced block after `<!-- drift:NAME -->` in `doc`: the byte range of its content.
fn block_range(doc: &str, name: &str) -> std::ops::Range<usize> {
    let marker = format!("<!-- drift:{name} -->\n");
    let at = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker:?} not in docs/drift.md"))
        + marker.len();
    assert!(
        doc[at..].starts_with("```\n"),
        "a fenced block must follow {marker:?}"
    );
    let start = at + 4;
    let end = start
        + doc[start..]
            .find("```\n")
            .unwrap_or_else(|| panic!("the block after {marker:?} is not closed"));
    start..end
}

/// `docs/drift.md` shows what the binary prints for its example (`ORGCTL_UPDATE_DOCS=1`
/// rewrites it; review the diff).
#[test]
fn the_examples_in_docs_drift_md_are_real_output() {
    let sb = drifted_sandbox();
    let text = drift(&sb, &[]);
    text.expect_code(0);
    let out = drift(
        &sb,
        &[
            "--format",
            "markdown",
            "--out",
            "drift.md",
            "--detailed-exitcode",
        ],
    );
    out.expect_code(2);
    let shown = [
        ("text", format!("$ orgctl drift\n{}", text.stdout)),
        (
            "out",
            format!(
                "$ orgctl drift --format markdown --out drift.md --detailed-exitcode\n{}$ echo $?\n2\n",
                out.stdout
            ),
        ),
    ];
    let path = repo().join("docs/drift.md");
    let mut doc = std::fs::read_to_string(&path).expect("read docs/drift.md");
    if std::env::var_os("ORGCTL_UPDATE_DOCS").is_some() {
        for (name, body) in &shown {
            let range = block_range(&doc, name);
            doc.replace_range(range, body);
        }
        std::fs::write(&path, doc).expect("write docs/drift.md");
        return;
    }
    for (name, body) in &shown {
        assert_eq!(
            &doc[block_range(&doc, name)],
            body.as_str(),
            "docs/drift.md shows another `{name}` example than orgctl prints \
             (ORGCTL_UPDATE_DOCS=1 rewrites it; review the diff)"
        );
    }
}

/// A plan error (the YAML cannot be applied as it is) is part of the report and exits 1, with
/// or without `--detailed-exitcode`; the error is on stderr too.
#[test]
fn a_plan_error_is_reported_and_exits_1() {
    let sb = Sandbox::new();
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    // /Sandbox and its account leave the YAML: the OU would be deleted with an account orgctl
    // does not manage in it.
    let accounts = sb.read("desired-state/accounts.yaml");
    let cut = accounts
        .find("  # CompanyX's own playground")
        .expect("the sandbox account");
    sb.write("desired-state/accounts.yaml", &accounts[..cut]);
    let ous = sb.read("desired-state/ous.yaml");
    let cut = ous.find("  # Experiments.").expect("the sandbox OU");
    sb.write("desired-state/ous.yaml", &ous[..cut]);
    let grants = sb.read("desired-state/grants.yaml");
    sb.write(
        "desired-state/grants.yaml",
        &grants.replace("    exclude: [companyx-sandbox]", ""),
    );
    for args in [
        &["drift"][..],
        &["drift", "--detailed-exitcode", "--format", "json"],
    ] {
        let run = sb.run(args);
        run.expect_code(1);
        assert!(
            run.stderr.contains("error: ou /Sandbox: OU /Sandbox (")
                && run
                    .stderr
                    .contains(") is to be deleted but would still hold account companyx-sandbox"),
            "{}",
            run.stderr
        );
        if args.contains(&"json") {
            let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
            assert_eq!(report["summary"]["errors"], 1);
            assert_eq!(report["errors"][0]["address"], "ou /Sandbox");
        } else {
            assert!(
                run.stdout
                    .contains("The desired state cannot be applied as it is: 1 plan error."),
                "{}",
                run.stdout
            );
        }
    }
}

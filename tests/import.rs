//! `orgctl import` through the binary, on `--live-state` sandboxes: what it prints and writes,
//! the round trip (import → plan shows only adoptions → apply → plan empty), the refusals
//! (a non-empty directory without `--force`, `--out -`), `--only-managed`, and
//! `docs/adopting.md`, whose outputs are what the binary prints (`ORGCTL_UPDATE_DOCS=1`
//! rewrites them; review the diff).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use orgctl_backend::{MemoryOrg, OrgApi};
use orgctl_model::{PolicyType, Tags};

use crate::cli_snapshots::without_progress;
use crate::common::{Run, Sandbox, orgctl, repo};
use crate::partner_access::{block, block_range};

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The quick start's hand-built organization (`scripts/seed_handbuilt.py`) on the in-memory
/// backend: /Workloads and /Workloads/Staging made by hand, companyx-staging at the root,
/// companyx-production in Staging, an old deny-leave-organization SCP on the root, and a
/// /Legacy OU with its account and SCP.
pub fn hand_built() -> MemoryOrg {
    let org = MemoryOrg::new("123456789012", "root@companyx.example");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let root = org.list_roots().await.expect("roots")[0].id.clone();
        org.enable_policy_type(&root, PolicyType::ServiceControlPolicy)
            .await
            .expect("enable SCPs");
        let ou = |parent: String, name: &'static str, t: Tags| {
            let org = &org;
            async move { org.create_ou(&parent, name, &t).await.expect("OU").id }
        };
        let workloads = ou(
            root.clone(),
            "Workloads",
            tags(&[("cost-center", "platform"), ("aws-controltower-managed", "true")]),
        )
        .await;
        let staging = ou(
            workloads.clone(),
            "Staging",
            tags(&[("cost-center", "companyx"), ("environment", "staging")]),
        )
        .await;
        let legacy = ou(root.clone(), "Legacy", tags(&[("owner", "finance")])).await;
        let account = |name: &'static str, email: &'static str, t: Tags, parent: String| {
            let (org, root) = (&org, root.clone());
            async move {
                let status = org.create_account(name, email, &t).await.expect("account");
                let id = status.account_id.expect("created at once");
                if parent != root {
                    org.move_account(&id, &root, &parent).await.expect("move");
                }
                id
            }
        };
        account(
            "companyx-staging",
            "companyx-staging@partner.example",
            tags(&[
                ("cost-center", "companyx"),
                ("environment", "stage"),
                ("owner", "partner"),
                ("ticket", "OPS-12"),
            ]),
            root.clone(),
        )
        .await;
        account(
            "companyx-production",
            "companyx-production@partner.example",
            tags(&[
                ("cost-center", "companyx"),
                ("environment", "production"),
                ("owner", "partner"),
            ]),
            staging.clone(),
        )
        .await;
        account(
            "legacy-billing",
            "legacy-billing@companyx.example",
            tags(&[("owner", "finance")]),
            legacy.clone(),
        )
        .await;
        let deny_leave = org
            .create_policy(
                "deny-leave-organization",
                PolicyType::ServiceControlPolicy,
                "hand-made: no leaving",
                "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Deny\",\n      \"Action\": [\"organizations:LeaveOrganization\", \"account:CloseAccount\"],\n      \"Resource\": \"*\"\n    }\n  ]\n}",
                &Tags::new(),
            )
            .await
            .expect("policy")
            .id;
        org.attach_policy(&deny_leave, &root).await.expect("attach");
        let legacy_scp = org
            .create_policy(
                "legacy-deny-s3",
                PolicyType::ServiceControlPolicy,
                "Finance keeps its buckets",
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}"#,
                &Tags::new(),
            )
            .await
            .expect("policy")
            .id;
        org.attach_policy(&legacy_scp, &legacy).await.expect("attach");
    });
    org
}

/// A sandbox holding the hand-built organization (and the example in `desired-state/`).
pub fn hand_built_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write_org(&hand_built());
    sb
}

/// Every file below `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("below")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    out
}

fn shown(run: &Run) -> String {
    format!(
        "exit code: {}\n--- stdout\n{}--- stderr\n{}",
        run.code,
        run.stdout,
        without_progress(&run.stderr)
    )
}

/// The changes of a JSON plan: (address, action, reason, ops).
fn changes(plan_json: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(plan_json).expect("a JSON plan");
    v["changes"].as_array().cloned().unwrap_or_default()
}

/// Whether a JSON plan change only adopts an OU or policy (the managed-by tag, said so).
fn is_adoption(c: &serde_json::Value) -> bool {
    let ops = c["ops"].as_array().cloned().unwrap_or_default();
    matches!(c["kind"].as_str(), Some("ou" | "policy"))
        && c["action"] == "update"
        && c["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("Adopted"))
        && ops.len() == 1
        && ops[0]["op"] == "tag_resource"
        && ops[0]["tags"] == serde_json::json!({"managed-by": "orgctl"})
}

#[test]
fn the_hand_built_organization_round_trips_through_import_plan_and_apply() {
    let sb = hand_built_sandbox();
    let run = sb.run(&["import", "--out", "imported"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "import writes files, not stdout");
    insta::assert_snapshot!("import_hand_built_run", shown(&run));
    let written = files(&sb.path().join("imported"));
    insta::assert_snapshot!(
        "import_hand_built_files",
        written
            .iter()
            .map(|(p, t)| format!("=== {p}\n{t}"))
            .collect::<String>()
    );
    orgctl(sb.path(), &["validate", "imported"], &[]).expect_code(0);

    let plan = sb.run(&[
        "plan",
        "imported",
        "--format",
        "json",
        "--detailed-exitcode",
    ]);
    plan.expect_code(2);
    let all = changes(&plan.stdout);
    let addresses: Vec<&str> = all.iter().filter_map(|c| c["address"].as_str()).collect();
    assert_eq!(
        addresses,
        [
            "ou /Legacy",
            "ou /Workloads",
            "ou /Workloads/Staging",
            "policy scp/deny-leave-organization",
            "policy scp/legacy-deny-s3",
        ]
    );
    for c in &all {
        assert!(is_adoption(c), "not an adoption: {c:#}");
    }
    sb.run(&["apply", "imported", "--auto-approve"])
        .expect_code(0);
    let again = sb.run(&["plan", "imported", "--detailed-exitcode"]);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // The same organization gives the same bytes (the adoption changed only managed-by tags,
    // which import does not write).
    sb.run(&["import", "--out", "again"]).expect_code(0);
    assert_eq!(files(&sb.path().join("again")), written);
}

#[test]
fn a_directory_that_is_not_empty_is_refused_and_nothing_is_written() {
    let sb = hand_built_sandbox();
    let before = files(&sb.path().join("desired-state"));
    let run = sb.run(&["import"]);
    insta::assert_snapshot!("import_refuses_a_non_empty_dir", shown(&run));
    run.expect_code(1);
    assert_eq!(files(&sb.path().join("desired-state")), before);

    let run = sb.run(&["import", "--out", "-"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("--out -: import writes a directory"),
        "{}",
        run.stderr
    );
    assert!(!sb.path().join("-").exists());

    sb.write("a-file", "x");
    let run = sb.run(&["import", "--out", "a-file"]);
    run.expect_code(1);
    assert!(run.stderr.contains("is not a directory"), "{}", run.stderr);

    // --force replaces the files import writes and leaves the others.
    let run = sb.run(&["import", "--force"]);
    run.expect_code(0);
    let after = files(&sb.path().join("desired-state"));
    assert!(after["ous.yaml"].contains("Imported by `orgctl import`"));
    assert_eq!(
        after["policies/restrict-regions.json"],
        before["policies/restrict-regions.json"]
    );
    assert_ne!(after["ous.yaml"], before["ous.yaml"]);
}

#[test]
fn only_managed_imports_what_orgctl_manages() {
    let sb = hand_built_sandbox();
    // Before any apply, nothing is orgctl's: no OU, account or policy is imported.
    let run = sb.run(&["import", "--out", "none", "--only-managed"]);
    run.expect_code(0);
    let none = files(&sb.path().join("none"));
    assert!(none["ous.yaml"].contains("ous: []"), "{}", none["ous.yaml"]);
    assert!(none["accounts.yaml"].contains("accounts: []"));
    assert!(none["policies.yaml"].contains("policies: []"));
    sb.run(&["plan", "none", "--detailed-exitcode"])
        .expect_code(0);

    // Adopt everything, then drop /Legacy's account and SCP from the YAML: they stay in AWS,
    // the SCP keeps orgctl's marker.
    sb.run(&["import", "--out", "all"]).expect_code(0);
    sb.run(&["apply", "all", "--auto-approve"]).expect_code(0);
    let run = sb.run(&["import", "--out", "managed", "--only-managed"]);
    run.expect_code(0);
    let written = files(&sb.path().join("managed"));
    for ou in ["/Legacy", "/Workloads", "/Workloads/Staging"] {
        assert!(
            written["ous.yaml"].contains(&format!("path: {ou}\n")),
            "{ou}"
        );
    }
    assert!(written["policies.yaml"].contains("name: legacy-deny-s3"));
    assert!(written["policies.yaml"].contains("name: deny-leave-organization"));
    // Accounts carry no managed-by tag: those imported are exactly those that carry orgctl's
    // record of an apply (none hold a role of orgctl's here).
    let live: serde_json::Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot");
    let recorded: Vec<String> = live["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter(|a| a["tags"].get(orgctl_manifest::export::RECORD_KEY).is_some())
        .map(|a| format!("    id: \"{}\"\n", a["id"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        written["accounts.yaml"].matches("    id: \"").count(),
        recorded.len(),
        "{}",
        written["accounts.yaml"]
    );
    for id in &recorded {
        assert!(written["accounts.yaml"].contains(id.as_str()), "{id}");
    }
    sb.run(&["plan", "managed", "--detailed-exitcode"])
        .expect_code(0);
}

// ---------------------------------------------------------------------------------------------
// docs/adopting.md
// ---------------------------------------------------------------------------------------------

fn doc_path() -> PathBuf {
    repo().join("docs/adopting.md")
}

/// `orgctl import`, `plan`, `apply`, the next plan and the first pull request's plan, as the
/// page shows them, from the hand-built organization.
fn walk_through() -> Vec<(&'static str, String)> {
    let sb = hand_built_sandbox();
    std::fs::remove_dir_all(sb.path().join("desired-state"))
        .expect("start without a desired state");
    let mut shown = Vec::new();
    let import = sb.run(&["import"]);
    import.expect_code(0);
    shown.push(("import", without_progress(&import.stderr)));
    shown.push(("ous", sb.read("desired-state/ous.yaml")));
    shown.push(("accounts", sb.read("desired-state/accounts.yaml")));
    shown.push(("policies", sb.read("desired-state/policies.yaml")));
    let validate = orgctl(sb.path(), &["validate"], &[]);
    validate.expect_code(0);
    shown.push(("validate", validate.stderr.clone()));
    let plan = sb.run(&["plan"]);
    plan.expect_code(0);
    shown.push(("plan", plan.stdout.clone()));
    let apply = sb.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    let again = sb.run(&["plan", "--detailed-exitcode"]);
    again.expect_code(0);
    shown.push(("plan-after", again.stdout.clone()));
    // The first pull request: companyx-staging's stale tag and its place.
    let doc = std::fs::read_to_string(doc_path()).unwrap_or_default();
    let diff = block(&doc, "pr-diff");
    let accounts = sb.read("desired-state/accounts.yaml");
    sb.write(
        "desired-state/accounts.yaml",
        &crate::partner_access::apply_diff(&accounts, &diff),
    );
    let pr = sb.run(&["plan"]);
    pr.expect_code(0);
    shown.push(("pr-plan", pr.stdout.clone()));
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    sb.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    shown
}

#[test]
fn adopting_md_shows_what_the_binary_prints() {
    let path = doc_path();
    let shown = walk_through();
    let mut doc = std::fs::read_to_string(&path).expect("read docs/adopting.md");
    if std::env::var_os("ORGCTL_UPDATE_DOCS").is_some() {
        for (name, text) in &shown {
            let range = block_range(&doc, name);
            doc.replace_range(range, text);
        }
        std::fs::write(&path, doc).expect("write docs/adopting.md");
        return;
    }
    for (name, text) in &shown {
        assert_eq!(
            &block(&doc, name),
            text,
            "docs/adopting.md shows another `{name}` than orgctl prints (ORGCTL_UPDATE_DOCS=1 \
             rewrites it; review the diff)"
        );
    }
}

#[test]
fn what_the_yaml_cannot_say_is_made_valid_and_reported_on_stderr_and_in_the_files() {
    let org = hand_built();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let root = org.list_roots().await.expect("roots")[0].id.clone();
        org.create_ou(&root, "Team/A", &tags(&[("managed-by", "terraform")]))
            .await
            .expect("OU");
        org.create_account(
            "root",
            "root-named@companyx.example",
            &tags(&[("note", "a\u{a0}b")]),
        )
        .await
        .expect("account");
    });
    let sb = Sandbox::new();
    sb.write_org(&org);
    let run = sb.run(&["import", "--out", "odd"]);
    run.expect_code(0);
    insta::assert_snapshot!("import_odd_names_run", shown(&run));
    let written = files(&sb.path().join("odd"));
    assert!(written["ous.yaml"].contains(
        "  # OU ou-2109-00000004 is named `Team/A` in AWS, which the YAML cannot say (a `/` or a \
         character that does not show): written as `Team-A`, so the plan renames it\n  # it is \
         tagged managed-by: terraform"
    ), "{}", written["ous.yaml"]);
    assert!(written["organization.yaml"].contains("  ignore_tag_keys:\n    - note\n"));
    // The plan: the adoptions, and the one change import warned about (the rename).
    let plan = sb.run(&["plan", "odd", "--format", "json", "--detailed-exitcode"]);
    plan.expect_code(2);
    let all = changes(&plan.stdout);
    let others: Vec<(&str, &str)> = all
        .iter()
        .filter(|c| !is_adoption(c))
        .map(|c| {
            (
                c["address"].as_str().unwrap_or(""),
                c["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(others, [("ou /Team-A", "rename")]);
    sb.run(&["apply", "odd", "--auto-approve"]).expect_code(0);
    sb.run(&["plan", "odd", "--detailed-exitcode"])
        .expect_code(0);
}

//! `orgctl access` on `--live-state` sandboxes: what it prints in every format (reviewed insta
//! snapshots), its exit codes, `--account`, and its JSON against `docs/access.schema.json`.

use serde_json::{Value, json};

use crate::common::{Run, Sandbox, repo};

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

fn trust(principal: &str, external_id: Option<&str>, access_ends: Option<&str>) -> String {
    orgctl_model::trust_policy(principal, external_id, false, access_ends)
}

/// The example organization applied, plus orgctl roles in its member accounts: a partner's
/// role on staging until 2026-12-31, one on production that ended on 2026-11-19 but is still
/// there, and a role under /orgctl/ someone made by hand in the sandbox account.
fn sandbox_with_roles() -> Sandbox {
    let sb = Sandbox::new();
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    let mut live: Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot");
    let id = |name: &str| -> String {
        live["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["name"] == name)
            .and_then(|a| a["id"].as_str())
            .expect("account")
            .to_owned()
    };
    let grant_tags = |grant: &str| json!({"managed-by": "orgctl", "orgctl-grant": grant});
    let roles = json!([
        {
            "account_id": id("companyx-staging"),
            "role_name": "partner-staging",
            "path": "/orgctl/",
            "trust_policy": trust("arn:aws:iam::999999999999:root", Some("partner-ext-4711"), Some("2027-01-01T00:00:00Z")),
            "description": "orgctl grant partner-staging for Partner A, owner platform",
            "max_session_secs": 3600,
            "managed_policies": ["arn:aws:iam::aws:policy/AdministratorAccess"],
            "inline_policies": {"read-logs": "{\"Statement\":[{\"Action\":\"logs:Get*\",\"Effect\":\"Allow\",\"Resource\":\"*\"}],\"Version\":\"2012-10-17\"}"},
            "tags": grant_tags("partner-staging"),
        },
        {
            "account_id": id("companyx-production"),
            "role_name": "partner-prod",
            "path": "/orgctl/",
            "trust_policy": trust("arn:aws:iam::999999999999:role/deploy", Some("partner-ext-4711"), Some("2026-11-20T00:00:00Z")),
            "managed_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "permissions_boundary": "arn:aws:iam::aws:policy/PowerUserAccess",
            "tags": grant_tags("partner-prod"),
        },
        {
            "account_id": id("companyx-sandbox"),
            "role_name": "hand-made",
            "path": "/orgctl/",
            "trust_policy": trust(&format!("arn:aws:iam::{}:root", id("companyx-staging")), None, None),
        },
    ]);
    // Beside the roles the apply created for the example's grants.
    let mut all = live["access_roles"].as_array().cloned().unwrap_or_default();
    all.extend(roles.as_array().cloned().unwrap_or_default());
    live["access_roles"] = Value::Array(all);
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&live).expect("json"),
    );
    sb
}

#[test]
fn access_in_every_format() {
    let sb = sandbox_with_roles();
    let run = sb.run(&["access", "--detailed-exitcode"]);
    insta::assert_snapshot!("access_text_detailed_exitcode", shown(&sb, &run));
    assert_eq!(run.code, 2, "an expired role still present is flagged");
    let run = sb.run(&["access"]);
    assert_eq!(
        run.code, 0,
        "without --detailed-exitcode a finding is not a failure"
    );
    let run = sb.run(&["access", "--format", "markdown"]);
    insta::assert_snapshot!("access_markdown", shown(&sb, &run));
    let run = sb.run(&["access", "--format", "json"]);
    insta::assert_snapshot!("access_json", shown(&sb, &run));
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["format_version"], 1);
    // The expired role, and the two accounts whose root email is on partner.example, outside
    // the example's email_domains (companyx.example).
    assert_eq!(doc["summary"]["findings"], 3);
    assert_eq!(doc["summary"]["flagged_accounts"], 2);
}

#[test]
fn one_account_by_name_or_id_and_an_unknown_one() {
    let sb = sandbox_with_roles();
    let run = sb.run(&[
        "access",
        "--account",
        "companyx-staging",
        "--detailed-exitcode",
    ]);
    insta::assert_snapshot!("access_one_account", shown(&sb, &run));
    // Its root email is on partner.example, outside the example's email_domains.
    run.expect_code(2);
    let live: Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot");
    let staging = live["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["name"] == "companyx-staging")
        .and_then(|a| a["id"].as_str())
        .expect("id")
        .to_owned();
    let by_id = sb.run(&["access", "--account", &staging]);
    assert_eq!(by_id.stdout, run.stdout);

    let run = sb.run(&["access", "--account", "companyx-nowhere"]);
    insta::assert_snapshot!("access_unknown_account", shown(&sb, &run));
    run.expect_code(1);
    assert!(run.stdout.is_empty());
}

#[test]
fn access_on_an_organization_without_member_accounts() {
    let sb = Sandbox::new();
    let run = sb.run(&["access", "--detailed-exitcode"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("Access: 1 account reviewed, 0 orgctl roles, nothing flagged."),
        "{}",
        run.stdout
    );
    // A wrong organization is refused as plan refuses it.
    sb.write(
        "live.json",
        &sb.snapshot_text().replace("123456789012", "210987654321"),
    );
    let run = sb.run(&["access"]);
    run.expect_code(1);
    assert!(run.stderr.contains("wrong organization"), "{}", run.stderr);
}

/// Every key of the JSON output is in the schema, and docs/access.md names every field.
#[test]
fn the_access_schema_describes_the_output_and_the_docs_name_every_field() {
    let sb = sandbox_with_roles();
    let run = sb.run(&["access", "--format", "json"]);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let schema = crate::common::orgctl(&repo(), &["schema", "--kind", "access"], &[]);
    schema.expect_code(0);
    let schema: Value = serde_json::from_str(&schema.stdout).expect("JSON");
    assert_eq!(schema["properties"]["format_version"]["const"], 1);
    let mut names = std::collections::BTreeSet::new();
    collect_names(&schema, &mut names);
    let mut keys = std::collections::BTreeSet::new();
    collect_keys(&doc, &mut keys);
    for key in &keys {
        assert!(names.contains(key), "{key} is not in the access schema");
    }
    let docs = std::fs::read_to_string(repo().join("docs/access.md")).expect("docs/access.md");
    for name in names {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/access.md does not describe `{name}`"
        );
    }
}

pub fn collect_keys(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                collect_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_keys(v, out)),
        _ => {}
    }
}

/// Property names and enum values of a schema.
pub fn collect_names(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(props) = map.get("properties").and_then(Value::as_object) {
                out.extend(props.keys().cloned());
            }
            for key in ["enum"] {
                if let Some(values) = map.get(key).and_then(Value::as_array) {
                    out.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
                }
            }
            if let Some(c) = map.get("const").and_then(Value::as_str) {
                out.insert(c.to_owned());
            }
            for v in map.values() {
                collect_names(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_names(v, out)),
        _ => {}
    }
}

/// Grants in the YAML: one whose role is in place (active, days left), one whose role the next
/// apply creates (pending), and with `plan_role` set the read role wanted in every listed
/// account, read through the member role where it is not there yet (a fallback, with why).
#[test]
fn desired_grants_and_the_read_role() {
    let sb = sandbox_with_roles();
    sb.write(
        "desired-state/grants.yaml",
        "grants:\n  - name: partner-staging\n    partner: Partner A\n    owner: platform\n    \
         ticket: OPS-1\n    principal: \"999999999999\"\n    external_id: partner-ext-4711\n    \
         permissions:\n      managed: [AdministratorAccess]\n    targets: [companyx-staging]\n    \
         role_name: partner-staging\n    expires: 2026-12-31\n  - name: partner-sandbox\n    \
         partner: Partner A\n    owner: platform\n    ticket: OPS-2\n    principal: \
         \"999999999999\"\n    external_id: partner-ext-4711\n    permissions:\n      \
         managed: [ReadOnlyAccess]\n    targets: [/Sandbox]\n    expires: 2027-01-31\n",
    );
    // The example sets plan_role, so the apply made the read role everywhere: take it out of
    // every account again (as before the first apply with plan_role set).
    let mut live: Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot");
    if let Some(roles) = live["access_roles"].as_array_mut() {
        roles.retain(|r| r["role_name"] != "orgctl-read");
    }
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&live).expect("json"),
    );
    let run = sb.run(&["access", "--account", "companyx-staging"]);
    insta::assert_snapshot!("access_with_grants_staging", shown(&sb, &run));
    run.expect_code(0);
    let run = sb.run(&["access", "--format", "json"]);
    run.expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let grants = |name: &str| -> Vec<(String, String)> {
        doc["accounts"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["name"] == name))
            .and_then(|a| a["grants"].as_array())
            .expect("grants")
            .iter()
            .map(|g| {
                (
                    g["grant"].as_str().unwrap_or_default().to_owned(),
                    g["state"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let pair = |g: &str, s: &str| (g.to_owned(), s.to_owned());
    // (This grants.yaml replaces the example's: the roles the apply made for its grants are
    // no longer granted.)
    let staging = grants("companyx-staging");
    assert!(
        staging.contains(&pair("orgctl-read", "pending")),
        "{staging:?}"
    );
    assert!(
        staging.contains(&pair("partner-staging", "active")),
        "{staging:?}"
    );
    assert!(
        staging.contains(&pair("auditor-readonly", "removing")),
        "{staging:?}"
    );
    let sandbox = grants("companyx-sandbox");
    assert!(
        sandbox.contains(&pair("partner-sandbox", "pending")),
        "{sandbox:?}"
    );
    assert!(
        sandbox.contains(&pair("orgctl-read", "pending")),
        "{sandbox:?}"
    );
    let production = grants("companyx-production");
    assert!(
        production.contains(&pair("partner-prod", "expired_present")),
        "{production:?}"
    );
    assert!(
        production.contains(&pair("orgctl-read", "pending")),
        "{production:?}"
    );
    assert_eq!(grants("management"), vec![]);
}

/// An account whose IAM cannot be reached (the snapshot records it unreadable, as an account
/// whose member role was removed) is a warning naming it and a finding; the others are
/// reviewed.
#[test]
fn an_unreadable_account_is_a_warning_and_a_finding() {
    let sb = sandbox_with_roles();
    let mut live: Value = serde_json::from_str(&sb.snapshot_text()).expect("snapshot");
    let sandbox = live["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["name"] == "companyx-sandbox")
        .and_then(|a| a["id"].as_str())
        .expect("id")
        .to_owned();
    live["iam_accounts"] = json!([{
        "account_id": sandbox,
        "read": {"via": "unreadable", "reason": "recorded unreadable"}
    }]);
    sb.write(
        "live.json",
        &serde_json::to_string_pretty(&live).expect("json"),
    );
    let run = sb.run(&[
        "access",
        "--account",
        "companyx-sandbox",
        "--detailed-exitcode",
    ]);
    insta::assert_snapshot!("access_unreadable_account", shown(&sb, &run));
    run.expect_code(2);
    assert!(
        run.stderr.contains(&format!(
            "warning: account companyx-sandbox ({sandbox}): IAM could not be read"
        )),
        "{}",
        run.stderr
    );
}

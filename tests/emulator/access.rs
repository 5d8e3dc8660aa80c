//! `orgctl access` against the emulator over real HTTP: the example organization applied, a role
//! outside `/orgctl/` trusting an account outside the organization created through the SDK (as
//! someone would by hand), root emails outside `email_domains`; every member account's roles
//! read with one ListRoles each.

use std::path::Path;

use orgctl_aws::connect_static;
use orgctl_backend::iam::{IamApi, NewRole};
use orgctl_backend::{ReadOptions, read_live};
use serde_json::Value;

use super::moto::moto;
use super::support::{TestOrg, env_vars, run_binary};
use crate::common::{copy_dir, repo};

/// Runs the binary in `cwd` with only the test organization's credentials and moto's endpoint
/// (no shared config files, no instance metadata), a pinned date and no colour.
fn run(cwd: &Path, t: &TestOrg, args: &[&str]) -> (i32, String, String) {
    run_binary(cwd, args, &env_vars(&t.env, &moto().url))
}

/// The `-v` request count of one operation.
fn requests(stderr: &str, operation: &str) -> usize {
    stderr
        .lines()
        .filter_map(|l| {
            let (op, rest) = l.trim().split_once(char::is_whitespace)?;
            (op == operation).then(|| rest.trim().split_once(" (")?.0.parse::<usize>().ok())?
        })
        .sum()
}

#[tokio::test]
async fn access_finds_outside_trust_and_root_emails_outside_the_company_domains() {
    let t = TestOrg::new().await;
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &repo().join("desired-state"),
        &dir.path().join("desired-state"),
    );
    let org_yaml = dir.path().join("desired-state/organization.yaml");
    let text = std::fs::read_to_string(&org_yaml).expect("organization.yaml");
    std::fs::write(&org_yaml, text.replace("123456789012", t.management()))
        .expect("pin the example");
    let (code, _, stderr) = run(dir.path(), &t, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");

    let org = connect_static(&t.env, None).await.expect("connect");
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let id = |name: &str| {
        live.accounts
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.id.clone())
            .unwrap_or_else(|| panic!("account {name}"))
    };
    let (staging, sandbox) = (id("companyx-staging"), id("companyx-sandbox"));
    let members = live.accounts.len() - 1;

    // Someone grants a vendor access by hand, outside /orgctl/, and an in-house CI role trusts
    // the management account (inside the organization: not flagged).
    let iam = org.iam("OrganizationAccountAccessRole");
    let trust = |principal: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    for (name, principal) in [
        ("vendor-audit", "arn:aws:iam::888888888888:root".to_owned()),
        ("ci", format!("arn:aws:iam::{}:root", t.management())),
    ] {
        iam.create_role(
            &staging,
            &NewRole {
                path: "/".into(),
                name: name.into(),
                trust_policy: trust(&principal),
                description: String::new(),
                max_session_secs: 3600,
                tags: Default::default(),
            },
        )
        .await
        .expect("create role");
    }

    let (code, stdout, stderr) = run(dir.path(), &t, &["access", "--detailed-exitcode", "-v"]);
    assert_eq!(
        code, 2,
        "flagged\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "! companyx-staging ({staging}), /Workloads/Staging"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("outside trust: role /vendor-audit trusts arn:aws:iam::888888888888:root"),
        "{stdout}"
    );
    assert!(!stdout.contains("role /ci trusts"), "{stdout}");
    assert!(
        stdout.contains(
            "root email:   companyx-production@partner.example (NOT a company domain: whoever \
             controls partner.example can reset the root password)"
        ),
        "{stdout}"
    );
    // Every member account is read once: one ListRoles each (no path prefix), no writes.
    assert_eq!(requests(&stderr, "ListRoles"), members, "{stderr}");
    assert_eq!(requests(&stderr, "CreateRole"), 0, "{stderr}");

    // One account: only its IAM is read; the sandbox account (companyx.example, no outside
    // trust) has nothing flagged.
    let (code, stdout, stderr) = run(
        dir.path(),
        &t,
        &[
            "access",
            "--account",
            "companyx-sandbox",
            "--format",
            "json",
            "--detailed-exitcode",
            "-v",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(doc["accounts"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["accounts"][0]["id"], sandbox.as_str());
    assert_eq!(doc["accounts"][0]["root_email"]["check"], "owned");
    assert_eq!(requests(&stderr, "ListRoles"), 1, "{stderr}");

    let (code, stdout, _) = run(dir.path(), &t, &["access", "--format", "json"]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    let staging_doc = doc["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["id"] == staging.as_str()))
        .expect("staging");
    assert_eq!(
        staging_doc["external_trust"],
        serde_json::json!([{
            "path": "/",
            "role_name": "vendor-audit",
            "principals": ["arn:aws:iam::888888888888:root"],
            "external_id": false
        }])
    );
}

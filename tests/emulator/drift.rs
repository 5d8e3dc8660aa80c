//! `orgctl drift` against the emulator over real HTTP: the example organization applied (apply
//! records what it applied in AWS), then, by hand through the SDK, a tag edited and a managed SCP
//! attached, while the YAML of another resource changes: in one run the two hand edits are
//! out-of-band and the YAML edit is pending; an expired grant, a closed account, an unmanaged OU
//! and a role trusting an outside account give the other classes.

use std::path::Path;

use orgctl_aws::connect_static;
use orgctl_backend::iam::{IamApi, NewRole};
use orgctl_backend::{OrgApi, ReadOptions, read_live};
use serde_json::Value;

use super::moto::moto;
use super::support::{TestOrg, env_vars, run_binary};
use crate::common::{copy_dir, repo};

fn run(cwd: &Path, t: &TestOrg, args: &[&str]) -> (i32, String, String) {
    run_binary(cwd, args, &env_vars(&t.env, &moto().url))
}

/// (class, address) of each item of a JSON report.
fn classes(report: &Value) -> Vec<(String, String)> {
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

#[tokio::test]
async fn hand_edits_are_out_of_band_while_a_yaml_edit_is_pending() {
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
    let (code, stdout, stderr) = run(dir.path(), &t, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    // Right after the apply: no drift (the management account is listed for information).
    let (code, stdout, stderr) = run(dir.path(), &t, &["drift", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("No drift: AWS matches the desired state"),
        "{stdout}"
    );

    let org = connect_static(&t.env, None).await.expect("connect");
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let account = |name: &str| {
        live.accounts
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.id.clone())
            .unwrap_or_else(|| panic!("account {name}"))
    };
    let ou = |name: &str| {
        live.ous
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.id.clone())
            .unwrap_or_else(|| panic!("OU {name}"))
    };
    let policy = |name: &str| {
        live.policies
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.id.clone())
            .unwrap_or_else(|| panic!("policy {name}"))
    };

    // By hand, in AWS: a tag edited on companyx-staging, SCP restrict-regions attached to
    // /Sandbox, companyx-production closed, an OU made at the root, a vendor role trusting an
    // outside account.
    org.tag_resource(
        &account("companyx-staging"),
        &[("owner".to_owned(), "someone-else".to_owned())].into(),
    )
    .await
    .expect("tag by hand");
    org.attach_policy(&policy("restrict-regions"), &ou("Sandbox"))
        .await
        .expect("attach by hand");
    org.create_ou(&live.organization.root_id, "Legacy", &Default::default())
        .await
        .expect("an OU by hand");
    let iam = org.iam("OrganizationAccountAccessRole");
    iam.create_role(
        &account("companyx-sandbox"),
        &NewRole {
            path: "/".into(),
            name: "vendor-support".into(),
            trust_policy: orgctl_model::trust_policy(
                "arn:aws:iam::888888888888:root",
                None,
                false,
                None,
            ),
            description: String::new(),
            max_session_secs: 3600,
            tags: Default::default(),
        },
    )
    .await
    .expect("a vendor role by hand");
    org.close_account(&account("companyx-production"))
        .await
        .expect("close by hand");

    // In git: a pull request adds a tag to /Workloads/Staging (not applied).
    let ous = dir.path().join("desired-state/ous.yaml");
    let text = std::fs::read_to_string(&ous).expect("ous.yaml");
    let edited = text.replacen(
        "      environment: staging\n",
        "      environment: staging\n      tier: pre-production\n",
        1,
    );
    assert_ne!(text, edited);
    std::fs::write(&ous, edited).expect("edit ous.yaml");

    // companyx-production is closed: nothing in it is read, so it is unverifiable (its grant
    // roles included).
    let (code, stdout, stderr) = run(
        dir.path(),
        &t,
        &["drift", "--format", "json", "--detailed-exitcode"],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    let got = classes(&report);
    for want in [
        pair("out_of_band", "account companyx-staging"),
        pair("out_of_band", "attachment scp/restrict-regions -> /Sandbox"),
        pair("pending", "ou /Workloads/Staging"),
        pair("unverifiable", "account companyx-production"),
        pair("unmanaged", "ou /Legacy"),
        pair(
            "unmanaged",
            "role /vendor-support in account companyx-sandbox",
        ),
    ] {
        assert!(got.contains(&want), "{want:?} not in {got:#?}");
    }
    let oob = report["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["address"] == "account companyx-staging")
        .expect("the tag edit");
    assert_eq!(oob["applied_on"], "2026-11-27", "{oob}");
    assert_eq!(report["summary"]["out_of_band"], 2, "{got:#?}");
    assert_eq!(report["summary"]["pending"], 1, "{got:#?}");
}

/// A grant past `expires` whose role still exists is expired, on the emulator too.
#[tokio::test]
async fn an_expired_grant_whose_role_exists_is_expired() {
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
    let (code, stdout, stderr) = run(dir.path(), &t, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(
        dir.path(),
        &t,
        &["drift", "--detailed-exitcode", "--today", "2027-04-01"],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "Expired (1): grants past their `expires` whose roles still exist\n\n  - \
             grant/partner-production -> account companyx-production will be deleted"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Drift found: 0 out-of-band, 1 expired, 0 unverifiable, 0 pending"),
        "{stdout}"
    );
}

//! `orgctl import` through the binary against the emulator, on the quick start's hand-built
//! organization (`scripts/seed_handbuilt.py`): the imported files load, the plan from them
//! only adopts, after the apply the next plan is empty, and importing again gives the same
//! files. Then a grant applied from the YAML comes back from its IAM roles: the plan from a
//! fresh import of the organization is empty.

use std::collections::BTreeMap;
use std::path::Path;

use super::moto::moto;
use super::support::{env_vars, random_account_id, run_binary, seed_handbuilt, seeded_env};

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
                let rel = path.strip_prefix(dir).expect("below");
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read_to_string(&path).expect("read"),
                );
            }
        }
    }
    out
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

const GRANT: &str = r#"
grants:
  - name: partner-staging
    partner: Partner GmbH
    owner: cto@companyx.example
    ticket: OPS-1042
    principal: "999988887777"
    external_id: companyx-7f3a9c2e
    mfa: true
    max_session: 4h
    permissions:
      managed: [ReadOnlyAccess]
      inline:
        - name: deny-billing
          document:
            Version: "2012-10-17"
            Statement:
              - Effect: Deny
                Action: "aws-portal:*"
                Resource: "*"
    targets: [companyx-staging]
    expires: 2027-06-30
"#;

#[test]
fn the_hand_built_organization_round_trips_through_import() {
    let account = random_account_id();
    let seeded = seed_handbuilt(&account);
    let env = env_vars(&seeded_env(&seeded), &moto().url);
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let (code, stdout, stderr) = run_binary(dir.path(), args, &env);
        (code, stdout, stderr)
    };
    let expect = |args: &[&str], want: i32| {
        let (code, stdout, stderr) = run(args);
        assert_eq!(
            code, want,
            "orgctl {args:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        (stdout, stderr)
    };

    let (stdout, stderr) = expect(&["import", "--out", "imported"], 0);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("into imported: 3 OUs, 4 accounts, 2 policies, 0 grants"),
        "{stderr}"
    );
    let written = files(&dir.path().join("imported"));
    assert!(
        written["organization.yaml"].contains(&format!("management_account_id: \"{account}\""))
    );
    expect(&["validate", "imported"], 0);

    let (plan, _) = expect(
        &[
            "plan",
            "imported",
            "--format",
            "json",
            "--detailed-exitcode",
        ],
        2,
    );
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("JSON plan");
    let changes = plan["changes"].as_array().cloned().unwrap_or_default();
    let addresses: Vec<&str> = changes
        .iter()
        .filter_map(|c| c["address"].as_str())
        .collect();
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
    for c in &changes {
        assert!(is_adoption(c), "not an adoption: {c:#}");
    }
    expect(&["apply", "imported", "--auto-approve"], 0);
    expect(&["plan", "imported", "--detailed-exitcode"], 0);

    // The same organization, the same bytes.
    expect(&["import", "--out", "again"], 0);
    assert_eq!(files(&dir.path().join("again")), written);

    // A grant applied from the YAML comes back from its roles in IAM.
    std::fs::write(dir.path().join("imported/grants.yaml"), GRANT).expect("write grants");
    expect(&["apply", "imported", "--auto-approve"], 0);
    expect(&["plan", "imported", "--detailed-exitcode"], 0);
    expect(&["import", "--out", "with-grant"], 0);
    let grants = &files(&dir.path().join("with-grant"))["grants.yaml"];
    for line in [
        "  - name: partner-staging",
        "    partner: Partner GmbH",
        "    principal: \"999988887777\"",
        "    external_id: companyx-7f3a9c2e",
        "    max_session: 4h",
        "        - ReadOnlyAccess",
        "          document_file: policies/grants/partner-staging.deny-billing.json",
        "      - companyx-staging",
        "    expires: \"2027-06-30\"",
    ] {
        assert!(grants.contains(line), "{line:?} not in\n{grants}");
    }
    let (plan, _) = expect(&["plan", "with-grant", "--detailed-exitcode"], 0);
    assert!(plan.contains("No changes."), "{plan}");
}

//! Access grants end to end over real HTTP: the `orgctl` binary plans and applies grants against
//! the emulator, and the tests read IAM in the member accounts directly through the SDK
//! (`SdkIam`, assuming `OrganizationAccountAccessRole`) to check what AWS holds: roles only in the
//! target accounts, with the trust policy, session, policies, boundary and tags the YAML says; a
//! second apply writes nothing; an expiry deletes the roles; a new principal changes the trust
//! policy of the same role; an out-of-band attachment is reverted; and the three pull requests
//! of `docs/partner-access.md`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use orgctl_aws::{SdkIam, SdkOrg, connect_static};
use orgctl_backend::iam::{IamApi, operations as iam_ops};
use orgctl_backend::{ReadOptions, operations, read_live};
use orgctl_model::{ROLE_PATH, Tags};
use serde_json::Value;

use super::moto::moto;
use super::support::{TestOrg, env_vars, run_binary};

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
const PARTNER_A: &str = "999988887777";
const PARTNER_B: &str = "555566667777";

/// What one run of the binary produced.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The write operations of the `-v` request summary on stderr, with their counts
    /// (Organizations' and IAM's).
    fn writes(&self) -> BTreeMap<String, usize> {
        self.stderr
            .lines()
            .filter_map(|l| {
                let (op, rest) = l.trim().split_once(char::is_whitespace)?;
                let (calls, _) = rest.trim().split_once(" (")?;
                Some((op.to_owned(), calls.parse().ok()?))
            })
            .filter(|(op, _)| operations::is_write(op) || iam_ops::is_write(op))
            .collect()
    }

    /// The IAM writes among [`Run::writes`] (an apply that writes also takes and releases the
    /// apply lease, a root tag).
    fn iam_writes(&self) -> BTreeMap<String, usize> {
        let mut w = self.writes();
        w.retain(|op, _| iam_ops::is_write(op));
        w
    }

    /// The plan's "Access changes" section (up to the next section).
    fn access_section(&self) -> String {
        access_section(&self.stdout)
    }
}

/// The text from "Access changes" up to the next top-level section.
fn access_section(plan: &str) -> String {
    let Some(start) = plan.find("Access changes") else {
        return String::new();
    };
    let rest = &plan[start..];
    let end = rest
        .find("\nOther changes")
        .or_else(|| rest.find("\nNot managed by orgctl"))
        .or_else(|| rest.find("\nPlan: "))
        .unwrap_or(rest.len());
    rest[..end].trim_end().to_owned()
}

/// One test's organization (its own management account in the shared emulator) and a desired
/// state for it in a temp dir: /Workloads/Staging (account `staging`), /Workloads/Production
/// (`production`, a production OU) and /Sandbox (`sandbox`).
struct GrantOrg {
    test: TestOrg,
    dir: tempfile::TempDir,
}

impl GrantOrg {
    async fn new() -> GrantOrg {
        let test = TestOrg::new().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("desired-state");
        std::fs::create_dir_all(&state).expect("mkdir");
        let s = &test.suffix;
        std::fs::write(
            state.join("organization.yaml"),
            format!(
                r#"organization:
  management_account_id: "{mgmt}"
  enabled_policy_types: [service_control_policy]
  email_domains: [companyx.example]
ous:
  - path: /Workloads
  - path: /Workloads/Staging
  - path: /Workloads/Production
    production: true
  - path: /Sandbox
accounts:
  - name: staging
    email: staging-{s}@companyx.example
    ou: /Workloads/Staging
  - name: production
    email: production-{s}@companyx.example
    ou: /Workloads/Production
  - name: sandbox
    email: sandbox-{s}@companyx.example
    ou: /Sandbox
"#,
                mgmt = test.management(),
            ),
        )
        .expect("write organization.yaml");
        GrantOrg { test, dir }
    }

    /// Writes `desired-state/grants.yaml`.
    fn grants(&self, yaml: &str) {
        std::fs::write(self.dir.path().join("desired-state/grants.yaml"), yaml)
            .expect("write grants.yaml");
    }

    /// Runs the binary with only this organization's credentials and moto's endpoint.
    fn run(&self, args: &[&str]) -> Run {
        run_orgctl(self.dir.path(), &self.test, args)
    }

    async fn sdk(&self) -> SdkOrg {
        connect_static(&self.test.env, None).await.expect("connect")
    }

    /// Account name → id.
    async fn accounts(&self) -> BTreeMap<String, String> {
        let live = read_live(&self.sdk().await, &ReadOptions::default())
            .await
            .expect("read");
        live.accounts.into_iter().map(|a| (a.name, a.id)).collect()
    }

    /// IAM in member accounts, through the member role.
    async fn iam(&self) -> SdkIam {
        self.sdk().await.iam("OrganizationAccountAccessRole")
    }

    /// Role names under /orgctl/ in each member account (by account name).
    async fn roles(&self) -> BTreeMap<String, Vec<String>> {
        let iam = self.iam().await;
        let mut out = BTreeMap::new();
        for (name, id) in self.accounts().await {
            if id == self.test.management() {
                continue;
            }
            let roles = iam.list_roles(&id, ROLE_PATH).await.expect("list roles");
            out.insert(name, roles.into_iter().map(|r| r.name).collect());
        }
        out
    }

    /// RoleId and CreateDate of a role, read with boto3 (the seam does not carry them).
    fn role_identity(&self, account: &str, role: &str) -> (String, String) {
        let c = &self.test.env.credentials;
        let script = r#"
import boto3, sys
account, role, url = sys.argv[1:4]
sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1")
creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                        RoleSessionName="orgctl-tests")["Credentials"]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id=creds["AccessKeyId"],
                   aws_secret_access_key=creds["SecretAccessKey"],
                   aws_session_token=creds["SessionToken"])
r = iam.get_role(RoleName=role)["Role"]
print(r["RoleId"], r["CreateDate"].isoformat())
"#;
        let mut cmd = Command::new(crate::common::repo().join(".venv-moto/bin/python"));
        cmd.args(["-c", script, account, role, &moto().url])
            .stdin(Stdio::null())
            .env_remove("AWS_PROFILE")
            .env("AWS_ACCESS_KEY_ID", &c.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &c.secret_access_key);
        match &c.session_token {
            Some(t) => cmd.env("AWS_SESSION_TOKEN", t),
            None => cmd.env_remove("AWS_SESSION_TOKEN"),
        };
        let out = cmd.output().expect("run python");
        assert!(
            out.status.success(),
            "get_role: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let (id, date) = text.trim().split_once(' ').expect("RoleId CreateDate");
        (id.to_owned(), date.to_owned())
    }
}

/// Runs the binary in `cwd` with exactly the test organization's credentials and moto's
/// endpoint (no shared config files, no instance metadata), the test day and no colour.
fn run_orgctl(cwd: &Path, t: &TestOrg, args: &[&str]) -> Run {
    let (code, stdout, stderr) = run_binary(cwd, args, &env_vars(&t.env, &moto().url));
    Run {
        code,
        stdout,
        stderr,
    }
}

#[track_caller]
fn assert_contains(haystack: &str, needle: &str) {
    assert!(haystack.contains(needle), "{needle:?} not in:\n{haystack}");
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

/// Partner A: administrator on staging (MFA, 4 h sessions, an inline deny, a boundary), and an
/// auditor reading every account below /Workloads except production.
const TWO_GRANTS: &str = r#"grants:
  - name: partner-staging
    partner: Partner A GmbH
    owner: cto@companyx.example
    ticket: OPS-1042
    principal: "999988887777"
    external_id: companyx-7f3a9c2e
    mfa: true
    max_session: 4h
    permissions:
      managed: [AdministratorAccess]
      inline:
        - name: deny-billing
          document:
            Version: "2012-10-17"
            Statement:
              - Effect: Deny
                Action: ["aws-portal:*", "billing:*"]
                Resource: "*"
      permissions_boundary: PowerUserAccess
    targets: [staging]
    expires: 2027-06-30
  - name: auditor
    partner: Audit & Co
    owner: security@companyx.example
    reason: ISO 27001 audit
    principal: arn:aws:iam::444455556666:role/auditor
    external_id: companyx-audit-2027
    permissions:
      managed: [ReadOnlyAccess]
    targets: [/Workloads]
    exclude: [production]
    role_name: companyx-audit
    expires: 2027-09-30
"#;

#[tokio::test]
async fn grant_roles_appear_only_in_their_targets_as_the_yaml_says_and_a_second_apply_writes_nothing()
 {
    let org = GrantOrg::new().await;
    org.grants(TWO_GRANTS);
    let apply = org.run(&["apply", "desired-state", "--auto-approve", "-v"]);
    apply.expect_code(0);
    let writes = apply.writes();
    assert_eq!(writes.get("CreateRole"), Some(&2), "{writes:?}");

    let accounts = org.accounts().await;
    let roles = org.roles().await;
    assert_eq!(
        roles,
        BTreeMap::from([
            ("production".to_owned(), vec![]),
            ("sandbox".to_owned(), vec![]),
            (
                "staging".to_owned(),
                vec![
                    "companyx-audit".to_owned(),
                    "orgctl-partner-staging".to_owned()
                ]
            ),
        ]),
        "roles under /orgctl/ per member account"
    );

    let iam = org.iam().await;
    let staging = &accounts["staging"];
    let role = iam
        .get_role(staging, "orgctl-partner-staging")
        .await
        .expect("get role");
    assert_eq!(role.summary.path, "/orgctl/");
    assert_eq!(
        json(&role.summary.trust_policy),
        json(&orgctl_model::trust_policy(
            &format!("arn:aws:iam::{PARTNER_A}:root"),
            Some("companyx-7f3a9c2e"),
            true,
            Some("2027-07-01T00:00:00Z"),
        )),
        "trust policy: principal, external id, MFA, end of access"
    );
    let trust = json(&role.summary.trust_policy);
    let condition = &trust["Statement"][0]["Condition"];
    assert_eq!(
        condition["DateLessThan"]["aws:CurrentTime"],
        "2027-07-01T00:00:00Z"
    );
    assert_eq!(condition["Bool"]["aws:MultiFactorAuthPresent"], "true");
    assert_eq!(
        condition["StringEquals"]["sts:ExternalId"],
        "companyx-7f3a9c2e"
    );
    assert_eq!(role.summary.max_session_secs, 4 * 3600);
    assert_eq!(
        role.summary.description,
        "orgctl grant partner-staging for Partner A GmbH, owner cto@companyx.example, ticket \
         OPS-1042, expires 2027-06-30"
    );
    assert_eq!(role.permissions_boundary.as_deref(), Some(POWER_USER));
    assert_eq!(
        role.tags,
        Tags::from([
            ("managed-by".to_owned(), "orgctl".to_owned()),
            ("orgctl-grant".to_owned(), "partner-staging".to_owned()),
        ])
    );
    let attached: Vec<String> = iam
        .list_attached_policies(staging, "orgctl-partner-staging")
        .await
        .expect("attached")
        .into_iter()
        .map(|p| p.arn)
        .collect();
    assert_eq!(attached, [ADMIN]);
    assert_eq!(
        iam.list_inline_policies(staging, "orgctl-partner-staging")
            .await
            .expect("inline"),
        ["deny-billing"]
    );
    let inline = iam
        .get_inline_policy(staging, "orgctl-partner-staging", "deny-billing")
        .await
        .expect("inline doc");
    assert_eq!(
        json(&inline)["Statement"][0]["Action"],
        serde_json::json!(["aws-portal:*", "billing:*"])
    );

    let audit = iam
        .get_role(staging, "companyx-audit")
        .await
        .expect("get role");
    assert_eq!(
        json(&audit.summary.trust_policy),
        json(&orgctl_model::trust_policy(
            "arn:aws:iam::444455556666:role/auditor",
            Some("companyx-audit-2027"),
            false,
            Some("2027-10-01T00:00:00Z"),
        ))
    );
    assert_eq!(audit.summary.max_session_secs, 3600);
    assert_eq!(audit.permissions_boundary, None);
    assert_eq!(
        audit.tags.get("orgctl-grant").map(String::as_str),
        Some("auditor")
    );
    let attached: Vec<String> = iam
        .list_attached_policies(staging, "companyx-audit")
        .await
        .expect("attached")
        .into_iter()
        .map(|p| p.arn)
        .collect();
    assert_eq!(attached, [READ_ONLY]);

    // Converged: the next plan is empty, a second apply makes no write at all.
    org.run(&["plan", "desired-state", "--detailed-exitcode"])
        .expect_code(0);
    let second = org.run(&["apply", "desired-state", "--auto-approve", "-v"]);
    second.expect_code(0);
    assert!(
        second.writes().is_empty(),
        "second apply wrote: {:?}\n{}",
        second.writes(),
        second.stderr
    );
    // The summary does count IAM: the second apply read the roles.
    assert_contains(&second.stderr, "ListRoles");
}

/// One grant for partner A on staging until 2027-06-30.
fn staging_grant(partner: &str, principal: &str, external_id: &str) -> String {
    format!(
        r#"grants:
  - name: partner-staging
    partner: {partner}
    owner: cto@companyx.example
    ticket: OPS-1042
    principal: "{principal}"
    external_id: {external_id}
    mfa: true
    permissions:
      managed: [AdministratorAccess]
    targets: [staging]
    expires: 2027-06-30
"#
    )
}

#[tokio::test]
async fn an_expired_grant_loses_its_roles() {
    let org = GrantOrg::new().await;
    org.grants(&staging_grant(
        "Partner A GmbH",
        PARTNER_A,
        "companyx-7f3a9c2e",
    ));
    org.run(&["apply", "desired-state", "--auto-approve"])
        .expect_code(0);
    assert_eq!(org.roles().await["staging"], ["orgctl-partner-staging"]);

    // The last day of access: still there.
    org.run(&[
        "plan",
        "desired-state",
        "--today",
        "2027-06-30",
        "--detailed-exitcode",
    ])
    .expect_code(0);
    // The day after: the plan removes the role, and says why.
    let plan = org.run(&[
        "plan",
        "desired-state",
        "--today",
        "2027-07-01",
        "--detailed-exitcode",
    ]);
    plan.expect_code(2);
    let access = plan.access_section();
    assert_contains(
        &access,
        "- loses staging: AdministratorAccess — expired on 2027-06-30",
    );
    assert_contains(
        &plan.stdout,
        "- grant/partner-staging -> account staging will be deleted",
    );
    let apply = org.run(&[
        "apply",
        "desired-state",
        "--auto-approve",
        "--today",
        "2027-07-01",
        "-v",
    ]);
    apply.expect_code(0);
    let writes = apply.writes();
    assert_eq!(writes.get("DetachRolePolicy"), Some(&1), "{writes:?}");
    assert_eq!(writes.get("DeleteRole"), Some(&1), "{writes:?}");
    assert!(org.roles().await["staging"].is_empty());
    org.run(&[
        "plan",
        "desired-state",
        "--today",
        "2027-07-01",
        "--detailed-exitcode",
    ])
    .expect_code(0);
}

#[tokio::test]
async fn a_new_principal_and_external_id_change_the_trust_policy_of_the_same_role() {
    let org = GrantOrg::new().await;
    org.grants(&staging_grant(
        "Partner A GmbH",
        PARTNER_A,
        "companyx-7f3a9c2e",
    ));
    org.run(&["apply", "desired-state", "--auto-approve"])
        .expect_code(0);
    let staging = org.accounts().await["staging"].clone();
    let before = org.role_identity(&staging, "orgctl-partner-staging");

    org.grants(&staging_grant(
        "Partner B Ltd",
        PARTNER_B,
        "companyx-b-91d04e7a",
    ));
    let plan = org.run(&["plan", "desired-state", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert_contains(
        &plan.stdout,
        "~ grant/partner-staging -> account staging will be updated",
    );
    assert_contains(
        &plan.stdout,
        "-          \"sts:ExternalId\": \"companyx-7f3a9c2e\"",
    );
    assert_contains(
        &plan.stdout,
        "+          \"sts:ExternalId\": \"companyx-b-91d04e7a\"",
    );
    let apply = org.run(&["apply", "desired-state", "--auto-approve", "-v"]);
    apply.expect_code(0);
    let writes = apply.writes();
    // The new trust goes in closed (no one can assume the role), then opens: two writes.
    assert_eq!(writes.get("UpdateAssumeRolePolicy"), Some(&2), "{writes:?}");
    for op in [
        "CreateRole",
        "DeleteRole",
        "DetachRolePolicy",
        "AttachRolePolicy",
    ] {
        assert!(!writes.contains_key(op), "{op} in {writes:?}");
    }

    let after = org.role_identity(&staging, "orgctl-partner-staging");
    assert_eq!(before, after, "the same role (RoleId, CreateDate)");
    let role = org
        .iam()
        .await
        .get_role(&staging, "orgctl-partner-staging")
        .await
        .expect("get role");
    assert_eq!(
        json(&role.summary.trust_policy),
        json(&orgctl_model::trust_policy(
            &format!("arn:aws:iam::{PARTNER_B}:root"),
            Some("companyx-b-91d04e7a"),
            true,
            Some("2027-07-01T00:00:00Z"),
        ))
    );
    assert_contains(&role.summary.description, "for Partner B Ltd");
    org.run(&["plan", "desired-state", "--detailed-exitcode"])
        .expect_code(0);
}

/// The auditor reads every account below /Workloads (staging and production).
const AUDITOR: &str = r#"grants:
  - name: auditor
    partner: Audit & Co
    owner: security@companyx.example
    reason: ISO 27001 audit
    principal: arn:aws:iam::444455556666:role/auditor
    external_id: companyx-audit-2027
    permissions:
      managed: [ReadOnlyAccess]
    targets: [/Workloads]
    expires: 2027-09-30
"#;

/// orgctl keeps no state: it tells an edit made outside orgctl from a change in the YAML by the
/// grant's other roles, which still have what the edit took away (here the production role).
#[tokio::test]
async fn a_policy_attached_out_of_band_is_shown_reverted_and_detached() {
    let org = GrantOrg::new().await;
    org.grants(AUDITOR);
    org.run(&["apply", "desired-state", "--auto-approve"])
        .expect_code(0);
    let staging = org.accounts().await["staging"].clone();
    let iam = org.iam().await;
    // Someone attaches a policy to orgctl's role in staging by hand.
    iam.attach_policy(&staging, "orgctl-auditor", POWER_USER)
        .await
        .expect("attach by hand");

    let plan = org.run(&["plan", "desired-state", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert_contains(
        &plan.stdout,
        "~ grant/auditor -> account staging will be updated",
    );
    assert_contains(
        &plan.stdout,
        "Role orgctl-auditor was edited outside orgctl: the edit is reverted to what grant \
         auditor says.",
    );
    let access = plan.access_section();
    assert_contains(&access, "edited outside orgctl: reverted");
    assert_contains(&access, "- managed policy PowerUserAccess");
    assert!(!access.contains("production"), "{access}");

    let apply = org.run(&["apply", "desired-state", "--auto-approve", "-v"]);
    apply.expect_code(0);
    assert_eq!(
        apply.iam_writes(),
        BTreeMap::from([("DetachRolePolicy".to_owned(), 1)]),
        "only the detachment"
    );
    let attached: Vec<String> = iam
        .list_attached_policies(&staging, "orgctl-auditor")
        .await
        .expect("attached")
        .into_iter()
        .map(|p| p.arn)
        .collect();
    assert_eq!(attached, [READ_ONLY]);
    org.run(&["plan", "desired-state", "--detailed-exitcode"])
        .expect_code(0);
}

/// The three pull requests of `docs/partner-access.md` (the YAML and the diffs as the page shows
/// them) on the example organization in the emulator: each plan's access changes are exactly the
/// page's (the page is made on a sandbox), each apply converges, and AWS holds the roles.
#[tokio::test]
async fn the_three_pull_requests_of_the_walk_through() {
    let test = TestOrg::new().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("desired-state");
    crate::common::copy_dir(&crate::common::repo().join("desired-state"), &state);
    let grants = state.join("grants.yaml");
    if grants.exists() {
        std::fs::remove_file(&grants).expect("remove the example's grants");
    }
    let org_yaml = state.join("organization.yaml");
    let text = std::fs::read_to_string(&org_yaml).expect("organization.yaml");
    std::fs::write(&org_yaml, text.replace("123456789012", test.management()))
        .expect("pin the example");
    let org = GrantOrg { test, dir };
    org.run(&["apply", "desired-state", "--auto-approve"])
        .expect_code(0);
    org.run(&["plan", "desired-state", "--detailed-exitcode"])
        .expect_code(0);

    let mut staging_role = None;
    for (i, yaml) in crate::partner_access::grants_after_each_pull_request()
        .iter()
        .enumerate()
    {
        let pr = i + 1;
        org.grants(yaml);
        let plan = org.run(&["plan", "desired-state", "--detailed-exitcode"]);
        plan.expect_code(2);
        let documented = access_section(&crate::partner_access::documented_plan(pr));
        assert!(
            !documented.is_empty(),
            "pull request {pr}: no access section"
        );
        assert_eq!(
            plan.access_section(),
            documented,
            "pull request {pr}: the emulator's access changes differ from docs/partner-access.md"
        );
        org.run(&["apply", "desired-state", "--auto-approve"])
            .expect_code(0);
        let again = org.run(&["plan", "desired-state", "--detailed-exitcode"]);
        again.expect_code(0);
        assert_contains(&again.stdout, "No changes.");

        let roles = org.roles().await;
        let expected: [(&str, &[&str]); 3] = match pr {
            // And orgctl's read role in every account (the example sets plan_role).
            1 => [
                (
                    "companyx-production",
                    &["orgctl-partner-production", "orgctl-read"],
                ),
                ("companyx-sandbox", &["orgctl-read"]),
                (
                    "companyx-staging",
                    &["orgctl-partner-staging", "orgctl-read"],
                ),
            ],
            _ => [
                ("companyx-production", &["orgctl-read"]),
                ("companyx-sandbox", &["orgctl-read"]),
                (
                    "companyx-staging",
                    &["orgctl-partner-staging", "orgctl-read"],
                ),
            ],
        };
        for (account, want) in expected {
            assert_eq!(
                roles[account], want,
                "pull request {pr}: roles in {account}"
            );
        }
        let staging = org.accounts().await["companyx-staging"].clone();
        let identity = org.role_identity(&staging, "orgctl-partner-staging");
        let role = org
            .iam()
            .await
            .get_role(&staging, "orgctl-partner-staging")
            .await
            .expect("get role");
        let principal =
            json(&role.summary.trust_policy)["Statement"][0]["Principal"]["AWS"].clone();
        if pr < 3 {
            assert_eq!(principal, format!("arn:aws:iam::{PARTNER_A}:root"));
            staging_role = Some(identity);
        } else {
            assert_eq!(principal, format!("arn:aws:iam::{PARTNER_B}:root"));
            assert_eq!(
                staging_role.as_ref(),
                Some(&identity),
                "the transfer keeps the role (RoleId, CreateDate)"
            );
        }
    }
}

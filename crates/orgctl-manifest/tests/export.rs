//! `export`: the live organization → desired-state files that load, deterministically, with
//! every change made to fit the format reported. (The round trip through the planner is the
//! applier's `import_round_trip` property.)

use std::collections::{BTreeMap, BTreeSet};

use orgctl_manifest::export::{Export, ExportOptions, export};
use orgctl_manifest::{LoadOptions, Loaded, load_dir_with};
use orgctl_model::{
    AccountStatus, FULL_AWS_ACCESS, FULL_AWS_ACCESS_ID, IamRead, Lifecycle, LiveAccessRole,
    LiveAccount, LiveIamAccount, LiveOrganization, LiveOu, LivePolicy, LiveState, PolicyType, Tags,
    TargetRef, trust_policy,
};

const MGMT: &str = "123456789012";
const ROOT: &str = "r-ab12";
const TODAY: &str = "2026-12-02";

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn ou(id: &str, name: &str, parent: &str, t: &[(&str, &str)]) -> LiveOu {
    LiveOu {
        id: id.into(),
        name: name.into(),
        parent_id: parent.into(),
        tags: tags(t),
    }
}

fn account(id: &str, name: &str, parent: &str, t: &[(&str, &str)]) -> LiveAccount {
    LiveAccount {
        id: id.into(),
        name: name.into(),
        email: format!("{name}@example.com").replace([' ', '/'], "-"),
        parent_id: parent.into(),
        status: AccountStatus::Active,
        tags: tags(t),
    }
}

fn policy(id: &str, name: &str, content: &str, targets: &[&str], t: &[(&str, &str)]) -> LivePolicy {
    LivePolicy {
        id: id.into(),
        name: name.into(),
        policy_type: PolicyType::ServiceControlPolicy,
        description: format!("{name} policy"),
        content: content.into(),
        aws_managed: false,
        tags: tags(t),
        targets: targets.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn full_aws_access(targets: &[&str]) -> LivePolicy {
    LivePolicy {
        id: FULL_AWS_ACCESS_ID.into(),
        name: FULL_AWS_ACCESS.into(),
        policy_type: PolicyType::ServiceControlPolicy,
        description: "Allows access to every operation".into(),
        content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into(),
        aws_managed: true,
        tags: Tags::new(),
        targets: targets.iter().map(|s| (*s).to_owned()).collect(),
    }
}

const DENY_LEAVE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;

fn grant_role(account: &str, grant: &str, expires: &str) -> LiveAccessRole {
    let ends = format!("{}T00:00:00Z", next_day(expires));
    LiveAccessRole {
        account_id: account.into(),
        role_name: format!("orgctl-{grant}"),
        path: "/orgctl/".into(),
        trust_policy: trust_policy(
            "arn:aws:iam::999988887777:root",
            Some("partner-7f3a9c2e"),
            true,
            Some(&ends),
        ),
        description: format!(
            "orgctl grant {grant} for Partner GmbH, owner cto@x.example, ticket OPS-1, expires {expires}"
        ),
        max_session_secs: 14_400,
        managed_policies: BTreeSet::from(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()]),
        inline_policies: BTreeMap::from([(
            "deny-billing".to_owned(),
            r#"{"Statement":[{"Action":"aws-portal:*","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"}"#.to_owned(),
        )]),
        permissions_boundary: None,
        tags: tags(&[("managed-by", "orgctl"), ("orgctl-grant", grant)]),
    }
}

fn next_day(d: &str) -> String {
    let date: jiff::civil::Date = d.parse().expect("date");
    date.tomorrow().expect("tomorrow").to_string()
}

/// A hand-built organization: OUs, accounts at the root and in OUs, an SCP, FullAWSAccess
/// everywhere but one account, tags of other tools and orgctl's bookkeeping, a grant.
fn organization() -> LiveState {
    let mut live = LiveState {
        organization: LiveOrganization {
            id: "o-abcd1234".into(),
            management_account_id: MGMT.into(),
            root_id: ROOT.into(),
            enabled_policy_types: [PolicyType::ServiceControlPolicy].into(),
            root_record: None,
        },
        ous: vec![
            ou(
                "ou-ab12-11111111",
                "Workloads",
                ROOT,
                &[("cost-center", "platform")],
            ),
            ou(
                "ou-ab12-22222222",
                "Staging",
                "ou-ab12-11111111",
                &[("orgctl:applied", "1:x:2026-01-01")],
            ),
            ou(
                "ou-ab12-33333333",
                "Sandbox",
                ROOT,
                &[("managed-by", "terraform")],
            ),
        ],
        accounts: vec![
            account(MGMT, "management", ROOT, &[]),
            account(
                "210987654321",
                "staging",
                "ou-ab12-22222222",
                &[
                    ("environment", "staging"),
                    ("orgctl:applied", "1:y:2026-01-01"),
                ],
            ),
            account(
                "111122223333",
                "sandbox",
                "ou-ab12-33333333",
                &[("owner", "platform team")],
            ),
        ],
        policies: vec![
            full_aws_access(&[
                ROOT,
                "ou-ab12-11111111",
                "ou-ab12-22222222",
                "ou-ab12-33333333",
                MGMT,
                "210987654321",
            ]),
            policy(
                "p-deny1234",
                "deny-leave-organization",
                DENY_LEAVE,
                &[ROOT, "111122223333"],
                &[],
            ),
        ],
        access_roles: vec![grant_role("210987654321", "partner", "2027-03-31")],
        iam_accounts: vec![
            LiveIamAccount {
                account_id: "111122223333".into(),
                read: IamRead::MemberRole,
            },
            LiveIamAccount {
                account_id: "210987654321".into(),
                read: IamRead::MemberRole,
            },
        ],
        scope: None,
    };
    live.normalize();
    live
}

fn options() -> ExportOptions {
    ExportOptions {
        today: TODAY.into(),
        only_managed: false,
    }
}

/// Writes the files to a temporary directory and loads them.
fn load(export: &Export) -> Loaded {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in &export.files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }
    match load_dir_with(
        dir.path(),
        &LoadOptions {
            today: Some(TODAY.into()),
        },
    ) {
        Ok(l) => l,
        Err(e) => panic!(
            "the exported files do not load:\n{e}\n\n{}",
            export
                .files
                .iter()
                .map(|(p, t)| format!("--- {p}\n{t}"))
                .collect::<String>()
        ),
    }
}

#[test]
fn the_hand_built_organization_is_written_as_files_that_load() {
    let export = export(&organization(), &options());
    let files: Vec<&str> = export.files.keys().map(String::as_str).collect();
    assert_eq!(
        files,
        [
            "accounts.yaml",
            "grants.yaml",
            "organization.yaml",
            "ous.yaml",
            "policies.yaml",
            "policies/deny-leave-organization.json",
            "policies/grants/partner.deny-billing.json",
        ]
    );
    for (path, text) in &export.files {
        if path.ends_with(".yaml") {
            assert!(
                text.contains("Imported by `orgctl import` from organization o-abcd1234 (management account 123456789012) on 2026-12-02."),
                "{path}:\n{text}"
            );
        }
    }
    let loaded = load(&export);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let d = &loaded.desired;
    assert_eq!(d.organization.management_account_id, MGMT);
    assert_eq!(
        d.organization.protected_accounts,
        BTreeSet::from([MGMT.to_owned()])
    );
    assert_eq!(
        d.organization.enabled_policy_types,
        BTreeSet::from([PolicyType::ServiceControlPolicy])
    );
    assert!(d.organization.root_full_aws_access);
    assert_eq!(
        d.ous.keys().collect::<Vec<_>>(),
        ["/Sandbox", "/Workloads", "/Workloads/Staging"]
    );
    assert_eq!(
        d.ous["/Workloads/Staging"].id.as_deref(),
        Some("ou-ab12-22222222")
    );
    // Bookkeeping and managed-by are not written; other tags are.
    assert_eq!(
        d.ous["/Workloads"].tags,
        tags(&[("cost-center", "platform")])
    );
    assert!(d.ous["/Workloads/Staging"].tags.is_empty());
    assert!(d.ous["/Sandbox"].tags.is_empty());
    assert_eq!(
        d.accounts["staging"].tags,
        tags(&[("environment", "staging")])
    );
    assert_eq!(d.accounts["staging"].ou, "/Workloads/Staging");
    assert_eq!(d.accounts["staging"].id.as_deref(), Some("210987654321"));
    assert_eq!(d.accounts["management"].ou, "/");
    // FullAWSAccess where AWS has it; the account without it says so.
    assert!(!d.accounts["sandbox"].full_aws_access);
    assert!(d.accounts["staging"].full_aws_access);
    let p = &d.policies["deny-leave-organization"];
    assert_eq!(
        p.targets,
        BTreeSet::from([TargetRef::Root, TargetRef::Account("sandbox".into())])
    );
    assert_eq!(p.description, "deny-leave-organization policy");
    // The grant, from its role.
    let g = &d.grants["partner"];
    assert_eq!(g.principal, "arn:aws:iam::999988887777:root");
    assert_eq!(g.external_id.as_deref(), Some("partner-7f3a9c2e"));
    assert!(g.mfa);
    assert_eq!(g.max_session_secs, 14_400);
    assert_eq!(g.expires.as_deref(), Some("2027-03-31"));
    assert_eq!(
        (g.partner.as_str(), g.owner.as_str(), g.ticket.as_str()),
        ("Partner GmbH", "cto@x.example", "OPS-1")
    );
    let role = &organization().access_roles[0];
    assert_eq!(g.trust_policy(), role.trust_policy);
    assert_eq!(g.role_description(), role.description);
    assert_eq!(g.inline_policies, role.inline_policies);
    assert_eq!(g.role_name, role.role_name);
    // Another tool's marker is said: the plan takes the OU over.
    let said: Vec<(&str, &str)> = export
        .adjustments
        .iter()
        .map(|a| (a.address.as_str(), a.message.as_str()))
        .collect();
    assert_eq!(
        said,
        [(
            "ou /Sandbox",
            "it is tagged managed-by: terraform: the plan adopts it (managed-by: orgctl), so \
             make sure that tool no longer manages it"
        )]
    );
    assert!(export.files["ous.yaml"].contains("  # it is tagged managed-by: terraform"));
    insta::assert_snapshot!(
        "hand_built",
        export
            .files
            .iter()
            .map(|(p, t)| format!("=== {p}\n{t}"))
            .collect::<String>()
    );
}

#[test]
fn the_same_organization_gives_the_same_bytes_whatever_its_order() {
    let a = export(&organization(), &options());
    let mut shuffled = organization();
    shuffled.ous.reverse();
    shuffled.accounts.reverse();
    shuffled.policies.reverse();
    for p in &mut shuffled.policies {
        p.targets.reverse();
    }
    let b = export(&shuffled, &options());
    assert_eq!(a, b);
}

#[test]
fn names_the_format_cannot_say_are_made_valid_and_reported() {
    let mut live = organization();
    live.ous.push(ou("ou-ab12-44444444", "Team/A", ROOT, &[]));
    live.ous.push(ou("ou-ab12-55555555", "Team-A", ROOT, &[]));
    live.ous
        .push(ou("ou-ab12-66666666", "Pro\u{200b}d", ROOT, &[]));
    live.accounts
        .push(account("333344445555", "root", ROOT, &[]));
    let mut twin = account("444455556666", "sandbox", ROOT, &[]);
    twin.email = "sandbox-2@example.com".into();
    live.accounts.push(twin);
    live.accounts.push(account(
        "555566667777",
        "/odd",
        ROOT,
        &[("note", "bad\u{200b}value")],
    ));
    live.policies.push(policy(
        "p-zero0000",
        "deny\u{200b}all",
        DENY_LEAVE,
        &[ROOT],
        &[],
    ));
    let full = live
        .policies
        .iter_mut()
        .find(|p| p.id == FULL_AWS_ACCESS_ID)
        .expect("FullAWSAccess");
    for id in [
        "ou-ab12-44444444",
        "ou-ab12-55555555",
        "ou-ab12-66666666",
        "333344445555",
        "444455556666",
        "555566667777",
    ] {
        full.targets.push(id.into());
    }
    live.normalize();
    let export = export(&live, &options());
    let loaded = load(&export);
    let d = &loaded.desired;
    assert!(d.ous.contains_key("/Team-A"));
    assert!(d.ous.contains_key("/Team-A-55555555") || d.ous.contains_key("/Team-A-44444444"));
    assert_eq!(
        d.ous["/Team-A"].id.as_deref(),
        Some("ou-ab12-55555555"),
        "a valid name keeps it"
    );
    assert!(d.ous.contains_key("/Pro-d"));
    assert!(d.accounts.contains_key("root-333344445555"));
    assert!(d.accounts.contains_key("sandbox-444455556666"));
    assert_eq!(d.accounts["sandbox"].id.as_deref(), Some("111122223333"));
    assert!(d.accounts.contains_key("odd-555566667777"));
    assert!(!d.policies.keys().any(|n| n.starts_with("deny\u{200b}")));
    assert!(d.organization.ignore_tag_keys.contains("note"));
    let said: Vec<String> = export
        .adjustments
        .iter()
        .map(|a| format!("{}: {}", a.address, a.message))
        .collect();
    let all = said.join("\n");
    for expected in [
        "ou /Team-A-44444444: OU ou-ab12-44444444 is named `Team/A`",
        "ou /Pro-d: OU ou-ab12-66666666 is named `Pro\\u{200b}d`",
        "account root-333344445555: account 333344445555 is named `root`",
        "account sandbox-444455556666: account 444455556666 is named `sandbox`",
        "account odd-555566667777: account 555566667777 is named `/odd`",
        "policy scp/deny\u{200b}all: policy p-zero0000 cannot be written",
        "organization: tag key `note`",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in\n{all}");
    }
    // Every renamed OU is a change the plan makes; a renamed account is not (the plan warns).
    for a in &export.adjustments {
        if a.address.starts_with("ou ") && a.message.contains(" is named ") {
            assert!(a.changes_aws, "{a:?}");
        }
        if a.address.starts_with("account ") {
            assert!(!a.changes_aws, "{a:?}");
        }
    }
    // Each is also a comment next to the item.
    assert!(export.files["ous.yaml"].contains("# OU ou-ab12-44444444 is named `Team/A`"));
    assert!(export.files["accounts.yaml"].contains("# account 333344445555 is named `root`"));
    for text in export.files.values() {
        assert!(
            text.chars()
                .all(|c| c == '\n' || !orgctl_manifest::is_invisible(c)),
            "a raw invisible character in\n{text}"
        );
    }
}

#[test]
fn only_managed_imports_what_orgctl_manages_and_what_it_needs() {
    let mut live = organization();
    live.ous.push(ou(
        "ou-ab12-77777777",
        "Managed",
        "ou-ab12-33333333",
        &[("managed-by", "orgctl")],
    ));
    live.policies.push(policy(
        "p-mine1234",
        "mine",
        DENY_LEAVE,
        &["ou-ab12-77777777"],
        &[("managed-by", "orgctl")],
    ));
    live.normalize();
    let export = export(
        &live,
        &ExportOptions {
            today: TODAY.into(),
            only_managed: true,
        },
    );
    let d = &load(&export).desired;
    // The managed OU and its unmanaged parent; the OUs of accounts with orgctl's record or role.
    assert_eq!(
        d.ous.keys().collect::<Vec<_>>(),
        [
            "/Sandbox",
            "/Sandbox/Managed",
            "/Workloads",
            "/Workloads/Staging"
        ]
    );
    assert_eq!(d.accounts.keys().collect::<Vec<_>>(), ["staging"]);
    assert_eq!(d.policies.keys().collect::<Vec<_>>(), ["mine"]);
    assert!(d.grants.contains_key("partner"));
    let pulled: Vec<&str> = export
        .adjustments
        .iter()
        .filter(|a| {
            a.message
                .contains("is not managed by orgctl but holds what is")
        })
        .map(|a| a.address.as_str())
        .collect();
    assert_eq!(
        pulled,
        ["ou /Sandbox", "ou /Workloads", "ou /Workloads/Staging"]
    );
}

#[test]
fn the_read_role_in_every_listed_account_sets_the_plan_role() {
    let plan_role = format!("arn:aws:iam::{MGMT}:role/orgctl-plan");
    let read_role = |account: &str| LiveAccessRole {
        account_id: account.into(),
        role_name: "orgctl-read".into(),
        path: "/orgctl/".into(),
        trust_policy: trust_policy(&plan_role, None, false, None),
        description: orgctl_model::READ_ROLE_DESCRIPTION.into(),
        max_session_secs: 3600,
        managed_policies: BTreeSet::new(),
        inline_policies: BTreeMap::from([(
            orgctl_model::READ_ROLE_POLICY_NAME.to_owned(),
            orgctl_model::READ_ROLE_POLICY.to_owned(),
        )]),
        permissions_boundary: None,
        tags: tags(&[("managed-by", "orgctl"), ("orgctl-role", "read")]),
    };
    let mut live = organization();
    live.access_roles.push(read_role("210987654321"));
    live.normalize();
    let missing = export(&live, &options());
    assert_eq!(load(&missing).desired.organization.plan_role, None);
    assert!(
        missing
            .adjustments
            .iter()
            .any(|a| a.address == "grant/read-role"
                && a.changes_aws
                && a.message.contains("it is missing in sandbox")),
        "{:?}",
        missing.adjustments
    );
    live.access_roles.push(read_role("111122223333"));
    live.normalize();
    let everywhere = export(&live, &options());
    assert_eq!(
        load(&everywhere).desired.organization.plan_role,
        Some(plan_role)
    );
    assert!(
        everywhere
            .adjustments
            .iter()
            .all(|a| a.address == "ou /Sandbox"),
        "{:?}",
        everywhere.adjustments
    );
}

#[test]
fn grants_that_break_a_check_switch_it_off_with_a_reason() {
    let mut live = organization();
    let mut weak = grant_role("111122223333", "vendor", "2029-01-31");
    weak.trust_policy = trust_policy(
        "arn:aws:iam::999988887777:root",
        None,
        false,
        Some("2029-02-01T00:00:00Z"),
    );
    weak.description =
        "orgctl grant vendor for Vendor, owner ops, ticket OPS-2, expires 2029-01-31".into();
    live.access_roles.push(weak);
    live.normalize();
    let export = export(&live, &options());
    let text = &export.files["grants.yaml"];
    assert!(text.contains("checks:\n"), "{text}");
    assert!(text.contains("- rule: external-id\n"), "{text}");
    assert!(text.contains("max_grant_days: 791"), "{text}");
    let d = &load(&export).desired;
    assert_eq!(d.grants["vendor"].external_id, None);
    assert_eq!(d.grants["vendor"].targets.len(), 1);
}

#[test]
fn closed_accounts_are_written_closed() {
    let mut live = organization();
    let mut closed = account("666677778888", "gone", "ou-ab12-33333333", &[]);
    closed.status = AccountStatus::Suspended;
    live.accounts.push(closed);
    live.normalize();
    let export = export(&live, &options());
    let d = &load(&export).desired;
    assert_eq!(d.accounts["gone"].lifecycle, Lifecycle::Closed);
}

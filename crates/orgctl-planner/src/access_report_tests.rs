//! Unit tests of the access review: target expansion, principals, expiry, findings.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_model::{
    AccountSpec, AccountStatus, DesiredState, GrantSpec, GrantTarget, IamRead, Lifecycle,
    LiveAccessRole, LiveAccount, LiveOrganization, LiveOu, LiveState, OrganizationSpec, OuSpec,
    SourceLoc, Tags,
};

use super::*;

const MGMT: &str = "111111111111";
const STAGING: &str = "222222222222";
const PROD: &str = "333333333333";
const UNLISTED: &str = "444444444444";
const PARTNER: &str = "999999999999";

fn loc() -> SourceLoc {
    SourceLoc {
        file: "t.yaml".into(),
        line: 1,
        column: 1,
    }
}

fn desired() -> DesiredState {
    let ou = |path: &str| OuSpec {
        production: false,
        path: path.into(),
        name: path.rsplit('/').next().unwrap_or_default().into(),
        id: None,
        tags: Tags::new(),
        full_aws_access: true,
        source: loc(),
    };
    let account = |name: &str, email: &str, ou: &str| AccountSpec {
        name: name.into(),
        email: email.into(),
        ou: ou.into(),
        id: None,
        tags: Tags::new(),
        lifecycle: Lifecycle::Active,
        full_aws_access: true,
        source: loc(),
    };
    DesiredState {
        organization: OrganizationSpec {
            management_account_id: MGMT.into(),
            enabled_policy_types: BTreeSet::new(),
            protected_accounts: BTreeSet::new(),
            policies_per_target_limit: 5,
            ignore_tag_keys: BTreeSet::new(),
            root_full_aws_access: true,
            member_role: orgctl_model::DEFAULT_MEMBER_ROLE.into(),
            plan_role: None,
            email_domains: ["example.com".to_owned()].into(),
            source: loc(),
        },
        ous: [
            ("/Workloads".to_owned(), ou("/Workloads")),
            ("/Workloads/Staging".to_owned(), ou("/Workloads/Staging")),
            ("/Workloads/Prod".to_owned(), ou("/Workloads/Prod")),
        ]
        .into(),
        accounts: [
            (
                "staging".to_owned(),
                account("staging", "staging@example.com", "/Workloads/Staging"),
            ),
            (
                "prod".to_owned(),
                account("prod", "prod@partner.example", "/Workloads/Prod"),
            ),
        ]
        .into(),
        policies: BTreeMap::new(),
        grants: BTreeMap::new(),
    }
}

fn grant(name: &str, targets: &[GrantTarget], expires: Option<&str>) -> GrantSpec {
    GrantSpec {
        name: name.into(),
        partner: "Partner A".into(),
        owner: "platform".into(),
        ticket: "OPS-1".into(),
        description: String::new(),
        principal: format!("arn:aws:iam::{PARTNER}:root"),
        principal_account: PARTNER.into(),
        external_id: Some("partner-ext-4711".into()),
        mfa: false,
        max_session_secs: 3600,
        managed_policies: ["arn:aws:iam::aws:policy/AdministratorAccess".to_owned()].into(),
        inline_policies: BTreeMap::new(),
        permissions_boundary: None,
        targets: targets.iter().cloned().collect(),
        exclude_accounts: BTreeSet::new(),
        exclude_ids: BTreeSet::new(),
        role_name: name.into(),
        expires: expires.map(Into::into),
        access_ends: expires.map(|e| {
            let d: jiff::civil::Date = e.parse().expect("date");
            format!("{}T00:00:00Z", d.tomorrow().expect("tomorrow"))
        }),
        source: loc(),
    }
}

fn live() -> LiveState {
    let account = |id: &str, name: &str, email: &str, parent: &str| LiveAccount {
        id: id.into(),
        name: name.into(),
        email: email.into(),
        parent_id: parent.into(),
        status: AccountStatus::Active,
        tags: Tags::new(),
    };
    let ou = |id: &str, name: &str, parent: &str| LiveOu {
        id: id.into(),
        name: name.into(),
        parent_id: parent.into(),
        tags: Tags::new(),
    };
    let mut l = LiveState {
        organization: LiveOrganization {
            id: "o-test".into(),
            management_account_id: MGMT.into(),
            root_id: "r-1".into(),
            enabled_policy_types: BTreeSet::new(),
            root_record: None,
        },
        ous: vec![
            ou("ou-w", "Workloads", "r-1"),
            ou("ou-s", "Staging", "ou-w"),
            ou("ou-p", "Prod", "ou-w"),
        ],
        accounts: vec![
            account(MGMT, "management", "root@example.com", "r-1"),
            account(STAGING, "staging", "staging@example.com", "ou-s"),
            account(PROD, "prod", "prod@partner.example", "ou-p"),
            account(UNLISTED, "unlisted", "ops@sub.example.com", "ou-s"),
        ],
        ..Default::default()
    };
    l.normalize();
    l
}

fn role(account: &str, g: &GrantSpec) -> LiveAccessRole {
    LiveAccessRole {
        account_id: account.into(),
        role_name: g.role_name.clone(),
        path: ROLE_PATH.into(),
        trust_policy: g.trust_policy(),
        description: g.role_description(),
        max_session_secs: g.max_session_secs,
        managed_policies: g.managed_policies.clone(),
        inline_policies: g.inline_policies.clone(),
        permissions_boundary: None,
        tags: g.role_tags(),
    }
}

fn member_role(trusting: &str) -> RoleTrust {
    RoleTrust {
        path: "/".into(),
        name: "OrganizationAccountAccessRole".into(),
        trust_policy: format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{trusting}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
    }
}

fn read(account: &str, roles: Vec<RoleTrust>, access_roles: Vec<LiveAccessRole>) -> AccountIam {
    AccountIam {
        account_id: account.into(),
        read: IamRead::MemberRole,
        roles,
        access_roles,
    }
}

fn account<'a>(r: &'a AccessReport, name: &str) -> &'a AccountAccess {
    r.accounts
        .iter()
        .find(|a| a.name == name)
        .expect("account in the report")
}

#[test]
fn ou_targets_include_unlisted_live_accounts_and_honour_exclusions() {
    let d = desired();
    let l = live();
    let g = grant("p", &[GrantTarget::Ou("/Workloads".into())], None);
    assert_eq!(
        grant_targets(&g, &d, &l, "2026-11-27"),
        [STAGING, PROD, UNLISTED].map(str::to_owned).into()
    );
    let mut g2 = g.clone();
    g2.exclude_accounts.insert("prod".into());
    g2.exclude_ids.insert(UNLISTED.into());
    assert_eq!(
        grant_targets(&g2, &d, &l, "2026-11-27"),
        [STAGING.to_owned()].into()
    );
    let staging_only = grant("s", &[GrantTarget::Ou("/Workloads/Staging".into())], None);
    assert_eq!(
        grant_targets(&staging_only, &d, &l, "2026-11-27"),
        [STAGING, UNLISTED].map(str::to_owned).into()
    );
}

#[test]
fn expired_grants_and_closed_or_management_accounts_are_no_targets() {
    let d = desired();
    let mut l = live();
    let g = grant(
        "p",
        &[GrantTarget::Ou("/Workloads".into())],
        Some("2026-11-26"),
    );
    assert!(grant_targets(&g, &d, &l, "2026-11-27").is_empty());
    assert_eq!(grant_targets(&g, &d, &l, "2026-11-26").len(), 3);
    l.accounts
        .iter_mut()
        .filter(|a| a.id == PROD)
        .for_each(|a| a.status = AccountStatus::Suspended);
    let named = grant("n", &[GrantTarget::Account("prod".into())], None);
    assert!(grant_targets(&named, &d, &l, "2026-11-27").is_empty());
}

#[test]
fn principals_outside_the_organization_are_found() {
    let org: BTreeSet<String> = [MGMT, STAGING].map(str::to_owned).into();
    let policy = |principal: &str, condition: &str| {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"{condition}}}]}}"#
        )
    };
    let ext = |p: &str| external_principals(p, &org, "o-test");
    assert!(ext(&policy(r#"{"AWS":"arn:aws:iam::111111111111:root"}"#, "")).is_empty());
    assert!(ext(&policy(r#"{"AWS":"222222222222"}"#, "")).is_empty());
    assert_eq!(
        ext(&policy(
            r#"{"AWS":["arn:aws:iam::111111111111:root","arn:aws:iam::999999999999:role/ci"]}"#,
            r#","Condition":{"StringEquals":{"sts:ExternalId":"x-1234567"}}"#
        )),
        vec![(vec!["arn:aws:iam::999999999999:role/ci".to_owned()], true)]
    );
    assert_eq!(
        ext(&policy(r#"{"AWS":"999999999999"}"#, "")),
        vec![(vec!["999999999999".to_owned()], false)]
    );
    assert_eq!(
        ext(&policy(r#""*""#, "")),
        vec![(vec!["*".to_owned()], false)]
    );
    assert!(
        ext(&policy(
            r#"{"AWS":"*"}"#,
            r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-test"}}"#
        ))
        .is_empty()
    );
    assert!(ext(&policy(r#"{"Service":"ec2.amazonaws.com"}"#, "")).is_empty());
    assert!(
        ext(&policy(
            r#"{"Federated":"arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"}"#,
            ""
        ))
        .is_empty()
    );
    let deny = r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"999999999999"},"Action":"sts:AssumeRole"}]}"#;
    assert!(ext(deny).is_empty());
    assert_eq!(
        principal_account("arn:aws:sts::999999999999:assumed-role/a/b"),
        Some("999999999999")
    );
    assert_eq!(principal_account("*"), None);
}

#[test]
fn review_flags_external_email_external_trust_and_expired_roles() {
    let mut d = desired();
    let active = grant(
        "partner-staging",
        &[GrantTarget::Account("staging".into())],
        Some("2026-12-31"),
    );
    let expired = grant(
        "partner-prod",
        &[GrantTarget::Account("prod".into())],
        Some("2026-11-20"),
    );
    d.grants.insert(active.name.clone(), active.clone());
    d.grants.insert(expired.name.clone(), expired.clone());
    let l = live();
    let outside = RoleTrust {
        path: "/".into(),
        name: "vendor-audit".into(),
        trust_policy: r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::888888888888:root"},"Action":"sts:AssumeRole"}]}"#.into(),
    };
    let iam = vec![
        read(
            STAGING,
            vec![member_role(MGMT), outside],
            vec![role(STAGING, &active)],
        ),
        read(PROD, vec![member_role(MGMT)], vec![role(PROD, &expired)]),
        AccountIam {
            account_id: UNLISTED.into(),
            read: IamRead::Unreadable {
                reason: "AccessDenied".into(),
            },
            roles: vec![],
            access_roles: vec![],
        },
    ];
    let r = review(&d, &l, &iam, "2026-11-27", None);

    let staging = account(&r, "staging");
    assert_eq!(staging.root_email.check, EmailCheck::Owned);
    assert_eq!(staging.grants.len(), 1);
    let g = &staging.grants[0];
    assert_eq!(g.state, GrantState::Active);
    assert_eq!(g.expires.as_deref(), Some("2026-12-31"));
    assert_eq!(g.days_left, Some(34));
    assert!(g.external && g.external_id && !g.mfa);
    assert_eq!(
        staging
            .member_role
            .as_ref()
            .map(|m| (m.exists, m.trusted.clone())),
        Some((true, vec![format!("arn:aws:iam::{MGMT}:root")]))
    );
    assert_eq!(staging.external_trust.len(), 1);
    assert_eq!(
        staging.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
        vec![FindingKind::ExternalTrust]
    );

    let prod = account(&r, "prod");
    assert_eq!(prod.root_email.check, EmailCheck::External);
    assert_eq!(prod.grants[0].state, GrantState::ExpiredPresent);
    assert_eq!(prod.grants[0].days_left, Some(-7));
    assert_eq!(
        prod.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
        vec![
            FindingKind::ExternalRootEmail,
            FindingKind::ExpiredGrantRole
        ]
    );

    let unlisted = account(&r, "unlisted");
    assert_eq!(unlisted.root_email.check, EmailCheck::Owned, "subdomain");
    assert!(matches!(unlisted.iam, IamStatus::Unreadable { .. }));
    assert_eq!(unlisted.findings[0].kind, FindingKind::Unreadable);

    let mgmt = account(&r, "management");
    assert!(mgmt.management && matches!(mgmt.iam, IamStatus::NotRead { .. }));
    assert!(mgmt.member_role.is_none());
    assert_eq!(r.summary.findings, 4);
    assert_eq!(r.summary.flagged_accounts, 3);
    assert!(r.is_flagged());

    let one = review(&d, &l, &iam, "2026-11-27", Some(STAGING));
    assert_eq!(one.accounts.len(), 1);
}

#[test]
fn pending_removed_and_read_roles_and_email_check_off() {
    let mut d = desired();
    d.organization.email_domains.clear();
    d.organization.plan_role = Some(format!("arn:aws:iam::{MGMT}:role/orgctl-plan"));
    let new = grant("new", &[GrantTarget::Account("staging".into())], None);
    let gone = grant("gone", &[GrantTarget::Account("staging".into())], None);
    d.grants.insert(new.name.clone(), new.clone());
    let l = live();
    // Read through the read role, with no member role listed: the member role does not exist.
    let mut staging_read = read(STAGING, vec![], vec![role(STAGING, &gone)]);
    staging_read.read = IamRead::ReadRole;
    let iam = vec![staging_read];
    let r = review(&d, &l, &iam, "2026-11-27", None);
    let staging = account(&r, "staging");
    assert_eq!(staging.root_email.check, EmailCheck::Unchecked);
    let states: Vec<(&str, GrantKind, GrantState)> = staging
        .grants
        .iter()
        .map(|g| (g.grant.as_str(), g.kind, g.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("gone", GrantKind::Grant, GrantState::Removing),
            ("new", GrantKind::Grant, GrantState::Pending),
            ("orgctl-read", GrantKind::ReadRole, GrantState::Pending),
        ]
    );
    let read_role = &staging.grants[2];
    assert_eq!(
        read_role.principal,
        format!("arn:aws:iam::{MGMT}:role/orgctl-plan")
    );
    assert!(!read_role.external);
    assert_eq!(staging.member_role.as_ref().map(|m| m.exists), Some(false));
    assert!(staging.findings.is_empty());
    // Reached through the member role, it exists even when ListRoles does not list it.
    let mut via_member = read(STAGING, vec![], vec![]);
    via_member.read = IamRead::MemberRole;
    let r2 = review(&d, &l, &[via_member], "2026-11-27", Some(STAGING));
    assert_eq!(
        r2.accounts[0]
            .member_role
            .as_ref()
            .map(|m| (m.exists, m.trusted.len())),
        Some((true, 0))
    );
    // Not read: desired roles there cannot be verified.
    let prod = account(&r, "prod");
    assert!(prod.grants.iter().all(|g| g.kind == GrantKind::ReadRole));
    assert!(!r.is_flagged());
}

#[test]
fn last_day_and_days_left() {
    assert_eq!(
        last_day("2027-07-01T00:00:00Z").as_deref(),
        Some("2027-06-30")
    );
    assert_eq!(
        last_day("2027-03-01T12:00:00Z").as_deref(),
        Some("2027-03-01")
    );
    assert_eq!(last_day("2028-03-01").as_deref(), Some("2028-02-29"));
    assert_eq!(last_day("nonsense"), None);
    assert_eq!(days_between("2026-11-27", "2026-11-27"), Some(0));
    assert_eq!(days_between("2026-11-27", "2027-11-27"), Some(365));
    assert_eq!(days_between("2026-11-27", "2026-11-01"), Some(-26));
}

#[test]
fn a_role_shows_what_iam_has_and_says_where_it_differs_from_the_yaml() {
    let mut d = desired();
    let g = grant(
        "p",
        &[GrantTarget::Account("staging".into())],
        Some("2026-12-31"),
    );
    d.grants.insert(g.name.clone(), g.clone());
    // The hand-over is in the YAML, not applied yet: IAM still trusts the old partner.
    let mut old = g.clone();
    old.principal = "arn:aws:iam::888888888888:root".into();
    let mut live_role = role(STAGING, &old);
    live_role
        .managed_policies
        .insert("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
    let iam = vec![read(STAGING, vec![], vec![live_role])];
    let r = review(&d, &live(), &iam, "2026-11-27", Some(STAGING));
    let got = &r.accounts[0].grants[0];
    assert_eq!(got.principal, "arn:aws:iam::888888888888:root");
    assert_eq!(got.state, GrantState::Active);
    assert_eq!(got.differs, vec!["trust policy", "permissions"]);
    assert_eq!(got.managed_policies.len(), 2);

    let exact = vec![read(STAGING, vec![], vec![role(STAGING, &g)])];
    let r = review(&d, &live(), &exact, "2026-11-27", Some(STAGING));
    assert!(r.accounts[0].grants[0].differs.is_empty());
}

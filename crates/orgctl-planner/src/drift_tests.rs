//! Unit tests of the drift report: each class from a real plan and access review of a small
//! organization, the order of the classes, and what counts as drift.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_model::{
    AccountSpec, AccountStatus, DesiredState, GrantSpec, GrantTarget, IamRead, Lifecycle,
    LiveAccessRole, LiveAccount, LiveIamAccount, LiveOrganization, LiveOu, LiveState,
    OrganizationSpec, OuSpec, ROLE_PATH, SourceLoc, Tags,
};

use super::*;
use crate::access_report::{AccountIam, RoleTrust, review};
use crate::{PlanOptions, plan};

const MGMT: &str = "111111111111";
const STAGING: &str = "222222222222";
const PROD: &str = "333333333333";
const DEV: &str = "444444444444";
const UNLISTED: &str = "555555555555";
const TODAY: &str = "2026-11-27";

fn loc() -> SourceLoc {
    SourceLoc {
        file: "t.yaml".into(),
        line: 1,
        column: 1,
    }
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn desired() -> DesiredState {
    let account = |name: &str, ou: &str, t: Tags| AccountSpec {
        name: name.into(),
        email: format!("{name}@example.com"),
        ou: ou.into(),
        id: None,
        tags: t,
        lifecycle: Lifecycle::Active,
        full_aws_access: true,
        source: loc(),
    };
    let expired = GrantSpec {
        name: "old-partner".into(),
        partner: "Partner A".into(),
        owner: "platform".into(),
        ticket: "OPS-1".into(),
        description: String::new(),
        principal: "arn:aws:iam::999999999999:root".into(),
        principal_account: "999999999999".into(),
        external_id: Some("partner-ext-4711".into()),
        mfa: false,
        max_session_secs: 3600,
        managed_policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()].into(),
        inline_policies: BTreeMap::new(),
        permissions_boundary: None,
        targets: [GrantTarget::Account("staging".into())].into(),
        exclude_accounts: BTreeSet::new(),
        exclude_ids: BTreeSet::new(),
        role_name: "old-partner".into(),
        expires: Some("2026-11-20".into()),
        access_ends: Some("2026-11-21T00:00:00Z".into()),
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
            email_domains: BTreeSet::new(),
            source: loc(),
        },
        ous: [(
            "/Workloads".to_owned(),
            OuSpec {
                production: false,
                path: "/Workloads".into(),
                name: "Workloads".into(),
                id: None,
                tags: Tags::new(),
                full_aws_access: true,
                source: loc(),
            },
        )]
        .into(),
        accounts: [
            (
                "staging".to_owned(),
                account("staging", "/Workloads", tags(&[("env", "staging")])),
            ),
            (
                "prod".to_owned(),
                account("prod", "/Workloads", tags(&[("env", "prod")])),
            ),
            (
                "dev".to_owned(),
                account("dev", "/Workloads", tags(&[("env", "dev")])),
            ),
            ("new".to_owned(), account("new", "/Workloads", Tags::new())),
        ]
        .into(),
        policies: BTreeMap::new(),
        grants: [("old-partner".to_owned(), expired)].into(),
    }
}

/// Staging's tag edited by hand, prod closed, dev's IAM unreadable, an unlisted account, the
/// expired grant's role still in staging, and `new` not created yet.
fn live(d: &DesiredState) -> LiveState {
    let account = |id: &str, name: &str, t: Tags, status: AccountStatus| LiveAccount {
        id: id.into(),
        name: name.into(),
        email: format!("{name}@example.com"),
        parent_id: "ou-w".into(),
        status,
        tags: t,
    };
    let g = &d.grants["old-partner"];
    let mut l = LiveState {
        organization: LiveOrganization {
            id: "o-test".into(),
            management_account_id: MGMT.into(),
            root_id: "r-1".into(),
            enabled_policy_types: BTreeSet::new(),
            root_record: None,
        },
        ous: vec![LiveOu {
            id: "ou-w".into(),
            name: "Workloads".into(),
            parent_id: "r-1".into(),
            tags: tags(&[("managed-by", "orgctl")]),
        }],
        accounts: vec![
            LiveAccount {
                parent_id: "r-1".into(),
                ..account(MGMT, "management", Tags::new(), AccountStatus::Active)
            },
            account(
                STAGING,
                "staging",
                tags(&[("env", "by-hand")]),
                AccountStatus::Active,
            ),
            account(
                PROD,
                "prod",
                tags(&[("env", "prod")]),
                AccountStatus::Suspended,
            ),
            account(DEV, "dev", tags(&[("env", "dev")]), AccountStatus::Active),
            account(UNLISTED, "unlisted", Tags::new(), AccountStatus::Active),
        ],
        access_roles: vec![LiveAccessRole {
            account_id: STAGING.into(),
            role_name: g.role_name.clone(),
            path: ROLE_PATH.into(),
            trust_policy: g.trust_policy(),
            description: g.role_description(),
            max_session_secs: g.max_session_secs,
            managed_policies: g.managed_policies.clone(),
            inline_policies: g.inline_policies.clone(),
            permissions_boundary: None,
            tags: g.role_tags(),
        }],
        iam_accounts: [STAGING, UNLISTED]
            .iter()
            .map(|id| LiveIamAccount {
                account_id: (*id).into(),
                read: IamRead::MemberRole,
            })
            .chain([LiveIamAccount {
                account_id: DEV.into(),
                read: IamRead::Unreadable {
                    reason: "AccessDenied".into(),
                },
            }])
            .collect(),
        ..Default::default()
    };
    l.normalize();
    l
}

/// The access review with a role outside /orgctl/ in the unlisted account trusting an outside
/// account.
fn access(d: &DesiredState, l: &LiveState) -> AccessReport {
    let iam: Vec<AccountIam> = l
        .iam_accounts
        .iter()
        .map(|a| AccountIam {
            account_id: a.account_id.clone(),
            read: a.read.clone(),
            roles: if a.account_id == UNLISTED {
                vec![RoleTrust {
                    path: "/".into(),
                    name: "vendor".into(),
                    trust_policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777777777777:root"},"Action":"sts:AssumeRole"}]}"#.into(),
                }]
            } else {
                Vec::new()
            },
            access_roles: l
                .access_roles
                .iter()
                .filter(|r| r.account_id == a.account_id)
                .cloned()
                .collect(),
        })
        .collect();
    review(d, l, &iam, TODAY, None)
}

fn make(provenance: impl Fn(&Change) -> Provenance) -> DriftReport {
    let d = desired();
    let l = live(&d);
    let p = plan(
        &d,
        &l,
        &PlanOptions {
            today: TODAY.into(),
        },
    );
    let prov: Vec<Provenance> = p.changes.iter().map(provenance).collect();
    // Every resource but a new one was recorded by an apply on 2026-11-01.
    let applied: Vec<Option<String>> = p
        .changes
        .iter()
        .map(|c| (c.action != Action::Create).then(|| "2026-11-01".into()))
        .collect();
    let a = access(&d, &l);
    report(&DriftInput {
        desired: &d,
        live: &l,
        plan: &p,
        provenance: &prov,
        applied_on: &applied,
        access: &a,
    })
}

fn by_hand(c: &Change) -> Provenance {
    if c.address == "account staging" {
        Provenance::OutOfBand
    } else if c.action == Action::Create {
        Provenance::Pending(PendingWhy::NotRecorded)
    } else {
        Provenance::Pending(PendingWhy::YamlChanged)
    }
}

fn classes(r: &DriftReport) -> Vec<(DriftClass, String)> {
    r.items
        .iter()
        .map(|i| (i.class, i.address.clone()))
        .collect()
}

#[test]
fn every_class_from_one_organization_most_important_first() {
    let r = make(by_hand);
    let got = classes(&r);
    let want_prefix = [
        (DriftClass::OutOfBand, "account staging".to_owned()),
        (
            DriftClass::Expired,
            "grant/old-partner -> account staging".to_owned(),
        ),
    ];
    assert_eq!(got[..2], want_prefix[..], "{got:#?}");
    let of = |class: DriftClass| -> Vec<String> {
        got.iter()
            .filter(|(c, _)| *c == class)
            .map(|(_, a)| a.clone())
            .collect()
    };
    assert_eq!(
        of(DriftClass::Unverifiable),
        vec!["account prod", "account dev"],
        "{got:#?}"
    );
    assert_eq!(of(DriftClass::Pending), vec!["account new"], "{got:#?}");
    assert!(
        of(DriftClass::Unmanaged).contains(&"account unlisted".to_owned()),
        "{got:#?}"
    );
    assert!(
        of(DriftClass::Unmanaged).contains(&"role /vendor in account unlisted".to_owned()),
        "{got:#?}"
    );
    // Classes never go back in importance.
    assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "{got:#?}");
    // The closed account's plan warning is the unverifiable item, not a warning too.
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
    assert_eq!(r.summary.out_of_band, 1);
    assert_eq!(r.summary.expired, 1);
    assert_eq!(r.summary.unverifiable, 2);
    assert_eq!(r.summary.pending, 1);
    assert!(r.is_drift());
    let staging = &r.items[0];
    assert_eq!(staging.applied_on.as_deref(), Some("2026-11-01"));
    assert!(staging.why.contains("applied the YAML here on 2026-11-01"));
    assert!(staging.change.as_ref().is_some_and(|c| !c.ops.is_empty()));
    let new = r
        .items
        .iter()
        .find(|i| i.address == "account new")
        .expect("new");
    assert_eq!(new.pending, Some(PendingWhy::NotRecorded));
    assert_eq!(new.why, "new in the YAML: not created yet");
}

#[test]
fn expired_takes_precedence_over_out_of_band_and_pending() {
    for p in [
        Provenance::OutOfBand,
        Provenance::Pending(PendingWhy::YamlChanged),
    ] {
        let r = make(|_| p);
        let expired: Vec<_> = r
            .items
            .iter()
            .filter(|i| i.address.starts_with("grant/"))
            .map(|i| i.class)
            .collect();
        assert_eq!(expired, vec![DriftClass::Expired]);
        assert!(r.items[0..1].iter().all(|i| i.class <= DriftClass::Expired));
    }
}

#[test]
fn unmanaged_items_alone_are_not_drift() {
    let mut d = desired();
    let mut l = live(&d);
    d.grants.clear();
    d.accounts.retain(|name, _| name == "dev");
    l.accounts
        .retain(|a| a.id == MGMT || a.id == DEV || a.id == UNLISTED);
    l.access_roles.clear();
    l.iam_accounts.retain(|a| a.account_id != DEV);
    let p = plan(
        &d,
        &l,
        &PlanOptions {
            today: TODAY.into(),
        },
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
    let a = access(&d, &l);
    let r = report(&DriftInput {
        desired: &d,
        live: &l,
        plan: &p,
        provenance: &[],
        applied_on: &[],
        access: &a,
    });
    assert!(r.summary.unmanaged >= 2, "{:#?}", r.items);
    assert!(r.items.iter().all(|i| i.class == DriftClass::Unmanaged));
    assert!(!r.is_drift());
    // A plan warning (a root email orgctl does not change) is drift.
    let mut d2 = d.clone();
    if let Some(dev) = d2.accounts.get_mut("dev") {
        dev.id = Some(DEV.into());
        dev.email = "other@example.com".into();
    }
    let p = plan(
        &d2,
        &l,
        &PlanOptions {
            today: TODAY.into(),
        },
    );
    let r = report(&DriftInput {
        desired: &d2,
        live: &l,
        plan: &p,
        provenance: &[],
        applied_on: &[],
        access: &a,
    });
    assert_eq!(r.summary.warnings, 1, "{:#?}", r.warnings);
    assert!(r.is_drift());
}

#[test]
fn the_report_round_trips_through_json_and_its_schema_names_the_format() {
    let r = make(by_hand);
    let text = serde_json::to_string_pretty(&r).expect("json");
    let back: DriftReport = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, r);
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).expect("schema");
    assert_eq!(schema["properties"]["format_version"]["const"], 1);
}

#[test]
fn an_orgctl_role_where_no_record_points_to_it_is_unmanaged() {
    let mut d = desired();
    let mut l = live(&d);
    d.grants.clear();
    d.accounts.retain(|name, _| name == "dev");
    l.accounts
        .retain(|a| a.id == MGMT || a.id == DEV || a.id == UNLISTED);
    // One of orgctl's roles, in an account that carries no roles record and no grant targets.
    let mut role = l
        .access_roles
        .iter()
        .find(|r| r.is_managed())
        .cloned()
        .expect("an orgctl role");
    role.account_id = UNLISTED.into();
    l.access_roles = vec![role.clone()];
    l.iam_accounts.retain(|a| a.account_id != DEV);
    let options = PlanOptions {
        today: TODAY.into(),
    };
    let report_of = |l: &LiveState| {
        // As `orgctl drift` does: the plan sees IAM where `plan` reads it.
        let selected = crate::iam_accounts(&d, l, &options);
        let mut as_planned = l.clone();
        as_planned
            .access_roles
            .retain(|r| selected.contains(&r.account_id));
        let p = plan(&d, &as_planned, &options);
        let a = access(&d, l);
        report(&DriftInput {
            desired: &d,
            live: l,
            plan: &p,
            provenance: &vec![Provenance::Pending(PendingWhy::NotRecorded); p.changes.len()],
            applied_on: &vec![None; p.changes.len()],
            access: &a,
        })
    };
    let r = report_of(&l);
    let address = format!("role /orgctl/{} in account unlisted", role.role_name);
    let item = r
        .items
        .iter()
        .find(|i| i.address == address)
        .unwrap_or_else(|| panic!("{:#?}", r.items));
    assert_eq!(item.class, DriftClass::Unmanaged);
    assert!(
        item.why.starts_with("no record points to it"),
        "{}",
        item.why
    );
    assert!(item.message.contains("orgctl:roles"), "{}", item.message);
    assert!(
        r.items.iter().all(|i| i.class == DriftClass::Unmanaged),
        "{:#?}",
        r.items
    );
    // With the record, plans read the account: the role (nothing wants it) is a change to
    // apply, not an unmanaged item.
    for a in l.accounts.iter_mut().filter(|a| a.id == UNLISTED) {
        a.tags.insert(
            orgctl_model::ROLES_RECORD_TAG.into(),
            orgctl_model::ROLES_RECORD_VALUE.into(),
        );
    }
    let r = report_of(&l);
    assert!(
        r.items.iter().all(|i| i.address != address),
        "{:#?}",
        r.items
    );
    assert!(
        r.items
            .iter()
            .any(|i| i.class == DriftClass::Pending && i.address.ends_with("account unlisted")),
        "{:#?}",
        r.items
    );
}

//! Issue 7: access grants become IAM roles in their target accounts; the access review says who
//! gains or loses what, where, until when.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_model::{
    AccountStatus, GrantSpec, GrantTarget, IamRead, LiveAccessRole, LiveIamAccount, Op,
    ROLES_RECORD_TAG, ROLES_RECORD_VALUE, Ref, Tags,
};

use super::{D, L, MGMT, dump, loc, managed, run};
use crate::planner::grants::{RoleSpec, role_ops};
use crate::{AccessEffect, Action, Plan, PlanOptions, plan};

pub(super) const PARTNER_A: &str = "arn:aws:iam::999999999999:root";
const PARTNER_B: &str = "arn:aws:iam::888888888888:root";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const PLAN_ROLE: &str = "arn:aws:iam::111111111111:role/orgctl-plan";

const STAGING: &str = "222222222222";
const PROD: &str = "333333333333";
const LEGACY: &str = "444444444444";
const SANDBOX: &str = "555555555555";

pub(super) fn grant(name: &str, principal: &str, targets: &[GrantTarget]) -> GrantSpec {
    let account = principal.split(':').nth(4).unwrap_or_default().to_owned();
    GrantSpec {
        name: name.into(),
        partner: if principal == PARTNER_A { "A" } else { "B" }.into(),
        owner: "platform".into(),
        ticket: "SEC-1".into(),
        description: String::new(),
        principal: principal.into(),
        principal_account: account,
        external_id: Some("partner-ext-id".into()),
        mfa: false,
        max_session_secs: 3600,
        managed_policies: [ADMIN.to_owned()].into(),
        inline_policies: BTreeMap::new(),
        permissions_boundary: None,
        targets: targets.iter().cloned().collect(),
        exclude_accounts: BTreeSet::new(),
        exclude_ids: BTreeSet::new(),
        role_name: format!("{name}-role"),
        expires: Some("2027-06-30".into()),
        access_ends: Some("2027-07-01T00:00:00Z".into()),
        source: loc(40),
    }
}

pub(super) fn acct(name: &str) -> GrantTarget {
    GrantTarget::Account(name.into())
}

fn ou(path: &str) -> GrantTarget {
    GrantTarget::Ou(path.into())
}

impl D {
    pub(super) fn grant(mut self, g: GrantSpec) -> Self {
        self.0.grants.insert(g.name.clone(), g);
        self
    }
}

impl L {
    pub(super) fn read(mut self, id: &str, read: IamRead) -> Self {
        self.0.iam_accounts.retain(|a| a.account_id != id);
        self.0.iam_accounts.push(LiveIamAccount {
            account_id: id.into(),
            read,
        });
        self.0.normalize();
        self
    }
    pub(super) fn role(mut self, id: &str, spec: &RoleSpec) -> Self {
        self.0.access_roles.push(LiveAccessRole {
            account_id: id.into(),
            role_name: spec.name.clone(),
            path: "/orgctl/".into(),
            trust_policy: spec.trust_policy.clone(),
            description: spec.description.clone(),
            max_session_secs: spec.max_session_secs,
            managed_policies: spec.managed_policies.clone(),
            inline_policies: spec.inline_policies.clone(),
            permissions_boundary: spec.permissions_boundary.clone(),
            tags: spec.tags.clone(),
        });
        self.0.normalize();
        self
    }
}

/// `/Workloads/{Staging,Production}` with staging and production listed, `legacy` (not in the
/// YAML) under `/Workloads/Staging/Old`, `sandbox` (not in the YAML) at the root; every account
/// read through the read role.
fn org() -> (D, L) {
    let d = D::new()
        .ou("/Workloads", None)
        .ou("/Workloads/Staging", None)
        .ou("/Workloads/Production", None)
        .account(
            "staging",
            "stg@x.example",
            "/Workloads/Staging",
            Tags::new(),
        )
        .account(
            "production",
            "prd@x.example",
            "/Workloads/Production",
            Tags::new(),
        );
    let l = L::new()
        .ou("ou-w", "Workloads", "r-root", managed())
        .ou("ou-s", "Staging", "ou-w", managed())
        .ou("ou-old", "Old", "ou-s", Tags::new())
        .ou("ou-p", "Production", "ou-w", managed())
        .account(STAGING, "staging", "stg@x.example", "ou-s", Tags::new())
        .account(PROD, "production", "prd@x.example", "ou-p", Tags::new())
        .account(LEGACY, "legacy", "old@x.example", "ou-old", Tags::new())
        .account(SANDBOX, "sandbox", "sbx@x.example", "r-root", Tags::new())
        .account(MGMT, "management", "root@x.example", "r-root", Tags::new())
        .read(STAGING, IamRead::ReadRole)
        .read(PROD, IamRead::ReadRole)
        .read(LEGACY, IamRead::ReadRole)
        .read(SANDBOX, IamRead::ReadRole);
    (d, l)
}

fn on(d: &D, l: &L, today: &str) -> Plan {
    plan(
        &d.0,
        &l.0,
        &PlanOptions {
            today: today.into(),
        },
    )
}

/// `action address` of the role changes only.
fn roles(p: &Plan) -> Vec<String> {
    p.changes
        .iter()
        .filter(|c| c.kind == crate::ResourceKind::Access)
        .map(|c| format!("{} {}", c.action.as_str(), c.address))
        .collect()
}

fn accounts_with_role(p: &Plan, role: &str) -> BTreeSet<Ref> {
    p.changes
        .iter()
        .flat_map(|c| &c.ops)
        .filter_map(|op| match op {
            Op::CreateRole { account, role: r } if r.name == role => Some(account.clone()),
            _ => None,
        })
        .collect()
}

fn id(s: &str) -> Ref {
    Ref::Id(s.into())
}

/// Whether `op` writes (`write`) or removes the roles record of an account.
fn is_roles_record(op: &Op, write: bool) -> bool {
    match op {
        Op::TagResource { tags, .. } => {
            write && tags.get(ROLES_RECORD_TAG).map(String::as_str) == Some(ROLES_RECORD_VALUE)
        }
        Op::UntagResource { keys, .. } => !write && keys.contains(ROLES_RECORD_TAG),
        _ => false,
    }
}

/// The account of a roles-record operation.
fn record_account(op: &Op) -> Option<&Ref> {
    match op {
        Op::TagResource { resource, .. } | Op::UntagResource { resource, .. }
            if is_roles_record(op, true) || is_roles_record(op, false) =>
        {
            Some(resource)
        }
        _ => None,
    }
}

impl L {
    /// Marks an account as carrying the roles record.
    fn roles_record(mut self, account: &str) -> Self {
        for a in self.0.accounts.iter_mut().filter(|a| a.id == account) {
            a.tags
                .insert(ROLES_RECORD_TAG.into(), ROLES_RECORD_VALUE.into());
        }
        self
    }
}

#[test]
fn the_roles_record_is_written_before_the_first_role_of_an_account_and_only_once() {
    let (d, l) = org();
    // Two roles in staging (two grants), one in production, which already carries the record.
    let d = d
        .grant(grant(
            "admin",
            PARTNER_A,
            &[acct("staging"), acct("production")],
        ))
        .grant(grant("audit", PARTNER_B, &[acct("staging")]));
    let l = l.roles_record(PROD);
    let p = run(&d, &l);
    let ops: Vec<&Op> = p.changes.iter().flat_map(|c| &c.ops).collect();
    let written: Vec<(usize, &Ref)> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| is_roles_record(op, true))
        .filter_map(|(i, op)| record_account(op).map(|a| (i, a)))
        .collect();
    assert_eq!(
        written
            .iter()
            .map(|(_, a)| (*a).clone())
            .collect::<Vec<_>>(),
        [id(STAGING)],
        "only the account without the record gets it: {ops:?}"
    );
    let first_create = ops
        .iter()
        .position(|op| matches!(op, Op::CreateRole { account, .. } if *account == id(STAGING)))
        .expect("a role created in staging");
    assert!(written[0].0 < first_create, "{ops:?}");
    // In the same change as that first creation, so a failed write stops it.
    let change = p
        .changes
        .iter()
        .find(|c| c.ops.iter().any(|op| is_roles_record(op, true)))
        .expect("the change writing it");
    assert!(matches!(&change.ops[1], Op::CreateRole { account, .. } if *account == id(STAGING)));
    assert!(
        p.records.iter().all(|r| r.key != ROLES_RECORD_TAG),
        "{:?}",
        p.records
    );
    // Applied (roles and record), the next plan is empty and writes no record.
    let (a, b) = (&d.0.grants["admin"], &d.0.grants["audit"]);
    let l = l
        .roles_record(STAGING)
        .role(STAGING, &RoleSpec::for_grant(a))
        .role(STAGING, &RoleSpec::for_grant(b))
        .role(PROD, &RoleSpec::for_grant(a));
    let p = run(&d, &l);
    assert!(p.is_empty(), "{}", dump(&p));
    assert!(
        p.records.iter().all(|r| r.key != ROLES_RECORD_TAG),
        "{:?}",
        p.records
    );
}

#[test]
fn the_roles_record_is_removed_after_the_last_role_of_an_account_is_deleted() {
    let (d, l) = org();
    let (a, b) = (
        grant("admin", PARTNER_A, &[acct("staging"), acct("production")]),
        grant("audit", PARTNER_B, &[acct("staging")]),
    );
    let l = l
        .roles_record(STAGING)
        .roles_record(PROD)
        .role(STAGING, &RoleSpec::for_grant(&a))
        .role(STAGING, &RoleSpec::for_grant(&b))
        .role(PROD, &RoleSpec::for_grant(&a));
    // audit leaves the YAML and admin keeps production only: staging loses both its roles,
    // production keeps one.
    let d = d.grant(grant("admin", PARTNER_A, &[acct("production")]));
    let p = run(&d, &l);
    let ops: Vec<&Op> = p.changes.iter().flat_map(|c| &c.ops).collect();
    let removed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| is_roles_record(op, false))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(removed.len(), 1, "{ops:?}");
    assert_eq!(record_account(ops[removed[0]]), Some(&id(STAGING)));
    let last_delete = ops
        .iter()
        .rposition(|op| matches!(op, Op::DeleteRole { account, .. } if *account == id(STAGING)))
        .expect("roles deleted in staging");
    assert!(removed[0] > last_delete, "{ops:?}");
    assert!(
        p.records.iter().all(|r| r.key != ROLES_RECORD_TAG),
        "{:?}",
        p.records
    );
}

#[test]
fn roles_kept_without_the_record_get_it_as_a_record_write_and_a_record_without_roles_goes() {
    let (d, l) = org();
    let g = grant("admin", PARTNER_A, &[acct("staging")]);
    let d = d.grant(g.clone());
    // Staging holds its role from before roles records were kept; production carries a record
    // and holds no role (a crash between the record and the role, then the grant changed).
    let l = l.role(STAGING, &RoleSpec::for_grant(&g)).roles_record(PROD);
    let p = run(&d, &l);
    assert!(p.is_empty(), "bookkeeping is no change: {}", dump(&p));
    let roles: Vec<&crate::RecordWrite> = p
        .records
        .iter()
        .filter(|r| r.key == ROLES_RECORD_TAG)
        .collect();
    assert_eq!(
        roles,
        [
            &crate::RecordWrite::roles(STAGING, false),
            &crate::RecordWrite::roles(PROD, true),
        ]
    );
    assert!(matches!(roles[0].op(), Op::TagResource { .. }));
    assert!(matches!(roles[1].op(), Op::UntagResource { .. }));
    // Where IAM was not read, nothing is known: no record is written or removed.
    let mut l = l;
    l.0.iam_accounts.clear();
    let p = run(&d, &l);
    assert!(
        p.records.iter().all(|r| r.key != ROLES_RECORD_TAG),
        "{:?}",
        p.records
    );
}

#[test]
fn ou_targets_reach_nested_and_unlisted_accounts_but_never_the_management_account() {
    let (d, l) = org();
    let d = d.grant(grant("wl", PARTNER_A, &[ou("/Workloads")]));
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    // staging and production (listed, below the OU), legacy (unlisted, in a live OU below
    // /Workloads/Staging); not sandbox (elsewhere), not the management account.
    assert_eq!(
        accounts_with_role(&p, "wl-role"),
        [id(STAGING), id(PROD), id(LEGACY)].into()
    );
    // Even a grant on the root never reaches the management account.
    let (d, l) = org();
    let d = d.grant(grant("all", PARTNER_A, &[ou("/")]));
    let p = run(&d, &l);
    assert_eq!(
        accounts_with_role(&p, "all-role"),
        [id(STAGING), id(PROD), id(LEGACY), id(SANDBOX)].into()
    );
}

#[test]
fn exclusions_by_name_and_id_and_closed_accounts_are_not_targets() {
    let (d, mut l) = org();
    let mut g = grant("wl", PARTNER_A, &[ou("/Workloads"), acct("staging")]);
    g.exclude_accounts.insert("production".into());
    g.exclude_ids.insert(LEGACY.into());
    let d = d.grant(g);
    let p = run(&d, &l);
    assert_eq!(accounts_with_role(&p, "wl-role"), [id(STAGING)].into());
    // A suspended account is never a target.
    l.0.accounts
        .iter_mut()
        .filter(|a| a.id == STAGING)
        .for_each(|a| a.status = AccountStatus::Suspended);
    let p = run(&d, &l);
    assert!(accounts_with_role(&p, "wl-role").is_empty(), "{}", dump(&p));
}

#[test]
fn an_expired_grant_has_no_targets_and_its_roles_are_deleted_as_expired() {
    let (d, l) = org();
    let g = grant("stg", PARTNER_A, &[acct("staging")]);
    let l = l.role(STAGING, &RoleSpec::for_grant(&g));
    let d = d.grant(g);
    // On its last day, nothing changes.
    assert!(on(&d, &l, "2027-06-30").changes.is_empty());
    // The day after, the role goes: policies detached first.
    let p = on(&d, &l, "2027-07-01");
    assert_eq!(roles(&p), ["delete grant/stg -> account staging"]);
    let ops = &p.changes[0].ops;
    assert!(matches!(ops.first(), Some(Op::DetachRolePolicy { .. })));
    assert!(matches!(ops.last(), Some(Op::DeleteRole { .. })));
    assert!(p.changes[0].reason.contains("expired on 2027-06-30"));
    let entry = &p.access[0].entries[0];
    assert_eq!(entry.effect, AccessEffect::Loses);
    assert_eq!(entry.why, "expired on 2027-06-30");
    assert_eq!(entry.accounts, ["staging"]);
}

#[test]
fn a_new_grant_creates_its_role_then_attaches_and_the_review_groups_accounts() {
    let (d, l) = org();
    let d = d.grant(grant(
        "admin",
        PARTNER_A,
        &[acct("staging"), acct("production")],
    ));
    let p = run(&d, &l);
    assert_eq!(
        roles(&p),
        [
            "create grant/admin -> account staging",
            "create grant/admin -> account production"
        ]
    );
    // The account's roles record first, then the role, then its permissions.
    let ops = &p.changes[0].ops;
    assert!(is_roles_record(&ops[0], true), "{ops:?}");
    assert!(
        matches!(&ops[1], Op::CreateRole { role, .. } if role.path == "/orgctl/"
        && role.tags.get("orgctl-grant").map(String::as_str) == Some("admin"))
    );
    assert!(matches!(&ops[2], Op::AttachRolePolicy { policy_arn, .. } if policy_arn == ADMIN));
    assert_eq!(p.access.len(), 1);
    assert_eq!(p.access[0].principal, PARTNER_A);
    assert_eq!(p.access[0].label, "partner A");
    let e = &p.access[0].entries[0];
    assert_eq!(e.effect, AccessEffect::Gains);
    assert_eq!(e.accounts, ["production", "staging"]);
    assert_eq!(e.permissions.managed_policies, ["AdministratorAccess"]);
    assert_eq!(e.expires.as_deref(), Some("2027-06-30"));
    // Applied, the next plan is empty.
    let g = &d.0.grants["admin"];
    let l = l
        .role(STAGING, &RoleSpec::for_grant(g))
        .role(PROD, &RoleSpec::for_grant(g));
    let p = run(&d, &l);
    assert!(p.changes.is_empty() && p.access.is_empty(), "{}", dump(&p));
}

#[test]
fn a_changed_principal_updates_the_trust_policy_in_place_and_shows_both_sides() {
    let (d, l) = org();
    let before = grant("stg", PARTNER_A, &[acct("staging")]);
    let l = l.role(STAGING, &RoleSpec::for_grant(&before));
    let mut after = before.clone();
    after.principal = PARTNER_B.into();
    after.partner = "B".into();
    after.principal_account = "888888888888".into();
    let d = d.grant(after);
    let p = run(&d, &l);
    assert_eq!(roles(&p), ["update grant/stg -> account staging"]);
    let ops = &p.changes[0].ops;
    assert!(
        ops.iter()
            .any(|o| matches!(o, Op::UpdateTrustPolicy { .. }))
    );
    assert!(
        !ops.iter()
            .any(|o| matches!(o, Op::DeleteRole { .. } | Op::CreateRole { .. }))
    );
    let a = p
        .access
        .iter()
        .find(|a| a.principal == PARTNER_A)
        .expect("A");
    assert_eq!(a.entries[0].effect, AccessEffect::Loses);
    assert!(
        a.entries[0].why.contains("transferred to partner B"),
        "{:?}",
        a
    );
    let b = p
        .access
        .iter()
        .find(|a| a.principal == PARTNER_B)
        .expect("B");
    assert_eq!(b.entries[0].effect, AccessEffect::Gains);
    assert!(b.entries[0].why.contains("transferred from partner A"));
    assert_eq!(b.entries[0].expires.as_deref(), Some("2027-06-30"));
}

#[test]
fn one_grant_removed_and_another_added_on_the_same_account_is_a_transfer() {
    let (d, l) = org();
    let old = grant("a-stg", PARTNER_A, &[acct("staging")]);
    let l = l.role(STAGING, &RoleSpec::for_grant(&old));
    let d = d.grant(grant("b-stg", PARTNER_B, &[acct("staging")]));
    let p = run(&d, &l);
    // The old role goes before the new one comes.
    assert_eq!(
        roles(&p),
        [
            "delete grant/a-stg -> account staging",
            "create grant/b-stg -> account staging"
        ]
    );
    let a = p
        .access
        .iter()
        .find(|a| a.principal == PARTNER_A)
        .expect("A");
    assert!(a.entries[0].why.starts_with("transferred to partner B"));
    let b = p
        .access
        .iter()
        .find(|a| a.principal == PARTNER_B)
        .expect("B");
    assert!(b.entries[0].why.starts_with("transferred from partner A"));
}

#[test]
fn updates_that_give_nothing_run_before_any_role_gains() {
    // In staging: grant `a` (partner A) gains an inline policy; grant `z` gets a boundary (it
    // only narrows); grant `m` moves its trust from partner A to partner B (partner A loses it).
    // Partner A must lose `z`'s old reach and `m` before `a` gives it more: the boundary and
    // `m`'s trust closing come first (with the narrowing), then `m` opens to partner B, whatever
    // the order of the grants' names.
    let (d, l) = org();
    let a = grant("a", PARTNER_A, &[acct("staging")]);
    let z = grant("z", PARTNER_A, &[acct("staging")]);
    let m = grant("m", PARTNER_A, &[acct("staging")]);
    let l = l
        .role(STAGING, &RoleSpec::for_grant(&a))
        .role(STAGING, &RoleSpec::for_grant(&z))
        .role(STAGING, &RoleSpec::for_grant(&m));
    let mut a2 = a;
    a2.inline_policies
        .insert("allow-s3".into(), r#"{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#.into());
    let mut z2 = z;
    z2.permissions_boundary = Some("arn:aws:iam::aws:policy/PowerUserAccess".into());
    let mut m2 = m;
    m2.principal = PARTNER_B.into();
    m2.partner = "B".into();
    m2.principal_account = "888888888888".into();
    let d = d.grant(a2).grant(z2).grant(m2);
    let p = run(&d, &l);
    assert_eq!(
        roles(&p),
        [
            "update grant/m -> account staging",
            "update grant/z -> account staging",
            "update grant/m -> account staging",
            "update grant/a -> account staging"
        ],
        "{}",
        dump(&p)
    );
}

#[test]
fn an_out_of_band_edit_is_reverted_and_labelled() {
    let (d, l) = org();
    let g = grant("admin", PARTNER_A, &[acct("staging"), acct("production")]);
    let mut edited = RoleSpec::for_grant(&g);
    edited.managed_policies.insert(READ_ONLY.into());
    edited.max_session_secs = 7200;
    let l = l
        .role(STAGING, &RoleSpec::for_grant(&g))
        .role(PROD, &edited);
    let d = d.grant(g);
    let p = run(&d, &l);
    assert_eq!(roles(&p), ["update grant/admin -> account production"]);
    assert!(p.changes[0].reason.contains("edited outside orgctl"));
    assert!(
        matches!(&p.changes[0].ops[0], Op::DetachRolePolicy { policy_arn, .. } if policy_arn == READ_ONLY)
    );
    let e = &p.access[0].entries[0];
    assert!(e.out_of_band);
    assert_eq!(e.effect, AccessEffect::Changes);
    assert!(
        e.details
            .contains(&"- managed policy ReadOnlyAccess".to_owned())
    );
    assert!(e.details.contains(&"~ session 2h → 1h".to_owned()));
}

#[test]
fn an_edit_to_the_only_role_of_a_grant_is_reverted_without_claiming_the_yaml_changed() {
    // No other role of the grant shows what the YAML had before: orgctl keeps no state, so it
    // cannot tell an edit outside orgctl from a change in the YAML, and says neither.
    let (d, l) = org();
    let g = grant("admin", PARTNER_A, &[acct("staging")]);
    let mut edited = RoleSpec::for_grant(&g);
    edited.managed_policies.insert(READ_ONLY.into());
    let p = run(&d.grant(g), &l.role(STAGING, &edited));
    assert_eq!(roles(&p), ["update grant/admin -> account staging"]);
    let e = &p.access[0].entries[0];
    assert!(!e.out_of_band);
    assert_eq!(e.why, "differs from the YAML");
    assert_eq!(e.details, ["- managed policy ReadOnlyAccess"]);
}

#[test]
fn a_permission_changed_in_the_yaml_changes_only_that_attachment_and_is_not_called_an_edit() {
    let (d, l) = org();
    let before = grant("admin", PARTNER_A, &[acct("staging"), acct("production")]);
    let l = l
        .role(STAGING, &RoleSpec::for_grant(&before))
        .role(PROD, &RoleSpec::for_grant(&before));
    let mut after = before.clone();
    after.managed_policies = [READ_ONLY.to_owned()].into();
    let p = run(&d.grant(after), &l);
    // Every role's narrowing comes before any role's widening: first steps, then the rest.
    assert_eq!(
        roles(&p),
        [
            "update grant/admin -> account staging",
            "update grant/admin -> account production",
            "update grant/admin -> account staging",
            "update grant/admin -> account production"
        ]
    );
    let ops: Vec<&Op> = p.changes.iter().flat_map(|c| &c.ops).collect();
    assert!(
        matches!(&ops[..], [
            Op::DetachRolePolicy { policy_arn: a, .. },
            Op::DetachRolePolicy { policy_arn: b, .. },
            Op::AttachRolePolicy { policy_arn: c, .. },
            Op::AttachRolePolicy { policy_arn: e, .. },
        ] if [a, b] == [ADMIN, ADMIN] && [c, e] == [READ_ONLY, READ_ONLY]),
        "{ops:?}"
    );
    for c in &p.changes {
        assert!(!c.reason.contains("outside orgctl"), "{}", c.reason);
    }
    let e = &p.access[0].entries[0];
    assert_eq!(e.effect, AccessEffect::Changes);
    assert!(!e.out_of_band);
    assert_eq!(e.accounts, ["production", "staging"]);
    assert_eq!(
        e.details,
        [
            "- managed policy AdministratorAccess",
            "+ managed policy ReadOnlyAccess"
        ]
    );
}

#[test]
fn unreadable_and_unread_accounts_get_no_role_changes_but_a_warning() {
    let (d, mut l) = org();
    l.0.iam_accounts.retain(|a| a.account_id != PROD);
    let l = l.read(
        STAGING,
        IamRead::Unreadable {
            reason: "AccessDenied on sts:AssumeRole".into(),
        },
    );
    let d = d.grant(grant(
        "admin",
        PARTNER_A,
        &[acct("staging"), acct("production")],
    ));
    let p = run(&d, &l);
    assert!(roles(&p).is_empty(), "{}", dump(&p));
    let staging = p
        .warnings
        .iter()
        .find(|w| w.address == "iam account staging")
        .expect("a warning names staging");
    assert!(staging.message.contains("could not be read"));
    assert!(staging.message.contains("grant admin cannot be verified"));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.address == "iam account production" && w.message.contains("was not read"))
    );
    let e = &p.access[0].entries;
    assert!(e.iter().all(|e| e.effect == AccessEffect::Unverified));
    // A fallback read is a note, and planning proceeds.
    let (_, l) = org();
    let l = l.read(
        STAGING,
        IamRead::Fallback {
            reason: "no read role".into(),
        },
    );
    let p = run(&d, &l);
    assert!(
        p.notes
            .iter()
            .any(|n| n.address == "iam account staging" && n.message.contains("member role"))
    );
    assert_eq!(roles(&p).len(), 2);
}

#[test]
fn an_unmanaged_role_is_noted_and_a_desired_role_colliding_with_it_is_an_error() {
    let (d, l) = org();
    let g = grant("stg", PARTNER_A, &[acct("staging")]);
    let mut foreign = RoleSpec::for_grant(&g);
    foreign.tags = Tags::new();
    foreign.name = "STG-ROLE".into();
    let l = l.role(STAGING, &foreign).role(PROD, &foreign);
    let p = run(&d.grant(g), &l);
    assert!(
        p.errors
            .iter()
            .any(|e| e.address == "grant/stg -> account staging" && e.message.contains("STG-ROLE")),
        "{}",
        dump(&p)
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.address == "role /orgctl/STG-ROLE in account production")
    );
    assert!(roles(&p).is_empty());
}

#[test]
fn the_read_role_is_kept_in_listed_accounts_and_grant_targets_only() {
    let (mut d, l) = org();
    d.0.organization.plan_role = Some(PLAN_ROLE.into());
    let d = d.grant(grant("old", PARTNER_A, &[ou("/Workloads/Staging")]));
    let p = run(&d, &l);
    // staging, production (listed), legacy (a grant target); not sandbox, not the management
    // account.
    assert_eq!(
        accounts_with_role(&p, "orgctl-read"),
        [id(STAGING), id(PROD), id(LEGACY)].into()
    );
    let reader = p
        .access
        .iter()
        .find(|a| a.principal == PLAN_ROLE)
        .expect("the plan role");
    assert_eq!(reader.label, "orgctl plan role");
    // Without plan_role, an existing read role is removed.
    let (d, l) = org();
    let l = l.role(SANDBOX, &RoleSpec::read_role(PLAN_ROLE));
    let p = run(&d, &l);
    assert_eq!(roles(&p), ["delete grant/read-role -> account sandbox"]);
}

#[test]
fn roles_in_an_account_this_apply_creates_come_after_its_creation() {
    let (d, l) = org();
    let d = d
        .account("new", "new@x.example", "/Workloads/Staging", Tags::new())
        .grant(grant("stg", PARTNER_A, &[ou("/Workloads/Staging")]));
    let p = run(&d, &l);
    let create_account = p
        .changes
        .iter()
        .position(|c| c.address == "account new" && c.action == Action::Create)
        .expect("account created");
    let role = p
        .changes
        .iter()
        .position(|c| c.address == "grant/stg -> account new")
        .expect("role in the new account");
    assert!(create_account < role);
    assert!(matches!(&p.changes[role].ops[0],
        Op::TagResource { resource: Ref::NewAccount(e), tags }
            if e == "new@x.example" && tags.contains_key(ROLES_RECORD_TAG)));
    assert!(matches!(&p.changes[role].ops[1],
        Op::CreateRole { account: Ref::NewAccount(e), .. } if e == "new@x.example"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn without_grants_or_iam_reads_nothing_is_planned_for_iam() {
    let (d, mut l) = org();
    l.0.iam_accounts.clear();
    let p = run(&d, &l);
    assert!(roles(&p).is_empty() && p.warnings.is_empty() && p.access.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The core safety invariant: every prefix of a role's operations grants no more than before or
// no more than after.
// ---------------------------------------------------------------------------------------------

/// What a role lets whom do, as sets: (trust policy, permission atom) pairs. A managed policy
/// and an inline policy (name and document) are atoms; a boundary is a set of atoms it allows.
#[derive(Clone, Default)]
struct Model {
    exists: bool,
    trust: String,
    managed: BTreeSet<String>,
    inline: BTreeMap<String, String>,
    boundary: Option<String>,
}

/// The atoms a boundary ARN allows (fixed per ARN, so that different boundaries differ).
fn boundary_allows(b: &str, atom: &str) -> bool {
    let h = b
        .bytes()
        .chain(atom.bytes())
        .fold(7u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)));
    h % 3 != 0
}

impl Model {
    fn of(r: Option<&RoleSpec>) -> Model {
        match r {
            None => Model::default(),
            Some(r) => Model {
                exists: true,
                trust: r.trust_policy.clone(),
                managed: r.managed_policies.clone(),
                inline: r.inline_policies.clone(),
                boundary: r.permissions_boundary.clone(),
            },
        }
    }

    fn access(&self) -> BTreeSet<(String, String)> {
        // A closed trust policy lets no one in (its access ended long ago).
        if !self.exists || orgctl_model::is_closed_trust(&self.trust) {
            return BTreeSet::new();
        }
        let atoms = self
            .managed
            .iter()
            .map(|m| format!("managed:{m}"))
            .chain(self.inline.iter().map(|(n, d)| format!("inline:{n}:{d}")));
        atoms
            .filter(|a| {
                self.boundary
                    .as_deref()
                    .is_none_or(|b| boundary_allows(b, a))
            })
            .map(|a| (self.trust.clone(), a))
            .collect()
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::CreateRole { role, .. } => {
                assert!(!self.exists, "created twice");
                self.exists = true;
                self.trust = role.trust_policy.clone();
            }
            Op::DeleteRole { .. } => {
                assert!(
                    self.managed.is_empty() && self.inline.is_empty(),
                    "IAM refuses to delete a role with policies"
                );
                *self = Model::default();
            }
            Op::UpdateTrustPolicy { trust_policy, .. } => self.trust = trust_policy.clone(),
            Op::AttachRolePolicy { policy_arn, .. } => {
                self.managed.insert(policy_arn.clone());
            }
            Op::DetachRolePolicy { policy_arn, .. } => {
                self.managed.remove(policy_arn);
            }
            Op::PutRolePolicy {
                policy_name,
                document,
                ..
            } => {
                self.inline.insert(policy_name.clone(), document.clone());
            }
            Op::DeleteRolePolicy { policy_name, .. } => {
                self.inline.remove(policy_name);
            }
            Op::PutRolePermissionsBoundary { policy_arn, .. } => {
                self.boundary = Some(policy_arn.clone())
            }
            Op::DeleteRolePermissionsBoundary { .. } => self.boundary = None,
            Op::UpdateRole { .. } | Op::TagRole { .. } | Op::UntagRole { .. } => {}
            other => panic!("not a role operation: {other:?}"),
        }
        if !matches!(op, Op::CreateRole { .. }) {
            assert!(
                self.exists || matches!(op, Op::DeleteRole { .. }),
                "{op:?} on no role"
            );
        }
    }
}

fn spec_strategy() -> impl proptest::strategy::Strategy<Value = Option<RoleSpec>> {
    use proptest::prelude::*;
    let arn = proptest::sample::select(vec!["p1", "p2", "p3", "p4"]);
    let doc = proptest::sample::select(vec!["d1", "d2"]);
    proptest::option::weighted(
        0.8,
        (
            proptest::sample::select(vec![PARTNER_A, PARTNER_B]),
            proptest::collection::btree_set(arn.clone(), 0..4),
            proptest::collection::btree_map(
                proptest::sample::select(vec!["i1", "i2", "i3"]),
                doc,
                0..3,
            ),
            proptest::option::of(proptest::sample::select(vec!["b1", "b2"])),
            proptest::sample::select(vec![3600, 7200]),
        )
            .prop_map(|(principal, managed, inline, boundary, session)| RoleSpec {
                name: "r".into(),
                trust_policy: orgctl_model::trust_policy(principal, None, false, None),
                description: "d".into(),
                max_session_secs: session,
                managed_policies: managed.into_iter().map(str::to_owned).collect(),
                inline_policies: inline
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                permissions_boundary: boundary.map(str::to_owned),
                tags: Tags::from([("managed-by".to_owned(), "orgctl".to_owned())]),
            }),
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

    /// Issue 7, DESIGN-grants §5: for any role before and after (either may be absent), every
    /// prefix of the planned operations lets the role's principals do no more than before, or
    /// no more than after; the whole sequence ends exactly at after.
    #[test]
    fn role_op_prefixes_never_grant_more_than_before_or_after(
        before in spec_strategy(),
        after in spec_strategy(),
    ) {
        let account = Ref::Id(STAGING.into());
        let ops = role_ops(&account, before.as_ref(), after.as_ref(), &BTreeSet::new());
        let from = Model::of(before.as_ref()).access();
        let to = Model::of(after.as_ref()).access();
        let mut state = Model::of(before.as_ref());
        for (i, op) in ops.iter().enumerate() {
            state.apply(op);
            let now = state.access();
            proptest::prop_assert!(
                now.is_subset(&from) || now.is_subset(&to),
                "after op {} ({:?}) the role grants {:?}: more than before {:?} and after {:?}",
                i + 1, op, now, from, to
            );
        }
        let end = Model::of(after.as_ref());
        proptest::prop_assert_eq!(state.exists, end.exists);
        proptest::prop_assert_eq!(state.access(), end.access());
        proptest::prop_assert_eq!(state.managed, end.managed);
        proptest::prop_assert_eq!(state.inline, end.inline);
        proptest::prop_assert_eq!(state.boundary, end.boundary);
    }
}

/// A plan reads IAM through the read role, an apply through the member role: the plan's live
/// fingerprint keeps only whether each account could be read, so a saved plan stays valid.
#[test]
fn how_iam_was_read_does_not_change_the_live_fingerprint_but_readability_does() {
    let (d, l) = org();
    let d = d.grant(grant("admin", PARTNER_A, &[acct("staging")]));
    let by_read_role = run(&d, &l);
    let l2 = L(l.0.clone()).read(STAGING, IamRead::MemberRole).read(
        PROD,
        IamRead::Fallback {
            reason: "request 1234 denied".into(),
        },
    );
    let by_member_role = run(&d, &l2);
    assert_eq!(
        by_read_role.live_fingerprint,
        by_member_role.live_fingerprint
    );
    let l3 = L(l.0.clone()).read(
        STAGING,
        IamRead::Unreadable {
            reason: "gone".into(),
        },
    );
    assert_ne!(by_read_role.live_fingerprint, run(&d, &l3).live_fingerprint);
    // Without IAM reads, it is the live state's own fingerprint.
    let mut l4 = l;
    l4.0.iam_accounts.clear();
    assert_eq!(run(&d, &l4).live_fingerprint, l4.0.fingerprint());
}

/// With IAM reads recorded, the plan's live fingerprint still covers every part of the live
/// state (the scope of a scoped read among them), and the same state in another order has the
/// same one.
#[test]
fn the_live_fingerprint_with_iam_reads_covers_every_part_of_the_live_state() {
    use crate::planner::grants::live_fingerprint;
    let (_, l) = org();
    let mut base = l.0;
    base.access_roles.push(LiveAccessRole {
        account_id: STAGING.into(),
        role_name: "look-alike".into(),
        path: orgctl_model::ROLE_PATH.into(),
        trust_policy: "{}".into(),
        description: String::new(),
        max_session_secs: 3600,
        managed_policies: BTreeSet::new(),
        inline_policies: BTreeMap::new(),
        permissions_boundary: None,
        tags: Tags::new(),
    });
    base.normalize();
    assert!(!base.iam_accounts.is_empty());
    let fingerprint = live_fingerprint(&base);
    let mut shuffled = base.clone();
    shuffled.accounts.reverse();
    shuffled.iam_accounts.reverse();
    assert_eq!(live_fingerprint(&shuffled), fingerprint);
    assert_ne!(fingerprint, orgctl_model::fingerprint(&base));
    type Change = fn(&mut orgctl_model::LiveState);
    let changes: [(&str, Change); 9] = [
        ("organization id", |l| l.organization.id.push('x')),
        ("root record", |l| {
            l.organization.root_record = Some("1".into())
        }),
        ("an OU's name", |l| l.ous[0].name.push('x')),
        ("an account's email", |l| l.accounts[0].email.push('x')),
        ("an account's status", |l| {
            l.accounts[0].status = AccountStatus::Suspended;
        }),
        ("a role's trust policy", |l| {
            l.access_roles[0].trust_policy.push(' ');
        }),
        ("an account read", |l| {
            l.iam_accounts[0].account_id.push('9')
        }),
        ("an account unreadable", |l| {
            l.iam_accounts[0].read = IamRead::Unreadable {
                reason: "gone".into(),
            };
        }),
        ("the scope", |l| {
            l.scope = Some(orgctl_model::LiveScope {
                unread_accounts: 1,
                unwalked_ous: vec![],
            });
        }),
    ];
    let mut seen = BTreeMap::from([(fingerprint, "nothing")]);
    for (what, change) in changes {
        let mut changed = base.clone();
        change(&mut changed);
        if let Some(other) = seen.insert(live_fingerprint(&changed), what) {
            panic!("{what} changed gives the fingerprint of {other} changed");
        }
    }
}

#[test]
fn iam_is_read_in_grant_targets_recorded_accounts_and_read_role_accounts_only() {
    let (d, l) = org();
    let today = PlanOptions {
        today: "2026-11-27".into(),
    };
    let set = |ids: &[&str]| -> BTreeSet<String> { ids.iter().map(|s| (*s).to_owned()).collect() };
    // No grants, no records: nothing.
    assert_eq!(crate::iam_accounts(&d.0, &l.0, &today), set(&[]));
    // A grant on /Workloads/Staging reaches staging and legacy (unlisted, below it); sandbox
    // carries the record; the management account never, even when tagged.
    let d = d.grant(grant("stg", PARTNER_A, &[ou("/Workloads/Staging")]));
    let l = l.roles_record(SANDBOX).roles_record(MGMT);
    assert_eq!(
        crate::iam_accounts(&d.0, &l.0, &today),
        set(&[STAGING, LEGACY, SANDBOX])
    );
    // An expired grant targets nothing.
    let expired = PlanOptions {
        today: "2027-07-01".into(),
    };
    assert_eq!(crate::iam_accounts(&d.0, &l.0, &expired), set(&[SANDBOX]));
    // With a plan role, every listed account too (the read role is kept there).
    let mut d = d;
    d.0.organization.plan_role = Some(PLAN_ROLE.into());
    assert_eq!(
        crate::iam_accounts(&d.0, &l.0, &today),
        set(&[STAGING, PROD, LEGACY, SANDBOX])
    );
    // A plan made from that read alone has no warning about an account it did not read.
    let selected = crate::iam_accounts(&d.0, &l.0, &today);
    let mut read_only = l.0;
    read_only
        .iam_accounts
        .retain(|a| selected.contains(&a.account_id));
    let p = plan(&d.0, &read_only, &today);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

/// The planner runs the roles phase, the views and the fingerprints beside phases 1 to 6: the
/// plan is the one made with every part in order on one thread, with the changes, errors,
/// notes, warnings and records of both sides in the same order.
#[test]
fn a_plan_is_the_same_however_its_threads_run() {
    let (d, mut l) = org();
    l.0.iam_accounts.retain(|a| a.account_id != SANDBOX);
    let l = l
        .read(
            PROD,
            IamRead::Unreadable {
                reason: "AccessDenied on sts:AssumeRole".into(),
            },
        )
        .role(
            LEGACY,
            &RoleSpec {
                tags: Tags::new(),
                ..RoleSpec::for_grant(&grant("other", PARTNER_B, &[]))
            },
        );
    let mut clash = grant("clash", PARTNER_B, &[acct("staging")]);
    clash.role_name = "vendor-role".into();
    let d = d
        // Phases 1 to 6: an OU to create, an account whose id is not in the organization.
        .ou("/Workloads/New", None)
        .account("ghost", "ghost@x.example", "/Workloads/New", Tags::new())
        // Phase 7: roles to create, two roles of one name, an unreadable account.
        .grant(grant("vendor", PARTNER_A, &[ou("/Workloads")]))
        .grant(clash);
    let mut d = d;
    if let Some(ghost) = d.0.accounts.get_mut("ghost") {
        ghost.id = Some("666666666666".into());
    }
    let options = PlanOptions {
        today: "2026-12-01".into(),
    };
    let threaded = plan(&d.0, &l.0, &options);
    let sequential = crate::planner::sequentially(|| plan(&d.0, &l.0, &options));
    // Both sides wrote errors and notes, so their order is tested.
    let errors: Vec<&str> = threaded.errors.iter().map(|e| e.address.as_str()).collect();
    assert!(
        errors.iter().any(|a| a.starts_with("account ghost"))
            && errors.iter().any(|a| a.starts_with("grant/")),
        "{errors:?}"
    );
    assert!(!threaded.warnings.is_empty() && !threaded.notes.is_empty());
    assert_eq!(
        serde_json::to_value(&threaded).ok(),
        serde_json::to_value(&sequential).ok()
    );
}

/// The roles phase walks the IAM reads and the live roles in account order: lists in any
/// other order (the reader sorts them, a caller need not) plan the same.
#[test]
fn the_roles_phase_plans_the_same_from_live_lists_in_any_order() {
    let vendor = grant("vendor", PARTNER_A, &[ou("/Workloads")]);
    let gone = grant("gone", PARTNER_B, &[]);
    let (d, l) = org();
    let d = d.grant(vendor.clone());
    let l = l
        .read(
            LEGACY,
            IamRead::Unreadable {
                reason: "AccessDenied on sts:AssumeRole".into(),
            },
        )
        .role(STAGING, &RoleSpec::for_grant(&vendor))
        .role(STAGING, &RoleSpec::for_grant(&gone))
        .role(PROD, &RoleSpec::for_grant(&gone))
        .role(SANDBOX, &RoleSpec::for_grant(&gone));
    let sorted = run(&d, &l);
    assert!(
        roles(&sorted).len() >= 3 && !sorted.warnings.is_empty(),
        "{}",
        dump(&sorted)
    );
    let mut reversed = L(l.0.clone());
    reversed.0.iam_accounts.reverse();
    reversed.0.access_roles.reverse();
    assert_eq!(run(&d, &reversed), sorted);
}

/// What each way into an account's roles (a trust policy) reaches, over the roles `models`
/// hold: the union of their (trust, permission) pairs by trust.
fn reach_by_way(models: &BTreeMap<String, Model>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in models.values() {
        for (way, atom) in m.access() {
            out.entry(way).or_default().insert(atom);
        }
    }
    out
}

/// Plans grants `before` (whose roles are in staging) becoming `after` and plays the plan's
/// role operations in order on a model of staging's roles: after every operation, what each
/// way in reaches must be within what it reached before or within what it reaches after.
/// Returns the first violation.
fn play_role_changes(before: &[GrantSpec], after: &[GrantSpec]) -> Result<(), String> {
    let (d, mut l) = org();
    let mut d = d;
    for g in before {
        l = l.role(STAGING, &RoleSpec::for_grant(g));
    }
    for g in after {
        d = d.grant(g.clone());
    }
    let p = run(&d, &l);
    if !p.errors.is_empty() {
        return Err(format!("plan errors: {:?}", p.errors));
    }
    let mut models: BTreeMap<String, Model> = before
        .iter()
        .map(|g| {
            (
                g.role_name.clone(),
                Model::of(Some(&RoleSpec::for_grant(g))),
            )
        })
        .collect();
    let from = reach_by_way(&models);
    let end: BTreeMap<String, Model> = after
        .iter()
        .map(|g| {
            (
                g.role_name.clone(),
                Model::of(Some(&RoleSpec::for_grant(g))),
            )
        })
        .collect();
    let to = reach_by_way(&end);
    let none = BTreeSet::new();
    for op in p.changes.iter().flat_map(|c| &c.ops) {
        let role = match op.role() {
            Some((account, role)) if *account == id(STAGING) => role.to_owned(),
            _ => continue,
        };
        models.entry(role).or_default().apply(op);
        for (way, now) in reach_by_way(&models) {
            let (b, a) = (
                from.get(&way).unwrap_or(&none),
                to.get(&way).unwrap_or(&none),
            );
            if !now.is_subset(b) && !now.is_subset(a) {
                return Err(format!(
                    "after {op:?}, {way} reaches {now:?}: more than before {b:?} and after {a:?}"
                ));
            }
        }
    }
    if reach_by_way(&models) != to {
        return Err("the plan does not end at the YAML".into());
    }
    Ok(())
}

/// Two grants in one account swap partners: whichever role moves first, its new partner would
/// hold it with the other role it still holds (more than before, more than after). Each trust
/// first goes in closed, with the narrowing, and opens only after every role's narrowing.
#[test]
fn two_roles_swapping_partners_never_give_one_partner_both() {
    let mut a = grant("a", PARTNER_A, &[acct("staging")]);
    a.managed_policies = [READ_ONLY.to_owned()].into();
    let b = grant("b", PARTNER_B, &[acct("staging")]);
    let mut a2 = a.clone();
    a2.principal = PARTNER_B.into();
    let mut b2 = b.clone();
    b2.principal = PARTNER_A.into();
    play_role_changes(&[a, b], &[a2, b2]).unwrap_or_else(|e| panic!("{e}"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Any grants in one account (2 to 3, each with a partner and permissions before and after;
    /// swaps, cycles and moves included): no operation of the plan lets a way in reach more
    /// than before and more than after.
    #[test]
    fn roles_changing_together_in_one_account_never_widen_access(
        roles in proptest::collection::vec(
            (
                (0usize..3, proptest::collection::btree_set(0usize..3, 0..3)),
                (0usize..3, proptest::collection::btree_set(0usize..3, 0..3)),
            ),
            2..4,
        )
    ) {
        const PARTNERS: [&str; 3] = [PARTNER_A, PARTNER_B, "arn:aws:iam::777777777777:root"];
        const POLICIES: [&str; 3] = [ADMIN, READ_ONLY, "arn:aws:iam::aws:policy/PowerUserAccess"];
        let spec = |i: usize, (partner, policies): &(usize, BTreeSet<usize>)| {
            let mut g = grant(&format!("g{i}"), PARTNERS[*partner], &[acct("staging")]);
            g.principal_account = PARTNERS[*partner].split(':').nth(4).unwrap_or_default().into();
            g.managed_policies = policies.iter().map(|p| POLICIES[*p].to_owned()).collect();
            g
        };
        let before: Vec<GrantSpec> = roles.iter().enumerate().map(|(i, (b, _))| spec(i, b)).collect();
        let after: Vec<GrantSpec> = roles.iter().enumerate().map(|(i, (_, a))| spec(i, a)).collect();
        let played = play_role_changes(&before, &after);
        proptest::prop_assert!(played.is_ok(), "{}", played.err().unwrap_or_default());
    }
}

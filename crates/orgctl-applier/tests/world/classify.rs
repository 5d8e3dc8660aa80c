//! Which kinds of case a generated case is, and which plan errors its features explain.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_model::{
    AccountStatus, DesiredState, LiveState, Op, PolicyType, Ref, is_managed, parent_path,
};
use orgctl_planner::{Plan, PlanError};

use super::desired::units_of_document;
use super::grants::{BIG_DOC_CHARS, MANAGED_MAX};
use super::out_of_band::paths_of;
use super::{Case, IGNORED_KEY, Kind, LIMIT, MGMT};

fn ops(plan: &Plan) -> impl Iterator<Item = &Op> {
    plan.changes.iter().flat_map(|c| c.ops.iter())
}

/// Live OU ids the desired state puts under another parent, with their live descendants.
fn replaced_ous(live: &LiveState, d: &DesiredState) -> BTreeSet<String> {
    let paths = paths_of(live);
    let path_of: BTreeMap<&str, &str> = paths
        .iter()
        .map(|(p, i)| (i.as_str(), p.as_str()))
        .collect();
    let mut replaced: BTreeSet<String> = d
        .ous
        .values()
        .filter_map(|o| {
            let id = o.id.as_ref()?;
            let live_path = path_of.get(id.as_str())?;
            (parent_path(live_path) != parent_path(&o.path)).then(|| id.clone())
        })
        .collect();
    for (path, id) in &paths {
        if replaced.iter().any(|r| {
            path_of
                .get(r.as_str())
                .is_some_and(|rp| path.starts_with(&format!("{rp}/")))
        }) {
            replaced.insert(id.clone());
        }
    }
    replaced
}

/// Live accounts (the management account aside) the YAML does not name by email.
fn unnamed_accounts<'a>(
    live: &'a LiveState,
    d: &DesiredState,
) -> Vec<&'a orgctl_model::LiveAccount> {
    let emails: BTreeSet<String> = d
        .accounts
        .values()
        .map(|a| a.email.to_lowercase())
        .collect();
    live.accounts
        .iter()
        .filter(|a| a.id != MGMT && !emails.contains(&a.email.to_lowercase()))
        .collect()
}

fn unmanaged_policies(live: &LiveState) -> impl Iterator<Item = &orgctl_model::LivePolicy> {
    live.policies
        .iter()
        .filter(|p| !p.aws_managed && !is_managed(&p.tags))
}

pub(super) fn classify(
    live: &LiveState,
    d: &DesiredState,
    plan: &Plan,
    create_polls: u32,
) -> BTreeSet<Kind> {
    let mut kinds = BTreeSet::new();
    let mut add = |k: Kind, yes: bool| {
        if yes {
            kinds.insert(k);
        }
    };
    // Targets at the limit where the plan both attaches and detaches.
    let mut counts: BTreeMap<(&str, PolicyType), usize> = BTreeMap::new();
    for p in &live.policies {
        for t in &p.targets {
            *counts.entry((t.as_str(), p.policy_type)).or_default() += 1;
        }
    }
    let full: BTreeSet<&str> = counts
        .iter()
        .filter(|(_, n)| **n >= LIMIT as usize)
        .map(|((t, _), _)| *t)
        .collect();
    let touched = |detach: bool| -> BTreeSet<String> {
        ops(plan)
            .filter_map(|op| match op {
                Op::AttachPolicy { target, .. } if !detach => Some(target.to_string()),
                Op::DetachPolicy { target, .. } if detach => Some(target.to_string()),
                _ => None,
            })
            .collect()
    };
    let (attached, detached) = (touched(false), touched(true));
    add(
        Kind::LimitSwap,
        full.iter()
            .any(|t| attached.contains(*t) && detached.contains(*t)),
    );
    add(
        Kind::OuRename,
        ops(plan).any(|op| matches!(op, Op::RenameOu { .. })),
    );
    let replaced = replaced_ous(live, d);
    add(Kind::OuReplacement, !replaced.is_empty());
    let unnamed = unnamed_accounts(live, d);
    add(
        Kind::UnmanagedInReplacedOu,
        unnamed.iter().any(|a| replaced.contains(&a.parent_id))
            || unmanaged_policies(live).any(|p| p.targets.iter().any(|t| replaced.contains(t)))
            || live
                .ous
                .iter()
                .any(|o| !is_managed(&o.tags) && replaced.contains(&o.parent_id)),
    );
    let paths = paths_of(live);
    add(
        Kind::Adoption,
        unmanaged_policies(live).any(|p| d.policies.contains_key(&p.name))
            || live.ous.iter().any(|o| {
                !is_managed(&o.tags)
                    && paths
                        .iter()
                        .any(|(path, id)| *id == o.id && d.ous.contains_key(path))
            }),
    );
    add(
        Kind::ProtectedAccount,
        d.organization
            .protected_accounts
            .iter()
            .any(|id| id != MGMT && live.accounts.iter().any(|a| a.id == *id)),
    );
    add(
        Kind::TagPolicies,
        d.policies
            .values()
            .any(|p| p.policy_type == PolicyType::TagPolicy),
    );
    add(
        Kind::EnablePolicyType,
        ops(plan).any(|op| matches!(op, Op::EnablePolicyType { .. })),
    );
    add(
        Kind::AsyncCreateAccount,
        create_polls > 0 && ops(plan).any(|op| matches!(op, Op::CreateAccount { .. })),
    );
    add(
        Kind::IgnoredTagKeys,
        live.ous
            .iter()
            .map(|o| &o.tags)
            .chain(live.accounts.iter().map(|a| &a.tags))
            .chain(live.policies.iter().map(|p| &p.tags))
            .any(|t| t.contains_key(IGNORED_KEY)),
    );
    add(Kind::Fold, is_fold(live, d));
    add(
        Kind::Unmanaged,
        !unnamed.is_empty()
            || unmanaged_policies(live).next().is_some()
            || live.ous.iter().any(|o| !is_managed(&o.tags)),
    );
    add(
        Kind::DroppedAccount,
        unnamed.iter().any(|a| a.name.starts_with("acct")),
    );
    add(Kind::PlanError, !plan.errors.is_empty());
    classify_grants(live, d, plan, &unnamed, &mut add);
    kinds
}

/// The kinds of case about access grants and orgctl's roles.
fn classify_grants(
    live: &LiveState,
    d: &DesiredState,
    plan: &Plan,
    unnamed: &[&orgctl_model::LiveAccount],
    add: &mut impl FnMut(Kind, bool),
) {
    let role_ops = || {
        ops(plan).filter(|op| {
            op.role()
                .is_some_and(|(_, name)| !name.eq_ignore_ascii_case(orgctl_model::READ_ROLE_NAME))
        })
    };
    add(Kind::GrantRoles, role_ops().next().is_some());
    add(
        Kind::ReadRole,
        d.organization.plan_role.is_some()
            && ops(plan).any(|op| {
                op.role()
                    .is_some_and(|(_, n)| n == orgctl_model::READ_ROLE_NAME)
            })
            || live.access_roles.iter().any(|r| r.is_read_role()),
    );
    add(
        Kind::GrantHandOver,
        role_ops().any(|op| matches!(op, Op::UpdateTrustPolicy { .. })),
    );
    add(
        Kind::GrantUnlistedAccount,
        role_ops().any(|op| match op {
            Op::CreateRole {
                account: Ref::Id(id),
                ..
            } => unnamed.iter().any(|a| a.id == *id),
            _ => false,
        }),
    );
    add(
        Kind::GrantExpired,
        d.grants.values().any(|g| {
            g.is_expired(&super::options().today)
                && live
                    .access_roles
                    .iter()
                    .any(|r| r.is_managed() && r.grant() == Some(g.name.as_str()))
        }),
    );
    add(
        Kind::GrantExclusion,
        d.grants
            .values()
            .any(|g| !g.exclude_accounts.is_empty() || !g.exclude_ids.is_empty()),
    );
    add(
        Kind::RoleInNewAccount,
        role_ops().any(|op| {
            op.role()
                .is_some_and(|(a, _)| matches!(a, Ref::NewAccount(_)))
        }),
    );
    add(
        Kind::RoleOutOfBand,
        live.access_roles.iter().any(|r| {
            r.is_managed()
                && (r.inline_policies.contains_key("backdoor")
                    || r.trust_policy.contains("666666666666")
                    || r.max_session_secs == 43_200)
        }),
    );
    add(
        Kind::LookAlikeRole,
        live.access_roles.iter().any(|r| !r.is_managed()),
    );
    add(
        Kind::UnreadableAccount,
        live.iam_accounts.iter().any(|a| !a.read.is_readable())
            || live
                .accounts
                .iter()
                .any(|a| a.status != AccountStatus::Active),
    );
    let at_limits =
        |managed: usize, inline: usize| managed >= MANAGED_MAX || inline >= 2 * BIG_DOC_CHARS;
    add(
        Kind::RoleAtLimits,
        live.access_roles.iter().any(|r| {
            at_limits(
                r.managed_policies.len(),
                r.inline_policies.values().map(String::len).sum(),
            )
        }) || d.grants.values().any(|g| {
            at_limits(
                g.managed_policies.len(),
                g.inline_policies.values().map(String::len).sum(),
            ) && role_ops().any(|op| op.role().is_some_and(|(_, n)| n == g.role_name))
        }),
    );
    add(
        Kind::BoundaryChange,
        role_ops().any(|op| {
            matches!(
                op,
                Op::PutRolePermissionsBoundary { .. } | Op::DeleteRolePermissionsBoundary { .. }
            )
        }),
    );
}

/// Whether a live managed policy's units move into another desired policy while it is deleted
/// or detached somewhere.
fn is_fold(live: &LiveState, d: &DesiredState) -> bool {
    live.policies
        .iter()
        .filter(|q| is_managed(&q.tags) && !q.targets.is_empty())
        .any(|q| {
            let units = units_of_document(q.policy_type, &q.content);
            let shrinks = d
                .policies
                .get(&q.name)
                .is_none_or(|spec| spec.targets.len() < q.targets.len());
            let gains = d.policies.values().any(|p| {
                p.name != q.name
                    && p.policy_type == q.policy_type
                    && !units.is_empty()
                    && units.is_subset(&units_of_document(p.policy_type, &p.content))
                    && live
                        .policies
                        .iter()
                        .find(|l| l.name == p.name)
                        .is_none_or(|l| l.content != p.content)
            });
            shrinks && gains
        })
}

/// Why `e` is the right answer to the case, when a generated feature explains it.
pub(super) fn expected_error(e: &PlanError, case: &Case) -> Option<&'static str> {
    let live = &case.start;
    let m = e.message.as_str();
    let protected: BTreeSet<String> = case
        .desired
        .organization
        .protected_accounts
        .iter()
        .cloned()
        .collect();
    // What may keep an OU from being deleted: accounts the YAML does not name, protected
    // accounts, OUs orgctl does not manage.
    let blockers: BTreeSet<String> = unnamed_accounts(live, &case.desired)
        .iter()
        .map(|a| a.id.clone())
        .chain(protected.iter().cloned())
        .chain(
            live.ous
                .iter()
                .filter(|o| !is_managed(&o.tags))
                .map(|o| o.id.clone()),
        )
        .collect();
    let held = m
        .split_once("would still hold ")
        .map(|(_, rest)| rest.split(';').next().unwrap_or_default());
    if let Some(held) = held {
        let ids = parenthesized(held);
        return (!ids.is_empty() && ids.iter().all(|id| blockers.contains(id)))
            .then_some("an OU to delete holds an account or OU the YAML does not name or move");
    }
    if m.contains("protected") && protected.iter().any(|id| m.contains(id.as_str())) {
        return Some("a protected account would move");
    }
    if (m.contains("more than") || m.contains("limit")) && unmanaged_policies(live).next().is_some()
    {
        return Some("an unmanaged policy takes a place the YAML counts on");
    }
    if m.contains("that orgctl does not manage")
        && live
            .access_roles
            .iter()
            .any(|r| !r.is_managed() && m.contains(&format!("role {}{}", r.path, r.role_name)))
    {
        return Some("a role under /orgctl/ that orgctl does not manage has the grant role's name");
    }
    if m.contains("cannot be created")
        && [Kind::OuReplacement, Kind::OuRename]
            .iter()
            .any(|k| case.kinds.contains(k))
    {
        return Some("a new OU takes the name of an OU that keeps it until the end of the apply");
    }
    None
}

/// The texts in parentheses: `account a (1234), OU b (ou-x)` → `1234`, `ou-x`.
fn parenthesized(text: &str) -> Vec<String> {
    text.split('(')
        .skip(1)
        .filter_map(|part| part.split_once(')').map(|(id, _)| id.to_owned()))
        .collect()
}

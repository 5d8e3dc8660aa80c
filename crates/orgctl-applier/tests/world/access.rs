//! What is in effect on each account: the statements of the SCPs, and the tag keys of the tag
//! policies, attached to the account, its OUs and the root, with their contents; and what each
//! principal can reach in each account through orgctl's roles ([`role_reach`]).
//!
//! The unit is the statement (SCPs, without its `Sid`) or the tag key's rule (tag policies), not
//! the policy: folding a deny from one policy into another keeps it in effect, and a policy whose
//! document changes does not keep its old statements.
//!
//! One fact of SCP evaluation is modelled besides: a level (the account, an OU, the root) whose
//! SCPs allow nothing denies everything below it, so an account in that state cannot have more
//! access than in any other, and nothing counts as missing then (the per-target limit sometimes
//! makes the planner take FullAWSAccess off a target first, to swap denies while it allows
//! nothing).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orgctl_model::{
    FULL_AWS_ACCESS, LiveAccessRole, LivePolicy, LiveState, PolicyType, canonical_json,
};
use serde_json::Value;

/// What is in effect on one account for one policy type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The statements or tag rules.
    pub units: BTreeSet<String>,
    /// Whether some level's SCPs allow nothing, so that everything is denied.
    pub denies_everything: bool,
}

/// What is in effect, by account id and policy type.
pub type InEffect = BTreeMap<(String, PolicyType), Access>;

/// What is in effect on every account of `live`.
pub fn in_effect(live: &LiveState) -> InEffect {
    let parents: HashMap<&str, &str> = live
        .ous
        .iter()
        .map(|o| (o.id.as_str(), o.parent_id.as_str()))
        .chain(
            live.accounts
                .iter()
                .map(|a| (a.id.as_str(), a.parent_id.as_str())),
        )
        .collect();
    let mut attached: HashMap<&str, Vec<&LivePolicy>> = HashMap::new();
    for p in &live.policies {
        for t in &p.targets {
            attached.entry(t.as_str()).or_default().push(p);
        }
    }
    let mut out = InEffect::new();
    for account in &live.accounts {
        let mut chain = vec![account.id.as_str()];
        while let Some(parent) = chain.last().and_then(|c| parents.get(c)) {
            chain.push(parent);
        }
        for policy_type in PolicyType::ALL {
            let at = |t: &str| -> Vec<&LivePolicy> {
                attached
                    .get(t)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|p| p.policy_type == policy_type)
                    .collect()
            };
            let units: BTreeSet<String> = chain
                .iter()
                .flat_map(|t| at(t))
                .flat_map(units_of)
                .collect();
            let denies_everything = policy_type == PolicyType::ServiceControlPolicy
                && live
                    .organization
                    .enabled_policy_types
                    .contains(&policy_type)
                && chain.iter().any(|t| !at(t).into_iter().any(allows));
            out.insert(
                (account.id.clone(), policy_type),
                Access {
                    units,
                    denies_everything,
                },
            );
        }
    }
    out
}

/// Whether an SCP allows anything (FullAWSAccess, read without its document, does).
fn allows(p: &LivePolicy) -> bool {
    if p.aws_managed {
        return p.name == FULL_AWS_ACCESS;
    }
    serde_json::from_str::<Value>(&p.content).is_ok_and(|doc| {
        let statements = match &doc["Statement"] {
            Value::Array(list) => list.clone(),
            one => vec![one.clone()],
        };
        statements.iter().any(|s| s["Effect"] == "Allow")
    })
}

/// The units of one policy's document. AWS-managed policies are read without their document;
/// their name stands for it.
fn units_of(p: &LivePolicy) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(&p.content) else {
        return vec![format!("policy {}", p.name)];
    };
    match p.policy_type {
        PolicyType::ServiceControlPolicy => {
            let statements = match &doc["Statement"] {
                Value::Array(list) => list.clone(),
                one => vec![one.clone()],
            };
            statements
                .into_iter()
                .map(|mut s| {
                    if let Some(o) = s.as_object_mut() {
                        o.remove("Sid");
                    }
                    canonical_json(&s)
                })
                .collect()
        }
        PolicyType::TagPolicy => doc["tags"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, rule)| format!("{key}: {}", canonical_json(rule)))
            .collect(),
    }
}

/// What is in effect both in `before` and in `after`: what no intermediate state may lack.
pub fn kept(before: &InEffect, after: &InEffect) -> InEffect {
    before
        .iter()
        .filter_map(|(key, access)| {
            let later = after.get(key)?;
            let units = access.units.intersection(&later.units).cloned().collect();
            Some((
                key.clone(),
                Access {
                    units,
                    denies_everything: false,
                },
            ))
        })
        .collect()
}

/// What of `required` is not in effect in `now`, one line per account and type (nothing for an
/// account that `now` denies everything).
pub fn missing(required: &InEffect, now: &InEffect) -> Vec<String> {
    let none = Access::default();
    required
        .iter()
        .filter_map(|((account, policy_type), access)| {
            let have = now.get(&(account.clone(), *policy_type)).unwrap_or(&none);
            if have.denies_everything {
                return None;
            }
            let lost: Vec<&String> = access.units.difference(&have.units).collect();
            (!lost.is_empty()).then(|| format!("account {account} lost {policy_type} {lost:?}"))
        })
        .collect()
}

/// What principals can reach through the roles under `/orgctl/`, by account (its email: the ids
/// of accounts an apply creates depend on the order it creates them in) and way in: a
/// principal of an Allow statement of a role's trust policy together with that statement's
/// conditions (another external id, MFA dropped or a later end are other ways in), mapped to
/// the permissions of every such role there.
pub type RoleReach = BTreeMap<(String, String), BTreeSet<Permission>>;

/// One permission a role gives: a managed policy (by ARN) or an inline document (its name
/// aside), and the permissions boundary it is given under, if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permission {
    pub unit: String,
    pub boundary: Option<String>,
}

/// The email of each account of `live`, by id.
pub fn emails(live: &LiveState) -> BTreeMap<String, String> {
    live.accounts
        .iter()
        .map(|a| (a.id.clone(), a.email.clone()))
        .collect()
}

/// What principals reach through `roles`, naming accounts by their email in `emails`.
pub fn role_reach(roles: &[LiveAccessRole], emails: &BTreeMap<String, String>) -> RoleReach {
    let mut out = RoleReach::new();
    for r in roles {
        let perms: BTreeSet<Permission> = r
            .managed_policies
            .iter()
            .map(|arn| format!("managed {arn}"))
            .chain(r.inline_policies.values().map(|d| format!("inline {d}")))
            .map(|unit| Permission {
                unit,
                boundary: r.permissions_boundary.clone(),
            })
            .collect();
        for way in ways_in(&r.trust_policy) {
            let account = emails
                .get(&r.account_id)
                .cloned()
                .unwrap_or_else(|| r.account_id.clone());
            out.entry((account, way))
                .or_default()
                .extend(perms.iter().cloned());
        }
    }
    out
}

/// The ways into a role its trust policy allows: `principal if conditions`.
fn ways_in(trust: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(trust) else {
        return vec![format!("unreadable trust {trust}")];
    };
    let statements = match &doc["Statement"] {
        Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    let mut out = Vec::new();
    // A statement whose access ended long ago (a closed trust, `orgctl_model::closed_trust`)
    // lets no one in.
    let open = |s: &&Value| {
        s.pointer("/Condition/DateLessThan/aws:CurrentTime")
            .and_then(Value::as_str)
            .is_none_or(|end| end > orgctl_model::CLOSED_TRUST_ENDS)
    };
    for s in statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .filter(open)
    {
        let condition = canonical_json(&s["Condition"]);
        let principals: Vec<String> = match &s["Principal"] {
            Value::String(p) => vec![p.clone()],
            Value::Object(kinds) => kinds
                .iter()
                .flat_map(|(kind, v)| {
                    let list = match v {
                        Value::Array(list) => list.clone(),
                        one => vec![one.clone()],
                    };
                    list.into_iter()
                        .map(move |p| format!("{kind}:{}", p.as_str().unwrap_or_default()))
                })
                .collect(),
            other => vec![canonical_json(other)],
        };
        out.extend(
            principals
                .into_iter()
                .map(|p| format!("{p} if {condition}")),
        );
    }
    out
}

/// Whether `reference` gives at least `p`: the same permission, or the same one without a
/// boundary (a boundary only takes away; two different boundaries are not comparable).
fn covered(p: &Permission, reference: &BTreeSet<Permission>) -> bool {
    reference.contains(p)
        || (p.boundary.is_some()
            && reference.contains(&Permission {
                unit: p.unit.clone(),
                boundary: None,
            }))
}

/// Each way in through which `now` reaches more than `before` and more than `after` in an
/// account (what it reaches is neither within what it reached before the apply nor within
/// what it reaches after it), one line each.
pub fn widened(before: &RoleReach, after: &RoleReach, now: &RoleReach) -> Vec<String> {
    let none = BTreeSet::new();
    now.iter()
        .filter_map(|(key @ (account, way), perms)| {
            let within =
                |reference: &BTreeSet<Permission>| perms.iter().all(|p| covered(p, reference));
            let b = before.get(key).unwrap_or(&none);
            let a = after.get(key).unwrap_or(&none);
            (!within(b) && !within(a)).then(|| {
                format!("in account {account}, {way} reaches {perms:?}; before {b:?}; after {a:?}")
            })
        })
        .collect()
}

//! What is in effect on each account: the statements of the SCPs, and the tag keys of the tag
//! policies, attached to the account, its OUs and the root, with their contents.
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

use orgctl_model::{FULL_AWS_ACCESS, LivePolicy, LiveState, PolicyType, canonical_json};
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

//! Restrictions are added before any is taken away, policy documents included.
//!
//! The phases add restrictions first (new and tightened policies, attachments, with the
//! detachments a target needs only after its attachments and after the account moves). An update
//! whose document drops a statement (an SCP) or a tag rule (a tag policy) the old one had takes a
//! restriction away too, so it waits until all of that is in effect: otherwise an account could
//! lose a deny before the policy or attachment that carries it on is in place (a deny moving from
//! one policy into another, a policy's statements replaced by a new policy's).

use std::collections::{BTreeSet, HashMap};

use orgctl_model::{LiveState, Op, PolicyType, Ref, canonical_json};
use serde_json::Value;

use crate::plan::{Action, Change, ResourceKind};

/// Moves the policy updates that drop a rule to the end of `changes` (with the other updates of
/// the same policies), keeping the order within both groups. Called once every attachment,
/// account move and detachment is planned, before deletions.
pub(super) fn removals_last(changes: &mut Vec<Change>, live: &LiveState) {
    let documents: HashMap<&str, (&str, PolicyType)> = live
        .policies
        .iter()
        .map(|p| (p.id.as_str(), (p.content.as_str(), p.policy_type)))
        .collect();
    let drops_a_rule = |op: &Op| match op {
        Op::UpdatePolicy {
            policy: Ref::Id(id),
            content: Some(new),
            ..
        } => documents
            .get(id.as_str())
            .is_some_and(|(old, policy_type)| drops_a_rule(*policy_type, old, new)),
        _ => false,
    };
    let mut later: Vec<bool> = changes
        .iter()
        .map(|c| c.ops.iter().any(drops_a_rule))
        .collect();
    // The other updates of a policy whose document waits (its tags, its adoption) wait with it,
    // so that the plan still shows one change per policy.
    let waiting: BTreeSet<&str> = changes
        .iter()
        .zip(&later)
        .filter(|(c, later)| **later && is_policy_update(c))
        .map(|(c, _)| c.address.as_str())
        .collect();
    for (c, later) in changes.iter().zip(later.iter_mut()) {
        *later |= is_policy_update(c) && waiting.contains(c.address.as_str());
    }
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for (change, later) in std::mem::take(changes).into_iter().zip(later) {
        if later {
            last.push(change);
        } else {
            first.push(change);
        }
    }
    first.extend(last);
    *changes = first;
}

fn is_policy_update(c: &Change) -> bool {
    c.kind == ResourceKind::Policy && c.action == Action::Update
}

/// Whether the document `new` lacks a rule of `old`: a statement of an SCP (its `Sid` aside),
/// a tag key's rule of a tag policy. A document that does not parse counts as dropping rules.
fn drops_a_rule(policy_type: PolicyType, old: &str, new: &str) -> bool {
    match (rules(policy_type, old), rules(policy_type, new)) {
        (Some(old), Some(new)) => !old.is_subset(&new),
        _ => true,
    }
}

fn rules(policy_type: PolicyType, document: &str) -> Option<BTreeSet<String>> {
    let doc: Value = serde_json::from_str(document).ok()?;
    Some(match policy_type {
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
            .as_object()?
            .iter()
            .map(|(key, rule)| format!("{key}: {}", canonical_json(rule)))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_drops_a_rule_when_a_statement_or_tag_rule_is_gone() {
        let scp = PolicyType::ServiceControlPolicy;
        let a = r#"{"Effect":"Deny","Action":"a:*","Resource":"*"}"#;
        let b = r#"{"Effect":"Deny","Action":"b:*","Resource":"*","Sid":"B"}"#;
        let doc = |s: &[&str]| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                s.join(",")
            )
        };
        assert!(!drops_a_rule(scp, &doc(&[a]), &doc(&[a, b])));
        assert!(drops_a_rule(scp, &doc(&[a, b]), &doc(&[a])));
        assert!(drops_a_rule(scp, &doc(&[a]), &doc(&[b])));
        let sid = r#"{"Effect":"Deny","Action":"a:*","Resource":"*","Sid":"Other"}"#;
        assert!(
            !drops_a_rule(scp, &doc(&[a]), &doc(&[sid])),
            "a Sid is not a rule"
        );
        let tag = PolicyType::TagPolicy;
        let t = |keys: &[&str]| {
            let rules: Vec<String> = keys
                .iter()
                .map(|k| format!(r#""{k}":{{"tag_key":{{"@@assign":"{k}"}}}}"#))
                .collect();
            format!(r#"{{"tags":{{{}}}}}"#, rules.join(","))
        };
        assert!(!drops_a_rule(tag, &t(&["x"]), &t(&["x", "y"])));
        assert!(drops_a_rule(tag, &t(&["x", "y"]), &t(&["y"])));
        assert!(drops_a_rule(scp, "not json", &doc(&[a])));
    }
}

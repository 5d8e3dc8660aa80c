//! Restrictions are added before any is taken away, policy documents included.
//!
//! The phases add restrictions first (new and tightened policies, attachments, with the
//! detachments a target needs only after its attachments and after the account moves). An update
//! that loosens a policy (an SCP that drops a deny statement or gains an allow statement, a tag
//! policy that drops a tag rule) takes a restriction away too, so it waits until all of that is
//! in effect: otherwise an account could lose a deny before the policy or attachment that carries
//! it on is in place (a deny moving from one policy into another, a policy's statements replaced
//! by a new policy's). When the update also brings denies (or tag rules) of its own, the policy
//! first gets its old document with them added, so that they are in effect as early as any other
//! addition.

use std::collections::{BTreeSet, HashMap};

use orgctl_model::{LiveState, Op, PolicyType, Ref, canonical_json, canonical_json_str};
use serde_json::Value;

use super::document_diff;
use crate::plan::{Action, Change, ResourceKind};

/// Moves the policy updates that loosen a policy to the end of `changes` (with the other updates
/// of the same policies, so each policy still shows as one change there), leaving in their place
/// a first step that only adds the update's new denies or tag rules, when it has any. Keeps the
/// order within both groups. Called once every attachment, account move and detachment is
/// planned, before deletions.
pub(super) fn removals_last(changes: &mut Vec<Change>, live: &LiveState) {
    let documents: HashMap<&str, (&str, PolicyType)> = live
        .policies
        .iter()
        .map(|p| (p.id.as_str(), (p.content.as_str(), p.policy_type)))
        .collect();
    let waiting: BTreeSet<String> = changes
        .iter()
        .filter(|c| {
            document_update(c).is_some_and(|(id, new)| {
                documents
                    .get(id)
                    .is_some_and(|(old, policy_type)| loosens(*policy_type, old, new))
            })
        })
        .map(|c| c.address.clone())
        .collect();
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for change in std::mem::take(changes) {
        if !(is_policy_update(&change) && waiting.contains(&change.address)) {
            first.push(change);
            continue;
        }
        if let Some((id, new)) = document_update(&change)
            && let Some((old, policy_type)) = documents.get(id)
            && let Some(step) = union_step(&change, id, *policy_type, old, new)
        {
            first.push(step);
        }
        last.push(change);
    }
    first.extend(last);
    *changes = first;
}

fn is_policy_update(c: &Change) -> bool {
    c.kind == ResourceKind::Policy && c.action == Action::Update
}

/// The policy id and new document of a change that updates an existing policy's document.
fn document_update(c: &Change) -> Option<(&str, &str)> {
    c.ops.iter().find_map(|op| match op {
        Op::UpdatePolicy {
            policy: Ref::Id(id),
            content: Some(new),
            ..
        } => Some((id.as_str(), new.as_str())),
        _ => None,
    })
}

/// The first step of an update that loosens a policy and brings new restrictions too: the old
/// document with the new denies (or tag rules) added. `None` when the update brings none, or
/// the document would be over AWS's size limit (then they come with the update, at the end).
fn union_step(
    change: &Change,
    id: &str,
    policy_type: PolicyType,
    old: &str,
    new: &str,
) -> Option<Change> {
    let tighter = tightened(policy_type, old, new)?;
    if canonical_json_str(old).as_deref() == Some(tighter.as_str())
        || tighter.chars().count() > policy_type.max_document_chars()
    {
        return None;
    }
    Some(
        Change::new(
            ResourceKind::Policy,
            Action::Update,
            change.address.clone(),
            "first gains the YAML document's new restrictions while it keeps its old document; \
             what the YAML drops goes at the end of the apply, after everything that carries it \
             on",
        )
        .source(change.source.as_ref())
        .diff(document_diff(old, &tighter))
        .op(Op::UpdatePolicy {
            policy: Ref::Id(id.to_owned()),
            description: None,
            content: Some(tighter),
        }),
    )
}

/// The rules of a document that restrict (an SCP's deny statements, every rule of a tag
/// policy) and those that grant (an SCP's allow statements), each as canonical JSON without a
/// `Sid`; `None` when the document does not parse.
pub(super) fn rules(
    policy_type: PolicyType,
    document: &str,
) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    let doc: Value = serde_json::from_str(document).ok()?;
    Some(match policy_type {
        PolicyType::ServiceControlPolicy => {
            let (mut restrict, mut grant) = (BTreeSet::new(), BTreeSet::new());
            for s in statements(&doc) {
                if s["Effect"] == "Allow" {
                    grant.insert(statement_rule(&s));
                } else {
                    restrict.insert(statement_rule(&s));
                }
            }
            (restrict, grant)
        }
        PolicyType::TagPolicy => (
            doc["tags"]
                .as_object()?
                .iter()
                .map(|(key, rule)| format!("{key}: {}", canonical_json(rule)))
                .collect(),
            BTreeSet::new(),
        ),
    })
}

/// Whether `new` restricts less than `old` anywhere: it drops a restricting rule or adds a
/// granting one. A document that does not parse counts as loosening.
fn loosens(policy_type: PolicyType, old: &str, new: &str) -> bool {
    match (rules(policy_type, old), rules(policy_type, new)) {
        (Some((old_restrict, old_grant)), Some((new_restrict, new_grant))) => {
            !old_restrict.is_subset(&new_restrict) || !new_grant.is_subset(&old_grant)
        }
        _ => true,
    }
}

/// The statements of an SCP document (one or a list).
fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(list) => list.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// A statement as a rule: its canonical JSON without its `Sid`.
fn statement_rule(statement: &Value) -> String {
    let mut s = statement.clone();
    if let Some(o) = s.as_object_mut() {
        o.remove("Sid");
    }
    canonical_json(&s)
}

/// Whether the statement `wide` denies everything `narrow` does because it names a superset of
/// its actions and is otherwise the same (a deny list that only loses actions).
fn covers(wide: &Value, narrow: &Value) -> bool {
    let actions = |s: &Value| -> Option<BTreeSet<String>> {
        match &s["Action"] {
            Value::String(a) => Some([a.clone()].into()),
            Value::Array(list) => list.iter().map(|a| a.as_str().map(str::to_owned)).collect(),
            _ => None,
        }
    };
    let rest = |s: &Value| {
        let mut s = s.clone();
        if let Some(o) = s.as_object_mut() {
            o.remove("Sid");
            o.remove("Action");
        }
        s
    };
    match (actions(wide), actions(narrow)) {
        (Some(w), Some(n)) => n.is_subset(&w) && rest(wide) == rest(narrow),
        _ => false,
    }
}

/// The document `old` with the restricting rules of `new` it lacks added: an SCP's deny
/// statements that no old statement covers (without a `Sid` that `old` uses too), a tag
/// policy's keys it does not rule yet.
fn tightened(policy_type: PolicyType, old: &str, new: &str) -> Option<String> {
    let mut doc: Value = serde_json::from_str(old).ok()?;
    let new: Value = serde_json::from_str(new).ok()?;
    match policy_type {
        PolicyType::ServiceControlPolicy => {
            let mut all = statements(&doc);
            let have: BTreeSet<String> = all.iter().map(statement_rule).collect();
            let sids: BTreeSet<String> = all
                .iter()
                .filter_map(|s| s.get("Sid")?.as_str().map(str::to_owned))
                .collect();
            let old_statements = statements(&doc);
            for mut s in statements(&new) {
                if s["Effect"] == "Allow"
                    || have.contains(&statement_rule(&s))
                    || old_statements.iter().any(|o| covers(o, &s))
                {
                    continue;
                }
                let clash = s
                    .get("Sid")
                    .and_then(Value::as_str)
                    .is_some_and(|sid| sids.contains(sid));
                if clash && let Some(o) = s.as_object_mut() {
                    o.remove("Sid");
                }
                all.push(s);
            }
            doc.as_object_mut()?
                .insert("Statement".into(), Value::Array(all));
        }
        PolicyType::TagPolicy => {
            let new_tags = new["tags"].as_object()?.clone();
            let tags = doc.get_mut("tags")?.as_object_mut()?;
            for (key, rule) in new_tags {
                tags.entry(key).or_insert(rule);
            }
        }
    }
    Some(canonical_json(&doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scp_doc(statements: &[&str]) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            statements.join(",")
        )
    }

    fn tag_doc(keys: &[&str]) -> String {
        let rules: Vec<String> = keys
            .iter()
            .map(|k| format!(r#""{k}":{{"tag_key":{{"@@assign":"{k}"}}}}"#))
            .collect();
        format!(r#"{{"tags":{{{}}}}}"#, rules.join(","))
    }

    const DENY_A: &str = r#"{"Effect":"Deny","Action":"a:*","Resource":"*"}"#;
    const DENY_B: &str = r#"{"Effect":"Deny","Action":"b:*","Resource":"*","Sid":"B"}"#;
    const ALLOW_A: &str = r#"{"Effect":"Allow","Action":"a:*","Resource":"*"}"#;

    #[test]
    fn dropping_a_deny_or_adding_an_allow_loosens() {
        let scp = PolicyType::ServiceControlPolicy;
        assert!(!loosens(
            scp,
            &scp_doc(&[DENY_A]),
            &scp_doc(&[DENY_A, DENY_B])
        ));
        assert!(loosens(
            scp,
            &scp_doc(&[DENY_A, DENY_B]),
            &scp_doc(&[DENY_A])
        ));
        assert!(loosens(scp, &scp_doc(&[DENY_A]), &scp_doc(&[DENY_B])));
        assert!(loosens(
            scp,
            &scp_doc(&[DENY_A]),
            &scp_doc(&[DENY_A, ALLOW_A])
        ));
        assert!(
            !loosens(scp, &scp_doc(&[ALLOW_A]), &scp_doc(&[DENY_A])),
            "an allow going narrows"
        );
        let other_sid = r#"{"Effect":"Deny","Action":"a:*","Resource":"*","Sid":"Other"}"#;
        assert!(
            !loosens(scp, &scp_doc(&[DENY_A]), &scp_doc(&[other_sid])),
            "a Sid is no rule"
        );
        let tag = PolicyType::TagPolicy;
        assert!(!loosens(tag, &tag_doc(&["x"]), &tag_doc(&["x", "y"])));
        assert!(loosens(tag, &tag_doc(&["x", "y"]), &tag_doc(&["y"])));
        assert!(loosens(scp, "not json", &scp_doc(&[DENY_A])));
    }

    #[test]
    fn the_first_step_keeps_the_old_document_and_adds_the_new_restrictions() {
        let scp = PolicyType::ServiceControlPolicy;
        let b_same_sid = r#"{"Effect":"Deny","Action":"c:*","Resource":"*","Sid":"B"}"#;
        let old = scp_doc(&[DENY_A, DENY_B]);
        let new = scp_doc(&[b_same_sid, ALLOW_A]);
        let step = tightened(scp, &old, &new).expect("tightened");
        let (restrict, grant) = rules(scp, &step).expect("rules");
        let (old_restrict, old_grant) = rules(scp, &old).expect("rules");
        assert!(
            old_restrict.is_subset(&restrict) && grant == old_grant,
            "{step}"
        );
        assert_eq!(restrict.len(), 3, "{step}");
        assert_eq!(
            step.matches(r#""Sid":"B""#).count(),
            1,
            "no Sid twice: {step}"
        );
        let narrower = r#"{"Effect":"Deny","Action":["a:X"],"Resource":"*"}"#;
        let wider = r#"{"Effect":"Deny","Action":["a:X","a:Y"],"Resource":"*"}"#;
        assert_eq!(
            tightened(scp, &scp_doc(&[wider]), &scp_doc(&[narrower])).as_deref(),
            Some(
                canonical_json(&serde_json::from_str::<Value>(&scp_doc(&[wider])).expect("json"))
                    .as_str()
            ),
            "a deny list that only loses actions needs no first step"
        );
        let tag = PolicyType::TagPolicy;
        let step = tightened(tag, &tag_doc(&["x"]), &tag_doc(&["y"])).expect("tightened");
        assert_eq!(rules(tag, &step).expect("rules").0.len(), 2, "{step}");
    }
}

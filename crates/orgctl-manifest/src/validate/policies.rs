//! The `policies` lists: names, types, descriptions, documents and targets.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use orgctl_model::{
    FULL_AWS_ACCESS, PolicySpec, PolicyType, ROOT_PATH, SourceLoc, TargetRef, canonical_json,
};
use serde_json::Value;

use super::accounts::Accounts;
use super::checker::Checker;
use super::docs;
use super::organization::OrgSettings;
use super::ous::Ous;
use super::{type_singular, type_words, yaml_type};
use crate::document::grammar_problems;
use crate::load::Item;
use crate::node::Located;
use crate::raw::RawPolicy;
use crate::text::invisible_problem;

/// The checked policies.
pub(super) struct Policies {
    /// The policies by name (each name's first declaration).
    pub(super) specs: BTreeMap<String, PolicySpec>,
    /// (target, type) → the target entries attaching a policy of that type, in file order.
    pub(super) attachments: HashMap<(TargetRef, PolicyType), Vec<Attachment>>,
}

/// One target entry of a policy, for the per-target count.
pub(super) struct Attachment {
    /// Where the entry is.
    pub(super) at: SourceLoc,
    /// Its field path.
    pub(super) field: String,
}

/// Checks every policy, its document and its targets.
pub(super) fn check(
    checker: &mut Checker<'_>,
    org: Option<&OrgSettings>,
    ous: &Ous<'_>,
    accounts: &Accounts<'_>,
    ignored: &HashSet<&str>,
) -> Policies {
    let parsed = checker.parsed;
    let mut policies: BTreeMap<String, PolicySpec> = BTreeMap::new();
    let mut policy_names: HashMap<&str, SourceLoc> = HashMap::with_capacity(parsed.policies.len());
    // (target, type) → the target entries attaching a policy of that type, in file order.
    let mut attachments: HashMap<(TargetRef, PolicyType), Vec<Attachment>> = HashMap::new();
    for Item { file, index, raw } in &parsed.policies {
        let (file, index) = (*file, *index);
        let policy = &raw.value;
        let field = |f: &str| format!("policies[{index}].{f}");
        let name = policy.name.value.as_str();
        let name_at = checker.at(file, &policy.name);
        let n = name.chars().count();
        if n == 0 || n > 128 {
            checker.error(
                name_at.clone(),
                field("name"),
                format!("policy name has {n} characters; AWS allows 1 to 128"),
            );
        }
        if let Some(problem) = invisible_problem("policy name", name) {
            checker.error(name_at.clone(), field("name"), problem);
        }
        if name == FULL_AWS_ACCESS {
            checker.error(
                name_at.clone(),
                field("name"),
                format!(
                    "`{FULL_AWS_ACCESS}` is the AWS-managed SCP; keep or drop it per target \
                     with `full_aws_access`"
                ),
            );
        }
        let duplicate = policy_names.get(name).cloned();
        if let Some(first) = &duplicate {
            checker.error_related(
                name_at.clone(),
                field("name"),
                format!("policy name `{name}` is used twice (names are unique across types)"),
                first.clone(),
            );
        } else {
            policy_names.insert(name, name_at);
        }
        let policy_type = policy.policy_type.value.to_model();
        if let Some(o) = org
            && !o.enabled.contains(&policy_type)
        {
            checker.error(
                checker.at(file, &policy.policy_type),
                field("type"),
                format!(
                    "policy type `{}` is not in organization.enabled_policy_types; add it \
                     there so orgctl enables it",
                    yaml_type(policy_type)
                ),
            );
        }
        let description = policy
            .description
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_default();
        if let Some(d) = &policy.description {
            // Line breaks and tabs are text in a description; nothing else that does not show.
            let shown: String = d.value.replace(['\n', '\t'], " ");
            if let Some(problem) = invisible_problem("the description", &shown) {
                checker.error(checker.at(file, d), field("description"), problem);
            }
            let dn = d.value.chars().count();
            if dn > 512 {
                checker.error(
                    checker.at(file, d),
                    field("description"),
                    format!("description has {dn} characters; AWS allows at most 512"),
                );
            }
        }
        let content = document(checker, file, index, raw, policy_type);

        let mut targets = BTreeSet::new();
        for t in &policy.targets {
            let t_at = checker.at(file, t);
            let text = t.value.as_str();
            let target = if text == "root" || text == ROOT_PATH {
                Some(TargetRef::Root)
            } else if text.starts_with('/') {
                if ous.specs.contains_key(text) {
                    Some(TargetRef::Ou(text.to_owned()))
                } else if parsed.broken.ous {
                    None
                } else {
                    checker.error(
                        t_at.clone(),
                        field("targets"),
                        format!("target OU `{text}` is not declared in `ous`"),
                    );
                    None
                }
            } else if accounts.specs.contains_key(text) {
                Some(TargetRef::Account(text.to_owned()))
            } else if parsed.broken.accounts {
                None
            } else {
                checker.error(
                    t_at.clone(),
                    field("targets"),
                    format!(
                        "target `{text}` is not an account name from `accounts`; targets are \
                         `root`, an OU path starting with `/`, or an account name"
                    ),
                );
                None
            };
            let Some(target) = target else { continue };
            if !targets.insert(target.clone()) {
                checker.warning(
                    t_at,
                    field("targets"),
                    format!("target `{text}` is listed twice"),
                );
                continue;
            }
            attachments
                .entry((target, policy_type))
                .or_default()
                .push(Attachment {
                    at: t_at,
                    field: field("targets"),
                });
        }
        let tags = checker.tags(file, &policy.tags, &|| field("tags"), ignored, true);
        if duplicate.is_none() {
            policies.insert(
                name.to_owned(),
                PolicySpec {
                    name: name.to_owned(),
                    policy_type,
                    description,
                    content: content.unwrap_or_default(),
                    targets,
                    tags,
                    source: checker.at(file, raw),
                },
            );
        }
    }
    Policies {
        specs: policies,
        attachments,
    }
}

/// Reads, parses and checks a policy's document; returns its canonical JSON.
fn document(
    checker: &mut Checker<'_>,
    file: usize,
    index: usize,
    item: &Located<RawPolicy>,
    policy_type: PolicyType,
) -> Option<String> {
    let policy = &item.value;
    let doc = docs::read(
        checker,
        file,
        policy.document.as_ref(),
        policy.document_file.as_ref(),
        &format!("policies[{index}]"),
        checker.at(file, item),
        format!(
            "policy `{}` has no document: give `document` (inline) or `document_file` (a JSON \
             file)",
            policy.name.value
        ),
        "`{ \"Version\": ..., \"Statement\": ... }` for an SCP",
    )?;
    let Value::Object(object) = &doc.value else {
        return None;
    };
    let (at, field, what) = match &doc.related {
        // Grammar problems name the place inside the document; they stay at the YAML line.
        Some(yaml_at) => (yaml_at.clone(), doc.field.clone(), doc.what.clone()),
        None => (doc.at.clone(), doc.field.clone(), doc.what.clone()),
    };
    for problem in grammar_problems(object, policy_type) {
        checker.error(
            at.clone(),
            &field,
            format!(
                "{what} is not a valid {}: {problem}",
                type_singular(policy_type)
            ),
        );
    }
    let content = canonical_json(&doc.value);
    let n = content.chars().count();
    let max = policy_type.max_document_chars();
    if n > max {
        doc.error(
            checker,
            format!(
                "the document has {n} characters minified; AWS allows at most {max} for {}",
                type_words(policy_type)
            ),
        );
    }
    Some(content)
}

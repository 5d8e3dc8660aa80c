//! What `plan` and `apply` read: [`read_scope`], the part of the organization the YAML manages.

use std::collections::BTreeSet;

use orgctl_model::{DesiredState, GrantTarget, OuPath, ROOT_PATH, ReadScope};

/// The [`ReadScope`] of a desired state: the topmost of its OU paths and of its grants' OU
/// targets (a subtree covers its descendants), the OU ids it gives, and its accounts' ids and the
/// emails (lower case) of those without one (the planner matches by id when there is one),
/// and its policy names. Pure.
pub fn read_scope(desired: &DesiredState) -> ReadScope {
    let mut paths: BTreeSet<OuPath> = desired
        .ous
        .keys()
        .filter(|p| p.as_str() != ROOT_PATH)
        .cloned()
        .collect();
    for grant in desired.grants.values() {
        for target in &grant.targets {
            if let GrantTarget::Ou(path) = target
                && path.as_str() != ROOT_PATH
            {
                paths.insert(path.clone());
            }
        }
    }
    let subtrees = paths
        .iter()
        .filter(|p| !paths.iter().any(|q| is_strictly_below(p, q)))
        .cloned()
        .collect();
    ReadScope {
        subtrees,
        ou_ids: desired.ous.values().filter_map(|o| o.id.clone()).collect(),
        account_ids: desired
            .accounts
            .values()
            .filter_map(|a| a.id.clone())
            .collect(),
        account_emails: desired
            .accounts
            .values()
            .filter(|a| a.id.is_none())
            .map(|a| a.email.to_lowercase())
            .collect(),
        policies: desired.policies.keys().cloned().collect(),
    }
}

/// Whether `path` is a descendant of `ancestor` (not equal to it).
fn is_strictly_below(path: &str, ancestor: &str) -> bool {
    path.strip_prefix(ancestor)
        .is_some_and(|rest| rest.starts_with('/'))
}

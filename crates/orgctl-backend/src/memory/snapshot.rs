//! Live-state snapshots: loading one into a [`MemoryOrg`] (refusing what AWS could not have)
//! and describing the organization as the live-state reader would.

use std::collections::{BTreeSet, HashMap, HashSet};

use orgctl_model::{
    FULL_AWS_ACCESS, LiveAccount, LiveOrganization, LiveOu, LivePolicy, LiveState, PolicyType,
};

use super::state::{Account, Ou, Policy, State};
use super::{FULL_AWS_ACCESS_CONTENT, FULL_AWS_ACCESS_ID, MAX_OU_DEPTH, MemoryOrg};

/// Why a live-state snapshot cannot be loaded into a [`MemoryOrg`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the live-state snapshot describes an organization AWS could not have: {0}")]
pub struct SnapshotError(pub String);

impl MemoryOrg {
    /// Loads a snapshot. The snapshot must describe an organization AWS could have: unique ids,
    /// parents that exist, no cycles, OU depth at most [`MAX_OU_DEPTH`], unique sibling OU
    /// names, unique account emails and policy names, the management account present, policies
    /// only of enabled types, attached only to existing targets.
    ///
    /// Policies of a type that is not enabled are not part of a live state; when SCPs are not
    /// enabled, FullAWSAccess is created as in [`MemoryOrg::new`]. When they are enabled and the
    /// snapshot has no FullAWSAccess, the organization simply lacks it.
    pub fn from_live(live: &LiveState) -> Result<Self, SnapshotError> {
        let impossible = |m: String| Err(SnapshotError(m));
        let org = &live.organization;
        if org.root_id.is_empty() {
            return impossible("the organization has no root id".to_owned());
        }
        let mut state = State::empty(
            org.id.clone(),
            org.root_id.clone(),
            org.management_account_id.clone(),
        );
        state.enabled_types = org.enabled_policy_types.clone();
        if let Some(record) = &org.root_record {
            state
                .root_tags
                .insert(orgctl_model::RECORD_TAG.to_owned(), record.clone());
        }

        // OUs, parents first (breadth-first from the root).
        let mut by_parent: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
        let mut ids: HashSet<&str> = HashSet::new();
        ids.insert(org.root_id.as_str());
        for ou in &live.ous {
            if !ids.insert(ou.id.as_str()) {
                return impossible(format!("the id {} is used twice", ou.id));
            }
            by_parent.entry(ou.parent_id.as_str()).or_default().push(ou);
        }
        let mut level = vec![org.root_id.clone()];
        let mut depth = 0;
        let mut placed = 0usize;
        while !level.is_empty() {
            let mut next = Vec::new();
            for parent in &level {
                let Some(children) = by_parent.get(parent.as_str()) else {
                    continue;
                };
                if depth == MAX_OU_DEPTH {
                    return impossible(format!(
                        "OU {} is deeper than AWS's limit of {MAX_OU_DEPTH} levels",
                        children[0].id
                    ));
                }
                for ou in children {
                    let key = (ou.parent_id.clone(), ou.name.clone());
                    if state.ou_names.contains_key(&key) {
                        return impossible(format!(
                            "two OUs named {:?} under {}",
                            ou.name, ou.parent_id
                        ));
                    }
                    state.insert_ou(
                        ou.id.clone(),
                        Ou {
                            name: ou.name.clone(),
                            parent_id: ou.parent_id.clone(),
                            tags: ou.tags.clone(),
                        },
                    );
                    placed += 1;
                    next.push(ou.id.clone());
                }
            }
            level = next;
            depth += 1;
        }
        if placed != live.ous.len() {
            let orphan = live
                .ous
                .iter()
                .find(|o| !state.ous.contains_key(&o.id))
                .map(|o| format!("OU {} has parent {}", o.id, o.parent_id))
                .unwrap_or_default();
            return impossible(format!(
                "{orphan}, which is neither the root nor an OU reachable from it"
            ));
        }

        for a in &live.accounts {
            if !ids.insert(a.id.as_str()) {
                return impossible(format!("the id {} is used twice", a.id));
            }
            if !state.is_container(&a.parent_id) {
                return impossible(format!(
                    "account {} has parent {}, which is neither the root nor an OU",
                    a.id, a.parent_id
                ));
            }
            if let Some(other) = state.emails.get(&a.email.to_lowercase()) {
                return impossible(format!(
                    "accounts {other} and {} have the same email {}",
                    a.id, a.email
                ));
            }
            state.insert_account(
                a.id.clone(),
                Account {
                    name: a.name.clone(),
                    email: a.email.clone(),
                    parent_id: a.parent_id.clone(),
                    status: a.status,
                    tags: a.tags.clone(),
                },
            );
        }
        if !state.accounts.contains_key(&org.management_account_id) {
            return impossible(format!(
                "the management account {} is not among the accounts",
                org.management_account_id
            ));
        }

        for p in &live.policies {
            if !ids.insert(p.id.as_str()) {
                return impossible(format!("the id {} is used twice", p.id));
            }
            if !state.enabled_types.contains(&p.policy_type) {
                return impossible(format!(
                    "policy {} is of type {}, which is not enabled",
                    p.id, p.policy_type
                ));
            }
            if let Some(other) = state.policy_names.get(&p.name) {
                return impossible(format!(
                    "policies {other} and {} have the same name {:?}",
                    p.id, p.name
                ));
            }
            for t in &p.targets {
                if !state.is_target(t) {
                    return impossible(format!(
                        "policy {} is attached to {t}, which is not in the organization",
                        p.id
                    ));
                }
            }
            state.insert_policy(
                p.id.clone(),
                Policy {
                    name: p.name.clone(),
                    policy_type: p.policy_type,
                    description: p.description.clone(),
                    content: if p.aws_managed && p.content.is_empty() && p.name == FULL_AWS_ACCESS {
                        FULL_AWS_ACCESS_CONTENT.to_owned()
                    } else {
                        p.content.clone()
                    },
                    aws_managed: p.aws_managed,
                    tags: p.tags.clone(),
                    targets: BTreeSet::new(),
                },
            );
            for t in &p.targets {
                state.record_attachment(&p.id, t);
            }
        }
        if !state
            .enabled_types
            .contains(&PolicyType::ServiceControlPolicy)
            && state.full_aws_access_id.is_none()
        {
            if state.policies.contains_key(FULL_AWS_ACCESS_ID) {
                return impossible(format!(
                    "{FULL_AWS_ACCESS_ID} is not the AWS-managed FullAWSAccess policy"
                ));
            }
            state.install_full_aws_access();
        }
        let member = |id: &str| id != org.management_account_id && state.accounts.contains_key(id);
        for r in &live.access_roles {
            if !member(&r.account_id) {
                return impossible(format!(
                    "role {} is in account {}, which is not a member account of the organization",
                    r.role_name, r.account_id
                ));
            }
        }
        for a in &live.iam_accounts {
            if !member(&a.account_id) {
                return impossible(format!(
                    "IAM was read in account {}, which is not a member account of the organization",
                    a.account_id
                ));
            }
        }
        let this = Self::from_state(state);
        for r in &live.access_roles {
            this.iam.insert_role(r);
        }
        // Reading this organization reaches each account as the recorded read did: through
        // the read role, falling back to the member role, or not at all (an account IAM could
        // not be read in stays unreachable, as if its member role were missing).
        for a in &live.iam_accounts {
            this.iam.record_read(&a.account_id, &a.read);
        }
        Ok(this)
    }

    /// The organization as a normalized live state: exactly what the live-state reader returns
    /// for it (policies of types that are not enabled are left out, and AWS-managed policies
    /// have an empty `content`, since the reader does not describe them).
    ///
    /// It includes IAM ([`MemoryOrg::iam`]): every role under `/orgctl/` in the ACTIVE member
    /// accounts (`access_roles`), and in `iam_accounts` the ACTIVE member accounts whose member
    /// role was removed (unreadable) and those whose recorded read is still replayed
    /// ([`crate::MemoryIam::record_read`]), so that a snapshot loaded and written back keeps
    /// them; other accounts are left out.
    pub fn to_live(&self) -> LiveState {
        let mut live = self.lock().to_live();
        live.access_roles = self.iam.access_roles();
        let without = self.iam.accounts_without_member_role();
        let recorded = self.iam.recorded_reads();
        live.iam_accounts = live
            .accounts
            .iter()
            .filter(|a| {
                a.id != live.organization.management_account_id
                    && a.status == orgctl_model::AccountStatus::Active
            })
            .filter_map(|a| {
                let read = match recorded.get(&a.id) {
                    Some(r @ orgctl_model::IamRead::Unreadable { .. }) => r.clone(),
                    _ if without.contains(&a.id) => orgctl_model::IamRead::Unreadable {
                        reason: format!("the member role does not exist in account {}", a.id),
                    },
                    Some(r) => r.clone(),
                    None => return None,
                };
                Some(orgctl_model::LiveIamAccount {
                    account_id: a.id.clone(),
                    read,
                })
            })
            .collect();
        live.normalize();
        live
    }
}

impl State {
    pub(super) fn to_live(&self) -> LiveState {
        let mut live = LiveState {
            organization: LiveOrganization {
                id: self.org_id.clone(),
                management_account_id: self.management_account_id.clone(),
                root_id: self.root_id.clone(),
                enabled_policy_types: self.enabled_types.clone(),
                root_record: self.root_tags.get(orgctl_model::RECORD_TAG).cloned(),
            },
            ous: self
                .ous
                .iter()
                .map(|(id, o)| LiveOu {
                    id: id.clone(),
                    name: o.name.clone(),
                    parent_id: o.parent_id.clone(),
                    tags: o.tags.clone(),
                })
                .collect(),
            accounts: self
                .accounts
                .iter()
                .map(|(id, a)| LiveAccount {
                    id: id.clone(),
                    name: a.name.clone(),
                    email: a.email.clone(),
                    parent_id: a.parent_id.clone(),
                    status: a.status,
                    tags: a.tags.clone(),
                })
                .collect(),
            policies: self
                .policies
                .iter()
                .filter(|(_, p)| self.enabled_types.contains(&p.policy_type))
                .map(|(id, p)| LivePolicy {
                    id: id.clone(),
                    name: p.name.clone(),
                    policy_type: p.policy_type,
                    description: p.description.clone(),
                    // The reader does not describe AWS-managed policies.
                    content: if p.aws_managed {
                        String::new()
                    } else {
                        p.content.clone()
                    },
                    aws_managed: p.aws_managed,
                    tags: p.tags.clone(),
                    targets: p.targets.iter().cloned().collect(),
                })
                .collect(),
            access_roles: Vec::new(),
            iam_accounts: Vec::new(),
            scope: None,
        };
        live.normalize();
        live
    }
}

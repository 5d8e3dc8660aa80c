//! Phases 4 and 6: policy attachments on the root and OUs (before accounts move in), then on
//! accounts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use orgctl_model::{Lifecycle, Op, PolicyType, Ref, SourceLoc, is_managed};

use super::{Output, Planner};
use crate::plan::{Action, Change, ResourceKind};

/// Policy references by (target, policy type).
type AttachmentMap = BTreeMap<(Ref, PolicyType), BTreeSet<Ref>>;

impl Planner<'_> {
    /// Attachment changes: those on the root and OUs, then those on accounts.
    pub(super) fn attachments(&self, out: &mut Output) -> (Vec<Change>, Vec<Change>) {
        let desired = self.desired;
        let limit = desired.organization.policies_per_target_limit as usize;
        let scp_enabled = self
            .live
            .organization
            .enabled_policy_types
            .contains(&PolicyType::ServiceControlPolicy)
            || desired
                .organization
                .enabled_policy_types
                .contains(&PolicyType::ServiceControlPolicy);

        // Every live attachment, by target and type; and the policies orgctl controls.
        let desired_names: HashSet<&str> = desired.policies.keys().map(String::as_str).collect();
        let mut live_attachments: AttachmentMap = BTreeMap::new();
        let mut controlled: HashSet<&str> = HashSet::new();
        for p in &self.live.policies {
            let is_controlled =
                !p.aws_managed && (desired_names.contains(p.name.as_str()) || is_managed(&p.tags));
            if is_controlled {
                controlled.insert(p.id.as_str());
            }
            for t in &p.targets {
                live_attachments
                    .entry((Ref::Id(t.clone()), p.policy_type))
                    .or_default()
                    .insert(Ref::Id(p.id.clone()));
            }
        }
        let full_aws_access = self.index.full_aws_access.map(|p| Ref::Id(p.id.clone()));

        // Desired attachments of orgctl-controlled policies, and whether each YAML target wants
        // FullAWSAccess.
        let mut wanted_attachments: AttachmentMap = BTreeMap::new();
        let mut wants_full_aws_access: BTreeMap<Ref, bool> = BTreeMap::new();
        let mut policy_names: HashMap<Ref, String> = HashMap::new();
        let mut target_names: HashMap<Ref, String> = HashMap::new();
        let mut sources: HashMap<Ref, SourceLoc> = HashMap::new();
        let mut new_targets: HashSet<Ref> = HashSet::new();
        for spec in desired.ous.values() {
            let target = self.ou_ref(&spec.path);
            if matches!(target, Ref::NewOu(_)) {
                new_targets.insert(target.clone());
            }
            target_names.insert(target.clone(), spec.path.clone());
            wants_full_aws_access.insert(target, spec.full_aws_access);
        }
        for spec in desired.accounts.values() {
            if spec.lifecycle == Lifecycle::Closed {
                continue;
            }
            if let Some(target) = self.matched.account_refs.get(spec.name.as_str()).cloned() {
                if matches!(target, Ref::NewAccount(_)) {
                    new_targets.insert(target.clone());
                }
                target_names.insert(target.clone(), format!("account {}", spec.name));
                wants_full_aws_access.insert(target, spec.full_aws_access);
            }
        }
        target_names.insert(Ref::Id(self.index.root.clone()), "root".into());
        for spec in desired.policies.values() {
            let Some(policy) = self.matched.policy_refs.get(spec.name.as_str()).cloned() else {
                continue;
            };
            policy_names.insert(
                policy.clone(),
                format!("{}/{}", spec.policy_type.short(), spec.name),
            );
            sources.insert(policy.clone(), spec.source.clone());
            for t in &spec.targets {
                if let Some(target) = self.target_ref(t) {
                    wanted_attachments
                        .entry((target, spec.policy_type))
                        .or_default()
                        .insert(policy.clone());
                }
            }
        }
        for p in &self.live.policies {
            policy_names
                .entry(Ref::Id(p.id.clone()))
                .or_insert_with(|| format!("{}/{}", p.policy_type.short(), p.name));
        }

        // New targets start with what AWS attaches by itself.
        if let (true, Some(full_aws_access)) = (scp_enabled, &full_aws_access) {
            for t in &new_targets {
                live_attachments
                    .entry((t.clone(), PolicyType::ServiceControlPolicy))
                    .or_default()
                    .insert(full_aws_access.clone());
            }
        }

        let mut keys: BTreeSet<(Ref, PolicyType)> = live_attachments.keys().cloned().collect();
        keys.extend(wanted_attachments.keys().cloned());
        keys.extend(
            wants_full_aws_access
                .keys()
                .map(|t| (t.clone(), PolicyType::ServiceControlPolicy)),
        );

        let mut on_ous = Vec::new();
        let mut on_accounts = Vec::new();
        for (target, policy_type) in keys {
            if let Ref::Id(id) = &target
                && self.deleted_or_replaced(id)
            {
                continue;
            }
            let have = live_attachments
                .get(&(target.clone(), policy_type))
                .cloned()
                .unwrap_or_default();
            let mut wanted: BTreeSet<Ref> = wanted_attachments
                .get(&(target.clone(), policy_type))
                .cloned()
                .unwrap_or_default();
            // Attachments orgctl does not control stay as they are.
            for r in &have {
                let keep = match r {
                    Ref::Id(id) => {
                        if Some(r) == full_aws_access.as_ref() {
                            !wants_full_aws_access.contains_key(&target)
                        } else {
                            !controlled.contains(id.as_str())
                        }
                    }
                    _ => false,
                };
                if keep {
                    wanted.insert(r.clone());
                }
            }
            if policy_type == PolicyType::ServiceControlPolicy
                && let (Some(full_aws_access), Some(true)) =
                    (&full_aws_access, wants_full_aws_access.get(&target))
            {
                wanted.insert(full_aws_access.clone());
            }
            let attach: Vec<Ref> = wanted.difference(&have).cloned().collect();
            let detach: Vec<Ref> = have.difference(&wanted).cloned().collect();
            if attach.is_empty() && detach.is_empty() {
                continue;
            }
            let target_name = target_names
                .get(&target)
                .cloned()
                .unwrap_or_else(|| self.describe_target(&target));
            let policy_name = |policy: &Ref| -> String {
                policy_names
                    .get(policy)
                    .cloned()
                    .unwrap_or_else(|| policy.to_string())
            };
            let attachment_change = |action: Action, policy: &Ref| -> Change {
                let name = policy_name(policy);
                let (reason, op) = if action == Action::Attach {
                    (
                        format!("the YAML attaches {name} to {target_name}"),
                        Op::AttachPolicy {
                            policy: policy.clone(),
                            target: target.clone(),
                        },
                    )
                } else {
                    (
                        format!("the YAML does not attach {name} to {target_name}"),
                        Op::DetachPolicy {
                            policy: policy.clone(),
                            target: target.clone(),
                        },
                    )
                };
                Change::new(
                    ResourceKind::Attachment,
                    action,
                    format!("attachment {name} -> {target_name}"),
                    reason,
                )
                .source(sources.get(policy))
                .op(op)
            };
            let is_account = match &target {
                Ref::NewAccount(_) => true,
                Ref::Id(id) => self.index.accounts.contains_key(id.as_str()),
                _ => false,
            };
            let changes = if is_account {
                &mut on_accounts
            } else {
                &mut on_ous
            };
            let mut count = have.len();
            let mut attach = attach.into_iter();
            let mut detach = detach.into_iter();
            let mut pending_attach = attach.next();
            while let Some(a) = pending_attach.take() {
                if count < limit {
                    changes.push(attachment_change(Action::Attach, &a));
                    count += 1;
                    pending_attach = attach.next();
                } else if let Some(x) = detach.next() {
                    changes.push(attachment_change(Action::Detach, &x));
                    count -= 1;
                    pending_attach = Some(a);
                } else {
                    out.error(
                        format!("attachment {} -> {target_name}", policy_name(&a)),
                        format!(
                            "{target_name} would have more than {limit} {policy_type} policies \
                             attached (policies not managed by orgctl count too); raise \
                             policies_per_target_limit if your quota allows, or attach fewer"
                        ),
                        sources.get(&a),
                    );
                    break;
                }
            }
            for x in detach {
                if count <= 1 && policy_type == PolicyType::ServiceControlPolicy {
                    out.error(
                        format!("attachment {} -> {target_name}", policy_name(&x)),
                        format!(
                            "detaching it would leave {target_name} without any service control \
                             policy, which AWS refuses; attach another SCP to {target_name} (or \
                             keep FullAWSAccess) first"
                        ),
                        None,
                    );
                    continue;
                }
                changes.push(attachment_change(Action::Detach, &x));
                count -= 1;
            }
        }
        (on_ous, on_accounts)
    }

    fn describe_target(&self, target: &Ref) -> String {
        match target {
            Ref::Id(id) if *id == self.index.root => "root".into(),
            Ref::Id(id) if self.index.ous.contains_key(id.as_str()) => self.index.path(id),
            Ref::Id(id) => self
                .index
                .accounts
                .get(id.as_str())
                .map(|a| format!("account {}", a.name))
                .unwrap_or_else(|| id.clone()),
            other => other.to_string(),
        }
    }
}

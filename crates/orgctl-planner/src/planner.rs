//! The planning algorithm.
//!
//! It runs in phases, each linear in the size of the organization, and emits changes in an order
//! AWS accepts:
//!
//! 1. policy types are enabled;
//! 2. OUs are created (parents first), renamed and retagged;
//! 3. policies are created and updated;
//! 4. attachments on the root and OUs are made (so an OU carries its SCPs before any account
//!    lands in it);
//! 5. accounts are created, moved and retagged;
//! 6. attachments on accounts are made;
//! 7. OUs that are no longer wanted are deleted (children first, after everything moved out);
//! 8. policies that are no longer wanted are deleted (after every detachment);
//! 9. accounts are closed.
//!
//! Within one target, attachments come before detachments (a target is never left without an
//! SCP), except at the per-target limit, where one detachment makes room for each attachment.
//!
//! Matching desired to live: OUs hierarchically (an OU's parent first, then by `id` or by name
//! among the parent's children), accounts by `id` else root email, policies by name.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use orgctl_model::{
    DesiredState, FULL_AWS_ACCESS, LiveAccount, LiveOu, LivePolicy, LiveState, MANAGED_BY_KEY,
    MANAGED_BY_VALUE, Op, OuPath, OuSpec, PolicyType, ROOT_PATH, Ref, SourceLoc, Tags, TargetRef,
    canonical_json_str, is_managed, parent_path,
};
use serde_json::{Value, json};

use crate::plan::{Action, Change, Note, Plan, PlanError, ResourceKind, Warning};

/// Inputs to the planner other than the two states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Today's date, YYYY-MM-DD (grant expiry is judged against it; the planner has no clock).
    pub today: String,
}

/// Plans the changes that turn `live` into `desired`. Pure and deterministic; problems that
/// only the live state reveals become [`Plan::errors`].
pub fn plan(desired: &DesiredState, live: &LiveState, options: &PlanOptions) -> Plan {
    let mut p = Planner::new(desired, live);
    p.run();
    p.changes = merge_updates(std::mem::take(&mut p.changes));
    for c in &mut p.changes {
        c.reason = sentence(&c.reason);
    }
    Plan {
        changes: p.changes,
        notes: p.notes,
        warnings: p.warnings,
        errors: p.errors,
        organization_id: live.organization.id.clone(),
        management_account_id: live.organization.management_account_id.clone(),
        today: options.today.clone(),
        live_fingerprint: live.fingerprint(),
        desired_fingerprint: desired.fingerprint(),
    }
}

/// Where a desired OU is in AWS.
#[derive(Debug, Clone)]
enum OuState {
    /// It exists with this id (and, when it replaces a live OU, that OU's id: an interrupted
    /// apply may already have created the replacement).
    Existing {
        id: String,
        replaces: Option<String>,
    },
    /// It will be created (and, when it replaces a live OU, that OU's id).
    New { replaces: Option<String> },
}

struct Planner<'a> {
    d: &'a DesiredState,
    l: &'a LiveState,
    root: String,
    live_ous: HashMap<&'a str, &'a LiveOu>,
    live_accounts: HashMap<&'a str, &'a LiveAccount>,
    live_children: HashMap<&'a str, Vec<&'a LiveOu>>,
    live_accounts_in: HashMap<&'a str, Vec<&'a LiveAccount>>,
    live_paths: HashMap<&'a str, String>,
    ou_state: BTreeMap<&'a str, OuState>,
    /// Live OU ids some desired OU claims (matched or replaced).
    claimed_ous: HashSet<String>,
    /// Live OU id → the desired path that replaces it.
    replaced_by: HashMap<String, &'a str>,
    /// Live OU ids that will be deleted.
    deleted_ous: HashSet<String>,
    /// Live account ids the plan moves.
    moving: HashSet<String>,
    /// Live account id → the desired account name it is.
    matched_accounts: HashMap<&'a str, &'a str>,
    /// Desired account name → its reference.
    account_refs: HashMap<&'a str, Ref>,
    /// Desired policy name → its reference.
    policy_refs: HashMap<&'a str, Ref>,
    /// The AWS-managed FullAWSAccess SCP, when the organization has it.
    full_aws_access: Option<&'a LivePolicy>,
    ignore: &'a BTreeSet<String>,
    changes: Vec<Change>,
    notes: Vec<Note>,
    warnings: Vec<Warning>,
    errors: Vec<PlanError>,
}

impl<'a> Planner<'a> {
    fn new(d: &'a DesiredState, l: &'a LiveState) -> Self {
        let mut live_children: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
        for ou in &l.ous {
            live_children
                .entry(ou.parent_id.as_str())
                .or_default()
                .push(ou);
        }
        let mut live_accounts_in: HashMap<&str, Vec<&LiveAccount>> = HashMap::new();
        for a in &l.accounts {
            live_accounts_in
                .entry(a.parent_id.as_str())
                .or_default()
                .push(a);
        }
        let live_ous: HashMap<&str, &LiveOu> = l.ous.iter().map(|o| (o.id.as_str(), o)).collect();
        let root = l.organization.root_id.clone();
        let live_paths = live_paths(&root, &live_children);
        let full_aws_access = l.policies.iter().find(|p| {
            p.aws_managed
                && p.name == FULL_AWS_ACCESS
                && p.policy_type == PolicyType::ServiceControlPolicy
        });
        Planner {
            d,
            l,
            root,
            live_ous,
            live_accounts: l.accounts.iter().map(|a| (a.id.as_str(), a)).collect(),
            live_children,
            live_accounts_in,
            live_paths,
            ou_state: BTreeMap::new(),
            claimed_ous: HashSet::new(),
            replaced_by: HashMap::new(),
            deleted_ous: HashSet::new(),
            moving: HashSet::new(),
            matched_accounts: HashMap::new(),
            account_refs: HashMap::new(),
            policy_refs: HashMap::new(),
            full_aws_access,
            ignore: &d.organization.ignore_tag_keys,
            changes: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn run(&mut self) {
        let want = &self.d.organization.management_account_id;
        let have = &self.l.organization.management_account_id;
        if want != have {
            self.errors.push(PlanError {
                address: "organization".into(),
                message: format!(
                    "the desired state pins management account {want}, but the organization's \
                     management account is {have}; refusing to plan against the wrong organization"
                ),
                source: Some(self.d.organization.source.clone()),
            });
            return;
        }
        self.policy_types();
        self.match_ous();
        self.ou_changes();
        self.match_accounts();
        self.policies();
        let attachments = self.attachments();
        let (ou_targets, account_targets): (Vec<_>, Vec<_>) =
            attachments.into_iter().partition(|c| !c.1);
        self.changes
            .extend(ou_targets.into_iter().flat_map(|(c, _)| c));
        self.account_changes();
        self.changes
            .extend(account_targets.into_iter().flat_map(|(c, _)| c));
        self.ou_deletions();
        self.policy_deletions();
        self.closures();
        self.unmanaged_notes();
    }

    // -- helpers --------------------------------------------------------------------------

    fn live_path(&self, id: &str) -> String {
        if id == self.root {
            ROOT_PATH.to_owned()
        } else {
            self.live_paths
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("({id})"))
        }
    }

    /// The reference of a desired OU path (the root included).
    fn ou_ref(&self, path: &str) -> Ref {
        if path == ROOT_PATH {
            return Ref::Id(self.root.clone());
        }
        match self.ou_state.get(path) {
            Some(OuState::Existing { id, .. }) => Ref::Id(id.clone()),
            _ => Ref::NewOu(path.to_owned()),
        }
    }

    fn target_ref(&self, t: &TargetRef) -> Option<Ref> {
        match t {
            TargetRef::Root => Some(Ref::Id(self.root.clone())),
            TargetRef::Ou(path) => Some(self.ou_ref(path)),
            TargetRef::Account(name) => self.account_refs.get(name.as_str()).cloned(),
        }
    }

    fn error(&mut self, address: String, message: String, source: Option<&SourceLoc>) {
        self.errors.push(PlanError {
            address,
            message,
            source: source.cloned(),
        });
    }

    /// Tags as orgctl compares them: ignored keys dropped.
    fn comparable(&self, tags: &Tags, keep_marker: bool) -> Tags {
        tags.iter()
            .filter(|(k, _)| !self.ignore.contains(*k) && (keep_marker || *k != MANAGED_BY_KEY))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    // -- 1. policy types ------------------------------------------------------------------

    fn policy_types(&mut self) {
        for t in &self.d.organization.enabled_policy_types {
            if !self.l.organization.enabled_policy_types.contains(t) {
                self.changes.push(Change {
                    address: format!("organization policy-type {t}"),
                    kind: ResourceKind::Organization,
                    action: Action::Enable,
                    before: None,
                    after: None,
                    diff: None,
                    reason: format!("{t} is listed in enabled_policy_types but not enabled"),
                    source: Some(self.d.organization.source.clone()),
                    ops: vec![Op::EnablePolicyType {
                        root: Ref::Id(self.root.clone()),
                        policy_type: *t,
                    }],
                });
            }
        }
    }

    // -- 2. OUs -----------------------------------------------------------------------------

    fn match_ous(&mut self) {
        let d = self.d;
        for spec in d.ous.values() {
            if let Some(id) = &spec.id
                && self.live_ous.contains_key(id.as_str())
            {
                self.claimed_ous.insert(id.clone());
            }
        }
        let mut specs: Vec<&OuSpec> = d.ous.values().collect();
        specs.sort_by_key(|s| (depth(&s.path), s.path.as_str()));
        for spec in specs {
            let parent = parent_path(&spec.path);
            let (parent_id, parent_replaces) = if parent == ROOT_PATH {
                (Some(self.root.clone()), None)
            } else {
                match self.ou_state.get(parent) {
                    Some(OuState::Existing { id, replaces }) => {
                        (Some(id.clone()), replaces.clone())
                    }
                    Some(OuState::New { replaces }) => (None, replaces.clone()),
                    None => (None, None),
                }
            };
            // An id that no longer exists (the OU was replaced, or deleted out of band) falls
            // back to matching by path, with a warning to update it.
            let pinned = spec
                .id
                .as_ref()
                .filter(|id| self.live_ous.contains_key(id.as_str()));
            let (existing, replaces) = match pinned {
                Some(id)
                    if self.live_ous.get(id.as_str()).map(|o| &o.parent_id)
                        == parent_id.as_ref() =>
                {
                    (Some(id.clone()), None)
                }
                // Under another parent: a replacement (which an interrupted apply may already
                // have created).
                Some(id) => (
                    self.unclaimed_child(parent_id.as_deref(), &spec.name),
                    Some(id.clone()),
                ),
                None => {
                    let existing = self.unclaimed_child(parent_id.as_deref(), &spec.name);
                    if let Some(e) = &existing {
                        self.claimed_ous.insert(e.clone());
                    }
                    // The parent replaces a live OU: that OU's child of the same name is
                    // replaced by this one (its accounts follow it).
                    let replaces = self.unclaimed_child(parent_replaces.as_deref(), &spec.name);
                    (existing, replaces)
                }
            };
            for id in existing.iter().chain(replaces.iter()) {
                self.claimed_ous.insert(id.clone());
            }
            let state = match existing {
                Some(id) => OuState::Existing { id, replaces },
                None => OuState::New { replaces },
            };
            if let Some(stale) = spec
                .id
                .as_ref()
                .filter(|i| !self.live_ous.contains_key(i.as_str()))
            {
                match &state {
                    OuState::Existing { id: found, .. } => self.warnings.push(Warning {
                        address: format!("ou {}", spec.path),
                        message: format!(
                            "OU id {stale} does not exist any more (replacing an OU changes its \
                             id); the OU at this path is {found}: update its `id` in the YAML"
                        ),
                        source: Some(spec.source.clone()),
                    }),
                    OuState::New { .. } => self.error(
                        format!("ou {}", spec.path),
                        format!(
                            "OU id {stale} does not exist in the organization and no OU is at \
                             {}; correct the id, or remove it to create the OU",
                            spec.path
                        ),
                        Some(&spec.source),
                    ),
                }
            }
            if let OuState::New {
                replaces: Some(old),
            }
            | OuState::Existing {
                replaces: Some(old),
                ..
            } = &state
            {
                self.replaced_by.insert(old.clone(), spec.path.as_str());
            }
            self.ou_state.insert(spec.path.as_str(), state);
        }
    }

    /// A live child of `parent` with this name that no desired OU has claimed yet.
    fn unclaimed_child(&self, parent: Option<&str>, name: &str) -> Option<String> {
        self.live_children
            .get(parent?)?
            .iter()
            .find(|o| o.name == name && !self.claimed_ous.contains(&o.id))
            .map(|o| o.id.clone())
    }

    fn ou_changes(&mut self) {
        let d = self.d;
        let mut specs: Vec<&OuSpec> = d.ous.values().collect();
        specs.sort_by_key(|s| (depth(&s.path), s.path.as_str()));
        for spec in specs {
            let address = format!("ou {}", spec.path);
            let mut want_tags = spec.tags.clone();
            want_tags.insert(MANAGED_BY_KEY.into(), MANAGED_BY_VALUE.into());
            let state = self.ou_state.get(spec.path.as_str()).cloned();
            match state {
                Some(OuState::New { replaces }) => {
                    let op = Op::CreateOu {
                        parent: self.ou_ref(parent_path(&spec.path)),
                        name: spec.name.clone(),
                        path: spec.path.clone(),
                        tags: want_tags.clone(),
                    };
                    let after = Some(json!({"path": spec.path, "tags": want_tags}));
                    let (action, before, reason) = match &replaces {
                        Some(old) => {
                            let old_path = self.live_path(old);
                            (
                                Action::Replace,
                                Some(json!({"path": old_path, "id": old})),
                                format!(
                                    "OU moves from {old_path} to {}: AWS cannot move an OU, so a \
                                     new OU replaces {old} (OU id will change); its accounts move \
                                     over, its policies and tags are set on the new OU, and the \
                                     old OU is deleted",
                                    spec.path
                                ),
                            )
                        }
                        None => (
                            Action::Create,
                            None,
                            "no OU at this path in the organization (to rename or move an \
                             existing OU instead, give it its `id`)"
                                .to_owned(),
                        ),
                    };
                    self.changes.push(Change {
                        address,
                        kind: ResourceKind::Ou,
                        action,
                        before,
                        after,
                        diff: None,
                        reason,
                        source: Some(spec.source.clone()),
                        ops: vec![op],
                    });
                }
                Some(OuState::Existing { id, .. }) => {
                    let Some(live) = self.live_ous.get(id.as_str()).copied() else {
                        continue;
                    };
                    if live.name != spec.name {
                        self.changes.push(Change {
                            address: address.clone(),
                            kind: ResourceKind::Ou,
                            action: Action::Rename,
                            before: Some(json!({"name": live.name, "path": self.live_path(&id)})),
                            after: Some(json!({"name": spec.name, "path": spec.path})),
                            diff: None,
                            reason: format!(
                                "OU {id} is renamed from {} to {} (its id stays)",
                                live.name, spec.name
                            ),
                            source: Some(spec.source.clone()),
                            ops: vec![Op::RenameOu {
                                ou: Ref::Id(id.clone()),
                                name: spec.name.clone(),
                            }],
                        });
                    }
                    let have = self.comparable(&live.tags, true);
                    if let Some(change) = self.tag_change(
                        &address,
                        ResourceKind::Ou,
                        &id,
                        &have,
                        &want_tags,
                        &spec.source,
                    ) {
                        self.changes.push(change);
                    }
                }
                None => {}
            }
        }
    }

    fn tag_change(
        &self,
        address: &str,
        kind: ResourceKind,
        id: &str,
        have: &Tags,
        want: &Tags,
        source: &SourceLoc,
    ) -> Option<Change> {
        if have == want {
            return None;
        }
        let set: Tags = want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let unset: BTreeSet<String> = have
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect();
        let mut ops = Vec::new();
        if !set.is_empty() {
            ops.push(Op::TagResource {
                resource: Ref::Id(id.to_owned()),
                tags: set,
            });
        }
        if !unset.is_empty() {
            ops.push(Op::UntagResource {
                resource: Ref::Id(id.to_owned()),
                keys: unset,
            });
        }
        let adopt = kind != ResourceKind::Account
            && want.contains_key(MANAGED_BY_KEY)
            && !have.contains_key(MANAGED_BY_KEY);
        let reason = if adopt {
            "adopted: it exists but was not created by orgctl; it gets the managed-by tag and the \
             YAML's tags"
                .to_owned()
        } else {
            "tags differ from the YAML".to_owned()
        };
        Some(Change {
            address: address.to_owned(),
            kind,
            action: Action::Update,
            before: Some(json!({"tags": have})),
            after: Some(json!({"tags": want})),
            diff: None,
            reason,
            source: Some(source.clone()),
            ops,
        })
    }

    // -- accounts: matching -----------------------------------------------------------------

    fn match_accounts(&mut self) {
        let by_email: HashMap<String, &LiveAccount> = self
            .l
            .accounts
            .iter()
            .map(|a| (a.email.to_lowercase(), a))
            .collect();
        let d = self.d;
        for spec in d.accounts.values() {
            let live = match &spec.id {
                Some(id) => self.live_accounts.get(id.as_str()).copied(),
                None => by_email.get(&spec.email.to_lowercase()).copied(),
            };
            match live {
                Some(live) => {
                    if let Some(other) = self
                        .matched_accounts
                        .insert(live.id.as_str(), spec.name.as_str())
                    {
                        self.error(
                            format!("account {}", spec.name),
                            format!(
                                "accounts {other} and {} both match AWS account {} (by id or root \
                                 email); each account must match one AWS account",
                                spec.name, live.id
                            ),
                            Some(&spec.source),
                        );
                    }
                    self.account_refs
                        .insert(spec.name.as_str(), Ref::Id(live.id.clone()));
                }
                None => {
                    if let Some(id) = &spec.id
                        && spec.lifecycle == orgctl_model::Lifecycle::Active
                    {
                        self.error(
                            format!("account {}", spec.name),
                            format!(
                                "account id {id} is not in the organization; remove the id to \
                                     create a new account, or correct it"
                            ),
                            Some(&spec.source),
                        );
                    }
                    self.account_refs.insert(
                        spec.name.as_str(),
                        Ref::NewAccount(spec.email.to_lowercase()),
                    );
                }
            }
        }
    }

    // -- 5. accounts: changes ---------------------------------------------------------------

    fn account_changes(&mut self) {
        let d = self.d;
        let protected = &d.organization.protected_accounts;
        for spec in d.accounts.values() {
            let address = format!("account {}", spec.name);
            let parent = self.ou_ref(&spec.ou);
            let live = match self.account_refs.get(spec.name.as_str()) {
                Some(Ref::Id(id)) => self.live_accounts.get(id.as_str()).copied(),
                _ => None,
            };
            let Some(live) = live else {
                if spec.lifecycle == orgctl_model::Lifecycle::Active {
                    self.changes.push(Change {
                        address,
                        kind: ResourceKind::Account,
                        action: Action::Create,
                        before: None,
                        after: Some(json!({
                            "name": spec.name, "email": spec.email, "ou": spec.ou, "tags": spec.tags
                        })),
                        diff: None,
                        reason: "no account with this root email in the organization".into(),
                        source: Some(spec.source.clone()),
                        ops: vec![Op::CreateAccount {
                            name: spec.name.clone(),
                            email: spec.email.clone(),
                            parent,
                            tags: spec.tags.clone(),
                        }],
                    });
                }
                continue;
            };
            if live.status.is_closed() {
                if spec.lifecycle == orgctl_model::Lifecycle::Active {
                    self.warnings.push(Warning {
                        address,
                        message: format!(
                            "account {} is closed in AWS ({:?}) but active in the YAML; a closed \
                             account can only be reopened through AWS Support within 90 days",
                            live.id, live.status
                        ),
                        source: Some(spec.source.clone()),
                    });
                }
                continue;
            }
            if spec.lifecycle == orgctl_model::Lifecycle::Closed {
                // Closing happens last (phase 9); nothing else is changed on a closing account.
                continue;
            }
            if live.name != spec.name {
                self.warnings.push(Warning {
                    address: address.clone(),
                    message: format!(
                        "the YAML names account {} `{}` but AWS names it `{}`; orgctl cannot \
                         rename accounts yet and leaves the name as it is",
                        live.id, spec.name, live.name
                    ),
                    source: Some(spec.source.clone()),
                });
            }
            if !live.email.eq_ignore_ascii_case(&spec.email) {
                self.warnings.push(Warning {
                    address: address.clone(),
                    message: format!(
                        "the YAML gives account {} the root email {} but AWS has {}; orgctl does \
                         not change root emails",
                        live.id, spec.email, live.email
                    ),
                    source: Some(spec.source.clone()),
                });
            }
            if Ref::Id(live.parent_id.clone()) != parent {
                let from = self.live_path(&live.parent_id);
                if protected.contains(&live.id) {
                    self.error(
                        address.clone(),
                        format!(
                            "account {} is protected and is never moved, but the YAML puts it in \
                             {} (it is in {from})",
                            live.id, spec.ou
                        ),
                        Some(&spec.source),
                    );
                } else {
                    self.moving.insert(live.id.clone());
                    self.changes.push(Change {
                        address: address.clone(),
                        kind: ResourceKind::Account,
                        action: Action::Move,
                        before: Some(json!({"ou": from})),
                        after: Some(json!({"ou": spec.ou})),
                        diff: None,
                        reason: format!("the YAML puts it in {} (it is in {from})", spec.ou),
                        source: Some(spec.source.clone()),
                        ops: vec![Op::MoveAccount {
                            account: Ref::Id(live.id.clone()),
                            from: Ref::Id(live.parent_id.clone()),
                            to: parent,
                        }],
                    });
                }
            }
            let have = self.comparable(&live.tags, false);
            if let Some(change) = self.tag_change(
                &address,
                ResourceKind::Account,
                &live.id,
                &have,
                &spec.tags,
                &spec.source,
            ) {
                self.changes.push(change);
            }
        }
        // Accounts orgctl does not manage that sit in an OU being replaced follow it.
        let mut followers = Vec::new();
        for (old, new_path) in &self.replaced_by {
            for a in self
                .live_accounts_in
                .get(old.as_str())
                .into_iter()
                .flatten()
            {
                if !self.matched_accounts.contains_key(a.id.as_str()) {
                    followers.push((
                        a.name.clone(),
                        a.id.clone(),
                        old.clone(),
                        new_path.to_string(),
                    ));
                }
            }
        }
        followers.sort();
        for (name, id, old, new_path) in followers {
            let from = self.live_path(&old);
            self.moving.insert(id.clone());
            self.changes.push(Change {
                address: format!("account {name}"),
                kind: ResourceKind::Account,
                action: Action::Move,
                before: Some(json!({"ou": from})),
                after: Some(json!({"ou": new_path})),
                diff: None,
                reason: format!(
                    "not managed by orgctl, but its OU {from} is replaced by {new_path}, so it \
                     moves with it"
                ),
                source: None,
                ops: vec![Op::MoveAccount {
                    account: Ref::Id(id),
                    from: Ref::Id(old),
                    to: self.ou_ref(&new_path),
                }],
            });
        }
    }

    // -- 3. policies ------------------------------------------------------------------------

    fn policies(&mut self) {
        let by_name: HashMap<&str, &LivePolicy> = self
            .l
            .policies
            .iter()
            .filter(|p| !p.aws_managed)
            .map(|p| (p.name.as_str(), p))
            .collect();
        let d = self.d;
        for spec in d.policies.values() {
            let address = format!("policy {}/{}", spec.policy_type.short(), spec.name);
            let mut want_tags = spec.tags.clone();
            want_tags.insert(MANAGED_BY_KEY.into(), MANAGED_BY_VALUE.into());
            match by_name.get(spec.name.as_str()).copied() {
                Some(live) if live.policy_type != spec.policy_type => {
                    self.error(
                        address,
                        format!(
                            "a {} named {} already exists; policy names are unique across types",
                            live.policy_type, spec.name
                        ),
                        Some(&spec.source),
                    );
                }
                None => {
                    self.policy_refs
                        .insert(spec.name.as_str(), Ref::NewPolicy(spec.name.clone()));
                    self.changes.push(Change {
                        address,
                        kind: ResourceKind::Policy,
                        action: Action::Create,
                        before: None,
                        after: Some(json!({
                            "name": spec.name,
                            "type": spec.policy_type,
                            "description": spec.description,
                            "tags": want_tags,
                        })),
                        diff: Some(document_diff("", &spec.content)),
                        reason: "no policy with this name in the organization".into(),
                        source: Some(spec.source.clone()),
                        ops: vec![Op::CreatePolicy {
                            name: spec.name.clone(),
                            policy_type: spec.policy_type,
                            description: spec.description.clone(),
                            content: spec.content.clone(),
                            tags: want_tags,
                        }],
                    });
                }
                Some(live) => {
                    self.policy_refs
                        .insert(spec.name.as_str(), Ref::Id(live.id.clone()));
                    let live_content = canonical_json_str(&live.content);
                    let content_differs = live_content.as_deref() != Some(spec.content.as_str());
                    let description_differs = live.description != spec.description;
                    if content_differs || description_differs {
                        let mut before = serde_json::Map::new();
                        let mut after = serde_json::Map::new();
                        if description_differs {
                            before.insert("description".into(), json!(live.description));
                            after.insert("description".into(), json!(spec.description));
                        }
                        let diff = content_differs.then(|| {
                            document_diff(
                                live_content.as_deref().unwrap_or(&live.content),
                                &spec.content,
                            )
                        });
                        self.changes.push(Change {
                            address: address.clone(),
                            kind: ResourceKind::Policy,
                            action: Action::Update,
                            before: Some(Value::Object(before)),
                            after: Some(Value::Object(after)),
                            diff,
                            reason: match (content_differs, description_differs) {
                                (true, true) => "document and description differ from the YAML",
                                (true, false) => "document differs from the YAML",
                                _ => "description differs from the YAML",
                            }
                            .into(),
                            source: Some(spec.source.clone()),
                            ops: vec![Op::UpdatePolicy {
                                policy: Ref::Id(live.id.clone()),
                                description: description_differs.then(|| spec.description.clone()),
                                content: content_differs.then(|| spec.content.clone()),
                            }],
                        });
                    }
                    let have = self.comparable(&live.tags, true);
                    if let Some(change) = self.tag_change(
                        &address,
                        ResourceKind::Policy,
                        &live.id,
                        &have,
                        &want_tags,
                        &spec.source,
                    ) {
                        self.changes.push(change);
                    }
                }
            }
        }
    }

    // -- 4 and 6. attachments ---------------------------------------------------------------

    /// Attachment changes, each flagged with whether its target is an account.
    fn attachments(&mut self) -> Vec<(Vec<Change>, bool)> {
        let d = self.d;
        let limit = d.organization.policies_per_target_limit as usize;
        let scp_enabled = self
            .l
            .organization
            .enabled_policy_types
            .contains(&PolicyType::ServiceControlPolicy)
            || d.organization
                .enabled_policy_types
                .contains(&PolicyType::ServiceControlPolicy);

        // Every live attachment, by target and type: (policy id, controlled by orgctl?).
        let desired_names: HashSet<&str> = d.policies.keys().map(String::as_str).collect();
        let mut live_att: BTreeMap<(Ref, PolicyType), BTreeSet<Ref>> = BTreeMap::new();
        let mut controlled: HashSet<&str> = HashSet::new();
        for p in &self.l.policies {
            let is_controlled =
                !p.aws_managed && (desired_names.contains(p.name.as_str()) || is_managed(&p.tags));
            if is_controlled {
                controlled.insert(p.id.as_str());
            }
            for t in &p.targets {
                live_att
                    .entry((Ref::Id(t.clone()), p.policy_type))
                    .or_default()
                    .insert(Ref::Id(p.id.clone()));
            }
        }
        let faa = self.full_aws_access.map(|p| Ref::Id(p.id.clone()));

        // Desired attachments of orgctl-controlled policies, and FullAWSAccess on YAML targets.
        let mut want: BTreeMap<(Ref, PolicyType), BTreeSet<Ref>> = BTreeMap::new();
        let mut faa_targets: BTreeMap<Ref, bool> = BTreeMap::new();
        let mut names: HashMap<Ref, String> = HashMap::new();
        let mut target_names: HashMap<Ref, String> = HashMap::new();
        let mut sources: HashMap<Ref, SourceLoc> = HashMap::new();
        let mut new_targets: HashSet<Ref> = HashSet::new();
        for spec in d.ous.values() {
            let r = self.ou_ref(&spec.path);
            if matches!(r, Ref::NewOu(_)) {
                new_targets.insert(r.clone());
            }
            target_names.insert(r.clone(), spec.path.clone());
            faa_targets.insert(r, spec.full_aws_access);
        }
        for spec in d.accounts.values() {
            if spec.lifecycle == orgctl_model::Lifecycle::Closed {
                continue;
            }
            if let Some(r) = self.account_refs.get(spec.name.as_str()).cloned() {
                if matches!(r, Ref::NewAccount(_)) {
                    new_targets.insert(r.clone());
                }
                target_names.insert(r.clone(), format!("account {}", spec.name));
                faa_targets.insert(r, spec.full_aws_access);
            }
        }
        target_names.insert(Ref::Id(self.root.clone()), "root".into());
        for spec in d.policies.values() {
            let Some(pref) = self.policy_refs.get(spec.name.as_str()).cloned() else {
                continue;
            };
            names.insert(
                pref.clone(),
                format!("{}/{}", spec.policy_type.short(), spec.name),
            );
            sources.insert(pref.clone(), spec.source.clone());
            for t in &spec.targets {
                if let Some(tref) = self.target_ref(t) {
                    want.entry((tref, spec.policy_type))
                        .or_default()
                        .insert(pref.clone());
                }
            }
        }
        for p in &self.l.policies {
            names
                .entry(Ref::Id(p.id.clone()))
                .or_insert_with(|| format!("{}/{}", p.policy_type.short(), p.name));
        }

        // New targets start with what AWS attaches by itself.
        if let (true, Some(faa)) = (scp_enabled, &faa) {
            for t in &new_targets {
                live_att
                    .entry((t.clone(), PolicyType::ServiceControlPolicy))
                    .or_default()
                    .insert(faa.clone());
            }
        }

        let mut keys: BTreeSet<(Ref, PolicyType)> = live_att.keys().cloned().collect();
        keys.extend(want.keys().cloned());
        keys.extend(
            faa_targets
                .keys()
                .map(|t| (t.clone(), PolicyType::ServiceControlPolicy)),
        );

        let mut out = Vec::new();
        for (target, ptype) in keys {
            if let Ref::Id(id) = &target
                && self.deleted_or_replaced(id)
            {
                continue;
            }
            let have = live_att
                .get(&(target.clone(), ptype))
                .cloned()
                .unwrap_or_default();
            let mut wanted: BTreeSet<Ref> = want
                .get(&(target.clone(), ptype))
                .cloned()
                .unwrap_or_default();
            // Attachments orgctl does not control stay as they are.
            for r in &have {
                let keep = match r {
                    Ref::Id(id) => {
                        let is_faa = Some(r) == faa.as_ref();
                        if is_faa {
                            !faa_targets.contains_key(&target)
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
            if ptype == PolicyType::ServiceControlPolicy
                && let (Some(faa), Some(true)) = (&faa, faa_targets.get(&target))
            {
                wanted.insert(faa.clone());
            }
            let attach: Vec<Ref> = wanted.difference(&have).cloned().collect();
            let detach: Vec<Ref> = have.difference(&wanted).cloned().collect();
            if attach.is_empty() && detach.is_empty() {
                continue;
            }
            let tname = target_names
                .get(&target)
                .cloned()
                .unwrap_or_else(|| self.describe_target(&target));
            let is_account = match &target {
                Ref::NewAccount(_) => true,
                Ref::Id(id) => self.live_accounts.contains_key(id.as_str()),
                _ => false,
            };
            let mut count = have.len();
            let mut changes = Vec::new();
            let mut attach = attach.into_iter();
            let mut detach = detach.into_iter();
            let mk = |action: Action, policy: &Ref| -> Change {
                let pname = names
                    .get(policy)
                    .cloned()
                    .unwrap_or_else(|| policy.to_string());
                let reason = match action {
                    Action::Attach => format!("the YAML attaches {pname} to {tname}"),
                    _ => format!("the YAML does not attach {pname} to {tname}"),
                };
                Change {
                    address: format!("attachment {pname} -> {tname}"),
                    kind: ResourceKind::Attachment,
                    action,
                    before: None,
                    after: None,
                    diff: None,
                    reason,
                    source: sources.get(policy).cloned(),
                    ops: vec![if action == Action::Attach {
                        Op::AttachPolicy {
                            policy: policy.clone(),
                            target: target.clone(),
                        }
                    } else {
                        Op::DetachPolicy {
                            policy: policy.clone(),
                            target: target.clone(),
                        }
                    }],
                }
            };
            let mut pending_attach = attach.next();
            while let Some(a) = pending_attach.take() {
                if count < limit {
                    changes.push(mk(Action::Attach, &a));
                    count += 1;
                    pending_attach = attach.next();
                } else if let Some(x) = detach.next() {
                    changes.push(mk(Action::Detach, &x));
                    count -= 1;
                    pending_attach = Some(a);
                } else {
                    self.error(
                        format!(
                            "attachment {} -> {tname}",
                            names.get(&a).cloned().unwrap_or_default()
                        ),
                        format!(
                            "{tname} would have more than {limit} {ptype} policies attached \
                             (policies not managed by orgctl count too); raise \
                             policies_per_target_limit if your quota allows, or attach fewer"
                        ),
                        sources.get(&a),
                    );
                    break;
                }
            }
            for x in detach {
                if count <= 1 && ptype == PolicyType::ServiceControlPolicy {
                    self.error(
                        format!(
                            "attachment {} -> {tname}",
                            names.get(&x).cloned().unwrap_or_default()
                        ),
                        format!(
                            "detaching it would leave {tname} without any service control policy, \
                             which AWS refuses; attach another SCP to {tname} (or keep \
                             FullAWSAccess) first"
                        ),
                        None,
                    );
                    continue;
                }
                changes.push(mk(Action::Detach, &x));
                count -= 1;
            }
            out.push((changes, is_account));
        }
        out
    }

    fn describe_target(&self, target: &Ref) -> String {
        match target {
            Ref::Id(id) if *id == self.root => "root".into(),
            Ref::Id(id) if self.live_ous.contains_key(id.as_str()) => self.live_path(id),
            Ref::Id(id) => self
                .live_accounts
                .get(id.as_str())
                .map(|a| format!("account {}", a.name))
                .unwrap_or_else(|| id.clone()),
            other => other.to_string(),
        }
    }

    fn deleted_or_replaced(&self, ou_id: &str) -> bool {
        self.live_ous.contains_key(ou_id)
            && (!self.claimed_ous.contains(ou_id) && is_managed(&self.live_ous[ou_id].tags)
                || self.replaced_by.contains_key(ou_id))
    }

    // -- 7. OU deletions --------------------------------------------------------------------

    fn ou_deletions(&mut self) {
        // Live OUs to delete: managed ones no desired OU matches, and replaced ones.
        let mut doomed: Vec<&LiveOu> = self
            .l
            .ous
            .iter()
            .filter(|o| self.deleted_or_replaced(&o.id))
            .collect();
        for o in &doomed {
            self.deleted_ous.insert(o.id.clone());
        }
        // Children first: deepest live path first.
        doomed.sort_by(|a, b| {
            let (pa, pb) = (self.live_path(&a.id), self.live_path(&b.id));
            depth(&pb).cmp(&depth(&pa)).then(pa.cmp(&pb))
        });
        for ou in doomed {
            let path = self.live_path(&ou.id);
            let address = format!("ou {path}");
            let replaced = self.replaced_by.get(&ou.id).map(|p| p.to_string());
            // What is still inside after the plan?
            let mut blockers = Vec::new();
            for a in self
                .live_accounts_in
                .get(ou.id.as_str())
                .into_iter()
                .flatten()
            {
                if !self.moving.contains(&a.id) {
                    blockers.push(format!("account {} ({})", a.name, a.id));
                }
            }
            for child in self.live_children.get(ou.id.as_str()).into_iter().flatten() {
                if !self.deleted_ous.contains(&child.id) {
                    blockers.push(format!("OU {} ({})", child.name, child.id));
                }
            }
            if !blockers.is_empty() {
                self.error(
                    address,
                    format!(
                        "OU {path} ({}) is to be {} but would still hold {}; move {} into an OU of \
                         the YAML, or add {} to the YAML",
                        ou.id,
                        if replaced.is_some() {
                            "replaced"
                        } else {
                            "deleted"
                        },
                        blockers.join(", "),
                        if blockers.len() == 1 { "it" } else { "them" },
                        if blockers.len() == 1 { "it" } else { "them" },
                    ),
                    None,
                );
                continue;
            }
            let reason = match &replaced {
                Some(new_path) => format!("replaced by the new OU {new_path}"),
                None => "managed by orgctl and no longer in the YAML".to_owned(),
            };
            self.changes.push(Change {
                address,
                kind: ResourceKind::Ou,
                action: Action::Delete,
                before: Some(json!({"path": path, "id": ou.id, "tags": ou.tags})),
                after: None,
                diff: None,
                reason,
                source: None,
                ops: vec![Op::DeleteOu {
                    ou: Ref::Id(ou.id.clone()),
                }],
            });
        }
    }

    // -- 8. policy deletions ----------------------------------------------------------------

    fn policy_deletions(&mut self) {
        for p in &self.l.policies {
            if p.aws_managed || self.d.policies.contains_key(&p.name) || !is_managed(&p.tags) {
                continue;
            }
            let address = format!("policy {}/{}", p.policy_type.short(), p.name);
            let content = canonical_json_str(&p.content).unwrap_or_else(|| p.content.clone());
            self.changes.push(Change {
                address,
                kind: ResourceKind::Policy,
                action: Action::Delete,
                before: Some(json!({"name": p.name, "type": p.policy_type, "description": p.description, "tags": p.tags})),
                after: None,
                diff: Some(document_diff(&content, "")),
                reason: "managed by orgctl and no longer in the YAML (detached everywhere first)".into(),
                source: None,
                ops: vec![Op::DeletePolicy { policy: Ref::Id(p.id.clone()) }],
            });
        }
    }

    // -- 9. closures ------------------------------------------------------------------------

    fn closures(&mut self) {
        let d = self.d;
        for spec in d.accounts.values() {
            if spec.lifecycle != orgctl_model::Lifecycle::Closed {
                continue;
            }
            let Some(Ref::Id(id)) = self.account_refs.get(spec.name.as_str()).cloned() else {
                continue;
            };
            let Some(live) = self.live_accounts.get(id.as_str()).copied() else {
                continue;
            };
            if live.status.is_closed() {
                continue;
            }
            let address = format!("account {}", spec.name);
            if d.organization.protected_accounts.contains(&id)
                || id == d.organization.management_account_id
            {
                self.error(
                    address,
                    format!(
                        "account {id} is protected (or the management account) and is never closed"
                    ),
                    Some(&spec.source),
                );
                continue;
            }
            self.changes.push(Change {
                address,
                kind: ResourceKind::Account,
                action: Action::Close,
                before: Some(json!({"status": live.status})),
                after: Some(json!({"status": "SUSPENDED"})),
                diff: None,
                reason: format!(
                    "lifecycle: closed in the YAML; account {id} will be closed (needs \
                     --allow-close; reversible through AWS Support for 90 days)"
                ),
                source: Some(spec.source.clone()),
                ops: vec![Op::CloseAccount {
                    account: Ref::Id(id),
                }],
            });
        }
    }

    // -- notes ------------------------------------------------------------------------------

    fn unmanaged_notes(&mut self) {
        for ou in &self.l.ous {
            if !self.claimed_ous.contains(&ou.id)
                && !self.deleted_ous.contains(&ou.id)
                && !is_managed(&ou.tags)
            {
                self.notes.push(Note {
                    address: format!("ou {}", self.live_path(&ou.id)),
                    message: format!("OU {} is not managed by orgctl (no managed-by tag, not in the YAML) — left in place", ou.id),
                });
            }
        }
        let mut moved: HashSet<&str> = HashSet::new();
        for old in self.replaced_by.keys() {
            for a in self
                .live_accounts_in
                .get(old.as_str())
                .into_iter()
                .flatten()
            {
                moved.insert(a.id.as_str());
            }
        }
        for a in &self.l.accounts {
            if !self.matched_accounts.contains_key(a.id.as_str()) {
                let what = if moved.contains(a.id.as_str()) {
                    " (moves with its replaced OU)"
                } else {
                    ""
                };
                self.notes.push(Note {
                    address: format!("account {}", a.name),
                    message: format!(
                        "account {} ({}) in {} is not in the YAML — not managed, left in place{what}",
                        a.id,
                        a.email,
                        self.live_path(&a.parent_id)
                    ),
                });
            }
        }
        for p in &self.l.policies {
            if !p.aws_managed && !self.d.policies.contains_key(&p.name) && !is_managed(&p.tags) {
                self.notes.push(Note {
                    address: format!("policy {}/{}", p.policy_type.short(), p.name),
                    message: format!(
                        "policy {} is not managed by orgctl — left in place with its {} attachment(s)",
                        p.id,
                        p.targets.len()
                    ),
                });
            }
        }
    }
}

/// Merges consecutive updates of the same resource (a policy's document and its tags, say) into
/// one change, so each resource appears once per action.
fn merge_updates(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    for c in changes {
        if let Some(prev) = out.last_mut()
            && prev.action == Action::Update
            && c.action == Action::Update
            && prev.kind == c.kind
            && prev.address == c.address
        {
            for (mine, theirs) in [(&mut prev.before, c.before), (&mut prev.after, c.after)] {
                if let (Some(Value::Object(m)), Some(Value::Object(t))) = (mine.as_mut(), theirs) {
                    m.extend(t);
                }
            }
            prev.diff = prev.diff.take().or(c.diff);
            prev.reason = format!("{}; {}", prev.reason, c.reason);
            prev.ops.extend(c.ops);
            continue;
        }
        out.push(c);
    }
    out
}

/// A reason as a sentence: capitalised, ending with a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The number of segments of an OU path (`/` is 0).
fn depth(path: &str) -> usize {
    path.split('/').filter(|s| !s.is_empty()).count()
}

/// Paths of every live OU reachable from the root, computed in one pass over the tree.
fn live_paths<'a>(
    root: &str,
    children: &HashMap<&'a str, Vec<&'a LiveOu>>,
) -> HashMap<&'a str, OuPath> {
    let mut out = HashMap::new();
    let mut stack: Vec<(&str, OuPath)> = vec![(root, ROOT_PATH.to_owned())];
    while let Some((id, path)) = stack.pop() {
        for child in children.get(id).into_iter().flatten() {
            let p = orgctl_model::child_path(&path, &child.name);
            out.insert(child.id.as_str(), p.clone());
            stack.push((child.id.as_str(), p));
        }
    }
    out
}

/// A unified diff of two canonical JSON documents, pretty-printed so it reads line by line.
fn document_diff(before: &str, after: &str) -> String {
    let pretty = |s: &str| -> String {
        if s.is_empty() {
            return String::new();
        }
        serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .map(|mut t| {
                t.push('\n');
                t
            })
            .unwrap_or_else(|| format!("{s}\n"))
    };
    let (b, a) = (pretty(before), pretty(after));
    similar::TextDiff::from_lines(&b, &a)
        .unified_diff()
        .context_radius(3)
        .header("live", "desired")
        .to_string()
}

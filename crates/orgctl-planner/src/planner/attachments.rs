//! Phases 4, 6 and 7: policy attachments.
//!
//! Only targets the YAML declares (the root, its OUs, its active accounts) are changed; every
//! other target keeps its attachments. On a declared target, orgctl controls the policies of
//! the YAML, the policies tagged as managed by orgctl, and FullAWSAccess (which the root always
//! wants, and OUs and accounts unless `full_aws_access: false`); every other attachment stays,
//! and an OU that replaces another carries the old OU's.
//!
//! Per target, everything up to its last attachment runs before accounts move (so an OU or an
//! existing account carries its new SCPs before any account lands in it or leaves its old OU);
//! the remaining detachments run after the moves. Attachments on new accounts follow their
//! creation.
//!
//! At the per-target limit of SCPs, room is made without ever removing a deny while the target
//! still grants anything: first a policy that only grants and is going away; else a deny that is
//! going away once nothing attached grants; else a policy that grants and stays (FullAWSAccess)
//! is set aside, and attached again after the account moves. Until then the target grants
//! nothing, which fails closed: a failed attachment leaves it no less restricted than before, and
//! an account that leaves it (or the account itself, moving) does not get access back before it
//! sits under the denies of its new OU.

use std::collections::BTreeSet;

use orgctl_model::{
    FULL_AWS_ACCESS, FULL_AWS_ACCESS_ID, Lifecycle, LivePolicy, Op, PolicyType, ROOT_PATH,
    SourceLoc, TargetRef, is_managed, parent_path,
};
use serde_json::{Value, json};

use super::matching::OuState;
use super::{Output, Planner, RefKey};
use crate::fast_hash::{FastMap, FastSet};
use crate::plan::{Action, Change, ResourceKind};

/// A few items, the first kept inline: most targets have one policy attached.
#[derive(Debug, Clone, Default)]
enum Few<T> {
    #[default]
    Empty,
    One(T),
    Many(Vec<T>),
}

impl<T> Few<T> {
    fn push(&mut self, item: T) {
        *self = match std::mem::take(self) {
            Few::Empty => Few::One(item),
            Few::One(first) => Few::Many(vec![first, item]),
            Few::Many(mut items) => {
                items.push(item);
                Few::Many(items)
            }
        };
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Few::Empty => &[],
            Few::One(item) => std::slice::from_ref(item),
            Few::Many(items) => items,
        }
    }
}

/// What the phase knows of one target: whether the YAML declares it, and the policies (with
/// their type) attached to it live, attached by the YAML, and carried over from the OU it
/// replaces. One map entry per target, so the common target costs no lookup after it is built.
#[derive(Default)]
struct Target<'s> {
    declared: Option<Declared<'s>>,
    /// Live attachments, with whether orgctl controls the policy.
    live: Few<(PolicyType, RefKey<'s>, bool)>,
    yaml: Few<(PolicyType, RefKey<'s>)>,
    carried: Few<(PolicyType, RefKey<'s>)>,
}

impl<'s> Target<'s> {
    /// Its live policies of a type, sorted, without repeats, into `have`.
    fn have_into(&self, policy_type: PolicyType, have: &mut Vec<RefKey<'s>>) {
        have.clear();
        have.extend(
            self.live
                .as_slice()
                .iter()
                .filter(|(t, ..)| *t == policy_type)
                .map(|(_, p, _)| *p),
        );
        have.sort_unstable();
        have.dedup();
    }

    /// What it wants of a type, sorted, without repeats, into `wanted`: the YAML's policies,
    /// FullAWSAccess as the YAML says, every live attachment orgctl does not control (kept),
    /// and what it carries over. `false` (and `wanted` untouched) when the YAML does not
    /// declare it.
    fn wanted_into(
        &self,
        policy_type: PolicyType,
        full_aws_access: Option<RefKey<'s>>,
        wanted: &mut Vec<RefKey<'s>>,
    ) -> bool {
        let Some(d) = &self.declared else {
            return false;
        };
        wanted.clear();
        let of_type = |(t, p): &(PolicyType, RefKey<'s>)| (*t == policy_type).then_some(*p);
        wanted.extend(self.yaml.as_slice().iter().filter_map(of_type));
        wanted.extend(
            self.live
                .as_slice()
                .iter()
                .filter(|(t, _, controlled)| *t == policy_type && !controlled)
                .map(|(_, p, _)| *p),
        );
        wanted.extend(self.carried.as_slice().iter().filter_map(of_type));
        if policy_type == PolicyType::ServiceControlPolicy
            && let Some(full) = full_aws_access
            && d.full_aws_access
        {
            wanted.push(full);
        }
        wanted.sort_unstable();
        wanted.dedup();
        true
    }
}

/// The attachment changes, by when they run.
pub(super) struct Attachments {
    /// On the root, OUs and existing accounts: attachments, and what makes room for them.
    pub(super) before_moves: Vec<Change>,
    /// On accounts the plan creates (after their creation).
    pub(super) on_new_accounts: Vec<Change>,
    /// The remaining detachments on the root, OUs and existing accounts.
    pub(super) after_moves: Vec<Change>,
}

/// A target the YAML declares. Its name, reach and ancestors are built only when a change or
/// a problem needs them (most targets have none).
struct Declared<'a> {
    /// Which target it is.
    kind: DeclaredKind<'a>,
    /// Whether it wants FullAWSAccess.
    full_aws_access: bool,
    /// The live OU it replaces, if it is an OU that replaces one.
    replaces: Option<String>,
    /// Where the YAML declares it (the organization section for the root).
    source: &'a SourceLoc,
}

/// The root, a desired OU (by path) or a desired account (name, OU path).
#[derive(Clone, Copy)]
enum DeclaredKind<'a> {
    Root,
    Ou(&'a str),
    Account(&'a str, &'a str),
}

impl Declared<'_> {
    /// How the plan names it (`root`, `/Workloads`, `account dev`).
    fn name(&self) -> String {
        match self.kind {
            DeclaredKind::Root => "root".into(),
            DeclaredKind::Ou(path) => path.to_owned(),
            DeclaredKind::Account(name, _) => format!("account {name}"),
        }
    }

    /// Who is below it, for people: "every account in the organization", "every account in
    /// /Workloads and below it", "account dev".
    fn reach(&self) -> String {
        match self.kind {
            DeclaredKind::Root => "every account in the organization".into(),
            DeclaredKind::Ou(path) => format!("every account in {path} and below it"),
            DeclaredKind::Account(name, _) => format!("account {name}"),
        }
    }
}

/// What a policy's statements do.
#[derive(Debug, Clone, Copy)]
struct Effects {
    /// It has an `Allow` statement (or its document is unknown).
    grants: bool,
    /// It has a `Deny` statement (or its document is unknown).
    denies: bool,
}

impl Effects {
    const UNKNOWN: Effects = Effects {
        grants: true,
        denies: true,
    };

    /// The effects of an SCP document.
    fn of(content: &str) -> Effects {
        let Ok(document) = serde_json::from_str::<Value>(content) else {
            return Effects::UNKNOWN;
        };
        let statements = match document.get("Statement") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => return Effects::UNKNOWN,
        };
        let mut effects = Effects {
            grants: false,
            denies: false,
        };
        for statement in statements {
            match statement.get("Effect").and_then(Value::as_str) {
                Some("Allow") => effects.grants = true,
                Some("Deny") => effects.denies = true,
                _ => return Effects::UNKNOWN,
            }
        }
        effects
    }
}

/// One step of a target's attachment sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step<'s> {
    Attach(RefKey<'s>),
    Detach(RefKey<'s>),
    /// Detached to make room at the limit; attached again by a later `Restore`.
    SetAside(RefKey<'s>),
    Restore(RefKey<'s>),
    /// A new policy that grants, attached with the restores: a deny left the target to make
    /// room while it granted nothing.
    AttachLate(RefKey<'s>),
}

/// Why a target's attachments cannot be planned.
enum Problem<'s> {
    /// The wanted policies do not fit; this one is the first that does not.
    OverLimit(RefKey<'s>),
    /// Room for this attachment would need this deny removed while the target still grants.
    NoSafeRoom(RefKey<'s>, RefKey<'s>),
    /// Detaching this policy would leave no SCP on the target.
    LastScp(RefKey<'s>),
}

/// The order in which one target's attachments change, within `limit` policies of its type at
/// every step. For SCPs (`effects`), no deny is removed while another attached policy grants
/// before every new policy is attached. For other types, where nothing grants, no policy is
/// removed to make room while a policy still to be attached carries one of its rules on
/// (`carries_on(old, new)`): the rule would be absent until then.
fn sequence<'s>(
    have: &BTreeSet<RefKey<'s>>,
    wanted: &BTreeSet<RefKey<'s>>,
    limit: usize,
    effects: Option<&dyn Fn(&RefKey<'s>) -> Effects>,
    carries_on: &dyn Fn(&RefKey<'s>, &RefKey<'s>) -> bool,
) -> (Vec<Step<'s>>, Vec<Problem<'s>>) {
    let mut steps = Vec::new();
    let mut problems = Vec::new();
    let grants = |r: &RefKey<'s>| effects.is_some_and(|e| e(r).grants);
    let denies = |r: &RefKey<'s>| effects.is_none_or(|e| e(r).denies);
    let is_scp = effects.is_some();
    // New denies first, new grants last; policies that only grant make room first.
    let mut to_attach: Vec<RefKey<'s>> = wanted.difference(have).copied().collect();
    to_attach.sort_by_key(|r| (is_scp && !denies(r), *r));
    let mut to_detach: Vec<RefKey<'s>> = have.difference(wanted).copied().collect();
    to_detach.sort_by_key(|r| (is_scp && denies(r), *r));
    if wanted.len() > limit {
        let kept = wanted.intersection(have).count();
        let first = to_attach
            .get(limit.saturating_sub(kept))
            .or(to_attach.last())
            .copied();
        if let Some(first) = first {
            problems.push(Problem::OverLimit(first));
        }
        return (steps, problems);
    }
    let mut attached = have.clone();
    // Policies that grant and wait until the swap is done: set aside (`false`) or new (`true`).
    let mut set_aside: Vec<(RefKey<'s>, bool)> = Vec::new();
    // Whether a deny left to make room because the target granted nothing then: a policy that
    // grants must not be attached before the accounts leaving the target have moved.
    let mut deny_left = false;
    for policy in to_attach {
        while attached.len() >= limit {
            // Removing `x` is safe when it denies nothing, or when nothing else attached grants
            // (the target then grants nothing at all). AWS keeps at least one SCP attached.
            // Other types: when no policy still to be attached carries a rule of `x` on.
            let safe = |x: &RefKey<'s>, attached: &BTreeSet<RefKey<'s>>| {
                if !is_scp {
                    return !wanted
                        .iter()
                        .any(|y| !attached.contains(y) && carries_on(x, y));
                }
                attached.len() > 1 && (!denies(x) || !attached.iter().any(|p| p != x && grants(p)))
            };
            if let Some(i) = to_detach.iter().position(|x| safe(x, &attached)) {
                let x = to_detach.remove(i);
                attached.remove(&x);
                deny_left |= is_scp && denies(&x);
                steps.push(Step::Detach(x));
                continue;
            }
            // A policy that grants and stays is set aside, if removing it is safe too (a policy
            // that also denies only once nothing else attached grants).
            let aside = attached
                .iter()
                .filter(|p| wanted.contains(*p) && grants(p) && safe(p, &attached))
                .min_by_key(|p| (denies(p), **p))
                .copied();
            match aside {
                Some(g) if attached.len() > 1 => {
                    attached.remove(&g);
                    set_aside.push((g, false));
                    steps.push(Step::SetAside(g));
                }
                _ => {
                    let deny = to_detach.first().copied().unwrap_or(policy);
                    problems.push(Problem::NoSafeRoom(policy, deny));
                    return (steps, problems);
                }
            }
        }
        if deny_left && grants(&policy) {
            set_aside.push((policy, true));
            continue;
        }
        attached.insert(policy);
        steps.push(Step::Attach(policy));
    }
    let mut to_detach = to_detach.into_iter().peekable();
    loop {
        // While the target grants nothing, a deny that goes away may leave before any policy
        // that grants comes (back): nothing is allowed there either way. Once one grants, no
        // deny leaves while another grant is still to come.
        let grants_nothing = is_scp && !attached.iter().any(grants);
        if grants_nothing
            && !set_aside.is_empty()
            && attached.len() > 1
            && to_detach.peek().is_some()
        {
            if let Some(x) = to_detach.next() {
                attached.remove(&x);
                steps.push(Step::Detach(x));
            }
        } else if !set_aside.is_empty() && attached.len() < limit {
            let (g, new) = set_aside.remove(0);
            attached.insert(g);
            steps.push(if new {
                Step::AttachLate(g)
            } else {
                Step::Restore(g)
            });
        } else if let Some(x) = to_detach.next() {
            if is_scp && attached.len() <= 1 {
                problems.push(Problem::LastScp(x));
                continue;
            }
            attached.remove(&x);
            steps.push(Step::Detach(x));
        } else {
            break;
        }
    }
    (steps, problems)
}

impl<'a> Planner<'a> {
    /// Whether SCPs are enabled once the plan is applied.
    fn scps_enabled(&self) -> bool {
        self.live
            .organization
            .enabled_policy_types
            .contains(&PolicyType::ServiceControlPolicy)
            || self
                .desired
                .organization
                .enabled_policy_types
                .contains(&PolicyType::ServiceControlPolicy)
    }

    /// Whether orgctl controls a live policy's attachments on the targets it declares.
    fn controls(&self, policy: &LivePolicy) -> bool {
        if policy.aws_managed {
            // FullAWSAccess is part of the desired state once SCPs are enabled.
            return self.scps_enabled()
                && self
                    .index
                    .full_aws_access
                    .is_some_and(|f| f.id == policy.id);
        }
        self.desired.policies.contains_key(&policy.name) || is_managed(&policy.tags)
    }

    /// How a desired OU path is referenced, borrowed ([`Planner::ou_ref`]).
    fn ou_key<'s>(&'s self, path: &'s str) -> RefKey<'s> {
        if path == ROOT_PATH {
            return RefKey::Id(&self.index.root);
        }
        match self.matched.ou_state.get(path) {
            Some(OuState::Existing { id, .. }) => RefKey::Id(id),
            _ => RefKey::NewOu(path),
        }
    }

    /// How a YAML target is referenced, borrowed ([`Planner::target_ref`]).
    fn target_key<'s>(&'s self, target: &'s TargetRef) -> Option<RefKey<'s>> {
        match target {
            TargetRef::Root => Some(RefKey::Id(&self.index.root)),
            TargetRef::Ou(path) => Some(self.ou_key(path)),
            TargetRef::Account(name) => {
                self.matched.account_refs.get(name.as_str()).map(RefKey::of)
            }
        }
    }

    /// The desired ancestors of a desired OU path, nearest first, ending with the root.
    fn ancestors<'s>(&'s self, path: &'s str, out: &mut Vec<RefKey<'s>>) {
        let mut current = path;
        while current != ROOT_PATH {
            current = parent_path(current);
            out.push(self.ou_key(current));
        }
    }

    /// Its ancestors in the desired tree, nearest first (the root last).
    fn declared_ancestors<'s>(&'s self, d: &Declared<'s>) -> Vec<RefKey<'s>> {
        let mut ancestors = Vec::new();
        match d.kind {
            DeclaredKind::Root => {}
            DeclaredKind::Ou(path) => self.ancestors(path, &mut ancestors),
            DeclaredKind::Account(_, ou) => {
                ancestors.push(self.ou_key(ou));
                self.ancestors(ou, &mut ancestors);
            }
        }
        ancestors
    }

    /// The targets the YAML declares (the root, its OUs and its active accounts), into the
    /// phase's map of targets.
    fn declared_targets<'s>(&'s self, out: &mut FastMap<RefKey<'s>, Target<'s>>) {
        let mut declare = |key: RefKey<'s>, declared: Declared<'s>| {
            out.entry(key).or_default().declared = Some(declared);
        };
        declare(
            RefKey::Id(&self.index.root),
            Declared {
                kind: DeclaredKind::Root,
                full_aws_access: self.desired.organization.root_full_aws_access,
                replaces: None,
                source: &self.desired.organization.source,
            },
        );
        for spec in self.desired.ous.values() {
            let replaces = match self.matched.ou_state.get(spec.path.as_str()) {
                Some(OuState::New { replaces } | OuState::Existing { replaces, .. }) => {
                    replaces.clone()
                }
                None => None,
            };
            declare(
                self.ou_key(&spec.path),
                Declared {
                    kind: DeclaredKind::Ou(&spec.path),
                    full_aws_access: spec.full_aws_access,
                    replaces,
                    source: &spec.source,
                },
            );
        }
        // Only a new account's reference is looked up.
        for (spec, live) in self.desired_accounts() {
            if spec.lifecycle == Lifecycle::Closed {
                continue;
            }
            let target = match live {
                Some(live) => Some(RefKey::Id(&live.id)),
                None => self
                    .matched
                    .account_refs
                    .get(spec.name.as_str())
                    .map(RefKey::of),
            };
            if let Some(target) = target {
                declare(
                    target,
                    Declared {
                        kind: DeclaredKind::Account(&spec.name, &spec.ou),
                        full_aws_access: spec.full_aws_access,
                        replaces: None,
                        source: &spec.source,
                    },
                );
            }
        }
    }

    /// Attachment changes on the targets the YAML declares.
    pub(super) fn attachments<'s>(&'s self, out: &mut Output) -> Attachments {
        let desired = self.desired;
        let limit = desired.organization.policies_per_target_limit as usize;
        let scps_enabled = self.scps_enabled();
        let enabled_by_plan = !self
            .live
            .organization
            .enabled_policy_types
            .contains(&PolicyType::ServiceControlPolicy)
            && scps_enabled;
        // FullAWSAccess is listed only while SCPs are enabled; its id is the same everywhere.
        let full_aws_access: Option<RefKey<'s>> = scps_enabled.then(|| {
            RefKey::Id(match self.index.full_aws_access {
                Some(p) => &p.id,
                None => FULL_AWS_ACCESS_ID,
            })
        });
        let mut targets: FastMap<RefKey<'s>, Target<'s>> = FastMap::default();
        targets.reserve(1 + desired.ous.len() + desired.accounts.len());
        self.declared_targets(&mut targets);

        // Who controls each policy; what each policy's statements do (in its live document or
        // the YAML's).
        let mut controlled: FastSet<RefKey<'s>> = FastSet::default();
        let mut effects: FastMap<RefKey<'s>, Effects> = FastMap::default();
        let mut policy_names: FastMap<RefKey<'s>, String> = FastMap::default();
        let mut sources: FastMap<RefKey<'s>, &SourceLoc> = FastMap::default();
        // The rules of other policy types (tag policies), in the live and the YAML documents.
        let mut rules: FastMap<RefKey<'s>, Option<BTreeSet<String>>> = FastMap::default();
        let mut add_rules = |r: RefKey<'s>, policy_type: PolicyType, content: &str| {
            if policy_type == PolicyType::ServiceControlPolicy {
                return;
            }
            let new = super::order::rules(policy_type, content).map(|(restrict, _)| restrict);
            let entry = rules.entry(r).or_insert_with(|| Some(BTreeSet::new()));
            match (entry.as_mut(), new) {
                (Some(have), Some(new)) => have.extend(new),
                _ => *entry = None,
            }
        };
        for p in &self.live.policies {
            let r = RefKey::Id(&p.id);
            if self.controls(p) {
                controlled.insert(r);
            }
            add_rules(r, p.policy_type, &p.content);
            effects.insert(r, Effects::of(&p.content));
            policy_names.insert(r, format!("{}/{}", p.policy_type.short(), p.name));
        }

        if let Some(full) = full_aws_access {
            controlled.insert(full);
            policy_names
                .entry(full)
                .or_insert_with(|| format!("scp/{FULL_AWS_ACCESS}"));
            effects.insert(
                full,
                Effects {
                    grants: true,
                    denies: false,
                },
            );
        }

        // Every live attachment, by target.
        for p in &self.live.policies {
            let r = RefKey::Id(&p.id);
            let is_controlled = controlled.contains(&r);
            for t in &p.targets {
                targets.entry(RefKey::Id(t)).or_default().live.push((
                    p.policy_type,
                    r,
                    is_controlled,
                ));
            }
        }

        // What AWS attaches by itself: FullAWSAccess on every target when SCPs are enabled,
        // and on every new OU and account while they are.
        if let Some(full) = full_aws_access {
            for (key, target) in &mut targets {
                if target.declared.is_some() && (enabled_by_plan || !matches!(key, RefKey::Id(_))) {
                    target
                        .live
                        .push((PolicyType::ServiceControlPolicy, full, true));
                }
            }
        }

        // The YAML's attachments.
        for spec in desired.policies.values() {
            let Some(policy) = self
                .matched
                .policy_refs
                .get(spec.name.as_str())
                .map(RefKey::of)
            else {
                continue;
            };
            policy_names.insert(
                policy,
                format!("{}/{}", spec.policy_type.short(), spec.name),
            );
            sources.insert(policy, &spec.source);
            add_rules(policy, spec.policy_type, &spec.content);
            // Both documents count: the update may run after the attachments.
            let yaml = Effects::of(&spec.content);
            effects
                .entry(policy)
                .and_modify(|live| {
                    live.grants |= yaml.grants;
                    live.denies |= yaml.denies;
                })
                .or_insert(yaml);
            for t in &spec.targets {
                if let Some(target) = self.target_key(t) {
                    targets
                        .entry(target)
                        .or_default()
                        .yaml
                        .push((spec.policy_type, policy));
                }
            }
        }

        // An OU that replaces another carries the old OU's attachments orgctl does not control.
        let mut carried: Vec<(RefKey<'s>, PolicyType, RefKey<'s>)> = Vec::new();
        for (key, target) in &targets {
            let Some(old) = target.declared.as_ref().and_then(|d| d.replaces.as_deref()) else {
                continue;
            };
            let Some(old) = targets.get(&RefKey::Id(old)) else {
                continue;
            };
            for (policy_type, policy, is_controlled) in old.live.as_slice() {
                if !is_controlled && Some(*policy) != full_aws_access {
                    carried.push((*key, *policy_type, *policy));
                }
            }
        }
        for (key, policy_type, policy) in carried {
            if let Some(target) = targets.get_mut(&key) {
                target.carried.push((policy_type, policy));
            }
        }

        // The (target, type) pairs whose attachments change, in the order of the plan. Most
        // targets have none: their policies are compared in reused buffers.
        let mut changing: Vec<(RefKey<'s>, PolicyType)> = Vec::new();
        {
            let (mut have, mut wanted) = (Vec::new(), Vec::new());
            for (key, target) in &targets {
                for policy_type in PolicyType::ALL {
                    if target.wanted_into(policy_type, full_aws_access, &mut wanted) {
                        target.have_into(policy_type, &mut have);
                        if have != wanted {
                            changing.push((*key, policy_type));
                        }
                    }
                }
            }
        }
        changing.sort_unstable();

        let mut result = Attachments {
            before_moves: Vec::new(),
            on_new_accounts: Vec::new(),
            after_moves: Vec::new(),
        };
        // Before the moves, every target's new denies come before any target's new grants:
        // each target's steps from its first new grant on wait until the other targets' denies
        // are attached (a grant on an OU ahead of a deny on the root would allow, in between,
        // what the deny refuses).
        let mut grants_before_moves: Vec<Change> = Vec::new();
        let mut buffer = Vec::new();
        for key in &changing {
            let (target, policy_type) = key;
            let Some(entry) = targets.get(target) else {
                continue;
            };
            let Some(d) = &entry.declared else {
                continue;
            };
            entry.wanted_into(*policy_type, full_aws_access, &mut buffer);
            let wanted: BTreeSet<RefKey<'s>> = buffer.iter().copied().collect();
            entry.have_into(*policy_type, &mut buffer);
            let have: BTreeSet<RefKey<'s>> = buffer.iter().copied().collect();
            let target_name = &d.name();
            let policy_name = |policy: &RefKey<'s>| -> String {
                policy_names
                    .get(policy)
                    .cloned()
                    .unwrap_or_else(|| policy.to_ref().to_string())
            };
            let effect_of =
                |r: &RefKey<'s>| -> Effects { effects.get(r).copied().unwrap_or(Effects::UNKNOWN) };
            let is_scp = *policy_type == PolicyType::ServiceControlPolicy;
            // Unknown documents share a rule with everything.
            let carries_on =
                |old: &RefKey<'s>, new: &RefKey<'s>| match (rules.get(old), rules.get(new)) {
                    (Some(Some(old)), Some(Some(new))) => !old.is_disjoint(new),
                    _ => true,
                };
            let (steps, problems) = sequence(
                &have,
                &wanted,
                limit,
                is_scp.then_some(&effect_of as &dyn Fn(&RefKey<'s>) -> Effects),
                &carries_on,
            );
            for problem in problems {
                let (policy, message, from_yaml) = match problem {
                    Problem::OverLimit(policy) => {
                        let mut message = format!(
                            "{target_name} would have more than {limit} {policy_type} policies \
                             attached (policies not managed by orgctl count too); raise \
                             policies_per_target_limit if your quota allows, or attach fewer"
                        );
                        if let Some(old) = &d.replaces {
                            message.push_str(&format!(
                                "; {target_name} replaces {} ({old}) and must carry every policy \
                                 attached to it before any account moves",
                                self.index.path(old)
                            ));
                        }
                        (policy, message, true)
                    }
                    Problem::NoSafeRoom(policy, deny) if !is_scp => {
                        let message = format!(
                            "{target_name} is at the per-target limit of {limit} {policy_type} \
                             policies, and the only way to make room for {} removes {}, a rule of \
                             which {} carries on: the rule would not be in effect on \
                             {target_name} until the new policy is attached (nor at all if that \
                             failed); detach another {policy_type} policy from {target_name} in \
                             an apply of its own first, or raise policies_per_target_limit if \
                             your quota allows",
                            policy_name(&policy),
                            policy_name(&deny),
                            policy_name(&policy),
                        );
                        (policy, message, true)
                    }
                    Problem::NoSafeRoom(policy, deny) => {
                        let message = format!(
                            "{target_name} is at the per-target limit of {limit} SCPs, and the \
                             only way to make room for {} removes {} while {target_name} still \
                             grants access, which would widen access until the new policy is \
                             attached; detach {} in an apply of its own first, or raise \
                             policies_per_target_limit if your quota allows",
                            policy_name(&policy),
                            policy_name(&deny),
                            policy_name(&deny),
                        );
                        (policy, message, true)
                    }
                    Problem::LastScp(policy) => (
                        policy,
                        format!(
                            "detaching it would leave {target_name} without any service control \
                             policy, which AWS refuses; attach another SCP to {target_name} (or \
                             keep FullAWSAccess) first"
                        ),
                        false,
                    ),
                };
                out.error(
                    format!("attachment {} -> {target_name}", policy_name(&policy)),
                    message,
                    sources.get(&policy).copied().filter(|_| from_yaml),
                );
            }
            // Denies and tag policies reach down the tree; an SCP's allow does not (every level
            // must allow), so a policy that grants never "still applies" through an ancestor.
            let still_applies_through = |policy: &RefKey<'s>| -> Option<String> {
                if is_scp && effect_of(policy).grants {
                    return None;
                }
                let mut wanted = Vec::new();
                self.declared_ancestors(d).into_iter().find_map(|ancestor| {
                    let a = targets.get(&ancestor)?;
                    let wants = a.wanted_into(*policy_type, full_aws_access, &mut wanted)
                        && wanted.contains(policy);
                    wants.then(|| a.declared.as_ref().map(Declared::name))?
                })
            };
            let change = |step: &Step<'s>| -> Change {
                let mut applies_through = None;
                let (action, policy, reason) = match step {
                    Step::Attach(policy) => {
                        let name = policy_name(policy);
                        let carried_from = d.replaces.as_ref().filter(|_| {
                            entry.carried.as_slice().contains(&(*policy_type, *policy))
                        });
                        let reason = match carried_from {
                            Some(old) => format!(
                                "{name} is attached to {}, which {target_name} replaces: the new \
                                 OU carries it before any account moves (orgctl does not manage \
                                 it)",
                                self.index.path(old)
                            ),
                            None => format!("the YAML attaches {name} to {target_name}"),
                        };
                        (Action::Attach, policy, reason)
                    }
                    Step::Detach(policy) => {
                        let name = policy_name(policy);
                        applies_through = still_applies_through(policy);
                        let reason = match &applies_through {
                            Some(ancestor) => format!(
                                "the YAML does not attach {name} to {target_name} itself; it \
                                 still applies to {target_name} through {ancestor}"
                            ),
                            None => format!("the YAML does not attach {name} to {target_name}"),
                        };
                        (Action::Detach, policy, reason)
                    }
                    Step::SetAside(policy) => (
                        Action::Detach,
                        policy,
                        format!(
                            "{target_name} is at the per-target limit of {limit} SCPs: {} is \
                             detached for the swap so that no deny is removed while \
                             {target_name} still grants access; {target_name} grants nothing \
                             until it is attached again below",
                            policy_name(policy)
                        ),
                    ),
                    Step::Restore(policy) => (
                        Action::Attach,
                        policy,
                        format!(
                            "{} is attached to {target_name} again now that the swap at the \
                             per-target limit is done",
                            policy_name(policy)
                        ),
                    ),
                    Step::AttachLate(policy) => (
                        Action::Attach,
                        policy,
                        format!(
                            "the YAML attaches {} to {target_name}; it grants, so it comes after \
                             the account moves: a deny left {target_name} to make room at the \
                             per-target limit of {limit} SCPs while it granted nothing",
                            policy_name(policy)
                        ),
                    ),
                };
                let op = if action == Action::Attach {
                    Op::AttachPolicy {
                        policy: policy.to_ref(),
                        target: target.to_ref(),
                    }
                } else {
                    Op::DetachPolicy {
                        policy: policy.to_ref(),
                        target: target.to_ref(),
                    }
                };
                let change = Change::new(
                    ResourceKind::Attachment,
                    action,
                    format!("attachment {} -> {target_name}", policy_name(policy)),
                    reason,
                )
                .source(sources.get(policy).copied())
                .op(op);
                match applies_through {
                    Some(ancestor) => change.after(json!({ "applies_through": ancestor })),
                    None => change,
                }
            };
            for step in &steps {
                if let Step::SetAside(policy) = step {
                    out.warn(
                        format!("attachment {} -> {target_name}", policy_name(policy)),
                        format!(
                            "{target_name} is at the per-target limit of {limit} SCPs, so {} is \
                             detached for a swap: {} is denied what it allows (with \
                             FullAWSAccess: every action) from that detachment until it is \
                             attached again after the account moves (and until a rerun if the \
                             apply stops in between); apply when that is acceptable, or raise \
                             policies_per_target_limit if your quota allows",
                            policy_name(policy),
                            d.reach()
                        ),
                        d.source,
                    );
                }
            }
            let changes: Vec<Change> = steps.iter().map(change).collect();
            if matches!(target, RefKey::NewAccount(_)) {
                result.on_new_accounts.extend(changes);
                continue;
            }
            // A policy set aside for a swap comes back only after the moves: accounts that
            // leave the target, or the target itself, may carry a deny it swapped out only
            // once they sit in their new OU.
            let split = steps
                .iter()
                .rposition(|s| matches!(s, Step::Attach(_)))
                .map_or(0, |i| i + 1);
            let first_grant = steps
                .iter()
                .position(|s| matches!(s, Step::Attach(p) if is_scp && effect_of(p).grants))
                .map_or(split, |i| i.min(split));
            let mut changes = changes;
            result.after_moves.extend(changes.split_off(split));
            grants_before_moves.extend(changes.split_off(first_grant));
            result.before_moves.extend(changes);
        }
        result.before_moves.extend(grants_before_moves);
        result
    }

    /// The targets outside the YAML a live policy stays attached to (orgctl leaves them alone):
    /// their names, sorted. OUs the plan deletes do not count.
    pub(super) fn undeclared_targets(&self, policy: &LivePolicy) -> Vec<String> {
        let mut out: Vec<String> = policy
            .targets
            .iter()
            .filter(|t| !self.declares(t) && !self.deleted_or_replaced(t))
            .filter_map(|t| {
                if let Some(account) = self.index.accounts.get(t.as_str()) {
                    Some(format!("account {}", account.name))
                } else if self.index.ous.contains_key(t.as_str()) {
                    Some(self.index.path(t))
                } else {
                    None
                }
            })
            .collect();
        out.sort();
        out
    }

    /// Whether the YAML declares this live root, OU or account (an active account).
    fn declares(&self, id: &str) -> bool {
        id == self.index.root
            || self.matched.existing_ous.contains(id)
            || self
                .matched
                .matched_accounts
                .get(id)
                .is_some_and(|spec| spec.lifecycle == Lifecycle::Active)
    }
}

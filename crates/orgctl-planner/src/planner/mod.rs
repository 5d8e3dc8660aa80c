//! The planning algorithm.
//!
//! It runs in phases, each linear in the size of the organization, and emits changes in an order
//! AWS accepts:
//!
//! 0. desired OUs, accounts and policies are matched to live ones ([`matching`]; an immutable
//!    [`matching::Matching`] every later phase reads);
//! 1. policy types are enabled ([`policies`]);
//! 2. OUs are renamed, created and retagged, level by level from the top (renames first, so a
//!    new OU can take a name another gives up; a swap goes through a temporary name) ([`ous`]);
//! 3. policies are created and updated ([`policies`]);
//! 4. attachments on the root, OUs and existing accounts are made, with what makes room for
//!    them (so an OU carries its SCPs before any account lands in it, and an account its own
//!    before it moves) ([`attachments`]);
//! 5. accounts are created, moved and retagged ([`accounts`]);
//! 6. attachments on new accounts are made, then the remaining detachments on the root, OUs
//!    and existing accounts ([`attachments`]);
//! 7. the IAM roles of access grants and orgctl's read role in member accounts are deleted,
//!    updated and created (after the accounts they live in are created), each role's operations
//!    ordered so that access never widens on the way, and the access review is built
//!    ([`grants`]);
//! 8. OUs that are no longer wanted are deleted (children first, after everything moved out)
//!    ([`deletions`]);
//! 9. policies that are no longer wanted are deleted (after every detachment) ([`deletions`]);
//! 10. accounts are closed ([`deletions`]);
//! 11. what orgctl leaves alone is noted ([`notes`]).
//!
//! Within one target, attachments come before detachments (a target is never left without an
//! SCP), except at the per-target limit, where a detachment makes room for an attachment without
//! removing a deny while the target still grants (see [`attachments`]).
//!
//! Policy updates that loosen a policy wait for all of the above ([`order`]).
//!
//! Phase 7 reads the matching and the roles it wants (computed first), never the changes of
//! phases 1 to 6: it runs on a thread of its own beside them, and so do the desired views
//! (what apply records, [`views`]) and the two states' fingerprints. Each writes its own
//! output, joined in the order above, so the plan is the same byte for byte however the
//! threads run (`a_plan_is_the_same_however_its_threads_run`).
//!
//! Matching desired to live: OUs hierarchically (an OU's parent first, then by `id` or by name
//! among the parent's children), accounts by `id` else root email, policies by name.

mod accounts;
mod attachments;
mod deletions;
pub(crate) mod grants;
mod matching;
mod notes;
mod order;
mod ous;
mod policies;
pub(crate) mod views;

use std::collections::{BTreeSet, HashMap};

use orgctl_model::{
    DesiredState, FULL_AWS_ACCESS, LiveAccount, LiveOu, LivePolicy, LiveState, MANAGED_BY_KEY, Op,
    OuPath, PolicyType, ROOT_PATH, Ref, SourceLoc, Tags, is_bookkeeping_tag, is_managed,
};
use serde_json::{Value, json};

use crate::fast_hash::FastMap;
use crate::plan::{Action, Change, Note, Plan, PlanError, PrincipalAccess, ResourceKind, Warning};
use matching::{Matching, OuState};

/// Inputs to the planner other than the two states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Today's date, YYYY-MM-DD (grant expiry is judged against it; the planner has no clock).
    pub today: String,
}

/// Plans the changes that turn `live` into `desired`. Pure and deterministic; problems that
/// only the live state reveals become [`Plan::errors`].
pub fn plan(desired: &DesiredState, live: &LiveState, options: &PlanOptions) -> Plan {
    // The fingerprints depend on the inputs alone: they are computed beside the plan.
    let ((access, views, out), (live_fingerprint, desired_fingerprint)) = join(
        || {
            let mut out = Output::default();
            let (access, views) = run(desired, live, &options.today, &mut out);
            (access, views, out)
        },
        || (grants::live_fingerprint(live), desired.fingerprint()),
    );
    let mut changes = merge_updates(out.changes);
    for change in &mut changes {
        sentence(&mut change.reason);
    }
    let mut records =
        crate::records::Records::from_views(live, views).stale(&changes, &options.today);
    records.extend(out.roles_records);
    records.sort_by(|a, b| (&a.resource_id, &a.key).cmp(&(&b.resource_id, &b.key)));
    Plan {
        changes,
        records,
        notes: out.notes,
        warnings: out.warnings,
        errors: out.errors,
        access,
        organization_id: live.organization.id.clone(),
        management_account_id: live.organization.management_account_id.clone(),
        today: options.today.clone(),
        live_fingerprint,
        desired_fingerprint,
    }
}

#[cfg(test)]
thread_local! {
    /// Set by [`sequentially`]: [`join`] runs both parts here, one after the other.
    static SEQUENTIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every [`join`] in it on this thread, in order: the reference the threaded
/// plan is compared with.
#[cfg(test)]
pub(crate) fn sequentially<T>(f: impl FnOnce() -> T) -> T {
    SEQUENTIAL.set(true);
    let out = f();
    SEQUENTIAL.set(false);
    out
}

/// Runs `a` here and `b` on a thread of its own, and returns both results: the planner's
/// independent parts use a second core. Each part is deterministic on its own, so the plan
/// does not depend on which finishes first. A panic in `b` is resumed here.
fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(test)]
    if SEQUENTIAL.get() {
        let a = a();
        return (a, b());
    }
    std::thread::scope(|s| {
        let b = s.spawn(b);
        let a = a();
        match b.join() {
            Ok(b) => (a, b),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The desired view's hash of every live resource the YAML manages ([`views`]), as
/// [`plan`] computes it, without planning the changes (problems go nowhere: the plan
/// reports them).
pub(crate) fn desired_views(
    desired: &DesiredState,
    live: &LiveState,
    options: &PlanOptions,
) -> views::Views {
    if desired.organization.management_account_id != live.organization.management_account_id {
        return views::Views::default();
    }
    let mut out = Output::default();
    let index = LiveIndex::new(live);
    let matched = Matching::new(desired, live, &index, &mut out);
    let planner = Planner {
        desired,
        live,
        index,
        matched,
        today: &options.today,
    };
    let roles = planner.wanted_roles(&mut out);
    planner.views(&roles)
}

/// The member accounts whose IAM `plan` and `apply` read (ids, sorted): the accounts where the
/// plan wants an orgctl role (grant targets now, and with `organization.plan_role` the accounts
/// that want the read role) and the ACTIVE member accounts whose tags carry the roles record
/// (`orgctl:roles`), where orgctl created roles. Computed from the organization's read alone
/// (`live` needs no IAM). An orgctl role anywhere else is not seen by the plan (`orgctl drift`
/// reports it).
pub fn iam_accounts(
    desired: &DesiredState,
    live: &LiveState,
    options: &PlanOptions,
) -> BTreeSet<String> {
    let management = &live.organization.management_account_id;
    let mut out: BTreeSet<String> = live
        .accounts
        .iter()
        .filter(|a| {
            a.id != *management
                && a.status == orgctl_model::AccountStatus::Active
                && orgctl_model::has_roles_record(&a.tags)
        })
        .map(|a| a.id.clone())
        .collect();
    if desired.organization.management_account_id != *management {
        return out;
    }
    let mut sink = Output::default();
    let index = LiveIndex::new(live);
    let matched = Matching::new(desired, live, &index, &mut sink);
    let planner = Planner {
        desired,
        live,
        index,
        matched,
        today: &options.today,
    };
    let roles = planner.wanted_roles(&mut sink);
    out.extend(roles.account_ids().map(str::to_owned));
    out
}

/// Runs the phases in order; returns the access review and the desired views.
fn run(
    desired: &DesiredState,
    live: &LiveState,
    today: &str,
    out: &mut Output,
) -> (Vec<PrincipalAccess>, views::Views) {
    let want = &desired.organization.management_account_id;
    let have = &live.organization.management_account_id;
    if want != have {
        out.error(
            "organization".into(),
            format!(
                "the desired state pins management account {want}, but the organization's \
                 management account is {have}; refusing to plan against the wrong organization"
            ),
            Some(&desired.organization.source),
        );
        return (Vec::new(), views::Views::default());
    }
    let index = LiveIndex::new(live);
    let matched = Matching::new(desired, live, &index, out);
    let planner = Planner {
        desired,
        live,
        index,
        matched,
        today,
    };
    // The roles phase (7) reads the matching, not the changes before it: it runs beside
    // phases 1 to 6 into an output of its own, appended after theirs; the desired views
    // (what apply records) beside it once the wanted roles are known.
    let mut roles_out = Output::default();
    let (moves, (access, views)) = join(
        || planner.organization_changes(out),
        || {
            let roles = planner.wanted_roles(&mut roles_out);
            join(
                || planner.role_changes(&roles, &mut roles_out),
                || planner.views(&roles),
            )
        },
    );
    out.append(roles_out);
    let deleted_ous = planner.ou_deletions(&moves, out);
    planner.policy_deletions(out);
    planner.closures(out);
    planner.unmanaged_notes(&deleted_ous, out);
    (access, views)
}

/// What the phases produce, in the order they produce it.
#[derive(Default)]
struct Output {
    changes: Vec<Change>,
    notes: Vec<Note>,
    warnings: Vec<Warning>,
    errors: Vec<PlanError>,
    /// Roles records (`orgctl:roles`) to write or remove outside any change
    /// ([`grants`]).
    roles_records: Vec<crate::records::RecordWrite>,
}

impl Output {
    /// Appends another output's items after this one's, each kind in its order.
    fn append(&mut self, other: Output) {
        self.changes.extend(other.changes);
        self.notes.extend(other.notes);
        self.warnings.extend(other.warnings);
        self.errors.extend(other.errors);
        self.roles_records.extend(other.roles_records);
    }

    fn error(&mut self, address: String, message: String, source: Option<&SourceLoc>) {
        self.errors.push(PlanError {
            address,
            message,
            source: source.cloned(),
        });
    }

    fn warn(&mut self, address: String, message: String, source: &SourceLoc) {
        self.warnings.push(Warning {
            address,
            message,
            source: Some(source.clone()),
        });
    }

    fn note(&mut self, address: String, message: String) {
        self.notes.push(Note { address, message });
    }
}

/// The one way the planner builds a [`Change`]: kind, action, address and reason, then the
/// optional parts and the operations.
impl Change {
    fn new(
        kind: ResourceKind,
        action: Action,
        address: impl Into<String>,
        reason: impl Into<String>,
    ) -> Change {
        Change {
            address: address.into(),
            kind,
            action,
            before: None,
            after: None,
            diff: None,
            reason: reason.into(),
            source: None,
            ops: Vec::new(),
        }
    }

    fn before(mut self, before: Value) -> Change {
        self.before = Some(before);
        self
    }

    fn after(mut self, after: Value) -> Change {
        self.after = Some(after);
        self
    }

    fn diff(mut self, diff: impl Into<Option<String>>) -> Change {
        self.diff = diff.into();
        self
    }

    /// The YAML that caused the change.
    fn source<'s>(mut self, source: impl Into<Option<&'s SourceLoc>>) -> Change {
        self.source = source.into().cloned();
        self
    }

    fn op(mut self, op: Op) -> Change {
        self.ops.push(op);
        self
    }

    fn ops(mut self, ops: Vec<Op>) -> Change {
        self.ops.extend(ops);
        self
    }
}

/// A [`Ref`] borrowed from the states or the matching: ordered exactly like [`Ref`] (variant
/// first, then text), so sets and sorts of keys come out in the order owned refs had. The
/// attachments and roles phases key their maps and lists by these (about one entry per
/// account) instead of cloning every id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum RefKey<'s> {
    Id(&'s str),
    NewOu(&'s str),
    NewAccount(&'s str),
    NewPolicy(&'s str),
}

impl<'s> RefKey<'s> {
    pub(super) fn of(r: &'s Ref) -> Self {
        match r {
            Ref::Id(s) => RefKey::Id(s),
            Ref::NewOu(s) => RefKey::NewOu(s),
            Ref::NewAccount(s) => RefKey::NewAccount(s),
            Ref::NewPolicy(s) => RefKey::NewPolicy(s),
        }
    }

    /// The id of an existing resource (none for one this apply creates).
    pub(super) fn id(self) -> Option<&'s str> {
        match self {
            RefKey::Id(id) => Some(id),
            _ => None,
        }
    }

    /// The owned reference operations carry.
    pub(super) fn to_ref(self) -> Ref {
        match self {
            RefKey::Id(s) => Ref::Id(s.to_owned()),
            RefKey::NewOu(s) => Ref::NewOu(s.to_owned()),
            RefKey::NewAccount(s) => Ref::NewAccount(s.to_owned()),
            RefKey::NewPolicy(s) => Ref::NewPolicy(s.to_owned()),
        }
    }
}

/// The live organization, indexed for the phases.
struct LiveIndex<'a> {
    root: String,
    ous: FastMap<&'a str, &'a LiveOu>,
    accounts: FastMap<&'a str, &'a LiveAccount>,
    /// Parent id → its live child OUs.
    children: HashMap<&'a str, Vec<&'a LiveOu>>,
    /// Parent id → the live accounts directly in it.
    accounts_in: FastMap<&'a str, Vec<&'a LiveAccount>>,
    /// OU id → its live path.
    paths: HashMap<&'a str, OuPath>,
    /// The AWS-managed FullAWSAccess SCP, when the organization has it.
    full_aws_access: Option<&'a LivePolicy>,
    /// Whether every live account has its own id: then `accounts` holds each one under it,
    /// and a live account in hand is the index's without a lookup.
    distinct_ids: bool,
}

impl<'a> LiveIndex<'a> {
    fn new(live: &'a LiveState) -> Self {
        let mut children: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
        for ou in &live.ous {
            children.entry(ou.parent_id.as_str()).or_default().push(ou);
        }
        let mut accounts_in: FastMap<&str, Vec<&LiveAccount>> = FastMap::default();
        for account in &live.accounts {
            accounts_in
                .entry(account.parent_id.as_str())
                .or_default()
                .push(account);
        }
        let root = live.organization.root_id.clone();
        let paths = live_paths(&root, &children);
        let accounts: FastMap<&str, &LiveAccount> =
            live.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        let distinct_ids = accounts.len() == live.accounts.len();
        let full_aws_access = live.policies.iter().find(|p| {
            p.aws_managed
                && p.name == FULL_AWS_ACCESS
                && p.policy_type == PolicyType::ServiceControlPolicy
        });
        LiveIndex {
            root,
            ous: live.ous.iter().map(|o| (o.id.as_str(), o)).collect(),
            accounts,
            distinct_ids,
            children,
            accounts_in,
            paths,
            full_aws_access,
        }
    }

    /// The live path of an OU (or the root).
    fn path(&self, id: &str) -> String {
        if id == self.root {
            ROOT_PATH.to_owned()
        } else {
            self.paths
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("({id})"))
        }
    }

    /// The live accounts directly in an OU.
    fn accounts_in(&self, ou_id: &str) -> impl Iterator<Item = &'a LiveAccount> + '_ {
        self.accounts_in.get(ou_id).into_iter().flatten().copied()
    }

    /// The live child OUs of an OU.
    fn children(&self, ou_id: &str) -> impl Iterator<Item = &'a LiveOu> + '_ {
        self.children.get(ou_id).into_iter().flatten().copied()
    }
}

/// The phases' shared, read-only view: both states, the live index and the matching.
struct Planner<'a> {
    desired: &'a DesiredState,
    live: &'a LiveState,
    index: LiveIndex<'a>,
    matched: Matching<'a>,
    /// The plan's day (grant expiry).
    today: &'a str,
}

impl<'a> Planner<'a> {
    /// The live account of `id` as the index holds it. `known` is the live account of that id
    /// a target carries: with every live id distinct it is the index's, so no lookup (a
    /// lookup into a map of every account is a cache miss per account).
    fn index_account(&self, id: &str, known: Option<&'a LiveAccount>) -> Option<&'a LiveAccount> {
        match known {
            Some(a) if a.id == id && self.index.distinct_ids => Some(a),
            _ => self.index.accounts.get(id).copied(),
        }
    }

    /// Each desired account (in name order) with the live account the matching found for it
    /// (`None`: one to create), without a lookup.
    fn desired_accounts(
        &self,
    ) -> impl Iterator<Item = (&'a orgctl_model::AccountSpec, Option<&'a LiveAccount>)> + '_ {
        self.desired
            .accounts
            .values()
            .zip(self.matched.live_accounts.iter().copied())
    }
}

impl Planner<'_> {
    /// Phases 1 to 6, in order: policy types, OUs, policies, attachments and accounts; returns
    /// the account moves (the OU deletions wait for them).
    fn organization_changes(&self, out: &mut Output) -> accounts::AccountMoves {
        self.policy_types(out);
        self.ou_changes(out);
        self.policy_changes(out);
        let attachments = self.attachments(out);
        out.changes.extend(attachments.before_moves);
        let moves = self.account_changes(out);
        out.changes.extend(attachments.on_new_accounts);
        out.changes.extend(attachments.after_moves);
        order::removals_last(&mut out.changes, self.live);
        moves
    }

    /// The reference of a desired OU path (the root included).
    fn ou_ref(&self, path: &str) -> Ref {
        if path == ROOT_PATH {
            return Ref::Id(self.index.root.clone());
        }
        match self.matched.ou_state.get(path) {
            Some(OuState::Existing { id, .. }) => Ref::Id(id.clone()),
            _ => Ref::NewOu(path.to_owned()),
        }
    }

    /// Whether the plan deletes this live OU: a managed OU no desired OU claims, or one a desired
    /// OU replaces.
    fn deleted_or_replaced(&self, ou_id: &str) -> bool {
        // What is below an OU a scoped read did not walk is unknown: it is never deleted.
        if self.is_unwalked(ou_id) {
            return false;
        }
        self.index.ous.get(ou_id).is_some_and(|ou| {
            !self.matched.claimed_ous.contains(ou_id) && is_managed(&ou.tags)
                || self.matched.replaced_by.contains_key(ou_id)
        })
    }

    /// Whether a scoped read left this live OU's children and accounts unlisted
    /// ([`orgctl_model::LiveScope::unwalked_ous`]).
    fn is_unwalked(&self, ou_id: &str) -> bool {
        self.live.scope.as_ref().is_some_and(|s| {
            s.unwalked_ous
                .binary_search_by(|o| o.as_str().cmp(ou_id))
                .is_ok()
        })
    }

    /// Tags as orgctl compares them: ignored keys and orgctl's bookkeeping keys
    /// (`orgctl:…`, [`is_bookkeeping_tag`]) dropped (and the managed-by marker unless
    /// `keep_marker`), so the planner never adds, changes or removes a bookkeeping key.
    fn comparable(&self, tags: &Tags, keep_marker: bool) -> Tags {
        self.comparable_iter(tags, keep_marker)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The tags [`Planner::comparable`] keeps, in key order.
    fn comparable_iter<'t>(
        &self,
        tags: &'t Tags,
        keep_marker: bool,
    ) -> impl Iterator<Item = (&'t String, &'t String)> {
        let ignore = &self.desired.organization.ignore_tag_keys;
        tags.iter().filter(move |(k, _)| {
            !ignore.contains(*k) && !is_bookkeeping_tag(k) && (keep_marker || *k != MANAGED_BY_KEY)
        })
    }

    /// Whether `self.comparable(tags, keep_marker) == *want`, without building it.
    fn comparable_equals(&self, tags: &Tags, want: &Tags, keep_marker: bool) -> bool {
        self.comparable_iter(tags, keep_marker).eq(want.iter())
    }
}

/// The change that turns `have` tags into `want` tags on a resource, if they differ.
fn tag_change(
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
    // Adopted: the YAML wants orgctl's marker and the resource does not carry it (no
    // marker, or another tool's).
    let adopt = kind != ResourceKind::Account
        && want.contains_key(MANAGED_BY_KEY)
        && have.get(MANAGED_BY_KEY) != want.get(MANAGED_BY_KEY);
    let reason = match have.get(MANAGED_BY_KEY) {
        _ if !adopt => "tags differ from the YAML".to_owned(),
        None => "adopted: it exists but was not created by orgctl; it gets the managed-by tag \
                 and the YAML's tags"
            .to_owned(),
        Some(other) => format!(
            "adopted: it is tagged managed-by: {other}, not created by orgctl; it gets \
             managed-by: orgctl and the YAML's tags"
        ),
    };
    Some(
        Change::new(kind, Action::Update, address, reason)
            .before(json!({"tags": have}))
            .after(json!({"tags": want}))
            .source(source)
            .ops(ops),
    )
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
                match (mine, theirs) {
                    (Some(Value::Object(m)), Some(Value::Object(t))) => m.extend(t),
                    // A first step without attributes (a role's narrowing) takes the next's.
                    (mine @ None, theirs) => *mine = theirs,
                    _ => {}
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
fn sentence(text: &mut String) {
    match text.chars().next() {
        None => return,
        // The common case, in place.
        Some(first) if first.is_ascii() => text[..1].make_ascii_uppercase(),
        Some(first) => {
            let rest = text.split_off(first.len_utf8());
            *text = first.to_uppercase().collect();
            text.push_str(&rest);
        }
    }
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
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

//! The applier: carries out a [`Plan`] against any [`OrgApi`], in the plan's order, and checks
//! afterwards that the organization converged.
//!
//! It decides only from each change's operations (`Change::ops`); actions and reasons are for
//! people. Operations are idempotent at the executor, so a change already in effect counts as
//! done. When a change fails, the changes that depend on what it touched are skipped, the
//! independent ones still run, and the report says which is which; recovery is a fresh plan and
//! apply, which converges.
//!
//! One rule keeps a partial apply from widening access: **once a change to what applies to
//! accounts (a policy type, a policy's document, an attachment, an account's OU) has failed or
//! been skipped, no later change of that apply detaches a policy, deletes one, updates one,
//! attaches FullAWSAccess or moves an account** (see [`AccessGuard`]). Plans put what adds
//! restrictions before what removes them, so each of those later changes relies on everything
//! before it being in effect (the attachment or update that carries a deny on, the policies of
//! the OU an account moves to); other attachments and creations still run (operations name
//! policies by id only, so an allow-list policy other than FullAWSAccess is not told apart). The rule covers service control and
//! tag policies alike and does not tell them apart: operations name policies by id only, and
//! stopping more is the safe side.
//!
//! IAM operations in member accounts (roles of access grants, orgctl's read role) run through
//! the [`IamApi`] given beside the [`OrgApi`], with a second rule: **once an operation on a role
//! (an account and a role name) has failed or been skipped, every later operation on the same
//! role is skipped** (plans narrow a role's permissions before they change its trust policy or
//! widen them, so nothing may land on top of a narrowing that did not), and **no later operation
//! in the same account that could widen access (creating a role, changing a trust policy, a
//! session or a boundary, putting or attaching a policy) runs either**: plans delete roles and
//! narrow every role of every account before any role gains anything, so a principal trusted by
//! two roles never holds the old permissions of one together with the new ones of the other.
//!
//! The roles record (`orgctl:roles`, the account tag that makes plans read an account's IAM)
//! follows from the same rules and one more: plans write it in the change of an account's first
//! role creation, before the creation, so a failed write stops that creation (and, through the
//! rule above, every later creation in the account); **a change that removes it is skipped once
//! an operation on a role of that account failed or was skipped**, so no role is left where no
//! record points to it.

use std::collections::HashSet;

use orgctl_backend::observe::{
    Aspects, ReadProgress, Touched, read_all_selecting, reread_selecting,
};
use orgctl_backend::{
    IamApi, IdMap, OrgApi, Outcome, PollPolicy, ReadOptions, execute, execute_iam,
};
use orgctl_model::{DesiredState, FULL_AWS_ACCESS_ID, LiveState, Op, ROLES_RECORD_TAG, Ref};
use orgctl_planner::{Change, Plan, PlanOptions, RecordWrite, plan};

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Whether `CloseAccount` may run (`--allow-close`).
    pub allow_close: bool,
    /// How CreateAccount is polled.
    pub poll: PollPolicy,
}

/// What happened to one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Carried out.
    Done,
    /// Already in effect; nothing was written.
    AlreadyDone,
    /// It failed with this error.
    Failed(String),
    /// Not attempted because a change it depends on failed.
    Skipped(String),
}

/// Receives progress as the apply goes (the CLI draws a progress bar and logs from it).
pub trait Reporter {
    /// A change is about to run.
    fn started(&mut self, _index: usize, _total: usize, _change: &Change) {}
    /// A change finished.
    fn finished(
        &mut self,
        _index: usize,
        _total: usize,
        _change: &Change,
        _outcome: &ChangeOutcome,
    ) {
    }
}

/// A reporter that reports nothing.
pub struct Silent;

impl Reporter for Silent {}

/// The result of an apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Every change's address and outcome, in plan order.
    pub outcomes: Vec<(String, ChangeOutcome)>,
    /// The ids of what the apply created (or adopted), by the reference the plan gave it.
    pub ids: IdMap,
}

impl ApplyReport {
    /// Changes carried out.
    pub fn done(&self) -> usize {
        self.count(|o| matches!(o, ChangeOutcome::Done))
    }

    /// Changes found already in effect.
    pub fn already_done(&self) -> usize {
        self.count(|o| matches!(o, ChangeOutcome::AlreadyDone))
    }

    /// Changes that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, ChangeOutcome::Failed(_)))
    }

    /// Changes skipped because of a failure.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, ChangeOutcome::Skipped(_)))
    }

    /// Whether every change is in effect.
    pub fn is_success(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0
    }

    fn count(&self, f: impl Fn(&ChangeOutcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, o)| f(o)).count()
    }
}

/// Why an apply did not start, or could not be verified.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan has errors.
    #[error("the plan has {0} error(s) and cannot be applied")]
    NotApplyable(usize),
    /// The plan closes accounts and `--allow-close` was not given.
    #[error(
        "the plan closes {0} account(s) ({1}); closing an account needs --allow-close \
         (nothing was changed)"
    )]
    CloseNotAllowed(usize, String),
    /// Reading the organization after the apply failed.
    #[error("could not read the organization to verify the apply: {0}")]
    Verify(#[from] orgctl_backend::ReadError),
    /// Writing a record of what was applied failed (what the apply changed is in effect; the
    /// next apply writes the record).
    #[error(
        "could not record what was applied on {resource} ({error}); the organization is as the \
         plan says, and the next apply writes the record"
    )]
    Record {
        /// The resource's id.
        resource: String,
        /// What went wrong.
        error: String,
    },
}

/// Checks that the plan may start: no plan errors, and no closures unless allowed. Nothing is
/// written when this fails.
pub fn preflight(plan: &Plan, options: &ApplyOptions) -> Result<(), ApplyError> {
    if !plan.is_applyable() {
        return Err(ApplyError::NotApplyable(plan.errors.len()));
    }
    let closes: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.ops.iter().any(orgctl_model::Op::is_close))
        .map(|c| c.address.as_str())
        .collect();
    if !closes.is_empty() && !options.allow_close {
        return Err(ApplyError::CloseNotAllowed(closes.len(), closes.join(", ")));
    }
    Ok(())
}

/// Applies `plan` in order: Organizations operations through `api`, IAM operations in member
/// accounts through `iam` (which should reach accounts through the member role,
/// [`orgctl_backend::IamRoles::write`]). Returns the per-change outcomes; a failed change does
/// not stop independent changes.
pub async fn apply<A: OrgApi, I: IamApi>(
    plan: &Plan,
    api: &A,
    iam: &I,
    options: &ApplyOptions,
    reporter: &mut dyn Reporter,
) -> Result<ApplyReport, ApplyError> {
    preflight(plan, options)?;
    // Ids the plan names are never adopted as objects it creates.
    let mut ids = IdMap::for_ops(plan.changes.iter().flat_map(|c| &c.ops));
    let mut poisoned: HashSet<Ref> = HashSet::new();
    // (account, lower-cased role name) of role operations that failed or were skipped.
    let mut poisoned_roles: HashSet<(Ref, String)> = HashSet::new();
    // Accounts where a role operation failed or was skipped: nothing there may widen after it.
    let mut poisoned_accounts: HashSet<Ref> = HashSet::new();
    let mut guard = AccessGuard::default();
    let mut report = ApplyReport::default();
    let total = plan.changes.len();
    for (index, change) in plan.changes.iter().enumerate() {
        reporter.started(index, total, change);
        let blocked = change
            .ops
            .iter()
            .flat_map(|op| op.refs())
            .find(|r| poisoned.contains(*r));
        let blocked_role = change
            .ops
            .iter()
            .filter_map(role_key)
            .find(|k| poisoned_roles.contains(k));
        let blocked_account = change
            .ops
            .iter()
            .filter(|op| !orgctl_planner::role_op_narrows(op))
            .filter_map(|op| op.role().map(|(account, _)| account))
            .find(|a| poisoned_accounts.contains(*a));
        let outcome = if let Some(r) = blocked {
            ChangeOutcome::Skipped(format!(
                "depends on {r}, which an earlier failed change touched"
            ))
        } else if let Some((account, role)) = blocked_role {
            ChangeOutcome::Skipped(format!(
                "an earlier change to role {role} in account {account} failed or was skipped, so \
                 no later change to that role is made"
            ))
        } else if let Some(account) = blocked_account {
            ChangeOutcome::Skipped(format!(
                "an earlier change to a role in account {account} failed or was skipped, so no \
                 later change there may give anything"
            ))
        } else if let Some(account) = change
            .ops
            .iter()
            .filter_map(removes_roles_record)
            .find(|a| poisoned_accounts.contains(*a))
        {
            ChangeOutcome::Skipped(format!(
                "an earlier change to a role in account {account} failed or was skipped, so its \
                 roles record (orgctl:roles) stays: a role may remain there"
            ))
        } else if let Some(why) = guard.blocks(change) {
            ChangeOutcome::Skipped(why)
        } else {
            run_change(api, iam, change, &mut ids, &options.poll).await
        };
        if matches!(
            outcome,
            ChangeOutcome::Failed(_) | ChangeOutcome::Skipped(_)
        ) {
            for op in &change.ops {
                poisoned.extend(poisoned_by(op));
                poisoned_roles.extend(role_key(op));
                poisoned_accounts.extend(op.role().map(|(account, _)| account.clone()));
            }
            guard.not_in_effect(change);
        }
        reporter.finished(index, total, change, &outcome);
        report.outcomes.push((change.address.clone(), outcome));
    }
    report.ids = ids;
    Ok(report)
}

/// The applier's one rule against widening access: once a change to what applies to accounts
/// has failed or been skipped, no later change of the apply may take anything away from what
/// applies to an account (see the [crate documentation](crate)).
#[derive(Debug, Default)]
struct AccessGuard {
    /// The first change to what applies to accounts that did not take effect.
    stopped_by: Option<String>,
}

impl AccessGuard {
    /// Whether an operation changes what applies to accounts.
    fn changes_access(op: &Op) -> bool {
        matches!(
            op,
            Op::EnablePolicyType { .. }
                | Op::CreatePolicy { .. }
                | Op::UpdatePolicy { .. }
                | Op::AttachPolicy { .. }
                | Op::DetachPolicy { .. }
                | Op::DeletePolicy { .. }
                | Op::MoveAccount { .. }
        )
    }

    /// Whether an operation may take something away from what applies to an account: a
    /// detachment or deletion, a new document, a new OU with other policies, or FullAWSAccess
    /// attached (it allows what the target refused, relying on the denies planned before it).
    fn may_remove(op: &Op) -> bool {
        match op {
            Op::DetachPolicy { .. }
            | Op::DeletePolicy { .. }
            | Op::UpdatePolicy { .. }
            | Op::MoveAccount { .. } => true,
            Op::AttachPolicy {
                policy: Ref::Id(id),
                ..
            } => id == FULL_AWS_ACCESS_ID,
            _ => false,
        }
    }

    /// Records a change that failed or was skipped.
    fn not_in_effect(&mut self, change: &Change) {
        if self.stopped_by.is_none() && change.ops.iter().any(Self::changes_access) {
            self.stopped_by = Some(change.address.clone());
        }
    }

    /// Why `change` must not run, if it must not.
    fn blocks(&self, change: &Change) -> Option<String> {
        let first = self.stopped_by.as_ref()?;
        change.ops.iter().any(Self::may_remove).then(|| {
            format!(
                "it could take a restriction away, and the earlier change {first} did not take \
                 effect (after a failed change to policies or accounts' OUs, no policy is \
                 detached, deleted or updated, FullAWSAccess is not attached and no account \
                 moves)"
            )
        })
    }
}

/// What later changes must not touch after `op` failed: what it would have created, and what it
/// leaves in an unexpected state. An account that did not move keeps its old OU alive; a policy
/// that did not detach cannot be deleted; a target that did not get its new policy must not lose
/// its old one (that would widen access).
fn poisoned_by(op: &Op) -> Vec<Ref> {
    let mut out: Vec<Ref> = op.creates().into_iter().collect();
    match op {
        Op::MoveAccount { account, from, .. } => out.extend([account.clone(), from.clone()]),
        Op::DetachPolicy { policy, .. } => out.push(policy.clone()),
        Op::AttachPolicy { target, .. } => out.push(target.clone()),
        _ => {}
    }
    out
}

/// The account whose roles record (`orgctl:roles`) `op` removes, if it does.
fn removes_roles_record(op: &Op) -> Option<&Ref> {
    match op {
        Op::UntagResource { resource, keys } if keys.contains(ROLES_RECORD_TAG) => Some(resource),
        _ => None,
    }
}

/// The role an IAM operation works on: its account and its name, lower-cased (IAM role names
/// are case-insensitive).
fn role_key(op: &Op) -> Option<(Ref, String)> {
    op.role()
        .map(|(account, name)| (account.clone(), name.to_lowercase()))
}

async fn run_change<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    change: &Change,
    ids: &mut IdMap,
    poll: &PollPolicy,
) -> ChangeOutcome {
    let mut all_already = true;
    for op in &change.ops {
        let result = if op.is_iam() {
            execute_iam(iam, op, ids, poll).await
        } else {
            execute(api, op, ids, poll).await
        };
        match result {
            Ok(Outcome::Done) => all_already = false,
            Ok(Outcome::AlreadyDone) => {}
            Err(e) => return ChangeOutcome::Failed(e.to_string()),
        }
    }
    if all_already {
        ChangeOutcome::AlreadyDone
    } else {
        ChangeOutcome::Done
    }
}

/// Reads the organization (and IAM where `plan` reads it: [`plan_iam_accounts`]) again, plans
/// once more and writes that plan's records of what was applied ([`record`]: the resources already as the YAML says,
/// none a pending change depends on); returns the changes still pending (empty when the apply
/// converged).
pub async fn verify<A: OrgApi, I: IamApi>(
    desired: &DesiredState,
    api: &A,
    iam: &I,
    read: &ReadOptions,
    options: &PlanOptions,
) -> Result<Vec<Change>, ApplyError> {
    let select = plan_iam_accounts(desired, options);
    let live = read_all_selecting(api, iam, read, &select, &|_| {}).await?;
    let again = plan(desired, &live, options);
    record(api, &again.records).await?;
    Ok(again.changes)
}

/// What an apply wrote, by live id (the input of [`orgctl_backend::observe::reread`]): every
/// operation of each change that ran (done, already in effect or failed: a failed change may
/// have written some of its operations), with the ids the apply created, the objects its
/// operations name found in `before` (the live state `plan` was made from). An operation whose
/// object has no id (a creation that failed) or is not in `before`, and enabling a policy type
/// (AWS then attaches FullAWSAccess everywhere), make the re-read a whole read
/// ([`Touched::unknown`]).
pub fn touched(plan: &Plan, report: &ApplyReport, before: &LiveState) -> Touched {
    let mut t = Touched::default();
    let ran = plan
        .changes
        .iter()
        .zip(&report.outcomes)
        .filter(|(_, (_, o))| !matches!(o, ChangeOutcome::Skipped(_)));
    for (change, _) in ran {
        for op in &change.ops {
            touched_by(op, &report.ids, before, &mut t);
        }
    }
    t
}

/// What one operation may have written, added to `t`.
fn touched_by(op: &Op, ids: &IdMap, before: &LiveState, t: &mut Touched) {
    let all = Aspects::all();
    let info = Aspects {
        info: true,
        ..Aspects::default()
    };
    let parent = Aspects {
        parent: true,
        ..Aspects::default()
    };
    let tags = Aspects {
        tags: true,
        ..Aspects::default()
    };
    let id = |r: &Ref, t: &mut Touched| {
        let id = ids.resolve(r);
        if id.is_none() {
            t.give_up(format!("{r} has no id: its creation did not finish"));
        }
        id
    };
    let add = |map: &mut std::collections::BTreeMap<String, Aspects>, id: String, a: Aspects| {
        let e = map.entry(id).or_default();
        e.info |= a.info;
        e.parent |= a.parent;
        e.tags |= a.tags;
        e.targets |= a.targets;
    };
    let policy_type = |id: &str| {
        before
            .policies
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.policy_type)
    };
    // A policy this apply created is already in `t` (its creation comes first).
    let policy = |r: &Ref, a: Aspects, t: &mut Touched| {
        let Some(id) = id(r, t) else { return };
        let known = policy_type(&id).or_else(|| t.policies.get(&id).map(|(ty, _)| *ty));
        match known {
            Some(ty) => {
                let e = t.policies.entry(id).or_insert((ty, Aspects::default()));
                e.1.info |= a.info;
                e.1.tags |= a.tags;
                e.1.targets |= a.targets;
            }
            None => t.give_up(format!("policy {id} was not read before the apply")),
        }
    };
    match op {
        Op::EnablePolicyType { .. } => {
            t.give_up("the apply enabled a policy type (AWS attaches FullAWSAccess everywhere)");
        }
        Op::CreateOu { path, .. } => {
            if let Some(id) = id(&Ref::NewOu(path.clone()), t) {
                add(&mut t.ous, id.clone(), all);
                t.attachments.insert(id);
            }
        }
        Op::RenameOu { ou, .. } | Op::DeleteOu { ou } => {
            if let Some(id) = id(ou, t) {
                add(&mut t.ous, id, info);
            }
        }
        Op::CreateAccount { email, .. } => {
            if let Some(id) = id(&Ref::NewAccount(email.to_lowercase()), t) {
                add(&mut t.accounts, id.clone(), all);
                t.attachments.insert(id.clone());
                t.iam.insert(id);
            }
        }
        Op::MoveAccount { account, .. } => {
            if let Some(id) = id(account, t) {
                add(&mut t.accounts, id, parent);
            }
        }
        Op::CloseAccount { account } => {
            if let Some(id) = id(account, t) {
                add(&mut t.accounts, id.clone(), info);
                t.iam.insert(id);
            }
        }
        Op::TagResource { resource, .. } | Op::UntagResource { resource, .. } => {
            let Some(id) = id(resource, t) else { return };
            if id == before.organization.root_id {
                t.root_tags = true;
            } else if matches!(resource, Ref::NewOu(_)) || before.ous.iter().any(|o| o.id == id) {
                add(&mut t.ous, id, tags);
            } else if matches!(resource, Ref::NewAccount(_))
                || before.accounts.iter().any(|a| a.id == id)
            {
                add(&mut t.accounts, id, tags);
            } else if matches!(resource, Ref::NewPolicy(_))
                || before.policies.iter().any(|p| p.id == id)
            {
                policy(resource, tags, t);
            } else {
                t.give_up(format!("{id} was not read before the apply"));
            }
        }
        Op::CreatePolicy {
            name, policy_type, ..
        } => {
            if let Some(id) = id(&Ref::NewPolicy(name.clone()), t) {
                let e = t
                    .policies
                    .entry(id)
                    .or_insert((*policy_type, Aspects::default()));
                e.1 = Aspects {
                    parent: false,
                    ..Aspects::all()
                };
            }
        }
        Op::UpdatePolicy { policy: p, .. } | Op::DeletePolicy { policy: p } => {
            policy(p, info, t);
        }
        Op::AttachPolicy { target, .. } | Op::DetachPolicy { target, .. } => {
            if let Some(id) = id(target, t) {
                t.attachments.insert(id);
            }
        }
        other => {
            if let Some((account, _)) = other.role() {
                if let Some(id) = id(account, t) {
                    t.iam.insert(id);
                }
            } else {
                t.give_up(format!("an operation the re-read does not know: {other:?}"));
            }
        }
    }
}

/// The member accounts whose IAM `plan` and `apply` read, as a selector for
/// [`orgctl_backend::observe::read_all_selecting`] and
/// [`orgctl_backend::observe::reread_selecting`]: `orgctl_planner::iam_accounts` (grant
/// targets, accounts carrying the roles record, read-role accounts).
pub fn plan_iam_accounts<'a>(
    desired: &'a DesiredState,
    options: &'a PlanOptions,
) -> impl Fn(&LiveState) -> Option<std::collections::BTreeSet<String>> + Sync + 'a {
    move |live: &LiveState| Some(orgctl_planner::iam_accounts(desired, live, options))
}

/// The live state after an apply, read the cheap way: `before` (what `plan` was made from,
/// read with `read`, IAM where `select` picks) with what the apply wrote ([`touched`]) read
/// again ([`orgctl_backend::observe::reread_selecting`], IAM where `select` picks from the
/// patched state: `apply` passes [`plan_iam_accounts`]). Returns it with the reason it was
/// read in full instead, when it was.
#[allow(clippy::too_many_arguments)]
pub async fn reread_applied<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    before: &LiveState,
    plan: &Plan,
    report: &ApplyReport,
    read: &ReadOptions,
    select: &(dyn Fn(&LiveState) -> Option<std::collections::BTreeSet<String>> + Sync),
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<(LiveState, Option<String>), ApplyError> {
    let t = touched(plan, report, before);
    Ok(reread_selecting(api, iam, before, &t, read, select, progress).await?)
}

/// [`verify`] from the targeted re-read ([`reread_applied`]) rather than a whole read: plans
/// once more, writes that plan's records and returns the changes still pending.
#[allow(clippy::too_many_arguments)]
pub async fn verify_applied<A: OrgApi, I: IamApi>(
    desired: &DesiredState,
    api: &A,
    iam: &I,
    read: &ReadOptions,
    options: &PlanOptions,
    before: &LiveState,
    applied: &Plan,
    report: &ApplyReport,
) -> Result<Vec<Change>, ApplyError> {
    let select = plan_iam_accounts(desired, options);
    let (live, _) =
        reread_applied(api, iam, before, applied, report, read, &select, &|_| {}).await?;
    let again = plan(desired, &live, options);
    record(api, &again.records).await?;
    Ok(again.changes)
}

/// Writes records of what was applied (`orgctl:applied`, [`orgctl_planner::records`]) through
/// the executor, as `TagResource`; returns how many were written (a record already there counts
/// too). Stops at the first failure. The planner never compares the key, so recording never
/// makes a plan non-empty.
pub async fn record<A: OrgApi>(api: &A, records: &[RecordWrite]) -> Result<usize, ApplyError> {
    let mut ids = IdMap::default();
    for r in records {
        execute(api, &r.op(), &mut ids, &PollPolicy::default())
            .await
            .map_err(|e| ApplyError::Record {
                resource: r.resource_id.clone(),
                error: e.to_string(),
            })?;
    }
    Ok(records.len())
}

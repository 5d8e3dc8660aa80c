//! The targeted re-read after an apply ([`reread`]): what the apply wrote, read again and
//! patched into the live state the apply was planned from, instead of the whole scoped read.
//!
//! Per touched object ([`Touched`], by live id, with the [`Aspects`] to read again):
//! - an OU: DescribeOrganizationalUnit (name; gone: removed, with its attachments),
//!   ListParents, ListTagsForResource;
//! - an account: DescribeAccount (name, email, status; gone: removed), ListParents,
//!   ListTagsForResource;
//! - a policy: ListPolicies per type of the touched policies (name, description; gone:
//!   removed), DescribePolicy, ListTagsForResource, ListTargetsForPolicy (a policy this apply
//!   created or adopted: every target it has);
//! - a root, OU or account whose attachments changed: ListPoliciesForTarget per enabled type
//!   (what is attached there, of every policy);
//! - IAM as [`read_iam_in`](super::read_iam_in) reads it, in the member accounts the selection
//!   picks from the patched state (every ACTIVE one for [`reread`]; `apply` selects as `plan`
//!   does with [`reread_selecting`]): again in the touched ones and in those not read before;
//!   the others keep what was read before, and accounts IAM is no longer read in (closed, or no
//!   longer selected) lose theirs;
//! - the root's tags (its record), when the apply tagged the root.
//!
//! Its requests grow with what the apply wrote, never with the organization, for `O` OUs, `A`
//! accounts and `P` policies touched (`N` of them created), `T_p` their types, `X` targets
//! whose attachments changed, `T` the enabled types (fewer when an op touches one aspect only:
//! a move reads the parent, a tag the tags):
//!
//! ```text
//! 3·O + 3·A + Σ_{t∈T_p} pages(policies of t) + 2·P + N + T·X + [1: the root was tagged]
//!   + Σ_{accounts read again} (AssumeRole + ListRoles + Σ roles × (3 + inline policies))
//! ```
//!
//! When the targeted read cannot be exact, it makes the whole read of `options` instead and
//! says why: the apply enabled a policy type (AWS attaches FullAWSAccess everywhere), an object
//! a failed creation may have made has no id, or the answers name what the live state does not
//! hold (a parent, a policy, a target).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orgctl_model::{
    LiveAccessRole, LiveAccount, LiveIamAccount, LiveOu, LivePolicy, LiveState, PolicyType,
    RECORD_TAG, Tags,
};

use super::{
    ReadError, ReadOptions, ReadProgress, Req, Resp, iam_accounts, read_all_selecting, read_iam_of,
    run_all,
};
use crate::api::{AccountInfo, OrgApi, OuInfo, PolicySummary};
use crate::iam::IamApi;

/// What to read again about one object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Aspects {
    /// Whether it still exists, and its name (an account's email and status too; a policy's
    /// description and document).
    pub info: bool,
    /// Its parent (OUs and accounts).
    pub parent: bool,
    /// Its tags.
    pub tags: bool,
    /// Every target it is attached to (policies this apply created or adopted).
    pub targets: bool,
}

impl Aspects {
    /// Every aspect: an object the apply created.
    pub fn all() -> Self {
        Self {
            info: true,
            parent: true,
            tags: true,
            targets: true,
        }
    }
}

/// What an apply wrote, by live id: what [`reread`] reads again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// OUs.
    pub ous: BTreeMap<String, Aspects>,
    /// Accounts.
    pub accounts: BTreeMap<String, Aspects>,
    /// Policies, with their type.
    pub policies: BTreeMap<String, (PolicyType, Aspects)>,
    /// Roots, OUs and accounts whose attached policies changed.
    pub attachments: BTreeSet<String>,
    /// Member accounts whose IAM changed.
    pub iam: BTreeSet<String>,
    /// Whether the root's tags changed.
    pub root_tags: bool,
    /// Why the apply's effects cannot be read again one by one, when they cannot: the whole
    /// read is made instead.
    pub unknown: Option<String>,
}

impl Touched {
    /// Marks the effects as not readable one by one, keeping the first reason.
    pub fn give_up(&mut self, why: impl Into<String>) {
        if self.unknown.is_none() {
            self.unknown = Some(why.into());
        }
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The live state after an apply: `before` (the state the apply was planned from, read with
/// `options`) with what the apply wrote (`touched`) read again, see the
/// [module documentation](self). Returns it with the reason the whole read of `options` was
/// made instead, when it was.
pub async fn reread<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    before: &LiveState,
    touched: &Touched,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<(LiveState, Option<String>), ReadError> {
    reread_selecting(api, iam, before, touched, options, &|_| None, progress).await
}

/// [`reread`], with IAM in the member accounts `select` picks from the patched state (`None`:
/// every ACTIVE one), as [`read_all_selecting`] reads it: `before` must have been read with the
/// same selection. `apply` selects as `plan` does (`orgctl_planner::iam_accounts`).
pub async fn reread_selecting<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    before: &LiveState,
    touched: &Touched,
    options: &ReadOptions,
    select: &(dyn Fn(&LiveState) -> Option<BTreeSet<String>> + Sync),
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<(LiveState, Option<String>), ReadError> {
    let patched = match &touched.unknown {
        Some(why) => Err(why.clone()),
        None => patch(api, iam, before, touched, options, select, progress).await?,
    };
    match patched {
        Ok(live) => Ok((live, None)),
        Err(why) => {
            tracing::info!("reading the organization again in full: {why}");
            let live = read_all_selecting(api, iam, options, select, progress).await?;
            Ok((live, Some(why)))
        }
    }
}

/// The targeted read; `Ok(Err(why))` when it cannot be exact.
async fn patch<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    before: &LiveState,
    touched: &Touched,
    options: &ReadOptions,
    select: &(dyn Fn(&LiveState) -> Option<BTreeSet<String>> + Sync),
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<Result<LiveState, String>, ReadError> {
    let limit = options.concurrency.max(1);
    let mut live = before.clone();
    let root = live.organization.root_id.clone();

    // First: whether each touched object still exists, where it is, and the policy lists.
    let mut reqs = Vec::new();
    for (id, a) in &touched.ous {
        if a.info {
            reqs.push(Req::DescribeOu(id.clone()));
        }
        if a.parent {
            reqs.push(Req::Parent(id.clone()));
        }
    }
    for (id, a) in &touched.accounts {
        if a.info {
            reqs.push(Req::DescribeAccount(id.clone()));
        }
        if a.parent {
            reqs.push(Req::Parent(id.clone()));
        }
    }
    let types: BTreeSet<PolicyType> = touched
        .policies
        .values()
        .filter(|(_, a)| a.info)
        .map(|(t, _)| *t)
        .collect();
    reqs.extend(types.iter().map(|t| Req::Policies(*t)));
    let total = reqs.len();
    progress(ReadProgress::Details { done: 0, total });
    let answered = |done| progress(ReadProgress::Details { done, total });
    let mut ou_infos: HashMap<String, Option<OuInfo>> = HashMap::new();
    let mut account_infos: HashMap<String, AccountInfo> = HashMap::new();
    let mut parents: HashMap<String, Option<String>> = HashMap::new();
    let mut summaries: HashMap<String, PolicySummary> = HashMap::new();
    for r in run_all(api, reqs, limit, &answered).await? {
        match r {
            Resp::DescribeOu(id, info) => {
                ou_infos.insert(id, info);
            }
            Resp::DescribeAccount(Some(info)) => {
                account_infos.insert(info.id.clone(), info);
            }
            Resp::Parent(id, parent) => {
                parents.insert(id, parent);
            }
            Resp::Policies(list) => {
                summaries.extend(list.into_iter().map(|p| (p.id.clone(), p)));
            }
            _ => {}
        }
    }
    let gone_ou = |id: &String, a: &Aspects| {
        (a.info && ou_infos.get(id).is_none_or(Option::is_none))
            || (a.parent && parents.get(id).is_none_or(Option::is_none))
    };
    let gone_account = |id: &String, a: &Aspects| {
        (a.info && !account_infos.contains_key(id))
            || (a.parent && parents.get(id).is_none_or(Option::is_none))
    };
    let gone: BTreeSet<String> = touched
        .ous
        .iter()
        .filter(|(id, a)| gone_ou(id, a))
        .chain(
            touched
                .accounts
                .iter()
                .filter(|(id, a)| gone_account(id, a)),
        )
        .map(|(id, _)| id.clone())
        .chain(
            touched
                .policies
                .iter()
                .filter(|(id, (_, a))| a.info && !summaries.contains_key(*id))
                .map(|(id, _)| id.clone()),
        )
        .collect();

    // Then what exists: tags, documents, targets, attachments.
    let aws_managed = |id: &String| {
        summaries
            .get(id)
            .map(|s| s.aws_managed)
            .or_else(|| {
                live.policies
                    .iter()
                    .find(|p| p.id == *id)
                    .map(|p| p.aws_managed)
            })
            .unwrap_or(false)
    };
    let mut reqs = Vec::new();
    if touched.root_tags {
        reqs.push(Req::Tags(root.clone()));
    }
    for (id, a) in touched.ous.iter().chain(&touched.accounts) {
        if a.tags && !gone.contains(id) {
            reqs.push(Req::Tags(id.clone()));
        }
    }
    for (id, (_, a)) in &touched.policies {
        if gone.contains(id) || aws_managed(id) {
            continue;
        }
        if a.info {
            reqs.push(Req::Describe(id.clone()));
        }
        if a.tags {
            reqs.push(Req::Tags(id.clone()));
        }
        if a.targets {
            reqs.push(Req::Targets(id.clone()));
        }
    }
    let enabled = live.organization.enabled_policy_types.clone();
    for t in &touched.attachments {
        if !gone.contains(t) {
            reqs.extend(enabled.iter().map(|ty| Req::PoliciesFor(t.clone(), *ty)));
        }
    }
    let total = reqs.len();
    progress(ReadProgress::Details { done: 0, total });
    let answered = |done| progress(ReadProgress::Details { done, total });
    let mut tags: HashMap<String, Tags> = HashMap::new();
    let mut contents: HashMap<String, String> = HashMap::new();
    let mut targets: HashMap<String, Vec<String>> = HashMap::new();
    let mut attached: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in run_all(api, reqs, limit, &answered).await? {
        match r {
            Resp::Tags(id, t) => {
                tags.insert(id, t);
            }
            Resp::Describe(id, c) => {
                contents.insert(id, c);
            }
            Resp::Targets(id, t) => {
                targets.insert(id, t);
            }
            Resp::PoliciesFor(target, ids) => {
                attached.entry(target).or_default().extend(ids);
            }
            _ => {}
        }
    }

    // The patch.
    if touched.root_tags
        && let Some(mut t) = tags.remove(&root)
    {
        live.organization.root_record = t.remove(RECORD_TAG);
    }
    live.ous.retain(|o| !gone.contains(&o.id));
    live.accounts.retain(|a| !gone.contains(&a.id));
    live.policies.retain(|p| !gone.contains(&p.id));
    if let Some(scope) = &mut live.scope {
        scope.unwalked_ous.retain(|o| !gone.contains(o));
    }
    for p in &mut live.policies {
        p.targets.retain(|t| !gone.contains(t));
    }
    for (id, a) in &touched.ous {
        if gone.contains(id) {
            continue;
        }
        let i = match live.ous.iter().position(|o| o.id == *id) {
            Some(i) => i,
            None if a.info && a.parent && a.tags => {
                live.ous.push(LiveOu {
                    id: id.clone(),
                    name: String::new(),
                    parent_id: String::new(),
                    tags: Tags::new(),
                });
                live.ous.len() - 1
            }
            None => return Ok(Err(format!("OU {id} was not read before the apply"))),
        };
        let ou = &mut live.ous[i];
        if let Some(Some(info)) = ou_infos.remove(id) {
            ou.name = info.name;
        }
        if let Some(Some(parent)) = parents.remove(id) {
            ou.parent_id = parent;
        }
        if let Some(t) = tags.remove(id) {
            ou.tags = t;
        }
    }
    for (id, a) in &touched.accounts {
        if gone.contains(id) {
            continue;
        }
        let i = match live.accounts.iter().position(|x| x.id == *id) {
            Some(i) => i,
            None if a.info && a.parent && a.tags => {
                live.accounts.push(LiveAccount {
                    id: id.clone(),
                    name: String::new(),
                    email: String::new(),
                    parent_id: String::new(),
                    status: orgctl_model::AccountStatus::Active,
                    tags: Tags::new(),
                });
                live.accounts.len() - 1
            }
            None => return Ok(Err(format!("account {id} was not read before the apply"))),
        };
        let account = &mut live.accounts[i];
        if let Some(info) = account_infos.remove(id) {
            account.name = info.name;
            account.email = info.email;
            account.status = info.status;
        }
        if let Some(Some(parent)) = parents.remove(id) {
            account.parent_id = parent;
        }
        if let Some(t) = tags.remove(id) {
            account.tags = t;
        }
    }
    for (id, (_, a)) in &touched.policies {
        if gone.contains(id) {
            continue;
        }
        let i = match live.policies.iter().position(|p| p.id == *id) {
            Some(i) => i,
            None => match summaries.get(id) {
                Some(s) if a.info && a.tags && a.targets => {
                    live.policies.push(LivePolicy {
                        id: id.clone(),
                        name: s.name.clone(),
                        policy_type: s.policy_type,
                        description: s.description.clone(),
                        content: String::new(),
                        aws_managed: s.aws_managed,
                        tags: Tags::new(),
                        targets: Vec::new(),
                    });
                    live.policies.len() - 1
                }
                _ => return Ok(Err(format!("policy {id} was not read before the apply"))),
            },
        };
        let p = &mut live.policies[i];
        if let Some(s) = summaries.get(id) {
            p.name.clone_from(&s.name);
            p.description.clone_from(&s.description);
            p.aws_managed = s.aws_managed;
        }
        if let Some(c) = contents.remove(id) {
            p.content = c;
        }
        if let Some(t) = tags.remove(id) {
            p.tags = t;
        }
        if let Some(t) = targets.remove(id) {
            p.targets = t;
        }
    }

    // Everything placed must hang off what the state holds.
    let known = |id: &str, live: &LiveState| {
        id == root
            || live.ous.iter().any(|o| o.id == id)
            || live.accounts.iter().any(|a| a.id == id)
    };
    for id in touched.ous.keys().chain(touched.accounts.keys()) {
        let parent = live
            .ous
            .iter()
            .find(|o| o.id == *id)
            .map(|o| &o.parent_id)
            .or_else(|| {
                live.accounts
                    .iter()
                    .find(|a| a.id == *id)
                    .map(|a| &a.parent_id)
            });
        if let Some(parent) = parent
            && !known(parent, &live)
        {
            return Ok(Err(format!(
                "{id} is now under {parent}, which was not read before the apply"
            )));
        }
    }
    for (id, _) in touched.policies.iter().filter(|(_, (_, a))| a.targets) {
        if let Some(p) = live.policies.iter().find(|p| p.id == *id)
            && let Some(t) = p.targets.iter().find(|t| !known(t, &live))
        {
            return Ok(Err(format!(
                "policy {id} is attached to {t}, which was not read before the apply"
            )));
        }
    }
    // What is attached to each touched target, of every type enabled.
    for (target, ids) in &attached {
        if let Some(unknown) = ids
            .iter()
            .find(|p| !live.policies.iter().any(|l| l.id == **p))
        {
            return Ok(Err(format!(
                "policy {unknown} is attached to {target}, and was not read before the apply"
            )));
        }
        for p in &mut live.policies {
            if !enabled.contains(&p.policy_type) {
                continue;
            }
            let on = ids.contains(&p.id);
            let has = p.targets.iter().any(|t| t == target);
            if on && !has {
                p.targets.push(target.clone());
            } else if !on && has {
                p.targets.retain(|t| t != target);
            }
        }
    }

    // IAM: read again where it changed or was not read; kept elsewhere; dropped where it is no
    // longer read.
    let only = select(&live);
    let now: Vec<String> = iam_accounts(&live, only.as_ref());
    let was_read: BTreeSet<&str> = before
        .iam_accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    let again: Vec<String> = now
        .iter()
        .filter(|a| touched.iam.contains(*a) || !was_read.contains(a.as_str()))
        .cloned()
        .collect();
    let keep: BTreeSet<&String> = now.iter().filter(|a| !again.contains(a)).collect();
    let (roles, reads) = read_iam_of(iam, again, options, progress).await?;
    live.access_roles
        .retain(|r: &LiveAccessRole| keep.contains(&r.account_id));
    live.access_roles.extend(roles);
    live.iam_accounts
        .retain(|a: &LiveIamAccount| keep.contains(&a.account_id));
    live.iam_accounts.extend(reads);
    live.normalize();
    Ok(Ok(live))
}

//! The live-state reader: [`read_live`] turns any [`OrgApi`] into a [`LiveState`].
//!
//! Written once against the trait, it reads AWS and the in-memory organization alike, in one
//! of two ways ([`ReadOptions::scope`]).
//!
//! **The full read** (`drift`, `access`, `import`, `snapshot`: no scope). Its request budget is
//! fixed by the shape of the organization, with no call per account beyond its tags:
//! DescribeOrganization and ListRoots (the root carries the enabled policy types), then the
//! tree level by level with ListOrganizationalUnitsForParent and ListAccountsForParent per
//! parent (never ListParents per account), ListPolicies per enabled type, and finally
//! ListTagsForResource on the root (for its record of what was applied, `orgctl:applied`) and
//! per OU, account and customer-managed policy, DescribePolicy per customer-managed policy and
//! ListTargetsForPolicy per policy (FullAWSAccess included: where it is attached matters).
//!
//! **The scoped read** (`plan`, `apply`: the [`ReadScope`] of the desired state) reads what the
//! YAML manages, and nothing that grows with what it does not:
//! - DescribeOrganization, ListRoots; the root's children (ListOrganizationalUnitsForParent and
//!   ListAccountsForParent of the root) and ListPolicies per enabled type;
//! - tags of every root child OU and customer policy (ownership: a `managed-by` OU the YAML
//!   dropped is still orgctl's to delete, and a `managed-by` policy's targets are listed);
//! - the subtree of each root child the scope covers (a subtree path, an OU id of the YAML, or
//!   `managed-by`), walked as the full read walks; the other root children are *unwalked*
//!   (recorded in [`LiveScope::unwalked_ous`]). An OU id of the YAML not found there is looked
//!   up with ListParents, and the root child above it is walked too;
//! - the YAML's accounts not found: by id with DescribeAccount; by email only with one
//!   ListAccounts listing of the whole organization (the only way to find an email; the
//!   accounts it shows outside what was read are counted in [`LiveScope::unread_accounts`]);
//!   each found account is placed with ListParents, and each OU above it up to a known one with
//!   DescribeOrganizationalUnit and ListParents (those OUs are unwalked);
//! - ListTargetsForPolicy for the YAML's policies and `managed-by` customer policies (their
//!   targets outside what was read are described and placed the same way, so a plan never
//!   deletes a policy still attached elsewhere);
//! - tags of the root, of every OU and account read, DescribePolicy per customer policy.
//!   Accounts at the root and in walked subtrees can hold orgctl's roles, so their tags are read
//!   even when the YAML does not name them: the roles record (`orgctl:roles`) there is what
//!   makes `plan` read their IAM (an account the YAML drops stays at the root, and the roles of
//!   a removed grant there must still be deleted). The accounts directly under the root are
//!   thus the one term that grows with accounts the YAML does not manage (one
//!   ListTagsForResource each; few in real organizations);
//! - the other policies' attachments (FullAWSAccess, unmanaged policies) the cheaper way for
//!   the case at hand: ListPoliciesForTarget per enabled type for the root, every walked OU and
//!   every account the YAML names; or, when nothing was left unwalked and
//!   `unlisted policies × ⌈(1 + OUs + accounts) / 20⌉` is no more requests, ListTargetsForPolicy
//!   for each of them as the full read does. ListTargetsForPolicy of FullAWSAccess in a partly
//!   read organization never happens: it pages every target of the organization.
//!
//! Its budget, with pages of 20 (`pages(n) = max(1, ⌈n / 20⌉)`), `C` the root's child OUs,
//! `W` the walked OUs, `A` the accounts read, `P` the customer policies, `L` the listed
//! policies, `T` the enabled types and `Y` the accounts the YAML names:
//! `2 + pages(C) + pages(root accounts) + T·pages(policies) + C + P
//! + Σ_{o∈W} (pages(child OUs of o) + pages(accounts of o)) + Σ_{p∈L} pages(targets of p)
//! + 1 + (OUs read − C) + A + P + T·(1 + |W| + Y)` (or the listing of the unlisted policies'
//! targets, see above), plus the look-ups of YAML accounts and OUs outside the walk (one
//! DescribeAccount and ListParents each, one DescribeOrganizationalUnit and ListParents per
//! OU above them; one ListAccounts listing for accounts given by email only and not found).
//! No term counts accounts or OUs below the unwalked root children
//! (`scoped_tests::a_thousand_more_accounts_outside_what_the_yaml_manages_change_a_scoped_read_by_under_2_percent`).
//! IAM (below) adds `A_iam × (AssumeRole + ListRoles pages) + Σ roles × (3 + inline policies)`
//! with `A_iam` = grant targets + accounts carrying the roles record (+ read-role accounts with
//! a plan role), each once
//! (`scoped_tests::a_scoped_read_of_the_issues_organization_stays_under_400_requests`).
//!
//! Independent reads run concurrently, at most [`ReadOptions::concurrency`] at a time.
//!
//! AWS-managed policies are not described and their tags are not read (AWS refuses to tag
//! them): their `content` in the live state is empty.
//!
//! IAM ([`read_iam_in`]) costs, per member account read, one AssumeRole (two when the read role
//! is refused and the member role is tried) and the ListRoles pages (1,000 roles a page), and
//! per role under `/orgctl/` there GetRole, ListAttachedRolePolicies, ListRolePolicies and one
//! GetRolePolicy per inline policy. `plan` and `apply` read only the accounts
//! `orgctl_planner::iam_accounts` selects ([`read_all_selecting`]: grant targets, accounts
//! carrying the roles record `orgctl:roles`, and with a plan role the accounts that want the
//! read role); `drift`, `access`, `import` and `snapshot` every ACTIVE member account.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::StreamExt;
use orgctl_model::{
    AccountStatus, IamRead, LiveAccessRole, LiveAccount, LiveIamAccount, LiveOrganization, LiveOu,
    LivePolicy, LiveScope, LiveState, PolicyType, RECORD_TAG, ROLE_PATH, ReadScope, Tags,
    canonical_json_str, is_managed,
};

use crate::api::{AccountInfo, ApiError, ApiResult, OrgApi, OrgInfo, OuInfo, PolicySummary, codes};
use crate::iam::{IamApi, codes as iam_codes};

/// How to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// The most requests in flight at once (at least 1).
    pub concurrency: usize,
    /// When set, the read stops right after DescribeOrganization (its first request) unless
    /// the organization's management account is this one: a wrong organization is never read.
    pub expect_management_account: Option<String>,
    /// What to read: `None` reads the whole organization (`drift`, `access`, `import`,
    /// `snapshot`); a scope reads what the YAML manages (`plan`, `apply`), see the
    /// [module documentation](self).
    pub scope: Option<ReadScope>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            expect_management_account: None,
            scope: None,
        }
    }
}

/// Where a read is, for progress reports: the phase and its counts so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadProgress {
    /// Walking the tree level by level.
    Tree {
        /// Tree levels fully listed.
        levels: usize,
        /// OUs found so far.
        ous: usize,
        /// Accounts found so far.
        accounts: usize,
    },
    /// Reading tags, policy documents and attachments.
    Details {
        /// Requests answered.
        done: usize,
        /// Requests in this phase.
        total: usize,
    },
    /// Reading IAM roles under `/orgctl/` in the member accounts.
    Iam {
        /// Accounts read (or found unreadable).
        done: usize,
        /// ACTIVE member accounts.
        total: usize,
    },
}

impl std::fmt::Display for ReadProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadProgress::Tree {
                levels,
                ous,
                accounts,
            } => write!(
                f,
                "listing OUs and accounts: {levels} level{} listed, {ous} OU{} and {accounts} account{} found",
                if *levels == 1 { "" } else { "s" },
                if *ous == 1 { "" } else { "s" },
                if *accounts == 1 { "" } else { "s" },
            ),
            ReadProgress::Details { done, total } => write!(
                f,
                "reading tags, policies and attachments: {done}/{total} requests done"
            ),
            ReadProgress::Iam { done, total } => write!(
                f,
                "reading IAM roles under /orgctl/ in member accounts: {done}/{total} accounts done"
            ),
        }
    }
}

/// Why the organization could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A call failed (after the retries of the API in use, if any).
    #[error("reading the organization failed: {0}")]
    Api(#[from] ApiError),
    /// ListRoots returned no root.
    #[error(
        "the organization has no root (ListRoots returned nothing); check that the credentials \
         belong to the organization's management account"
    )]
    NoRoot,
    /// The organization is not the expected one.
    #[error(
        "wrong organization: the desired state pins management account {expected}, but these \
         credentials reach the organization of management account {found}; nothing was read or \
         changed"
    )]
    WrongOrganization {
        /// The pinned management account.
        expected: String,
        /// The organization's management account.
        found: String,
    },
    /// The answers contradict each other, because the organization changed during the read.
    #[error("the organization changed while it was being read ({0}); run the command again")]
    ChangedDuringRead(String),
}

enum Req {
    Ous(String),
    Accounts(String),
    Policies(PolicyType),
    Tags(String),
    Describe(String),
    Targets(String),
    DescribeAccount(String),
    DescribeOu(String),
    Parent(String),
    PoliciesFor(String, PolicyType),
}

enum Resp {
    Ous(String, Vec<OuInfo>),
    Accounts(String, Vec<AccountInfo>),
    Policies(Vec<PolicySummary>),
    Tags(String, Tags),
    Describe(String, String),
    Targets(String, Vec<String>),
    /// `None`: no such account (any more).
    DescribeAccount(Option<AccountInfo>),
    /// `None`: no such OU (any more).
    DescribeOu(String, Option<OuInfo>),
    /// `None`: no such child (any more).
    Parent(String, Option<String>),
    PoliciesFor(String, Vec<String>),
}

/// Whether an error says the object asked about does not exist (deleted meanwhile, or an id
/// the YAML gives that is not in the organization).
fn is_gone(e: &ApiError) -> bool {
    [
        codes::ACCOUNT_NOT_FOUND,
        codes::OU_NOT_FOUND,
        codes::CHILD_NOT_FOUND,
        codes::TARGET_NOT_FOUND,
    ]
    .iter()
    .any(|c| e.is(c))
}

fn unless_gone<T>(r: ApiResult<T>) -> ApiResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn run<A: OrgApi>(api: &A, req: Req) -> ApiResult<Resp> {
    Ok(match req {
        Req::Ous(p) => {
            let ous = api.list_ous_for_parent(&p).await?;
            Resp::Ous(p, ous)
        }
        Req::Accounts(p) => {
            let accounts = api.list_accounts_for_parent(&p).await?;
            Resp::Accounts(p, accounts)
        }
        Req::Policies(t) => Resp::Policies(api.list_policies(t).await?),
        Req::Tags(id) => {
            let tags = api.list_tags(&id).await?;
            Resp::Tags(id, tags)
        }
        Req::Describe(id) => {
            let content = api.describe_policy(&id).await?;
            Resp::Describe(id, content)
        }
        Req::Targets(id) => {
            let targets = api.list_targets_for_policy(&id).await?;
            Resp::Targets(id, targets)
        }
        Req::DescribeAccount(id) => {
            let info = unless_gone(api.describe_account(&id).await)?;
            Resp::DescribeAccount(info)
        }
        Req::DescribeOu(id) => {
            let info = unless_gone(api.describe_ou(&id).await)?;
            Resp::DescribeOu(id, info)
        }
        Req::Parent(id) => {
            let parent = unless_gone(api.list_parent(&id).await)?;
            Resp::Parent(id, parent)
        }
        Req::PoliciesFor(id, t) => {
            let policies = api.list_policies_for_target(&id, t).await?;
            Resp::PoliciesFor(id, policies)
        }
    })
}

/// Runs independent requests, at most `limit` at a time; the first error ends the batch.
/// `answered(done)` is called after each answer.
async fn run_all<A: OrgApi>(
    api: &A,
    reqs: Vec<Req>,
    limit: usize,
    answered: &(dyn Fn(usize) + Sync),
) -> ApiResult<Vec<Resp>> {
    let mut out = Vec::with_capacity(reqs.len());
    let mut stream = futures::stream::iter(reqs)
        .map(|r| run(api, r))
        .buffer_unordered(limit.max(1));
    while let Some(r) = stream.next().await {
        out.push(r?);
        answered(out.len());
    }
    Ok(out)
}

/// DescribeOrganization, refusing an organization other than the pinned one
/// ([`ReadOptions::expect_management_account`]): the first request of [`read_live`], and of
/// anything (`apply`'s lease) that must not look further into a wrong organization.
pub async fn check_organization<A: OrgApi>(
    api: &A,
    options: &ReadOptions,
) -> Result<OrgInfo, ReadError> {
    let org = api.describe_organization().await?;
    match &options.expect_management_account {
        Some(expected) if *expected != org.management_account_id => {
            Err(ReadError::WrongOrganization {
                expected: expected.clone(),
                found: org.management_account_id,
            })
        }
        _ => Ok(org),
    }
}

/// Reads the whole organization. See the [module documentation](self) for the calls it makes.
pub async fn read_live<A: OrgApi>(api: &A, options: &ReadOptions) -> Result<LiveState, ReadError> {
    read_live_reporting(api, options, &|_| {}).await
}

/// [`read_live`], calling `progress` at each step (after each tree level, and after each
/// answer of the last phase).
pub async fn read_live_reporting<A: OrgApi>(
    api: &A,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<LiveState, ReadError> {
    let limit = options.concurrency.max(1);
    let org = check_organization(api, options).await?;
    let root = api
        .list_roots()
        .await?
        .into_iter()
        .next()
        .ok_or(ReadError::NoRoot)?;
    let enabled: BTreeSet<PolicyType> = root.enabled_policy_types.iter().copied().collect();
    let mut walker = Walker {
        api,
        root: root.id.clone(),
        limit,
        progress,
        levels: 0,
        ous: HashMap::new(),
        accounts: HashMap::new(),
    };
    progress(ReadProgress::Tree {
        levels: 0,
        ous: 0,
        accounts: 0,
    });
    // The policy lists ride along with the first level.
    let policy_lists: Vec<Req> = enabled.iter().map(|t| Req::Policies(*t)).collect();
    let mut summaries: Vec<PolicySummary> = Vec::new();
    let collect = |resps: Vec<Resp>, summaries: &mut Vec<PolicySummary>| {
        for r in resps {
            if let Resp::Policies(list) = r {
                summaries.extend(list);
            }
        }
    };
    let Some(scope) = &options.scope else {
        // The full read: the whole tree, every tag, every policy's targets.
        let resps = walker
            .walk(vec![root.id.clone()], policy_lists, false)
            .await?;
        collect(resps, &mut summaries);
        let Walker { ous, accounts, .. } = walker;
        return details(
            api,
            options,
            progress,
            Gathered {
                org,
                root: root.id,
                enabled,
                ous,
                accounts,
                summaries,
                early_tags: HashMap::new(),
                targets: HashMap::new(),
                per_policy: true,
                per_target: Vec::new(),
                scope: None,
            },
        )
        .await;
    };

    // The scoped read. The root's children, OUs and accounts, are all read (an account there
    // may hold orgctl's roles: a dropped account stays at the root).
    let resps = walker
        .walk(vec![root.id.clone()], policy_lists, true)
        .await?;
    let mut unread_accounts = 0;
    collect(resps, &mut summaries);
    summaries.sort_by(|a, b| a.id.cmp(&b.id));
    summaries.dedup_by(|a, b| a.id == b.id);
    // Ownership decides what else is read: the tags of the root's children (a managed OU
    // not in the YAML is walked, its subtree may hold OUs to delete) and of customer policies
    // (a managed policy's targets are listed).
    let mut children: Vec<String> = walker.ous.keys().cloned().collect();
    children.sort();
    let mut reqs: Vec<Req> = children.iter().map(|id| Req::Tags(id.clone())).collect();
    reqs.extend(
        summaries
            .iter()
            .filter(|p| !p.aws_managed)
            .map(|p| Req::Tags(p.id.clone())),
    );
    let mut early_tags: HashMap<String, Tags> = HashMap::new();
    for r in run_all(api, reqs, limit, &|_| {}).await? {
        if let Resp::Tags(id, tags) = r {
            early_tags.insert(id, tags);
        }
    }
    let managed = |id: &str| early_tags.get(id).is_some_and(is_managed);
    let mut unwalked: BTreeSet<String> = BTreeSet::new();
    let mut starts = Vec::new();
    for id in &children {
        let name = walker
            .ous
            .get(id)
            .map(|o| o.name.as_str())
            .unwrap_or_default();
        if scope.walks_root_child(name, id) || managed(id) {
            starts.push(id.clone());
        } else {
            unwalked.insert(id.clone());
        }
    }
    walker.walk(starts, Vec::new(), false).await?;
    // An OU id of the YAML found under a root child that was not walked (a replacement: the
    // OU moves to where the YAML says): that root child is walked too.
    let mut missing: Vec<String> = scope
        .ou_ids
        .iter()
        .filter(|id| !walker.ous.contains_key(*id))
        .cloned()
        .collect();
    while let Some(mut child) = missing.pop() {
        let top = loop {
            match unless_gone(api.list_parent(&child).await)? {
                None => break None,
                Some(parent) if parent == root.id => break None,
                Some(parent) if walker.ous.contains_key(&parent) => break Some(parent),
                Some(parent) => child = parent,
            }
        };
        if let Some(top) = top
            && unwalked.remove(&top)
        {
            walker.walk(vec![top], Vec::new(), false).await?;
            missing.retain(|id| !walker.ous.contains_key(id));
        }
    }

    // The YAML's accounts outside what was walked: by id (DescribeAccount), by email (one
    // listing of every account); and the attachments of the YAML's and orgctl's policies.
    let wanted_policy =
        |p: &PolicySummary| !p.aws_managed && (scope.policies.contains(&p.name) || managed(&p.id));
    let listed_targets: Vec<String> = summaries
        .iter()
        .filter(|p| wanted_policy(p))
        .map(|p| p.id.clone())
        .collect();
    let mut reqs: Vec<Req> = scope
        .account_ids
        .iter()
        .filter(|id| !walker.accounts.contains_key(*id))
        .map(|id| Req::DescribeAccount(id.clone()))
        .collect();
    reqs.extend(listed_targets.iter().map(|id| Req::Targets(id.clone())));
    let mut to_place: Vec<AccountInfo> = Vec::new();
    let mut targets: HashMap<String, Vec<String>> = HashMap::new();
    for r in run_all(api, reqs, limit, &|_| {}).await? {
        match r {
            Resp::DescribeAccount(Some(info)) => to_place.push(info),
            Resp::Targets(id, t) => {
                targets.insert(id, t);
            }
            _ => {}
        }
    }
    let emails: HashSet<String> = walker
        .accounts
        .values()
        .map(|a| a.email.to_lowercase())
        .chain(to_place.iter().map(|a| a.email.to_lowercase()))
        .collect();
    let mut listed_all = None;
    if scope.account_emails.iter().any(|e| !emails.contains(e)) {
        let all = api.list_accounts().await?;
        listed_all = Some(all.len());
        let placed: HashSet<String> = to_place.iter().map(|a| a.id.clone()).collect();
        for a in all {
            if !walker.accounts.contains_key(&a.id)
                && !placed.contains(&a.id)
                && scope.account_emails.contains(&a.email.to_lowercase())
            {
                to_place.push(a);
            }
        }
    }
    // Targets of those policies outside what was read: accounts are described and placed,
    // OUs placed (orgctl's policies attached elsewhere are not deleted, and the plan says where).
    let mut unknown_accounts = Vec::new();
    let mut unknown_ous = Vec::new();
    for t in targets.values().flatten() {
        if *t == root.id || walker.ous.contains_key(t) || walker.accounts.contains_key(t) {
            continue;
        }
        if t.starts_with("ou-") {
            unknown_ous.push(t.clone());
        } else if !to_place.iter().any(|a| a.id == *t) {
            unknown_accounts.push(t.clone());
        }
    }
    unknown_accounts.sort();
    unknown_accounts.dedup();
    let reqs = unknown_accounts
        .into_iter()
        .map(Req::DescribeAccount)
        .collect();
    for r in run_all(api, reqs, limit, &|_| {}).await? {
        if let Resp::DescribeAccount(Some(info)) = r {
            to_place.push(info);
        }
    }
    walker.place(to_place, unknown_ous, &mut unwalked).await?;
    if let Some(all) = listed_all {
        unread_accounts = all.saturating_sub(walker.accounts.len());
    }

    // What a plan changes attachments on: the root, the walked OUs and the YAML's accounts.
    // The other policies' attachments there (FullAWSAccess, policies orgctl does not manage)
    // are read the cheaper way: per target and type, unless the read left nothing unwalked
    // and listing those policies' targets (pages of 20 of at most every target) costs less.
    let mut per_target: Vec<String> = vec![root.id.clone()];
    per_target.extend(
        walker
            .ous
            .keys()
            .filter(|id| !unwalked.contains(*id))
            .cloned(),
    );
    per_target.extend(
        walker
            .accounts
            .values()
            .filter(|a| scope.names_account(&a.id, &a.email))
            .map(|a| a.id.clone()),
    );
    let unlisted = summaries.len() - targets.len();
    let everything = 1 + walker.ous.len() + walker.accounts.len();
    let per_policy = unwalked.is_empty()
        && unlisted * everything.div_ceil(20) <= enabled.len() * per_target.len();
    if per_policy {
        per_target.clear();
    }
    let Walker { ous, accounts, .. } = walker;
    details(
        api,
        options,
        progress,
        Gathered {
            org,
            root: root.id,
            enabled,
            ous,
            accounts,
            summaries,
            early_tags,
            targets,
            per_policy,
            per_target,
            // A read that left nothing out (everything walked, every policy's targets listed)
            // is the full read: its live state says nothing of a scope.
            scope: (!(per_policy && unwalked.is_empty() && unread_accounts == 0)).then(|| {
                LiveScope {
                    unread_accounts,
                    unwalked_ous: unwalked.into_iter().collect(),
                }
            }),
        },
    )
    .await
}

/// The tree as walked so far.
struct Walker<'a, A> {
    api: &'a A,
    root: String,
    limit: usize,
    progress: &'a (dyn Fn(ReadProgress) + Sync),
    levels: usize,
    ous: HashMap<String, LiveOu>,
    accounts: HashMap<String, LiveAccount>,
}

impl<A: OrgApi> Walker<'_, A> {
    /// Lists the OUs and accounts below `level`, level by level (only the first level when
    /// `one_level`); `extra` requests ride along with the
    /// first level and their answers are returned.
    async fn walk(
        &mut self,
        mut level: Vec<String>,
        mut extra: Vec<Req>,
        one_level: bool,
    ) -> Result<Vec<Resp>, ReadError> {
        let mut others = Vec::new();
        while !level.is_empty() {
            let mut reqs = std::mem::take(&mut extra);
            for parent in &level {
                reqs.push(Req::Ous(parent.clone()));
                reqs.push(Req::Accounts(parent.clone()));
            }
            let mut next = Vec::new();
            for resp in run_all(self.api, reqs, self.limit, &|_| {}).await? {
                match resp {
                    Resp::Ous(parent, children) => {
                        for ou in children {
                            next.push(ou.id.clone());
                            let live = LiveOu {
                                id: ou.id.clone(),
                                name: ou.name,
                                parent_id: parent.clone(),
                                tags: Tags::new(),
                            };
                            if self.ous.insert(ou.id.clone(), live).is_some() || ou.id == self.root
                            {
                                return Err(ReadError::ChangedDuringRead(format!(
                                    "OU {} was listed twice",
                                    ou.id
                                )));
                            }
                        }
                    }
                    Resp::Accounts(parent, children) => {
                        for a in children {
                            let id = a.id.clone();
                            let live = LiveAccount {
                                id: a.id,
                                name: a.name,
                                email: a.email,
                                parent_id: parent.clone(),
                                status: a.status,
                                tags: Tags::new(),
                            };
                            if self.accounts.insert(id.clone(), live).is_some() {
                                return Err(ReadError::ChangedDuringRead(format!(
                                    "account {id} was listed under two parents"
                                )));
                            }
                        }
                    }
                    other => others.push(other),
                }
            }
            next.sort();
            level = if one_level { Vec::new() } else { next };
            self.levels += 1;
            (self.progress)(ReadProgress::Tree {
                levels: self.levels,
                ous: self.ous.len(),
                accounts: self.accounts.len(),
            });
        }
        Ok(others)
    }

    /// Places accounts and OUs found outside the walked subtrees: ListParents up to an OU
    /// already known (or the root), describing each OU on the way; those OUs are `unwalked`
    /// (their other children were not listed).
    async fn place(
        &mut self,
        accounts: Vec<AccountInfo>,
        ous: Vec<String>,
        unwalked: &mut BTreeSet<String>,
    ) -> Result<(), ReadError> {
        let mut reqs: Vec<Req> = accounts.iter().map(|a| Req::Parent(a.id.clone())).collect();
        let mut pending: Vec<String> = Vec::new();
        let mut infos: HashMap<String, AccountInfo> =
            accounts.into_iter().map(|a| (a.id.clone(), a)).collect();
        for r in run_all(self.api, reqs, self.limit, &|_| {}).await? {
            if let Resp::Parent(id, Some(parent)) = r
                && let Some(a) = infos.remove(&id)
            {
                pending.push(parent.clone());
                self.accounts.entry(id).or_insert(LiveAccount {
                    id: a.id,
                    name: a.name,
                    email: a.email,
                    parent_id: parent,
                    status: a.status,
                    tags: Tags::new(),
                });
            }
        }
        pending.extend(ous);
        loop {
            pending.retain(|id| *id != self.root && !self.ous.contains_key(id));
            pending.sort();
            pending.dedup();
            if pending.is_empty() {
                return Ok(());
            }
            reqs = Vec::new();
            for id in &pending {
                reqs.push(Req::DescribeOu(id.clone()));
                reqs.push(Req::Parent(id.clone()));
            }
            let mut names = HashMap::new();
            let mut parents = HashMap::new();
            for r in run_all(self.api, reqs, self.limit, &|_| {}).await? {
                match r {
                    Resp::DescribeOu(id, Some(info)) => {
                        names.insert(id, info.name);
                    }
                    Resp::Parent(id, Some(parent)) => {
                        parents.insert(id, parent);
                    }
                    _ => {}
                }
            }
            let mut next = Vec::new();
            for id in std::mem::take(&mut pending) {
                if let (Some(name), Some(parent)) = (names.remove(&id), parents.remove(&id)) {
                    next.push(parent.clone());
                    unwalked.insert(id.clone());
                    self.ous.insert(
                        id.clone(),
                        LiveOu {
                            id,
                            name,
                            parent_id: parent,
                            tags: Tags::new(),
                        },
                    );
                }
            }
            pending = next;
        }
    }
}

/// What the tree phase found, for [`details`].
struct Gathered {
    org: OrgInfo,
    root: String,
    enabled: BTreeSet<PolicyType>,
    ous: HashMap<String, LiveOu>,
    accounts: HashMap<String, LiveAccount>,
    summaries: Vec<PolicySummary>,
    /// Tags already read (a scoped read's root children and customer policies).
    early_tags: HashMap<String, Tags>,
    /// Targets already listed, by policy (a scoped read's YAML and orgctl policies).
    targets: HashMap<String, Vec<String>>,
    /// Whether the other policies' targets are listed (ListTargetsForPolicy) rather than the
    /// policies of each target in `per_target`.
    per_policy: bool,
    /// Targets whose policies are listed per target (a scoped read).
    per_target: Vec<String>,
    scope: Option<LiveScope>,
}

/// Tags, documents and attachments, then the live state. A full read lists every policy's
/// targets; a scoped one the policies of each target in `per_target` for the policies whose
/// targets it did not list.
async fn details<A: OrgApi>(
    api: &A,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
    g: Gathered,
) -> Result<LiveState, ReadError> {
    let Gathered {
        org,
        root,
        enabled,
        mut ous,
        mut accounts,
        mut summaries,
        early_tags,
        mut targets,
        per_policy,
        per_target,
        scope,
    } = g;
    let limit = options.concurrency.max(1);
    let mut reqs = Vec::with_capacity(1 + ous.len() + accounts.len() + 3 * summaries.len());
    // The root's tags, for the record of what was applied there (the lease is left out).
    reqs.push(Req::Tags(root.clone()));
    let mut ou_ids: Vec<&String> = ous
        .keys()
        .filter(|id| !early_tags.contains_key(*id))
        .collect();
    ou_ids.sort();
    reqs.extend(ou_ids.into_iter().map(|id| Req::Tags(id.clone())));
    let mut account_ids: Vec<&String> = accounts.keys().collect();
    account_ids.sort();
    reqs.extend(account_ids.into_iter().map(|id| Req::Tags(id.clone())));
    summaries.sort_by(|a, b| a.id.cmp(&b.id));
    summaries.dedup_by(|a, b| a.id == b.id);
    for p in &summaries {
        if !p.aws_managed {
            if !early_tags.contains_key(&p.id) {
                reqs.push(Req::Tags(p.id.clone()));
            }
            reqs.push(Req::Describe(p.id.clone()));
        }
        if per_policy && !targets.contains_key(&p.id) {
            reqs.push(Req::Targets(p.id.clone()));
        }
    }
    for t in &per_target {
        reqs.extend(enabled.iter().map(|ty| Req::PoliciesFor(t.clone(), *ty)));
    }
    let mut policies: BTreeMap<String, LivePolicy> = summaries
        .into_iter()
        .map(|p| {
            let live = LivePolicy {
                id: p.id.clone(),
                name: p.name,
                policy_type: p.policy_type,
                description: p.description,
                content: String::new(),
                aws_managed: p.aws_managed,
                tags: Tags::new(),
                targets: Vec::new(),
            };
            (p.id, live)
        })
        .collect();
    let mut root_record = None;
    let total = reqs.len();
    progress(ReadProgress::Details { done: 0, total });
    let answered = |done| progress(ReadProgress::Details { done, total });
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    let answers = run_all(api, reqs, limit, &answered).await?;
    let tagged = early_tags.into_iter().map(|(id, t)| Resp::Tags(id, t));
    for resp in tagged.chain(answers) {
        match resp {
            Resp::Tags(id, mut tags) => {
                if id == root {
                    root_record = tags.remove(RECORD_TAG);
                } else if let Some(ou) = ous.get_mut(&id) {
                    ou.tags = tags;
                } else if let Some(a) = accounts.get_mut(&id) {
                    a.tags = tags;
                } else if let Some(p) = policies.get_mut(&id) {
                    p.tags = tags;
                }
            }
            Resp::Describe(id, content) => {
                if let Some(p) = policies.get_mut(&id) {
                    p.content = content;
                }
            }
            Resp::Targets(id, t) => {
                targets.insert(id, t);
            }
            Resp::PoliciesFor(target, ids) => {
                for id in ids {
                    found.entry(id).or_default().push(target.clone());
                }
            }
            _ => {}
        }
    }
    for (id, p) in &mut policies {
        p.targets = match targets.remove(id) {
            Some(t) => t,
            None => found.remove(id).unwrap_or_default(),
        };
    }

    // Attachments to something the walk did not find are left out: an OU deleted a moment ago
    // (AWS is eventually consistent, and the emulator keeps such attachments for good) or an
    // account created during the read. Nothing can be planned for a target that is not in the
    // tree; the next run sees whatever was created meanwhile.
    let known: HashSet<String> = std::iter::once(root.clone())
        .chain(ous.keys().cloned())
        .chain(accounts.keys().cloned())
        .collect();
    for p in policies.values_mut() {
        p.targets.retain(|t| {
            let keep = known.contains(t);
            if !keep {
                tracing::debug!(policy = %p.id, target = %t, "attachment to a target outside the tree left out");
            }
            keep
        });
    }

    let mut live = LiveState {
        organization: LiveOrganization {
            id: org.id,
            management_account_id: org.management_account_id,
            root_id: root,
            enabled_policy_types: enabled,
            root_record,
        },
        ous: ous.into_values().collect(),
        accounts: accounts.into_values().collect(),
        policies: policies.into_values().collect(),
        access_roles: Vec::new(),
        iam_accounts: Vec::new(),
        scope,
    };
    live.normalize();
    Ok(live)
}

/// Reads the organization ([`read_live_reporting`]) and then IAM in all its member accounts
/// ([`read_iam`]): the full read of `drift`, `access`, `import` and `snapshot`.
pub async fn read_all_reporting<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<LiveState, ReadError> {
    read_all_selecting(api, iam, options, &|_| None, progress).await
}

/// Reads the organization ([`read_live_reporting`]) and then IAM in the member accounts
/// `select` picks from that read ([`read_iam_in`]; `None` is every member account). `plan` and
/// `apply` select with `orgctl_planner::iam_accounts`: grant targets, accounts carrying the roles
/// record (`orgctl:roles`) and, with a plan role, the accounts that want the read role.
pub async fn read_all_selecting<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    options: &ReadOptions,
    select: &(dyn Fn(&LiveState) -> Option<BTreeSet<String>> + Sync),
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<LiveState, ReadError> {
    let mut live = read_live_reporting(api, options, progress).await?;
    let only = select(&live);
    read_iam_in(iam, &mut live, only.as_ref(), options, progress).await?;
    Ok(live)
}

/// Reads IAM in every ACTIVE member account of `live` ([`read_iam_in`] with no selection).
pub async fn read_iam<I: IamApi>(
    iam: &I,
    live: &mut LiveState,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<(), ReadError> {
    read_iam_in(iam, live, None, options, progress).await
}

/// Reads IAM in the ACTIVE member accounts of `live` (never the management account) that are
/// in `only` (every one when `None`), and fills `live.access_roles` and `live.iam_accounts`
/// (accounts not read have no entry there). Per account: [`IamApi::connect`] (STS
/// AssumeRole: the read role first when configured, else or then the member role), ListRoles
/// with PathPrefix `/orgctl/`, then per role under that path GetRole (tags, boundary),
/// ListAttachedRolePolicies, ListRolePolicies and GetRolePolicy per inline policy. Accounts
/// are read concurrently, at most [`ReadOptions::concurrency`] at a time (each account's
/// requests one after the other).
///
/// An account where no role can be assumed, or where IAM refuses a read (`AccessDenied`), is
/// [`IamRead::Unreadable`] with the reason: a warning for the plan, not a failed read. Any
/// other failure (after the retries of the API in use) fails the read. A role deleted between
/// ListRoles and its GetRole is left out.
pub async fn read_iam_in<I: IamApi>(
    iam: &I,
    live: &mut LiveState,
    only: Option<&BTreeSet<String>>,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<(), ReadError> {
    let accounts = iam_accounts(live, only);
    let (roles, reads) = read_iam_of(iam, accounts, options, progress).await?;
    live.access_roles = roles;
    live.iam_accounts = reads;
    live.normalize();
    Ok(())
}

/// The member accounts of `live` whose IAM [`read_iam_in`] reads: the ACTIVE ones other than the
/// management account, in `only` when given.
fn iam_accounts(live: &LiveState, only: Option<&BTreeSet<String>>) -> Vec<String> {
    let management = &live.organization.management_account_id;
    live.accounts
        .iter()
        .filter(|a| a.id != *management && a.status == AccountStatus::Active)
        .filter(|a| only.is_none_or(|only| only.contains(&a.id)))
        .map(|a| a.id.clone())
        .collect()
}

/// Reads IAM in `accounts` (see [`read_iam`]): their roles under [`ROLE_PATH`] and how each
/// account was read.
async fn read_iam_of<I: IamApi>(
    iam: &I,
    accounts: Vec<String>,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<(Vec<LiveAccessRole>, Vec<LiveIamAccount>), ReadError> {
    let total = accounts.len();
    progress(ReadProgress::Iam { done: 0, total });
    let mut stream = futures::stream::iter(accounts)
        .map(|account| async move {
            let read = read_account(iam, &account).await;
            (account, read)
        })
        .buffer_unordered(options.concurrency.max(1));
    let mut done = 0;
    let mut roles = Vec::new();
    let mut reads = Vec::new();
    while let Some((account, result)) = stream.next().await {
        let (read, found) = match result {
            Ok(ok) => ok,
            Err(e)
                if (e.operation == crate::iam::operations::ASSUME_ROLE && !e.is_retryable())
                    || e.is(iam_codes::ACCESS_DENIED) =>
            {
                (
                    IamRead::Unreadable {
                        reason: e.to_string(),
                    },
                    Vec::new(),
                )
            }
            Err(e) => return Err(e.into()),
        };
        roles.extend(found);
        reads.push(LiveIamAccount {
            account_id: account,
            read,
        });
        done += 1;
        progress(ReadProgress::Iam { done, total });
    }
    Ok((roles, reads))
}

/// A policy document as the live state keeps it: canonical JSON (the text itself when it is
/// not JSON, which IAM does not allow).
fn canonical(document: &str) -> String {
    canonical_json_str(document).unwrap_or_else(|| document.to_owned())
}

async fn read_account<I: IamApi>(
    iam: &I,
    account: &str,
) -> ApiResult<(IamRead, Vec<LiveAccessRole>)> {
    let read = iam.connect(account).await?;
    let mut out = Vec::new();
    for summary in iam.list_roles(account, ROLE_PATH).await? {
        if !summary.path.starts_with(ROLE_PATH) {
            continue;
        }
        let name = summary.name.clone();
        let gone = |e: &ApiError| e.is(iam_codes::NO_SUCH_ENTITY);
        let role = match iam.get_role(account, &name).await {
            Ok(r) => r,
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(e),
        };
        let attached = match iam.list_attached_policies(account, &name).await {
            Ok(a) => a,
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(e),
        };
        let names = match iam.list_inline_policies(account, &name).await {
            Ok(n) => n,
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(e),
        };
        let mut inline = BTreeMap::new();
        for policy in names {
            match iam.get_inline_policy(account, &name, &policy).await {
                Ok(doc) => {
                    inline.insert(policy, canonical(&doc));
                }
                // Deleted meanwhile: the role is read without it.
                Err(e) if gone(&e) => {}
                Err(e) => return Err(e),
            }
        }
        out.push(LiveAccessRole {
            account_id: account.to_owned(),
            role_name: role.summary.name,
            path: role.summary.path,
            trust_policy: canonical(&role.summary.trust_policy),
            description: role.summary.description,
            max_session_secs: role.summary.max_session_secs,
            managed_policies: attached.into_iter().map(|p| p.arn).collect(),
            inline_policies: inline,
            permissions_boundary: role.permissions_boundary,
            tags: role.tags,
        });
    }
    Ok((read, out))
}

mod reread;
pub use reread::{Aspects, Touched, reread, reread_selecting};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod iam_tests;

#[cfg(test)]
mod scoped_tests;

#[cfg(test)]
mod reread_tests;

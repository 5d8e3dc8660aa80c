//! The live-state reader: [`read_live`] turns any [`OrgApi`] into a [`LiveState`].
//!
//! Written once against the trait, it reads AWS and the in-memory organization alike. Its
//! request budget is fixed by the shape of the organization, with no call per account beyond
//! its tags: DescribeOrganization and ListRoots (the root carries the enabled policy types),
//! then the tree level by level with ListOrganizationalUnitsForParent and
//! ListAccountsForParent per parent (never ListParents per account), ListPolicies per enabled
//! type, and finally ListTagsForResource on the root (for its record of what was applied,
//! `orgctl:applied`) and per OU, account and customer-managed policy,
//! DescribePolicy per customer-managed policy and ListTargetsForPolicy per policy (FullAWSAccess
//! included: where it is attached matters). Independent reads run concurrently, at most
//! [`ReadOptions::concurrency`] at a time.
//!
//! AWS-managed policies are not described and their tags are not read (AWS refuses to tag
//! them): their `content` in the live state is empty.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::StreamExt;
use orgctl_model::{
    AccountStatus, IamRead, LiveAccessRole, LiveAccount, LiveIamAccount, LiveOrganization, LiveOu,
    LivePolicy, LiveState, PolicyType, RECORD_TAG, ROLE_PATH, Tags, canonical_json_str,
};

use crate::api::{AccountInfo, ApiError, ApiResult, OrgApi, OrgInfo, OuInfo, PolicySummary};
use crate::iam::{IamApi, codes as iam_codes};

/// How to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// The most requests in flight at once (at least 1).
    pub concurrency: usize,
    /// When set, the read stops right after DescribeOrganization (its first request) unless
    /// the organization's management account is this one: a wrong organization is never read.
    pub expect_management_account: Option<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            expect_management_account: None,
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
}

enum Resp {
    Ous(String, Vec<OuInfo>),
    Accounts(String, Vec<AccountInfo>),
    Policies(Vec<PolicySummary>),
    Tags(String, Tags),
    Describe(String, String),
    Targets(String, Vec<String>),
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

    let mut ous: HashMap<String, LiveOu> = HashMap::new();
    let mut accounts: HashMap<String, LiveAccount> = HashMap::new();
    let mut summaries: Vec<PolicySummary> = Vec::new();

    // The tree, level by level; the policy lists ride along with the first level.
    let mut reqs: Vec<Req> = enabled.iter().map(|t| Req::Policies(*t)).collect();
    let mut level = vec![root.id.clone()];
    let mut levels = 0;
    progress(ReadProgress::Tree {
        levels,
        ous: 0,
        accounts: 0,
    });
    while !level.is_empty() {
        for parent in &level {
            reqs.push(Req::Ous(parent.clone()));
            reqs.push(Req::Accounts(parent.clone()));
        }
        let mut next = Vec::new();
        for resp in run_all(api, std::mem::take(&mut reqs), limit, &|_| {}).await? {
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
                        if ous.insert(ou.id.clone(), live).is_some() || ou.id == root.id {
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
                        if accounts.insert(id.clone(), live).is_some() {
                            return Err(ReadError::ChangedDuringRead(format!(
                                "account {id} was listed under two parents"
                            )));
                        }
                    }
                }
                Resp::Policies(list) => summaries.extend(list),
                _ => {}
            }
        }
        next.sort();
        level = next;
        levels += 1;
        progress(ReadProgress::Tree {
            levels,
            ous: ous.len(),
            accounts: accounts.len(),
        });
    }

    // Tags, documents and attachments.
    let mut reqs = Vec::with_capacity(1 + ous.len() + accounts.len() + 3 * summaries.len());
    // The root's tags, for the record of what was applied there (the lease is left out).
    reqs.push(Req::Tags(root.id.clone()));
    let mut ou_ids: Vec<&String> = ous.keys().collect();
    ou_ids.sort();
    reqs.extend(ou_ids.into_iter().map(|id| Req::Tags(id.clone())));
    let mut account_ids: Vec<&String> = accounts.keys().collect();
    account_ids.sort();
    reqs.extend(account_ids.into_iter().map(|id| Req::Tags(id.clone())));
    summaries.sort_by(|a, b| a.id.cmp(&b.id));
    summaries.dedup_by(|a, b| a.id == b.id);
    for p in &summaries {
        if !p.aws_managed {
            reqs.push(Req::Tags(p.id.clone()));
            reqs.push(Req::Describe(p.id.clone()));
        }
        reqs.push(Req::Targets(p.id.clone()));
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
    for resp in run_all(api, reqs, limit, &answered).await? {
        match resp {
            Resp::Tags(id, mut tags) => {
                if id == root.id {
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
            Resp::Targets(id, targets) => {
                if let Some(p) = policies.get_mut(&id) {
                    p.targets = targets;
                }
            }
            _ => {}
        }
    }

    // Attachments to something the walk did not find are left out: an OU deleted a moment ago
    // (AWS is eventually consistent, and the emulator keeps such attachments for good) or an
    // account created during the read. Nothing can be planned for a target that is not in the
    // tree; the next run sees whatever was created meanwhile.
    let known: HashSet<String> = std::iter::once(root.id.clone())
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
            root_id: root.id,
            enabled_policy_types: enabled,
            root_record,
        },
        ous: ous.into_values().collect(),
        accounts: accounts.into_values().collect(),
        policies: policies.into_values().collect(),
        access_roles: Vec::new(),
        iam_accounts: Vec::new(),
    };
    live.normalize();
    Ok(live)
}

/// Reads the organization ([`read_live_reporting`]) and then IAM in its member accounts
/// ([`read_iam`]).
pub async fn read_all_reporting<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<LiveState, ReadError> {
    let mut live = read_live_reporting(api, options, progress).await?;
    read_iam(iam, &mut live, options, progress).await?;
    Ok(live)
}

/// Reads IAM in every ACTIVE member account of `live` (never the management account) and
/// fills `live.access_roles` and `live.iam_accounts`. Per account: [`IamApi::connect`] (STS
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
pub async fn read_iam<I: IamApi>(
    iam: &I,
    live: &mut LiveState,
    options: &ReadOptions,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Result<(), ReadError> {
    let management = &live.organization.management_account_id;
    let accounts: Vec<String> = live
        .accounts
        .iter()
        .filter(|a| a.id != *management && a.status == AccountStatus::Active)
        .map(|a| a.id.clone())
        .collect();
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
    live.access_roles = roles;
    live.iam_accounts = reads;
    live.normalize();
    Ok(())
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod iam_tests;

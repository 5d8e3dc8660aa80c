//! The executor: [`execute`] performs one [`Op`] against any [`OrgApi`], idempotently.
//!
//! An apply can stop anywhere (a crash, Ctrl-C, a network failure) and must be safe to run
//! again, so every operation treats "the change is already in effect" as success
//! ([`Outcome::AlreadyDone`]) instead of an error: enabling an enabled policy type, creating an
//! OU or policy that exists (its id is looked up and recorded), renaming an OU to the name it
//! has, deleting what is gone, moving an account that is already there, closing a closed
//! account, attaching what is attached, detaching what is not.
//!
//! CreateAccount is the delicate one: AWS creates accounts asynchronously and a second request
//! for the same email fails (after minutes) with `EMAIL_ALREADY_EXISTS`. So the executor first
//! waits for every IN_PROGRESS request for the same account name instead of starting another,
//! and takes an account one of them created as the one to create only when it has the
//! operation's email (AWS lists requests by name; only the account carries the email); it polls
//! with backoff under a [`PollPolicy`]; and when a request fails with `EMAIL_ALREADY_EXISTS`
//! while the account with that email is in this organization (an earlier, interrupted apply
//! created it), it adopts that account. A resumed or adopted account is finished as a fresh
//! one is: its tags made equal to the operation's (keys it has and the operation lacks are
//! removed, except the operation's `ignore_tag_keys` and `managed-by`), then the move into its
//! parent.
//!
//! When an object to create already exists (a duplicate OU or policy name, an account email),
//! the executor adopts it, unless the plan refers to that object's id itself (an OU the same
//! plan renames away, say): the [`IdMap`] built by [`IdMap::for_ops`] claims those ids, and
//! adopting one is [`ExecError::AdoptionRefused`].
//!
//! Ids of objects created earlier in the same apply travel in an [`IdMap`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use orgctl_model::{
    GRANT_TAG_KEY, MANAGED_BY_KEY, Op, PolicyType, ROLE_TAG_KEY, Ref, RoleDefinition, Tags,
    canonical_json_str, is_bookkeeping_tag,
};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, CreateAccountState, CreateAccountStatus, OrgApi, codes};
use crate::iam::{IamApi, NewRole, codes as iam_codes};

/// Ids resolved so far in an apply: what each `Ref::New*` turned out to be, and the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    /// The root's id, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root_id: Option<String>,
    /// Created (or adopted) objects.
    #[serde(with = "entries", default)]
    ids: BTreeMap<Ref, String>,
    /// Ids the plan itself refers to (`Ref::Id`): objects it already has a role for, which
    /// must never be adopted as the object a `Create*` op makes.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    claimed: BTreeSet<String>,
    /// Accounts created by this apply whose member role could be assumed (see
    /// [`execute_iam`]).
    #[serde(skip)]
    reached: BTreeSet<String>,
}

mod entries {
    //! `BTreeMap<Ref, String>` as a JSON list of `{ "ref": …, "id": … }` (a `Ref` cannot be a
    //! JSON object key).
    use std::collections::BTreeMap;

    use orgctl_model::Ref;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Entry {
        r#ref: Ref,
        id: String,
    }

    pub fn serialize<S: Serializer>(map: &BTreeMap<Ref, String>, s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<Entry> = map
            .iter()
            .map(|(r, id)| Entry {
                r#ref: r.clone(),
                id: id.clone(),
            })
            .collect();
        list.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Ref, String>, D::Error> {
        let list = Vec::<Entry>::deserialize(d)?;
        Ok(list.into_iter().map(|e| (e.r#ref, e.id)).collect())
    }
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map that knows the root's id (saves a ListRoots when an account is created).
    pub fn with_root(root_id: impl Into<String>) -> Self {
        Self {
            root_id: Some(root_id.into()),
            ..Self::default()
        }
    }

    /// An empty map for applying `ops`: every id they name (`Ref::Id`) is claimed, so the
    /// executor never takes one of those objects as one an op creates (a `CreateOu` that
    /// collides with an OU the same plan renames away fails instead of adopting it).
    pub fn for_ops<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Self {
        let claimed = ops
            .into_iter()
            .flat_map(Op::refs)
            .filter_map(|r| match r {
                Ref::Id(id) => Some(id.clone()),
                _ => None,
            })
            .collect();
        Self {
            claimed,
            ..Self::default()
        }
    }

    /// Whether the plan refers to `id` itself (see [`IdMap::for_ops`]).
    pub fn is_claimed(&self, id: &str) -> bool {
        self.claimed.contains(id)
    }

    /// Fails when the existing `kind` named `name` (`id`) cannot be adopted because the plan
    /// refers to it for something else.
    fn check_adoptable(&self, kind: &'static str, name: &str, id: &str) -> Result<(), ExecError> {
        if self.is_claimed(id) {
            return Err(ExecError::AdoptionRefused {
                kind,
                name: name.to_owned(),
                id: id.to_owned(),
            });
        }
        Ok(())
    }

    /// Records an existing object as the one `r` creates, unless the plan refers to it for
    /// something else.
    fn adopt(&mut self, r: Ref, kind: &'static str, name: &str, id: &str) -> Result<(), ExecError> {
        self.check_adoptable(kind, name, id)?;
        self.insert(r, id.to_owned());
        Ok(())
    }

    /// The id a reference stands for: `Ref::Id` is itself, `Ref::New*` what was recorded.
    pub fn resolve(&self, r: &Ref) -> Option<String> {
        match r {
            Ref::Id(id) => Some(id.clone()),
            other => self.ids.get(other).cloned(),
        }
    }

    /// Records the id of a created (or adopted) object.
    pub fn insert(&mut self, r: Ref, id: String) {
        self.ids.insert(r, id);
    }

    /// The root's id, if known.
    pub fn root_id(&self) -> Option<&str> {
        self.root_id.as_deref()
    }

    /// Records the root's id.
    pub fn set_root_id(&mut self, root_id: impl Into<String>) {
        self.root_id = Some(root_id.into());
    }

    /// Recorded references and their ids, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Ref, &str)> {
        self.ids.iter().map(|(r, id)| (r, id.as_str()))
    }

    /// How many references are recorded.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// How the executor waits for asynchronous changes (CreateAccount, EnablePolicyType): the first
/// wait is `initial`, each next one doubles up to `max`, and after `timeout` it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// How long to wait in all.
    pub timeout: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            timeout: Duration::from_secs(20 * 60),
        }
    }
}

/// What executing an operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The change was made.
    Done,
    /// The change was already in effect; nothing (or only a look-up) was done.
    AlreadyDone,
}

/// Why an operation could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// AWS refused the call (after the retries of the API in use, if any).
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The operation refers to an object an earlier operation of this apply should have
    /// created, and it has not.
    #[error(
        "{0} is not known: the operation that creates it has not run in this apply; run \
         `orgctl plan` again and apply the new plan"
    )]
    Unresolved(Ref),
    /// AWS could not create the account; `reason` says why, in words, and what to do.
    #[error("AWS could not create account {name:?}: {reason}")]
    CreateAccountFailed {
        /// The account name.
        name: String,
        /// AWS's reason code followed by its meaning and the remedy.
        reason: String,
    },
    /// The account was still being created when the poll timeout ran out.
    #[error(
        "account {name:?} was still being created when orgctl stopped waiting (request \
         {request_id}); AWS carries on with it: run apply again later and orgctl will wait for \
         the same request instead of starting another"
    )]
    CreateAccountTimeout {
        /// The account name.
        name: String,
        /// The CreateAccount request (`car-…`).
        request_id: String,
    },
    /// A policy type was still not enabled on the root when the poll timeout ran out.
    #[error(
        "{policy_type} was still not enabled on root {root_id} when orgctl stopped waiting; run \
         apply again in a few minutes"
    )]
    EnableTimeout {
        /// The root.
        root_id: String,
        /// The policy type.
        policy_type: PolicyType,
    },
    /// A policy with the name exists but is not the one the plan would create.
    #[error(
        "a policy named {name:?} already exists ({existing}) but is not the {policy_type} this \
         plan creates (its type or document differ), so orgctl does not take it over; rename \
         one of them, or delete the other policy, then run `orgctl plan` again"
    )]
    PolicyConflict {
        /// The policy name.
        name: String,
        /// The type the plan creates.
        policy_type: PolicyType,
        /// The existing policy's id (or `another type` when it is of another type).
        existing: String,
    },
    /// The object a `Create*` op makes already exists, but the plan refers to that object (by
    /// its id) for another part of the desired state, so taking it over would merge the two.
    #[error(
        "an existing {kind} named {name:?} ({id}) is in the way of the {kind} this plan \
         creates, but the plan already uses {id} for something else (for example it renames \
         it), so orgctl does not take it over; run `orgctl plan` again and apply the new plan"
    )]
    AdoptionRefused {
        /// `OU`, `account` or `policy`.
        kind: &'static str,
        /// The name of the object the op creates.
        name: String,
        /// The existing object's id.
        id: String,
    },
    /// An IAM call in a member account failed.
    #[error("in account {account}, role {role}: {source}")]
    Iam {
        /// The member account.
        account: String,
        /// The role's name.
        role: String,
        /// IAM's (or STS's) error.
        source: ApiError,
    },
    /// CreateRole found a role of the same name that orgctl does not own for this purpose.
    #[error(
        "in account {account}, a role named {role:?} already exists ({detail}), so orgctl does \
         not take it over; rename or delete that role, or change the grant's role_name, then run \
         `orgctl plan` again"
    )]
    RoleConflict {
        /// The member account.
        account: String,
        /// The role's name.
        role: String,
        /// Why it is not orgctl's (path, tags).
        detail: String,
    },
    /// The member role of an account this apply created could not be assumed in time.
    #[error(
        "account {account} was created by this apply, but its member role could still not be \
         assumed when orgctl stopped waiting ({source}); run apply again in a few minutes"
    )]
    NewAccountUnreachable {
        /// The new account.
        account: String,
        /// The last AssumeRole failure.
        source: ApiError,
    },
    /// AWS's answers contradict each other (the organization is being changed by someone
    /// else at the same time).
    #[error("{0}; the organization is changing under orgctl: run `orgctl plan` again")]
    Inconsistent(String),
}

/// What AWS's CreateAccount failure reason means, and what to do about it: `"CODE: words"`.
pub fn describe_create_account_failure(code: &str) -> String {
    let words = match code {
        "ACCOUNT_LIMIT_EXCEEDED" => {
            "the organization has reached its limit on the number of accounts; ask for a higher \
             quota (Service Quotas, AWS Organizations, default maximum number of accounts), or \
             remove closed accounts, then run apply again"
        }
        "EMAIL_ALREADY_EXISTS" => {
            "an account with this root email already exists (in this or another organization); \
             use another email address, or, if the account is yours, invite it into the \
             organization and declare it with its id"
        }
        "INVALID_ADDRESS" => {
            "AWS rejected the address of the management account; correct it in the Billing \
             console, then run apply again"
        }
        "INVALID_EMAIL" => "AWS rejected the email address as invalid; correct it in the YAML",
        "CONCURRENT_ACCOUNT_MODIFICATION" => {
            "a request with the same information is already being processed; wait a few \
             minutes, then run apply again"
        }
        "INTERNAL_FAILURE" => {
            "AWS failed internally; run apply again later, and contact AWS Support if it keeps \
             failing"
        }
        "GOVCLOUD_ACCOUNT_ALREADY_EXISTS" => {
            "an AWS GovCloud (US) account with this email already exists; use another email \
             address"
        }
        "MISSING_BUSINESS_VALIDATION" => {
            "the management account has not completed business validation; complete it (AWS \
             contacts you by email), then run apply again"
        }
        "FAILED_BUSINESS_VALIDATION" => {
            "the management account failed business validation; contact AWS Support"
        }
        "PENDING_BUSINESS_VALIDATION" => {
            "the management account's business validation is still in progress; run apply \
             again once it has completed"
        }
        "UNKNOWN_BUSINESS_VALIDATION" => {
            "the management account's business validation has an unknown problem; contact AWS \
             Support"
        }
        "INVALID_IDENTITY_FOR_BUSINESS_VALIDATION" | "IDENTITY_INVALID_BUSINESS_VALIDATION" => {
            "the management account lacks valid identity data for business validation; \
             correct it in the account settings or contact AWS Support"
        }
        "MISSING_PAYMENT_INSTRUMENT" => {
            "the management account has no valid payment method; add one in the Billing \
             console, then run apply again"
        }
        "INVALID_PAYMENT_INSTRUMENT" => {
            "the management account's payment method is not supported; add another one in the \
             Billing console, then run apply again"
        }
        "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED" => {
            "AWS cannot apply tags to this account's existing resource policy; create the \
             account without tags and tag it afterwards"
        }
        _ => {
            "AWS gave no further explanation; see the AWS Organizations documentation for \
              CreateAccountStatus"
        }
    };
    format!("{code}: {words}")
}

fn resolve(ids: &IdMap, r: &Ref) -> Result<String, ExecError> {
    ids.resolve(r)
        .ok_or_else(|| ExecError::Unresolved(r.clone()))
}

/// Sets the tags in `tags` that `resource` lacks or has with another value (one read, and one
/// write only when something differs).
async fn ensure_tags<A: OrgApi>(api: &A, resource: &str, tags: &Tags) -> Result<(), ExecError> {
    if tags.is_empty() {
        return Ok(());
    }
    let current = api.list_tags(resource).await?;
    let missing: Tags = tags
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !missing.is_empty() {
        api.tag_resource(resource, &missing).await?;
    }
    Ok(())
}

/// Whether two policy documents are the same (byte-equal, or equal as JSON).
fn same_document(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (
                serde_json::from_str::<serde_json::Value>(a),
                serde_json::from_str::<serde_json::Value>(b),
            ),
            (Ok(x), Ok(y)) if x == y
        )
}

/// Waits with backoff while `status` is IN_PROGRESS.
async fn await_request<A: OrgApi>(
    api: &A,
    mut status: CreateAccountStatus,
    name: &str,
    poll: &PollPolicy,
) -> Result<CreateAccountStatus, ExecError> {
    let start = tokio::time::Instant::now();
    let mut delay = poll.initial;
    while status.state == CreateAccountState::InProgress {
        let waited = start.elapsed();
        if waited >= poll.timeout {
            return Err(ExecError::CreateAccountTimeout {
                name: name.to_owned(),
                request_id: status.request_id,
            });
        }
        tokio::time::sleep(delay.min(poll.timeout - waited)).await;
        status = api
            .describe_create_account_status(&status.request_id)
            .await?;
        delay = delay.saturating_mul(2).min(poll.max);
    }
    Ok(status)
}

/// The root's id, from the map or from ListRoots (then remembered).
async fn root_id<A: OrgApi>(api: &A, ids: &mut IdMap) -> Result<String, ExecError> {
    if let Some(root) = ids.root_id() {
        return Ok(root.to_owned());
    }
    let root = api
        .list_roots()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ExecError::Inconsistent("ListRoots returned no root".to_owned()))?;
    ids.set_root_id(root.id.clone());
    Ok(root.id)
}

/// The email of an account created moments ago: it is in the root, unless someone moved it.
async fn account_email<A: OrgApi>(
    api: &A,
    account_id: &str,
    ids: &mut IdMap,
) -> Result<Option<String>, ExecError> {
    let root = root_id(api, ids).await?;
    let in_root = api.list_accounts_for_parent(&root).await?;
    let found = match in_root.into_iter().find(|a| a.id == account_id) {
        Some(a) => Some(a),
        None => api
            .list_accounts()
            .await?
            .into_iter()
            .find(|a| a.id == account_id),
    };
    Ok(found.map(|a| a.email))
}

/// Moves `account` from `from` to `to` unless it is there; `AlreadyDone` when it was.
async fn place_account<A: OrgApi>(
    api: &A,
    account: &str,
    from: &str,
    to: &str,
) -> Result<Outcome, ExecError> {
    match api.move_account(account, from, to).await {
        Ok(()) => Ok(Outcome::Done),
        Err(e) if e.is(codes::DUPLICATE_ACCOUNT) => Ok(Outcome::AlreadyDone),
        Err(e) if e.is(codes::SOURCE_PARENT_NOT_FOUND) => {
            if api.list_parent(account).await? == to {
                Ok(Outcome::AlreadyDone)
            } else {
                Err(e.into())
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Where an account stands when [`finish_account`] takes it over.
enum Start {
    /// This call's own CreateAccount made it: it is in the root and carries the op's tags.
    Created,
    /// A request an earlier apply started, or an account found by its email: its tags and
    /// place are whatever they are.
    Found,
}

/// Makes an account's tags `tags`: sets what is missing or different and removes every other
/// key except `keep`, `managed-by` and orgctl's bookkeeping keys (`orgctl:…`; the keys the
/// planner leaves out when it compares an account's tags), so the next plan shows no tag change.
async fn replace_account_tags<A: OrgApi>(
    api: &A,
    account_id: &str,
    tags: &Tags,
    keep: &BTreeSet<String>,
) -> Result<(), ExecError> {
    let current = api.list_tags(account_id).await?;
    let missing: Tags = tags
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let extra: Vec<String> = current
        .into_keys()
        .filter(|k| {
            !tags.contains_key(k)
                && !keep.contains(k)
                && k != MANAGED_BY_KEY
                && !is_bookkeeping_tag(k)
        })
        .collect();
    if !missing.is_empty() {
        api.tag_resource(account_id, &missing).await?;
    }
    if !extra.is_empty() {
        api.untag_resource(account_id, &extra).await?;
    }
    Ok(())
}

/// What the account a `CreateAccount` makes should end up with.
struct AccountTarget<'a> {
    /// The parent's id.
    parent_id: &'a str,
    /// The op's tags.
    tags: &'a Tags,
    /// Tag keys to leave alone on an account that already exists (`ignore_tag_keys`).
    keep: &'a BTreeSet<String>,
}

/// Brings a new account to the state a fresh creation ends in: the op's tags, in its parent.
async fn finish_account<A: OrgApi>(
    api: &A,
    account_id: &str,
    start: Start,
    target: &AccountTarget<'_>,
    ids: &mut IdMap,
) -> Result<(), ExecError> {
    let parent_id = target.parent_id;
    let current = match start {
        // New accounts start in the root, with the tags of their request.
        Start::Created => root_id(api, ids).await?,
        Start::Found => {
            replace_account_tags(api, account_id, target.tags, target.keep).await?;
            api.list_parent(account_id).await?
        }
    };
    if current != parent_id {
        place_account(api, account_id, &current, parent_id).await?;
    }
    Ok(())
}

/// Waits for the IN_PROGRESS requests an interrupted apply may have left for this account and
/// returns the id of the account one of them created with `email`. ListCreateAccountStatus
/// names accounts, not emails, and account names are not unique: every request with the name
/// is waited for, and one counts as ours only when the account it created has our email (AWS
/// returns the email only on the account).
async fn resume_request<A: OrgApi>(
    api: &A,
    name: &str,
    email: &str,
    ids: &mut IdMap,
    poll: &PollPolicy,
) -> Result<Option<String>, ExecError> {
    let pending: Vec<CreateAccountStatus> = api
        .list_create_account_in_progress()
        .await?
        .into_iter()
        .filter(|s| s.account_name == name)
        .collect();
    for status in pending {
        tracing::info!(account = name, request = %status.request_id, "waiting for an account creation already in progress");
        let status = await_request(api, status, name, poll).await?;
        let Some(account_id) = status.account_id else {
            continue;
        };
        if status.state == CreateAccountState::Succeeded
            && account_email(api, &account_id, ids)
                .await?
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        {
            return Ok(Some(account_id));
        }
    }
    Ok(None)
}

async fn create_account<A: OrgApi>(
    api: &A,
    name: &str,
    email: &str,
    parent: &Ref,
    (tags, keep): (&Tags, &BTreeSet<String>),
    ids: &mut IdMap,
    poll: &PollPolicy,
) -> Result<Outcome, ExecError> {
    let parent_id = resolve(ids, parent)?;
    let target = AccountTarget {
        parent_id: &parent_id,
        tags,
        keep,
    };
    let key = Ref::NewAccount(email.to_lowercase());

    // An interrupted apply may have left the request running: wait for it, do not start a
    // second one (it would fail with EMAIL_ALREADY_EXISTS minutes later).
    if let Some(id) = resume_request(api, name, email, ids, poll).await? {
        ids.insert(key, id.clone());
        finish_account(api, &id, Start::Found, &target, ids).await?;
        return Ok(Outcome::Done);
    }
    let started = api.create_account(name, email, tags).await?;
    let status = await_request(api, started, name, poll).await?;

    match status.state {
        CreateAccountState::Succeeded => {
            let id = status.account_id.ok_or_else(|| {
                ExecError::Inconsistent(format!(
                    "CreateAccount request {} succeeded without an account id",
                    status.request_id
                ))
            })?;
            ids.insert(key, id.clone());
            finish_account(api, &id, Start::Created, &target, ids).await?;
            Ok(Outcome::Done)
        }
        CreateAccountState::Failed => {
            let code = status.failure_reason.unwrap_or_default();
            if code == "EMAIL_ALREADY_EXISTS" {
                // Created by an earlier, interrupted apply? Then it is in this organization.
                let existing = api
                    .list_accounts()
                    .await?
                    .into_iter()
                    .find(|a| a.email.eq_ignore_ascii_case(email));
                if let Some(account) = existing {
                    if account.status.is_closed() {
                        return Err(ExecError::CreateAccountFailed {
                            name: name.to_owned(),
                            reason: format!(
                                "EMAIL_ALREADY_EXISTS: the email belongs to account {} of this \
                                 organization, which is closed; use another email address",
                                account.id
                            ),
                        });
                    }
                    tracing::info!(account = name, id = %account.id, "adopting the account that already has this email");
                    ids.adopt(key, "account", name, &account.id)?;
                    finish_account(api, &account.id, Start::Found, &target, ids).await?;
                    return Ok(Outcome::AlreadyDone);
                }
            }
            Err(ExecError::CreateAccountFailed {
                name: name.to_owned(),
                reason: describe_create_account_failure(&code),
            })
        }
        CreateAccountState::InProgress => Err(ExecError::CreateAccountTimeout {
            name: name.to_owned(),
            request_id: status.request_id,
        }),
    }
}

/// Waits until ListRoots reports `policy_type` enabled on `root` (AWS enables types
/// asynchronously; attaching a policy before that fails).
async fn await_enabled<A: OrgApi>(
    api: &A,
    root: &str,
    policy_type: PolicyType,
    poll: &PollPolicy,
) -> Result<(), ExecError> {
    let start = tokio::time::Instant::now();
    let mut delay = poll.initial;
    loop {
        let enabled = api
            .list_roots()
            .await?
            .iter()
            .any(|r| r.id == root && r.enabled_policy_types.contains(&policy_type));
        if enabled {
            return Ok(());
        }
        let waited = start.elapsed();
        if waited >= poll.timeout {
            return Err(ExecError::EnableTimeout {
                root_id: root.to_owned(),
                policy_type,
            });
        }
        tokio::time::sleep(delay.min(poll.timeout - waited)).await;
        delay = delay.saturating_mul(2).min(poll.max);
    }
}

async fn create_policy<A: OrgApi>(
    api: &A,
    op: (&str, PolicyType, &str, &str, &Tags),
    ids: &mut IdMap,
) -> Result<Outcome, ExecError> {
    let (name, policy_type, description, content, tags) = op;
    let key = Ref::NewPolicy(name.to_owned());
    let error = match api
        .create_policy(name, policy_type, description, content, tags)
        .await
    {
        Ok(summary) => {
            ids.insert(key, summary.id);
            return Ok(Outcome::Done);
        }
        Err(e) if e.is(codes::DUPLICATE_POLICY) => e,
        Err(e) => return Err(e.into()),
    };
    let conflict = |existing: String| ExecError::PolicyConflict {
        name: name.to_owned(),
        policy_type,
        existing,
    };
    let Some(existing) = api
        .list_policies(policy_type)
        .await?
        .into_iter()
        .find(|p| p.name == name)
    else {
        // The name is taken by a policy of another type.
        tracing::debug!(%error, "duplicate policy name of another type");
        return Err(conflict("another type".to_owned()));
    };
    if existing.aws_managed {
        return Err(conflict(existing.id));
    }
    ids.check_adoptable("policy", name, &existing.id)?;
    let document = api.describe_policy(&existing.id).await?;
    if !same_document(&document, content) {
        return Err(conflict(existing.id));
    }
    if existing.description != description {
        api.update_policy(&existing.id, Some(description), None)
            .await?;
    }
    ensure_tags(api, &existing.id, tags).await?;
    ids.insert(key, existing.id);
    Ok(Outcome::AlreadyDone)
}

/// Performs `op`, resolving its references through `ids` and recording the ids it creates.
/// A change that is already in effect is [`Outcome::AlreadyDone`], not an error.
pub async fn execute<A: OrgApi>(
    api: &A,
    op: &Op,
    ids: &mut IdMap,
    poll: &PollPolicy,
) -> Result<Outcome, ExecError> {
    match op {
        Op::EnablePolicyType { root, policy_type } => {
            let root = resolve(ids, root)?;
            let outcome = match api.enable_policy_type(&root, *policy_type).await {
                Ok(()) => Outcome::Done,
                Err(e) if e.is(codes::POLICY_TYPE_ALREADY_ENABLED) => Outcome::AlreadyDone,
                Err(e) => return Err(e.into()),
            };
            await_enabled(api, &root, *policy_type, poll).await?;
            Ok(outcome)
        }
        Op::CreateOu {
            parent,
            name,
            path,
            tags,
        } => {
            let parent = resolve(ids, parent)?;
            let key = Ref::NewOu(path.clone());
            match api.create_ou(&parent, name, tags).await {
                Ok(ou) => {
                    ids.insert(key, ou.id);
                    Ok(Outcome::Done)
                }
                Err(e) if e.is(codes::DUPLICATE_OU) => {
                    let Some(ou) = api
                        .list_ous_for_parent(&parent)
                        .await?
                        .into_iter()
                        .find(|o| o.name == *name)
                    else {
                        return Err(ExecError::Inconsistent(format!(
                            "AWS says an OU named {name:?} exists under {parent}, but it is not \
                             listed there"
                        )));
                    };
                    ids.adopt(key, "OU", name, &ou.id)?;
                    ensure_tags(api, &ou.id, tags).await?;
                    Ok(Outcome::AlreadyDone)
                }
                Err(e) => Err(e.into()),
            }
        }
        Op::RenameOu { ou, name } => {
            let ou = resolve(ids, ou)?;
            if api.describe_ou(&ou).await?.name == *name {
                return Ok(Outcome::AlreadyDone);
            }
            api.rename_ou(&ou, name).await?;
            Ok(Outcome::Done)
        }
        Op::DeleteOu { ou } => {
            let ou = resolve(ids, ou)?;
            match api.delete_ou(&ou).await {
                Ok(()) => Ok(Outcome::Done),
                Err(e) if e.is(codes::OU_NOT_FOUND) => Ok(Outcome::AlreadyDone),
                Err(e) => Err(e.into()),
            }
        }
        Op::CreateAccount {
            name,
            email,
            parent,
            tags,
            ignore_tag_keys,
        } => create_account(api, name, email, parent, (tags, ignore_tag_keys), ids, poll).await,
        Op::MoveAccount { account, from, to } => {
            let account = resolve(ids, account)?;
            let from = resolve(ids, from)?;
            let to = resolve(ids, to)?;
            place_account(api, &account, &from, &to).await
        }
        Op::CloseAccount { account } => {
            let account = resolve(ids, account)?;
            match api.close_account(&account).await {
                Ok(()) => Ok(Outcome::Done),
                Err(e) if e.is(codes::ACCOUNT_ALREADY_CLOSED) => Ok(Outcome::AlreadyDone),
                Err(e) => Err(e.into()),
            }
        }
        Op::TagResource { resource, tags } => {
            let resource = resolve(ids, resource)?;
            api.tag_resource(&resource, tags).await?;
            Ok(Outcome::Done)
        }
        Op::UntagResource { resource, keys } => {
            let resource = resolve(ids, resource)?;
            let keys: Vec<String> = keys.iter().cloned().collect();
            api.untag_resource(&resource, &keys).await?;
            Ok(Outcome::Done)
        }
        Op::CreatePolicy {
            name,
            policy_type,
            description,
            content,
            tags,
        } => create_policy(api, (name, *policy_type, description, content, tags), ids).await,
        Op::UpdatePolicy {
            policy,
            description,
            content,
        } => {
            let policy = resolve(ids, policy)?;
            api.update_policy(&policy, description.as_deref(), content.as_deref())
                .await?;
            Ok(Outcome::Done)
        }
        Op::AttachPolicy { policy, target } => {
            let policy = resolve(ids, policy)?;
            let target = resolve(ids, target)?;
            match api.attach_policy(&policy, &target).await {
                Ok(()) => Ok(Outcome::Done),
                Err(e) if e.is(codes::DUPLICATE_POLICY_ATTACHMENT) => Ok(Outcome::AlreadyDone),
                Err(e) => Err(e.into()),
            }
        }
        Op::DetachPolicy { policy, target } => {
            let policy = resolve(ids, policy)?;
            let target = resolve(ids, target)?;
            match api.detach_policy(&policy, &target).await {
                Ok(()) => Ok(Outcome::Done),
                Err(e) if e.is(codes::POLICY_NOT_ATTACHED) => Ok(Outcome::AlreadyDone),
                Err(e) => Err(e.into()),
            }
        }
        Op::DeletePolicy { policy } => {
            let policy = resolve(ids, policy)?;
            match api.delete_policy(&policy).await {
                Ok(()) => Ok(Outcome::Done),
                Err(e) if e.is(codes::POLICY_NOT_FOUND) => Ok(Outcome::AlreadyDone),
                Err(e) => Err(e.into()),
            }
        }
        // IAM operations run through [`execute_iam`].
        _ => Err(ExecError::Inconsistent(format!(
            "{} is an IAM operation and this executor only runs Organizations operations",
            op.api_name()
        ))),
    }
}

/// Performs an IAM operation ([`Op::is_iam`]) in its member account through `iam`,
/// idempotently:
///
/// - the account reference is resolved through `ids` (`Ref::NewAccount` of an account this
///   apply created); before the first IAM operation in such an account, the executor waits
///   (backoff under `poll`) until a role can be assumed there ([`IamApi::connect`]);
/// - CreateRole of a role that exists: when it is under the same path and carries orgctl's
///   `managed-by` tag and the same `orgctl-grant` (or `orgctl-role`) tag as the operation's,
///   it is taken over (trust policy, description and session, tags made equal to the
///   operation's): [`Outcome::AlreadyDone`]; otherwise [`ExecError::RoleConflict`], naming
///   account and role;
/// - DetachRolePolicy, DeleteRolePolicy, DeleteRolePermissionsBoundary and DeleteRole answered
///   NoSuchEntity (already gone, or the role is) are [`Outcome::AlreadyDone`];
/// - other failures are [`ExecError::Iam`], naming account and role.
pub async fn execute_iam<I: IamApi>(
    iam: &I,
    op: &Op,
    ids: &mut IdMap,
    poll: &PollPolicy,
) -> Result<Outcome, ExecError> {
    let Some((account_ref, role)) = op.role() else {
        return Err(ExecError::Inconsistent(format!(
            "{} is not an IAM operation",
            op.api_name()
        )));
    };
    let account = resolve(ids, account_ref)?;
    if matches!(account_ref, Ref::NewAccount(_)) && !ids.reached.contains(&account) {
        await_reachable(iam, &account, poll).await?;
        ids.reached.insert(account.clone());
    }
    let fail = |source: ApiError| ExecError::Iam {
        account: account.clone(),
        role: role.to_owned(),
        source,
    };
    let gone = |r: Result<(), ApiError>| match r {
        Ok(()) => Ok(Outcome::Done),
        Err(e) if e.is(iam_codes::NO_SUCH_ENTITY) => Ok(Outcome::AlreadyDone),
        Err(e) => Err(fail(e)),
    };
    let done = |r: Result<(), ApiError>| r.map(|()| Outcome::Done).map_err(fail);
    match op {
        Op::CreateRole { role, .. } => create_role(iam, &account, role).await,
        Op::UpdateTrustPolicy {
            role_name,
            trust_policy,
            ..
        } => done(
            iam.update_trust_policy(&account, role_name, trust_policy)
                .await,
        ),
        Op::UpdateRole {
            role_name,
            description,
            max_session_secs,
            ..
        } => done(
            iam.update_role(&account, role_name, description, *max_session_secs)
                .await,
        ),
        Op::TagRole {
            role_name, tags, ..
        } => done(iam.tag_role(&account, role_name, tags).await),
        Op::UntagRole {
            role_name, keys, ..
        } => {
            let keys: Vec<String> = keys.iter().cloned().collect();
            done(iam.untag_role(&account, role_name, &keys).await)
        }
        Op::AttachRolePolicy {
            role_name,
            policy_arn,
            ..
        } => done(iam.attach_policy(&account, role_name, policy_arn).await),
        Op::DetachRolePolicy {
            role_name,
            policy_arn,
            ..
        } => gone(iam.detach_policy(&account, role_name, policy_arn).await),
        Op::PutRolePolicy {
            role_name,
            policy_name,
            document,
            ..
        } => done(
            iam.put_inline_policy(&account, role_name, policy_name, document)
                .await,
        ),
        Op::DeleteRolePolicy {
            role_name,
            policy_name,
            ..
        } => gone(
            iam.delete_inline_policy(&account, role_name, policy_name)
                .await,
        ),
        Op::PutRolePermissionsBoundary {
            role_name,
            policy_arn,
            ..
        } => done(
            iam.put_permissions_boundary(&account, role_name, policy_arn)
                .await,
        ),
        Op::DeleteRolePermissionsBoundary { role_name, .. } => {
            gone(iam.delete_permissions_boundary(&account, role_name).await)
        }
        Op::DeleteRole { role_name, .. } => gone(iam.delete_role(&account, role_name).await),
        _ => Err(ExecError::Inconsistent(format!(
            "{} is not an IAM operation",
            op.api_name()
        ))),
    }
}

/// Waits (backoff under `poll`) until a role can be assumed in `account`, which this apply
/// created: a new account's member role appears shortly after the account.
async fn await_reachable<I: IamApi>(
    iam: &I,
    account: &str,
    poll: &PollPolicy,
) -> Result<(), ExecError> {
    let started = tokio::time::Instant::now();
    let mut wait = poll.initial;
    loop {
        match iam.connect(account).await {
            Ok(_) => return Ok(()),
            Err(e) if started.elapsed() + wait > poll.timeout => {
                return Err(ExecError::NewAccountUnreachable {
                    account: account.to_owned(),
                    source: e,
                });
            }
            Err(e) => {
                tracing::debug!(%account, error = %e, "member role not assumable yet; waiting");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(poll.max);
            }
        }
    }
}

/// The tag saying which grant (or which orgctl role) a role is for.
fn owner_tag(tags: &Tags) -> Option<(&'static str, &String)> {
    tags.get(GRANT_TAG_KEY)
        .map(|v| (GRANT_TAG_KEY, v))
        .or_else(|| tags.get(ROLE_TAG_KEY).map(|v| (ROLE_TAG_KEY, v)))
}

fn same_policy(a: &str, b: &str) -> bool {
    a == b || (canonical_json_str(a).is_some() && canonical_json_str(a) == canonical_json_str(b))
}

async fn create_role<I: IamApi>(
    iam: &I,
    account: &str,
    def: &RoleDefinition,
) -> Result<Outcome, ExecError> {
    let fail = |source: ApiError| ExecError::Iam {
        account: account.to_owned(),
        role: def.name.clone(),
        source,
    };
    let new = NewRole {
        path: def.path.clone(),
        name: def.name.clone(),
        trust_policy: def.trust_policy.clone(),
        description: def.description.clone(),
        max_session_secs: def.max_session_secs,
        tags: def.tags.clone(),
    };
    match iam.create_role(account, &new).await {
        Ok(_) => return Ok(Outcome::Done),
        Err(e) if e.is(iam_codes::ENTITY_ALREADY_EXISTS) => {}
        Err(e) => return Err(fail(e)),
    }
    let existing = iam.get_role(account, &def.name).await.map_err(fail)?;
    let conflict = |detail: String| ExecError::RoleConflict {
        account: account.to_owned(),
        role: existing.summary.name.clone(),
        detail,
    };
    if existing.summary.path != def.path {
        return Err(conflict(format!(
            "under path {}, not {}",
            existing.summary.path, def.path
        )));
    }
    if existing.tags.get(MANAGED_BY_KEY) != def.tags.get(MANAGED_BY_KEY) {
        return Err(conflict("without orgctl's managed-by tag".to_owned()));
    }
    let wanted = owner_tag(&def.tags);
    if owner_tag(&existing.tags) != wanted {
        return Err(conflict(match owner_tag(&existing.tags) {
            Some((k, v)) => format!("tagged {k}: {v}, for something else"),
            None => "without orgctl's grant tag".to_owned(),
        }));
    }
    // An earlier, interrupted apply created it: make it the role the operation creates.
    let name = &existing.summary.name;
    if !same_policy(&existing.summary.trust_policy, &def.trust_policy) {
        iam.update_trust_policy(account, name, &def.trust_policy)
            .await
            .map_err(fail)?;
    }
    if existing.summary.description != def.description
        || existing.summary.max_session_secs != def.max_session_secs
    {
        iam.update_role(account, name, &def.description, def.max_session_secs)
            .await
            .map_err(fail)?;
    }
    let differ: Tags = def
        .tags
        .iter()
        .filter(|(k, v)| existing.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !differ.is_empty() {
        iam.tag_role(account, name, &differ).await.map_err(fail)?;
    }
    Ok(Outcome::AlreadyDone)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod iam_tests;

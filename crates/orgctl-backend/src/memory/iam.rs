//! [`MemoryIam`]: a strict, in-memory IAM per account behind [`IamApi`].
//!
//! Each account known to it (see [`MemoryIam::with_accounts`]) has its own roles; a call for an
//! unknown account fails as STS AssumeRole into it would (`AccessDenied`, operation
//! `AssumeRole`). It enforces the IAM rules the emulator (moto) skips, answering with IAM's
//! codes:
//!
//! - role names are unique per account **case-insensitively**, and found case-insensitively
//!   (`EntityAlreadyExists`); names are 1–64 characters of `[\w+=,.@-]`, paths `/` or `/…/`
//!   of printable ASCII, at most 512 characters (`ValidationError`);
//! - a trust policy is valid JSON (an object) of at most 2,048 characters not counting white
//!   space (`MalformedPolicyDocument`, `LimitExceeded`); the same syntax rule holds for inline
//!   policies, whose total per role is at most 10,240 characters (`LimitExceeded`);
//! - MaxSessionDuration is 3,600–43,200 seconds and a description at most 1,000 characters
//!   (`ValidationError`);
//! - at most 10 managed policies per role and 50 tags (`LimitExceeded`);
//! - managed policies (attached or as a permissions boundary) must exist: only the AWS managed
//!   policies in [`AWS_MANAGED_POLICIES`] do (`NoSuchEntity` otherwise);
//! - DeleteRole fails with `DeleteConflict` while managed policies are attached or inline
//!   policies are put. A permissions boundary does not block it (IAM's DeleteRole documentation
//!   lists inline policies, attached managed policies and instance profiles, not the boundary).
//!
//! The member role of each ACTIVE member account of a linked IAM (the role AWS Organizations
//! creates, trusting the management account) is listed by ListRoles, not stored.
//!
//! Modelling choices: attaching a policy already attached, and removing a tag or boundary that
//! is not there, succeed without change (as at AWS). Every call is logged by operation name.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use orgctl_model::{
    AccountStatus, IamRead, LiveAccessRole, READ_ROLE_NAME, ROLE_PATH, Tags, canonical_json_str,
};

use super::state::State as OrgState;

use crate::api::{ApiError, ApiResult};
use crate::iam::limits::{
    DESCRIPTION_MAX, INLINE_POLICIES_TOTAL_MAX, MANAGED_POLICIES_PER_ROLE, MAX_SESSION_SECS,
    MIN_SESSION_SECS, PATH_MAX, POLICY_NAME_MAX, ROLE_NAME_MAX, TAGS_PER_ROLE, TRUST_POLICY_MAX,
};
use crate::iam::operations as op;
use crate::iam::{AttachedPolicy, IamApi, IamRoles, NewRole, Role, RoleSummary, codes};

/// The AWS managed policies that exist in [`MemoryIam`] (the same list the emulator launcher,
/// `scripts/moto_server.py`, loads by default).
pub const AWS_MANAGED_POLICIES: &[&str] = &[
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/SecurityAudit",
    "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
    "arn:aws:iam::aws:policy/job-function/Billing",
    "arn:aws:iam::aws:policy/job-function/SupportUser",
];

#[derive(Debug, Clone)]
struct StoredRole {
    path: String,
    name: String,
    description: String,
    max_session_secs: i32,
    trust_policy: String,
    boundary: Option<String>,
    tags: Tags,
    attached: BTreeSet<String>,
    inline: BTreeMap<String, String>,
}

impl StoredRole {
    fn summary(&self, account: &str) -> RoleSummary {
        RoleSummary {
            path: self.path.clone(),
            name: self.name.clone(),
            arn: format!("arn:aws:iam::{account}:role{}{}", self.path, self.name),
            description: self.description.clone(),
            max_session_secs: self.max_session_secs,
            trust_policy: self.trust_policy.clone(),
        }
    }

    fn live(&self, account: &str) -> LiveAccessRole {
        let canonical = |d: &str| canonical_json_str(d).unwrap_or_else(|| d.to_owned());
        LiveAccessRole {
            account_id: account.to_owned(),
            role_name: self.name.clone(),
            path: self.path.clone(),
            trust_policy: canonical(&self.trust_policy),
            description: self.description.clone(),
            max_session_secs: self.max_session_secs,
            managed_policies: self.attached.clone(),
            inline_policies: self
                .inline
                .iter()
                .map(|(n, d)| (n.clone(), canonical(d)))
                .collect(),
            permissions_boundary: self.boundary.clone(),
            tags: self.tags.clone(),
        }
    }

    fn role(&self, account: &str) -> Role {
        Role {
            summary: self.summary(account),
            permissions_boundary: self.boundary.clone(),
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug)]
struct State {
    /// Account id → role key (lower-cased name) → role.
    accounts: BTreeMap<String, BTreeMap<String, StoredRole>>,
    /// The ARNs of the managed policies that exist.
    managed: BTreeSet<String>,
    /// Accounts whose member role was removed: AssumeRole of it is refused there.
    no_member_role: BTreeSet<String>,
    /// How a recorded read (a snapshot's `iam_accounts`) reached each account, replayed by
    /// [`IamApi::connect`] (see [`MemoryIam::record_read`]).
    recorded: BTreeMap<String, IamRead>,
    calls: Vec<&'static str>,
}

/// A strict in-memory IAM, one per account. See the [module documentation](self).
///
/// Cheap to clone: clones share the accounts (and the organization they are linked to), and
/// [`MemoryIam::with_roles`] makes a handle that reaches the same accounts with other roles (a
/// `plan` handle and an `apply` handle over one IAM).
#[derive(Debug, Clone)]
pub struct MemoryIam {
    state: Arc<Mutex<State>>,
    /// The organization whose accounts this IAM serves ([`crate::MemoryOrg::iam`]): then an
    /// account exists when the organization has it, and only ACTIVE member accounts can be
    /// reached. Without it, the accounts are those added ([`MemoryIam::with_accounts`]).
    org: Option<Arc<Mutex<OrgState>>>,
    roles: IamRoles,
}

impl Default for MemoryIam {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every mutation completes before anything can panic: a poisoned lock is consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryIam {
    /// An IAM with no account, where the [`AWS_MANAGED_POLICIES`] exist, reached through the
    /// default member role.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                accounts: BTreeMap::new(),
                managed: AWS_MANAGED_POLICIES
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
                no_member_role: BTreeSet::new(),
                recorded: BTreeMap::new(),
                calls: Vec::new(),
            })),
            org: None,
            roles: IamRoles::default(),
        }
    }

    /// The IAM of the accounts of an in-memory organization (see [`crate::MemoryOrg::iam`]).
    pub(super) fn linked(org: Arc<Mutex<OrgState>>) -> Self {
        Self {
            org: Some(org),
            ..Self::new()
        }
    }

    /// A handle on the same accounts that reaches them with `roles` (the read role first, or
    /// the member role only).
    pub fn with_roles(&self, roles: IamRoles) -> Self {
        Self {
            roles,
            ..self.clone()
        }
    }

    /// The roles this handle assumes.
    pub fn roles(&self) -> &IamRoles {
        &self.roles
    }

    /// Makes more managed policies exist (by ARN), as customer managed policies would.
    pub fn with_managed_policies<I, S>(self, arns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.lock().managed.extend(arns.into_iter().map(Into::into));
        self
    }

    /// Adds accounts (each with no role yet).
    pub fn with_accounts<I, S>(self, accounts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for a in accounts {
            self.add_account(a);
        }
        self
    }

    /// Adds an account (no change when it is there).
    pub fn add_account(&self, account: impl Into<String>) {
        self.lock().accounts.entry(account.into()).or_default();
    }

    /// Test hook: removes the member role from `account` (as someone deleting
    /// `OrganizationAccountAccessRole` there would): AssumeRole of it is refused from now on.
    pub fn remove_member_role(&self, account: &str) {
        self.lock().no_member_role.insert(account.to_owned());
    }

    /// Test hook: puts the member role back into `account` (an unreadable read recorded there
    /// is no longer replayed).
    pub fn restore_member_role(&self, account: &str) {
        let mut s = self.lock();
        s.no_member_role.remove(account);
        if s.recorded.get(account).is_some_and(|r| !r.is_readable()) {
            s.recorded.remove(account);
        }
    }

    /// Snapshot loading: how the read that made the snapshot reached `account` (its
    /// `iam_accounts` entry), so that reading this IAM reaches it the same way, whatever roles
    /// it holds: a read that tries orgctl's read role gets [`IamRead::ReadRole`] where the
    /// recorded read did (an STS that allowed it), and falls back to the member role with the
    /// recorded reason where the recorded read fell back ([`IamRead::Fallback`]); an account
    /// recorded [`IamRead::Unreadable`] refuses every role, with the recorded reason. The
    /// recorded outcome of the read role holds until orgctl's read role is created, has its
    /// trust policy changed or is deleted in the account; from then on (and in accounts with
    /// no record, or recorded [`IamRead::MemberRole`]: the read role was not tried) the read
    /// role can be assumed exactly when it exists under `/orgctl/`.
    pub fn record_read(&self, account: &str, read: &IamRead) {
        if !read.is_readable() {
            self.remove_member_role(account);
        }
        self.lock()
            .recorded
            .insert(account.to_owned(), read.clone());
    }

    /// The recorded reads still replayed (see [`MemoryIam::record_read`]), by account.
    pub fn recorded_reads(&self) -> BTreeMap<String, IamRead> {
        self.lock().recorded.clone()
    }

    /// Forgets the recorded outcome of the read role in `account` after orgctl's read role
    /// there changed (`name` is the role a write touched).
    fn read_role_changed(&self, account: &str, name: &str) {
        if name.eq_ignore_ascii_case(READ_ROLE_NAME) {
            let mut s = self.lock();
            if s.recorded.get(account).is_some_and(IamRead::is_readable) {
                s.recorded.remove(account);
            }
        }
    }

    /// Test hook: removes a role outright, whatever it still has (as a console user might;
    /// no call is logged). Whether it was there.
    pub fn remove_role(&self, account: &str, name: &str) -> bool {
        self.lock()
            .accounts
            .get_mut(account)
            .is_some_and(|roles| roles.remove(&name.to_lowercase()).is_some())
    }

    /// Test hook (and snapshot loading): puts a role as the live state describes it into its
    /// account, replacing one of the same name, without checking IAM's rules or logging a
    /// call. Its managed policies are made to exist.
    pub fn insert_role(&self, role: &LiveAccessRole) {
        let mut s = self.lock();
        s.managed.extend(role.managed_policies.iter().cloned());
        s.managed.extend(role.permissions_boundary.iter().cloned());
        s.accounts
            .entry(role.account_id.clone())
            .or_default()
            .insert(
                role.role_name.to_lowercase(),
                StoredRole {
                    path: role.path.clone(),
                    name: role.role_name.clone(),
                    description: role.description.clone(),
                    max_session_secs: role.max_session_secs,
                    trust_policy: role.trust_policy.clone(),
                    boundary: role.permissions_boundary.clone(),
                    tags: role.tags.clone(),
                    attached: role.managed_policies.clone(),
                    inline: role.inline_policies.clone(),
                },
            );
    }

    /// Every role under [`ROLE_PATH`] in the accounts this IAM serves (for a linked IAM: its
    /// organization's ACTIVE member accounts), as the live-state reader describes them: policy
    /// documents in canonical JSON, sorted by account and name.
    pub fn access_roles(&self) -> Vec<LiveAccessRole> {
        let active = self.active_member_accounts();
        let s = self.lock();
        let mut out = Vec::new();
        for (account, roles) in &s.accounts {
            if active.as_ref().is_some_and(|a| !a.contains(account)) {
                continue;
            }
            for r in roles.values().filter(|r| r.path.starts_with(ROLE_PATH)) {
                out.push(r.live(account));
            }
        }
        out.sort_by(|a, b| {
            (&a.account_id, a.role_name.to_lowercase())
                .cmp(&(&b.account_id, b.role_name.to_lowercase()))
        });
        out
    }

    /// For a linked IAM, the email of each account of its organization, by id (empty
    /// otherwise): tests name accounts by email where ids depend on the order of creation.
    pub fn account_emails(&self) -> BTreeMap<String, String> {
        let Some(org) = self.org.as_ref() else {
            return BTreeMap::new();
        };
        lock(org)
            .accounts
            .iter()
            .map(|(id, a)| (id.clone(), a.email.clone()))
            .collect()
    }

    /// The tags of the linked organization's accounts, by id (none when not linked): what a
    /// test checks the roles record (`orgctl:roles`) against after an IAM write.
    pub fn account_tags(&self) -> BTreeMap<String, orgctl_model::Tags> {
        let Some(org) = self.org.as_ref() else {
            return BTreeMap::new();
        };
        lock(org)
            .accounts
            .iter()
            .map(|(id, a)| (id.clone(), a.tags.clone()))
            .collect()
    }

    /// Accounts whose member role was removed, among those this IAM serves.
    pub fn accounts_without_member_role(&self) -> BTreeSet<String> {
        self.lock().no_member_role.clone()
    }

    /// The operation name of every call so far, in order (`AssumeRole` for each role
    /// [`IamApi::connect`] tries).
    pub fn calls(&self) -> Vec<&'static str> {
        self.lock().calls.clone()
    }

    /// How many calls so far changed (or tried to change) an account.
    pub fn write_call_count(&self) -> usize {
        self.lock().calls.iter().filter(|c| op::is_write(c)).count()
    }

    /// How many calls of one operation were made so far.
    pub fn call_count(&self, operation: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| **c == operation)
            .count()
    }

    /// Forgets the calls made so far.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// For a linked IAM, the organization's ACTIVE member accounts.
    fn active_member_accounts(&self) -> Option<BTreeSet<String>> {
        let org = lock(self.org.as_ref()?);
        Some(
            org.accounts
                .iter()
                .filter(|(id, a)| {
                    **id != org.management_account_id && a.status == AccountStatus::Active
                })
                .map(|(id, _)| id.clone())
                .collect(),
        )
    }

    /// The member role of an ACTIVE member account of a linked IAM, as ListRoles shows it
    /// (unless it was removed): the role AWS Organizations creates in the accounts it creates,
    /// trusting the management account, under this handle's member role path and name. It is
    /// not stored: only ListRoles sees it (orgctl never reads or changes it otherwise).
    fn member_role_summary(&self, account: &str) -> Option<RoleSummary> {
        let management = lock(self.org.as_ref()?).management_account_id.clone();
        if self.unreachable(account).is_some() || self.lock().no_member_role.contains(account) {
            return None;
        }
        let (path, name) = match self.roles.member_role.rsplit_once('/') {
            Some((path, name)) => (format!("/{path}/"), name.to_owned()),
            None => ("/".to_owned(), self.roles.member_role.clone()),
        };
        Some(RoleSummary {
            arn: self.roles.member_role_arn(account),
            path,
            name,
            description: String::new(),
            max_session_secs: MIN_SESSION_SECS,
            trust_policy: format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{management}:root"}},"Action":"sts:AssumeRole"}}]}}"#
            ),
        })
    }

    /// Why no role at all can be assumed in `account`, if none can (the organization is asked
    /// without holding this IAM's lock).
    fn unreachable(&self, account: &str) -> Option<String> {
        let org = self.org.as_ref()?;
        let org = lock(org);
        if account == org.management_account_id {
            return Some(format!(
                "account {account} is the management account, where orgctl assumes no role"
            ));
        }
        match org.accounts.get(account) {
            None => Some(format!("account {account} is not in the organization")),
            Some(a) if a.status != AccountStatus::Active => Some(format!(
                "account {account} is {}",
                match a.status {
                    AccountStatus::Suspended => "suspended (closed)",
                    _ => "closing",
                }
            )),
            Some(_) => None,
        }
    }

    /// How a call in `account` is made: through the read role (when this handle tries it and
    /// it exists), else the member role; the reasons each was refused otherwise.
    fn session(
        &self,
        account: &str,
        blocked: Option<&str>,
        s: &State,
    ) -> Result<IamRead, (Option<String>, String)> {
        let refused = |arn: String, why: &str| {
            format!("AccessDenied: not authorized to perform sts:AssumeRole on {arn} ({why})")
        };
        let known = self.org.is_some() || s.accounts.contains_key(account);
        let recorded = s.recorded.get(account);
        let read_refusal = self.roles.read_role_arn(account).map(|arn| {
            if let Some(why) = blocked {
                return Err(refused(arn, why));
            }
            match recorded {
                Some(IamRead::ReadRole) => return Ok(()),
                Some(IamRead::Fallback { reason } | IamRead::Unreadable { reason }) => {
                    return Err(reason.clone());
                }
                _ => {}
            }
            let exists = s
                .accounts
                .get(account)
                .and_then(|roles| roles.get(&READ_ROLE_NAME.to_lowercase()))
                .is_some_and(|r| r.path == ROLE_PATH);
            if exists {
                Ok(())
            } else {
                Err(refused(arn, "the role does not exist"))
            }
        });
        let read_refusal = match read_refusal {
            Some(Ok(())) => return Ok(IamRead::ReadRole),
            Some(Err(why)) => Some(why),
            None => None,
        };
        let arn = self.roles.member_role_arn(account);
        let member = if let Some(why) = blocked {
            Err(refused(arn, why))
        } else if !known {
            Err(refused(arn, "unknown account"))
        } else if s.no_member_role.contains(account) {
            Err(refused(arn, "the role does not exist"))
        } else {
            Ok(())
        };
        match member {
            Ok(()) => Ok(self.roles.through_member_role(read_refusal)),
            Err(why) => Err((read_refusal, why)),
        }
    }

    fn call<T>(
        &self,
        op: &'static str,
        account: &str,
        f: impl FnOnce(&mut BTreeMap<String, StoredRole>, &BTreeSet<String>) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let blocked = self.unreachable(account);
        let mut guard = self.lock();
        let s = &mut *guard;
        s.calls.push(op);
        match self.session(account, blocked.as_deref(), s) {
            Err((_, why)) => {
                return Err(ApiError::service(
                    op::ASSUME_ROLE,
                    codes::ACCESS_DENIED,
                    why.trim_start_matches("AccessDenied: ").to_owned(),
                ));
            }
            Ok(IamRead::ReadRole) if op::is_write(op) => {
                return Err(err(
                    op,
                    codes::ACCESS_DENIED,
                    format!(
                        "not authorized to perform iam:{op} in account {account} through the read role"
                    ),
                ));
            }
            Ok(_) => {}
        }
        let roles = s.accounts.entry(account.to_owned()).or_default();
        f(roles, &s.managed)
    }

    fn with_role<T>(
        &self,
        op: &'static str,
        account: &str,
        name: &str,
        f: impl FnOnce(&mut StoredRole, &BTreeSet<String>) -> ApiResult<T>,
    ) -> ApiResult<T> {
        check_role_name(op, name)?;
        self.call(op, account, |roles, managed| {
            let role = roles
                .get_mut(&name.to_lowercase())
                .ok_or_else(|| no_such_role(op, name))?;
            f(role, managed)
        })
    }
}

/// The AssumeRole error a recorded unreadable read answered with: the reader records
/// `AssumeRole: CODE: MESSAGE` (the error's text), which this gives back exactly; any other
/// recorded reason becomes the message of an `AccessDenied`.
fn recorded_refusal(reason: &str) -> ApiError {
    let parsed = reason
        .strip_prefix(op::ASSUME_ROLE)
        .and_then(|r| r.strip_prefix(": "))
        .and_then(|r| r.split_once(": "))
        .filter(|(code, _)| !code.is_empty() && !code.contains(' '));
    match parsed {
        Some((code, message)) => err(op::ASSUME_ROLE, code, message),
        None => err(op::ASSUME_ROLE, codes::ACCESS_DENIED, reason),
    }
}

fn err(op: &'static str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::service(op, code, message)
}

fn validation(op: &'static str, what: &str, constraint: &str) -> ApiError {
    err(
        op,
        codes::VALIDATION_ERROR,
        format!(
            "1 validation error detected: Value at '{what}' failed to satisfy constraint: {constraint}"
        ),
    )
}

fn no_such_role(op: &'static str, name: &str) -> ApiError {
    err(
        op,
        codes::NO_SUCH_ENTITY,
        format!("The role with name {name} cannot be found."),
    )
}

fn limit(op: &'static str, quota: &str, max: usize) -> ApiError {
    err(
        op,
        codes::LIMIT_EXCEEDED,
        format!("Cannot exceed quota for {quota}: {max}"),
    )
}

fn iam_name_ok(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

fn check_role_name(op: &'static str, name: &str) -> ApiResult<()> {
    if iam_name_ok(name, ROLE_NAME_MAX) {
        Ok(())
    } else {
        Err(validation(
            op,
            "roleName",
            "Member must have length between 1 and 64 and satisfy regular expression pattern: [\\w+=,.@-]+",
        ))
    }
}

fn check_policy_name(op: &'static str, name: &str) -> ApiResult<()> {
    if iam_name_ok(name, POLICY_NAME_MAX) {
        Ok(())
    } else {
        Err(validation(
            op,
            "policyName",
            "Member must have length between 1 and 128 and satisfy regular expression pattern: [\\w+=,.@-]+",
        ))
    }
}

fn check_path(op: &'static str, path: &str) -> ApiResult<()> {
    let ok = path.len() <= PATH_MAX
        && (path == "/"
            || (path.len() > 2
                && path.starts_with('/')
                && path.ends_with('/')
                && path.chars().all(|c| ('!'..='~').contains(&c))));
    if ok {
        Ok(())
    } else {
        Err(validation(
            op,
            "path",
            "Member must have length less than or equal to 512 and satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ))
    }
}

fn check_description(op: &'static str, description: &str) -> ApiResult<()> {
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(validation(
            op,
            "description",
            "Member must have length less than or equal to 1000",
        ));
    }
    Ok(())
}

fn check_session(op: &'static str, secs: i32) -> ApiResult<()> {
    if (MIN_SESSION_SECS..=MAX_SESSION_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(validation(
            op,
            "maxSessionDuration",
            "Member must have value between 3600 and 43200",
        ))
    }
}

/// A policy document's size as IAM counts it: characters, white space not counted.
pub fn policy_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// The document parses as a JSON object and uses only the characters IAM allows (tab, line
/// feed, carriage return, U+0020–U+00FF).
fn check_document(op: &'static str, document: &str) -> ApiResult<()> {
    if !document
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(err(
            op,
            codes::MALFORMED_POLICY_DOCUMENT,
            "The policy contains characters that are not allowed.",
        ));
    }
    match serde_json::from_str::<serde_json::Value>(document) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(err(
            op,
            codes::MALFORMED_POLICY_DOCUMENT,
            "This policy contains invalid Json",
        )),
    }
}

fn check_trust_policy(op: &'static str, document: &str) -> ApiResult<()> {
    check_document(op, document)?;
    if policy_size(document) > TRUST_POLICY_MAX {
        return Err(limit(op, "ACLSizePerRole", TRUST_POLICY_MAX));
    }
    Ok(())
}

fn check_tags(op: &'static str, tags: &Tags) -> ApiResult<()> {
    for (k, v) in tags {
        if !(1..=128).contains(&k.chars().count()) || v.chars().count() > 256 {
            return Err(validation(
                op,
                "tags",
                "Tag keys must be 1-128 characters and values at most 256",
            ));
        }
    }
    if tags.len() > TAGS_PER_ROLE {
        return Err(limit(op, "TagsPerRole", TAGS_PER_ROLE));
    }
    Ok(())
}

fn check_managed_policy(op: &'static str, managed: &BTreeSet<String>, arn: &str) -> ApiResult<()> {
    if managed.contains(arn) {
        Ok(())
    } else {
        Err(err(
            op,
            codes::NO_SUCH_ENTITY,
            format!("Policy {arn} does not exist or is not attachable."),
        ))
    }
}

fn policy_name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

impl IamApi for MemoryIam {
    async fn connect(&self, account: &str) -> ApiResult<IamRead> {
        let blocked = self.unreachable(account);
        let mut s = self.lock();
        let result = self.session(account, blocked.as_deref(), &s);
        // One AssumeRole per role tried.
        let tries = match &result {
            Ok(IamRead::ReadRole | IamRead::MemberRole) => 1,
            Ok(_) => 2,
            Err((read, _)) => 1 + usize::from(read.is_some()),
        };
        for _ in 0..tries {
            s.calls.push(op::ASSUME_ROLE);
        }
        result.map_err(|(read, member)| {
            if let Some(IamRead::Unreadable { reason }) = s.recorded.get(account) {
                return recorded_refusal(reason);
            }
            let message = match read {
                Some(read) => format!("{read}; {member}"),
                None => member,
            };
            ApiError::service(
                op::ASSUME_ROLE,
                codes::ACCESS_DENIED,
                message.trim_start_matches("AccessDenied: ").to_owned(),
            )
        })
    }

    async fn list_roles(&self, account: &str, path_prefix: &str) -> ApiResult<Vec<RoleSummary>> {
        let member = self.member_role_summary(account);
        self.call(op::LIST_ROLES, account, |roles, _| {
            let mut out: Vec<RoleSummary> = roles
                .values()
                .filter(|r| r.path.starts_with(path_prefix))
                .map(|r| r.summary(account))
                .collect();
            out.extend(member.filter(|m| {
                m.path.starts_with(path_prefix) && !roles.contains_key(&m.name.to_lowercase())
            }));
            out.sort_by_key(|r| r.name.to_lowercase());
            Ok(out)
        })
    }

    async fn get_role(&self, account: &str, name: &str) -> ApiResult<Role> {
        self.with_role(op::GET_ROLE, account, name, |r, _| Ok(r.role(account)))
    }

    async fn create_role(&self, account: &str, role: &NewRole) -> ApiResult<Role> {
        const OP: &str = op::CREATE_ROLE;
        check_role_name(OP, &role.name)?;
        check_path(OP, &role.path)?;
        check_description(OP, &role.description)?;
        check_session(OP, role.max_session_secs)?;
        check_tags(OP, &role.tags)?;
        check_trust_policy(OP, &role.trust_policy)?;
        let created = self.call(OP, account, |roles, _| {
            let key = role.name.to_lowercase();
            if roles.contains_key(&key) {
                return Err(err(
                    OP,
                    codes::ENTITY_ALREADY_EXISTS,
                    format!("Role with name {} already exists.", role.name),
                ));
            }
            let stored = StoredRole {
                path: role.path.clone(),
                name: role.name.clone(),
                description: role.description.clone(),
                max_session_secs: role.max_session_secs,
                trust_policy: role.trust_policy.clone(),
                boundary: None,
                tags: role.tags.clone(),
                attached: BTreeSet::new(),
                inline: BTreeMap::new(),
            };
            let out = stored.role(account);
            roles.insert(key, stored);
            Ok(out)
        })?;
        self.read_role_changed(account, &role.name);
        Ok(created)
    }

    async fn update_trust_policy(
        &self,
        account: &str,
        name: &str,
        trust_policy: &str,
    ) -> ApiResult<()> {
        const OP: &str = op::UPDATE_ASSUME_ROLE_POLICY;
        check_trust_policy(OP, trust_policy)?;
        self.with_role(OP, account, name, |r, _| {
            r.trust_policy = trust_policy.to_owned();
            Ok(())
        })?;
        self.read_role_changed(account, name);
        Ok(())
    }

    async fn update_role(
        &self,
        account: &str,
        name: &str,
        description: &str,
        max_session_secs: i32,
    ) -> ApiResult<()> {
        const OP: &str = op::UPDATE_ROLE;
        check_description(OP, description)?;
        check_session(OP, max_session_secs)?;
        self.with_role(OP, account, name, |r, _| {
            r.description = description.to_owned();
            r.max_session_secs = max_session_secs;
            Ok(())
        })
    }

    async fn tag_role(&self, account: &str, name: &str, tags: &Tags) -> ApiResult<()> {
        const OP: &str = op::TAG_ROLE;
        check_tags(OP, tags)?;
        self.with_role(OP, account, name, |r, _| {
            let mut merged = r.tags.clone();
            merged.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            if merged.len() > TAGS_PER_ROLE {
                return Err(limit(OP, "TagsPerRole", TAGS_PER_ROLE));
            }
            r.tags = merged;
            Ok(())
        })
    }

    async fn untag_role(&self, account: &str, name: &str, keys: &[String]) -> ApiResult<()> {
        self.with_role(op::UNTAG_ROLE, account, name, |r, _| {
            for k in keys {
                r.tags.remove(k);
            }
            Ok(())
        })
    }

    async fn list_attached_policies(
        &self,
        account: &str,
        name: &str,
    ) -> ApiResult<Vec<AttachedPolicy>> {
        self.with_role(op::LIST_ATTACHED_ROLE_POLICIES, account, name, |r, _| {
            Ok(r.attached
                .iter()
                .map(|arn| AttachedPolicy {
                    name: policy_name_of(arn).to_owned(),
                    arn: arn.clone(),
                })
                .collect())
        })
    }

    async fn attach_policy(&self, account: &str, name: &str, policy_arn: &str) -> ApiResult<()> {
        const OP: &str = op::ATTACH_ROLE_POLICY;
        self.with_role(OP, account, name, |r, managed| {
            check_managed_policy(OP, managed, policy_arn)?;
            if r.attached.contains(policy_arn) {
                return Ok(());
            }
            if r.attached.len() >= MANAGED_POLICIES_PER_ROLE {
                return Err(limit(OP, "PoliciesPerRole", MANAGED_POLICIES_PER_ROLE));
            }
            r.attached.insert(policy_arn.to_owned());
            Ok(())
        })
    }

    async fn detach_policy(&self, account: &str, name: &str, policy_arn: &str) -> ApiResult<()> {
        const OP: &str = op::DETACH_ROLE_POLICY;
        self.with_role(OP, account, name, |r, _| {
            if r.attached.remove(policy_arn) {
                Ok(())
            } else {
                Err(err(
                    OP,
                    codes::NO_SUCH_ENTITY,
                    format!("Policy {policy_arn} was not found."),
                ))
            }
        })
    }

    async fn list_inline_policies(&self, account: &str, name: &str) -> ApiResult<Vec<String>> {
        self.with_role(op::LIST_ROLE_POLICIES, account, name, |r, _| {
            Ok(r.inline.keys().cloned().collect())
        })
    }

    async fn get_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
    ) -> ApiResult<String> {
        const OP: &str = op::GET_ROLE_POLICY;
        check_policy_name(OP, policy_name)?;
        self.with_role(OP, account, name, |r, _| {
            r.inline
                .get(policy_name)
                .cloned()
                .ok_or_else(|| no_such_inline(OP, policy_name))
        })
    }

    async fn put_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> ApiResult<()> {
        const OP: &str = op::PUT_ROLE_POLICY;
        check_policy_name(OP, policy_name)?;
        check_document(OP, document)?;
        self.with_role(OP, account, name, |r, _| {
            let others: usize = r
                .inline
                .iter()
                .filter(|(n, _)| n.as_str() != policy_name)
                .map(|(_, d)| policy_size(d))
                .sum();
            if others + policy_size(document) > INLINE_POLICIES_TOTAL_MAX {
                return Err(limit(OP, "RolePolicySize", INLINE_POLICIES_TOTAL_MAX));
            }
            r.inline.insert(policy_name.to_owned(), document.to_owned());
            Ok(())
        })
    }

    async fn delete_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
    ) -> ApiResult<()> {
        const OP: &str = op::DELETE_ROLE_POLICY;
        check_policy_name(OP, policy_name)?;
        self.with_role(OP, account, name, |r, _| {
            r.inline
                .remove(policy_name)
                .map(|_| ())
                .ok_or_else(|| no_such_inline(OP, policy_name))
        })
    }

    async fn put_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        policy_arn: &str,
    ) -> ApiResult<()> {
        const OP: &str = op::PUT_ROLE_PERMISSIONS_BOUNDARY;
        self.with_role(OP, account, name, |r, managed| {
            check_managed_policy(OP, managed, policy_arn)?;
            r.boundary = Some(policy_arn.to_owned());
            Ok(())
        })
    }

    async fn delete_permissions_boundary(&self, account: &str, name: &str) -> ApiResult<()> {
        self.with_role(
            op::DELETE_ROLE_PERMISSIONS_BOUNDARY,
            account,
            name,
            |r, _| {
                r.boundary = None;
                Ok(())
            },
        )
    }

    async fn delete_role(&self, account: &str, name: &str) -> ApiResult<()> {
        const OP: &str = op::DELETE_ROLE;
        check_role_name(OP, name)?;
        self.call(OP, account, |roles, _| {
            let key = name.to_lowercase();
            let role = roles.get(&key).ok_or_else(|| no_such_role(OP, name))?;
            if !role.attached.is_empty() {
                return Err(err(
                    OP,
                    codes::DELETE_CONFLICT,
                    "Cannot delete entity, must detach all policies first.",
                ));
            }
            if !role.inline.is_empty() {
                return Err(err(
                    OP,
                    codes::DELETE_CONFLICT,
                    "Cannot delete entity, must delete policies first.",
                ));
            }
            roles.remove(&key);
            Ok(())
        })?;
        self.read_role_changed(account, name);
        Ok(())
    }
}

fn no_such_inline(op: &'static str, policy_name: &str) -> ApiError {
    err(
        op,
        codes::NO_SUCH_ENTITY,
        format!("The role policy with name {policy_name} cannot be found."),
    )
}

#[cfg(test)]
mod tests;

//! [`MemoryOrg`]: a strict, in-memory AWS Organization behind [`OrgApi`].
//!
//! It serves the test suite and `orgctl plan/apply --live-state FILE` (a snapshot file is a
//! sandbox organization). It is strict on purpose: it enforces the rules AWS Organizations
//! enforces (sibling OU names, OU depth, the last SCP on a target, per-target policy limits,
//! document size and syntax, tag limits, immutable AWS-managed policies, …) and answers with
//! AWS's own error codes, so that code which passes against it does not fail against AWS for a
//! rule the fake forgot. CreateAccount can be made asynchronous (a request stays IN_PROGRESS for
//! a configurable number of status polls), and every call is logged by operation name so tests
//! can assert request budgets ("a second apply makes zero write calls").
//!
//! Ids are deterministic (counters), so snapshots of a run are stable. Every lookup goes
//! through an index, so each call costs O(log n) or O(size of its answer).
//!
//! Modelling choices, where AWS's behaviour is richer than orgctl needs: a closed account goes
//! straight to SUSPENDED (and stays listed); policy names are unique across the organization;
//! the AWS-managed FullAWSAccess SCP exists from the start and is attached to the root and the
//! management account, and enabling SCPs attaches it to everything, as does creating an OU or
//! account while SCPs are enabled; AWS-managed policies cannot be tagged, changed or deleted
//! (`InvalidInputException`, as at AWS). Errors that carry a reason at AWS
//! (`ConstraintViolationException`, `InvalidInputException`) start their message with it:
//! `OU_DEPTH_LIMIT_EXCEEDED: …`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use orgctl_model::{
    AccountStatus, FULL_AWS_ACCESS, LiveAccessRole, LiveAccount, LiveOrganization, LiveOu,
    LivePolicy, LiveState, PolicyType, Tags,
};

use crate::api::{
    AccountInfo, ApiError, ApiResult, CreateAccountState, CreateAccountStatus, OrgApi, OrgInfo,
    OuInfo, PolicySummary, RootInfo, codes, operations as ops,
};

/// AWS's limit on the depth of the OU tree below the root.
pub const MAX_OU_DEPTH: usize = 5;
/// AWS's default limit on the number of policies of one type attached to one target.
pub const DEFAULT_POLICY_LIMIT: usize = 5;
/// AWS's limit on the number of tags on one resource.
pub const MAX_TAGS: usize = 50;
/// The id AWS gives the FullAWSAccess policy.
pub const FULL_AWS_ACCESS_ID: &str = "p-FullAWSAccess";
/// The first account id [`MemoryOrg`] hands out unless told otherwise.
pub const DEFAULT_ACCOUNT_ID_SEED: u64 = 200_000_000_001;

const FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const FULL_AWS_ACCESS_DESCRIPTION: &str = "Allows access to every operation";

/// Why a live-state snapshot cannot be loaded into a [`MemoryOrg`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the live-state snapshot describes an organization AWS could not have: {0}")]
pub struct SnapshotError(pub String);

/// A strict in-memory AWS Organization. See the [module documentation](self).
#[derive(Debug)]
pub struct MemoryOrg {
    state: Mutex<State>,
}

#[derive(Debug, Clone)]
struct Ou {
    name: String,
    parent_id: String,
    tags: Tags,
}

#[derive(Debug, Clone)]
struct Account {
    name: String,
    email: String,
    parent_id: String,
    status: AccountStatus,
    tags: Tags,
}

#[derive(Debug, Clone)]
struct Policy {
    name: String,
    policy_type: PolicyType,
    description: String,
    content: String,
    aws_managed: bool,
    tags: Tags,
    targets: BTreeSet<String>,
}

#[derive(Debug, Clone)]
struct Request {
    name: String,
    email: String,
    tags: Tags,
    state: CreateAccountState,
    account_id: Option<String>,
    failure_reason: Option<String>,
    polls_left: u32,
}

#[derive(Debug)]
struct State {
    org_id: String,
    root_id: String,
    root_tags: Tags,
    management_account_id: String,
    enabled: BTreeSet<PolicyType>,
    ous: HashMap<String, Ou>,
    accounts: HashMap<String, Account>,
    /// Container (root or OU) id → ids of its child OUs.
    child_ous: HashMap<String, BTreeSet<String>>,
    /// Container id → ids of its accounts.
    child_accounts: HashMap<String, BTreeSet<String>>,
    /// (parent id, name) → OU id.
    ou_names: HashMap<(String, String), String>,
    /// Lower-cased email → account id.
    emails: HashMap<String, String>,
    /// Lower-cased emails that belong to accounts outside this organization.
    foreign_emails: HashSet<String>,
    policies: HashMap<String, Policy>,
    /// Policy name → policy id (names are unique in an organization).
    policy_names: HashMap<String, String>,
    /// Target id → ids of the policies attached to it.
    attached: HashMap<String, BTreeSet<String>>,
    /// The AWS-managed FullAWSAccess SCP, if the organization has it.
    full_access: Option<String>,
    requests: BTreeMap<String, Request>,
    access_roles: Vec<LiveAccessRole>,
    next_ou: u64,
    next_policy: u64,
    next_account: u64,
    next_request: u64,
    policy_limit: usize,
    create_polls: u32,
    calls: Vec<&'static str>,
}

impl MemoryOrg {
    /// A new organization: its root, the management account and the AWS-managed FullAWSAccess
    /// SCP (`p-FullAWSAccess`) attached to both; no policy type enabled.
    pub fn new(management_account_id: &str, management_email: &str) -> Self {
        let org_id = format!("o-{}", id_chars(management_account_id, 10));
        let root_id = format!("r-{}", id_chars(&reverse(management_account_id), 4));
        let mut state = State::empty(org_id, root_id.clone(), management_account_id.to_owned());
        state.insert_account(
            management_account_id.to_owned(),
            Account {
                name: "management".to_owned(),
                email: management_email.to_owned(),
                parent_id: root_id.clone(),
                status: AccountStatus::Active,
                tags: Tags::new(),
            },
        );
        state.insert_full_access();
        if let Some(fa) = state.full_access.clone() {
            state.link(&fa, &root_id);
            state.link(&fa, management_account_id);
        }
        Self {
            state: Mutex::new(state),
        }
    }

    /// Loads a snapshot. The snapshot must describe an organization AWS could have: unique ids,
    /// parents that exist, no cycles, OU depth at most [`MAX_OU_DEPTH`], unique sibling OU
    /// names, unique account emails and policy names, the management account present, policies
    /// only of enabled types, attached only to existing targets.
    ///
    /// Policies of a type that is not enabled are not part of a live state; when SCPs are not
    /// enabled, FullAWSAccess is created as in [`MemoryOrg::new`]. When they are enabled and the
    /// snapshot has no FullAWSAccess, the organization simply lacks it.
    pub fn from_live(live: &LiveState) -> Result<Self, SnapshotError> {
        let bad = |m: String| Err(SnapshotError(m));
        let org = &live.organization;
        if org.root_id.is_empty() {
            return bad("the organization has no root id".to_owned());
        }
        let mut state = State::empty(
            org.id.clone(),
            org.root_id.clone(),
            org.management_account_id.clone(),
        );
        state.enabled = org.enabled_policy_types.clone();

        // OUs, parents first (breadth-first from the root).
        let mut by_parent: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
        let mut ids: HashSet<&str> = HashSet::new();
        ids.insert(org.root_id.as_str());
        for ou in &live.ous {
            if !ids.insert(ou.id.as_str()) {
                return bad(format!("the id {} is used twice", ou.id));
            }
            by_parent.entry(ou.parent_id.as_str()).or_default().push(ou);
        }
        let mut level = vec![org.root_id.clone()];
        let mut depth = 0;
        let mut placed = 0usize;
        while !level.is_empty() {
            let mut next = Vec::new();
            for parent in &level {
                let Some(children) = by_parent.get(parent.as_str()) else {
                    continue;
                };
                if depth == MAX_OU_DEPTH {
                    return bad(format!(
                        "OU {} is deeper than AWS's limit of {MAX_OU_DEPTH} levels",
                        children[0].id
                    ));
                }
                for ou in children {
                    let key = (ou.parent_id.clone(), ou.name.clone());
                    if state.ou_names.contains_key(&key) {
                        return bad(format!(
                            "two OUs named {:?} under {}",
                            ou.name, ou.parent_id
                        ));
                    }
                    state.insert_ou(
                        ou.id.clone(),
                        Ou {
                            name: ou.name.clone(),
                            parent_id: ou.parent_id.clone(),
                            tags: ou.tags.clone(),
                        },
                    );
                    placed += 1;
                    next.push(ou.id.clone());
                }
            }
            level = next;
            depth += 1;
        }
        if placed != live.ous.len() {
            let orphan = live
                .ous
                .iter()
                .find(|o| !state.ous.contains_key(&o.id))
                .map(|o| format!("OU {} has parent {}", o.id, o.parent_id))
                .unwrap_or_default();
            return bad(format!(
                "{orphan}, which is neither the root nor an OU reachable from it"
            ));
        }

        for a in &live.accounts {
            if !ids.insert(a.id.as_str()) {
                return bad(format!("the id {} is used twice", a.id));
            }
            if !state.is_container(&a.parent_id) {
                return bad(format!(
                    "account {} has parent {}, which is neither the root nor an OU",
                    a.id, a.parent_id
                ));
            }
            if let Some(other) = state.emails.get(&a.email.to_lowercase()) {
                return bad(format!(
                    "accounts {other} and {} have the same email {}",
                    a.id, a.email
                ));
            }
            state.insert_account(
                a.id.clone(),
                Account {
                    name: a.name.clone(),
                    email: a.email.clone(),
                    parent_id: a.parent_id.clone(),
                    status: a.status,
                    tags: a.tags.clone(),
                },
            );
        }
        if !state.accounts.contains_key(&org.management_account_id) {
            return bad(format!(
                "the management account {} is not among the accounts",
                org.management_account_id
            ));
        }

        for p in &live.policies {
            if !ids.insert(p.id.as_str()) {
                return bad(format!("the id {} is used twice", p.id));
            }
            if !state.enabled.contains(&p.policy_type) {
                return bad(format!(
                    "policy {} is of type {}, which is not enabled",
                    p.id, p.policy_type
                ));
            }
            if let Some(other) = state.policy_names.get(&p.name) {
                return bad(format!(
                    "policies {other} and {} have the same name {:?}",
                    p.id, p.name
                ));
            }
            for t in &p.targets {
                if !state.is_target(t) {
                    return bad(format!(
                        "policy {} is attached to {t}, which is not in the organization",
                        p.id
                    ));
                }
            }
            state.insert_policy(
                p.id.clone(),
                Policy {
                    name: p.name.clone(),
                    policy_type: p.policy_type,
                    description: p.description.clone(),
                    content: if p.aws_managed && p.content.is_empty() && p.name == FULL_AWS_ACCESS {
                        FULL_AWS_ACCESS_CONTENT.to_owned()
                    } else {
                        p.content.clone()
                    },
                    aws_managed: p.aws_managed,
                    tags: p.tags.clone(),
                    targets: BTreeSet::new(),
                },
            );
            for t in &p.targets {
                state.link(&p.id, t);
            }
        }
        if !state.enabled.contains(&PolicyType::ServiceControlPolicy) && state.full_access.is_none()
        {
            if state.policies.contains_key(FULL_AWS_ACCESS_ID) {
                return bad(format!(
                    "{FULL_AWS_ACCESS_ID} is not the AWS-managed FullAWSAccess policy"
                ));
            }
            state.insert_full_access();
            if let Some(fa) = state.full_access.clone() {
                let root = state.root_id.clone();
                let mgmt = state.management_account_id.clone();
                state.link(&fa, &root);
                state.link(&fa, &mgmt);
            }
        }
        state.access_roles = live.access_roles.clone();
        Ok(Self {
            state: Mutex::new(state),
        })
    }

    /// The organization as a normalized live state: exactly what the live-state reader returns
    /// for it (policies of types that are not enabled are left out, and AWS-managed policies
    /// have an empty `content`, since the reader does not describe them).
    pub fn to_live(&self) -> LiveState {
        self.lock().to_live()
    }

    /// Allows at most `limit` policies of one type on one target (AWS's default is 5).
    pub fn with_policy_limit(self, limit: usize) -> Self {
        self.lock().policy_limit = limit;
        self
    }

    /// Keeps every new CreateAccount request IN_PROGRESS for `polls`
    /// DescribeCreateAccountStatus calls; the account appears in the organization when the
    /// request succeeds. With 0 (the default) the request completes within CreateAccount.
    pub fn with_create_account_polls(self, polls: u32) -> Self {
        self.lock().create_polls = polls;
        self
    }

    /// Hands out account ids from `seed` on (skipping ids in use).
    pub fn with_account_id_seed(self, seed: u64) -> Self {
        self.lock().next_account = seed;
        self
    }

    /// Declares emails that belong to AWS accounts outside this organization: creating an
    /// account with one of them fails with `EMAIL_ALREADY_EXISTS`, as at AWS.
    pub fn with_foreign_emails<I, S>(self, emails: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        {
            let mut s = self.lock();
            for e in emails {
                s.foreign_emails.insert(e.as_ref().to_lowercase());
            }
        }
        self
    }

    /// The operation name of every call so far, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.lock().calls.clone()
    }

    /// How many calls so far changed (or tried to change) the organization.
    pub fn write_call_count(&self) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| ops::is_write(c))
            .count()
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

    /// The root's id.
    pub fn root_id(&self) -> String {
        self.lock().root_id.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held leaves consistent data (every mutation is completed
        // before anything can panic), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn call<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut State) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let mut s = self.lock();
        s.calls.push(op);
        f(&mut s)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors, the way AWS words them
// ---------------------------------------------------------------------------------------------

fn err(op: &'static str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::service(op, code, message)
}

fn constraint(op: &'static str, reason: &str, text: &str) -> ApiError {
    err(op, codes::CONSTRAINT_VIOLATION, format!("{reason}: {text}"))
}

fn invalid(op: &'static str, reason: &str, text: impl AsRef<str>) -> ApiError {
    err(
        op,
        codes::INVALID_INPUT,
        format!("{reason}: {}", text.as_ref()),
    )
}

fn parent_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::PARENT_NOT_FOUND,
        "We can't find a root or OU with the ParentId that you specified.",
    )
}

fn ou_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::OU_NOT_FOUND,
        "We can't find an OU with the OrganizationalUnitId that you specified.",
    )
}

fn account_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::ACCOUNT_NOT_FOUND,
        "We can't find an AWS account with the AccountId that you specified.",
    )
}

fn policy_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::POLICY_NOT_FOUND,
        "We can't find a policy with the PolicyId that you specified.",
    )
}

fn target_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::TARGET_NOT_FOUND,
        "We can't find a root, OU, account, or policy with the TargetId that you specified.",
    )
}

fn type_not_enabled(op: &'static str) -> ApiError {
    err(
        op,
        codes::POLICY_TYPE_NOT_ENABLED,
        "The specified policy type isn't currently enabled in this root. You can't attach \
         policies of the specified type to entities in a root until you enable that type in \
         the root.",
    )
}

fn immutable_policy(op: &'static str) -> ApiError {
    invalid(
        op,
        "IMMUTABLE_POLICY",
        "You specified a policy that is managed by AWS and can't be modified.",
    )
}

// ---------------------------------------------------------------------------------------------
// Input validation (AWS's documented lengths and patterns)
// ---------------------------------------------------------------------------------------------

fn check_len(op: &'static str, what: &str, value: &str, min: usize, max: usize) -> ApiResult<()> {
    let n = value.chars().count();
    if n < min {
        return Err(invalid(
            op,
            "MIN_LENGTH_EXCEEDED",
            format!("{what} must be at least {min} characters long."),
        ));
    }
    if n > max {
        return Err(invalid(
            op,
            "MAX_LENGTH_EXCEEDED",
            format!("{what} must be at most {max} characters long."),
        ));
    }
    Ok(())
}

fn check_ou_name(op: &'static str, name: &str) -> ApiResult<()> {
    check_len(op, "Name", name, 1, 128)
}

fn check_policy_name(op: &'static str, name: &str) -> ApiResult<()> {
    check_len(op, "Name", name, 1, 128)
}

fn check_description(op: &'static str, description: &str) -> ApiResult<()> {
    check_len(op, "Description", description, 0, 512)
}

fn check_account_name(op: &'static str, name: &str) -> ApiResult<()> {
    check_len(op, "AccountName", name, 1, 50)?;
    if !name.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(invalid(
            op,
            "INVALID_PATTERN",
            "AccountName may contain only printable ASCII characters.",
        ));
    }
    Ok(())
}

/// AWS's pattern for account emails: `[^\s@]+@[^\s@]+\.[^\s@]+`, 6–64 characters.
fn check_email(op: &'static str, email: &str) -> ApiResult<()> {
    check_len(op, "Email", email, 6, 64)?;
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            let no_space_or_at = |s: &str| !s.chars().any(|c| c.is_whitespace() || c == '@');
            !local.is_empty()
                && no_space_or_at(local)
                && no_space_or_at(domain)
                && domain
                    .char_indices()
                    .any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len())
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            op,
            "INVALID_PATTERN",
            format!("The email address {email:?} doesn't match the required pattern."),
        ))
    }
}

/// AWS's tag pattern: `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`.
fn tag_chars_ok(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_alphanumeric()
            || (c.is_whitespace() && !c.is_control())
            || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
    })
}

fn check_tag_key(op: &'static str, key: &str) -> ApiResult<()> {
    check_len(op, "Tag key", key, 1, 128)?;
    if key.to_lowercase().starts_with("aws:") {
        return Err(invalid(
            op,
            "INVALID_SYSTEM_TAGS_PARAMETER",
            format!(
                "The tag key {key:?} is a system tag. You can't add, edit, or delete system \
                 tag keys because they're reserved for AWS use."
            ),
        ));
    }
    if !tag_chars_ok(key) {
        return Err(invalid(
            op,
            "INVALID_PATTERN",
            format!("The tag key {key:?} doesn't match the required pattern."),
        ));
    }
    Ok(())
}

fn check_tags(op: &'static str, tags: &Tags) -> ApiResult<()> {
    for (k, v) in tags {
        check_tag_key(op, k)?;
        check_len(op, "Tag value", v, 0, 256)?;
        if !tag_chars_ok(v) {
            return Err(invalid(
                op,
                "INVALID_PATTERN",
                format!("The value of tag {k:?} doesn't match the required pattern."),
            ));
        }
    }
    check_tag_count(op, tags.len())
}

fn check_tag_count(op: &'static str, n: usize) -> ApiResult<()> {
    if n > MAX_TAGS {
        return Err(constraint(
            op,
            "MAX_TAG_LIMIT_EXCEEDED",
            &format!(
                "You have exceeded the number of tags allowed on this resource ({n} > {MAX_TAGS})."
            ),
        ));
    }
    Ok(())
}

fn check_content(op: &'static str, policy_type: PolicyType, content: &str) -> ApiResult<()> {
    if content.is_empty() {
        return Err(invalid(
            op,
            "MIN_LENGTH_EXCEEDED",
            "Content must be at least 1 character long.",
        ));
    }
    let max = policy_type.max_document_chars();
    let n = content.chars().count();
    if n > max {
        return Err(constraint(
            op,
            "POLICY_CONTENT_LIMIT_EXCEEDED",
            &format!(
                "You have exceeded the maximum policy size ({n} characters; a {policy_type} may \
                 have at most {max})."
            ),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(content) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(err(
            op,
            codes::MALFORMED_POLICY_DOCUMENT,
            "The provided policy document doesn't meet the requirements of the specified \
             policy type.",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

/// `n` lower-case alphanumerics taken from `s`, padded with `0`.
fn id_chars(s: &str, n: usize) -> String {
    let mut out: String = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(n)
        .collect();
    while out.len() < n {
        out.push('0');
    }
    out
}

fn reverse(s: &str) -> String {
    s.chars().rev().collect()
}

// ---------------------------------------------------------------------------------------------
// The organization
// ---------------------------------------------------------------------------------------------

impl State {
    fn empty(org_id: String, root_id: String, management_account_id: String) -> Self {
        let mut child_ous = HashMap::new();
        child_ous.insert(root_id.clone(), BTreeSet::new());
        let mut child_accounts = HashMap::new();
        child_accounts.insert(root_id.clone(), BTreeSet::new());
        Self {
            org_id,
            root_id,
            root_tags: Tags::new(),
            management_account_id,
            enabled: BTreeSet::new(),
            ous: HashMap::new(),
            accounts: HashMap::new(),
            child_ous,
            child_accounts,
            ou_names: HashMap::new(),
            emails: HashMap::new(),
            foreign_emails: HashSet::new(),
            policies: HashMap::new(),
            policy_names: HashMap::new(),
            attached: HashMap::new(),
            full_access: None,
            requests: BTreeMap::new(),
            access_roles: Vec::new(),
            next_ou: 1,
            next_policy: 1,
            next_account: DEFAULT_ACCOUNT_ID_SEED,
            next_request: 1,
            policy_limit: DEFAULT_POLICY_LIMIT,
            create_polls: 0,
            calls: Vec::new(),
        }
    }

    fn is_container(&self, id: &str) -> bool {
        id == self.root_id || self.ous.contains_key(id)
    }

    fn is_target(&self, id: &str) -> bool {
        self.is_container(id) || self.accounts.contains_key(id)
    }

    fn scp_enabled(&self) -> bool {
        self.enabled.contains(&PolicyType::ServiceControlPolicy)
    }

    fn insert_ou(&mut self, id: String, ou: Ou) {
        self.ou_names
            .insert((ou.parent_id.clone(), ou.name.clone()), id.clone());
        self.child_ous
            .entry(ou.parent_id.clone())
            .or_default()
            .insert(id.clone());
        self.child_ous.entry(id.clone()).or_default();
        self.child_accounts.entry(id.clone()).or_default();
        self.ous.insert(id, ou);
    }

    fn insert_account(&mut self, id: String, account: Account) {
        self.emails.insert(account.email.to_lowercase(), id.clone());
        self.child_accounts
            .entry(account.parent_id.clone())
            .or_default()
            .insert(id.clone());
        self.accounts.insert(id, account);
    }

    fn insert_policy(&mut self, id: String, policy: Policy) {
        if policy.aws_managed
            && policy.name == FULL_AWS_ACCESS
            && policy.policy_type == PolicyType::ServiceControlPolicy
        {
            self.full_access = Some(id.clone());
        }
        self.policy_names.insert(policy.name.clone(), id.clone());
        self.policies.insert(id, policy);
    }

    fn insert_full_access(&mut self) {
        self.insert_policy(
            FULL_AWS_ACCESS_ID.to_owned(),
            Policy {
                name: FULL_AWS_ACCESS.to_owned(),
                policy_type: PolicyType::ServiceControlPolicy,
                description: FULL_AWS_ACCESS_DESCRIPTION.to_owned(),
                content: FULL_AWS_ACCESS_CONTENT.to_owned(),
                aws_managed: true,
                tags: Tags::new(),
                targets: BTreeSet::new(),
            },
        );
    }

    fn link(&mut self, policy_id: &str, target: &str) {
        if let Some(p) = self.policies.get_mut(policy_id) {
            p.targets.insert(target.to_owned());
            self.attached
                .entry(target.to_owned())
                .or_default()
                .insert(policy_id.to_owned());
        }
    }

    fn unlink(&mut self, policy_id: &str, target: &str) {
        if let Some(p) = self.policies.get_mut(policy_id) {
            p.targets.remove(target);
        }
        if let Some(set) = self.attached.get_mut(target) {
            set.remove(policy_id);
            if set.is_empty() {
                self.attached.remove(target);
            }
        }
    }

    /// What AWS does to every new OU and account while SCPs are enabled.
    fn attach_full_access(&mut self, target: &str) {
        if self.scp_enabled()
            && let Some(fa) = self.full_access.clone()
        {
            self.link(&fa, target);
        }
    }

    /// Number of policies of `policy_type` attached to `target`.
    fn attached_count(&self, target: &str, policy_type: PolicyType) -> usize {
        self.attached.get(target).map_or(0, |set| {
            set.iter()
                .filter(|p| {
                    self.policies
                        .get(*p)
                        .is_some_and(|p| p.policy_type == policy_type)
                })
                .count()
        })
    }

    /// Depth of a container: 0 for the root, 1 for its child OUs, …
    fn depth(&self, container: &str) -> usize {
        let mut depth = 0;
        let mut id = container;
        while let Some(ou) = self.ous.get(id) {
            depth += 1;
            id = &ou.parent_id;
        }
        depth
    }

    fn new_ou_id(&mut self) -> String {
        let root4 = id_chars(self.root_id.trim_start_matches("r-"), 4);
        loop {
            let id = format!("ou-{root4}-{:08}", self.next_ou);
            self.next_ou += 1;
            if !self.ous.contains_key(&id) {
                return id;
            }
        }
    }

    fn new_policy_id(&mut self) -> String {
        loop {
            let id = format!("p-{:08}", self.next_policy);
            self.next_policy += 1;
            if !self.policies.contains_key(&id) {
                return id;
            }
        }
    }

    fn new_account_id(&mut self) -> String {
        loop {
            let id = format!("{:012}", self.next_account % 1_000_000_000_000);
            self.next_account += 1;
            if !self.accounts.contains_key(&id) && !self.ous.contains_key(&id) {
                return id;
            }
        }
    }

    fn new_request_id(&mut self) -> String {
        let id = format!("car-{:08}", self.next_request);
        self.next_request += 1;
        id
    }

    fn tags_mut(&mut self, op: &'static str, resource: &str) -> ApiResult<&mut Tags> {
        if resource == self.root_id {
            return Ok(&mut self.root_tags);
        }
        if let Some(ou) = self.ous.get_mut(resource) {
            return Ok(&mut ou.tags);
        }
        if let Some(a) = self.accounts.get_mut(resource) {
            return Ok(&mut a.tags);
        }
        match self.policies.get_mut(resource) {
            // AWS answers tag calls on AWS-managed policies (`p-FullAWSAccess`) as if the id
            // were malformed.
            Some(p) if p.aws_managed => Err(invalid(
                op,
                "INVALID_PATTERN",
                "You provided a value that does not match the required pattern.",
            )),
            Some(p) => Ok(&mut p.tags),
            None => Err(target_not_found(op)),
        }
    }

    fn to_live(&self) -> LiveState {
        let mut live = LiveState {
            organization: LiveOrganization {
                id: self.org_id.clone(),
                management_account_id: self.management_account_id.clone(),
                root_id: self.root_id.clone(),
                enabled_policy_types: self.enabled.clone(),
            },
            ous: self
                .ous
                .iter()
                .map(|(id, o)| LiveOu {
                    id: id.clone(),
                    name: o.name.clone(),
                    parent_id: o.parent_id.clone(),
                    tags: o.tags.clone(),
                })
                .collect(),
            accounts: self
                .accounts
                .iter()
                .map(|(id, a)| LiveAccount {
                    id: id.clone(),
                    name: a.name.clone(),
                    email: a.email.clone(),
                    parent_id: a.parent_id.clone(),
                    status: a.status,
                    tags: a.tags.clone(),
                })
                .collect(),
            policies: self
                .policies
                .iter()
                .filter(|(_, p)| self.enabled.contains(&p.policy_type))
                .map(|(id, p)| LivePolicy {
                    id: id.clone(),
                    name: p.name.clone(),
                    policy_type: p.policy_type,
                    description: p.description.clone(),
                    // The reader does not describe AWS-managed policies.
                    content: if p.aws_managed {
                        String::new()
                    } else {
                        p.content.clone()
                    },
                    aws_managed: p.aws_managed,
                    tags: p.tags.clone(),
                    targets: p.targets.iter().cloned().collect(),
                })
                .collect(),
            access_roles: self.access_roles.clone(),
        };
        live.normalize();
        live
    }

    fn account_info(id: &str, a: &Account) -> AccountInfo {
        AccountInfo {
            id: id.to_owned(),
            name: a.name.clone(),
            email: a.email.clone(),
            status: a.status,
        }
    }

    fn policy_summary(id: &str, p: &Policy) -> PolicySummary {
        PolicySummary {
            id: id.to_owned(),
            name: p.name.clone(),
            policy_type: p.policy_type,
            description: p.description.clone(),
            aws_managed: p.aws_managed,
        }
    }

    fn request_status(id: &str, r: &Request) -> CreateAccountStatus {
        CreateAccountStatus {
            request_id: id.to_owned(),
            account_name: r.name.clone(),
            state: r.state,
            account_id: r.account_id.clone(),
            failure_reason: r.failure_reason.clone(),
        }
    }

    // -- reads ---------------------------------------------------------------------------------

    fn list_ous_for_parent(&self, op: &'static str, parent: &str) -> ApiResult<Vec<OuInfo>> {
        if !self.is_container(parent) {
            return Err(parent_not_found(op));
        }
        Ok(self
            .child_ous
            .get(parent)
            .into_iter()
            .flatten()
            .filter_map(|id| {
                self.ous.get(id).map(|o| OuInfo {
                    id: id.clone(),
                    name: o.name.clone(),
                })
            })
            .collect())
    }

    fn list_accounts_for_parent(
        &self,
        op: &'static str,
        parent: &str,
    ) -> ApiResult<Vec<AccountInfo>> {
        if !self.is_container(parent) {
            return Err(parent_not_found(op));
        }
        Ok(self
            .child_accounts
            .get(parent)
            .into_iter()
            .flatten()
            .filter_map(|id| self.accounts.get(id).map(|a| Self::account_info(id, a)))
            .collect())
    }

    fn list_accounts(&self) -> Vec<AccountInfo> {
        let mut all: Vec<AccountInfo> = self
            .accounts
            .iter()
            .map(|(id, a)| Self::account_info(id, a))
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    fn list_parent(&self, op: &'static str, child: &str) -> ApiResult<String> {
        if let Some(ou) = self.ous.get(child) {
            return Ok(ou.parent_id.clone());
        }
        if let Some(a) = self.accounts.get(child) {
            return Ok(a.parent_id.clone());
        }
        Err(err(
            op,
            codes::CHILD_NOT_FOUND,
            "We can't find an organizational unit (OU) or AWS account with the ChildId that you \
             specified.",
        ))
    }

    fn list_tags(&mut self, op: &'static str, resource: &str) -> ApiResult<Tags> {
        self.tags_mut(op, resource).map(|t| t.clone())
    }

    fn list_policies(&self, policy_type: PolicyType) -> Vec<PolicySummary> {
        let mut all: Vec<PolicySummary> = self
            .policies
            .iter()
            .filter(|(_, p)| p.policy_type == policy_type)
            .map(|(id, p)| Self::policy_summary(id, p))
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    fn describe_create_account_status(
        &mut self,
        op: &'static str,
        request_id: &str,
    ) -> ApiResult<CreateAccountStatus> {
        let Some(r) = self.requests.get_mut(request_id) else {
            return Err(err(
                op,
                codes::CREATE_ACCOUNT_STATUS_NOT_FOUND,
                "We can't find a create account request with the CreateAccountRequestId that \
                 you specified.",
            ));
        };
        if r.state == CreateAccountState::InProgress {
            if r.polls_left > 0 {
                r.polls_left -= 1;
            } else {
                self.finish_request(request_id);
            }
        }
        self.requests
            .get(request_id)
            .map(|r| Self::request_status(request_id, r))
            .ok_or_else(|| err(op, codes::CREATE_ACCOUNT_STATUS_NOT_FOUND, "gone"))
    }

    // -- writes --------------------------------------------------------------------------------

    fn enable_policy_type(
        &mut self,
        op: &'static str,
        root: &str,
        policy_type: PolicyType,
    ) -> ApiResult<()> {
        if root != self.root_id {
            return Err(err(
                op,
                codes::ROOT_NOT_FOUND,
                "We can't find a root with the RootId that you specified.",
            ));
        }
        if self.enabled.contains(&policy_type) {
            return Err(err(
                op,
                codes::POLICY_TYPE_ALREADY_ENABLED,
                "The specified policy type is already enabled in the specified root.",
            ));
        }
        self.enabled.insert(policy_type);
        if policy_type == PolicyType::ServiceControlPolicy
            && let Some(fa) = self.full_access.clone()
        {
            // AWS attaches FullAWSAccess to the root and to every OU and account.
            let mut targets = vec![self.root_id.clone()];
            targets.extend(self.ous.keys().cloned());
            targets.extend(self.accounts.keys().cloned());
            for t in targets {
                self.link(&fa, &t);
            }
        }
        Ok(())
    }

    fn create_ou(
        &mut self,
        op: &'static str,
        parent: &str,
        name: &str,
        tags: &Tags,
    ) -> ApiResult<OuInfo> {
        check_ou_name(op, name)?;
        check_tags(op, tags)?;
        if !self.is_container(parent) {
            return Err(parent_not_found(op));
        }
        if self.depth(parent) + 1 > MAX_OU_DEPTH {
            return Err(constraint(
                op,
                "OU_DEPTH_LIMIT_EXCEEDED",
                &format!(
                    "You attempted to create an OU tree that is too many levels deep (at most \
                     {MAX_OU_DEPTH} levels below the root)."
                ),
            ));
        }
        if self
            .ou_names
            .contains_key(&(parent.to_owned(), name.to_owned()))
        {
            return Err(err(
                op,
                codes::DUPLICATE_OU,
                "An OU with the same name already exists.",
            ));
        }
        let id = self.new_ou_id();
        self.insert_ou(
            id.clone(),
            Ou {
                name: name.to_owned(),
                parent_id: parent.to_owned(),
                tags: tags.clone(),
            },
        );
        self.attach_full_access(&id);
        Ok(OuInfo {
            id,
            name: name.to_owned(),
        })
    }

    fn rename_ou(&mut self, op: &'static str, id: &str, name: &str) -> ApiResult<()> {
        check_ou_name(op, name)?;
        let Some(ou) = self.ous.get(id) else {
            return Err(ou_not_found(op));
        };
        let parent = ou.parent_id.clone();
        let old = ou.name.clone();
        match self.ou_names.get(&(parent.clone(), name.to_owned())) {
            Some(other) if other != id => {
                return Err(err(
                    op,
                    codes::DUPLICATE_OU,
                    "An OU with the same name already exists.",
                ));
            }
            _ => {}
        }
        self.ou_names.remove(&(parent.clone(), old));
        self.ou_names
            .insert((parent, name.to_owned()), id.to_owned());
        if let Some(ou) = self.ous.get_mut(id) {
            ou.name = name.to_owned();
        }
        Ok(())
    }

    fn delete_ou(&mut self, op: &'static str, id: &str) -> ApiResult<()> {
        let Some(ou) = self.ous.get(id) else {
            return Err(ou_not_found(op));
        };
        let has_children = self.child_ous.get(id).is_some_and(|c| !c.is_empty())
            || self.child_accounts.get(id).is_some_and(|c| !c.is_empty());
        if has_children {
            return Err(err(
                op,
                codes::OU_NOT_EMPTY,
                "The specified OU is not empty. Move all accounts to another root or to other \
                 OUs, remove all child OUs, and try the operation again.",
            ));
        }
        let key = (ou.parent_id.clone(), ou.name.clone());
        let parent = ou.parent_id.clone();
        self.ou_names.remove(&key);
        if let Some(siblings) = self.child_ous.get_mut(&parent) {
            siblings.remove(id);
        }
        self.child_ous.remove(id);
        self.child_accounts.remove(id);
        for p in self.attached.remove(id).unwrap_or_default() {
            if let Some(p) = self.policies.get_mut(&p) {
                p.targets.remove(id);
            }
        }
        self.ous.remove(id);
        Ok(())
    }

    fn create_account(
        &mut self,
        op: &'static str,
        name: &str,
        email: &str,
        tags: &Tags,
    ) -> ApiResult<CreateAccountStatus> {
        check_account_name(op, name)?;
        check_email(op, email)?;
        check_tags(op, tags)?;
        let id = self.new_request_id();
        self.requests.insert(
            id.clone(),
            Request {
                name: name.to_owned(),
                email: email.to_owned(),
                tags: tags.clone(),
                state: CreateAccountState::InProgress,
                account_id: None,
                failure_reason: None,
                polls_left: self.create_polls,
            },
        );
        if self.create_polls == 0 {
            self.finish_request(&id);
        }
        self.requests
            .get(&id)
            .map(|r| Self::request_status(&id, r))
            .ok_or_else(|| err(op, codes::SERVICE, "request lost"))
    }

    /// Completes an IN_PROGRESS request: the account appears in the root, or the request fails.
    fn finish_request(&mut self, request_id: &str) {
        let Some(r) = self.requests.get(request_id) else {
            return;
        };
        let email = r.email.to_lowercase();
        if self.emails.contains_key(&email) || self.foreign_emails.contains(&email) {
            if let Some(r) = self.requests.get_mut(request_id) {
                r.state = CreateAccountState::Failed;
                r.failure_reason = Some("EMAIL_ALREADY_EXISTS".to_owned());
            }
            return;
        }
        let account = Account {
            name: r.name.clone(),
            email: r.email.clone(),
            parent_id: self.root_id.clone(),
            status: AccountStatus::Active,
            tags: r.tags.clone(),
        };
        let id = self.new_account_id();
        self.insert_account(id.clone(), account);
        self.attach_full_access(&id);
        if let Some(r) = self.requests.get_mut(request_id) {
            r.state = CreateAccountState::Succeeded;
            r.account_id = Some(id);
        }
    }

    fn move_account(
        &mut self,
        op: &'static str,
        account_id: &str,
        source: &str,
        destination: &str,
    ) -> ApiResult<()> {
        let Some(a) = self.accounts.get(account_id) else {
            return Err(account_not_found(op));
        };
        if !self.is_container(source) || a.parent_id != source {
            return Err(err(
                op,
                codes::SOURCE_PARENT_NOT_FOUND,
                "We can't find a source root or OU with the ParentId that you specified.",
            ));
        }
        if !self.is_container(destination) {
            return Err(err(
                op,
                codes::DESTINATION_PARENT_NOT_FOUND,
                "We can't find the destination container (a root or OU) with the ParentId \
                 that you specified.",
            ));
        }
        if source == destination {
            return Err(err(
                op,
                codes::DUPLICATE_ACCOUNT,
                "That account is already present in the specified destination.",
            ));
        }
        if let Some(set) = self.child_accounts.get_mut(source) {
            set.remove(account_id);
        }
        self.child_accounts
            .entry(destination.to_owned())
            .or_default()
            .insert(account_id.to_owned());
        if let Some(a) = self.accounts.get_mut(account_id) {
            a.parent_id = destination.to_owned();
        }
        Ok(())
    }

    fn close_account(&mut self, op: &'static str, account_id: &str) -> ApiResult<()> {
        let Some(a) = self.accounts.get_mut(account_id) else {
            return Err(account_not_found(op));
        };
        if account_id == self.management_account_id {
            return Err(constraint(
                op,
                "CANNOT_CLOSE_MANAGEMENT_ACCOUNT",
                "You attempted to close the management account. To close the management \
                 account for the organization, you must first either remove or close all member \
                 accounts in the organization.",
            ));
        }
        if a.status.is_closed() {
            return Err(err(
                op,
                codes::ACCOUNT_ALREADY_CLOSED,
                "You attempted to close an account that is already closed.",
            ));
        }
        a.status = AccountStatus::Suspended;
        Ok(())
    }

    fn tag_resource(&mut self, op: &'static str, resource: &str, tags: &Tags) -> ApiResult<()> {
        check_tags(op, tags)?;
        let current = self.tags_mut(op, resource)?;
        let total = current.len() + tags.keys().filter(|k| !current.contains_key(*k)).count();
        check_tag_count(op, total)?;
        for (k, v) in tags {
            current.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    fn untag_resource(
        &mut self,
        op: &'static str,
        resource: &str,
        keys: &[String],
    ) -> ApiResult<()> {
        for k in keys {
            check_tag_key(op, k)?;
        }
        let current = self.tags_mut(op, resource)?;
        for k in keys {
            current.remove(k);
        }
        Ok(())
    }

    fn create_policy(
        &mut self,
        op: &'static str,
        name: &str,
        policy_type: PolicyType,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> ApiResult<PolicySummary> {
        check_policy_name(op, name)?;
        check_description(op, description)?;
        check_tags(op, tags)?;
        if !self.enabled.contains(&policy_type) {
            return Err(type_not_enabled(op));
        }
        check_content(op, policy_type, content)?;
        if self.policy_names.contains_key(name) {
            return Err(err(
                op,
                codes::DUPLICATE_POLICY,
                "A policy with the same name already exists.",
            ));
        }
        let id = self.new_policy_id();
        let policy = Policy {
            name: name.to_owned(),
            policy_type,
            description: description.to_owned(),
            content: content.to_owned(),
            aws_managed: false,
            tags: tags.clone(),
            targets: BTreeSet::new(),
        };
        let summary = Self::policy_summary(&id, &policy);
        self.insert_policy(id, policy);
        Ok(summary)
    }

    fn update_policy(
        &mut self,
        op: &'static str,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> ApiResult<()> {
        let Some(p) = self.policies.get(policy_id) else {
            return Err(policy_not_found(op));
        };
        if p.aws_managed {
            return Err(immutable_policy(op));
        }
        if let Some(d) = description {
            check_description(op, d)?;
        }
        if let Some(c) = content {
            check_content(op, p.policy_type, c)?;
        }
        if let Some(p) = self.policies.get_mut(policy_id) {
            if let Some(d) = description {
                p.description = d.to_owned();
            }
            if let Some(c) = content {
                p.content = c.to_owned();
            }
        }
        Ok(())
    }

    fn attach_policy(&mut self, op: &'static str, policy_id: &str, target: &str) -> ApiResult<()> {
        let Some(p) = self.policies.get(policy_id) else {
            return Err(policy_not_found(op));
        };
        if !self.is_target(target) {
            return Err(target_not_found(op));
        }
        if !self.enabled.contains(&p.policy_type) {
            return Err(type_not_enabled(op));
        }
        if p.targets.contains(target) {
            return Err(err(
                op,
                codes::DUPLICATE_POLICY_ATTACHMENT,
                "The selected policy is already attached to the specified target.",
            ));
        }
        if self.attached_count(target, p.policy_type) >= self.policy_limit {
            return Err(constraint(
                op,
                "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                &format!(
                    "You attempted to exceed the number of policies of a certain type that can \
                     be attached to an entity at one time ({} {} policies).",
                    self.policy_limit, p.policy_type
                ),
            ));
        }
        self.link(policy_id, target);
        Ok(())
    }

    fn detach_policy(&mut self, op: &'static str, policy_id: &str, target: &str) -> ApiResult<()> {
        let Some(p) = self.policies.get(policy_id) else {
            return Err(policy_not_found(op));
        };
        if !self.is_target(target) {
            return Err(target_not_found(op));
        }
        if !p.targets.contains(target) {
            return Err(err(
                op,
                codes::POLICY_NOT_ATTACHED,
                "The policy isn't attached to the specified target in the specified root.",
            ));
        }
        if p.policy_type == PolicyType::ServiceControlPolicy
            && self.scp_enabled()
            && self.attached_count(target, PolicyType::ServiceControlPolicy) <= 1
        {
            return Err(constraint(
                op,
                "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                "You attempted to detach a policy from an entity that would cause the entity to \
                 have fewer than the minimum number of policies of a certain type required \
                 (every root, OU and account must have at least one SCP attached).",
            ));
        }
        self.unlink(policy_id, target);
        Ok(())
    }

    fn delete_policy(&mut self, op: &'static str, policy_id: &str) -> ApiResult<()> {
        let Some(p) = self.policies.get(policy_id) else {
            return Err(policy_not_found(op));
        };
        if p.aws_managed {
            return Err(immutable_policy(op));
        }
        if !p.targets.is_empty() {
            return Err(err(
                op,
                codes::POLICY_IN_USE,
                "The policy is attached to one or more entities. You must detach it from all \
                 roots, OUs, and accounts before performing this operation.",
            ));
        }
        if let Some(p) = self.policies.remove(policy_id) {
            self.policy_names.remove(&p.name);
        }
        Ok(())
    }
}

impl OrgApi for MemoryOrg {
    async fn describe_organization(&self) -> ApiResult<OrgInfo> {
        self.call(ops::DESCRIBE_ORGANIZATION, |s| {
            Ok(OrgInfo {
                id: s.org_id.clone(),
                management_account_id: s.management_account_id.clone(),
            })
        })
    }

    async fn list_roots(&self) -> ApiResult<Vec<RootInfo>> {
        self.call(ops::LIST_ROOTS, |s| {
            Ok(vec![RootInfo {
                id: s.root_id.clone(),
                enabled_policy_types: s.enabled.iter().copied().collect(),
            }])
        })
    }

    async fn list_ous_for_parent(&self, parent_id: &str) -> ApiResult<Vec<OuInfo>> {
        self.call(ops::LIST_OUS_FOR_PARENT, |s| {
            s.list_ous_for_parent(ops::LIST_OUS_FOR_PARENT, parent_id)
        })
    }

    async fn list_accounts_for_parent(&self, parent_id: &str) -> ApiResult<Vec<AccountInfo>> {
        self.call(ops::LIST_ACCOUNTS_FOR_PARENT, |s| {
            s.list_accounts_for_parent(ops::LIST_ACCOUNTS_FOR_PARENT, parent_id)
        })
    }

    async fn list_accounts(&self) -> ApiResult<Vec<AccountInfo>> {
        self.call(ops::LIST_ACCOUNTS, |s| Ok(s.list_accounts()))
    }

    async fn list_parent(&self, child_id: &str) -> ApiResult<String> {
        self.call(ops::LIST_PARENTS, |s| {
            s.list_parent(ops::LIST_PARENTS, child_id)
        })
    }

    async fn describe_ou(&self, ou_id: &str) -> ApiResult<OuInfo> {
        self.call(ops::DESCRIBE_OU, |s| {
            s.ous
                .get(ou_id)
                .map(|o| OuInfo {
                    id: ou_id.to_owned(),
                    name: o.name.clone(),
                })
                .ok_or_else(|| ou_not_found(ops::DESCRIBE_OU))
        })
    }

    async fn list_tags(&self, resource_id: &str) -> ApiResult<Tags> {
        self.call(ops::LIST_TAGS, |s| s.list_tags(ops::LIST_TAGS, resource_id))
    }

    async fn list_policies(&self, policy_type: PolicyType) -> ApiResult<Vec<PolicySummary>> {
        self.call(ops::LIST_POLICIES, |s| Ok(s.list_policies(policy_type)))
    }

    async fn describe_policy(&self, policy_id: &str) -> ApiResult<String> {
        self.call(ops::DESCRIBE_POLICY, |s| {
            s.policies
                .get(policy_id)
                .map(|p| p.content.clone())
                .ok_or_else(|| policy_not_found(ops::DESCRIBE_POLICY))
        })
    }

    async fn list_targets_for_policy(&self, policy_id: &str) -> ApiResult<Vec<String>> {
        self.call(ops::LIST_TARGETS_FOR_POLICY, |s| {
            s.policies
                .get(policy_id)
                .map(|p| p.targets.iter().cloned().collect())
                .ok_or_else(|| policy_not_found(ops::LIST_TARGETS_FOR_POLICY))
        })
    }

    async fn list_create_account_in_progress(&self) -> ApiResult<Vec<CreateAccountStatus>> {
        self.call(ops::LIST_CREATE_ACCOUNT_STATUS, |s| {
            Ok(s.requests
                .iter()
                .filter(|(_, r)| r.state == CreateAccountState::InProgress)
                .map(|(id, r)| State::request_status(id, r))
                .collect())
        })
    }

    async fn describe_create_account_status(
        &self,
        request_id: &str,
    ) -> ApiResult<CreateAccountStatus> {
        self.call(ops::DESCRIBE_CREATE_ACCOUNT_STATUS, |s| {
            s.describe_create_account_status(ops::DESCRIBE_CREATE_ACCOUNT_STATUS, request_id)
        })
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> ApiResult<()> {
        self.call(ops::ENABLE_POLICY_TYPE, |s| {
            s.enable_policy_type(ops::ENABLE_POLICY_TYPE, root_id, policy_type)
        })
    }

    async fn create_ou(&self, parent_id: &str, name: &str, tags: &Tags) -> ApiResult<OuInfo> {
        self.call(ops::CREATE_OU, |s| {
            s.create_ou(ops::CREATE_OU, parent_id, name, tags)
        })
    }

    async fn rename_ou(&self, ou_id: &str, name: &str) -> ApiResult<()> {
        self.call(ops::UPDATE_OU, |s| s.rename_ou(ops::UPDATE_OU, ou_id, name))
    }

    async fn delete_ou(&self, ou_id: &str) -> ApiResult<()> {
        self.call(ops::DELETE_OU, |s| s.delete_ou(ops::DELETE_OU, ou_id))
    }

    async fn create_account(
        &self,
        name: &str,
        email: &str,
        tags: &Tags,
    ) -> ApiResult<CreateAccountStatus> {
        self.call(ops::CREATE_ACCOUNT, |s| {
            s.create_account(ops::CREATE_ACCOUNT, name, email, tags)
        })
    }

    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> ApiResult<()> {
        self.call(ops::MOVE_ACCOUNT, |s| {
            s.move_account(
                ops::MOVE_ACCOUNT,
                account_id,
                source_parent_id,
                destination_parent_id,
            )
        })
    }

    async fn close_account(&self, account_id: &str) -> ApiResult<()> {
        self.call(ops::CLOSE_ACCOUNT, |s| {
            s.close_account(ops::CLOSE_ACCOUNT, account_id)
        })
    }

    async fn tag_resource(&self, resource_id: &str, tags: &Tags) -> ApiResult<()> {
        self.call(ops::TAG_RESOURCE, |s| {
            s.tag_resource(ops::TAG_RESOURCE, resource_id, tags)
        })
    }

    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> ApiResult<()> {
        self.call(ops::UNTAG_RESOURCE, |s| {
            s.untag_resource(ops::UNTAG_RESOURCE, resource_id, keys)
        })
    }

    async fn create_policy(
        &self,
        name: &str,
        policy_type: PolicyType,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> ApiResult<PolicySummary> {
        self.call(ops::CREATE_POLICY, |s| {
            s.create_policy(
                ops::CREATE_POLICY,
                name,
                policy_type,
                description,
                content,
                tags,
            )
        })
    }

    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> ApiResult<()> {
        self.call(ops::UPDATE_POLICY, |s| {
            s.update_policy(ops::UPDATE_POLICY, policy_id, description, content)
        })
    }

    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> ApiResult<()> {
        self.call(ops::ATTACH_POLICY, |s| {
            s.attach_policy(ops::ATTACH_POLICY, policy_id, target_id)
        })
    }

    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> ApiResult<()> {
        self.call(ops::DETACH_POLICY, |s| {
            s.detach_policy(ops::DETACH_POLICY, policy_id, target_id)
        })
    }

    async fn delete_policy(&self, policy_id: &str) -> ApiResult<()> {
        self.call(ops::DELETE_POLICY, |s| {
            s.delete_policy(ops::DELETE_POLICY, policy_id)
        })
    }
}

#[cfg(test)]
mod tests;

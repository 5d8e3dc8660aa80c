//! The organization's data and the indices that keep every lookup cheap: OUs, accounts,
//! policies and CreateAccount requests by id, and the reverse indices (children of a container,
//! OU names under a parent, emails, policy names, policies attached to a target) that the
//! operations keep in step through the `insert_*` and attachment helpers below.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use orgctl_model::{AccountStatus, FULL_AWS_ACCESS, PolicyType, Tags};

use super::errors::{invalid, target_not_found};
use super::{DEFAULT_ACCOUNT_ID_SEED, DEFAULT_POLICY_LIMIT, full_aws_access_policy};
use crate::api::{AccountInfo, ApiResult, CreateAccountState, CreateAccountStatus, PolicySummary};

/// An OU.
#[derive(Debug, Clone)]
pub(super) struct Ou {
    pub(super) name: String,
    pub(super) parent_id: String,
    pub(super) tags: Tags,
}

/// A member account (or the management account).
#[derive(Debug, Clone)]
pub(super) struct Account {
    pub(super) name: String,
    pub(super) email: String,
    pub(super) parent_id: String,
    pub(super) status: AccountStatus,
    pub(super) tags: Tags,
}

/// A policy and the targets it is attached to.
#[derive(Debug, Clone)]
pub(super) struct Policy {
    pub(super) name: String,
    pub(super) policy_type: PolicyType,
    pub(super) description: String,
    pub(super) content: String,
    pub(super) aws_managed: bool,
    pub(super) tags: Tags,
    pub(super) targets: BTreeSet<String>,
}

/// A CreateAccount request.
#[derive(Debug, Clone)]
pub(super) struct CreateRequest {
    pub(super) name: String,
    pub(super) email: String,
    pub(super) tags: Tags,
    pub(super) state: CreateAccountState,
    pub(super) account_id: Option<String>,
    pub(super) failure_reason: Option<String>,
    pub(super) polls_left: u32,
}

/// The whole organization, behind [`super::MemoryOrg`]'s lock.
#[derive(Debug)]
pub(super) struct State {
    pub(super) org_id: String,
    pub(super) root_id: String,
    pub(super) root_tags: Tags,
    pub(super) management_account_id: String,
    pub(super) enabled_types: BTreeSet<PolicyType>,
    pub(super) ous: HashMap<String, Ou>,
    pub(super) accounts: HashMap<String, Account>,
    /// Container (root or OU) id → ids of its child OUs.
    pub(super) child_ous: HashMap<String, BTreeSet<String>>,
    /// Container id → ids of its accounts.
    pub(super) child_accounts: HashMap<String, BTreeSet<String>>,
    /// (parent id, name) → OU id.
    pub(super) ou_names: HashMap<(String, String), String>,
    /// Lower-cased email → account id.
    pub(super) emails: HashMap<String, String>,
    /// Lower-cased emails that belong to accounts outside this organization.
    pub(super) foreign_emails: HashSet<String>,
    pub(super) policies: HashMap<String, Policy>,
    /// Policy name → policy id (names are unique in an organization).
    pub(super) policy_names: HashMap<String, String>,
    /// Target id → ids of the policies attached to it.
    pub(super) policies_on_target: HashMap<String, BTreeSet<String>>,
    /// The AWS-managed FullAWSAccess SCP, if the organization has it.
    pub(super) full_aws_access_id: Option<String>,
    /// CreateAccount request id → the request.
    pub(super) create_requests: BTreeMap<String, CreateRequest>,
    /// Counters the next OU, policy, account and request ids are made from.
    pub(super) next_ou: u64,
    pub(super) next_policy: u64,
    pub(super) next_account: u64,
    pub(super) next_request: u64,
    /// At most this many policies of one type on one target.
    pub(super) policy_limit_per_target: usize,
    /// How many status polls a new CreateAccount request stays IN_PROGRESS for.
    pub(super) create_account_polls: u32,
    /// The operation name of every call, in order.
    pub(super) calls: Vec<&'static str>,
}

// -- ids ------------------------------------------------------------------------------------------

/// AWS-like organization and root ids derived from the management account id
/// (`o-` + 10 characters, `r-` + 4), so that the same account always gives the same ids.
pub(super) fn organization_ids(management_account_id: &str) -> (String, String) {
    let org_id = format!("o-{}", id_suffix(management_account_id, 10));
    let reversed: String = management_account_id.chars().rev().collect();
    let root_id = format!("r-{}", id_suffix(&reversed, 4));
    (org_id, root_id)
}

/// `n` lower-case alphanumerics taken from `s`, padded with `0`.
fn id_suffix(s: &str, n: usize) -> String {
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

// -- the organization -----------------------------------------------------------------------------

impl State {
    pub(super) fn empty(org_id: String, root_id: String, management_account_id: String) -> Self {
        let mut child_ous = HashMap::new();
        child_ous.insert(root_id.clone(), BTreeSet::new());
        let mut child_accounts = HashMap::new();
        child_accounts.insert(root_id.clone(), BTreeSet::new());
        Self {
            org_id,
            root_id,
            root_tags: Tags::new(),
            management_account_id,
            enabled_types: BTreeSet::new(),
            ous: HashMap::new(),
            accounts: HashMap::new(),
            child_ous,
            child_accounts,
            ou_names: HashMap::new(),
            emails: HashMap::new(),
            foreign_emails: HashSet::new(),
            policies: HashMap::new(),
            policy_names: HashMap::new(),
            policies_on_target: HashMap::new(),
            full_aws_access_id: None,
            create_requests: BTreeMap::new(),
            next_ou: 1,
            next_policy: 1,
            next_account: DEFAULT_ACCOUNT_ID_SEED,
            next_request: 1,
            policy_limit_per_target: DEFAULT_POLICY_LIMIT,
            create_account_polls: 0,
            calls: Vec::new(),
        }
    }

    pub(super) fn is_container(&self, id: &str) -> bool {
        id == self.root_id || self.ous.contains_key(id)
    }

    pub(super) fn is_target(&self, id: &str) -> bool {
        self.is_container(id) || self.accounts.contains_key(id)
    }

    pub(super) fn scp_enabled(&self) -> bool {
        self.enabled_types
            .contains(&PolicyType::ServiceControlPolicy)
    }

    pub(super) fn insert_ou(&mut self, id: String, ou: Ou) {
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

    pub(super) fn insert_account(&mut self, id: String, account: Account) {
        self.emails.insert(account.email.to_lowercase(), id.clone());
        self.child_accounts
            .entry(account.parent_id.clone())
            .or_default()
            .insert(id.clone());
        self.accounts.insert(id, account);
    }

    pub(super) fn insert_policy(&mut self, id: String, policy: Policy) {
        if policy.aws_managed
            && policy.name == FULL_AWS_ACCESS
            && policy.policy_type == PolicyType::ServiceControlPolicy
        {
            self.full_aws_access_id = Some(id.clone());
        }
        self.policy_names.insert(policy.name.clone(), id.clone());
        self.policies.insert(id, policy);
    }

    /// Creates the AWS-managed FullAWSAccess SCP as a new organization has it: attached to the
    /// root and the management account.
    pub(super) fn install_full_aws_access(&mut self) {
        self.insert_policy(
            super::FULL_AWS_ACCESS_ID.to_owned(),
            full_aws_access_policy(),
        );
        if let Some(full_access) = self.full_aws_access_id.clone() {
            let root = self.root_id.clone();
            let management = self.management_account_id.clone();
            self.record_attachment(&full_access, &root);
            self.record_attachment(&full_access, &management);
        }
    }

    pub(super) fn record_attachment(&mut self, policy_id: &str, target: &str) {
        if let Some(p) = self.policies.get_mut(policy_id) {
            p.targets.insert(target.to_owned());
            self.policies_on_target
                .entry(target.to_owned())
                .or_default()
                .insert(policy_id.to_owned());
        }
    }

    pub(super) fn remove_attachment(&mut self, policy_id: &str, target: &str) {
        if let Some(p) = self.policies.get_mut(policy_id) {
            p.targets.remove(target);
        }
        if let Some(set) = self.policies_on_target.get_mut(target) {
            set.remove(policy_id);
            if set.is_empty() {
                self.policies_on_target.remove(target);
            }
        }
    }

    /// What AWS does to every new OU and account while SCPs are enabled.
    pub(super) fn attach_full_access(&mut self, target: &str) {
        if self.scp_enabled()
            && let Some(full_access) = self.full_aws_access_id.clone()
        {
            self.record_attachment(&full_access, target);
        }
    }

    /// Number of policies of `policy_type` attached to `target`.
    pub(super) fn attached_count(&self, target: &str, policy_type: PolicyType) -> usize {
        self.policies_on_target.get(target).map_or(0, |set| {
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
    pub(super) fn depth(&self, container: &str) -> usize {
        let mut depth = 0;
        let mut id = container;
        while let Some(ou) = self.ous.get(id) {
            depth += 1;
            id = &ou.parent_id;
        }
        depth
    }

    pub(super) fn new_ou_id(&mut self) -> String {
        let root4 = id_suffix(self.root_id.trim_start_matches("r-"), 4);
        loop {
            let id = format!("ou-{root4}-{:08}", self.next_ou);
            self.next_ou += 1;
            if !self.ous.contains_key(&id) {
                return id;
            }
        }
    }

    pub(super) fn new_policy_id(&mut self) -> String {
        loop {
            let id = format!("p-{:08}", self.next_policy);
            self.next_policy += 1;
            if !self.policies.contains_key(&id) {
                return id;
            }
        }
    }

    pub(super) fn new_account_id(&mut self) -> String {
        loop {
            let id = format!("{:012}", self.next_account % 1_000_000_000_000);
            self.next_account += 1;
            if !self.accounts.contains_key(&id) && !self.ous.contains_key(&id) {
                return id;
            }
        }
    }

    pub(super) fn new_request_id(&mut self) -> String {
        let id = format!("car-{:08}", self.next_request);
        self.next_request += 1;
        id
    }

    pub(super) fn tags_mut(&mut self, op: &'static str, resource: &str) -> ApiResult<&mut Tags> {
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

    pub(super) fn account_info(id: &str, a: &Account) -> AccountInfo {
        AccountInfo {
            id: id.to_owned(),
            name: a.name.clone(),
            email: a.email.clone(),
            status: a.status,
        }
    }

    pub(super) fn policy_summary(id: &str, p: &Policy) -> PolicySummary {
        PolicySummary {
            id: id.to_owned(),
            name: p.name.clone(),
            policy_type: p.policy_type,
            description: p.description.clone(),
            aws_managed: p.aws_managed,
        }
    }

    pub(super) fn request_status(id: &str, r: &CreateRequest) -> CreateAccountStatus {
        CreateAccountStatus {
            request_id: id.to_owned(),
            account_name: r.name.clone(),
            state: r.state,
            account_id: r.account_id.clone(),
            failure_reason: r.failure_reason.clone(),
        }
    }
}

//! [`MemoryOrg`]: a strict, in-memory AWS Organization behind [`OrgApi`](crate::OrgApi).
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
//!
//! The module is split along its concerns: `rules` holds the input rules AWS checks on every
//! request (lengths, patterns, tag limits, policy documents), `errors` the errors worded as AWS
//! words them, `state` the organization's data and the indices that keep lookups cheap,
//! `snapshot` loading and producing live-state snapshots, and `operations` what each API
//! operation does to the state (`OrgApi` is implemented there).

mod errors;
pub mod iam;
mod operations;
mod rules;
mod snapshot;
mod state;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use orgctl_model::{AccountStatus, FULL_AWS_ACCESS, PolicyType, Tags};

pub use iam::{AWS_MANAGED_POLICIES, MemoryIam};
pub use snapshot::SnapshotError;
use state::{Account, Policy, State};

use crate::api::{ApiResult, operations as ops};

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

/// The AWS-managed FullAWSAccess SCP as AWS creates it (attached to nothing yet).
fn full_aws_access_policy() -> Policy {
    Policy {
        name: FULL_AWS_ACCESS.to_owned(),
        policy_type: PolicyType::ServiceControlPolicy,
        description: FULL_AWS_ACCESS_DESCRIPTION.to_owned(),
        content: FULL_AWS_ACCESS_CONTENT.to_owned(),
        aws_managed: true,
        tags: Tags::new(),
        targets: Default::default(),
    }
}

/// A strict in-memory AWS Organization. See the [module documentation](self).
#[derive(Debug)]
pub struct MemoryOrg {
    state: Arc<Mutex<State>>,
    /// The IAM of its member accounts ([`MemoryOrg::iam`]).
    iam: MemoryIam,
}

impl MemoryOrg {
    /// A new organization: its root, the management account and the AWS-managed FullAWSAccess
    /// SCP (`p-FullAWSAccess`) attached to both; no policy type enabled.
    pub fn new(management_account_id: &str, management_email: &str) -> Self {
        let (org_id, root_id) = state::organization_ids(management_account_id);
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
        state.install_full_aws_access();
        Self::from_state(state)
    }

    fn from_state(state: State) -> Self {
        let state = Arc::new(Mutex::new(state));
        Self {
            iam: MemoryIam::linked(Arc::clone(&state)),
            state,
        }
    }

    /// The IAM of this organization's member accounts, linked to it: an account exists in IAM
    /// when the organization has it, only ACTIVE member accounts can be reached (a closed or
    /// suspended account, the management account and an account still being created refuse
    /// AssumeRole), and every account has the member role until
    /// [`MemoryIam::remove_member_role`] removes it. The handle reaches accounts through the
    /// member role; [`MemoryIam::with_roles`] makes one that tries the read role first. Every
    /// handle shares the same roles.
    pub fn iam(&self) -> MemoryIam {
        self.iam.clone()
    }

    /// Allows at most `limit` policies of one type on one target (AWS's default is 5).
    pub fn with_policy_limit(self, limit: usize) -> Self {
        self.lock().policy_limit_per_target = limit;
        self
    }

    /// Keeps every new CreateAccount request IN_PROGRESS for `polls`
    /// DescribeCreateAccountStatus calls; the account appears in the organization when the
    /// request succeeds. With 0 (the default) the request completes within CreateAccount.
    pub fn with_create_account_polls(self, polls: u32) -> Self {
        self.lock().create_account_polls = polls;
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

    /// Gives the root these tags. The root's tags are not part of a [`LiveState`]
    /// (orgctl does not manage them), so a sandbox snapshot file keeps them beside it: the apply
    /// lease ([`crate::lease`]) is a root tag.
    ///
    /// [`LiveState`]: orgctl_model::LiveState
    pub fn with_root_tags(self, tags: Tags) -> Self {
        self.lock().root_tags = tags;
        self
    }

    /// The root's tags.
    pub fn root_tags(&self) -> Tags {
        self.lock().root_tags.clone()
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

#[cfg(test)]
mod tests;

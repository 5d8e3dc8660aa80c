//! orgctl's backend: everything between the plan's operations and AWS Organizations.
//!
//! The seam is [`OrgApi`] ([`api`]): one method per AWS Organizations API operation, failures
//! as [`ApiError`] carrying AWS's own error code. Two implementations sit behind it:
//!
//! - [`MemoryOrg`] ([`memory`]), a strict in-memory organization that enforces AWS's real rules
//!   and answers with AWS's error codes. It backs the tests and `--live-state FILE` sandboxes.
//! - `orgctl_aws::SdkOrg`, the AWS SDK, in its own crate (the only one that depends on it).
//!
//! For access grants, [`IamApi`] ([`iam`]) is the same kind of seam for IAM roles in member
//! accounts (every method scoped to an account), with [`MemoryIam`] (strict, per account) and
//! `orgctl_aws::SdkIam` (aws-sdk-iam after STS AssumeRole) behind it; [`Retrying`] and `Faulty`
//! wrap it too.
//!
//! Everything that does real work is written once, over the trait, so both backends share it:
//! the live-state reader ([`read_live`], [`observe`]) and the idempotent executor of
//! [`orgctl_model::Op`] ([`execute()`], [`mod@execute`]), and the apply lease ([`lease`]), a tag on the
//! root that keeps two applies from writing at once. Behaviour around the calls is added by
//! decorators that are themselves `OrgApi`s: [`Retrying`] ([`retry`]) sends every call through
//! a [`Retrier`] (retries of throttling and transient failures with jittered backoff, one
//! adaptive request rate and one retry budget shared by concurrent calls, counters); `Faulty`
//! (`faults`, only with the `test-util` feature, which tests enable through their
//! dev-dependencies) injects failures and crashes for tests. The AWS backend uses the same
//! [`Retrier`] per HTTP request (each page on its own); a crash test is
//! `Retrying<Faulty<MemoryOrg>>`.

pub mod access;
pub mod api;
pub mod execute;
#[cfg(any(test, feature = "test-util"))]
pub mod faults;
pub mod iam;
pub mod lease;
pub mod memory;
pub mod observe;
#[cfg(any(test, feature = "test-util"))]
pub mod paged;
pub mod retry;
mod wrap;

pub use api::{
    AccountInfo, ApiError, ApiResult, CreateAccountState, CreateAccountStatus, ErrorKind, OrgApi,
    OrgInfo, OuInfo, PolicySummary, RootInfo, codes, operations,
};
pub use execute::{
    ExecError, IdMap, Outcome, PollPolicy, describe_create_account_failure, execute, execute_iam,
};
#[cfg(any(test, feature = "test-util"))]
pub use faults::{Faulty, WriteFault};
pub use iam::{AttachedPolicy, IamApi, IamRoles, NewRole, Role, RoleSummary};
pub use lease::{LEASE_TAG, Lease, LeaseError, LeaseOptions};
pub use memory::{AWS_MANAGED_POLICIES, MemoryIam, MemoryOrg, SnapshotError};
pub use observe::{
    ReadError, ReadOptions, ReadProgress, read_all_reporting, read_all_selecting, read_iam,
    read_iam_in, read_live, read_live_reporting,
};
pub use retry::{AdaptiveRate, CallStats, OpStats, Retrier, RetryPolicy, Retrying};

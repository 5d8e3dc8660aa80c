//! orgctl's backend: everything between the plan's operations and AWS Organizations.
//!
//! The seam is [`OrgApi`] ([`api`]): one method per AWS Organizations API operation, failures
//! as [`ApiError`] carrying AWS's own error code. [`MemoryOrg`] ([`memory`]) is a strict
//! in-memory organization behind it that enforces AWS's real rules; the AWS SDK implementation
//! lives in `orgctl_aws`. The live-state reader ([`read_live`], [`observe`]) is written once,
//! over the trait, so both backends share it. Decorators that are themselves `OrgApi`s add
//! behaviour around calls: [`Retrying`] ([`retry`]) retries with jittered backoff and counts
//! calls; [`Faulty`] ([`faults`]) injects failures and crashes for tests.

pub mod api;
pub mod faults;
pub mod memory;
pub mod observe;
pub mod retry;
mod wrap;

pub use api::{
    AccountInfo, ApiError, ApiResult, CreateAccountState, CreateAccountStatus, ErrorKind, OrgApi,
    OrgInfo, OuInfo, PolicySummary, RootInfo, codes, operations,
};
pub use faults::{Faulty, WriteFault};
pub use memory::{MemoryOrg, SnapshotError};
pub use observe::{ReadError, ReadOptions, read_live};
pub use retry::{CallStats, OpStats, RetryPolicy, Retrying};

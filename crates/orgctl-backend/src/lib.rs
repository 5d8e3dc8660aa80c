//! orgctl's backend: everything between the plan's operations and AWS Organizations.
//!
//! The seam is [`OrgApi`] ([`api`]): one method per AWS Organizations API operation, failures
//! as [`ApiError`] carrying AWS's own error code. [`MemoryOrg`] ([`memory`]) is a strict
//! in-memory organization behind it that enforces AWS's real rules; the AWS SDK implementation
//! lives in `orgctl_aws`.

pub mod api;
pub mod memory;

pub use api::{
    AccountInfo, ApiError, ApiResult, CreateAccountState, CreateAccountStatus, ErrorKind, OrgApi,
    OrgInfo, OuInfo, PolicySummary, RootInfo, codes, operations,
};
pub use memory::{MemoryOrg, SnapshotError};

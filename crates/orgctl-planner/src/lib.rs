//! The pure planner: `plan(desired, live, options) -> Plan`.
//!
//! No IO, no clock, no randomness: the same inputs give the same plan, byte for byte.

pub mod access_report;
pub mod drift;
mod plan;
pub mod planfile;
mod planner;
pub mod records;
mod scope;

pub use plan::{
    AccessEffect, AccessEntry, AccessPermissions, Action, Bucket, Change, Note, Plan, PlanError,
    PrincipalAccess, ResourceKind, Summary, Warning,
};
pub use planner::{PlanOptions, iam_accounts, plan};
pub use records::{PendingWhy, Provenance, RecordWrite, provenance};
pub use scope::read_scope;

use orgctl_model::fast_hash;

/// Whether a role operation only takes permissions away (detaching, deleting an inline policy,
/// deleting the role): what the applier still runs in an account where a role change failed.
pub fn role_op_narrows(op: &orgctl_model::Op) -> bool {
    planner::grants::narrows(op)
}

#[cfg(test)]
mod tests;

//! The pure planner: `plan(desired, live, options) -> Plan`.
//!
//! No IO, no clock, no randomness: the same inputs give the same plan, byte for byte.

pub mod access_report;
mod plan;
pub mod planfile;
mod planner;

pub use plan::{
    AccessEffect, AccessEntry, AccessPermissions, Action, Bucket, Change, Note, Plan, PlanError,
    PrincipalAccess, ResourceKind, Summary, Warning,
};
pub use planner::{PlanOptions, plan};

#[cfg(test)]
mod tests;

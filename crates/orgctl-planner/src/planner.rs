//! Placeholder: the planning algorithm lands in the next commit.
use orgctl_model::{DesiredState, LiveState};

use crate::plan::Plan;

/// Inputs to the planner other than the two states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Today's date, YYYY-MM-DD.
    pub today: String,
}

/// Plans the changes that turn `live` into `desired`.
pub fn plan(desired: &DesiredState, live: &LiveState, options: &PlanOptions) -> Plan {
    Plan {
        changes: vec![],
        notes: vec![],
        warnings: vec![],
        errors: vec![],
        organization_id: live.organization.id.clone(),
        management_account_id: live.organization.management_account_id.clone(),
        today: options.today.clone(),
        live_fingerprint: live.fingerprint(),
        desired_fingerprint: desired.fingerprint(),
    }
}

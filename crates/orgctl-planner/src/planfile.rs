//! The saved plan (`plan --out FILE`, `--format json`): a versioned JSON document that the
//! applier reads back. It carries fingerprints of the live and desired state it was computed
//! from, so a stale plan is refused.

use serde::{Deserialize, Serialize};

use crate::plan::{Plan, Summary};

/// The version of the JSON plan format; bumped for any change a consumer must know about.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON plan document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The orgctl version that wrote it.
    pub orgctl_version: String,
    /// The counts of the closing summary (derived; ignored when read back).
    pub summary: Summary,
    /// The plan.
    #[serde(flatten)]
    pub plan: Plan,
}

/// Why a plan file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// Not JSON, or not a plan.
    #[error("not an orgctl plan: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Written by a format this orgctl does not read.
    #[error(
        "plan format_version {found} is not supported (this orgctl reads version {FORMAT_VERSION})"
    )]
    Version {
        /// The version in the file.
        found: u64,
    },
}

/// The plan as pretty-printed JSON.
pub fn to_json(plan: &Plan) -> String {
    let file = PlanFile {
        format_version: FORMAT_VERSION,
        orgctl_version: env!("CARGO_PKG_VERSION").to_owned(),
        summary: plan.summary(),
        plan: plan.clone(),
    };
    // Plain data with string keys: serialisation cannot fail.
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// Reads a plan written by [`to_json`].
pub fn from_json(text: &str) -> Result<Plan, PlanFileError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let found = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if found != u64::from(FORMAT_VERSION) {
        return Err(PlanFileError::Version { found });
    }
    let file: PlanFile = serde_json::from_value(value)?;
    Ok(file.plan)
}

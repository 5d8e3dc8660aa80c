//! The binary's error type. Library errors convert into it; `main` prints it and exits 1.

use std::path::PathBuf;

/// Everything that ends a command with exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The desired state could not be loaded or is invalid (diagnostics already printed).
    #[error("{0}")]
    Load(#[from] orgctl_manifest::LoadError),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A snapshot file is not a snapshot.
    #[error("{}: not an orgctl live-state snapshot: {message}", path.display())]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A saved plan file is unusable.
    #[error("{}: {source}", path.display())]
    PlanFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: orgctl_planner::planfile::PlanFileError,
    },
    /// Connecting to AWS failed.
    #[error("{0}")]
    Connect(#[from] orgctl_aws::ConnectError),
    /// An AWS call failed.
    #[error("{0}")]
    Api(#[from] orgctl_backend::ApiError),
    /// Reading the organization failed.
    #[error("{0}")]
    Read(#[from] orgctl_backend::ReadError),
    /// The apply lease is held by another apply, or was lost (boxed: it is the largest error).
    #[error("{0}")]
    Lease(Box<orgctl_backend::LeaseError>),
    /// Ctrl-C during an apply.
    #[error(
        "interrupted: the apply stopped part-way and released its lease; run `orgctl plan` and \
         `orgctl apply` again to converge"
    )]
    Interrupted,
    /// The plan has errors.
    #[error("the plan has {0} error(s) (listed above); nothing was changed")]
    PlanErrors(usize),
    /// A saved plan is stale.
    #[error("{0}")]
    StalePlan(String),
    /// Apply refused to start.
    #[error("{0}")]
    Refused(String),
    /// The apply could not start or be verified.
    #[error("{0}")]
    Apply(#[from] orgctl_applier::ApplyError),
    /// Some changes failed.
    #[error(
        "{0} change(s) failed and {1} were skipped (see above); run `orgctl plan` and `orgctl apply` again to converge"
    )]
    Partial(usize, usize),
    /// The apply finished but a fresh plan is not empty.
    #[error("the apply did not converge: a fresh plan still has {} change(s): {}", .0.len(), .0.join(", "))]
    NotConverged(Vec<String>),
    /// Bad command-line value.
    #[error("{0}")]
    Usage(String),
    /// A bug or an environment problem.
    #[error("{0}")]
    Internal(String),
}

impl From<orgctl_backend::LeaseError> for CliError {
    fn from(e: orgctl_backend::LeaseError) -> Self {
        CliError::Lease(Box::new(e))
    }
}

//! The backend seam.
pub mod api;

pub use api::{ApiError, ApiResult, ErrorKind, OrgApi, codes};

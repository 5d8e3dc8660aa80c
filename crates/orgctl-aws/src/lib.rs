//! orgctl's AWS backend: [`SdkOrg`] implements [`orgctl_backend::OrgApi`] over the AWS SDK for
//! Rust (Organizations, plus STS for the caller's identity), and [`SdkIam`]
//! ([`SdkOrg::iam`]) implements [`orgctl_backend::IamApi`] over aws-sdk-iam in member accounts
//! reached by STS AssumeRole.
//!
//! This is the only crate that depends on `aws-*`. It resolves credentials and region through
//! the standard chain, turns every SDK failure into an [`orgctl_backend::ApiError`] carrying
//! AWS's error code and a retry classification, follows pagination (refusing a `NextToken` that
//! does not advance), and records every HTTP attempt in a [`Recorder`] so callers and tests can
//! count API calls. The SDK's own retries are switched off: orgctl retries in one place, the
//! backend crate's retry decorator.

mod bootstrap;
mod client;
mod config;
mod errors;
mod iam;
pub mod operations;
mod pager;
mod recorder;

pub use bootstrap::Bootstrap;
pub use client::SdkOrg;
pub use config::{
    AwsOptions, ConnectError, DEFAULT_REGION, MAX_PAGE_SIZE, StaticCredentials, StaticEnv, connect,
    connect_static,
};
pub use iam::{IAM_MAX_ITEMS, SESSION_NAME, SdkIam};
pub use recorder::{Attempt, Recorder};

//! Building the SDK configuration: the standard credential/region chain for real use
//! ([`connect`]), or an explicit endpoint with static credentials for emulators and tests
//! ([`connect_static`]).
//!
//! Both pin the SDK's behaviour version (so an SDK upgrade cannot silently change defaults such
//! as timeouts) and switch the SDK's own retries off: orgctl retries throttling, concurrent
//! modification and 5xx in exactly one place, the backend crate's retry decorator.

use std::fmt;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::client::SdkOrg;

/// The region used when neither `--region` nor the chain (env, profile, IMDS) names one.
/// Organizations is a global service addressed in us-east-1.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The largest page every Organizations list operation accepts (`MaxResults` 1–20), and the
/// page size used when none is given.
pub const MAX_PAGE_SIZE: i32 = 20;

/// How long one HTTP attempt may take before it counts as a (retryable) timeout.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long establishing a connection may take (the pinned behaviour version's default).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3_100);

/// The SDK behaviour version orgctl is written and tested against. Pinned on purpose:
/// `BehaviorVersion::latest()` changes defaults when the SDK is upgraded.
pub(crate) fn behavior_version() -> BehaviorVersion {
    BehaviorVersion::v2026_01_12()
}

/// How to reach AWS. Credentials, region and endpoint otherwise come from the standard chain
/// (environment, shared config/credentials files and SSO, web identity, container and instance
/// metadata); `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_ORGANIZATIONS`/`_STS`) are honoured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// The shared-config profile (`--profile`); `None` means `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
    /// The region (`--region`); `None` means the chain's region, else [`DEFAULT_REGION`].
    pub region: Option<String>,
    /// Items per page for list operations (1–20); `None` means [`MAX_PAGE_SIZE`].
    pub page_size: Option<i32>,
}

/// Why a client could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The page size is outside what AWS accepts.
    #[error("invalid page size {0}: Organizations accepts 1 to {MAX_PAGE_SIZE} items per page")]
    InvalidPageSize(i32),
    /// The region is empty or malformed.
    #[error("invalid region {0:?}: give a region name such as us-east-1")]
    InvalidRegion(String),
    /// The endpoint URL is empty or not http(s).
    #[error("invalid endpoint URL {0:?}: give an http:// or https:// URL")]
    InvalidEndpoint(String),
    /// The selected profile is in neither shared file.
    #[error(
        "AWS profile {0:?} (from --profile or AWS_PROFILE) is not defined in the AWS config or \
         credentials file ({1}); check the name, or unset it to use the default credential chain"
    )]
    ProfileNotFound(String, String),
    /// The shared config files could not be read.
    #[error("cannot read the AWS config files to find profile {0:?}: {1}")]
    ProfileFilesUnreadable(String, String),
}

/// Static credentials (an access key pair, with a session token for temporary credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// `AKIA…` or `ASIA…`.
    pub access_key_id: String,
    /// The secret key.
    pub secret_access_key: String,
    /// The session token of temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// An explicit environment: one endpoint for every service, a region and static credentials.
/// Used for emulators and tests, where the standard chain must not be consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticEnv {
    /// `http://127.0.0.1:PORT` (or any endpoint).
    pub endpoint_url: String,
    /// The signing region.
    pub region: String,
    /// The credentials to sign with.
    pub credentials: StaticCredentials,
}

/// The one HTTPS client of a run, set on the `SdkConfig` so that every service client built
/// from it shares it: Organizations, STS, and IAM in each member account (one client per
/// account, built from the assumed role's credentials). It is the SDK's default client (hyper
/// with rustls and aws-lc, proxy settings from the environment), built once: without it,
/// each service client built from the `SdkConfig` makes its own, with its own connection pool
/// and TLS configuration (the root certificates included), which made `orgctl plan` of a
/// 500-account organization hold about 75 MiB of them (docs/performance.md). Connectors are
/// cached per connection settings (timeouts), which are the same for every client.
pub(crate) fn shared_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// Connects with the standard chain and the given options. Makes no API call: missing or
/// expired credentials surface on the first call as an error of kind `Credentials`.
pub async fn connect(opts: &AwsOptions) -> Result<SdkOrg, ConnectError> {
    let page_size = page_size(opts.page_size)?;
    if let Some(region) = &opts.region {
        check_region(region)?;
    }
    if let Some(profile) = &opts.profile {
        check_profile(profile).await?;
    }
    let mut chain_region = aws_config::default_provider::region::Builder::default();
    if let Some(profile) = &opts.profile {
        chain_region = chain_region.profile_name(profile);
    }
    let region = RegionProviderChain::first_try(opts.region.clone().map(Region::new))
        .or_else(chain_region.build())
        .or_else(DEFAULT_REGION);
    let mut loader = aws_config::defaults(behavior_version())
        .http_client(shared_https_client())
        .region(region)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    let conf = loader.load().await;
    Ok(SdkOrg::from_parts(&conf, page_size))
}

/// Connects to an explicit endpoint with static credentials (emulators, tests).
pub async fn connect_static(
    env: &StaticEnv,
    page_size: Option<i32>,
) -> Result<SdkOrg, ConnectError> {
    let page_size = self::page_size(page_size)?;
    let conf = static_sdk_config(env).await?;
    Ok(SdkOrg::from_parts(&conf, page_size))
}

/// The SDK configuration for a [`StaticEnv`].
pub(crate) async fn static_sdk_config(env: &StaticEnv) -> Result<SdkConfig, ConnectError> {
    check_region(&env.region)?;
    let url = env.endpoint_url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConnectError::InvalidEndpoint(env.endpoint_url.clone()));
    }
    let creds = Credentials::new(
        env.credentials.access_key_id.clone(),
        env.credentials.secret_access_key.clone(),
        env.credentials.session_token.clone(),
        None,
        "orgctl-static",
    );
    Ok(aws_config::defaults(behavior_version())
        .http_client(shared_https_client())
        .region(Region::new(env.region.clone()))
        .endpoint_url(url)
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts())
        .load()
        .await)
}

/// Checks that `profile` is defined in the shared config or credentials file: the SDK would
/// otherwise fall back silently to other credentials (environment variables come first in the
/// chain), and a typo would run against another account.
async fn check_profile(profile: &str) -> Result<(), ConnectError> {
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let env = Env::real();
    let set = aws_config::profile::load(&Fs::real(), &env, &EnvConfigFiles::default(), None)
        .await
        .map_err(|e| ConnectError::ProfileFilesUnreadable(profile.to_owned(), e.to_string()))?;
    // An absent `default` profile is fine: it only means "the standard chain".
    if profile == "default" || set.get_profile(profile).is_some() {
        return Ok(());
    }
    let file = |var: &str, default: &str| env.get(var).unwrap_or_else(|_| default.to_owned());
    Err(ConnectError::ProfileNotFound(
        profile.to_owned(),
        format!(
            "{} or {}",
            file("AWS_CONFIG_FILE", "~/.aws/config"),
            file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
        ),
    ))
}

/// Validates a page size, defaulting to [`MAX_PAGE_SIZE`].
pub(crate) fn page_size(given: Option<i32>) -> Result<i32, ConnectError> {
    match given {
        None => Ok(MAX_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(n) => Err(ConnectError::InvalidPageSize(n)),
    }
}

fn check_region(region: &str) -> Result<(), ConnectError> {
    let ok = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ConnectError::InvalidRegion(region.to_owned()))
    }
}

pub(crate) fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_defaults_to_the_maximum_and_rejects_out_of_range() {
        assert_eq!(page_size(None), Ok(20));
        assert_eq!(page_size(Some(1)), Ok(1));
        assert_eq!(page_size(Some(20)), Ok(20));
        assert_eq!(page_size(Some(0)), Err(ConnectError::InvalidPageSize(0)));
        assert_eq!(page_size(Some(21)), Err(ConnectError::InvalidPageSize(21)));
    }

    #[test]
    fn regions_are_checked() {
        assert!(check_region("eu-west-1").is_ok());
        assert!(check_region("").is_err());
        assert!(check_region("EU WEST").is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = StaticCredentials {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
        };
        let s = format!("{c:?}");
        assert!(s.contains("AKIAEXAMPLE"));
        assert!(
            !s.contains("very-secret") && !s.contains("token-secret"),
            "{s}"
        );
    }

    #[tokio::test]
    async fn static_env_rejects_a_bad_endpoint() {
        let env = StaticEnv {
            endpoint_url: "127.0.0.1:5000".into(),
            region: "us-east-1".into(),
            credentials: StaticCredentials {
                access_key_id: "a".into(),
                secret_access_key: "b".into(),
                session_token: None,
            },
        };
        assert!(matches!(
            connect_static(&env, None).await,
            Err(ConnectError::InvalidEndpoint(_))
        ));
    }
}

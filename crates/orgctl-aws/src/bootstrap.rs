//! [`Bootstrap`]: the two calls that set up an organization from nothing, which orgctl itself
//! never makes: STS AssumeRole (to act as a given account) and CreateOrganization.
//!
//! The emulator tests use them to give every test its own management account and organization,
//! and the hand-built-organization demos use them to seed one. They are kept out of [`SdkOrg`]
//! on purpose, so the operations `SdkOrg` can call stay exactly those the IAM policies in
//! `docs/iam/` grant.
//!
//! [`SdkOrg`]: crate::SdkOrg

use aws_config::retry::RetryConfig;
use aws_sdk_organizations::types::OrganizationFeatureSet;
use orgctl_backend::api::OrgInfo;
use orgctl_backend::{ApiError, ApiResult};

use crate::config::{ConnectError, StaticCredentials, StaticEnv, static_sdk_config};
use crate::errors::{malformed, map_sdk_error};

const ASSUME_ROLE: &str = "AssumeRole";
const CREATE_ORGANIZATION: &str = "CreateOrganization";

/// STS AssumeRole and Organizations CreateOrganization against an explicit environment.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    orgs: aws_sdk_organizations::Client,
    sts: aws_sdk_sts::Client,
}

impl Bootstrap {
    /// Clients for `env` (SDK retries off, as everywhere in orgctl).
    pub async fn connect(env: &StaticEnv) -> Result<Self, ConnectError> {
        let conf = static_sdk_config(env).await?;
        let orgs = aws_sdk_organizations::config::Builder::from(&conf)
            .retry_config(RetryConfig::disabled())
            .build();
        let sts = aws_sdk_sts::config::Builder::from(&conf)
            .retry_config(RetryConfig::disabled())
            .build();
        Ok(Self {
            orgs: aws_sdk_organizations::Client::from_conf(orgs),
            sts: aws_sdk_sts::Client::from_conf(sts),
        })
    }

    /// STS AssumeRole: temporary credentials for `role_arn`.
    pub async fn assume_role(
        &self,
        role_arn: &str,
        session_name: &str,
    ) -> ApiResult<StaticCredentials> {
        let out = self
            .sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session_name)
            .send()
            .await
            .map_err(|e| map_sdk_error(ASSUME_ROLE, e))?;
        let c = out
            .credentials()
            .ok_or_else(|| malformed(ASSUME_ROLE, "Credentials"))?;
        Ok(StaticCredentials {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: c.secret_access_key().to_owned(),
            session_token: Some(c.session_token().to_owned()),
        })
    }

    /// CreateOrganization with all features enabled, as the caller's account.
    pub async fn create_organization(&self) -> Result<OrgInfo, ApiError> {
        let out = self
            .orgs
            .create_organization()
            .feature_set(OrganizationFeatureSet::All)
            .send()
            .await
            .map_err(|e| map_sdk_error(CREATE_ORGANIZATION, e))?;
        let o = out
            .organization()
            .ok_or_else(|| malformed(CREATE_ORGANIZATION, "Organization"))?;
        Ok(OrgInfo {
            id: o
                .id()
                .ok_or_else(|| malformed(CREATE_ORGANIZATION, "Organization.Id"))?
                .to_owned(),
            management_account_id: o
                .master_account_id()
                .ok_or_else(|| malformed(CREATE_ORGANIZATION, "Organization.MasterAccountId"))?
                .to_owned(),
        })
    }
}

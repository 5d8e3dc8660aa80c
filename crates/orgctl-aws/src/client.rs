//! [`SdkOrg`]: the [`OrgApi`] over the AWS SDK. One SDK call per page, nothing else; every
//! failure becomes an [`ApiError`] (see [`crate::errors`]). Every request (each page of a
//! listing on its own) goes through the client's [`Retrier`]: a throttle on page 25 retries
//! page 25, and all requests share one adaptive rate and one retry budget.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_organizations::types::{
    self as org, AccountState, CreateAccountState as SdkCreateState, PolicyTypeStatus,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use orgctl_backend::api::{
    AccountInfo, CreateAccountState, CreateAccountStatus, OrgInfo, OuInfo, PolicySummary, RootInfo,
};
use orgctl_backend::{ApiError, ApiResult, OrgApi, Retrier, RetryPolicy};
use orgctl_model::{AccountStatus, PolicyType, Tags};

use crate::config::{self, ConnectError, DEFAULT_REGION, behavior_version};
use crate::errors::{UNREACHABLE, malformed, map_sdk_error, other};
use crate::iam::SdkIam;
use crate::operations as op;
use crate::pager::Pager;
use crate::recorder::Recorder;

/// AWS Organizations through the AWS SDK for Rust. Cheap to clone (clients are shared); every
/// clone records into the same [`Recorder`].
#[derive(Debug, Clone)]
pub struct SdkOrg {
    /// The configuration the clients were built from (the base of [`SdkOrg::iam`]).
    conf: Arc<SdkConfig>,
    orgs: aws_sdk_organizations::Client,
    sts: aws_sdk_sts::Client,
    page_size: i32,
    region: String,
    recorder: Recorder,
    retrier: Retrier,
}

impl SdkOrg {
    /// Builds the clients from an SDK configuration the caller loaded. The SDK's retries are
    /// switched off whatever the configuration says, a recorder is attached, and a missing
    /// region defaults to us-east-1.
    pub fn from_sdk_config(conf: &SdkConfig, page_size: Option<i32>) -> Result<Self, ConnectError> {
        Ok(Self::from_parts(conf, config::page_size(page_size)?))
    }

    pub(crate) fn from_parts(conf: &SdkConfig, page_size: i32) -> Self {
        let recorder = Recorder::new();
        let region = conf
            .region()
            .cloned()
            .unwrap_or_else(|| Region::from_static(DEFAULT_REGION));
        let mut orgs = aws_sdk_organizations::config::Builder::from(conf)
            .region(region.clone())
            .retry_config(RetryConfig::disabled())
            .interceptor(recorder.interceptor());
        let mut sts = aws_sdk_sts::config::Builder::from(conf)
            .region(region.clone())
            .retry_config(RetryConfig::disabled())
            .interceptor(recorder.interceptor());
        if conf.behavior_version().is_none() {
            orgs = orgs.behavior_version(behavior_version());
            sts = sts.behavior_version(behavior_version());
        }
        Self {
            conf: Arc::new(conf.clone()),
            orgs: aws_sdk_organizations::Client::from_conf(orgs.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            page_size,
            region: region.to_string(),
            recorder,
            retrier: Retrier::new(RetryPolicy::no_retries()),
        }
    }

    /// The same client retrying every request under `policy`, with a fresh [`Retrier`] (one
    /// adaptive rate and retry budget for all the requests of this client and its clones).
    /// Without it, no request is retried.
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retrier = Retrier::new(policy);
        self
    }

    /// The retrier every request goes through (its counters: requests, retries, throttles).
    pub fn retrier(&self) -> &Retrier {
        &self.retrier
    }

    /// IAM in the organization's member accounts, reached by assuming `roles` there with this
    /// client's credentials: the member role (`OrganizationAccountAccessRole`, … — a `&str`
    /// converts to [`IamRoles::write`]), or orgctl's read role first ([`IamRoles::read`]). It
    /// shares this
    /// client's recorder and retrier (pages hold IAM's maximum, 1,000 items, unless
    /// [`SdkIam::with_page_size`] says otherwise); call it once per run, so each account is
    /// assumed once.
    pub fn iam(&self, roles: impl Into<orgctl_backend::iam::IamRoles>) -> SdkIam {
        SdkIam::new(
            (*self.conf).clone(),
            roles.into(),
            self.recorder.clone(),
            self.retrier.clone(),
        )
    }

    /// Sends one request through the retrier, mapping SDK failures to [`ApiError`]s.
    async fn send<T, E, Fut>(
        &self,
        operation: &'static str,
        request: impl Fn() -> Fut,
    ) -> ApiResult<T>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        send_retried(&self.retrier, &self.recorder, operation, request).await
    }

    /// Every HTTP attempt made so far.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Items requested per page.
    pub fn page_size(&self) -> i32 {
        self.page_size
    }

    /// STS GetCallerIdentity: the account the credentials belong to.
    pub async fn caller_account_id(&self) -> Result<String, ApiError> {
        let out = self
            .send(op::GET_CALLER_IDENTITY, || {
                self.sts.get_caller_identity().send()
            })
            .await?;
        out.account()
            .map(str::to_owned)
            .ok_or_else(|| malformed(op::GET_CALLER_IDENTITY, "Account"))
    }
}

fn sdk_tags(operation: &'static str, tags: &Tags) -> ApiResult<Vec<org::Tag>> {
    tags.iter()
        .map(|(k, v)| {
            org::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| other(operation, "InvalidTag", e.to_string()))
        })
        .collect()
}

fn sdk_policy_type(t: PolicyType) -> org::PolicyType {
    org::PolicyType::from(t.as_aws_str())
}

fn required<'a>(operation: &'static str, what: &str, v: Option<&'a str>) -> ApiResult<&'a str> {
    v.ok_or_else(|| malformed(operation, what))
}

fn ou_info(operation: &'static str, ou: Option<&org::OrganizationalUnit>) -> ApiResult<OuInfo> {
    let ou = ou.ok_or_else(|| malformed(operation, "OrganizationalUnit"))?;
    Ok(OuInfo {
        id: required(operation, "OrganizationalUnit.Id", ou.id())?.to_owned(),
        name: required(operation, "OrganizationalUnit.Name", ou.name())?.to_owned(),
    })
}

#[allow(deprecated)] // `Status` is deprecated in favour of `State`; older answers only have it.
fn account_status(operation: &'static str, a: &org::Account) -> ApiResult<AccountStatus> {
    if let Some(state) = a.state() {
        return match state {
            AccountState::Active | AccountState::PendingActivation => Ok(AccountStatus::Active),
            AccountState::PendingClosure => Ok(AccountStatus::PendingClosure),
            AccountState::Suspended | AccountState::Closed => Ok(AccountStatus::Suspended),
            other_state => Err(other(
                operation,
                "UnknownAccountState",
                format!(
                    "account state {:?} is not known to orgctl",
                    other_state.as_str()
                ),
            )),
        };
    }
    match a.status() {
        Some(org::AccountStatus::Active) => Ok(AccountStatus::Active),
        Some(org::AccountStatus::PendingClosure) => Ok(AccountStatus::PendingClosure),
        Some(org::AccountStatus::Suspended) => Ok(AccountStatus::Suspended),
        Some(s) => Err(other(
            operation,
            "UnknownAccountState",
            format!("account status {:?} is not known to orgctl", s.as_str()),
        )),
        None => Err(malformed(operation, "Account.State or Account.Status")),
    }
}

fn account_info(operation: &'static str, a: &org::Account) -> ApiResult<AccountInfo> {
    Ok(AccountInfo {
        id: required(operation, "Account.Id", a.id())?.to_owned(),
        name: required(operation, "Account.Name", a.name())?.to_owned(),
        email: required(operation, "Account.Email", a.email())?.to_owned(),
        status: account_status(operation, a)?,
    })
}

fn policy_summary(
    operation: &'static str,
    p: Option<&org::PolicySummary>,
    requested: PolicyType,
) -> ApiResult<PolicySummary> {
    let p = p.ok_or_else(|| malformed(operation, "PolicySummary"))?;
    let policy_type = match p.r#type() {
        Some(t) => PolicyType::from_aws_str(t.as_str()).ok_or_else(|| {
            other(
                operation,
                "UnexpectedPolicyType",
                format!("asked for {requested} policies, got type {:?}", t.as_str()),
            )
        })?,
        None => requested,
    };
    Ok(PolicySummary {
        id: required(operation, "PolicySummary.Id", p.id())?.to_owned(),
        name: required(operation, "PolicySummary.Name", p.name())?.to_owned(),
        policy_type,
        description: p.description().unwrap_or_default().to_owned(),
        aws_managed: p.aws_managed(),
    })
}

fn create_account_status(
    operation: &'static str,
    s: Option<&org::CreateAccountStatus>,
) -> ApiResult<CreateAccountStatus> {
    let s = s.ok_or_else(|| malformed(operation, "CreateAccountStatus"))?;
    let state = match s.state() {
        Some(SdkCreateState::InProgress) => CreateAccountState::InProgress,
        Some(SdkCreateState::Succeeded) => CreateAccountState::Succeeded,
        Some(SdkCreateState::Failed) => CreateAccountState::Failed,
        Some(other_state) => {
            return Err(other(
                operation,
                "UnknownCreateAccountState",
                format!("state {:?} is not known to orgctl", other_state.as_str()),
            ));
        }
        None => return Err(malformed(operation, "CreateAccountStatus.State")),
    };
    let account_id = s
        .account_id()
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    if state == CreateAccountState::Succeeded && account_id.is_none() {
        return Err(malformed(operation, "AccountId for a SUCCEEDED request"));
    }
    Ok(CreateAccountStatus {
        request_id: required(operation, "CreateAccountStatus.Id", s.id())?.to_owned(),
        account_name: s.account_name().unwrap_or_default().to_owned(),
        state,
        account_id,
        failure_reason: s.failure_reason().map(|r| r.as_str().to_owned()),
    })
}

impl OrgApi for SdkOrg {
    async fn describe_organization(&self) -> ApiResult<OrgInfo> {
        const OP: &str = op::DESCRIBE_ORGANIZATION;
        let out = self
            .send(OP, || self.orgs.describe_organization().send())
            .await?;
        let o = out
            .organization()
            .ok_or_else(|| malformed(OP, "Organization"))?;
        Ok(OrgInfo {
            id: required(OP, "Organization.Id", o.id())?.to_owned(),
            management_account_id: required(
                OP,
                "Organization.MasterAccountId",
                o.master_account_id(),
            )?
            .to_owned(),
        })
    }

    async fn list_roots(&self) -> ApiResult<Vec<RootInfo>> {
        const OP: &str = op::LIST_ROOTS;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_roots()
                        .max_results(self.page_size)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for root in page.roots() {
                let mut enabled: Vec<PolicyType> = root
                    .policy_types()
                    .iter()
                    .filter(|t| t.status() == Some(&PolicyTypeStatus::Enabled))
                    .filter_map(|t| t.r#type())
                    .filter_map(|t| PolicyType::from_aws_str(t.as_str()))
                    .collect();
                enabled.sort();
                enabled.dedup();
                out.push(RootInfo {
                    id: required(OP, "Root.Id", root.id())?.to_owned(),
                    enabled_policy_types: enabled,
                });
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn list_ous_for_parent(&self, parent_id: &str) -> ApiResult<Vec<OuInfo>> {
        const OP: &str = op::LIST_OUS_FOR_PARENT;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_organizational_units_for_parent()
                        .parent_id(parent_id)
                        .max_results(self.page_size)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for ou in page.organizational_units() {
                out.push(ou_info(OP, Some(ou))?);
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn list_accounts_for_parent(&self, parent_id: &str) -> ApiResult<Vec<AccountInfo>> {
        const OP: &str = op::LIST_ACCOUNTS_FOR_PARENT;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_accounts_for_parent()
                        .parent_id(parent_id)
                        .max_results(self.page_size)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for a in page.accounts() {
                out.push(account_info(OP, a)?);
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn list_accounts(&self) -> ApiResult<Vec<AccountInfo>> {
        const OP: &str = op::LIST_ACCOUNTS;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_accounts()
                        .max_results(self.page_size)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for a in page.accounts() {
                out.push(account_info(OP, a)?);
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn list_parent(&self, child_id: &str) -> ApiResult<String> {
        const OP: &str = op::LIST_PARENTS;
        // A child has exactly one parent: one page answers.
        let out = self
            .send(OP, || self.orgs.list_parents().child_id(child_id).send())
            .await?;
        match out.parents() {
            [parent] => Ok(required(OP, "Parent.Id", parent.id())?.to_owned()),
            [] => Err(other(
                OP,
                "NoParent",
                format!("{child_id} has no parent in the organization"),
            )),
            many => Err(other(
                OP,
                "SeveralParents",
                format!("{child_id} has {} parents", many.len()),
            )),
        }
    }

    async fn describe_ou(&self, ou_id: &str) -> ApiResult<OuInfo> {
        const OP: &str = op::DESCRIBE_OU;
        let out = self
            .send(OP, || {
                self.orgs
                    .describe_organizational_unit()
                    .organizational_unit_id(ou_id)
                    .send()
            })
            .await?;
        ou_info(OP, out.organizational_unit())
    }

    async fn describe_account(&self, account_id: &str) -> ApiResult<AccountInfo> {
        const OP: &str = op::DESCRIBE_ACCOUNT;
        let out = self
            .send(OP, || {
                self.orgs.describe_account().account_id(account_id).send()
            })
            .await?;
        let account = out.account().ok_or_else(|| malformed(OP, "Account"))?;
        account_info(OP, account)
    }

    async fn list_tags(&self, resource_id: &str) -> ApiResult<Tags> {
        const OP: &str = op::LIST_TAGS;
        let mut pager = Pager::new(OP);
        let mut out = Tags::new();
        loop {
            // ListTagsForResource has no MaxResults.
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_tags_for_resource()
                        .resource_id(resource_id)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for t in page.tags() {
                out.insert(t.key().to_owned(), t.value().to_owned());
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn list_policies(&self, policy_type: PolicyType) -> ApiResult<Vec<PolicySummary>> {
        const OP: &str = op::LIST_POLICIES;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_policies()
                        .filter(sdk_policy_type(policy_type))
                        .max_results(self.page_size)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for p in page.policies() {
                out.push(policy_summary(OP, Some(p), policy_type)?);
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn describe_policy(&self, policy_id: &str) -> ApiResult<String> {
        const OP: &str = op::DESCRIBE_POLICY;
        let out = self
            .send(OP, || {
                self.orgs.describe_policy().policy_id(policy_id).send()
            })
            .await?;
        let content = out
            .policy()
            .and_then(|p| p.content())
            .ok_or_else(|| malformed(OP, "Policy.Content"))?;
        Ok(content.to_owned())
    }

    async fn list_targets_for_policy(&self, policy_id: &str) -> ApiResult<Vec<String>> {
        const OP: &str = op::LIST_TARGETS_FOR_POLICY;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_targets_for_policy()
                        .policy_id(policy_id)
                        .max_results(self.page_size)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for t in page.targets() {
                out.push(required(OP, "PolicyTargetSummary.TargetId", t.target_id())?.to_owned());
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn list_policies_for_target(
        &self,
        target_id: &str,
        policy_type: PolicyType,
    ) -> ApiResult<Vec<String>> {
        const OP: &str = op::LIST_POLICIES_FOR_TARGET;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_policies_for_target()
                        .target_id(target_id)
                        .filter(sdk_policy_type(policy_type))
                        .max_results(self.page_size)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for p in page.policies() {
                out.push(required(OP, "PolicySummary.Id", p.id())?.to_owned());
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn list_create_account_in_progress(&self) -> ApiResult<Vec<CreateAccountStatus>> {
        const OP: &str = op::LIST_CREATE_ACCOUNT_STATUS;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    self.orgs
                        .list_create_account_status()
                        .states(SdkCreateState::InProgress)
                        .max_results(self.page_size)
                        .set_next_token(pager.token())
                        .send()
                })
                .await?;
            for s in page.create_account_statuses() {
                out.push(create_account_status(OP, Some(s))?);
            }
            if !pager.advance(page.next_token())? {
                return Ok(out);
            }
        }
    }

    async fn describe_create_account_status(
        &self,
        request_id: &str,
    ) -> ApiResult<CreateAccountStatus> {
        const OP: &str = op::DESCRIBE_CREATE_ACCOUNT_STATUS;
        let out = self
            .send(OP, || {
                self.orgs
                    .describe_create_account_status()
                    .create_account_request_id(request_id)
                    .send()
            })
            .await?;
        create_account_status(OP, out.create_account_status())
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> ApiResult<()> {
        const OP: &str = op::ENABLE_POLICY_TYPE;
        self.send(OP, || {
            self.orgs
                .enable_policy_type()
                .root_id(root_id)
                .policy_type(sdk_policy_type(policy_type))
                .send()
        })
        .await?;
        Ok(())
    }

    async fn create_ou(&self, parent_id: &str, name: &str, tags: &Tags) -> ApiResult<OuInfo> {
        const OP: &str = op::CREATE_OU;
        let sdk_tags = sdk_tags(OP, tags)?;
        let out = self
            .send(OP, || {
                self.orgs
                    .create_organizational_unit()
                    .parent_id(parent_id)
                    .name(name)
                    .set_tags(Some(sdk_tags.clone()).filter(|t| !t.is_empty()))
                    .send()
            })
            .await?;
        ou_info(OP, out.organizational_unit())
    }

    async fn rename_ou(&self, ou_id: &str, name: &str) -> ApiResult<()> {
        const OP: &str = op::UPDATE_OU;
        self.send(OP, || {
            self.orgs
                .update_organizational_unit()
                .organizational_unit_id(ou_id)
                .name(name)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn delete_ou(&self, ou_id: &str) -> ApiResult<()> {
        const OP: &str = op::DELETE_OU;
        self.send(OP, || {
            self.orgs
                .delete_organizational_unit()
                .organizational_unit_id(ou_id)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn create_account(
        &self,
        name: &str,
        email: &str,
        tags: &Tags,
    ) -> ApiResult<CreateAccountStatus> {
        const OP: &str = op::CREATE_ACCOUNT;
        let sdk_tags = sdk_tags(OP, tags)?;
        let out = self
            .send(OP, || {
                self.orgs
                    .create_account()
                    .account_name(name)
                    .email(email)
                    .set_tags(Some(sdk_tags.clone()).filter(|t| !t.is_empty()))
                    .send()
            })
            .await?;
        create_account_status(OP, out.create_account_status())
    }

    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> ApiResult<()> {
        const OP: &str = op::MOVE_ACCOUNT;
        self.send(OP, || {
            self.orgs
                .move_account()
                .account_id(account_id)
                .source_parent_id(source_parent_id)
                .destination_parent_id(destination_parent_id)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn close_account(&self, account_id: &str) -> ApiResult<()> {
        const OP: &str = op::CLOSE_ACCOUNT;
        self.send(OP, || {
            self.orgs.close_account().account_id(account_id).send()
        })
        .await?;
        Ok(())
    }

    async fn tag_resource(&self, resource_id: &str, tags: &Tags) -> ApiResult<()> {
        const OP: &str = op::TAG_RESOURCE;
        let sdk_tags = sdk_tags(OP, tags)?;
        self.send(OP, || {
            self.orgs
                .tag_resource()
                .resource_id(resource_id)
                .set_tags(Some(sdk_tags.clone()))
                .send()
        })
        .await?;
        Ok(())
    }

    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> ApiResult<()> {
        const OP: &str = op::UNTAG_RESOURCE;
        self.send(OP, || {
            self.orgs
                .untag_resource()
                .resource_id(resource_id)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
        })
        .await?;
        Ok(())
    }

    async fn create_policy(
        &self,
        name: &str,
        policy_type: PolicyType,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> ApiResult<PolicySummary> {
        const OP: &str = op::CREATE_POLICY;
        let sdk_tags = sdk_tags(OP, tags)?;
        let out = self
            .send(OP, || {
                self.orgs
                    .create_policy()
                    .name(name)
                    .r#type(sdk_policy_type(policy_type))
                    .description(description)
                    .content(content)
                    .set_tags(Some(sdk_tags.clone()).filter(|t| !t.is_empty()))
                    .send()
            })
            .await?;
        policy_summary(
            OP,
            out.policy().and_then(|p| p.policy_summary()),
            policy_type,
        )
    }

    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> ApiResult<()> {
        const OP: &str = op::UPDATE_POLICY;
        self.send(OP, || {
            self.orgs
                .update_policy()
                .policy_id(policy_id)
                .set_description(description.map(str::to_owned))
                .set_content(content.map(str::to_owned))
                .send()
        })
        .await?;
        Ok(())
    }

    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> ApiResult<()> {
        const OP: &str = op::ATTACH_POLICY;
        self.send(OP, || {
            self.orgs
                .attach_policy()
                .policy_id(policy_id)
                .target_id(target_id)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> ApiResult<()> {
        const OP: &str = op::DETACH_POLICY;
        self.send(OP, || {
            self.orgs
                .detach_policy()
                .policy_id(policy_id)
                .target_id(target_id)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn delete_policy(&self, policy_id: &str) -> ApiResult<()> {
        const OP: &str = op::DELETE_POLICY;
        self.send(OP, || self.orgs.delete_policy().policy_id(policy_id).send())
            .await?;
        Ok(())
    }
}

/// Sends one request (`request` builds and sends it) through `retrier`, mapping SDK failures to
/// [`ApiError`]s; a connection that cannot be made names the endpoint the recorder saw. The one
/// way every SDK request of orgctl (Organizations and IAM) is sent.
pub(crate) async fn send_retried<T, E, Fut>(
    retrier: &Retrier,
    recorder: &Recorder,
    operation: &'static str,
    request: impl Fn() -> Fut,
) -> ApiResult<T>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    retrier
        .run(operation, || {
            let sent = request();
            async move { sent.await.map_err(|e| map_sdk_error(operation, e)) }
        })
        .await
        .map_err(|mut e| {
            if e.code == UNREACHABLE {
                let endpoint = recorder
                    .last_endpoint(operation)
                    .unwrap_or_else(|| "the AWS endpoint".to_owned());
                e.message = format!(
                    "cannot connect to {endpoint} ({}); check AWS_ENDPOINT_URL, the network and \
                     any proxy settings",
                    e.message
                );
            }
            e
        })
}

#[cfg(test)]
mod tests {
    //! Failures that need no server: no credentials at all, and nothing listening.

    use aws_config::SdkConfig;
    use orgctl_backend::ErrorKind;

    use super::*;
    use crate::config::{StaticCredentials, StaticEnv, connect_static};

    /// A port nothing listens on (bound, then released).
    fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    }

    #[tokio::test]
    async fn no_credentials_provider_is_a_credentials_error() {
        let conf = SdkConfig::builder()
            .behavior_version(behavior_version())
            .region(Region::from_static("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{}", closed_port()))
            .build();
        let org = SdkOrg::from_sdk_config(&conf, None).expect("client");
        let err = org.list_roots().await.expect_err("no credentials");
        assert_eq!(err.kind, ErrorKind::Credentials, "{err:?}");
        assert_eq!(err.code, "CredentialsNotFound");
        assert!(err.message.starts_with("No AWS credentials found"), "{err}");
        // Nothing went on the wire, but the attempt is recorded.
        let attempts = org.recorder().attempts();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].operation, "ListRoots");
        assert_eq!(attempts[0].status, None);
    }

    #[tokio::test]
    async fn nothing_listening_is_an_unreachable_endpoint_named_at_once() {
        let env = StaticEnv {
            endpoint_url: format!("http://127.0.0.1:{}", closed_port()),
            region: "eu-west-1".into(),
            credentials: StaticCredentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: None,
            },
        };
        let endpoint = env.endpoint_url.clone();
        let org = connect_static(&env, Some(5))
            .await
            .expect("client")
            .with_retry(orgctl_backend::RetryPolicy::default());
        assert_eq!(org.region(), "eu-west-1");
        assert_eq!(org.page_size(), 5);
        let err = org.describe_organization().await.expect_err("refused");
        assert_eq!(err.kind, ErrorKind::Other, "{err:?}");
        assert_eq!(err.code, "EndpointUnreachable");
        assert_eq!(err.operation, "DescribeOrganization");
        assert!(!err.is_retryable(), "nothing listens: retrying only delays");
        assert!(
            err.message.starts_with(&format!(
                "cannot connect to {endpoint} (connection refused)"
            )),
            "{err}"
        );
        // One attempt: neither the SDK nor the retrier tries again.
        assert_eq!(org.recorder().count("DescribeOrganization"), 1);
    }

    #[test]
    fn account_state_wins_over_the_deprecated_status() {
        #[allow(deprecated)]
        let a = org::Account::builder()
            .id("111111111111")
            .name("a")
            .email("a@example.com")
            .status(org::AccountStatus::Active)
            .state(AccountState::PendingClosure)
            .build();
        assert_eq!(
            account_status("ListAccounts", &a),
            Ok(AccountStatus::PendingClosure)
        );
        #[allow(deprecated)]
        let old = org::Account::builder()
            .status(org::AccountStatus::Suspended)
            .build();
        assert_eq!(
            account_status("ListAccounts", &old),
            Ok(AccountStatus::Suspended)
        );
        let closed = org::Account::builder().state(AccountState::Closed).build();
        assert_eq!(
            account_status("ListAccounts", &closed),
            Ok(AccountStatus::Suspended)
        );
        let none = org::Account::builder().build();
        assert!(account_status("ListAccounts", &none).is_err());
    }

    #[test]
    fn create_account_status_maps_states_and_reasons() {
        let failed = org::CreateAccountStatus::builder()
            .id("car-1")
            .account_name("x")
            .state(SdkCreateState::Failed)
            .failure_reason(org::CreateAccountFailureReason::EmailAlreadyExists)
            .build();
        let s =
            create_account_status("DescribeCreateAccountStatus", Some(&failed)).expect("mapped");
        assert_eq!(s.state, CreateAccountState::Failed);
        assert_eq!(s.failure_reason.as_deref(), Some("EMAIL_ALREADY_EXISTS"));
        assert_eq!(s.account_id, None);

        let broken = org::CreateAccountStatus::builder()
            .id("car-2")
            .state(SdkCreateState::Succeeded)
            .build();
        let err = create_account_status("DescribeCreateAccountStatus", Some(&broken))
            .expect_err("SUCCEEDED without an account id");
        assert_eq!(err.code, "MalformedResponse");
    }
}

//! [`SdkIam`]: the [`IamApi`] over aws-sdk-iam, in member accounts reached by STS AssumeRole.
//!
//! The first call for an account (or [`IamApi::connect`]) assumes a role there with the
//! management account's credentials (STS AssumeRole, session [`SESSION_NAME`]) and builds that
//! account's IAM client. Which role follows the client's [`IamRoles`]: for `apply`, the member
//! role (`arn:aws:iam::<account>:role/<member role>`, [`IamRead::MemberRole`]); for `plan`,
//! `access` and `drift` with a plan role configured, orgctl's read role
//! (`arn:aws:iam::<account>:role/orgctl/orgctl-read`, [`IamRead::ReadRole`]) first and the
//! member role when that is refused ([`IamRead::Fallback`], with STS's answer as the reason).
//! The credentials are cached for the run (renewed only when they come within five minutes of
//! expiring), so each account is assumed once however many calls follow, also when they run
//! concurrently. A refused AssumeRole is an [`ApiError`] of operation `AssumeRole` with STS's
//! code (`AccessDenied`, …), and the next call for that account tries again.
//!
//! Like [`crate::SdkOrg`], every HTTP request (each page, each AssumeRole, on its own) goes
//! through the shared [`Retrier`] and is recorded in the shared [`Recorder`]. IAM returns
//! policy documents URL-encoded; they are decoded here.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, future};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types as iam;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
#[cfg(doc)]
use orgctl_backend::ApiError;
use orgctl_backend::iam::{AttachedPolicy, IamApi, IamRoles, NewRole, Role, RoleSummary};
use orgctl_backend::{ApiResult, Retrier};
use orgctl_model::{IamRead, Tags};
use tokio::sync::OnceCell;

use crate::client::send_retried;
use crate::config::behavior_version;
use crate::errors::{malformed, other};
use crate::operations::iam as op;
use crate::pager::Pager;
use crate::recorder::Recorder;

/// The session name orgctl's AssumeRole sessions carry (visible in CloudTrail).
pub const SESSION_NAME: &str = "orgctl";

/// Credentials are renewed when they expire within this margin.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

/// IAM in member accounts through the AWS SDK. Cheap to clone; clones share the per-account
/// clients, the recorder and the retrier. Made by [`crate::SdkOrg::iam`].
#[derive(Debug, Clone)]
pub struct SdkIam {
    inner: Arc<Inner>,
    /// Items requested per page (IAM's MaxItems).
    page_size: i32,
}

/// IAM's largest page (MaxItems), the default: one ListRoles request per account in almost
/// every account.
pub const IAM_MAX_ITEMS: i32 = 1000;

#[derive(Debug)]
struct Inner {
    /// The management account's configuration (the base credentials of AssumeRole).
    conf: SdkConfig,
    assumer: Assumer,
    roles: IamRoles,
    recorder: Recorder,
    retrier: Retrier,
    clients: Mutex<HashMap<String, Arc<OnceCell<Session>>>>,
}

/// An account's IAM client and how it was reached.
type Session = (aws_sdk_iam::Client, IamRead);

/// An assumed role's credentials, fetched once and renewed near expiry (each AssumeRole
/// through the shared retrier and recorded like every other request).
#[derive(Debug)]
struct CachedAssumed {
    assumer: Assumer,
    arn: String,
    current: Mutex<Credentials>,
}

/// What makes AssumeRole requests: the management account's STS client (recorded, retried).
#[derive(Debug, Clone)]
struct Assumer {
    sts: aws_sdk_sts::Client,
    recorder: Recorder,
    retrier: Retrier,
}

impl Assumer {
    /// STS AssumeRole of `arn`, session [`SESSION_NAME`].
    async fn assume(&self, arn: &str) -> ApiResult<Credentials> {
        let out = send_retried(&self.retrier, &self.recorder, op::ASSUME_ROLE, || {
            self.sts
                .assume_role()
                .role_arn(arn)
                .role_session_name(SESSION_NAME)
                .send()
        })
        .await
        .map_err(|mut e| {
            e.message = format!("cannot assume {arn}: {}", e.message);
            e
        })?;
        let c = out
            .credentials()
            .ok_or_else(|| malformed(op::ASSUME_ROLE, "Credentials"))?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            SystemTime::try_from(*c.expiration()).ok(),
            "orgctl-assume-role",
        ))
    }
}

impl CachedAssumed {
    async fn get(&self) -> provider::Result {
        let current = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let fresh_enough = current
            .expiry()
            .is_none_or(|e| e > SystemTime::now() + RENEW_MARGIN);
        if fresh_enough {
            return Ok(current);
        }
        let renewed = self
            .assumer
            .assume(&self.arn)
            .await
            .map_err(provider::error::CredentialsError::provider_error)?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = renewed.clone();
        Ok(renewed)
    }
}

impl ProvideCredentials for CachedAssumed {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

impl SdkIam {
    pub(crate) fn new(
        conf: SdkConfig,
        roles: IamRoles,
        recorder: Recorder,
        retrier: Retrier,
    ) -> Self {
        let mut sts = aws_sdk_sts::config::Builder::from(&conf)
            .retry_config(RetryConfig::disabled())
            .interceptor(recorder.interceptor());
        if conf.region().is_none() {
            sts = sts.region(aws_config::Region::from_static(crate::DEFAULT_REGION));
        }
        if conf.behavior_version().is_none() {
            sts = sts.behavior_version(behavior_version());
        }
        let assumer = Assumer {
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            recorder: recorder.clone(),
            retrier: retrier.clone(),
        };
        Self {
            inner: Arc::new(Inner {
                conf,
                assumer,
                roles,
                recorder,
                retrier,
                clients: Mutex::new(HashMap::new()),
            }),
            page_size: IAM_MAX_ITEMS,
        }
    }

    /// The same client asking for `items` per page (1–1000; tests use small pages to see every
    /// listing paginate).
    pub fn with_page_size(mut self, items: i32) -> Self {
        self.page_size = items.clamp(1, IAM_MAX_ITEMS);
        self
    }

    /// The role assumed in every member account (`OrganizationAccountAccessRole`, …).
    pub fn member_role(&self) -> &str {
        &self.inner.roles.member_role
    }

    /// The roles this client assumes (the read role first, when set).
    pub fn roles(&self) -> &IamRoles {
        &self.inner.roles
    }

    /// The member role's ARN in `account`.
    pub fn role_arn(&self, account: &str) -> String {
        self.inner.roles.member_role_arn(account)
    }

    /// The retrier every request goes through.
    pub fn retrier(&self) -> &Retrier {
        &self.inner.retrier
    }

    /// Every HTTP attempt of the IAM clients (shared with the `SdkOrg` it came from).
    pub fn recorder(&self) -> &Recorder {
        &self.inner.recorder
    }

    /// How many accounts have been assumed into so far.
    pub fn assumed_accounts(&self) -> usize {
        self.inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|c| c.initialized())
            .count()
    }

    /// The IAM client of `account`, assuming the member role there on first use.
    async fn client(&self, account: &str) -> ApiResult<aws_sdk_iam::Client> {
        Ok(self.session(account).await?.0)
    }

    /// The IAM client of `account` and how it was reached, assuming a role on first use: the
    /// read role when configured, else (or when it is refused) the member role.
    async fn session(&self, account: &str) -> ApiResult<(aws_sdk_iam::Client, IamRead)> {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(other(
                op::ASSUME_ROLE,
                "InvalidAccountId",
                format!("{account:?} is not a 12-digit account id"),
            ));
        }
        let cell = self
            .inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(account.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(|| self.reach(account)).await.cloned()
    }

    async fn reach(&self, account: &str) -> ApiResult<(aws_sdk_iam::Client, IamRead)> {
        let roles = &self.inner.roles;
        let mut read_refused = None;
        if let Some(arn) = roles.read_role_arn(account) {
            match self.assume(&arn).await {
                Ok(client) => return Ok((client, IamRead::ReadRole)),
                Err(e) => read_refused = Some(e.to_string()),
            }
        }
        match self.assume(&roles.member_role_arn(account)).await {
            Ok(client) => Ok((client, roles.through_member_role(read_refused))),
            Err(mut e) => {
                if let Some(read) = read_refused {
                    e.message = format!("{read}; {}", e.message);
                }
                Err(e)
            }
        }
    }

    async fn assume(&self, arn: &str) -> ApiResult<aws_sdk_iam::Client> {
        let credentials = self.inner.assumer.assume(arn).await?;
        let cached = CachedAssumed {
            assumer: self.inner.assumer.clone(),
            arn: arn.to_owned(),
            current: Mutex::new(credentials),
        };
        let conf = &self.inner.conf;
        let mut builder = aws_sdk_iam::config::Builder::from(conf)
            .credentials_provider(cached)
            .retry_config(RetryConfig::disabled())
            .interceptor(self.inner.recorder.interceptor());
        if conf.region().is_none() {
            builder = builder.region(aws_config::Region::from_static(crate::DEFAULT_REGION));
        }
        if conf.behavior_version().is_none() {
            builder = builder.behavior_version(behavior_version());
        }
        Ok(aws_sdk_iam::Client::from_conf(builder.build()))
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
        send_retried(
            &self.inner.retrier,
            &self.inner.recorder,
            operation,
            request,
        )
        .await
    }
}

/// Decodes a URL-encoded policy document as IAM returns it (`%7B%22Version…`).
pub(crate) fn decode_document(operation: &'static str, encoded: &str) -> ApiResult<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    other(
                        operation,
                        "MalformedResponse",
                        "a policy document has a broken %-escape",
                    )
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        other(
            operation,
            "MalformedResponse",
            "a policy document is not UTF-8 once decoded",
        )
    })
}

fn required<'a>(operation: &'static str, what: &str, v: Option<&'a str>) -> ApiResult<&'a str> {
    v.ok_or_else(|| malformed(operation, what))
}

fn summary(operation: &'static str, r: &iam::Role) -> ApiResult<RoleSummary> {
    Ok(RoleSummary {
        path: r.path().to_owned(),
        name: r.role_name().to_owned(),
        arn: r.arn().to_owned(),
        description: r.description().unwrap_or_default().to_owned(),
        max_session_secs: r.max_session_duration().unwrap_or(3600),
        trust_policy: decode_document(
            operation,
            required(
                operation,
                "Role.AssumeRolePolicyDocument",
                r.assume_role_policy_document(),
            )?,
        )?,
    })
}

fn sdk_tags(operation: &'static str, tags: &Tags) -> ApiResult<Vec<iam::Tag>> {
    tags.iter()
        .map(|(k, v)| {
            iam::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| other(operation, "InvalidTag", e.to_string()))
        })
        .collect()
}

impl IamApi for SdkIam {
    async fn connect(&self, account: &str) -> ApiResult<IamRead> {
        Ok(self.session(account).await?.1)
    }

    async fn list_roles(&self, account: &str, path_prefix: &str) -> ApiResult<Vec<RoleSummary>> {
        const OP: &str = op::LIST_ROLES;
        let client = self.client(account).await?;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    client
                        .list_roles()
                        .path_prefix(path_prefix)
                        .max_items(self.page_size)
                        .set_marker(pager.token())
                        .send()
                })
                .await?;
            for r in page.roles() {
                out.push(summary(OP, r)?);
            }
            let next = if page.is_truncated() {
                page.marker()
            } else {
                None
            };
            if !pager.advance(next)? {
                out.sort_by_key(|r| r.name.to_lowercase());
                return Ok(out);
            }
        }
    }

    async fn get_role(&self, account: &str, name: &str) -> ApiResult<Role> {
        const OP: &str = op::GET_ROLE;
        let client = self.client(account).await?;
        let out = self
            .send(OP, || client.get_role().role_name(name).send())
            .await?;
        let r = out.role().ok_or_else(|| malformed(OP, "Role"))?;
        Ok(Role {
            summary: summary(OP, r)?,
            permissions_boundary: r
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned),
            tags: r
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        })
    }

    async fn create_role(&self, account: &str, role: &NewRole) -> ApiResult<Role> {
        const OP: &str = op::CREATE_ROLE;
        let client = self.client(account).await?;
        let tags = sdk_tags(OP, &role.tags)?;
        self.send(OP, || {
            client
                .create_role()
                .path(&role.path)
                .role_name(&role.name)
                .assume_role_policy_document(&role.trust_policy)
                .description(&role.description)
                .max_session_duration(role.max_session_secs)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await
        .and_then(|out| {
            let r = out.role().ok_or_else(|| malformed(OP, "Role"))?;
            // A new role has no boundary, and exactly the tags it was created with.
            Ok(Role {
                summary: summary(OP, r)?,
                permissions_boundary: None,
                tags: role.tags.clone(),
            })
        })
    }

    async fn update_trust_policy(
        &self,
        account: &str,
        name: &str,
        trust_policy: &str,
    ) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::UPDATE_ASSUME_ROLE_POLICY, || {
            client
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(trust_policy)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn update_role(
        &self,
        account: &str,
        name: &str,
        description: &str,
        max_session_secs: i32,
    ) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::UPDATE_ROLE, || {
            client
                .update_role()
                .role_name(name)
                .description(description)
                .max_session_duration(max_session_secs)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn tag_role(&self, account: &str, name: &str, tags: &Tags) -> ApiResult<()> {
        const OP: &str = op::TAG_ROLE;
        let client = self.client(account).await?;
        let tags = sdk_tags(OP, tags)?;
        self.send(OP, || {
            client
                .tag_role()
                .role_name(name)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn untag_role(&self, account: &str, name: &str, keys: &[String]) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::UNTAG_ROLE, || {
            client
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn list_attached_policies(
        &self,
        account: &str,
        name: &str,
    ) -> ApiResult<Vec<AttachedPolicy>> {
        const OP: &str = op::LIST_ATTACHED_ROLE_POLICIES;
        let client = self.client(account).await?;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    client
                        .list_attached_role_policies()
                        .role_name(name)
                        .max_items(self.page_size)
                        .set_marker(pager.token())
                        .send()
                })
                .await?;
            for p in page.attached_policies() {
                out.push(AttachedPolicy {
                    name: required(OP, "AttachedPolicy.PolicyName", p.policy_name())?.to_owned(),
                    arn: required(OP, "AttachedPolicy.PolicyArn", p.policy_arn())?.to_owned(),
                });
            }
            let next = if page.is_truncated() {
                page.marker()
            } else {
                None
            };
            if !pager.advance(next)? {
                out.sort_by(|a, b| a.arn.cmp(&b.arn));
                return Ok(out);
            }
        }
    }

    async fn attach_policy(&self, account: &str, name: &str, policy_arn: &str) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::ATTACH_ROLE_POLICY, || {
            client
                .attach_role_policy()
                .role_name(name)
                .policy_arn(policy_arn)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn detach_policy(&self, account: &str, name: &str, policy_arn: &str) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::DETACH_ROLE_POLICY, || {
            client
                .detach_role_policy()
                .role_name(name)
                .policy_arn(policy_arn)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn list_inline_policies(&self, account: &str, name: &str) -> ApiResult<Vec<String>> {
        const OP: &str = op::LIST_ROLE_POLICIES;
        let client = self.client(account).await?;
        let mut pager = Pager::new(OP);
        let mut out = Vec::new();
        loop {
            let page = self
                .send(OP, || {
                    client
                        .list_role_policies()
                        .role_name(name)
                        .max_items(self.page_size)
                        .set_marker(pager.token())
                        .send()
                })
                .await?;
            out.extend(page.policy_names().iter().cloned());
            let next = if page.is_truncated() {
                page.marker()
            } else {
                None
            };
            if !pager.advance(next)? {
                out.sort();
                return Ok(out);
            }
        }
    }

    async fn get_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
    ) -> ApiResult<String> {
        const OP: &str = op::GET_ROLE_POLICY;
        let client = self.client(account).await?;
        let out = self
            .send(OP, || {
                client
                    .get_role_policy()
                    .role_name(name)
                    .policy_name(policy_name)
                    .send()
            })
            .await?;
        decode_document(OP, out.policy_document())
    }

    async fn put_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::PUT_ROLE_POLICY, || {
            client
                .put_role_policy()
                .role_name(name)
                .policy_name(policy_name)
                .policy_document(document)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn delete_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
    ) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::DELETE_ROLE_POLICY, || {
            client
                .delete_role_policy()
                .role_name(name)
                .policy_name(policy_name)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn put_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        policy_arn: &str,
    ) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::PUT_ROLE_PERMISSIONS_BOUNDARY, || {
            client
                .put_role_permissions_boundary()
                .role_name(name)
                .permissions_boundary(policy_arn)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn delete_permissions_boundary(&self, account: &str, name: &str) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::DELETE_ROLE_PERMISSIONS_BOUNDARY, || {
            client
                .delete_role_permissions_boundary()
                .role_name(name)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn delete_role(&self, account: &str, name: &str) -> ApiResult<()> {
        let client = self.client(account).await?;
        self.send(op::DELETE_ROLE, || {
            client.delete_role().role_name(name).send()
        })
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22a%22%3A%22100%25%20%C3%A9%22%7D";
        assert_eq!(
            decode_document("GetRolePolicy", encoded).expect("decode"),
            r#"{"Version":"2012-10-17","a":"100% é"}"#
        );
        // A document that was not encoded comes back unchanged.
        assert_eq!(
            decode_document("GetRole", r#"{"a":1}"#).expect("plain"),
            r#"{"a":1}"#
        );
        for broken in ["%7", "%zz", "%FF%FE"] {
            let e = decode_document("GetRole", broken).expect_err(broken);
            assert_eq!(e.code, "MalformedResponse", "{broken}");
        }
    }

    #[test]
    fn a_bad_account_id_is_refused_before_any_request() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let conf = SdkConfig::builder().build();
            let api = SdkIam::new(
                conf,
                IamRoles::write("OrganizationAccountAccessRole"),
                Recorder::new(),
                Retrier::default(),
            );
            for bad in ["12345", "12345678901a", ""] {
                let e = api.list_roles(bad, "/").await.expect_err(bad);
                assert_eq!(
                    (e.operation, e.code.as_str()),
                    (op::ASSUME_ROLE, "InvalidAccountId")
                );
            }
            assert_eq!(api.assumed_accounts(), 0);
            assert_eq!(api.recorder().attempts().len(), 0);
        });
    }
}

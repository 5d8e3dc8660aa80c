//! The IAM seam: IAM roles in member accounts, as access grants need them, one method per IAM
//! API operation, every method scoped to one account.
//!
//! Like [`crate::OrgApi`], two implementations exist: [`crate::MemoryIam`], a strict in-memory IAM
//! per account that enforces IAM's rules (including those the emulator skips), and
//! `orgctl_aws::SdkIam`, the AWS SDK, which reaches each account by assuming a role there from
//! the management account (once per account per run). Failures are [`ApiError`]s carrying IAM's
//! own error code ([`codes`]) and a retry classification; list methods follow every page.
//!
//! Policy documents (trust policies, inline policies) are passed and returned as the JSON text
//! itself: IAM returns them URL-encoded, and the SDK backend decodes them.

use std::future::Future;

use orgctl_model::{IamRead, READ_ROLE_NAME, ROLE_PATH, Tags};

#[cfg(doc)]
use crate::api::ApiError;
use crate::api::ApiResult;

/// IAM's error codes (the query protocol's `<Code>`; no `Exception` suffix). Both backends use
/// exactly these strings.
pub mod codes {
    #![allow(missing_docs)]
    pub const NO_SUCH_ENTITY: &str = "NoSuchEntity";
    pub const ENTITY_ALREADY_EXISTS: &str = "EntityAlreadyExists";
    pub const DELETE_CONFLICT: &str = "DeleteConflict";
    pub const MALFORMED_POLICY_DOCUMENT: &str = "MalformedPolicyDocument";
    pub const LIMIT_EXCEEDED: &str = "LimitExceeded";
    pub const INVALID_INPUT: &str = "InvalidInput";
    /// A parameter broke its length or pattern constraint (checked before IAM looks at state).
    pub const VALIDATION_ERROR: &str = "ValidationError";
    pub const UNMODIFIABLE_ENTITY: &str = "UnmodifiableEntity";
    pub const POLICY_NOT_ATTACHABLE: &str = "PolicyNotAttachable";
    /// Retried, like Organizations' ConcurrentModificationException.
    pub const CONCURRENT_MODIFICATION: &str = "ConcurrentModification";
    pub const SERVICE_FAILURE: &str = "ServiceFailure";
    pub const THROTTLING: &str = "Throttling";
    /// STS AssumeRole into the account was refused.
    pub const ACCESS_DENIED: &str = "AccessDenied";
}

/// The names of the API operations behind [`IamApi`]'s methods (plus STS AssumeRole, which the
/// SDK backend makes once per account), as call logs, counters and `ApiError::operation` spell
/// them.
pub mod operations {
    #![allow(missing_docs)]
    pub const ASSUME_ROLE: &str = "AssumeRole";
    pub const LIST_ROLES: &str = "ListRoles";
    pub const GET_ROLE: &str = "GetRole";
    pub const LIST_ATTACHED_ROLE_POLICIES: &str = "ListAttachedRolePolicies";
    pub const LIST_ROLE_POLICIES: &str = "ListRolePolicies";
    pub const GET_ROLE_POLICY: &str = "GetRolePolicy";
    pub const CREATE_ROLE: &str = "CreateRole";
    pub const UPDATE_ASSUME_ROLE_POLICY: &str = "UpdateAssumeRolePolicy";
    pub const UPDATE_ROLE: &str = "UpdateRole";
    pub const TAG_ROLE: &str = "TagRole";
    pub const UNTAG_ROLE: &str = "UntagRole";
    pub const ATTACH_ROLE_POLICY: &str = "AttachRolePolicy";
    pub const DETACH_ROLE_POLICY: &str = "DetachRolePolicy";
    pub const PUT_ROLE_POLICY: &str = "PutRolePolicy";
    pub const DELETE_ROLE_POLICY: &str = "DeleteRolePolicy";
    pub const PUT_ROLE_PERMISSIONS_BOUNDARY: &str = "PutRolePermissionsBoundary";
    pub const DELETE_ROLE_PERMISSIONS_BOUNDARY: &str = "DeleteRolePermissionsBoundary";
    pub const DELETE_ROLE: &str = "DeleteRole";

    /// Every IAM read [`super::IamApi`] makes (`iam:<Op>` in a member account).
    pub const READS: [&str; 5] = [
        LIST_ROLES,
        GET_ROLE,
        LIST_ATTACHED_ROLE_POLICIES,
        LIST_ROLE_POLICIES,
        GET_ROLE_POLICY,
    ];

    /// Every IAM operation [`super::IamApi`] makes that changes an account.
    pub const WRITES: [&str; 12] = [
        CREATE_ROLE,
        UPDATE_ASSUME_ROLE_POLICY,
        UPDATE_ROLE,
        TAG_ROLE,
        UNTAG_ROLE,
        ATTACH_ROLE_POLICY,
        DETACH_ROLE_POLICY,
        PUT_ROLE_POLICY,
        DELETE_ROLE_POLICY,
        PUT_ROLE_PERMISSIONS_BOUNDARY,
        DELETE_ROLE_PERMISSIONS_BOUNDARY,
        DELETE_ROLE,
    ];

    /// Whether the named IAM operation changes an account.
    pub fn is_write(operation: &str) -> bool {
        WRITES.contains(&operation)
    }
}

/// IAM's limits, as the in-memory IAM enforces them (and as offline validation should).
pub mod limits {
    /// Role names: 1–64 characters of `[\w+=,.@-]`.
    pub const ROLE_NAME_MAX: usize = 64;
    /// Paths: 1–512 characters, `/` or `/…/`.
    pub const PATH_MAX: usize = 512;
    /// Descriptions: at most 1,000 characters.
    pub const DESCRIPTION_MAX: usize = 1000;
    /// Trust policy size (quota `ACLSizePerRole`), not counting white space.
    pub const TRUST_POLICY_MAX: usize = 2048;
    /// Inline policies of one role, in total (quota `RolePolicySize`), not counting white space.
    pub const INLINE_POLICIES_TOTAL_MAX: usize = 10_240;
    /// Inline policy names: 1–128 characters of `[\w+=,.@-]`.
    pub const POLICY_NAME_MAX: usize = 128;
    /// Managed policies attached to one role (quota `PoliciesPerRole`, default).
    pub const MANAGED_POLICIES_PER_ROLE: usize = 10;
    /// Tags on one role.
    pub const TAGS_PER_ROLE: usize = 50;
    /// MaxSessionDuration, in seconds: 1 h to 12 h.
    pub const MIN_SESSION_SECS: i32 = 3600;
    /// See [`MIN_SESSION_SECS`].
    pub const MAX_SESSION_SECS: i32 = 43_200;
}

/// A role as ListRoles returns it (ListRoles leaves out tags and the permissions boundary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSummary {
    /// `/orgctl/`
    pub path: String,
    /// The role's name, as created (IAM keeps its case).
    pub name: String,
    /// `arn:aws:iam::<account>:role<path><name>`
    pub arn: String,
    /// Its description (empty when none).
    pub description: String,
    /// MaxSessionDuration, in seconds.
    pub max_session_secs: i32,
    /// The trust policy (AssumeRolePolicyDocument), decoded JSON text.
    pub trust_policy: String,
}

/// A role as GetRole returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// What ListRoles also returns.
    pub summary: RoleSummary,
    /// The ARN of the permissions boundary's managed policy, if one is set.
    pub permissions_boundary: Option<String>,
    /// Its tags.
    pub tags: Tags,
}

/// CreateRole's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRole {
    /// `/orgctl/`
    pub path: String,
    /// The role's name.
    pub name: String,
    /// The trust policy, JSON text.
    pub trust_policy: String,
    /// Its description.
    pub description: String,
    /// MaxSessionDuration, in seconds (3,600–43,200).
    pub max_session_secs: i32,
    /// Its tags.
    pub tags: Tags,
}

/// A managed policy attached to a role (ListAttachedRolePolicies).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttachedPolicy {
    /// `AdministratorAccess`
    pub name: String,
    /// `arn:aws:iam::aws:policy/AdministratorAccess`
    pub arn: String,
}

/// Which roles orgctl assumes in member accounts, for one run.
///
/// `apply` writes through the member role ([`IamRoles::write`], [`IamRead::MemberRole`]);
/// `plan`, `access` and `drift` try orgctl's read role first and fall back to the member role
/// ([`IamRoles::read`]: [`IamRead::ReadRole`], else [`IamRead::Fallback`]); without a
/// `plan_role` in the desired state no read role exists, so reads use the member role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamRoles {
    /// The member role, below the account's `role/` (`OrganizationAccountAccessRole`, or a
    /// path and name such as `team/admin`).
    pub member_role: String,
    /// The read role to try first (path and name below `role/`: `orgctl/orgctl-read`), if any.
    pub read_role: Option<String>,
}

impl IamRoles {
    /// `apply`: the member role only.
    pub fn write(member_role: &str) -> Self {
        Self {
            member_role: member_role.trim_matches('/').to_owned(),
            read_role: None,
        }
    }

    /// `plan`, `access`, `drift`: orgctl's read role first when a plan role is configured
    /// (`organization.plan_role`), then the member role.
    pub fn read(member_role: &str, plan_role: Option<&str>) -> Self {
        Self {
            read_role: plan_role.map(|_| format!("{}{READ_ROLE_NAME}", &ROLE_PATH[1..])),
            ..Self::write(member_role)
        }
    }

    /// `arn:aws:iam::ACCOUNT:role/<member role>`.
    pub fn member_role_arn(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:role/{}", self.member_role)
    }

    /// `arn:aws:iam::ACCOUNT:role/orgctl/orgctl-read`, when reads try the read role.
    pub fn read_role_arn(&self, account: &str) -> Option<String> {
        self.read_role
            .as_ref()
            .map(|r| format!("arn:aws:iam::{account}:role/{r}"))
    }

    /// How an account reached through the member role was read: [`IamRead::MemberRole`], or
    /// [`IamRead::Fallback`] when the read role was tried first and refused for `reason`.
    pub fn through_member_role(&self, read_role_refused: Option<String>) -> IamRead {
        match read_role_refused {
            Some(reason) if self.read_role.is_some() => IamRead::Fallback { reason },
            _ => IamRead::MemberRole,
        }
    }
}

impl From<&str> for IamRoles {
    /// [`IamRoles::write`]: the member role only.
    fn from(member_role: &str) -> Self {
        Self::write(member_role)
    }
}

impl From<&String> for IamRoles {
    /// [`IamRoles::write`]: the member role only.
    fn from(member_role: &String) -> Self {
        Self::write(member_role)
    }
}

impl Default for IamRoles {
    fn default() -> Self {
        Self::write(orgctl_model::DEFAULT_MEMBER_ROLE)
    }
}

/// IAM, as access grants use it. Every method is one IAM API operation in the account
/// `account` (12 digits); list methods follow every page and return a stable order (roles by
/// name, case-insensitively; attached policies by ARN; inline policies by name), whatever order
/// IAM answers in. Implementations must be safe to call concurrently.
pub trait IamApi: Send + Sync {
    /// Reaches `account` (STS AssumeRole from the management account, once per account per
    /// run) with the run's [`IamRoles`]: the read role first when configured, then the member
    /// role. Says how ([`IamRead::ReadRole`], [`IamRead::MemberRole`] or
    /// [`IamRead::Fallback`]); fails (operation `AssumeRole`) when no role can be assumed
    /// (account closed or suspended, member role removed). Later calls for the account go
    /// through the same session; calling it first is optional (every call connects).
    fn connect(&self, account: &str) -> impl Future<Output = ApiResult<IamRead>> + Send;
    /// ListRoles with a PathPrefix (`/orgctl/`).
    fn list_roles(
        &self,
        account: &str,
        path_prefix: &str,
    ) -> impl Future<Output = ApiResult<Vec<RoleSummary>>> + Send;
    /// GetRole.
    fn get_role(&self, account: &str, name: &str) -> impl Future<Output = ApiResult<Role>> + Send;
    /// CreateRole.
    fn create_role(
        &self,
        account: &str,
        role: &NewRole,
    ) -> impl Future<Output = ApiResult<Role>> + Send;
    /// UpdateAssumeRolePolicy: replaces the trust policy.
    fn update_trust_policy(
        &self,
        account: &str,
        name: &str,
        trust_policy: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// UpdateRole: the description and MaxSessionDuration.
    fn update_role(
        &self,
        account: &str,
        name: &str,
        description: &str,
        max_session_secs: i32,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// TagRole: adds the tags, replacing the values of keys already there.
    fn tag_role(
        &self,
        account: &str,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// UntagRole.
    fn untag_role(
        &self,
        account: &str,
        name: &str,
        keys: &[String],
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// ListAttachedRolePolicies.
    fn list_attached_policies(
        &self,
        account: &str,
        name: &str,
    ) -> impl Future<Output = ApiResult<Vec<AttachedPolicy>>> + Send;
    /// AttachRolePolicy (a managed policy, by ARN).
    fn attach_policy(
        &self,
        account: &str,
        name: &str,
        policy_arn: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// DetachRolePolicy.
    fn detach_policy(
        &self,
        account: &str,
        name: &str,
        policy_arn: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// ListRolePolicies: the names of the role's inline policies.
    fn list_inline_policies(
        &self,
        account: &str,
        name: &str,
    ) -> impl Future<Output = ApiResult<Vec<String>>> + Send;
    /// GetRolePolicy: one inline policy's document.
    fn get_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
    ) -> impl Future<Output = ApiResult<String>> + Send;
    /// PutRolePolicy: creates or replaces an inline policy.
    fn put_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// DeleteRolePolicy.
    fn delete_inline_policy(
        &self,
        account: &str,
        name: &str,
        policy_name: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// PutRolePermissionsBoundary (a managed policy, by ARN).
    fn put_permissions_boundary(
        &self,
        account: &str,
        name: &str,
        policy_arn: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// DeleteRolePermissionsBoundary.
    fn delete_permissions_boundary(
        &self,
        account: &str,
        name: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// DeleteRole: fails with DeleteConflict while the role has managed or inline policies.
    fn delete_role(&self, account: &str, name: &str) -> impl Future<Output = ApiResult<()>> + Send;
}

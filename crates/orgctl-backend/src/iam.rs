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

use orgctl_model::Tags;

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

/// IAM, as access grants use it. Every method is one IAM API operation in the account
/// `account` (12 digits); list methods follow every page and return a stable order (roles by
/// name, case-insensitively; attached policies by ARN; inline policies by name), whatever order
/// IAM answers in. Implementations must be safe to call concurrently.
pub trait IamApi: Send + Sync {
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

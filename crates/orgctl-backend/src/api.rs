//! The seam: AWS Organizations' API as orgctl uses it, one method per API operation.
//!
//! Two implementations exist: [`crate::memory::MemoryOrg`], a strict in-memory organization that
//! enforces AWS's rules (including those the emulator skips), and `orgctl_aws::SdkOrg`, the AWS SDK.
//! Everything above this trait (the live-state reader in [`crate::observe`] and the idempotent
//! executor in [`mod@crate::execute`]) is written once, against the trait, so the same code reads and
//! writes both. Implementations return whole lists (they follow pagination themselves) and report
//! failures as [`ApiError`] carrying AWS's own error code.

use std::future::Future;

use orgctl_model::{AccountStatus, PolicyType, Tags};
use serde::{Deserialize, Serialize};

/// AWS error codes the executor and reader act on. Both backends use exactly these strings.
pub mod codes {
    #![allow(missing_docs)]
    pub const ACCESS_DENIED: &str = "AccessDeniedException";
    pub const ACCOUNT_ALREADY_CLOSED: &str = "AccountAlreadyClosedException";
    pub const ACCOUNT_NOT_FOUND: &str = "AccountNotFoundException";
    pub const CHILD_NOT_FOUND: &str = "ChildNotFoundException";
    pub const CONCURRENT_MODIFICATION: &str = "ConcurrentModificationException";
    pub const CONSTRAINT_VIOLATION: &str = "ConstraintViolationException";
    pub const CREATE_ACCOUNT_STATUS_NOT_FOUND: &str = "CreateAccountStatusNotFoundException";
    pub const DESTINATION_PARENT_NOT_FOUND: &str = "DestinationParentNotFoundException";
    pub const DUPLICATE_ACCOUNT: &str = "DuplicateAccountException";
    pub const DUPLICATE_OU: &str = "DuplicateOrganizationalUnitException";
    pub const DUPLICATE_POLICY: &str = "DuplicatePolicyException";
    pub const DUPLICATE_POLICY_ATTACHMENT: &str = "DuplicatePolicyAttachmentException";
    pub const INVALID_INPUT: &str = "InvalidInputException";
    pub const MALFORMED_POLICY_DOCUMENT: &str = "MalformedPolicyDocumentException";
    pub const NOT_IN_USE: &str = "AWSOrganizationsNotInUseException";
    pub const OU_NOT_EMPTY: &str = "OrganizationalUnitNotEmptyException";
    pub const OU_NOT_FOUND: &str = "OrganizationalUnitNotFoundException";
    pub const PARENT_NOT_FOUND: &str = "ParentNotFoundException";
    /// Not an AWS Organizations code: AWS answers a change to an AWS-managed policy with
    /// [`INVALID_INPUT`] (reason `IMMUTABLE_POLICY`). Kept for callers that name it.
    pub const POLICY_CHANGES_NOT_ALLOWED: &str = "PolicyChangesNotAllowedException";
    pub const POLICY_IN_USE: &str = "PolicyInUseException";
    pub const POLICY_NOT_ATTACHED: &str = "PolicyNotAttachedException";
    pub const POLICY_NOT_FOUND: &str = "PolicyNotFoundException";
    pub const POLICY_TYPE_ALREADY_ENABLED: &str = "PolicyTypeAlreadyEnabledException";
    pub const POLICY_TYPE_NOT_ENABLED: &str = "PolicyTypeNotEnabledException";
    pub const ROOT_NOT_FOUND: &str = "RootNotFoundException";
    pub const SERVICE: &str = "ServiceException";
    pub const SOURCE_PARENT_NOT_FOUND: &str = "SourceParentNotFoundException";
    pub const TARGET_NOT_FOUND: &str = "TargetNotFoundException";
    pub const TOO_MANY_REQUESTS: &str = "TooManyRequestsException";
}

/// The names of the AWS API operations behind [`OrgApi`]'s methods, as call logs, counters and
/// [`ApiError::operation`] spell them.
pub mod operations {
    #![allow(missing_docs)]
    pub const DESCRIBE_ORGANIZATION: &str = "DescribeOrganization";
    pub const LIST_ROOTS: &str = "ListRoots";
    pub const LIST_OUS_FOR_PARENT: &str = "ListOrganizationalUnitsForParent";
    pub const LIST_ACCOUNTS_FOR_PARENT: &str = "ListAccountsForParent";
    pub const LIST_ACCOUNTS: &str = "ListAccounts";
    pub const LIST_PARENTS: &str = "ListParents";
    pub const DESCRIBE_OU: &str = "DescribeOrganizationalUnit";
    pub const DESCRIBE_ACCOUNT: &str = "DescribeAccount";
    pub const LIST_TAGS: &str = "ListTagsForResource";
    pub const LIST_POLICIES: &str = "ListPolicies";
    pub const DESCRIBE_POLICY: &str = "DescribePolicy";
    pub const LIST_TARGETS_FOR_POLICY: &str = "ListTargetsForPolicy";
    pub const LIST_POLICIES_FOR_TARGET: &str = "ListPoliciesForTarget";
    pub const LIST_CREATE_ACCOUNT_STATUS: &str = "ListCreateAccountStatus";
    pub const DESCRIBE_CREATE_ACCOUNT_STATUS: &str = "DescribeCreateAccountStatus";
    pub const ENABLE_POLICY_TYPE: &str = "EnablePolicyType";
    pub const CREATE_OU: &str = "CreateOrganizationalUnit";
    pub const UPDATE_OU: &str = "UpdateOrganizationalUnit";
    pub const DELETE_OU: &str = "DeleteOrganizationalUnit";
    pub const CREATE_ACCOUNT: &str = "CreateAccount";
    pub const MOVE_ACCOUNT: &str = "MoveAccount";
    pub const CLOSE_ACCOUNT: &str = "CloseAccount";
    pub const TAG_RESOURCE: &str = "TagResource";
    pub const UNTAG_RESOURCE: &str = "UntagResource";
    pub const CREATE_POLICY: &str = "CreatePolicy";
    pub const UPDATE_POLICY: &str = "UpdatePolicy";
    pub const ATTACH_POLICY: &str = "AttachPolicy";
    pub const DETACH_POLICY: &str = "DetachPolicy";
    pub const DELETE_POLICY: &str = "DeletePolicy";

    /// Every operation that changes the organization.
    pub const WRITES: [&str; 14] = [
        ENABLE_POLICY_TYPE,
        CREATE_OU,
        UPDATE_OU,
        DELETE_OU,
        CREATE_ACCOUNT,
        MOVE_ACCOUNT,
        CLOSE_ACCOUNT,
        TAG_RESOURCE,
        UNTAG_RESOURCE,
        CREATE_POLICY,
        UPDATE_POLICY,
        ATTACH_POLICY,
        DETACH_POLICY,
        DELETE_POLICY,
    ];

    /// Whether the named operation changes the organization or an account's IAM (reads return
    /// `false`).
    pub fn is_write(operation: &str) -> bool {
        WRITES.contains(&operation) || crate::iam::operations::is_write(operation)
    }
}

/// What kind of failure an [`ApiError`] is; decides whether the executor retries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// AWS answered with a modeled service error (the code says which).
    Service,
    /// Throttled (TooManyRequestsException, Throttling, …): retried with backoff.
    Throttling,
    /// A transient failure: HTTP 5xx, a timeout, a dropped connection, or
    /// ConcurrentModificationException. Retried with backoff.
    Transient,
    /// Missing, invalid or expired credentials. Never retried.
    Credentials,
    /// Anything else that is not AWS's answer (a response that could not be read, …).
    Other,
}

/// A failed call, with AWS's error code (`DuplicateOrganizationalUnitException`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct ApiError {
    /// The API operation (`CreateOrganizationalUnit`).
    pub operation: &'static str,
    /// AWS's error code, or a short description for non-service errors.
    pub code: String,
    /// The message.
    pub message: String,
    /// Retry classification.
    pub kind: ErrorKind,
}

impl ApiError {
    /// A modeled service error.
    pub fn service(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        let kind = match code {
            codes::TOO_MANY_REQUESTS | "Throttling" | "ThrottlingException" => {
                ErrorKind::Throttling
            }
            codes::CONCURRENT_MODIFICATION | crate::iam::codes::CONCURRENT_MODIFICATION => {
                ErrorKind::Transient
            }
            _ => ErrorKind::Service,
        };
        Self {
            operation,
            code: code.to_owned(),
            message: message.into(),
            kind,
        }
    }

    /// Throttling (`TooManyRequestsException`), as AWS reports it when the request rate is too
    /// high.
    pub fn throttling(operation: &'static str) -> Self {
        Self {
            operation,
            code: codes::TOO_MANY_REQUESTS.to_owned(),
            message: "AWS throttled your request. Try again later.".to_owned(),
            kind: ErrorKind::Throttling,
        }
    }

    /// A transient failure (HTTP 5xx, a timeout, a dropped connection) with a short code such
    /// as `ServiceException`.
    pub fn transient(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        Self {
            operation,
            code: code.to_owned(),
            message: message.into(),
            kind: ErrorKind::Transient,
        }
    }

    /// The same error, reported for another operation.
    pub fn for_operation(mut self, operation: &'static str) -> Self {
        self.operation = operation;
        self
    }

    /// Whether the code is `code`.
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throttling | ErrorKind::Transient)
    }
}

/// The result of one API call.
pub type ApiResult<T> = Result<T, ApiError>;

/// DescribeOrganization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgInfo {
    /// `o-…`
    pub id: String,
    /// The management account id.
    pub management_account_id: String,
}

/// One root from ListRoots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootInfo {
    /// `r-…`
    pub id: String,
    /// Policy types whose status is ENABLED.
    pub enabled_policy_types: Vec<PolicyType>,
}

/// One OU from ListOrganizationalUnitsForParent or DescribeOrganizationalUnit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuInfo {
    /// `ou-…`
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One account from ListAccountsForParent or ListAccounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// 12 digits.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its root email.
    pub email: String,
    /// Its status.
    pub status: AccountStatus,
}

/// One policy from ListPolicies (summary: no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySummary {
    /// `p-…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its type.
    pub policy_type: PolicyType,
    /// Its description.
    pub description: String,
    /// Whether AWS manages it (FullAWSAccess).
    pub aws_managed: bool,
}

/// The state of a CreateAccount request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateAccountState {
    /// Still being created.
    InProgress,
    /// Created.
    Succeeded,
    /// Failed.
    Failed,
}

/// DescribeCreateAccountStatus / ListCreateAccountStatus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateAccountStatus {
    /// The request id (`car-…`).
    pub request_id: String,
    /// The requested account name.
    pub account_name: String,
    /// Its state.
    pub state: CreateAccountState,
    /// The new account's id once it succeeded.
    pub account_id: Option<String>,
    /// Why it failed (`EMAIL_ALREADY_EXISTS`, …).
    pub failure_reason: Option<String>,
}

/// AWS Organizations, as orgctl uses it. Each method is one AWS API operation (list methods
/// follow every page). Implementations must be safe to call concurrently.
pub trait OrgApi: Send + Sync {
    /// DescribeOrganization.
    fn describe_organization(&self) -> impl Future<Output = ApiResult<OrgInfo>> + Send;
    /// ListRoots.
    fn list_roots(&self) -> impl Future<Output = ApiResult<Vec<RootInfo>>> + Send;
    /// ListOrganizationalUnitsForParent.
    fn list_ous_for_parent(
        &self,
        parent_id: &str,
    ) -> impl Future<Output = ApiResult<Vec<OuInfo>>> + Send;
    /// ListAccountsForParent.
    fn list_accounts_for_parent(
        &self,
        parent_id: &str,
    ) -> impl Future<Output = ApiResult<Vec<AccountInfo>>> + Send;
    /// ListAccounts (the whole organization; used only to adopt an account whose creation
    /// reported EMAIL_ALREADY_EXISTS).
    fn list_accounts(&self) -> impl Future<Output = ApiResult<Vec<AccountInfo>>> + Send;
    /// ListParents for one child (used only when an operation must find where a child is).
    fn list_parent(&self, child_id: &str) -> impl Future<Output = ApiResult<String>> + Send;
    /// DescribeOrganizationalUnit.
    fn describe_ou(&self, ou_id: &str) -> impl Future<Output = ApiResult<OuInfo>> + Send;
    /// DescribeAccount (a scoped read finds the YAML's accounts outside the subtrees it walks
    /// by id).
    fn describe_account(
        &self,
        account_id: &str,
    ) -> impl Future<Output = ApiResult<AccountInfo>> + Send;
    /// ListTagsForResource.
    fn list_tags(&self, resource_id: &str) -> impl Future<Output = ApiResult<Tags>> + Send;
    /// ListPolicies for one type.
    fn list_policies(
        &self,
        policy_type: PolicyType,
    ) -> impl Future<Output = ApiResult<Vec<PolicySummary>>> + Send;
    /// DescribePolicy: the document.
    fn describe_policy(&self, policy_id: &str) -> impl Future<Output = ApiResult<String>> + Send;
    /// ListTargetsForPolicy: ids of roots, OUs and accounts.
    fn list_targets_for_policy(
        &self,
        policy_id: &str,
    ) -> impl Future<Output = ApiResult<Vec<String>>> + Send;
    /// ListPoliciesForTarget for one type: the ids of the policies of that type attached
    /// directly to a root, OU or account.
    fn list_policies_for_target(
        &self,
        target_id: &str,
        policy_type: PolicyType,
    ) -> impl Future<Output = ApiResult<Vec<String>>> + Send;
    /// ListCreateAccountStatus filtered to IN_PROGRESS requests.
    fn list_create_account_in_progress(
        &self,
    ) -> impl Future<Output = ApiResult<Vec<CreateAccountStatus>>> + Send;
    /// DescribeCreateAccountStatus.
    fn describe_create_account_status(
        &self,
        request_id: &str,
    ) -> impl Future<Output = ApiResult<CreateAccountStatus>> + Send;

    /// EnablePolicyType.
    fn enable_policy_type(
        &self,
        root_id: &str,
        policy_type: PolicyType,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// CreateOrganizationalUnit.
    fn create_ou(
        &self,
        parent_id: &str,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = ApiResult<OuInfo>> + Send;
    /// UpdateOrganizationalUnit.
    fn rename_ou(&self, ou_id: &str, name: &str) -> impl Future<Output = ApiResult<()>> + Send;
    /// DeleteOrganizationalUnit.
    fn delete_ou(&self, ou_id: &str) -> impl Future<Output = ApiResult<()>> + Send;
    /// CreateAccount: starts the request.
    fn create_account(
        &self,
        name: &str,
        email: &str,
        tags: &Tags,
    ) -> impl Future<Output = ApiResult<CreateAccountStatus>> + Send;
    /// MoveAccount.
    fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// CloseAccount.
    fn close_account(&self, account_id: &str) -> impl Future<Output = ApiResult<()>> + Send;
    /// TagResource.
    fn tag_resource(
        &self,
        resource_id: &str,
        tags: &Tags,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// UntagResource.
    fn untag_resource(
        &self,
        resource_id: &str,
        keys: &[String],
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// CreatePolicy.
    fn create_policy(
        &self,
        name: &str,
        policy_type: PolicyType,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> impl Future<Output = ApiResult<PolicySummary>> + Send;
    /// UpdatePolicy.
    fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// AttachPolicy.
    fn attach_policy(
        &self,
        policy_id: &str,
        target_id: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// DetachPolicy.
    fn detach_policy(
        &self,
        policy_id: &str,
        target_id: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// DeletePolicy.
    fn delete_policy(&self, policy_id: &str) -> impl Future<Output = ApiResult<()>> + Send;
}

//! The vocabulary every orgctl crate speaks: the desired state (what the YAML says), the live
//! state (what AWS has), and the write operations ([`Op`]) that move one towards the other.
//!
//! This crate does no IO and knows nothing of YAML, the AWS SDK or rendering. The types that
//! cross a process boundary (the live-state snapshot and the saved plan) are serialisable; their
//! wire formats are versioned by the crates that write them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod canonical;
pub mod schema;
pub mod text;

pub use canonical::{canonical_json, canonical_json_str};

/// Tags of one resource, ordered by key.
pub type Tags = BTreeMap<String, String>;

/// The tag key every OU and policy that orgctl created or adopted carries.
pub const MANAGED_BY_KEY: &str = "managed-by";
/// The value of [`MANAGED_BY_KEY`] that marks orgctl's own resources.
pub const MANAGED_BY_VALUE: &str = "orgctl";
/// The name of the AWS-managed SCP that AWS attaches to every root, OU and account.
pub const FULL_AWS_ACCESS: &str = "FullAWSAccess";

/// The id AWS gives FullAWSAccess in every organization (it is listed only while SCPs are
/// enabled, and attached to the root and every OU and account when they are enabled).
pub const FULL_AWS_ACCESS_ID: &str = "p-FullAWSAccess";
/// The root's path in the OU tree.
pub const ROOT_PATH: &str = "/";

/// Whether a set of live tags marks the resource as orgctl's own.
pub fn is_managed(tags: &Tags) -> bool {
    tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE)
}

/// The organization policy types orgctl manages.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum PolicyType {
    /// Service control policies (`SERVICE_CONTROL_POLICY`).
    #[serde(rename = "SERVICE_CONTROL_POLICY")]
    ServiceControlPolicy,
    /// Tag policies (`TAG_POLICY`).
    #[serde(rename = "TAG_POLICY")]
    TagPolicy,
}

impl PolicyType {
    /// Every type, in a fixed order.
    pub const ALL: [PolicyType; 2] = [PolicyType::ServiceControlPolicy, PolicyType::TagPolicy];

    /// The identifier AWS uses (`SERVICE_CONTROL_POLICY`).
    pub fn as_aws_str(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "SERVICE_CONTROL_POLICY",
            PolicyType::TagPolicy => "TAG_POLICY",
        }
    }

    /// Parses the AWS identifier.
    pub fn from_aws_str(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_aws_str() == s)
    }

    /// The short name used in addresses and YAML (`scp`, `tag`).
    pub fn short(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "scp",
            PolicyType::TagPolicy => "tag",
        }
    }

    /// AWS's limit on the size of a document of this type, in characters of minified JSON.
    pub fn max_document_chars(self) -> usize {
        match self {
            PolicyType::ServiceControlPolicy => 5_120,
            PolicyType::TagPolicy => 10_000,
        }
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_aws_str())
    }
}

/// A place in the desired-state YAML.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct SourceLoc {
    /// The file, as given on the command line joined with its path below the directory.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// An OU path such as `/Workloads/Staging`; `/` is the root.
pub type OuPath = String;

/// The parent path of an OU path (`/Workloads` for `/Workloads/Staging`, `/` for `/Sandbox`).
pub fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => ROOT_PATH,
        Some(i) => &path[..i],
    }
}

/// Joins a parent path and a child name.
pub fn child_path(parent: &str, name: &str) -> OuPath {
    if parent == ROOT_PATH {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

// ---------------------------------------------------------------------------------------------
// Desired state
// ---------------------------------------------------------------------------------------------

/// The whole organization as the YAML describes it, validated.
///
/// Collections are ordered so that everything derived from a desired state is deterministic.
/// Source locations are not part of the fingerprint: moving a line does not make a plan stale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredState {
    /// Organization-wide settings.
    pub organization: OrganizationSpec,
    /// OUs by path; every ancestor of an OU is present.
    pub ous: BTreeMap<OuPath, OuSpec>,
    /// Accounts by name.
    pub accounts: BTreeMap<String, AccountSpec>,
    /// Policies by name (names are unique across types).
    pub policies: BTreeMap<String, PolicySpec>,
}

impl DesiredState {
    /// A SHA-256 of the desired content (source locations excluded).
    pub fn fingerprint(&self) -> String {
        fingerprint(self)
    }
}

/// Whether a flag is set (for `skip_serializing_if`).
fn is_true(flag: &bool) -> bool {
    *flag
}

/// Organization-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganizationSpec {
    /// The management account every plan and apply insists on.
    pub management_account_id: String,
    /// Policy types that must be enabled (types not named are left as they are).
    pub enabled_policy_types: BTreeSet<PolicyType>,
    /// Account ids (resolved from names or given as ids) that are never closed or moved.
    pub protected_accounts: BTreeSet<String>,
    /// The most policies of one type that may be attached to one target.
    pub policies_per_target_limit: u32,
    /// Tag keys other tools own; orgctl neither sets nor removes them.
    pub ignore_tag_keys: BTreeSet<String>,
    /// Whether FullAWSAccess stays attached to the root (`root_full_aws_access`, default true).
    /// Left out of the fingerprint when true, as before the setting existed.
    #[serde(skip_serializing_if = "is_true")]
    pub root_full_aws_access: bool,
    /// Where the `organization` block is.
    #[serde(skip)]
    pub source: SourceLoc,
}

/// One OU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OuSpec {
    /// Its path, `/A/B`.
    pub path: OuPath,
    /// The last path segment.
    pub name: String,
    /// An OU id (`ou-xxxx-yyyyyyyy`) that gives the OU an identity across renames and moves.
    pub id: Option<String>,
    /// Exclusive tags (ignored keys and the managed-by marker aside).
    pub tags: Tags,
    /// Whether `FullAWSAccess` stays attached (the default).
    pub full_aws_access: bool,
    /// Where the OU is declared.
    #[serde(skip)]
    pub source: SourceLoc,
}

/// Whether an account should exist or be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// The account is open.
    Active,
    /// The account is (to be) closed; needs `--allow-close` to apply.
    Closed,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSpec {
    /// The account name (1–50 characters).
    pub name: String,
    /// The root email address, as written.
    pub email: String,
    /// The OU path the account lives in (`/` for the root).
    pub ou: OuPath,
    /// An account id (12 digits); when given, the account is matched by id, else by email.
    pub id: Option<String>,
    /// Exclusive tags (ignored keys aside).
    pub tags: Tags,
    /// Active or closed.
    pub lifecycle: Lifecycle,
    /// Whether `FullAWSAccess` stays attached (the default).
    pub full_aws_access: bool,
    /// Where the account is declared.
    #[serde(skip)]
    pub source: SourceLoc,
}

/// What a policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetRef {
    /// The organization root.
    Root,
    /// An OU by path.
    Ou(OuPath),
    /// An account by name.
    Account(String),
}

impl fmt::Display for TargetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetRef::Root => f.write_str("root"),
            TargetRef::Ou(p) => f.write_str(p),
            TargetRef::Account(n) => write!(f, "account {n}"),
        }
    }
}

/// One service control or tag policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySpec {
    /// The policy name (1–128 characters, unique).
    pub name: String,
    /// Its type.
    pub policy_type: PolicyType,
    /// Its description (may be empty).
    pub description: String,
    /// The document as canonical, minified JSON (keys sorted): what orgctl uploads.
    pub content: String,
    /// Exactly the targets it is attached to.
    pub targets: BTreeSet<TargetRef>,
    /// Exclusive tags.
    pub tags: Tags,
    /// Where the policy is declared.
    #[serde(skip)]
    pub source: SourceLoc,
}

// ---------------------------------------------------------------------------------------------
// Live state
// ---------------------------------------------------------------------------------------------

/// The organization as read from AWS (or from a snapshot). Every list is sorted by id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveState {
    /// The organization and its root.
    pub organization: LiveOrganization,
    /// Every OU.
    pub ous: Vec<LiveOu>,
    /// Every account.
    pub accounts: Vec<LiveAccount>,
    /// Every policy of an enabled type, AWS-managed ones included.
    pub policies: Vec<LivePolicy>,
    /// IAM roles in member accounts that orgctl manages (access grants; filled by a later
    /// version, kept here so snapshots already carry the field).
    #[serde(default)]
    pub access_roles: Vec<LiveAccessRole>,
}

impl LiveState {
    /// Sorts every list by id, so equal organizations serialise equally.
    pub fn normalize(&mut self) {
        self.ous.sort_by(|a, b| a.id.cmp(&b.id));
        self.accounts.sort_by(|a, b| a.id.cmp(&b.id));
        self.policies.sort_by(|a, b| a.id.cmp(&b.id));
        for p in &mut self.policies {
            p.targets.sort();
            p.targets.dedup();
        }
        self.access_roles
            .sort_by(|a, b| (&a.account_id, &a.role_name).cmp(&(&b.account_id, &b.role_name)));
        let mut types: Vec<PolicyType> = self
            .organization
            .enabled_policy_types
            .iter()
            .copied()
            .collect();
        types.sort();
        types.dedup();
        self.organization.enabled_policy_types = types.into_iter().collect();
    }

    /// A SHA-256 of the normalised state.
    pub fn fingerprint(&self) -> String {
        if self.is_normalized() {
            fingerprint(self)
        } else {
            let mut s = self.clone();
            s.normalize();
            fingerprint(&s)
        }
    }

    /// Whether [`LiveState::normalize`] would change nothing.
    pub fn is_normalized(&self) -> bool {
        self.ous.is_sorted_by(|a, b| a.id < b.id)
            && self.accounts.is_sorted_by(|a, b| a.id < b.id)
            && self.policies.is_sorted_by(|a, b| a.id < b.id)
            && self
                .policies
                .iter()
                .all(|p| p.targets.is_sorted_by(|a, b| a < b))
            && self
                .access_roles
                .is_sorted_by(|a, b| (&a.account_id, &a.role_name) < (&b.account_id, &b.role_name))
    }
}

/// The organization and its root.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveOrganization {
    /// `o-…`
    pub id: String,
    /// The management account's id.
    pub management_account_id: String,
    /// `r-…`
    pub root_id: String,
    /// Policy types enabled on the root.
    pub enabled_policy_types: BTreeSet<PolicyType>,
}

/// One OU as AWS has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveOu {
    /// `ou-…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// The parent's id (the root's or an OU's).
    pub parent_id: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
}

/// An account's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    /// Open.
    Active,
    /// Closing.
    PendingClosure,
    /// Closed.
    Suspended,
}

impl AccountStatus {
    /// Closed or closing.
    pub fn is_closed(self) -> bool {
        !matches!(self, AccountStatus::Active)
    }
}

/// One account as AWS has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveAccount {
    /// 12 digits.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its root email.
    pub email: String,
    /// The parent's id.
    pub parent_id: String,
    /// Its status.
    pub status: AccountStatus,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
}

/// One policy as AWS has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LivePolicy {
    /// `p-…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its type.
    pub policy_type: PolicyType,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// The document as stored.
    pub content: String,
    /// AWS-managed (FullAWSAccess) policies cannot be changed or deleted.
    #[serde(default)]
    pub aws_managed: bool,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
    /// Ids of the roots, OUs and accounts it is attached to, sorted.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// An IAM role orgctl manages in a member account (access grants; reserved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveAccessRole {
    /// The member account.
    pub account_id: String,
    /// The role's name.
    pub role_name: String,
    /// Its trust policy, canonical JSON.
    pub trust_policy: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// A reference to an AWS object in an operation: either one that exists (by id) or one that an
/// earlier operation of the same apply creates. The applier resolves `New*` references through
/// the ids earlier operations returned ("known after apply").
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Ref {
    /// An existing root, OU, account or policy.
    Id(String),
    /// The OU a `CreateOu` of this apply creates at this path.
    NewOu(OuPath),
    /// The account a `CreateAccount` of this apply creates with this (lower-cased) email.
    NewAccount(String),
    /// The policy a `CreatePolicy` of this apply creates with this name.
    NewPolicy(String),
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Id(id) => f.write_str(id),
            Ref::NewOu(p) => write!(f, "(new OU {p})"),
            Ref::NewAccount(e) => write!(f, "(new account {e})"),
            Ref::NewPolicy(n) => write!(f, "(new policy {n})"),
        }
    }
}

/// One write against AWS Organizations. Every operation is idempotent at the executor: an
/// operation whose effect is already in place reports `AlreadyDone` instead of failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Op {
    /// EnablePolicyType on the root.
    EnablePolicyType {
        /// The root.
        root: Ref,
        /// The type.
        policy_type: PolicyType,
    },
    /// CreateOrganizationalUnit (with tags); creates `Ref::NewOu(path)`.
    CreateOu {
        /// Parent root or OU.
        parent: Ref,
        /// Name.
        name: String,
        /// Its desired path (the key of the reference it creates).
        path: OuPath,
        /// Tags to create it with.
        tags: Tags,
    },
    /// UpdateOrganizationalUnit (rename).
    RenameOu {
        /// The OU.
        ou: Ref,
        /// The new name.
        name: String,
    },
    /// DeleteOrganizationalUnit (the OU must be empty by then).
    DeleteOu {
        /// The OU.
        ou: Ref,
    },
    /// CreateAccount, waited for, then MoveAccount from the root to `parent` when it is not the
    /// root. Creates `Ref::NewAccount(email)`.
    CreateAccount {
        /// Account name.
        name: String,
        /// Root email.
        email: String,
        /// Where it should end up.
        parent: Ref,
        /// Tags to create it with.
        tags: Tags,
        /// The desired state's `ignore_tag_keys`. When the account already exists (a request an
        /// interrupted apply started, or an account adopted by its email), its tags are made
        /// equal to `tags` except for these keys and `managed-by`, which stay as they are: the
        /// keys the planner leaves out when it compares an account's tags.
        #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
        ignore_tag_keys: BTreeSet<String>,
    },
    /// MoveAccount.
    MoveAccount {
        /// The account.
        account: Ref,
        /// Its current parent.
        from: Ref,
        /// Its new parent.
        to: Ref,
    },
    /// CloseAccount.
    CloseAccount {
        /// The account.
        account: Ref,
    },
    /// TagResource (adds or overwrites these keys).
    TagResource {
        /// Root, OU, account or policy.
        resource: Ref,
        /// Keys and values to set.
        tags: Tags,
    },
    /// UntagResource.
    UntagResource {
        /// Root, OU, account or policy.
        resource: Ref,
        /// Keys to remove.
        keys: BTreeSet<String>,
    },
    /// CreatePolicy (with tags); creates `Ref::NewPolicy(name)`.
    CreatePolicy {
        /// Name.
        name: String,
        /// Type.
        policy_type: PolicyType,
        /// Description.
        description: String,
        /// Minified JSON document.
        content: String,
        /// Tags.
        tags: Tags,
    },
    /// UpdatePolicy (only the fields given change).
    UpdatePolicy {
        /// The policy.
        policy: Ref,
        /// New description.
        description: Option<String>,
        /// New document.
        content: Option<String>,
    },
    /// AttachPolicy.
    AttachPolicy {
        /// The policy.
        policy: Ref,
        /// Root, OU or account.
        target: Ref,
    },
    /// DetachPolicy.
    DetachPolicy {
        /// The policy.
        policy: Ref,
        /// Root, OU or account.
        target: Ref,
    },
    /// DeletePolicy (it must be detached everywhere by then).
    DeletePolicy {
        /// The policy.
        policy: Ref,
    },
}

impl Op {
    /// The reference this operation creates, if any.
    pub fn creates(&self) -> Option<Ref> {
        match self {
            Op::CreateOu { path, .. } => Some(Ref::NewOu(path.clone())),
            Op::CreateAccount { email, .. } => Some(Ref::NewAccount(email.to_lowercase())),
            Op::CreatePolicy { name, .. } => Some(Ref::NewPolicy(name.clone())),
            _ => None,
        }
    }

    /// Every reference this operation reads (it cannot run before they exist).
    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            Op::EnablePolicyType { root, .. } => vec![root],
            Op::CreateOu { parent, .. } => vec![parent],
            Op::RenameOu { ou, .. } | Op::DeleteOu { ou } => vec![ou],
            Op::CreateAccount { parent, .. } => vec![parent],
            Op::MoveAccount { account, from, to } => vec![account, from, to],
            Op::CloseAccount { account } => vec![account],
            Op::TagResource { resource, .. } | Op::UntagResource { resource, .. } => {
                vec![resource]
            }
            Op::CreatePolicy { .. } => vec![],
            Op::UpdatePolicy { policy, .. } | Op::DeletePolicy { policy } => vec![policy],
            Op::AttachPolicy { policy, target } | Op::DetachPolicy { policy, target } => {
                vec![policy, target]
            }
        }
    }

    /// Whether this operation only reads nothing and writes something destructive that needs
    /// an explicit opt-in at apply time.
    pub fn is_close(&self) -> bool {
        matches!(self, Op::CloseAccount { .. })
    }

    /// The AWS API operation name, for logs and counters.
    pub fn api_name(&self) -> &'static str {
        match self {
            Op::EnablePolicyType { .. } => "EnablePolicyType",
            Op::CreateOu { .. } => "CreateOrganizationalUnit",
            Op::RenameOu { .. } => "UpdateOrganizationalUnit",
            Op::DeleteOu { .. } => "DeleteOrganizationalUnit",
            Op::CreateAccount { .. } => "CreateAccount",
            Op::MoveAccount { .. } => "MoveAccount",
            Op::CloseAccount { .. } => "CloseAccount",
            Op::TagResource { .. } => "TagResource",
            Op::UntagResource { .. } => "UntagResource",
            Op::CreatePolicy { .. } => "CreatePolicy",
            Op::UpdatePolicy { .. } => "UpdatePolicy",
            Op::AttachPolicy { .. } => "AttachPolicy",
            Op::DetachPolicy { .. } => "DetachPolicy",
            Op::DeletePolicy { .. } => "DeletePolicy",
        }
    }
}

/// SHA-256 (hex) of a value's JSON serialisation, streamed into the hash (no intermediate
/// document: fingerprinting a 100,000-account state must stay cheap). The serialisation is
/// deterministic because every map in these types is ordered and lists are normalised first.
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    struct HashWriter(Sha256);
    impl std::io::Write for HashWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = HashWriter(Sha256::new());
    // Serialising plain data structs into a hash cannot fail.
    let _ = serde_json::to_writer(&mut w, value);
    w.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parent_path("/A/B"), "/A");
        assert_eq!(parent_path("/A"), "/");
        assert_eq!(child_path("/", "A"), "/A");
        assert_eq!(child_path("/A", "B"), "/A/B");
    }

    #[test]
    fn fingerprint_ignores_list_order() {
        let mut a = LiveState::default();
        a.ous.push(LiveOu {
            id: "ou-1".into(),
            name: "A".into(),
            parent_id: "r".into(),
            tags: Tags::new(),
        });
        a.ous.push(LiveOu {
            id: "ou-2".into(),
            name: "B".into(),
            parent_id: "r".into(),
            tags: Tags::new(),
        });
        let mut b = a.clone();
        b.ous.reverse();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.ous[0].name = "C".into();
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn op_round_trips_through_json() {
        let op = Op::MoveAccount {
            account: Ref::NewAccount("a@b.c".into()),
            from: Ref::Id("r-1".into()),
            to: Ref::NewOu("/A".into()),
        };
        let json = serde_json::to_string(&op).expect("serialise");
        let back: Op = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(op, back);
    }
}

//! The plan as data: what will change, in which order, why, and the operations that do it.
//!
//! `Action`, `reason`, `before`/`after` and `diff` exist to explain the plan to a reviewer; the
//! applier decides only from [`Change::ops`].

use orgctl_model::{Op, SourceLoc};
use serde::{Deserialize, Serialize};

/// What a change does to its resource (for display and counting; apply reads only `ops`).
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
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new OU, account or policy.
    Create,
    /// Changed attributes (tags, a policy document, a description, adoption).
    Update,
    /// An OU keeps its id and gets a new name.
    Rename,
    /// An account moves to another OU.
    Move,
    /// An OU moves to another parent: a new OU replaces it (its id changes).
    Replace,
    /// A managed OU or policy is deleted.
    Delete,
    /// An account is closed.
    Close,
    /// A policy is attached to a target.
    Attach,
    /// A policy is detached from a target.
    Detach,
    /// A policy type is enabled on the root.
    Enable,
}

impl Action {
    /// The one-character symbol used in text and Markdown output.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create | Action::Attach | Action::Enable => "+",
            Action::Update | Action::Rename => "~",
            Action::Move => "→",
            Action::Replace => "±",
            Action::Delete | Action::Close | Action::Detach => "-",
        }
    }

    /// Which summary bucket the action counts in.
    pub fn bucket(self) -> Bucket {
        match self {
            Action::Create | Action::Enable => Bucket::Create,
            Action::Update | Action::Rename | Action::Attach | Action::Detach => Bucket::Change,
            Action::Move | Action::Replace => Bucket::Move,
            Action::Delete | Action::Close => Bucket::Delete,
        }
    }

    /// The lower-case word (`create`, `move`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Rename => "rename",
            Action::Move => "move",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Close => "close",
            Action::Attach => "attach",
            Action::Detach => "detach",
            Action::Enable => "enable",
        }
    }
}

/// The four counts of the closing summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// "to create"
    Create,
    /// "to change"
    Change,
    /// "to move"
    Move,
    /// "to delete"
    Delete,
}

/// The kind of resource a change is about.
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
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// The organization itself (policy types).
    Organization,
    /// An organizational unit.
    Ou,
    /// A member account.
    Account,
    /// A service control or tag policy.
    Policy,
    /// A policy attached to a root, OU or account.
    Attachment,
    /// An IAM role orgctl keeps in a member account: an access grant's role, or orgctl's read
    /// role.
    Access,
}

/// One reviewed change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Change {
    /// A stable, human-readable address: `ou /Workloads/Staging`, `account companyx-staging`,
    /// `policy scp/deny-leave`, `attachment scp/deny-leave -> /Workloads`.
    pub address: String,
    /// What kind of resource.
    pub kind: ResourceKind,
    /// What happens to it.
    pub action: Action,
    /// Relevant attributes before (absent for creations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// Relevant attributes after (absent for deletions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    /// A unified diff of a policy document (canonical, pretty-printed JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why, in one sentence.
    pub reason: String,
    /// The YAML that caused it (absent for deletions of things no longer in the YAML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLoc>,
    /// The operations that carry it out, in order.
    pub ops: Vec<Op>,
}

impl Change {
    /// Whether the change widens or narrows what someone can do in an account: access grants;
    /// every change to service control policies (documents and attachments), which bound every
    /// principal's permissions; account moves, which change the SCPs an account inherits; and OU
    /// replacements, which move accounts and the policies attached to the OU.
    pub fn is_access_change(&self) -> bool {
        match self.kind {
            ResourceKind::Access => true,
            ResourceKind::Attachment | ResourceKind::Policy => self.address.contains(" scp/"),
            ResourceKind::Account => self.action == Action::Move,
            ResourceKind::Ou => self.action == Action::Replace,
            _ => false,
        }
    }
}

/// Something the reviewer should know that is not a change (it never makes a plan non-empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Note {
    /// The resource.
    pub address: String,
    /// What about it.
    pub message: String,
}

/// A problem that does not stop the plan, such as a changed account name that orgctl cannot
/// apply yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Warning {
    /// The resource.
    pub address: String,
    /// What is wrong.
    pub message: String,
    /// Where in the YAML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLoc>,
}

/// A problem that makes the plan impossible to apply (for example deleting an OU that still
/// holds accounts orgctl does not manage). A plan with errors is not applyable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlanError {
    /// The resource.
    pub address: String,
    /// What is wrong and what to do.
    pub message: String,
    /// Where in the YAML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLoc>,
}

/// The counts of the closing summary.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Summary {
    /// Creations (and enabled policy types).
    pub create: usize,
    /// Updates, renames, attachments and detachments.
    pub change: usize,
    /// Account moves and OU replacements.
    #[serde(rename = "move")]
    pub moves: usize,
    /// Deletions and account closures.
    pub delete: usize,
}

impl Summary {
    /// Total number of changes.
    pub fn total(&self) -> usize {
        self.create + self.change + self.moves + self.delete
    }
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    /// The access review: per principal, what it gains or loses, where and until when (derived
    /// from the role changes; what every rendering opens with).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<PrincipalAccess>,
    /// The changes, in the order they must be applied.
    pub changes: Vec<Change>,
    /// Unmanaged resources and other facts that are not changes.
    pub notes: Vec<Note>,
    /// Warnings.
    pub warnings: Vec<Warning>,
    /// Errors: when any exist, the plan must not be applied.
    pub errors: Vec<PlanError>,
    /// The organization planned against.
    pub organization_id: String,
    /// Its management account.
    pub management_account_id: String,
    /// The day the plan was made for (YYYY-MM-DD); grant expiry is judged against it.
    pub today: String,
    /// Fingerprint of the live state planned against.
    pub live_fingerprint: String,
    /// Fingerprint of the desired state planned from.
    pub desired_fingerprint: String,
    /// Records of what was applied (the `orgctl:applied` tag) that are missing or out of date
    /// on resources already as the YAML says; `apply` writes them. They are not changes: a plan
    /// with only records is empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<crate::records::RecordWrite>,
}

impl Plan {
    /// The summary counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action.bucket() {
                Bucket::Create => s.create += 1,
                Bucket::Change => s.change += 1,
                Bucket::Move => s.moves += 1,
                Bucket::Delete => s.delete += 1,
            }
        }
        s
    }

    /// Whether the plan changes nothing (notes, warnings and records do not count).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether the plan may be applied.
    pub fn is_applyable(&self) -> bool {
        self.errors.is_empty()
    }
}

/// What one principal gains or loses through the plan (the access review).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrincipalAccess {
    /// The principal's ARN: a grant's principal, or the plan role for orgctl's read role (a
    /// role whose trust policy names no single principal shows `(unknown principal)`).
    pub principal: String,
    /// Who it is: `partner NAME` (the grants' partners), or `orgctl plan role`.
    pub label: String,
    /// What changes for it: one entry per grant and kind of change, accounts grouped.
    pub entries: Vec<AccessEntry>,
}

/// How a principal's access changes.
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
#[serde(rename_all = "snake_case")]
pub enum AccessEffect {
    /// It gains a role it did not have (a new grant or target, or a transfer to it).
    Gains,
    /// It loses a role (a removed grant or target, an expiry, or a transfer away from it).
    Loses,
    /// Its role stays, with other permissions, trust conditions or session.
    Changes,
    /// Its role cannot be checked: the account's IAM could not be read (nothing is planned
    /// there).
    Unverified,
}

/// Permissions of a role, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccessPermissions {
    /// Managed policies by name (the last segment of the ARN).
    pub managed_policies: Vec<String>,
    /// Inline policies by name.
    pub inline_policies: Vec<String>,
    /// The permissions boundary's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
}

/// One line of the access review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccessEntry {
    /// Gains, loses, changes or cannot be verified.
    pub effect: AccessEffect,
    /// The grant (`read-role` for orgctl's read role).
    pub grant: String,
    /// The role's name in each account.
    pub role_name: String,
    /// The accounts, by name.
    pub accounts: Vec<String>,
    /// The permissions gained or lost (for a change: the permissions after it).
    pub permissions: AccessPermissions,
    /// The last day of access (`YYYY-MM-DD`), when the grant expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Whether the trust policy requires MFA to assume the role (for a loss: before it; else
    /// after).
    #[serde(default)]
    pub mfa: bool,
    /// Whether the trust policy requires an external id to assume the role.
    #[serde(default)]
    pub external_id_required: bool,
    /// The longest session the role allows, in seconds (0 in a plan written before this field).
    #[serde(default)]
    pub max_session_secs: i32,
    /// Why, in a few words: `new grant`, `expired on 2026-11-26`, `transferred to partner B`.
    pub why: String,
    /// Whether it reverts an edit made outside orgctl.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub out_of_band: bool,
    /// For a change: each difference (`+ managed policy ReadOnlyAccess`, `~ session 1h → 2h`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// For a change: unified diffs of the trust policy and the inline policy documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

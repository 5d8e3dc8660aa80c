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
pub mod digest;
pub mod fast_hash;
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

/// The prefix of every tag key orgctl keeps for its own bookkeeping (the apply lease, the
/// records of what was applied): never desired state, never compared, never written from YAML.
pub const BOOKKEEPING_PREFIX: &str = "orgctl:";
/// The tag each managed resource carries with what `apply` last applied there
/// (`1:<16 hex>:<YYYY-MM-DD>`, see `orgctl_planner::records`).
pub const RECORD_TAG: &str = "orgctl:applied";
/// The tag on the root that holds the apply lease (see `orgctl_backend::lease`).
pub const LEASE_TAG: &str = "orgctl:apply-lease";
/// The roles record: the tag on a member account in which orgctl keeps (or is about to create)
/// IAM roles under [`ROLE_PATH`]. Written before the first role is created there and removed
/// after the last one is deleted, so that no orgctl role exists where no record points to it;
/// `plan` and `apply` read IAM only in grant targets, accounts carrying it and (with a plan
/// role) the accounts that want the read role.
pub const ROLES_RECORD_TAG: &str = "orgctl:roles";
/// The value of [`ROLES_RECORD_TAG`] (the record's format version).
pub const ROLES_RECORD_VALUE: &str = "1";

/// Whether an account's tags carry the roles record ([`ROLES_RECORD_TAG`], any value).
pub fn has_roles_record(tags: &Tags) -> bool {
    tags.contains_key(ROLES_RECORD_TAG)
}

/// Whether a tag key is orgctl's bookkeeping ([`BOOKKEEPING_PREFIX`]): the planner never
/// compares, adds or removes such keys, and the YAML may not use them.
pub fn is_bookkeeping_tag(key: &str) -> bool {
    key.starts_with(BOOKKEEPING_PREFIX)
}

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
    /// Access grants by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grants: BTreeMap<String, GrantSpec>,
}

impl DesiredState {
    /// The [`digest::digest`] of the desired content (source locations excluded): only compared
    /// with another made by the same orgctl (a saved plan's against the YAML at apply), never
    /// written to AWS.
    pub fn fingerprint(&self) -> String {
        digest::digest(self)
    }
}

/// Whether a flag is set (for `skip_serializing_if`).
fn is_true(flag: &bool) -> bool {
    *flag
}

/// Whether a flag is unset (for `skip_serializing_if`).
fn is_false(flag: &bool) -> bool {
    !*flag
}

/// Whether the member role is the default one (for `skip_serializing_if`).
fn is_default_member_role(role: &String) -> bool {
    role == DEFAULT_MEMBER_ROLE
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
    /// The role orgctl assumes in member accounts to write (and, without a read role, to read)
    /// IAM: `organization.member_role`, default [`DEFAULT_MEMBER_ROLE`]. A name, or a path and
    /// name (`team/admin`), below the account's `role/`.
    #[serde(skip_serializing_if = "is_default_member_role")]
    pub member_role: String,
    /// The management account's role that runs `plan` (`organization.plan_role`, an ARN). When
    /// set, orgctl keeps its read role ([`READ_ROLE_NAME`]) in every managed member account and
    /// every grant target, trusting only this role, and reads IAM through it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_role: Option<String>,
    /// Domains the company owns (`organization.email_domains`, lower case). An account whose
    /// root email is elsewhere is flagged by `orgctl access`: that domain's owner can reset
    /// the root password.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub email_domains: BTreeSet<String>,
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
    /// Whether the accounts below this OU are production (`production: true`): the checks
    /// refuse administrator access for external principals there.
    #[serde(skip_serializing_if = "is_false")]
    pub production: bool,
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

/// The role orgctl assumes in member accounts by default (the one AWS creates in accounts that
/// Organizations creates).
pub const DEFAULT_MEMBER_ROLE: &str = "OrganizationAccountAccessRole";
/// The IAM path of every role orgctl owns in member accounts. Roles elsewhere are never
/// changed or deleted.
pub const ROLE_PATH: &str = "/orgctl/";
/// The name of orgctl's read role in member accounts (under [`ROLE_PATH`]).
pub const READ_ROLE_NAME: &str = "orgctl-read";
/// The name of the read role's one inline policy.
pub const READ_ROLE_POLICY_NAME: &str = "orgctl-read-iam";
/// The read role's inline policy: the IAM reads `plan`, `access` and `drift` make, nothing else.
pub const READ_ROLE_POLICY: &str = r#"{"Statement":[{"Action":["iam:GetRole","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListRoleTags","iam:ListRoles"],"Effect":"Allow","Resource":"*","Sid":"OrgctlReadIam"}],"Version":"2012-10-17"}"#;

/// The read role's description.
pub const READ_ROLE_DESCRIPTION: &str =
    "orgctl read role: IAM read-only access for orgctl plan, access and drift";
/// The read role's MaxSessionDuration, in seconds.
pub const READ_ROLE_SESSION_SECS: i32 = 3600;

/// The tag naming the grant a role under [`ROLE_PATH`] belongs to.
pub const GRANT_TAG_KEY: &str = "orgctl-grant";
/// The tag marking orgctl's read role (value [`READ_ROLE_TAG_VALUE`]).
pub const ROLE_TAG_KEY: &str = "orgctl-role";
/// See [`ROLE_TAG_KEY`].
pub const READ_ROLE_TAG_VALUE: &str = "read";

/// An access grant: an outside (or inside) principal may assume one role in each target
/// account, with these permissions, until `expires`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrantSpec {
    /// Unique name; the plan's address is `grant/NAME`.
    pub name: String,
    /// Who receives the access (free text, e.g. the partner's company).
    pub partner: String,
    /// Who in the company answers for it (free text).
    pub owner: String,
    /// The ticket or reason (free text, may be empty).
    pub ticket: String,
    /// A description (free text, may be empty).
    pub description: String,
    /// The principal as an ARN: an account id is written `arn:aws:iam::ID:root`.
    pub principal: String,
    /// The 12-digit account of the principal.
    pub principal_account: String,
    /// `sts:ExternalId` the principal must pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Whether the trust policy requires `aws:MultiFactorAuthPresent`.
    pub mfa: bool,
    /// MaxSessionDuration in seconds (3,600–43,200).
    pub max_session_secs: i32,
    /// AWS managed (or customer managed) policies to attach, by ARN.
    pub managed_policies: BTreeSet<String>,
    /// Inline policies by name, canonical minified JSON.
    pub inline_policies: BTreeMap<String, String>,
    /// The permissions boundary's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// Accounts (by name) and OUs (by path; every account below, recursively, including live
    /// accounts the YAML does not list).
    pub targets: BTreeSet<GrantTarget>,
    /// Account names excluded from the targets.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub exclude_accounts: BTreeSet<String>,
    /// Account ids excluded from the targets (accounts the YAML need not list).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub exclude_ids: BTreeSet<String>,
    /// The role's name in every target account.
    pub role_name: String,
    /// The last day (inclusive, UTC, `YYYY-MM-DD`) the access lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The instant access ends (`YYYY-MM-DDT00:00:00Z` the day after `expires`): the trust
    /// policy's `DateLessThan aws:CurrentTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_ends: Option<String>,
    /// Where the grant is declared.
    #[serde(skip)]
    pub source: SourceLoc,
}

impl GrantSpec {
    /// The trust policy every role of this grant carries (canonical JSON).
    pub fn trust_policy(&self) -> String {
        trust_policy(
            &self.principal,
            self.external_id.as_deref(),
            self.mfa,
            self.access_ends.as_deref(),
        )
    }

    /// Whether `expires` is before `today` (both `YYYY-MM-DD`): the grant has ended.
    pub fn is_expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e < today)
    }

    /// The description its roles carry: partner, owner and ticket (IAM allows 1,000
    /// characters; longer text is cut).
    pub fn role_description(&self) -> String {
        let mut d = format!(
            "orgctl grant {} for {}, owner {}",
            self.name, self.partner, self.owner
        );
        if !self.ticket.is_empty() {
            d.push_str(", ticket ");
            d.push_str(&self.ticket);
        }
        if let Some(e) = &self.expires {
            d.push_str(", expires ");
            d.push_str(e);
        }
        d.chars().take(1000).collect()
    }

    /// The tags its roles carry.
    pub fn role_tags(&self) -> Tags {
        Tags::from([
            (MANAGED_BY_KEY.to_string(), MANAGED_BY_VALUE.to_string()),
            (GRANT_TAG_KEY.to_string(), self.name.clone()),
        ])
    }
}

/// A trust policy allowing exactly `principal` (an ARN) to assume the role, with the external
/// id, MFA and end-of-access conditions given, as canonical JSON.
pub fn trust_policy(
    principal: &str,
    external_id: Option<&str>,
    mfa: bool,
    access_ends: Option<&str>,
) -> String {
    let mut condition = serde_json::Map::new();
    if let Some(id) = external_id {
        condition.insert(
            "StringEquals".into(),
            serde_json::json!({ "sts:ExternalId": id }),
        );
    }
    if mfa {
        condition.insert(
            "Bool".into(),
            serde_json::json!({ "aws:MultiFactorAuthPresent": "true" }),
        );
    }
    if let Some(end) = access_ends {
        condition.insert(
            "DateLessThan".into(),
            serde_json::json!({ "aws:CurrentTime": end }),
        );
    }
    let mut statement = serde_json::json!({
        "Effect": "Allow",
        "Principal": { "AWS": principal },
        "Action": "sts:AssumeRole",
    });
    if !condition.is_empty() {
        statement["Condition"] = serde_json::Value::Object(condition);
    }
    let doc = serde_json::json!({ "Version": "2012-10-17", "Statement": [statement] });
    canonical_json(&doc)
}

/// When a closed trust policy ([`closed_trust`]) ends access: long past, so no one can
/// assume the role.
pub const CLOSED_TRUST_ENDS: &str = "2000-01-01T00:00:00Z";

/// `trust` with every statement's access ending at [`CLOSED_TRUST_ENDS`]: the same principals
/// and conditions, and no one let in. orgctl changes a role's trust in two steps, first to the
/// new trust closed, with the other roles' narrowing, then to the new trust, with their gains:
/// no principal ever holds one role's new reach while it keeps another's old one (two roles
/// swapping principals, say). A document that is not a JSON object is returned as it is.
pub fn closed_trust(trust: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(trust) else {
        return trust.to_owned();
    };
    let statements = match doc.get_mut("Statement") {
        Some(serde_json::Value::Array(list)) => list.iter_mut().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for statement in statements {
        let Some(statement) = statement.as_object_mut() else {
            continue;
        };
        let condition = statement
            .entry("Condition")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(condition) = condition.as_object_mut() {
            condition.insert(
                "DateLessThan".into(),
                serde_json::json!({ "aws:CurrentTime": CLOSED_TRUST_ENDS }),
            );
        }
    }
    canonical_json(&doc)
}

/// Whether `trust` lets no one in: every statement that allows ends access
/// (`DateLessThan` `aws:CurrentTime`) at or before [`CLOSED_TRUST_ENDS`], as
/// [`closed_trust`] writes it. Anything else (unreadable included) is taken as letting someone
/// in.
pub fn is_closed_trust(trust: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(trust) else {
        return false;
    };
    let statements: Vec<&serde_json::Value> = match doc.get("Statement") {
        Some(serde_json::Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => return false,
    };
    statements
        .iter()
        .filter(|s| s.get("Effect").and_then(|e| e.as_str()) != Some("Deny"))
        .all(|s| {
            s.pointer("/Condition/DateLessThan/aws:CurrentTime")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.len() == CLOSED_TRUST_ENDS.len() && t <= CLOSED_TRUST_ENDS)
        })
}

/// A grant target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantTarget {
    /// An account by name.
    Account(String),
    /// Every account below an OU (by path), recursively.
    Ou(OuPath),
}

impl fmt::Display for GrantTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantTarget::Ou(p) => f.write_str(p),
            GrantTarget::Account(n) => write!(f, "account {n}"),
        }
    }
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
    /// Every IAM role under [`ROLE_PATH`] in the member accounts that were read (orgctl's
    /// and look-alikes without its tag).
    #[serde(default)]
    pub access_roles: Vec<LiveAccessRole>,
    /// How IAM was read in each member account that orgctl tried to read, by account id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iam_accounts: Vec<LiveIamAccount>,
    /// What a scoped read (`plan`, `apply`: `ReadScope`) left out; none for a full read
    /// (`drift`, `access`, `import`, `snapshot`) and for a scoped read that left nothing out,
    /// where every list above is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<LiveScope>,
}

/// What a plan needs read: the part of the organization the YAML manages. Computed from the
/// desired state by `orgctl_planner::read_scope`; the reader walks only these subtrees (and the
/// root's direct children) and finds the YAML's accounts outside them by id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadScope {
    /// OU paths whose whole subtree is walked: the YAML's OUs and grant-target OU paths, only
    /// the topmost ones (a path covers its descendants).
    pub subtrees: BTreeSet<OuPath>,
    /// OU ids the YAML gives (found even if renamed or moved).
    pub ou_ids: BTreeSet<String>,
    /// Accounts the YAML gives by id.
    pub account_ids: BTreeSet<String>,
    /// The emails (lower case) of the accounts the YAML gives without an id.
    pub account_emails: BTreeSet<String>,
    /// The YAML's policy names (their attachments are read with ListTargetsForPolicy).
    pub policies: BTreeSet<String>,
}

impl ReadScope {
    /// Whether the root child named `name` (with id `id`) is walked: it heads a subtree of
    /// the scope, or the YAML gives its id.
    pub fn walks_root_child(&self, name: &str, id: &str) -> bool {
        self.ou_ids.contains(id)
            || self.subtrees.iter().any(|p| {
                p.strip_prefix('/')
                    .is_some_and(|rest| rest.split('/').next() == Some(name))
            })
    }

    /// Whether the YAML names this account (by id, or by email in any case).
    pub fn names_account(&self, id: &str, email: &str) -> bool {
        self.account_ids.contains(id) || self.account_emails.contains(&email.to_lowercase())
    }
}

/// What a scoped read did not read. The planner treats it as unknown: nothing there is
/// deleted or noted one by one; one note says how much was not read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveScope {
    /// Accounts a full listing (made only to find the YAML's accounts given by email alone)
    /// showed outside what was read: not in `accounts`. Zero when no listing was made.
    pub unread_accounts: usize,
    /// OUs in `ous` whose children and accounts were not listed (root children outside the
    /// scope, and the OUs above a YAML account found by id outside the scope), sorted.
    pub unwalked_ous: Vec<String>,
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
        self.iam_accounts
            .sort_by(|a, b| a.account_id.cmp(&b.account_id));
        if let Some(scope) = &mut self.scope {
            scope.unwalked_ous.sort();
            scope.unwalked_ous.dedup();
        }
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

    /// The [`digest::digest`] of the normalised state: equal for equal organizations, different
    /// when any field differs. Only compared with another made by the same orgctl (a saved
    /// plan's at apply, the lease's before and after), never written to AWS.
    pub fn fingerprint(&self) -> String {
        if self.is_normalized() {
            digest::digest(self)
        } else {
            let mut s = self.clone();
            s.normalize();
            digest::digest(&s)
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
            && self
                .iam_accounts
                .is_sorted_by(|a, b| a.account_id < b.account_id)
            && self
                .scope
                .as_ref()
                .is_none_or(|s| s.unwalked_ous.is_sorted_by(|a, b| a < b))
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
    /// The value of the root's `orgctl:applied` tag (the record of what apply last applied
    /// there), when it has one; the root's other tags, the apply lease among them, are not part
    /// of the live state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_record: Option<String>,
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

/// An IAM role under [`ROLE_PATH`] in a member account, as IAM has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveAccessRole {
    /// The member account.
    pub account_id: String,
    /// The role's name.
    pub role_name: String,
    /// Its path ([`ROLE_PATH`]).
    #[serde(default = "default_role_path")]
    pub path: String,
    /// Its trust policy, canonical JSON.
    pub trust_policy: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// MaxSessionDuration, in seconds.
    #[serde(default = "default_session")]
    pub max_session_secs: i32,
    /// ARNs of the managed policies attached.
    #[serde(default)]
    pub managed_policies: BTreeSet<String>,
    /// Inline policies by name, canonical JSON.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// The permissions boundary's ARN.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: Tags,
}

impl LiveAccessRole {
    /// Whether orgctl owns the role: under [`ROLE_PATH`] with orgctl's `managed-by` tag.
    pub fn is_managed(&self) -> bool {
        self.path == ROLE_PATH && is_managed(&self.tags)
    }

    /// The grant an owned role belongs to (its [`GRANT_TAG_KEY`] tag).
    pub fn grant(&self) -> Option<&str> {
        self.tags.get(GRANT_TAG_KEY).map(String::as_str)
    }

    /// Whether this is orgctl's read role.
    pub fn is_read_role(&self) -> bool {
        self.tags.get(ROLE_TAG_KEY).map(String::as_str) == Some(READ_ROLE_TAG_VALUE)
    }
}

fn default_role_path() -> String {
    ROLE_PATH.to_string()
}

fn default_session() -> i32 {
    3600
}

/// How IAM was read in one member account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveIamAccount {
    /// 12 digits.
    pub account_id: String,
    /// What happened.
    pub read: IamRead,
}

/// How IAM was read in one member account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "via")]
pub enum IamRead {
    /// Through orgctl's read role ([`READ_ROLE_NAME`]).
    ReadRole,
    /// Through the member role, as intended (`apply`, or no `plan_role` configured).
    MemberRole,
    /// The read role could not be assumed; read through the member role instead.
    Fallback {
        /// Why the read role could not be used.
        reason: String,
    },
    /// Nothing could be read: no role could be assumed (account closed or suspended, member
    /// role removed, credentials without `sts:AssumeRole`). Its roles are unknown.
    Unreadable {
        /// Why.
        reason: String,
    },
}

impl IamRead {
    /// Whether the account's roles were read.
    pub fn is_readable(&self) -> bool {
        !matches!(self, IamRead::Unreadable { .. })
    }
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
    /// IAM CreateRole in a member account (path, trust policy, description, session, tags).
    CreateRole {
        /// The member account.
        account: Ref,
        /// The role.
        role: RoleDefinition,
    },
    /// IAM UpdateAssumeRolePolicy.
    UpdateTrustPolicy {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// The new trust policy (canonical JSON).
        trust_policy: String,
    },
    /// IAM UpdateRole (description and MaxSessionDuration).
    UpdateRole {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// Its description.
        description: String,
        /// MaxSessionDuration, in seconds.
        max_session_secs: i32,
    },
    /// IAM TagRole.
    TagRole {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// Keys and values to set.
        tags: Tags,
    },
    /// IAM UntagRole.
    UntagRole {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// Keys to remove.
        keys: BTreeSet<String>,
    },
    /// IAM AttachRolePolicy.
    AttachRolePolicy {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// The managed policy's ARN.
        policy_arn: String,
    },
    /// IAM DetachRolePolicy.
    DetachRolePolicy {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// The managed policy's ARN.
        policy_arn: String,
    },
    /// IAM PutRolePolicy (creates or replaces an inline policy).
    PutRolePolicy {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// The inline policy's name.
        policy_name: String,
        /// Its document (canonical JSON).
        document: String,
    },
    /// IAM DeleteRolePolicy.
    DeleteRolePolicy {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// The inline policy's name.
        policy_name: String,
    },
    /// IAM PutRolePermissionsBoundary.
    PutRolePermissionsBoundary {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
        /// The boundary's ARN.
        policy_arn: String,
    },
    /// IAM DeleteRolePermissionsBoundary.
    DeleteRolePermissionsBoundary {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
    },
    /// IAM DeleteRole (its managed policies detached and inline policies deleted by then).
    DeleteRole {
        /// The member account.
        account: Ref,
        /// The role's name.
        role_name: String,
    },
}

/// A role as [`Op::CreateRole`] creates it (its permissions follow as separate operations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoleDefinition {
    /// Its name.
    pub name: String,
    /// Its path ([`ROLE_PATH`]).
    pub path: String,
    /// Its trust policy (canonical JSON).
    pub trust_policy: String,
    /// Its description.
    pub description: String,
    /// MaxSessionDuration, in seconds.
    pub max_session_secs: i32,
    /// Its tags (orgctl's `managed-by` and `orgctl-grant` or `orgctl-role`).
    pub tags: Tags,
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
            Op::CreateRole { account, .. }
            | Op::UpdateTrustPolicy { account, .. }
            | Op::UpdateRole { account, .. }
            | Op::TagRole { account, .. }
            | Op::UntagRole { account, .. }
            | Op::AttachRolePolicy { account, .. }
            | Op::DetachRolePolicy { account, .. }
            | Op::PutRolePolicy { account, .. }
            | Op::DeleteRolePolicy { account, .. }
            | Op::PutRolePermissionsBoundary { account, .. }
            | Op::DeleteRolePermissionsBoundary { account, .. }
            | Op::DeleteRole { account, .. } => vec![account],
        }
    }

    /// For an IAM operation, the member account and the role's name it works on.
    pub fn role(&self) -> Option<(&Ref, &str)> {
        match self {
            Op::CreateRole { account, role } => Some((account, role.name.as_str())),
            Op::UpdateTrustPolicy {
                account, role_name, ..
            }
            | Op::UpdateRole {
                account, role_name, ..
            }
            | Op::TagRole {
                account, role_name, ..
            }
            | Op::UntagRole {
                account, role_name, ..
            }
            | Op::AttachRolePolicy {
                account, role_name, ..
            }
            | Op::DetachRolePolicy {
                account, role_name, ..
            }
            | Op::PutRolePolicy {
                account, role_name, ..
            }
            | Op::DeleteRolePolicy {
                account, role_name, ..
            }
            | Op::PutRolePermissionsBoundary {
                account, role_name, ..
            }
            | Op::DeleteRolePermissionsBoundary { account, role_name }
            | Op::DeleteRole { account, role_name } => Some((account, role_name.as_str())),
            _ => None,
        }
    }

    /// Whether this is an IAM operation in a member account.
    pub fn is_iam(&self) -> bool {
        self.role().is_some()
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
            Op::CreateRole { .. } => "CreateRole",
            Op::UpdateTrustPolicy { .. } => "UpdateAssumeRolePolicy",
            Op::UpdateRole { .. } => "UpdateRole",
            Op::TagRole { .. } => "TagRole",
            Op::UntagRole { .. } => "UntagRole",
            Op::AttachRolePolicy { .. } => "AttachRolePolicy",
            Op::DetachRolePolicy { .. } => "DetachRolePolicy",
            Op::PutRolePolicy { .. } => "PutRolePolicy",
            Op::DeleteRolePolicy { .. } => "DeleteRolePolicy",
            Op::PutRolePermissionsBoundary { .. } => "PutRolePermissionsBoundary",
            Op::DeleteRolePermissionsBoundary { .. } => "DeleteRolePermissionsBoundary",
            Op::DeleteRole { .. } => "DeleteRole",
        }
    }
}

/// SHA-256 (hex) of a value's JSON serialisation, streamed into the hash (no intermediate
/// document: fingerprinting a 100,000-account state must stay cheap). The serialisation is
/// deterministic because every map in these types is ordered and lists are normalised first.
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    fingerprint_prefix(value, 64)
}

/// The first `chars` hex characters (at most 64) of [`fingerprint`], without building the
/// rest: what runs once per resource, such as the records of what was applied.
pub fn fingerprint_prefix<T: Serialize>(value: &T, chars: usize) -> String {
    /// serde_json writes a few bytes at a time (a quote, a key, a comma): they are gathered
    /// here and hashed in larger pieces, which is the same hash.
    struct HashWriter {
        sha: Sha256,
        buf: [u8; 1024],
        len: usize,
    }
    impl std::io::Write for HashWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.len + buf.len() > self.buf.len() {
                self.sha.update(&self.buf[..self.len]);
                self.len = 0;
                if buf.len() > self.buf.len() {
                    self.sha.update(buf);
                    return Ok(buf.len());
                }
            }
            self.buf[self.len..self.len + buf.len()].copy_from_slice(buf);
            self.len += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut w = HashWriter {
        sha: Sha256::new(),
        buf: [0; 1024],
        len: 0,
    };
    // Serialising plain data structs into a hash cannot fail.
    let _ = serde_json::to_writer(&mut w, value);
    w.sha.update(&w.buf[..w.len]);
    let digest = w.sha.finalize();
    let mut out = String::with_capacity(chars.min(64));
    for b in digest.iter() {
        for nibble in [b >> 4, b & 0xf] {
            if out.len() == chars {
                return out;
            }
            out.push(char::from(HEX[usize::from(nibble)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_trust_lets_no_one_in_and_keeps_who_it_names() {
        let principal = "arn:aws:iam::999999999999:root";
        for open in [
            trust_policy(principal, None, false, None),
            trust_policy(principal, Some("ext"), true, Some("2027-07-01T00:00:00Z")),
        ] {
            assert!(!is_closed_trust(&open), "{open}");
            let closed = closed_trust(&open);
            assert!(is_closed_trust(&closed), "{closed}");
            assert!(closed.contains(principal) && closed.contains(CLOSED_TRUST_ENDS));
            // The external id and MFA conditions stay; only the end of access changes.
            if open.contains("ext") {
                assert!(closed.contains("\"sts:ExternalId\":\"ext\""));
                assert!(closed.contains("aws:MultiFactorAuthPresent"));
                assert!(!closed.contains("2027-07-01"));
            }
            assert_eq!(closed_trust(&closed), closed);
        }
        // Access that ends later, a statement without an end, or a document that does not read
        // is not closed; a document that only denies is.
        assert!(!is_closed_trust(&trust_policy(
            principal,
            None,
            false,
            Some("2000-01-02T00:00:00Z")
        )));
        let two = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"a"},"Condition":{"DateLessThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}},{"Effect":"Allow","Principal":{"AWS":"b"}}]}"#;
        assert!(!is_closed_trust(two));
        assert!(is_closed_trust(&closed_trust(two)));
        assert!(!is_closed_trust("not json"));
        assert!(is_closed_trust(
            r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"}}]}"#
        ));
    }

    #[test]
    fn a_fingerprint_prefix_is_the_fingerprint_cut_short() {
        let value = serde_json::json!({"a": [1, 2], "b": "x"});
        let full = fingerprint(&value);
        assert_eq!(full.len(), 64);
        assert_eq!(fingerprint_prefix(&value, 16), full[..16]);
        assert_eq!(fingerprint_prefix(&value, 15), full[..15]);
        let digest: String = Sha256::digest(value.to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(full, digest);
    }

    #[test]
    fn a_fingerprint_is_the_sha256_of_the_json_however_long_the_pieces() {
        // Pieces shorter than, around and longer than the writer's buffer, many of them.
        for n in [0, 1, 1000, 1023, 1024, 1025, 3000, 70_000] {
            let long = "x\"y".repeat(n / 3 + 1);
            let value = serde_json::json!({
                "a": long,
                "b": (0..n / 10).map(|i| format!("item-{i}")).collect::<Vec<_>>(),
                "c": n,
            });
            let digest: String = Sha256::digest(value.to_string().as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(fingerprint(&value), digest, "n = {n}");
        }
    }

    #[test]
    fn every_orgctl_key_is_bookkeeping_and_no_other() {
        assert!(is_bookkeeping_tag(RECORD_TAG));
        assert!(is_bookkeeping_tag(LEASE_TAG));
        assert!(is_bookkeeping_tag(ROLES_RECORD_TAG));
        assert!(!is_bookkeeping_tag(MANAGED_BY_KEY));
        assert!(!is_bookkeeping_tag(GRANT_TAG_KEY));
        assert!(!is_bookkeeping_tag("orgctl"));
        assert!(!is_bookkeeping_tag("Orgctl:applied"));
    }

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
    fn trust_policy_names_exactly_the_principal_and_its_conditions() {
        let plain = trust_policy("arn:aws:iam::111122223333:root", None, false, None);
        assert_eq!(
            plain,
            r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"}}],"Version":"2012-10-17"}"#
        );
        let full = trust_policy(
            "arn:aws:iam::111122223333:role/deploy",
            Some("partner-7f3a"),
            true,
            Some("2027-07-01T00:00:00Z"),
        );
        let v: serde_json::Value = serde_json::from_str(&full).expect("json");
        let c = &v["Statement"][0]["Condition"];
        assert_eq!(c["StringEquals"]["sts:ExternalId"], "partner-7f3a");
        assert_eq!(c["Bool"]["aws:MultiFactorAuthPresent"], "true");
        assert_eq!(c["DateLessThan"]["aws:CurrentTime"], "2027-07-01T00:00:00Z");
        assert_eq!(
            v["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::111122223333:role/deploy"
        );
    }

    #[test]
    fn the_read_role_policy_is_canonical() {
        let v: serde_json::Value = serde_json::from_str(READ_ROLE_POLICY).expect("json");
        assert_eq!(canonical_json(&v), READ_ROLE_POLICY);
    }

    #[test]
    fn role_ops_name_their_account_and_role() {
        let op = Op::DetachRolePolicy {
            account: Ref::Id("111122223333".into()),
            role_name: "partner".into(),
            policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        };
        assert_eq!(
            op.role(),
            Some((&Ref::Id("111122223333".into()), "partner"))
        );
        assert!(op.is_iam());
        assert_eq!(op.refs(), vec![&Ref::Id("111122223333".into())]);
        assert!(
            !Op::DeleteOu {
                ou: Ref::Id("ou-1".into())
            }
            .is_iam()
        );
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

/// The live state's fingerprint: a [`digest`], different whenever any one field differs.
#[cfg(test)]
mod live_fingerprint_tests {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-c\"\\\\]{0,3}",
            1 => any::<String>(),
        ]
    }

    fn tags() -> impl Strategy<Value = Tags> {
        proptest::collection::btree_map(text(), text(), 0..3)
    }

    fn policy_type() -> impl Strategy<Value = PolicyType> {
        prop_oneof![
            Just(PolicyType::ServiceControlPolicy),
            Just(PolicyType::TagPolicy)
        ]
    }

    fn iam_read() -> impl Strategy<Value = IamRead> {
        prop_oneof![
            Just(IamRead::ReadRole),
            Just(IamRead::MemberRole),
            text().prop_map(|reason| IamRead::Fallback { reason }),
            text().prop_map(|reason| IamRead::Unreadable { reason }),
        ]
    }

    /// A normalised live state with at least one of everything (ids unique in their list).
    fn live_state() -> impl Strategy<Value = LiveState> {
        let organization = (
            text(),
            text(),
            text(),
            proptest::collection::btree_set(policy_type(), 0..3),
            proptest::option::of(text()),
        )
            .prop_map(|(id, management_account_id, root_id, types, root_record)| {
                LiveOrganization {
                    id,
                    management_account_id,
                    root_id,
                    enabled_policy_types: types,
                    root_record,
                }
            });
        let ou = (text(), text(), text(), tags()).prop_map(|(id, name, parent_id, tags)| LiveOu {
            id,
            name,
            parent_id,
            tags,
        });
        let account = (
            text(),
            text(),
            text(),
            text(),
            prop_oneof![
                Just(AccountStatus::Active),
                Just(AccountStatus::PendingClosure),
                Just(AccountStatus::Suspended)
            ],
            tags(),
        )
            .prop_map(|(id, name, email, parent_id, status, tags)| LiveAccount {
                id,
                name,
                email,
                parent_id,
                status,
                tags,
            });
        let policy = (
            (text(), text(), policy_type(), text(), text()),
            (
                any::<bool>(),
                tags(),
                proptest::collection::vec(text(), 0..3),
            ),
        )
            .prop_map(
                |((id, name, policy_type, description, content), (aws_managed, tags, targets))| {
                    LivePolicy {
                        id,
                        name,
                        policy_type,
                        description,
                        content,
                        aws_managed,
                        tags,
                        targets,
                    }
                },
            );
        let role = (
            (text(), text(), text(), text(), text(), any::<i32>()),
            (
                proptest::collection::btree_set(text(), 0..3),
                proptest::collection::btree_map(text(), text(), 0..3),
                proptest::option::of(text()),
                tags(),
            ),
        )
            .prop_map(
                |(
                    (account_id, role_name, path, trust_policy, description, max_session_secs),
                    (managed_policies, inline_policies, permissions_boundary, tags),
                )| LiveAccessRole {
                    account_id,
                    role_name,
                    path,
                    trust_policy,
                    description,
                    max_session_secs,
                    managed_policies,
                    inline_policies,
                    permissions_boundary,
                    tags,
                },
            );
        let iam =
            (text(), iam_read()).prop_map(|(account_id, read)| LiveIamAccount { account_id, read });
        let scope = proptest::option::of(
            (any::<usize>(), proptest::collection::vec(text(), 0..3)).prop_map(
                |(unread_accounts, unwalked_ous)| LiveScope {
                    unread_accounts,
                    unwalked_ous,
                },
            ),
        );
        (
            organization,
            proptest::collection::vec(ou, 1..3),
            proptest::collection::vec(account, 1..3),
            proptest::collection::vec(policy, 1..3),
            proptest::collection::vec(role, 1..3),
            proptest::collection::vec(iam, 1..3),
            scope,
        )
            .prop_map(
                |(organization, ous, accounts, policies, access_roles, iam_accounts, scope)| {
                    let mut live = LiveState {
                        organization,
                        ous,
                        accounts,
                        policies,
                        access_roles,
                        iam_accounts,
                        scope,
                    };
                    // Ids unique in their list, as AWS has them.
                    for (i, o) in live.ous.iter_mut().enumerate() {
                        o.id = format!("{i}{}", o.id);
                    }
                    for (i, a) in live.accounts.iter_mut().enumerate() {
                        a.id = format!("{i}{}", a.id);
                    }
                    for (i, p) in live.policies.iter_mut().enumerate() {
                        p.id = format!("{i}{}", p.id);
                    }
                    for (i, r) in live.access_roles.iter_mut().enumerate() {
                        r.account_id = format!("{i}{}", r.account_id);
                    }
                    for (i, a) in live.iam_accounts.iter_mut().enumerate() {
                        a.account_id = format!("{i}{}", a.account_id);
                    }
                    live.normalize();
                    live
                },
            )
    }

    /// The number of single-field changes [`change`] knows: every field of every live type.
    const CHANGES: usize = 43;

    /// Changes one field (number `which`) of the first element where there is a list, to a
    /// value it did not have (a string gains a `~`, a set or map a `~` entry, a flag flips).
    fn change(live: &mut LiveState, which: usize) {
        let s = |v: &mut String| v.push('~');
        let t = |tags: &mut Tags| {
            tags.insert("~".into(), String::new());
        };
        let o = &mut live.organization;
        let ou = &mut live.ous[0];
        match which {
            0 => s(&mut o.id),
            1 => s(&mut o.management_account_id),
            2 => s(&mut o.root_id),
            3 => {
                if !o.enabled_policy_types.remove(&PolicyType::TagPolicy) {
                    o.enabled_policy_types.insert(PolicyType::TagPolicy);
                }
            }
            4 => o.root_record = o.root_record.take().map_or(Some("~".into()), |_| None),
            5 => s(&mut ou.id),
            6 => s(&mut ou.name),
            7 => s(&mut ou.parent_id),
            8 => t(&mut ou.tags),
            9..=14 => {
                let a = &mut live.accounts[0];
                match which {
                    9 => s(&mut a.id),
                    10 => s(&mut a.name),
                    11 => s(&mut a.email),
                    12 => s(&mut a.parent_id),
                    13 => {
                        a.status = match a.status {
                            AccountStatus::Active => AccountStatus::Suspended,
                            _ => AccountStatus::Active,
                        }
                    }
                    _ => t(&mut a.tags),
                }
            }
            15..=22 => {
                let p = &mut live.policies[0];
                match which {
                    15 => s(&mut p.id),
                    16 => s(&mut p.name),
                    17 => {
                        p.policy_type = match p.policy_type {
                            PolicyType::TagPolicy => PolicyType::ServiceControlPolicy,
                            PolicyType::ServiceControlPolicy => PolicyType::TagPolicy,
                        }
                    }
                    18 => s(&mut p.description),
                    19 => s(&mut p.content),
                    20 => p.aws_managed = !p.aws_managed,
                    21 => t(&mut p.tags),
                    _ => p.targets.push("~".into()),
                }
            }
            23..=33 => {
                let r = &mut live.access_roles[0];
                match which {
                    23 => s(&mut r.account_id),
                    24 => s(&mut r.role_name),
                    25 => s(&mut r.path),
                    26 => s(&mut r.trust_policy),
                    27 => s(&mut r.description),
                    28 => r.max_session_secs = r.max_session_secs.wrapping_add(1),
                    29 => {
                        r.managed_policies.insert("~".into());
                    }
                    30 => {
                        r.inline_policies.insert("~".into(), String::new());
                    }
                    31 => {
                        if let Some((_, doc)) = r.inline_policies.iter_mut().next() {
                            s(doc)
                        } else {
                            r.inline_policies.insert(String::new(), String::new());
                        }
                    }
                    32 => {
                        r.permissions_boundary = r
                            .permissions_boundary
                            .take()
                            .map_or(Some(String::new()), |_| None)
                    }
                    _ => t(&mut r.tags),
                }
            }
            34..=37 => {
                let a = &mut live.iam_accounts[0];
                match which {
                    34 => s(&mut a.account_id),
                    35 => {
                        a.read = match a.read {
                            IamRead::ReadRole => IamRead::MemberRole,
                            _ => IamRead::ReadRole,
                        }
                    }
                    36 => match &mut a.read {
                        IamRead::Fallback { reason } | IamRead::Unreadable { reason } => s(reason),
                        other => {
                            *other = IamRead::Unreadable {
                                reason: String::new(),
                            }
                        }
                    },
                    _ => {
                        a.read = match a.read {
                            IamRead::Fallback { .. } => IamRead::Unreadable {
                                reason: String::new(),
                            },
                            _ => IamRead::Fallback {
                                reason: String::new(),
                            },
                        }
                    }
                }
            }
            38 => {
                live.scope = live
                    .scope
                    .take()
                    .map_or(Some(LiveScope::default()), |_| None)
            }
            39 => {
                let scope = live.scope.get_or_insert_with(LiveScope::default);
                scope.unread_accounts = scope.unread_accounts.wrapping_add(1);
            }
            40 => live
                .scope
                .get_or_insert_with(LiveScope::default)
                .unwalked_ous
                .push("~".into()),
            41 => live.ous.truncate(0),
            _ => live.access_roles.truncate(0),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Any one field changed gives another fingerprint; the same state (in any order) the
        /// same one.
        #[test]
        fn any_field_changed_changes_the_live_fingerprint(
            live in live_state(), which in 0..CHANGES
        ) {
            let before = live.fingerprint();
            let mut shuffled = live.clone();
            shuffled.accounts.reverse();
            shuffled.access_roles.reverse();
            prop_assert_eq!(&shuffled.fingerprint(), &before);
            let mut changed = live.clone();
            change(&mut changed, which);
            let mut normal = changed.clone();
            normal.normalize();
            prop_assert_ne!(&normal, &live, "change {} changed nothing", which);
            prop_assert_ne!(changed.fingerprint(), before, "change {}", which);
        }
    }

    #[test]
    fn the_live_fingerprint_is_the_digest_of_the_normalised_state_not_its_json() {
        let live = LiveState {
            accounts: ["2", "1"]
                .map(|id| LiveAccount {
                    id: id.into(),
                    name: format!("\"{id}\""),
                    email: String::new(),
                    parent_id: "r".into(),
                    status: AccountStatus::Active,
                    tags: Tags::new(),
                })
                .into(),
            ..LiveState::default()
        };
        let mut normal = live.clone();
        normal.normalize();
        assert_eq!(live.fingerprint(), digest::digest(&normal));
        assert_ne!(live.fingerprint(), fingerprint(&normal));
    }
}

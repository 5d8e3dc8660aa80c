//! The YAML format (schema v1) as serde types: exactly what a file may say, before any
//! semantic check. The JSON Schema is generated from these types, so their doc comments are
//! the format's reference documentation.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::node::Located;

/// One desired-state file. orgctl reads every `.yaml`/`.yml` file (any case; hidden files and
/// directories aside) below the desired-state directory and merges them: each key is optional, lists from all files are concatenated, and
/// `organization` must appear in exactly one file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with the keys organization, checks, ous, accounts, policies, grants"
)]
#[schemars(title = "orgctl desired state (schema v1)")]
pub struct RawFile {
    /// Organization-wide settings. Exactly one file of the directory has this block.
    #[serde(default)]
    pub organization: Option<Located<RawOrganization>>,
    /// Organizational units, each by its full path. Every parent of an OU must be listed too.
    #[serde(default)]
    pub ous: Vec<Located<RawOu>>,
    /// Member accounts (and, optionally, the management account).
    #[serde(default)]
    pub accounts: Vec<Located<RawAccount>>,
    /// Service control policies and tag policies, with the targets they are attached to.
    #[serde(default)]
    pub policies: Vec<Located<RawPolicy>>,
    /// Access grants: an IAM role in each target account that one outside (or inside)
    /// principal may assume, with the permissions given, until `expires`.
    #[serde(default)]
    pub grants: Vec<Located<RawGrant>>,
    /// The safety checks on grants `orgctl validate` runs, and the ones switched off (each with
    /// a reason). At most one file of the directory has this block. Default: every check on,
    /// `max_grant_days: 365`.
    #[serde(default)]
    pub checks: Option<Located<RawChecks>>,
}

/// Organization-wide settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "the organization mapping (management_account_id, enabled_policy_types, ...)"
)]
#[schemars(rename = "Organization")]
pub struct RawOrganization {
    /// The 12-digit id of the organization's management account, in quotes. Every plan and
    /// apply first checks that the credentials in use belong to this organization, so a
    /// desired state can never be applied to the wrong one.
    #[schemars(pattern(r"^[0-9]{12}$"))]
    pub management_account_id: Located<String>,
    /// Policy types that must be enabled on the root. Types not named here are left as they
    /// are. A policy of a type not named here is refused. Default: none.
    #[serde(default)]
    pub enabled_policy_types: Vec<Located<RawPolicyType>>,
    /// Accounts orgctl must never close: account names from `accounts` (the account needs an
    /// `id`) or 12-digit account ids. Default: none.
    #[serde(default)]
    pub protected_accounts: Vec<Located<String>>,
    /// The most policies of one type that may be attached to one root, OU or account,
    /// counting AWS's FullAWSAccess where it stays attached. AWS's default quota is 5 for
    /// service control policies; raise this only after raising the quota. Allowed: 2 to 1000
    /// (replacing a policy needs room for two). Default: 5.
    #[serde(default)]
    #[schemars(range(min = 2, max = 1000), extend("default" = 5))]
    pub policies_per_target_limit: Option<Located<u32>>,
    /// Tag keys that other tools own (for example `aws-controltower-managed`): orgctl neither
    /// sets nor removes them on any resource. Default: none.
    #[serde(default)]
    pub ignore_tag_keys: Vec<Located<String>>,
    /// Whether the AWS-managed `FullAWSAccess` SCP stays attached to the root (orgctl attaches
    /// it again when it is missing). Set `false` only for an allow-list at the root: then the
    /// SCPs listed for `root` must allow what the organization needs (AWS requires at least one
    /// SCP on the root). Default: true.
    #[serde(default)]
    #[schemars(extend("default" = true))]
    pub root_full_aws_access: Option<Located<bool>>,
    /// The role orgctl assumes in member accounts to change their IAM roles (`apply`), and to
    /// read them when there is no read role: a role name (1 to 64 characters of letters,
    /// digits and `+ = , . @ _ -`) or a path and name (`team/admin`). Default:
    /// OrganizationAccountAccessRole, the role AWS creates in accounts that Organizations
    /// creates.
    #[serde(default)]
    #[schemars(extend("default" = "OrganizationAccountAccessRole"))]
    pub member_role: Option<Located<String>>,
    /// The ARN of the IAM role in the management account that runs `orgctl plan` (such as
    /// `arn:aws:iam::123456789012:role/orgctl-plan`, see docs/iam). When set, orgctl keeps a
    /// read-only role `orgctl-read` under `/orgctl/` in every member account it manages,
    /// trusting only this role, and `plan`, `access` and `drift` read IAM through it instead
    /// of the member role. Default: none (IAM is read through `member_role`).
    #[serde(default)]
    #[schemars(pattern(r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/"))]
    pub plan_role: Option<Located<String>>,
    /// The domains the company owns (such as `companyx.example`; compared in lower case). An
    /// account whose root email is on another domain is flagged by `orgctl access`: whoever
    /// owns that domain can reset the account's root password. Default: none (no flag).
    #[serde(default)]
    pub email_domains: Vec<Located<String>>,
}

/// A policy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "PolicyType")]
pub enum RawPolicyType {
    /// Service control policies: the most permissions accounts below a target can have.
    ServiceControlPolicy,
    /// Tag policies: which tag keys and values resources should use.
    TagPolicy,
}

impl RawPolicyType {
    /// The model's type.
    pub fn to_model(self) -> orgctl_model::PolicyType {
        match self {
            RawPolicyType::ServiceControlPolicy => orgctl_model::PolicyType::ServiceControlPolicy,
            RawPolicyType::TagPolicy => orgctl_model::PolicyType::TagPolicy,
        }
    }

    /// The YAML spelling.
    pub fn as_yaml(self) -> &'static str {
        match self {
            RawPolicyType::ServiceControlPolicy => "service_control_policy",
            RawPolicyType::TagPolicy => "tag_policy",
        }
    }
}

/// An organizational unit.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "an OU mapping (path, id, tags, full_aws_access, production)"
)]
#[schemars(rename = "Ou")]
pub struct RawOu {
    /// The OU's full path from the root, such as `/Workloads/Production`: segments separated
    /// by `/`, no empty segment, no trailing `/`, at most 5 levels. The last segment is the
    /// OU's name (1 to 128 characters, none of them invisible: no control, zero-width,
    /// bidirectional or blank characters, which would make look-alike names). Renaming the last segment renames the OU when it has
    /// an `id`; otherwise it is a new OU.
    #[schemars(pattern(r"^(/[^/]+)+$"))]
    pub path: Located<String>,
    /// The OU's id (`ou-` followed by the root id's suffix and a random part), once it exists.
    /// With an id, the OU keeps its identity when its name changes; without one, orgctl finds
    /// it by path.
    #[serde(default)]
    #[schemars(pattern(r"^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$"))]
    pub id: Option<Located<String>>,
    /// The OU's tags, exclusively: tags not listed here are removed (keys in
    /// `ignore_tag_keys` aside). Default: none.
    #[serde(default)]
    pub tags: RawTags,
    /// Whether the AWS-managed `FullAWSAccess` SCP stays attached. Set `false` only when
    /// other SCPs listed here allow what the accounts below need: AWS requires at least one
    /// SCP on every target. Default: true.
    #[serde(default)]
    #[schemars(extend("default" = true))]
    pub full_aws_access: Option<Located<bool>>,
    /// Whether the accounts below this OU (recursively) are production. The checks refuse
    /// administrator access for outside principals there (rule `admin-on-production`).
    /// An account is production when any OU above it is marked. Default: false.
    #[serde(default)]
    #[schemars(extend("default" = false))]
    pub production: Option<Located<bool>>,
}

/// A member account (or the management account).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "an account mapping (name, email, ou, id, tags, lifecycle, full_aws_access)"
)]
#[schemars(rename = "Account")]
pub struct RawAccount {
    /// The account's name (1 to 50 printable ASCII characters), unique in the desired state.
    /// Policies name their account targets by it. `root` is reserved.
    #[schemars(length(min = 1, max = 50))]
    pub name: Located<String>,
    /// The account's root user email address (6 to 64 characters), unique across accounts
    /// (case-insensitively). New accounts are created with it; existing accounts without an
    /// `id` are found by it.
    #[schemars(length(min = 6, max = 64), pattern(r"^[^\s@]+@[^\s@]+\.[^\s@]+$"))]
    pub email: Located<String>,
    /// The OU the account lives in: a path from `ous`, or `/` for the root.
    #[schemars(pattern(r"^/([^/]+(/[^/]+)*)?$"))]
    pub ou: Located<String>,
    /// The account's 12-digit id, in quotes, once it exists. With an id, the account is
    /// matched by id; without one, by email.
    #[serde(default)]
    #[schemars(pattern(r"^[0-9]{12}$"))]
    pub id: Option<Located<String>>,
    /// The account's tags, exclusively: tags not listed here are removed (keys in
    /// `ignore_tag_keys` aside). Default: none.
    #[serde(default)]
    pub tags: RawTags,
    /// `active`, or `closed` to close the account (applying a close needs `--allow-close`;
    /// protected accounts and the management account cannot be closed). Default: active.
    #[serde(default)]
    #[schemars(extend("default" = "active"))]
    pub lifecycle: Option<Located<RawLifecycle>>,
    /// Whether the AWS-managed `FullAWSAccess` SCP stays attached to the account. Default:
    /// true.
    #[serde(default)]
    #[schemars(extend("default" = true))]
    pub full_aws_access: Option<Located<bool>>,
}

/// Whether an account should be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Lifecycle")]
pub enum RawLifecycle {
    /// The account is open.
    Active,
    /// The account is to be closed.
    Closed,
}

/// A service control policy or tag policy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a policy mapping (name, type, description, document or document_file, targets, tags)"
)]
#[schemars(rename = "Policy")]
pub struct RawPolicy {
    /// The policy's name (1 to 128 visible characters), unique across all policies. `FullAWSAccess`
    /// is AWS's.
    #[schemars(length(min = 1, max = 128))]
    pub name: Located<String>,
    /// The policy's type; it must be listed in `organization.enabled_policy_types`.
    #[serde(rename = "type")]
    pub policy_type: Located<RawPolicyType>,
    /// What the policy is for (at most 512 characters). Default: empty.
    #[serde(default)]
    #[schemars(length(max = 512))]
    pub description: Option<Located<String>>,
    /// The policy document inline: a YAML mapping, or a string holding JSON. Give exactly one
    /// of `document` and `document_file`. Its minified JSON may have at most 5,120 characters
    /// (service control policies) or 10,000 (tag policies). orgctl checks the grammar AWS
    /// checks: an SCP has `Version` and `Statement` (each statement `Effect`, `Action` or
    /// `NotAction`, optionally `Resource` or `NotResource`, `Sid`, `Condition`); a tag policy
    /// has `tags`. A key twice in one JSON object is an error.
    #[serde(default)]
    #[schemars(schema_with = "document_schema")]
    pub document: Option<Located<serde_json::Value>>,
    /// A JSON file holding the policy document, relative to the directory of this YAML file.
    /// It must be a regular file inside the desired-state directory once symbolic links are
    /// resolved, of at most 1 MiB (UTF-8, a byte order mark is allowed). Give exactly one of
    /// `document` and `document_file`.
    #[serde(default)]
    pub document_file: Option<Located<String>>,
    /// Exactly the targets the policy is attached to: `root`, an OU path from `ous` (starting
    /// with `/`), or an account name from `accounts`. It is detached from anything else.
    /// Default: none.
    #[serde(default)]
    pub targets: Vec<Located<String>>,
    /// The policy's tags, exclusively. Default: none.
    #[serde(default)]
    pub tags: RawTags,
}

/// An access grant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a grant mapping (name, partner, owner, principal, permissions, targets, expires, ...)"
)]
#[schemars(rename = "Grant")]
pub struct RawGrant {
    /// The grant's name (1 to 64 characters of `A-Z a-z 0-9 + = , . @ _ -`), unique; the
    /// plan's address is `grant/NAME` and every role of the grant is tagged `orgctl-grant:
    /// NAME`.
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9+=,.@_-]+$"))]
    pub name: Located<String>,
    /// Who receives the access (free text, such as the partner's company name).
    #[schemars(length(min = 1, max = 200))]
    pub partner: Located<String>,
    /// Who in the company answers for the grant (free text, such as a person or team).
    #[schemars(length(min = 1, max = 200))]
    pub owner: Located<String>,
    /// The ticket the grant was approved in (free text). Give `ticket` or `reason`.
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub ticket: Option<Located<String>>,
    /// Why the grant exists (free text), when there is no ticket. Give `ticket` or `reason`.
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub reason: Option<Located<String>>,
    /// What the access is for (free text, at most 500 characters). Default: empty.
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub description: Option<Located<String>>,
    /// Who may assume the role: a 12-digit AWS account id, in quotes (any principal of that
    /// account the account allows), or the ARN of one IAM role or user
    /// (`arn:aws:iam::999988887777:role/deploy`). The grant is *external* when this account is
    /// neither the management account nor an account id listed in `accounts`.
    #[schemars(pattern(
        r"^([0-9]{12}|arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|(role|user)/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}))$"
    ))]
    pub principal: Located<String>,
    /// The external id the principal must pass when assuming the role (`sts:ExternalId`):
    /// the value the partner generated for this company. 2 to 1224 characters of `A-Z a-z
    /// 0-9 + = , . @ : / _ -`. It is not a secret (anyone who can read the role sees it).
    /// Required for external grants (rule `external-id`); at least 8 characters and no
    /// account id (rule `external-id-strength`).
    #[serde(default)]
    #[schemars(length(min = 2, max = 1224), pattern(r"^[A-Za-z0-9+=,.@:/_-]+$"))]
    pub external_id: Option<Located<String>>,
    /// Whether the principal must have signed in with MFA (`aws:MultiFactorAuthPresent`).
    /// Default: false.
    #[serde(default)]
    #[schemars(extend("default" = false))]
    pub mfa: Option<Located<bool>>,
    /// The longest session the role allows: hours and/or minutes such as `1h`, `90m` or
    /// `2h30m`, from 1 hour to 12 hours. Default: `1h`.
    #[serde(default)]
    #[schemars(pattern(r"^([0-9]+h)?([0-9]+m)?$"), extend("default" = "1h"))]
    pub max_session: Option<Located<String>>,
    /// What the role may do.
    pub permissions: Located<RawPermissions>,
    /// Where the role is created: account names from `accounts`, and OU paths from `ous`
    /// (every account below the OU, recursively, including accounts the YAML does not list).
    /// Not `/` (the root) and not the management account: grants never reach the
    /// organization level.
    pub targets: Vec<Located<String>>,
    /// Accounts left out of the targets: account names from `accounts`, or 12-digit account
    /// ids (accounts the YAML does not list). Default: none.
    #[serde(default)]
    pub exclude: Vec<Located<String>>,
    /// The IAM role's name in every target account (1 to 64 characters of `A-Z a-z 0-9 + = ,
    /// . @ _ -`; `orgctl-read` is orgctl's own). Default: `orgctl-` followed by the grant's
    /// name, cut to 64 characters.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9+=,.@_-]+$"))]
    pub role_name: Option<Located<String>>,
    /// The last day of the access (`YYYY-MM-DD`, inclusive, UTC; a real calendar date). The
    /// trust policy ends access at 00:00 UTC the next day, enforced by AWS even if orgctl
    /// never runs again; after it `orgctl plan` deletes the roles. Required for external
    /// grants (rule `external-expires`); at most `checks.max_grant_days` after today (rule
    /// `max-grant-days`).
    #[serde(default)]
    #[schemars(pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub expires: Option<Located<String>>,
    /// Why an external principal may have administrator access (`AdministratorAccess`, or an
    /// inline statement allowing action `*` on resource `*`) on production accounts: without
    /// it, rule `admin-on-production` refuses such a grant.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub allow_admin_on_production: Option<Located<String>>,
}

/// What a grant's role may do.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a permissions mapping (managed, inline, permissions_boundary)"
)]
#[schemars(rename = "Permissions")]
pub struct RawPermissions {
    /// Managed policies to attach (at most 10): AWS managed policy names such as
    /// `AdministratorAccess`, `ReadOnlyAccess` or `job-function/ViewOnlyAccess` (which mean
    /// `arn:aws:iam::aws:policy/NAME`), or full policy ARNs. Default: none.
    #[serde(default)]
    pub managed: Vec<Located<String>>,
    /// Inline policies, each with a name; together at most 10,240 characters minified.
    /// Default: none.
    #[serde(default)]
    pub inline: Vec<Located<RawInlinePolicy>>,
    /// The permissions boundary: an AWS managed policy name or a policy ARN. Default: none.
    #[serde(default)]
    pub permissions_boundary: Option<Located<String>>,
}

/// One inline policy of a grant's role.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "an inline policy mapping (name, document or document_file)"
)]
#[schemars(rename = "InlinePolicy")]
pub struct RawInlinePolicy {
    /// The policy's name in the role (1 to 128 characters of `A-Z a-z 0-9 + = , . @ _ -`),
    /// unique within the grant.
    #[schemars(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9+=,.@_-]+$"))]
    pub name: Located<String>,
    /// The IAM policy document inline: a YAML mapping, or a string holding JSON (`Version`,
    /// `Statement`, optionally `Id`). Give exactly one of `document` and `document_file`.
    #[serde(default)]
    #[schemars(schema_with = "document_schema")]
    pub document: Option<Located<serde_json::Value>>,
    /// A JSON file holding the document, relative to the directory of this YAML file, under
    /// the same rules as a policy's `document_file`.
    #[serde(default)]
    pub document_file: Option<Located<String>>,
}

/// The checks block.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "the checks mapping (max_grant_days, disable)"
)]
#[schemars(rename = "Checks")]
pub struct RawChecks {
    /// The longest a grant may last: its `expires` may be at most this many days after today
    /// (rule `max-grant-days`). 1 to 3650. Default: 365.
    #[serde(default)]
    #[schemars(range(min = 1, max = 3650), extend("default" = 365))]
    pub max_grant_days: Option<Located<u32>>,
    /// Rules switched off, each with the reason. The rules: `external-expires`,
    /// `external-id`, `external-id-strength`, `admin-on-production`, `max-grant-days`.
    /// (`management-account`, no grant on the management account or the root, cannot be
    /// switched off.) Default: none.
    #[serde(default)]
    pub disable: Vec<Located<RawDisabledCheck>>,
}

/// A rule switched off.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping (rule, reason)")]
#[schemars(rename = "DisabledCheck")]
pub struct RawDisabledCheck {
    /// The rule's id.
    pub rule: Located<String>,
    /// Why it is off (required, not empty): reviewers read it.
    #[schemars(length(min = 1))]
    pub reason: Located<String>,
}

fn document_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A policy document: a mapping, or a string holding a JSON object.",
        "type": ["object", "string"]
    })
}

/// Tags of one resource, in document order, each key and value with its position.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RawTags(pub Vec<(Located<String>, Located<String>)>);

impl<'de> Deserialize<'de> for RawTags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TagsVisitor;
        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = RawTags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of tag keys to tag values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawTags, E> {
                Ok(RawTags::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<RawTags, A::Error> {
                let mut tags = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some(key) = a.next_key::<Located<String>>()? {
                    let value = a.next_value::<Located<String>>()?;
                    tags.push((key, value));
                }
                Ok(RawTags(tags))
            }
        }
        d.deserialize_map(TagsVisitor)
    }
}

impl JsonSchema for RawTags {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Tags".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Tags: at most 48 keys (orgctl adds its `orgctl:applied` record \
                everywhere, its `managed-by` tag on OUs and policies and its `orgctl:roles` \
                record on accounts) of 1 to 128 \
                characters (not starting with `aws:` or `orgctl:`, and not `managed-by`, which \
                orgctl sets itself) with values of 0 to 256 \
                characters; keys and values have no invisible (control, zero-width, \
                bidirectional or blank) characters. Quote values YAML would read as numbers or booleans.",
            "type": "object",
            "maxProperties": 48,
            "propertyNames": { "minLength": 1, "maxLength": 128 },
            "additionalProperties": { "type": "string", "maxLength": 256 }
        })
    }
}

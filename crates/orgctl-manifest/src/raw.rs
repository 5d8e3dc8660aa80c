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
    expecting = "a mapping with the keys organization, ous, accounts, policies"
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
    expecting = "an OU mapping (path, id, tags, full_aws_access)"
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
            "description": "Tags: at most 50 keys of 1 to 128 characters (not starting with \
                `aws:`, and not `managed-by`, which orgctl sets itself) with values of 0 to 256 \
                characters; keys and values have no invisible (control, zero-width, \
                bidirectional or blank) characters. Quote values YAML would read as numbers or booleans.",
            "type": "object",
            "maxProperties": 50,
            "propertyNames": { "minLength": 1, "maxLength": 128 },
            "additionalProperties": { "type": "string", "maxLength": 256 }
        })
    }
}

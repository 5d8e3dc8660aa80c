//! The access review of `orgctl access`: "who can reach this account, and how?", answered per
//! account from the live organization, what was read of IAM in each member account, and the
//! desired state. Pure: [`review`] does no IO and reads no clock (the date is an input).
//!
//! For each account it reports:
//! - the **grants**: every orgctl role (grant roles and the read role) the desired state wants
//!   there and every one IAM has under [`ROLE_PATH`], with principal, permissions, expiry and
//!   days left, and its state (in place, to be created, to be removed, expired but still present,
//!   not verifiable);
//! - **root email ownership**: the domain of the account's root email against
//!   `organization.email_domains` (the check is off when that list is empty);
//! - **external trust**: roles outside [`ROLE_PATH`] whose trust policy lets a principal from
//!   outside the organization assume them (see [`external_principals`] for what counts);
//! - the **member role** (the role orgctl assumes to write): whether it exists and whom it trusts.
//!
//! Every [`Finding`] is something a security reviewer must look at; `orgctl access
//! --detailed-exitcode` exits 2 when there is one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orgctl_model::{
    AccountStatus, DesiredState, GrantSpec, IamRead, Lifecycle, LiveAccessRole, LiveState,
    READ_ROLE_NAME, ROLE_PATH, child_path,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the JSON document `orgctl access --format json` prints.
pub const ACCESS_FORMAT_VERSION: u32 = 1;

/// A role in a member account as ListRoles returns it: enough to judge its trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleTrust {
    /// Its path (`/`, `/orgctl/`, …).
    pub path: String,
    /// Its name.
    pub name: String,
    /// Its trust policy (JSON text).
    pub trust_policy: String,
}

/// What was read of IAM in one member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountIam {
    /// 12 digits.
    pub account_id: String,
    /// How it was read (or why not).
    pub read: IamRead,
    /// Every role of the account (any path), when it was read.
    pub roles: Vec<RoleTrust>,
    /// The roles under [`ROLE_PATH`], in full detail.
    pub access_roles: Vec<LiveAccessRole>,
}

/// The review of every account (or one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "orgctl access review (format_version 1)")]
pub struct AccessReport {
    /// The version of this format: 1.
    #[schemars(extend("const" = ACCESS_FORMAT_VERSION))]
    pub format_version: u32,
    /// The date expiries are judged against (`YYYY-MM-DD`, UTC).
    pub today: String,
    /// The organization (`o-…`).
    pub organization_id: String,
    /// The management account's id.
    pub management_account_id: String,
    /// `organization.email_domains`; empty means the root email check is off.
    pub email_domains: Vec<String>,
    /// The member role orgctl assumes to write (`organization.member_role`).
    pub member_role: String,
    /// The accounts, in name order.
    pub accounts: Vec<AccountAccess>,
    /// Counts.
    pub summary: AccessSummary,
}

impl AccessReport {
    /// Whether anything is flagged.
    pub fn is_flagged(&self) -> bool {
        self.summary.findings > 0
    }
}

/// Counts over the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccessSummary {
    /// Accounts reported.
    pub accounts: usize,
    /// Accounts with at least one finding.
    pub flagged_accounts: usize,
    /// Findings in all.
    pub findings: usize,
    /// Grant roles (and read roles) reported, desired or live.
    pub grants: usize,
}

/// One account: who can reach it, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccountAccess {
    /// 12 digits.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its root email.
    pub email: String,
    /// The OU path it lives in (`/` for the root).
    pub ou: String,
    /// ACTIVE, PENDING_CLOSURE or SUSPENDED.
    pub status: AccountStatus,
    /// Whether it is the management account (orgctl reads no IAM there).
    pub management: bool,
    /// How its IAM roles were read.
    pub iam: IamStatus,
    /// Who controls its root email.
    pub root_email: RootEmail,
    /// The member role, when the account's roles were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_role: Option<MemberRole>,
    /// orgctl's roles here (grant roles and the read role), desired or live.
    pub grants: Vec<GrantAccess>,
    /// Roles outside `/orgctl/` that a principal outside the organization may assume.
    pub external_trust: Vec<ExternalTrust>,
    /// Roles under `/orgctl/` without orgctl's tag: orgctl leaves them alone.
    pub unmanaged_roles: Vec<String>,
    /// What is flagged here.
    pub findings: Vec<Finding>,
}

/// How an account's IAM was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "via")]
pub enum IamStatus {
    /// Through orgctl's read role.
    ReadRole,
    /// Through the member role.
    MemberRole,
    /// Through the member role, because the read role could not be used.
    Fallback {
        /// Why.
        reason: String,
    },
    /// Nothing could be read (a finding).
    Unreadable {
        /// Why.
        reason: String,
    },
    /// Not read on purpose (the management account, closed accounts).
    NotRead {
        /// Why.
        reason: String,
    },
}

impl From<&IamRead> for IamStatus {
    fn from(r: &IamRead) -> Self {
        match r {
            IamRead::ReadRole => IamStatus::ReadRole,
            IamRead::MemberRole => IamStatus::MemberRole,
            IamRead::Fallback { reason } => IamStatus::Fallback {
                reason: reason.clone(),
            },
            IamRead::Unreadable { reason } => IamStatus::Unreadable {
                reason: reason.clone(),
            },
        }
    }
}

/// The root email check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RootEmail {
    /// The domain of the root email (lower case).
    pub domain: String,
    /// `owned` (in `email_domains`), `external` (a finding) or `unchecked` (no
    /// `email_domains`).
    pub check: EmailCheck,
}

/// See [`RootEmail::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailCheck {
    /// The domain is one of `email_domains` (or below one).
    Owned,
    /// The domain is not the company's: its owner can reset the root password.
    External,
    /// `email_domains` is empty: the check is off.
    Unchecked,
}

/// The member role of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MemberRole {
    /// Its name (`OrganizationAccountAccessRole`, or `path/name`).
    pub name: String,
    /// Whether it exists.
    pub exists: bool,
    /// The AWS principals its trust policy allows (empty when it does not exist, or when it was
    /// assumed but ListRoles did not list it).
    pub trusted: Vec<String>,
}

/// One orgctl role in one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GrantAccess {
    /// The grant's name (`orgctl-read` for the read role).
    pub grant: String,
    /// `grant` or `read_role`.
    pub kind: GrantKind,
    /// The role's name.
    pub role_name: String,
    /// Who may assume it: the principals of the live trust policy, or the YAML's while the role
    /// does not exist.
    pub principal: String,
    /// Whether that principal is outside the organization.
    pub external: bool,
    /// The partner (from the desired grant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// Who answers for it (from the desired grant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// What it is.
    pub state: GrantState,
    /// Managed policy ARNs (live when the role exists, else desired).
    pub managed_policies: Vec<String>,
    /// Inline policy names.
    pub inline_policies: Vec<String>,
    /// The permissions boundary's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// Whether the trust policy requires an external id.
    pub external_id: bool,
    /// Whether the trust policy requires MFA.
    pub mfa: bool,
    /// The last day of access (`YYYY-MM-DD`), from the trust policy's `DateLessThan` (or the
    /// desired grant's `expires` when the role does not exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Days from `today` to `expires` (0: today is the last day; negative: ended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// For a role the YAML wants that exists: what differs from the YAML (`trust policy`,
    /// `permissions`), which the next apply changes. What is shown is what IAM has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
}

/// See [`GrantAccess::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// An access grant's role.
    Grant,
    /// orgctl's read role (trusting `organization.plan_role`).
    ReadRole,
}

/// See [`GrantAccess::state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantState {
    /// Desired and present.
    Active,
    /// Desired, not present yet: `apply` creates it.
    Pending,
    /// Present, no longer desired: `apply` deletes it.
    Removing,
    /// Present past its expiry (AWS refuses it already; `apply` deletes it): a finding.
    ExpiredPresent,
    /// Desired, but the account could not be read.
    Unverifiable,
}

/// A role outside `/orgctl/` that a principal outside the organization may assume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExternalTrust {
    /// The role's path.
    pub path: String,
    /// The role's name.
    pub role_name: String,
    /// The outside principals (`*` for anyone).
    pub principals: Vec<String>,
    /// Whether the statement requires an external id.
    pub external_id: bool,
}

/// Something flagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// What and why, in a sentence.
    pub message: String,
}

/// See [`Finding::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The root email is on a domain not in `email_domains`.
    ExternalRootEmail,
    /// A role outside `/orgctl/` trusts a principal outside the organization.
    ExternalTrust,
    /// A grant role is still present past its expiry.
    ExpiredGrantRole,
    /// The account's IAM could not be read.
    Unreadable,
}

// ---------------------------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------------------------

/// The 12-digit account of an AWS principal entry: an ARN (`arn:aws:iam::ID:…`,
/// `arn:aws:sts::ID:…`) or a bare account id. `None` for `*` and anything else.
pub fn principal_account(principal: &str) -> Option<&str> {
    let is_id = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_id(principal) {
        return Some(principal);
    }
    let mut parts = principal.splitn(6, ':');
    let (arn, _partition, _service, _region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (arn == "arn" && is_id(account)).then_some(account)
}

/// The `AWS` principals an `Allow` statement names (a string or a list), `*` for a `Principal`
/// of `"*"`.
fn aws_principals(statement: &Value) -> Vec<String> {
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    match statement.get("Principal") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(p)) => p.get("AWS").map(strings).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

fn is_allow(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// Whether a statement's conditions name a key (any operator), e.g. `sts:ExternalId`.
fn condition_has(statement: &Value, key: &str) -> bool {
    condition_values(statement, key).next().is_some()
}

fn condition_values<'a>(statement: &'a Value, key: &'a str) -> impl Iterator<Item = &'a Value> {
    statement
        .get("Condition")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|ops| ops.values())
        .filter_map(Value::as_object)
        .flat_map(move |m| {
            m.iter()
                .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
}

/// The principals of a trust policy that lie outside the organization, per `Allow` statement
/// that names any, with whether that statement requires an external id.
///
/// What counts: every `AWS` principal (an ARN or a bare account id) whose account is not an
/// account of the organization, and `*` (anyone), unless the statement restricts it with an
/// `aws:PrincipalOrgID` condition naming this organization. An `Allow` statement with
/// `NotPrincipal` (everyone but the principals named) counts as `*`. `Service` principals (AWS
/// services acting for the account) and `Federated` principals (identity providers configured
/// in the account itself) are not accounts and are not reported. A policy that is not JSON
/// reports `(unreadable trust policy)`.
pub fn external_principals(
    trust_policy: &str,
    org_accounts: &BTreeSet<String>,
    organization_id: &str,
) -> Vec<(Vec<String>, bool)> {
    let Ok(policy) = serde_json::from_str::<Value>(trust_policy) else {
        return vec![(vec!["(unreadable trust policy)".to_owned()], false)];
    };
    let mut out = Vec::new();
    for s in statements(&policy).into_iter().filter(|s| is_allow(s)) {
        let org_bound = condition_values(s, "aws:PrincipalOrgID").any(|v| match v {
            Value::String(id) => id == organization_id,
            Value::Array(ids) => ids.iter().all(|i| i.as_str() == Some(organization_id)),
            _ => false,
        });
        let mut outside: Vec<String> = aws_principals(s)
            .into_iter()
            .filter(|p| match principal_account(p) {
                Some(acct) => !org_accounts.contains(acct),
                None => p == "*" && !org_bound,
            })
            .collect();
        if s.get("NotPrincipal").is_some() && !org_bound {
            outside.push("* (NotPrincipal)".to_owned());
        }
        if !outside.is_empty() {
            outside.sort();
            outside.dedup();
            out.push((outside, condition_has(s, "sts:ExternalId")));
        }
    }
    out
}

/// The `AWS` principals every `Allow` statement of a trust policy names.
fn trusted_principals(trust_policy: &str) -> Vec<String> {
    let Ok(policy) = serde_json::from_str::<Value>(trust_policy) else {
        return Vec::new();
    };
    let mut out: Vec<String> = statements(&policy)
        .into_iter()
        .filter(|s| is_allow(s))
        .flat_map(aws_principals)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What a live role's trust policy says about access: principals, external id, MFA, and the
/// end of access (`DateLessThan aws:CurrentTime`).
struct TrustFacts {
    principals: Vec<String>,
    external_id: bool,
    mfa: bool,
    access_ends: Option<String>,
}

fn trust_facts(trust_policy: &str) -> TrustFacts {
    let policy = serde_json::from_str::<Value>(trust_policy).unwrap_or(Value::Null);
    let allows: Vec<&Value> = statements(&policy)
        .into_iter()
        .filter(|s| is_allow(s))
        .collect();
    let access_ends = allows
        .iter()
        .flat_map(|s| {
            s.get("Condition")
                .and_then(|c| c.get("DateLessThan"))
                .and_then(|d| d.get("aws:CurrentTime"))
                .and_then(Value::as_str)
        })
        .min()
        .map(str::to_owned);
    TrustFacts {
        principals: trusted_principals(trust_policy),
        external_id: !allows.is_empty()
            && allows.iter().all(|s| condition_has(s, "sts:ExternalId")),
        mfa: !allows.is_empty()
            && allows
                .iter()
                .all(|s| condition_has(s, "aws:MultiFactorAuthPresent")),
        access_ends,
    }
}

/// The conditions a trust policy puts on assuming the role, as the access review shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TrustConditions {
    /// Every `Allow` statement requires MFA.
    pub(crate) mfa: bool,
    /// Every `Allow` statement requires an external id.
    pub(crate) external_id: bool,
    /// The external ids required (compared, never shown).
    pub(crate) external_ids: Vec<String>,
    /// The end of access (`DateLessThan aws:CurrentTime`), earliest.
    pub(crate) access_ends: Option<String>,
}

pub(crate) fn trust_conditions(trust_policy: &str) -> TrustConditions {
    let facts = trust_facts(trust_policy);
    let policy = serde_json::from_str::<Value>(trust_policy).unwrap_or(Value::Null);
    let mut external_ids: Vec<String> = statements(&policy)
        .into_iter()
        .filter(|s| is_allow(s))
        .flat_map(|s| condition_values(s, "sts:ExternalId").map(Value::to_string))
        .collect();
    external_ids.sort();
    external_ids.dedup();
    TrustConditions {
        mfa: facts.mfa,
        external_id: facts.external_id,
        external_ids,
        access_ends: facts.access_ends,
    }
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

fn date(text: &str) -> Option<jiff::civil::Date> {
    text.get(..10)?.parse().ok()
}

/// The last day of access for an `access_ends` instant (`2027-07-01T00:00:00Z` → `2027-06-30`;
/// an instant later in a day leaves that day as the last one).
fn last_day(access_ends: &str) -> Option<String> {
    let day = date(access_ends)?;
    let midnight = access_ends
        .get(10..)
        .is_none_or(|rest| rest.is_empty() || rest.starts_with("T00:00:00"));
    let last = if midnight { day.yesterday().ok()? } else { day };
    Some(last.to_string())
}

/// Days from `today` to `last` (0 when `last` is today).
fn days_between(today: &str, last: &str) -> Option<i64> {
    let (t, l) = (date(today)?, date(last)?);
    let span = t.until((jiff::Unit::Day, l)).ok()?;
    Some(i64::from(span.get_days()))
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

/// The live OU tree: id → path.
fn live_ou_paths(live: &LiveState) -> HashMap<String, String> {
    let by_id: HashMap<&str, (&str, &str)> = live
        .ous
        .iter()
        .map(|o| (o.id.as_str(), (o.name.as_str(), o.parent_id.as_str())))
        .collect();
    let mut paths = HashMap::new();
    paths.insert(live.organization.root_id.clone(), "/".to_owned());
    for ou in &live.ous {
        let mut names = Vec::new();
        let mut at = ou.id.as_str();
        let mut guard = 0;
        while let Some((name, parent)) = by_id.get(at) {
            names.push(*name);
            at = parent;
            guard += 1;
            if guard > 64 {
                break;
            }
        }
        let path = names
            .iter()
            .rev()
            .fold("/".to_owned(), |p, n| child_path(&p, n));
        paths.insert(ou.id.clone(), path);
    }
    paths
}

/// The live account ids each desired ACTIVE account name stands for (by id when given, else by
/// email).
fn desired_account_ids(desired: &DesiredState, live: &LiveState) -> BTreeMap<String, String> {
    let by_email: HashMap<String, &str> = live
        .accounts
        .iter()
        .map(|a| (a.email.to_lowercase(), a.id.as_str()))
        .collect();
    desired
        .accounts
        .values()
        .filter(|a| a.lifecycle == Lifecycle::Active)
        .filter_map(|a| {
            let id = match &a.id {
                Some(id) => live
                    .accounts
                    .iter()
                    .any(|l| &l.id == id)
                    .then(|| id.clone()),
                None => by_email
                    .get(&a.email.to_lowercase())
                    .map(|s| (*s).to_owned()),
            }?;
            Some((a.name.clone(), id))
        })
        .collect()
}

/// The live accounts a grant targets (ids): named accounts and every account at or below each
/// target OU (desired accounts by their desired OU, accounts the YAML does not list by their
/// live OU), minus exclusions, ACTIVE member accounts only. An expired grant has none. The
/// plan's own expansion, so the review and the plan never disagree.
pub fn grant_targets(
    grant: &GrantSpec,
    desired: &DesiredState,
    live: &LiveState,
    today: &str,
) -> BTreeSet<String> {
    crate::planner::grants::grant_target_ids(desired, live, grant, today)
}

// ---------------------------------------------------------------------------------------------
// The review
// ---------------------------------------------------------------------------------------------

/// What orgctl wants in one account: role name (lower case) → the role.
struct Wanted<'a> {
    grant: Option<&'a GrantSpec>,
    role_name: String,
}

/// Reviews every account of `live` (or only `only`, an account id), judging expiry against
/// `today` (`YYYY-MM-DD`).
pub fn review(
    desired: &DesiredState,
    live: &LiveState,
    iam: &[AccountIam],
    today: &str,
    only: Option<&str>,
) -> AccessReport {
    let org_accounts: BTreeSet<String> = live.accounts.iter().map(|a| a.id.clone()).collect();
    let org_id = live.organization.id.as_str();
    let mgmt = live.organization.management_account_id.as_str();
    let ou_paths = live_ou_paths(live);
    let iam_by_account: HashMap<&str, &AccountIam> =
        iam.iter().map(|a| (a.account_id.as_str(), a)).collect();
    let plan_role = desired.organization.plan_role.as_deref();

    // Desired roles per account.
    let mut wanted: HashMap<String, BTreeMap<String, Wanted<'_>>> = HashMap::new();
    for grant in desired.grants.values() {
        for id in grant_targets(grant, desired, live, today) {
            wanted.entry(id).or_default().insert(
                grant.role_name.to_lowercase(),
                Wanted {
                    grant: Some(grant),
                    role_name: grant.role_name.clone(),
                },
            );
        }
    }
    if plan_role.is_some() {
        let mut read_accounts: BTreeSet<String> =
            desired_account_ids(desired, live).into_values().collect();
        read_accounts.extend(wanted.keys().cloned());
        for id in read_accounts {
            let active = live
                .accounts
                .iter()
                .any(|a| a.id == id && a.status == AccountStatus::Active);
            if active && id != mgmt {
                wanted.entry(id).or_default().insert(
                    READ_ROLE_NAME.to_lowercase(),
                    Wanted {
                        grant: None,
                        role_name: READ_ROLE_NAME.to_owned(),
                    },
                );
            }
        }
    }

    let mut accounts: Vec<AccountAccess> = live
        .accounts
        .iter()
        .filter(|a| only.is_none_or(|o| o == a.id))
        .map(|a| {
            let management = a.id == mgmt;
            let read = iam_by_account.get(a.id.as_str()).copied();
            let iam_status = match (read, management) {
                (_, true) => IamStatus::NotRead {
                    reason: "the management account: orgctl reads IAM in member accounts only"
                        .to_owned(),
                },
                (Some(r), false) => IamStatus::from(&r.read),
                (None, false) if a.status.is_closed() => IamStatus::NotRead {
                    reason: format!("the account is {}", status_word(a.status)),
                },
                (None, false) => IamStatus::NotRead {
                    reason: "not read".to_owned(),
                },
            };
            let readable = read.filter(|r| r.read.is_readable());
            let mut findings = Vec::new();

            // Root email.
            let domain = a
                .email
                .rsplit_once('@')
                .map(|(_, d)| d.to_lowercase())
                .unwrap_or_default();
            let check = if desired.organization.email_domains.is_empty() {
                EmailCheck::Unchecked
            } else if desired
                .organization
                .email_domains
                .iter()
                .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
            {
                EmailCheck::Owned
            } else {
                findings.push(Finding {
                    kind: FindingKind::ExternalRootEmail,
                    message: format!(
                        "the root email {} is on {domain}, not a domain of the company \
                         (organization.email_domains): whoever controls {domain} can reset \
                         the root user's password",
                        a.email
                    ),
                });
                EmailCheck::External
            };

            if let IamStatus::Unreadable { reason } = &iam_status {
                findings.push(Finding {
                    kind: FindingKind::Unreadable,
                    message: format!(
                        "IAM could not be read ({reason}): who can reach this account is unknown"
                    ),
                });
            }

            // Member role.
            let member_role = readable.map(|r| {
                let name = &desired.organization.member_role;
                let (path, short) = match name.rsplit_once('/') {
                    Some((p, n)) => (format!("/{p}/"), n),
                    None => ("/".to_owned(), name.as_str()),
                };
                let role = r
                    .roles
                    .iter()
                    .find(|x| x.path == path && x.name.eq_ignore_ascii_case(short));
                // Reached through it: it exists, listed or not (a sandbox lists no role
                // outside /orgctl/).
                let reached = matches!(r.read, IamRead::MemberRole | IamRead::Fallback { .. });
                MemberRole {
                    name: name.clone(),
                    exists: role.is_some() || reached,
                    trusted: role
                        .map(|x| trusted_principals(&x.trust_policy))
                        .unwrap_or_default(),
                }
            });

            // External trust outside /orgctl/.
            let mut external_trust = Vec::new();
            if let Some(r) = readable {
                for role in r.roles.iter().filter(|x| x.path != ROLE_PATH) {
                    for (principals, external_id) in
                        external_principals(&role.trust_policy, &org_accounts, org_id)
                    {
                        findings.push(Finding {
                            kind: FindingKind::ExternalTrust,
                            message: format!(
                                "role {}{} (outside /orgctl/, not managed by orgctl) trusts {} \
                                 outside the organization{}",
                                role.path,
                                role.name,
                                principals.join(", "),
                                if external_id {
                                    " (with an external id)"
                                } else {
                                    ""
                                }
                            ),
                        });
                        external_trust.push(ExternalTrust {
                            path: role.path.clone(),
                            role_name: role.name.clone(),
                            principals,
                            external_id,
                        });
                    }
                }
            }

            // orgctl's roles.
            let empty = BTreeMap::new();
            let want = wanted.get(&a.id).unwrap_or(&empty);
            let live_roles: BTreeMap<String, &LiveAccessRole> = readable
                .map(|r| {
                    r.access_roles
                        .iter()
                        .filter(|x| x.account_id == a.id)
                        .map(|x| (x.role_name.to_lowercase(), x))
                        .collect()
                })
                .unwrap_or_default();
            let mut unmanaged_roles = Vec::new();
            let mut grants = Vec::new();
            let mut keys: BTreeSet<&String> = want.keys().collect();
            keys.extend(live_roles.keys());
            for key in keys {
                let w = want.get(key);
                let l = live_roles.get(key).copied();
                if let Some(l) = l
                    && !l.is_managed()
                {
                    unmanaged_roles.push(l.role_name.clone());
                    continue;
                }
                let Some(g) = grant_access(
                    w,
                    l,
                    desired,
                    readable.is_some(),
                    &org_accounts,
                    today,
                    plan_role,
                ) else {
                    continue;
                };
                if g.state == GrantState::ExpiredPresent {
                    findings.push(Finding {
                        kind: FindingKind::ExpiredGrantRole,
                        message: format!(
                            "role {} of grant {} is still present although access ended on {} \
                             (AWS refuses new sessions; `orgctl apply` deletes it)",
                            g.role_name,
                            g.grant,
                            g.expires.as_deref().unwrap_or("?")
                        ),
                    });
                }
                grants.push(g);
            }

            AccountAccess {
                id: a.id.clone(),
                name: a.name.clone(),
                email: a.email.clone(),
                ou: ou_paths
                    .get(&a.parent_id)
                    .cloned()
                    .unwrap_or_else(|| "/".to_owned()),
                status: a.status,
                management,
                iam: iam_status,
                root_email: RootEmail { domain, check },
                member_role,
                grants,
                external_trust,
                unmanaged_roles,
                findings,
            }
        })
        .collect();
    accounts.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let summary = AccessSummary {
        accounts: accounts.len(),
        flagged_accounts: accounts.iter().filter(|a| !a.findings.is_empty()).count(),
        findings: accounts.iter().map(|a| a.findings.len()).sum(),
        grants: accounts.iter().map(|a| a.grants.len()).sum(),
    };
    AccessReport {
        format_version: ACCESS_FORMAT_VERSION,
        today: today.to_owned(),
        organization_id: live.organization.id.clone(),
        management_account_id: mgmt.to_owned(),
        email_domains: desired.organization.email_domains.iter().cloned().collect(),
        member_role: desired.organization.member_role.clone(),
        accounts,
        summary,
    }
}

fn status_word(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Active => "active",
        AccountStatus::PendingClosure => "closing",
        AccountStatus::Suspended => "closed (suspended)",
    }
}

/// One orgctl role from what is wanted (`w`) and what is there (`l`).
fn grant_access(
    w: Option<&Wanted<'_>>,
    l: Option<&LiveAccessRole>,
    desired: &DesiredState,
    readable: bool,
    org_accounts: &BTreeSet<String>,
    today: &str,
    plan_role: Option<&str>,
) -> Option<GrantAccess> {
    let read_role = match (w, l) {
        (Some(w), _) => w.grant.is_none(),
        (None, Some(l)) => l.is_read_role(),
        (None, None) => return None,
    };
    // The grant spec: the wanted one, else the one the live role's tag names (even when it no
    // longer targets this account, or has expired).
    let spec = w.and_then(|w| w.grant).or_else(|| {
        l.and_then(|l| l.grant())
            .and_then(|g| desired.grants.get(g))
    });
    let facts = l.map(|l| trust_facts(&l.trust_policy));
    let grant = if read_role {
        READ_ROLE_NAME.to_owned()
    } else {
        spec.map(|s| s.name.clone())
            .or_else(|| l.and_then(|l| l.grant()).map(str::to_owned))
            .unwrap_or_else(|| "(untagged)".to_owned())
    };
    let role_name = w
        .map(|w| w.role_name.clone())
        .or_else(|| l.map(|l| l.role_name.clone()))
        .unwrap_or_default();
    // What IAM has is who can reach the account; the YAML's principal only while the role does
    // not exist yet.
    let principal = match (w, &facts) {
        (_, Some(f)) => f.principals.join(", "),
        (Some(w), None) if w.grant.is_none() => plan_role.unwrap_or_default().to_owned(),
        (Some(_), None) => spec.map(|s| s.principal.clone()).unwrap_or_default(),
        (None, None) => String::new(),
    };
    let external = match &facts {
        Some(f) => f
            .principals
            .iter()
            .any(|p| principal_account(p).is_none_or(|a| !org_accounts.contains(a))),
        None => principal_account(&principal).is_none_or(|a| !org_accounts.contains(a)),
    };
    // Where a wanted role exists but differs from the YAML: what the next apply changes.
    let mut differs = Vec::new();
    if let (Some(w), Some(l)) = (w, l) {
        let (trust, managed, inline, boundary) = match (w.grant, plan_role) {
            (Some(g), _) => (
                g.trust_policy(),
                g.managed_policies.clone(),
                g.inline_policies.clone(),
                g.permissions_boundary.clone(),
            ),
            (None, Some(plan_role)) => (
                orgctl_model::trust_policy(plan_role, None, false, None),
                BTreeSet::new(),
                BTreeMap::from([(
                    orgctl_model::READ_ROLE_POLICY_NAME.to_owned(),
                    orgctl_model::READ_ROLE_POLICY.to_owned(),
                )]),
                None,
            ),
            (None, None) => (
                l.trust_policy.clone(),
                BTreeSet::new(),
                BTreeMap::new(),
                None,
            ),
        };
        let canonical =
            |t: &str| orgctl_model::canonical_json_str(t).unwrap_or_else(|| t.to_owned());
        if canonical(&trust) != canonical(&l.trust_policy) {
            differs.push("trust policy".to_owned());
        }
        let live_inline: BTreeMap<String, String> = l
            .inline_policies
            .iter()
            .map(|(k, v)| (k.clone(), canonical(v)))
            .collect();
        let want_inline: BTreeMap<String, String> = inline
            .iter()
            .map(|(k, v)| (k.clone(), canonical(v)))
            .collect();
        if managed != l.managed_policies
            || want_inline != live_inline
            || boundary != l.permissions_boundary
        {
            differs.push("permissions".to_owned());
        }
    }
    let expires = match (&facts, spec) {
        (Some(f), _) => f.access_ends.as_deref().and_then(last_day),
        (None, Some(s)) => s.expires.clone(),
        _ => None,
    };
    let days_left = expires.as_deref().and_then(|e| days_between(today, e));
    let ended = days_left.is_some_and(|d| d < 0);
    let state = match (w, l) {
        (Some(_), _) if !readable => GrantState::Unverifiable,
        (_, Some(_)) if ended => GrantState::ExpiredPresent,
        (None, Some(_)) if spec.is_some_and(|s| s.is_expired(today)) => GrantState::ExpiredPresent,
        (Some(_), Some(_)) => GrantState::Active,
        (Some(_), None) => GrantState::Pending,
        (None, _) => GrantState::Removing,
    };
    let (managed_policies, inline_policies, permissions_boundary) = match (l, spec) {
        (Some(l), _) => (
            l.managed_policies.iter().cloned().collect(),
            l.inline_policies.keys().cloned().collect(),
            l.permissions_boundary.clone(),
        ),
        (None, Some(s)) => (
            s.managed_policies.iter().cloned().collect(),
            s.inline_policies.keys().cloned().collect(),
            s.permissions_boundary.clone(),
        ),
        (None, None) if read_role => (
            Vec::new(),
            vec![orgctl_model::READ_ROLE_POLICY_NAME.to_owned()],
            None,
        ),
        (None, None) => (Vec::new(), Vec::new(), None),
    };
    let (external_id, mfa) = match (&facts, spec) {
        (Some(f), _) => (f.external_id, f.mfa),
        (None, Some(s)) => (s.external_id.is_some(), s.mfa),
        _ => (false, false),
    };
    Some(GrantAccess {
        grant,
        kind: if read_role {
            GrantKind::ReadRole
        } else {
            GrantKind::Grant
        },
        role_name,
        principal,
        external,
        partner: spec.map(|s| s.partner.clone()),
        owner: spec.map(|s| s.owner.clone()),
        state,
        managed_policies,
        inline_policies,
        permissions_boundary,
        external_id,
        mfa,
        expires,
        days_left,
        differs,
    })
}

/// The JSON Schema of `orgctl access --format json`, as committed in
/// `docs/access.schema.json`.
pub fn json_schema() -> String {
    orgctl_model::schema::to_text(schemars::schema_for!(AccessReport))
}

#[cfg(test)]
#[path = "access_report_tests.rs"]
mod tests;

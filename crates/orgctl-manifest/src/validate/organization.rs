//! The `organization` block and its protected accounts.

use std::collections::{BTreeSet, HashMap};

use orgctl_model::{PolicyType, SourceLoc};

use super::accounts::Accounts;
use super::checker::Checker;
use super::rules::{
    DEFAULT_POLICIES_PER_TARGET, MAX_POLICIES_PER_TARGET, MIN_POLICIES_PER_TARGET, is_account_id,
};
use crate::load::Item;
use crate::raw::{RawLifecycle, RawOrganization};
use crate::text::invisible_problem;
use orgctl_model::{DEFAULT_MEMBER_ROLE, MANAGED_BY_KEY};

use super::rules::{domain_problem, iam_name_problem};

/// Why `role` is not a member role (an IAM role name, or a path and name), if it is not.
fn member_role_problem(role: &str) -> Option<String> {
    let role = role.strip_prefix('/').unwrap_or(role);
    if role.is_empty() {
        return Some(
            "member_role is empty: give an IAM role name such as \
            OrganizationAccountAccessRole"
                .to_owned(),
        );
    }
    if role.starts_with("arn:") {
        return Some(format!(
            "`{role}` is an ARN: member_role is the role's name (or path and name) in every \
             member account, such as OrganizationAccountAccessRole"
        ));
    }
    let segments: Vec<&str> = role.split('/').collect();
    let (name, path) = segments.split_last()?;
    if let Some(problem) = iam_name_problem("role name", name, 64) {
        return Some(problem);
    }
    for p in path {
        if let Some(problem) = iam_name_problem("role path segment", p, 512) {
            return Some(problem);
        }
    }
    None
}

/// Why `arn` is not a role ARN in the management account `management`, if it is not.
fn plan_role_problem(arn: &str, management: &str) -> Option<String> {
    let want = "an IAM role ARN in the management account, such as \
        `arn:aws:iam::123456789012:role/orgctl-plan`";
    let Some(parsed) = super::rules::parse_iam_arn(arn) else {
        return Some(format!("`{arn}` is not {want}"));
    };
    if parsed.kind != "role" {
        return Some(format!("`{arn}` is not a role: plan_role is {want}"));
    }
    if parsed.account != management {
        return Some(format!(
            "`{arn}` is in account {}, not the management account {management}: plan_role is \
             the role in the management account that runs `orgctl plan`",
            parsed.account
        ));
    }
    None
}

/// The organization block's settings, checked.
pub(super) struct OrgSettings {
    /// The management account's id.
    pub(super) management_account_id: String,
    /// The policy types to enable.
    pub(super) enabled: BTreeSet<PolicyType>,
    /// Policies of one type per target.
    pub(super) limit: u32,
    /// Tag keys orgctl neither sets nor removes.
    pub(super) ignore_tag_keys: BTreeSet<String>,
    /// Whether FullAWSAccess stays on the root.
    pub(super) root_full_aws_access: bool,
    /// The member role (name or path/name).
    pub(super) member_role: String,
    /// The plan role's ARN.
    pub(super) plan_role: Option<String>,
    /// The company's email domains, lower case.
    pub(super) email_domains: BTreeSet<String>,
    /// Where the block is.
    pub(super) source: SourceLoc,
}

/// Checks the `organization` block (exactly one across the files).
pub(super) fn check(checker: &mut Checker<'_>) -> Option<OrgSettings> {
    let parsed = checker.parsed;
    let Some(first) = parsed.organizations.first() else {
        if parsed.broken.organization {
            return None;
        }
        let at = parsed.loc(0, 1, 1);
        checker.error(
            at,
            "organization",
            "no `organization` block in any file: exactly one file must have one, with at least \
             `management_account_id`",
        );
        return None;
    };
    let first_at = checker.at(first.file, &first.raw);
    for other in &parsed.organizations[1..] {
        checker.error_related(
            checker.at(other.file, &other.raw),
            "organization",
            "a second `organization` block: exactly one file may have one",
            first_at.clone(),
        );
    }
    let file = first.file;
    let org: &RawOrganization = &first.raw.value;
    let id = &org.management_account_id;
    if !is_account_id(&id.value) {
        checker.error(
            checker.at(file, id),
            "organization.management_account_id",
            format!(
                "`{}` is not an account id: it must be 12 digits, in quotes",
                id.value
            ),
        );
    }
    let mut enabled = BTreeSet::new();
    for t in &org.enabled_policy_types {
        if !enabled.insert(t.value.to_model()) {
            checker.warning(
                checker.at(file, t),
                "organization.enabled_policy_types",
                format!("`{}` is listed twice", t.value.as_yaml()),
            );
        }
    }
    let limit = match &org.policies_per_target_limit {
        None => DEFAULT_POLICIES_PER_TARGET,
        Some(l) => {
            if !(MIN_POLICIES_PER_TARGET..=MAX_POLICIES_PER_TARGET).contains(&l.value) {
                checker.error(
                    checker.at(file, l),
                    "organization.policies_per_target_limit",
                    format!(
                        "{} is out of range: allowed are {MIN_POLICIES_PER_TARGET} to \
                         {MAX_POLICIES_PER_TARGET} (AWS's default quota is 5; replacing a \
                         policy needs room for 2)",
                        l.value
                    ),
                );
            }
            l.value
        }
    };
    let mut ignore_tag_keys = BTreeSet::new();
    for k in &org.ignore_tag_keys {
        let n = k.value.chars().count();
        if n == 0 || n > 128 {
            checker.error(
                checker.at(file, k),
                "organization.ignore_tag_keys",
                format!("tag key has {n} characters; AWS allows 1 to 128"),
            );
        }
        if k.value == MANAGED_BY_KEY {
            checker.error(
                checker.at(file, k),
                "organization.ignore_tag_keys",
                format!("`{MANAGED_BY_KEY}` is orgctl's own tag and cannot be ignored"),
            );
        }
        if let Some(problem) = invisible_problem("tag key", &k.value) {
            checker.error(checker.at(file, k), "organization.ignore_tag_keys", problem);
        }
        if !ignore_tag_keys.insert(k.value.clone()) {
            checker.warning(
                checker.at(file, k),
                "organization.ignore_tag_keys",
                format!("`{}` is listed twice", k.value),
            );
        }
    }
    let member_role = match &org.member_role {
        None => DEFAULT_MEMBER_ROLE.to_owned(),
        Some(r) => {
            if let Some(problem) = member_role_problem(&r.value) {
                checker.error(checker.at(file, r), "organization.member_role", problem);
            }
            r.value.clone()
        }
    };
    let plan_role = org.plan_role.as_ref().map(|r| {
        if let Some(problem) = plan_role_problem(&r.value, &id.value) {
            checker.error(checker.at(file, r), "organization.plan_role", problem);
        }
        r.value.clone()
    });
    let mut email_domains = BTreeSet::new();
    for d in &org.email_domains {
        let folded = d.value.trim().to_ascii_lowercase();
        if let Some(problem) = domain_problem(&d.value) {
            checker.error(checker.at(file, d), "organization.email_domains", problem);
        } else if !email_domains.insert(folded) {
            checker.warning(
                checker.at(file, d),
                "organization.email_domains",
                format!(
                    "`{}` is listed twice (domains compare case-insensitively)",
                    d.value
                ),
            );
        }
    }
    Some(OrgSettings {
        management_account_id: id.value.clone(),
        enabled,
        limit,
        ignore_tag_keys,
        root_full_aws_access: org.root_full_aws_access.as_ref().is_none_or(|f| f.value),
        member_role,
        plan_role,
        email_domains,
        source: first_at,
    })
}

/// Checks `protected_accounts` against the accounts, and that no protected account is closed;
/// returns the protected account ids.
pub(super) fn protected_accounts(
    checker: &mut Checker<'_>,
    accounts: &Accounts<'_>,
) -> BTreeSet<String> {
    let parsed = checker.parsed;
    let mut protected: BTreeSet<String> = BTreeSet::new();
    // Account name → where it is listed as protected.
    let mut protected_names: HashMap<&str, SourceLoc> = HashMap::new();
    if let Some(first) = parsed.organizations.first() {
        let file = first.file;
        for entry in &first.raw.value.protected_accounts {
            let at = checker.at(file, entry);
            let value = entry.value.as_str();
            let field = "organization.protected_accounts";
            if is_account_id(value) {
                if !protected.insert(value.to_owned()) {
                    checker.warning(at, field, format!("`{value}` is listed twice"));
                }
                continue;
            }
            match accounts.info.get(value) {
                None if parsed.broken.accounts => {}
                None => checker.error(
                    at,
                    field,
                    format!(
                        "no account named `{value}` in `accounts`; protected_accounts takes \
                         account names or 12-digit account ids"
                    ),
                ),
                Some(info) => {
                    protected_names.insert(value, at.clone());
                    match &info.id {
                        Some(id) => {
                            if !protected.insert((*id).to_owned()) {
                                checker.warning(
                                    at,
                                    field,
                                    format!("`{value}` ({id}) is listed twice"),
                                );
                            }
                        }
                        None => checker.error(
                            at,
                            field,
                            format!(
                                "protected account `{value}` needs an id: orgctl can only \
                                 protect an account it can identify; add its `id`"
                            ),
                        ),
                    }
                }
            }
        }
    }
    for Item { file, index, raw } in &parsed.accounts {
        let account = &raw.value;
        let Some(lifecycle) = &account.lifecycle else {
            continue;
        };
        if lifecycle.value != RawLifecycle::Closed {
            continue;
        }
        let by_id = account
            .id
            .as_ref()
            .is_some_and(|i| protected.contains(&i.value));
        let by_name = protected_names.get(account.name.value.as_str());
        if by_id || by_name.is_some() {
            let msg = format!(
                "account `{}` is protected (organization.protected_accounts) and cannot be \
                 closed",
                account.name.value
            );
            let at = checker.at(*file, lifecycle);
            let field = format!("accounts[{index}].lifecycle");
            match by_name {
                Some(r) => {
                    let r = r.clone();
                    checker.error_related(at, field, msg, r);
                }
                None => checker.error(at, field, msg),
            }
        }
    }
    protected
}

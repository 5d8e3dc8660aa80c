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
use orgctl_model::MANAGED_BY_KEY;

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
    Some(OrgSettings {
        management_account_id: id.value.clone(),
        enabled,
        limit,
        ignore_tag_keys,
        root_full_aws_access: org.root_full_aws_access.as_ref().is_none_or(|f| f.value),
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
                            if !protected.insert(id.clone()) {
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

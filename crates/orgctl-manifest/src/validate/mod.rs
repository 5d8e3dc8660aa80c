//! Semantic checks on the merged files and the mapping to [`DesiredState`].
//!
//! Every check runs and reports, so one run lists every problem: uniqueness (names, emails,
//! ids, paths; both places named), references (OUs, accounts, targets, protected accounts),
//! AWS's limits (lengths, tags, document sizes, policies per target) and orgctl's own safety
//! rules (protected and management accounts are never closed, no target is left without an
//! SCP). Lookups go through hash maps, so the cost grows linearly with the organization.

mod accounts;
mod checker;
mod checks;
mod docs;
mod grants;
mod organization;
mod ous;
mod policies;
pub(crate) mod rules;
mod targets;

use std::collections::HashSet;

use orgctl_model::{DesiredState, OrganizationSpec, PolicyType};

pub use self::checks::{ALWAYS_ON_RULE, CHECK_RULES, DEFAULT_MAX_GRANT_DAYS};
pub use self::grants::{
    MAX_INLINE_CHARS, MAX_MANAGED_POLICIES, MAX_TRUST_POLICY_CHARS, MIN_EXTERNAL_ID_CHARS,
};
pub use self::rules::{
    DEFAULT_POLICIES_PER_TARGET, GRANT_ROLE_PREFIX, MAX_OU_DEPTH, MAX_POLICIES_PER_TARGET,
    MAX_TAGS, MIN_POLICIES_PER_TARGET, default_role_name, email_problem, is_account_id, is_ou_id,
    ou_path_segments,
};
use crate::diag::Diagnostic;
use crate::load::Parsed;
use checker::Checker;

pub(super) fn type_words(t: PolicyType) -> &'static str {
    match t {
        PolicyType::ServiceControlPolicy => "service control policies",
        PolicyType::TagPolicy => "tag policies",
    }
}

pub(super) fn type_singular(t: PolicyType) -> &'static str {
    match t {
        PolicyType::ServiceControlPolicy => "service control policy",
        PolicyType::TagPolicy => "tag policy",
    }
}

pub(super) fn yaml_type(t: PolicyType) -> &'static str {
    match t {
        PolicyType::ServiceControlPolicy => "service_control_policy",
        PolicyType::TagPolicy => "tag_policy",
    }
}

/// Checks everything and builds the desired state when there is no error. The sections run in
/// order, each handing the next what it needs: the organization settings, the OUs, the
/// accounts, the protected accounts, the policies, the rules across targets, the checks block
/// and the grants. `today` is the date the grant checks judge expiries against (none: those
/// checks are skipped).
pub(crate) fn validate(
    parsed: Parsed,
    today: Option<jiff::civil::Date>,
) -> (Option<DesiredState>, Vec<Diagnostic>) {
    let mut checker = Checker::new(&parsed);
    let org = organization::check(&mut checker);
    let ignored: HashSet<&str> = org
        .as_ref()
        .map(|o| o.ignore_tag_keys.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let ous = ous::check(&mut checker, &ignored);
    let accounts = accounts::check(&mut checker, org.as_ref(), &ous, &ignored);
    let protected = organization::protected_accounts(&mut checker, &accounts);
    let policies = policies::check(&mut checker, org.as_ref(), &ous, &accounts, &ignored);
    let limit = org
        .as_ref()
        .map_or(DEFAULT_POLICIES_PER_TARGET, |o| o.limit);
    targets::check(&mut checker, limit, &ous, &accounts, &policies);
    let checks = checks::check(&mut checker);
    let grants = grants::check(&mut checker, org.as_ref(), &ous, &accounts, &checks, today);

    let mut all = parsed.diagnostics.clone();
    all.append(&mut checker.diagnostics);
    all.sort();
    all.dedup();
    let failed = all.iter().any(|d| d.severity == crate::Severity::Error);
    let desired = match org {
        Some(o) if !failed => Some(DesiredState {
            organization: OrganizationSpec {
                management_account_id: o.management_account_id,
                enabled_policy_types: o.enabled,
                protected_accounts: protected,
                policies_per_target_limit: o.limit,
                ignore_tag_keys: o.ignore_tag_keys,
                root_full_aws_access: o.root_full_aws_access,
                member_role: o.member_role,
                plan_role: o.plan_role,
                email_domains: o.email_domains,
                source: o.source,
            },
            ous: ous.specs,
            accounts: accounts.specs,
            policies: policies.specs,
            grants,
        }),
        _ => None,
    };
    (desired, all)
}

/// A date `YYYY-MM-DD` of the calendar (`2026-02-31` is none).
pub(crate) fn parse_date(s: &str) -> Option<jiff::civil::Date> {
    grants::parse_date(s)
}

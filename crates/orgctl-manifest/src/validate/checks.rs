//! The `checks` block: the safety rules on grants, which ones are switched off (each with a
//! reason), and `max_grant_days`.

use std::collections::HashSet;

use super::checker::Checker;

/// The default of `checks.max_grant_days`.
pub const DEFAULT_MAX_GRANT_DAYS: u32 = 365;
/// The largest `checks.max_grant_days`.
pub const MAX_MAX_GRANT_DAYS: u32 = 3650;

/// The rule that is always on: no grant on the management account or the root.
pub const ALWAYS_ON_RULE: &str = "management-account";

/// The rules of the checks, each by its stable id with what it refuses. Every rule is on by
/// default and may be switched off in `checks.disable` with a reason.
pub const CHECK_RULES: [(&str, &str); 5] = [
    (
        "external-expires",
        "an external grant (its principal's account is neither the management account nor an \
         account id listed in `accounts`) needs `expires`",
    ),
    (
        "external-id",
        "an external grant needs `external_id` (AWS's protection against the confused deputy)",
    ),
    (
        "external-id-strength",
        "an `external_id` has at least 8 characters and is not an account id (12 digits): \
         anything easier to guess does not prevent a confused deputy",
    ),
    (
        "admin-on-production",
        "an external grant gives no administrator access (`AdministratorAccess`, or an inline \
         statement allowing action `*` on resource `*`) on accounts below an OU marked \
         `production: true`, unless the grant says `allow_admin_on_production: <reason>`",
    ),
    (
        "max-grant-days",
        "a grant's `expires` is at most `checks.max_grant_days` (default 365) days after today",
    ),
];

/// The checked `checks` block.
pub(super) struct Checks {
    /// The longest a grant may last, in days.
    pub(super) max_grant_days: u32,
    /// The rules switched off.
    pub(super) disabled: HashSet<&'static str>,
}

impl Checks {
    /// Whether a rule is on.
    pub(super) fn on(&self, rule: &str) -> bool {
        !self.disabled.contains(rule)
    }
}

/// Checks the `checks` block (at most one across the files).
pub(super) fn check(checker: &mut Checker<'_>) -> Checks {
    let parsed = checker.parsed;
    let mut out = Checks {
        max_grant_days: DEFAULT_MAX_GRANT_DAYS,
        disabled: HashSet::new(),
    };
    let Some(first) = parsed.checks.first() else {
        return out;
    };
    let first_at = checker.at(first.file, &first.raw);
    for other in &parsed.checks[1..] {
        checker.error_related(
            checker.at(other.file, &other.raw),
            "checks",
            "a second `checks` block: at most one file may have one",
            first_at.clone(),
        );
    }
    let file = first.file;
    let block = &first.raw.value;
    if let Some(days) = &block.max_grant_days {
        if (1..=MAX_MAX_GRANT_DAYS).contains(&days.value) {
            out.max_grant_days = days.value;
        } else {
            checker.error(
                checker.at(file, days),
                "checks.max_grant_days",
                format!(
                    "{} is out of range: allowed are 1 to {MAX_MAX_GRANT_DAYS} days",
                    days.value
                ),
            );
        }
    }
    for (i, entry) in block.disable.iter().enumerate() {
        let field = |f: &str| format!("checks.disable[{i}].{f}");
        let rule = &entry.value.rule;
        let reason = &entry.value.reason;
        if reason.value.trim().is_empty() {
            checker.error(
                checker.at(file, reason),
                field("reason"),
                "the reason is empty: say why the rule is off (reviewers read it)",
            );
        }
        if rule.value == ALWAYS_ON_RULE {
            checker.error(
                checker.at(file, rule),
                field("rule"),
                format!(
                    "rule `{ALWAYS_ON_RULE}` cannot be switched off: grants never reach the \
                     management account or the root"
                ),
            );
            continue;
        }
        match CHECK_RULES.iter().find(|(id, _)| *id == rule.value) {
            Some((id, _)) => {
                if !out.disabled.insert(id) {
                    checker.warning(
                        checker.at(file, rule),
                        field("rule"),
                        format!("rule `{id}` is switched off twice"),
                    );
                }
            }
            None => checker.error(
                checker.at(file, rule),
                field("rule"),
                format!(
                    "unknown rule `{}`; the rules are: {}",
                    rule.value,
                    CHECK_RULES
                        .iter()
                        .map(|(id, _)| *id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    out
}

//! The `grants` lists: who may assume which role where, with what, until when; IAM's limits;
//! role names unique per account; and the checks of the `checks` block.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use orgctl_model::{
    GrantSpec, GrantTarget, Lifecycle, READ_ROLE_NAME, ROOT_PATH, SourceLoc, canonical_json,
    trust_policy,
};
use serde_json::Value;

use super::accounts::Accounts;
use super::checker::Checker;
use super::checks::{ALWAYS_ON_RULE, Checks};
use super::docs;
use super::organization::OrgSettings;
use super::ous::Ous;
use super::rules::{
    default_role_name, external_id_problem, iam_name_problem, is_account_id, managed_policy_arn,
    parse_iam_arn, parse_session,
};
use crate::document::identity_problems;
use crate::load::Item;
use crate::node::Located;
use crate::raw::RawGrant;
use crate::text::invisible_problem;

/// IAM's limit on managed policies attached to one role.
pub const MAX_MANAGED_POLICIES: usize = 10;
/// IAM's limit on the inline policies of one role, in characters (all documents together,
/// without whitespace).
pub const MAX_INLINE_CHARS: usize = 10_240;
/// IAM's limit on a role's trust policy, in characters without whitespace.
pub const MAX_TRUST_POLICY_CHARS: usize = 2_048;
/// The shortest external id the checks accept (rule `external-id-strength`).
pub const MIN_EXTERNAL_ID_CHARS: usize = 8;

/// How rule errors end: which rule, and how to switch it off.
fn rule_hint(rule: &str) -> String {
    format!("(rule `{rule}`; switch it off in `checks.disable` with a reason)")
}

/// Whether `p` is the AWS managed AdministratorAccess policy.
fn is_administrator_access(arn: &str) -> bool {
    arn.strip_prefix("arn:")
        .and_then(|r| r.split_once(':'))
        .is_some_and(|(_, r)| r == "iam::aws:policy/AdministratorAccess")
}

/// Whether a value is `*` or a list holding `*`.
fn has_star(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => s == "*",
        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    }
}

/// Whether an identity policy has a statement allowing action `*` on resource `*`.
pub(crate) fn allows_everything(doc: &Value) -> bool {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(s) => vec![s],
        None => Vec::new(),
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && has_star(s.get("Action"))
            && has_star(s.get("Resource"))
            && s.get("Condition").is_none()
    })
}

/// Whether `ou` is `path` or below it.
fn at_or_below(ou: &str, path: &str) -> bool {
    ou == path
        || ou
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether an account in OU `ou` is production: `ou` or an OU above it is marked
/// `production: true`.
pub(crate) fn is_production(ou: &str, production: &HashSet<&str>) -> bool {
    production.iter().any(|p| at_or_below(ou, p))
}

/// Whether an OU target reaches production accounts: the OU is production, or holds a
/// production OU below it.
fn ou_reaches_production(path: &str, production: &HashSet<&str>) -> bool {
    is_production(path, production) || production.iter().any(|p| at_or_below(p, path))
}

/// Whether a principal account is outside the organization as the YAML knows it: neither the
/// management account nor any account id listed in `accounts`.
pub(crate) fn is_external(principal_account: &str, management: &str, ids: &HashSet<&str>) -> bool {
    principal_account != management && !ids.contains(principal_account)
}

/// A date `YYYY-MM-DD` of the calendar.
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    Date::strptime("%Y-%m-%d", s).ok()
}

/// Checks every grant; `today` is the date the date checks use (none: no date checks).
pub(super) fn check(
    checker: &mut Checker<'_>,
    org: Option<&OrgSettings>,
    ous: &Ous<'_>,
    accounts: &Accounts<'_>,
    checks: &Checks,
    today: Option<Date>,
) -> BTreeMap<String, GrantSpec> {
    let parsed = checker.parsed;
    let management = org.map(|o| o.management_account_id.as_str()).unwrap_or("");
    // Only grants need the set of account ids (most states have none).
    let ids: HashSet<&str> = if parsed.grants.is_empty() {
        HashSet::new()
    } else {
        accounts
            .specs
            .values()
            .filter_map(|a| a.id.as_deref())
            .collect()
    };
    let production: HashSet<&str> = ous
        .specs
        .values()
        .filter(|o| o.production)
        .map(|o| o.path.as_str())
        .collect();
    let mut grants: BTreeMap<String, GrantSpec> = BTreeMap::new();
    let mut names: HashMap<&str, SourceLoc> = HashMap::new();
    // (account name, role name in lower case) → (grant, where its role name is).
    let mut roles: HashMap<(String, String), (String, SourceLoc)> = HashMap::new();
    for Item { file, index, raw } in &parsed.grants {
        let (file, index) = (*file, *index);
        let g: &RawGrant = &raw.value;
        let field = |f: &str| format!("grants[{index}].{f}");
        let name = g.name.value.as_str();
        let name_at = checker.at(file, &g.name);
        if let Some(problem) = iam_name_problem("grant name", name, 64) {
            checker.error(name_at.clone(), field("name"), problem);
        }
        let duplicate = names.get(name).cloned();
        if let Some(first) = &duplicate {
            checker.error_related(
                name_at.clone(),
                field("name"),
                format!("grant name `{name}` is used twice"),
                first.clone(),
            );
        } else {
            names.insert(name, name_at.clone());
        }
        let mut text = |key: &str, v: Option<&Located<String>>, min: usize, max: usize| {
            let Some(v) = v else {
                return String::new();
            };
            let n = v.value.chars().count();
            if n < min || n > max {
                checker.error(
                    checker.at(file, v),
                    field(key),
                    format!("`{key}` has {n} characters; allowed are {min} to {max}"),
                );
            }
            let shown = v.value.replace(['\n', '\t'], " ");
            if let Some(problem) = invisible_problem(key, &shown) {
                checker.error(checker.at(file, v), field(key), problem);
            }
            v.value.clone()
        };
        let partner = text("partner", Some(&g.partner), 1, 200);
        let owner = text("owner", Some(&g.owner), 1, 200);
        let ticket_text = text("ticket", g.ticket.as_ref(), 1, 200);
        let reason_text = text("reason", g.reason.as_ref(), 1, 200);
        let description = text("description", g.description.as_ref(), 0, 500);
        let ticket = match (&g.ticket, &g.reason) {
            (Some(_), Some(r)) => {
                checker.error(
                    checker.at(file, r),
                    field("reason"),
                    "give either `ticket` or `reason`, not both",
                );
                ticket_text
            }
            (Some(_), None) => ticket_text,
            (None, Some(_)) => reason_text,
            (None, None) => {
                checker.error(
                    name_at.clone(),
                    field("ticket"),
                    format!(
                        "grant `{name}` has neither `ticket` nor `reason`: say where it was \
                         approved (`ticket`) or why it exists (`reason`)"
                    ),
                );
                String::new()
            }
        };

        // The principal.
        let principal_at = checker.at(file, &g.principal);
        let written = g.principal.value.as_str();
        let (principal, principal_account) = if is_account_id(written) {
            (format!("arn:aws:iam::{written}:root"), written.to_owned())
        } else if let Some(arn) = parse_iam_arn(written) {
            (written.to_owned(), arn.account.to_owned())
        } else {
            checker.error(
                principal_at.clone(),
                field("principal"),
                format!(
                    "`{written}` is not a principal: give a 12-digit account id in quotes, or \
                     the ARN of an IAM role or user such as \
                     `arn:aws:iam::999988887777:role/deploy`"
                ),
            );
            (String::new(), String::new())
        };
        let external =
            !principal_account.is_empty() && is_external(&principal_account, management, &ids);
        if !principal_account.is_empty() && principal_account == management {
            checker.warning(
                principal_at.clone(),
                field("principal"),
                "the principal is in the management account: anyone who can assume it already \
                 reaches the organization; prefer a principal in a member account",
            );
        }

        let external_id = g.external_id.as_ref().map(|e| {
            let at = checker.at(file, e);
            if let Some(problem) = external_id_problem(&e.value) {
                checker.error(at.clone(), field("external_id"), problem);
            } else if checks.on("external-id-strength")
                && (e.value.chars().count() < MIN_EXTERNAL_ID_CHARS || is_account_id(&e.value))
            {
                checker.error(
                    at,
                    field("external_id"),
                    format!(
                        "the external id `{}` is too easy to guess to prevent a confused \
                         deputy: use at least {MIN_EXTERNAL_ID_CHARS} characters and not an \
                         account id {}",
                        e.value,
                        rule_hint("external-id-strength")
                    ),
                );
            }
            e.value.clone()
        });
        if external && external_id.is_none() && checks.on("external-id") {
            checker.error(
                principal_at.clone(),
                field("external_id"),
                format!(
                    "grant `{name}` is external (account {principal_account} is not in this \
                     organization) and has no `external_id`: ask the partner for the external \
                     id they generated for you {}",
                    rule_hint("external-id")
                ),
            );
        }
        let mfa = g.mfa.as_ref().is_some_and(|m| m.value);
        let max_session_secs = match &g.max_session {
            None => 3600,
            Some(s) => parse_session(&s.value).unwrap_or_else(|problem| {
                checker.error(checker.at(file, s), field("max_session"), problem);
                3600
            }),
        };

        // Permissions.
        let perms = &g.permissions.value;
        let mut managed_policies = BTreeSet::new();
        for (i, m) in perms.managed.iter().enumerate() {
            let at = checker.at(file, m);
            let f = format!("grants[{index}].permissions.managed[{i}]");
            match managed_policy_arn(&m.value) {
                Ok(arn) => {
                    if !managed_policies.insert(arn) {
                        checker.warning(at, f, format!("`{}` is listed twice", m.value));
                    }
                }
                Err(problem) => checker.error(at, f, problem),
            }
        }
        if managed_policies.len() > MAX_MANAGED_POLICIES
            && let Some(m) = perms.managed.get(MAX_MANAGED_POLICIES)
        {
            checker.error(
                checker.at(file, m),
                format!("grants[{index}].permissions.managed"),
                format!(
                    "{} managed policies; IAM attaches at most {MAX_MANAGED_POLICIES} to a role",
                    managed_policies.len()
                ),
            );
        }
        let mut inline_policies: BTreeMap<String, String> = BTreeMap::new();
        let mut inline_names: HashMap<String, SourceLoc> = HashMap::new();
        let mut inline_everything = false;
        for (i, p) in perms.inline.iter().enumerate() {
            let prefix = format!("grants[{index}].permissions.inline[{i}]");
            let pname = &p.value.name;
            let pname_at = checker.at(file, pname);
            if let Some(problem) = iam_name_problem("inline policy name", &pname.value, 128) {
                checker.error(pname_at.clone(), format!("{prefix}.name"), problem);
            }
            let folded = pname.value.to_lowercase();
            if let Some(first) = inline_names.get(&folded) {
                checker.error_related(
                    pname_at.clone(),
                    format!("{prefix}.name"),
                    format!(
                        "inline policy name `{}` is used twice in this grant (IAM compares \
                         names case-insensitively)",
                        pname.value
                    ),
                    first.clone(),
                );
            } else {
                inline_names.insert(folded, pname_at);
            }
            let Some(doc) = docs::read(
                checker,
                file,
                p.value.document.as_ref(),
                p.value.document_file.as_ref(),
                &prefix,
                checker.at(file, p),
                format!(
                    "inline policy `{}` has no document: give `document` (inline) or \
                     `document_file` (a JSON file)",
                    pname.value
                ),
                "`{ \"Version\": \"2012-10-17\", \"Statement\": [...] }`",
            ) else {
                continue;
            };
            let grammar_at = doc.related.clone().unwrap_or_else(|| doc.at.clone());
            if let Value::Object(object) = &doc.value {
                for problem in identity_problems(object) {
                    checker.error(
                        grammar_at.clone(),
                        &doc.field,
                        format!("{} is not a valid IAM policy: {problem}", doc.what),
                    );
                }
            }
            inline_everything |= allows_everything(&doc.value);
            inline_policies.insert(pname.value.clone(), canonical_json(&doc.value));
        }
        let inline_chars: usize = inline_policies
            .values()
            .map(|d| d.chars().filter(|c| !c.is_whitespace()).count())
            .sum();
        if inline_chars > MAX_INLINE_CHARS {
            checker.error(
                checker.at(file, &g.permissions),
                format!("grants[{index}].permissions.inline"),
                format!(
                    "the inline policies have {inline_chars} characters together (minified); \
                     IAM allows at most {MAX_INLINE_CHARS} per role"
                ),
            );
        }
        let permissions_boundary = perms.permissions_boundary.as_ref().and_then(|b| {
            managed_policy_arn(&b.value)
                .map_err(|problem| {
                    checker.error(
                        checker.at(file, b),
                        format!("grants[{index}].permissions.permissions_boundary"),
                        problem,
                    );
                })
                .ok()
        });
        if perms.managed.is_empty() && perms.inline.is_empty() {
            checker.error(
                checker.at(file, &g.permissions),
                field("permissions"),
                "the grant gives no permissions: list `managed` policies or `inline` ones",
            );
        }
        let admin =
            managed_policies.iter().any(|a| is_administrator_access(a)) || inline_everything;

        // Targets.
        let mut targets = BTreeSet::new();
        // Account names the grant reaches in the YAML, and whether it reaches production.
        let mut reached: BTreeSet<&str> = BTreeSet::new();
        let mut reaches_production = false;
        if g.targets.is_empty() {
            checker.error(
                name_at.clone(),
                field("targets"),
                format!("grant `{name}` has no targets: list account names or OU paths"),
            );
        }
        for t in &g.targets {
            let at = checker.at(file, t);
            let text = t.value.as_str();
            let always_on = format!("(rule `{ALWAYS_ON_RULE}`, always on)");
            let target = if text == ROOT_PATH || text == "root" {
                checker.error(
                    at.clone(),
                    field("targets"),
                    format!(
                        "`{text}` is the organization root: a grant never reaches the \
                         organization level; target the OUs or accounts below it {always_on}"
                    ),
                );
                None
            } else if is_account_id(text) {
                if text == management {
                    checker.error(
                        at.clone(),
                        field("targets"),
                        format!(
                            "{text} is the management account: a grant never reaches the \
                             organization level {always_on}"
                        ),
                    );
                } else {
                    checker.error(
                        at.clone(),
                        field("targets"),
                        format!(
                            "`{text}` is an account id: targets are account names from \
                             `accounts` or OU paths (to reach an account the YAML does not \
                             list, target its OU)"
                        ),
                    );
                }
                None
            } else if text.starts_with('/') {
                if ous.specs.contains_key(text) {
                    reaches_production |= ou_reaches_production(text, &production);
                    for a in accounts.specs.values() {
                        if at_or_below(&a.ou, text) && a.lifecycle == Lifecycle::Active {
                            reached.insert(a.name.as_str());
                        }
                    }
                    Some(GrantTarget::Ou(text.to_owned()))
                } else {
                    if !parsed.broken.ous {
                        checker.error(
                            at.clone(),
                            field("targets"),
                            format!("target OU `{text}` is not declared in `ous`"),
                        );
                    }
                    None
                }
            } else if let Some(a) = accounts.specs.get(text) {
                if a.id.as_deref().is_some_and(|i| i == management) {
                    checker.error(
                        at.clone(),
                        field("targets"),
                        format!(
                            "account `{text}` is the management account ({management}): a \
                             grant never reaches the organization level {always_on}"
                        ),
                    );
                    None
                } else {
                    reaches_production |= is_production(&a.ou, &production);
                    if a.lifecycle == Lifecycle::Active {
                        reached.insert(a.name.as_str());
                    }
                    Some(GrantTarget::Account(text.to_owned()))
                }
            } else {
                if !parsed.broken.accounts {
                    checker.error(
                        at.clone(),
                        field("targets"),
                        format!(
                            "target `{text}` is not an account name from `accounts`; grant \
                             targets are account names or OU paths starting with `/`"
                        ),
                    );
                }
                None
            };
            if let Some(target) = target
                && !targets.insert(target)
            {
                checker.warning(
                    at,
                    field("targets"),
                    format!("target `{text}` is listed twice"),
                );
            }
        }
        let mut exclude_accounts = BTreeSet::new();
        let mut exclude_ids = BTreeSet::new();
        for x in &g.exclude {
            let at = checker.at(file, x);
            let text = x.value.as_str();
            if is_account_id(text) {
                exclude_ids.insert(text.to_owned());
                reached.retain(|n| {
                    accounts
                        .specs
                        .get(*n)
                        .is_none_or(|a| a.id.as_deref() != Some(text))
                });
            } else if accounts.specs.contains_key(text) {
                exclude_accounts.insert(text.to_owned());
                reached.remove(text);
            } else if !parsed.broken.accounts {
                checker.error(
                    at,
                    field("exclude"),
                    format!(
                        "`{text}` is neither an account name from `accounts` nor a 12-digit \
                         account id"
                    ),
                );
            }
        }

        // The role name.
        let (role_name, role_at, role_field) = match &g.role_name {
            Some(r) => {
                let at = checker.at(file, r);
                if let Some(problem) = iam_name_problem("role name", &r.value, 64) {
                    checker.error(at.clone(), field("role_name"), problem);
                }
                (r.value.clone(), at, field("role_name"))
            }
            None => (default_role_name(name), name_at.clone(), field("name")),
        };
        if role_name.eq_ignore_ascii_case(READ_ROLE_NAME) {
            checker.error(
                role_at.clone(),
                role_field.clone(),
                format!(
                    "the role name `{role_name}` is reserved for orgctl's own read role; give \
                     the grant another name or a `role_name`"
                ),
            );
        }
        if duplicate.is_none() {
            for account in &reached {
                let key = ((*account).to_owned(), role_name.to_lowercase());
                if let Some((other, other_at)) = roles.get(&key) {
                    checker.error_related(
                        role_at.clone(),
                        role_field.clone(),
                        format!(
                            "grants `{other}` and `{name}` both create the role `{role_name}` in \
                             account `{account}` (IAM role names are unique per account, \
                             case-insensitively); give one of them another `role_name`"
                        ),
                        other_at.clone(),
                    );
                    break;
                }
                roles.insert(key, (name.to_owned(), role_at.clone()));
            }
        }

        // Expiry.
        let mut expires = None;
        let mut access_ends = None;
        if let Some(e) = &g.expires {
            let at = checker.at(file, e);
            match parse_date(&e.value) {
                None => checker.error(
                    at,
                    field("expires"),
                    format!(
                        "`{}` is not a date of the calendar written YYYY-MM-DD (such as \
                         2027-06-30)",
                        e.value
                    ),
                ),
                Some(date) => {
                    expires = Some(e.value.clone());
                    access_ends = date
                        .tomorrow()
                        .ok()
                        .map(|d| format!("{}T00:00:00Z", d.strftime("%Y-%m-%d")));
                    if let Some(today) = today {
                        if date < today {
                            checker.warning(
                                at.clone(),
                                field("expires"),
                                format!(
                                    "grant `{name}` expired on {}: `orgctl plan` removes its \
                                     roles; remove the grant from the YAML",
                                    e.value
                                ),
                            );
                        }
                        let limit = today
                            .checked_add(jiff::Span::new().days(i64::from(checks.max_grant_days)))
                            .ok();
                        if checks.on("max-grant-days") && limit.is_some_and(|l| date > l) {
                            checker.error(
                                at,
                                field("expires"),
                                format!(
                                    "{} is more than {} days after today ({}): grants last at \
                                     most checks.max_grant_days {}",
                                    e.value,
                                    checks.max_grant_days,
                                    today.strftime("%Y-%m-%d"),
                                    rule_hint("max-grant-days")
                                ),
                            );
                        }
                    }
                }
            }
        } else if external && checks.on("external-expires") {
            checker.error(
                name_at.clone(),
                field("expires"),
                format!(
                    "grant `{name}` is external (account {principal_account} is not in this \
                     organization) and has no `expires`: give the last day of the access {}",
                    rule_hint("external-expires")
                ),
            );
        }

        // Administrator access on production.
        match &g.allow_admin_on_production {
            Some(reason) if reason.value.trim().is_empty() => checker.error(
                checker.at(file, reason),
                field("allow_admin_on_production"),
                "allow_admin_on_production needs the reason, as text",
            ),
            Some(reason) if !(external && admin && reaches_production) => checker.warning(
                checker.at(file, reason),
                field("allow_admin_on_production"),
                "allow_admin_on_production has no effect: the grant gives no administrator \
                 access to an external principal on production accounts",
            ),
            Some(_) => {}
            None => {
                if external && admin && reaches_production && checks.on("admin-on-production") {
                    checker.error(
                        checker.at(file, &g.permissions),
                        field("permissions"),
                        format!(
                            "grant `{name}` gives an external principal administrator access on \
                             production accounts (below an OU marked `production: true`); say \
                             why with `allow_admin_on_production: <reason>` {}",
                            rule_hint("admin-on-production")
                        ),
                    );
                }
            }
        }

        // IAM's limit on the trust policy.
        let trust = trust_policy(
            &principal,
            external_id.as_deref(),
            mfa,
            access_ends.as_deref(),
        );
        let trust_chars = trust.chars().filter(|c| !c.is_whitespace()).count();
        if trust_chars > MAX_TRUST_POLICY_CHARS {
            checker.error(
                principal_at,
                field("principal"),
                format!(
                    "the role's trust policy would have {trust_chars} characters; IAM allows at \
                     most {MAX_TRUST_POLICY_CHARS} (shorten the external id)"
                ),
            );
        }

        if duplicate.is_none() {
            grants.insert(
                name.to_owned(),
                GrantSpec {
                    name: name.to_owned(),
                    partner,
                    owner,
                    ticket,
                    description,
                    principal,
                    principal_account,
                    external_id,
                    mfa,
                    max_session_secs,
                    managed_policies,
                    inline_policies,
                    permissions_boundary,
                    targets,
                    exclude_accounts,
                    exclude_ids,
                    role_name,
                    expires,
                    access_ends,
                    source: checker.at(file, raw),
                },
            );
        }
    }
    grants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_is_inherited_downwards() {
        let prod: HashSet<&str> = ["/Workloads/Production"].into();
        assert!(is_production("/Workloads/Production", &prod));
        assert!(is_production("/Workloads/Production/Eu", &prod));
        assert!(!is_production("/Workloads/ProductionX", &prod));
        assert!(!is_production("/Workloads", &prod));
        assert!(ou_reaches_production("/Workloads", &prod));
        assert!(!ou_reaches_production("/Workloads/Staging", &prod));
    }

    #[test]
    fn external_means_outside_the_accounts_the_yaml_knows() {
        let ids: HashSet<&str> = ["111111111111"].into();
        assert!(is_external("999988887777", "123456789012", &ids));
        assert!(!is_external("123456789012", "123456789012", &ids));
        assert!(!is_external("111111111111", "123456789012", &ids));
    }

    #[test]
    fn administrator_access_and_star_statements() {
        assert!(is_administrator_access(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(!is_administrator_access(
            "arn:aws:iam::123456789012:policy/AdministratorAccess"
        ));
        let star: Value = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "*"], "Resource": "*"}]});
        assert!(allows_everything(&star));
        let narrow: Value = serde_json::json!({"Version": "2012-10-17", "Statement":
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}});
        assert!(!allows_everything(&narrow));
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-31").is_none());
        assert!(parse_date("2026-2-3").is_none());
    }
}

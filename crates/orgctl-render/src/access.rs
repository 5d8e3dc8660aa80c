//! Renders the access review of `orgctl access` ([`AccessReport`]): terminal text, Markdown and
//! JSON. Everything read from AWS or the YAML is shown with invisible characters escaped (and
//! Markdown's own characters escaped in Markdown).

use std::fmt::Write as _;

use orgctl_model::AccountStatus;
use orgctl_model::text::escape_invisible;
use orgctl_planner::access_report::{
    AccessReport, AccountAccess, EmailCheck, GrantAccess, GrantKind, GrantState, IamStatus,
};

use crate::markdown::{code, escape};

/// Shown text of an input string.
fn t(s: &str) -> String {
    escape_invisible(s).into_owned()
}

/// Markdown text of an input string.
fn m(s: &str) -> String {
    escape(&escape_invisible(s))
}

/// A managed policy as people name it: the AWS managed ones by name, others by ARN.
fn policy_name(arn: &str) -> String {
    match arn.strip_prefix("arn:aws:iam::aws:policy/") {
        Some(name) => t(name),
        None => t(arn),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn state_word(s: GrantState) -> &'static str {
    match s {
        GrantState::Active => "active",
        GrantState::Pending => "not created yet (apply creates it)",
        GrantState::Removing => "no longer granted (apply deletes it)",
        GrantState::ExpiredPresent => "EXPIRED, role still present (apply deletes it)",
        GrantState::Unverifiable => "cannot be verified (account unreadable)",
    }
}

fn iam_text(a: &AccountAccess, member_role: &str) -> String {
    match &a.iam {
        IamStatus::ReadRole => "read through orgctl's read role".to_owned(),
        IamStatus::MemberRole => format!("read through the member role {}", t(member_role)),
        IamStatus::Fallback { reason } => format!(
            "read through the member role {} (the read role failed: {})",
            t(member_role),
            t(reason)
        ),
        IamStatus::Unreadable { reason } => format!("UNREADABLE: {}", t(reason)),
        IamStatus::NotRead { reason } => format!("not read ({})", t(reason)),
    }
}

fn email_text(a: &AccountAccess) -> String {
    let check = match a.root_email.check {
        EmailCheck::Owned => "a company domain".to_owned(),
        EmailCheck::External => format!(
            "NOT a company domain: whoever controls {} can reset the root password",
            t(&a.root_email.domain)
        ),
        EmailCheck::Unchecked => "not checked".to_owned(),
    };
    format!("{} ({check})", t(&a.email))
}

fn permissions_text(g: &GrantAccess) -> String {
    let mut parts: Vec<String> = g.managed_policies.iter().map(|p| policy_name(p)).collect();
    parts.extend(g.inline_policies.iter().map(|p| format!("inline {}", t(p))));
    if let Some(b) = &g.permissions_boundary {
        parts.push(format!("boundary {}", policy_name(b)));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

fn principal_text(g: &GrantAccess) -> String {
    let mut conditions = Vec::new();
    conditions.push(if g.external {
        "outside the organization"
    } else {
        "inside the organization"
    });
    if g.external_id {
        conditions.push("external id required");
    }
    if g.mfa {
        conditions.push("MFA required");
    }
    format!("{} ({})", t(&g.principal), conditions.join(", "))
}

fn expiry_text(g: &GrantAccess) -> String {
    match (&g.expires, g.days_left) {
        (Some(e), Some(d)) if d < 0 => format!(
            "{} (ended {} ago)",
            t(e),
            plural(-d as usize, "day", "days")
        ),
        (Some(e), Some(0)) => format!("{} (today is the last day)", t(e)),
        (Some(e), Some(d)) => format!("{} ({} left)", t(e), plural(d as usize, "day", "days")),
        (Some(e), None) => t(e),
        (None, _) => "never".to_owned(),
    }
}

/// `, but differs from the YAML in its trust policy (…)`, or nothing.
fn differs_text(g: &GrantAccess) -> String {
    if g.differs.is_empty() {
        return String::new();
    }
    format!(
        ", but differs from the YAML in its {} (the next apply changes that)",
        g.differs.join(" and ")
    )
}

fn grant_title(g: &GrantAccess) -> String {
    match g.kind {
        GrantKind::ReadRole => format!("orgctl read role /orgctl/{}", t(&g.role_name)),
        GrantKind::Grant => format!("grant {} (role /orgctl/{})", t(&g.grant), t(&g.role_name)),
    }
}

fn head(r: &AccessReport) -> (String, String) {
    let title = format!(
        "Access review of organization {} (management account {}) on {}",
        t(&r.organization_id),
        t(&r.management_account_id),
        t(&r.today)
    );
    let domains = if r.email_domains.is_empty() {
        "Root email check: off (organization.email_domains is empty).".to_owned()
    } else {
        format!(
            "Root email check: company domains are {}.",
            r.email_domains
                .iter()
                .map(|d| t(d))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    (title, domains)
}

fn summary(r: &AccessReport) -> String {
    let s = &r.summary;
    if s.findings == 0 {
        format!(
            "Access: {} reviewed, {}, nothing flagged.",
            plural(s.accounts, "account", "accounts"),
            plural(s.grants, "orgctl role", "orgctl roles")
        )
    } else {
        format!(
            "Access: {} reviewed, {}, {} flagged in {}.",
            plural(s.accounts, "account", "accounts"),
            plural(s.grants, "orgctl role", "orgctl roles"),
            plural(s.findings, "finding", "findings"),
            plural(s.flagged_accounts, "account", "accounts")
        )
    }
}

/// The review for a terminal.
pub(crate) fn text(r: &AccessReport) -> String {
    let mut out = String::new();
    let (title, domains) = head(r);
    let _ = writeln!(out, "{title}\n{domains}");
    for a in &r.accounts {
        let _ = writeln!(
            out,
            "\n{} {} ({}), {}{}{}",
            if a.findings.is_empty() { "✓" } else { "!" },
            t(&a.name),
            t(&a.id),
            t(&a.ou),
            match a.status {
                AccountStatus::Active => "",
                AccountStatus::PendingClosure => ", PENDING_CLOSURE",
                AccountStatus::Suspended => ", SUSPENDED",
            },
            if a.management {
                ", management account"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "    root email:   {}", email_text(a));
        let _ = writeln!(out, "    IAM:          {}", iam_text(a, &r.member_role));
        if let Some(mr) = &a.member_role {
            let _ = if mr.exists {
                writeln!(
                    out,
                    "    member role:  {} trusts {}",
                    t(&mr.name),
                    if mr.trusted.is_empty() {
                        "(not listed; orgctl reached the account through it)".to_owned()
                    } else {
                        mr.trusted
                            .iter()
                            .map(|p| t(p))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )
            } else {
                writeln!(out, "    member role:  {} does not exist", t(&mr.name))
            };
        }
        if a.grants.is_empty() && a.member_role.is_some() {
            let _ = writeln!(out, "    orgctl roles: none");
        }
        for g in &a.grants {
            let _ = writeln!(
                out,
                "    {}: {}{}",
                grant_title(g),
                state_word(g.state),
                differs_text(g)
            );
            let _ = writeln!(out, "        principal:   {}", principal_text(g));
            if let Some(p) = &g.partner {
                let owner = g.owner.as_deref().map(t).unwrap_or_default();
                let _ = writeln!(out, "        partner:     {} (owner {owner})", t(p));
            }
            let _ = writeln!(out, "        permissions: {}", permissions_text(g));
            if g.kind == GrantKind::Grant {
                let _ = writeln!(out, "        expires:     {}", expiry_text(g));
            }
        }
        for e in &a.external_trust {
            let _ = writeln!(
                out,
                "    outside trust: role {}{} trusts {}{}",
                t(&e.path),
                t(&e.role_name),
                e.principals
                    .iter()
                    .map(|p| t(p))
                    .collect::<Vec<_>>()
                    .join(", "),
                if e.external_id {
                    " (external id required)"
                } else {
                    ""
                }
            );
        }
        for u in &a.unmanaged_roles {
            let _ = writeln!(
                out,
                "    note: role /orgctl/{} has no orgctl tag; orgctl leaves it alone",
                t(u)
            );
        }
        for f in &a.findings {
            let _ = writeln!(out, "    FLAGGED: {}", t(&f.message));
        }
    }
    let _ = writeln!(out, "\n{}", summary(r));
    out
}

/// The review as Markdown (a pull-request comment or a page).
pub(crate) fn markdown(r: &AccessReport) -> String {
    let mut out = String::new();
    let (title, domains) = head(r);
    let _ = writeln!(out, "## {}\n\n{}\n", escape(&title), escape(&domains));
    let _ = writeln!(
        out,
        "| | Account | OU | Root email | orgctl roles | Findings |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for a in &r.accounts {
        let _ = writeln!(
            out,
            "| {} | {} ({}) | {} | {} | {} | {} |",
            if a.findings.is_empty() {
                "✅"
            } else {
                "⚠️"
            },
            m(&a.name),
            code(&a.id),
            code(&t(&a.ou)),
            m(&a.email),
            a.grants.len(),
            a.findings.len()
        );
    }
    for a in &r.accounts {
        let _ = writeln!(out, "\n### {} ({})\n", m(&a.name), code(&a.id));
        for f in &a.findings {
            let _ = writeln!(out, "- ⚠️ **Flagged:** {}", m(&f.message));
        }
        let _ = writeln!(out, "- Root email: {}", m(&email_text(a)));
        let _ = writeln!(out, "- IAM: {}", m(&iam_text(a, &r.member_role)));
        if let Some(mr) = &a.member_role {
            if mr.exists {
                let trusted: Vec<String> = mr.trusted.iter().map(|p| code(&t(p))).collect();
                let _ = writeln!(
                    out,
                    "- Member role {} trusts {}",
                    code(&t(&mr.name)),
                    if trusted.is_empty() {
                        "(not listed; orgctl reached the account through it)".to_owned()
                    } else {
                        trusted.join(", ")
                    }
                );
            } else {
                let _ = writeln!(out, "- Member role {} does not exist", code(&t(&mr.name)));
            }
        }
        for g in &a.grants {
            let _ = writeln!(
                out,
                "- **{}**: {}{}\n  - principal: {}\n  - permissions: {}",
                m(&grant_title(g)),
                m(state_word(g.state)),
                m(&differs_text(g)),
                m(&principal_text(g)),
                m(&permissions_text(g))
            );
            if let Some(p) = &g.partner {
                let owner = g.owner.as_deref().map(m).unwrap_or_default();
                let _ = writeln!(out, "  - partner: {} (owner {owner})", m(p));
            }
            if g.kind == GrantKind::Grant {
                let _ = writeln!(out, "  - expires: {}", m(&expiry_text(g)));
            }
        }
        for e in &a.external_trust {
            let _ = writeln!(
                out,
                "- Role {} (outside `/orgctl/`) trusts {}{}",
                code(&t(&format!("{}{}", e.path, e.role_name))),
                e.principals
                    .iter()
                    .map(|p| code(&t(p)))
                    .collect::<Vec<_>>()
                    .join(", "),
                if e.external_id {
                    " (external id required)"
                } else {
                    ""
                }
            );
        }
        for u in &a.unmanaged_roles {
            let _ = writeln!(
                out,
                "- Note: role {} has no orgctl tag; orgctl leaves it alone",
                code(&t(&format!("/orgctl/{u}")))
            );
        }
    }
    let _ = writeln!(out, "\n{}", escape(&summary(r)));
    if out.chars().count() > crate::MARKDOWN_LIMIT {
        let mut cut: String = out.chars().take(crate::MARKDOWN_LIMIT - 200).collect();
        cut.push_str(
            "\n\n…\n\n**The review is cut here** (too long for one comment); run `orgctl access \
             --format text` or `--account NAME` for the rest.\n",
        );
        return cut;
    }
    out
}

/// The review as JSON (`docs/access.schema.json`).
pub(crate) fn json(r: &AccessReport) -> String {
    let mut text = serde_json::to_string_pretty(r).unwrap_or_default();
    text.push('\n');
    crate::safe_json(&text)
}

#[cfg(test)]
mod tests {
    use orgctl_planner::access_report::{
        AccessSummary, ExternalTrust, Finding, FindingKind, MemberRole, RootEmail,
    };

    use super::*;

    fn account(name: &str) -> AccountAccess {
        AccountAccess {
            id: "222222222222".into(),
            name: name.into(),
            email: "a@partner.example".into(),
            ou: "/Workloads".into(),
            status: AccountStatus::Active,
            management: false,
            iam: IamStatus::MemberRole,
            root_email: RootEmail {
                domain: "partner.example".into(),
                check: EmailCheck::External,
            },
            member_role: Some(MemberRole {
                name: "OrganizationAccountAccessRole".into(),
                exists: true,
                trusted: vec!["arn:aws:iam::111111111111:root".into()],
            }),
            grants: vec![],
            external_trust: vec![ExternalTrust {
                path: "/".into(),
                role_name: "vendor`x".into(),
                principals: vec!["*".into()],
                external_id: false,
            }],
            unmanaged_roles: vec![],
            findings: vec![Finding {
                kind: FindingKind::ExternalTrust,
                message: "role /vendor trusts * <b>".into(),
            }],
        }
    }

    fn report(accounts: Vec<AccountAccess>) -> AccessReport {
        AccessReport {
            format_version: 1,
            today: "2026-11-27".into(),
            organization_id: "o-1".into(),
            management_account_id: "111111111111".into(),
            email_domains: vec!["companyx.example".into()],
            member_role: "OrganizationAccountAccessRole".into(),
            summary: AccessSummary {
                accounts: accounts.len(),
                flagged_accounts: accounts.len(),
                findings: accounts.len(),
                grants: 0,
            },
            accounts,
        }
    }

    #[test]
    fn names_from_aws_are_escaped_in_every_format() {
        let r = report(vec![account("evil\u{1b}[31m\u{202e}name")]);
        let text = text(&r);
        assert!(text.contains("evil\\u{1b}[31m\\u{202e}name"), "{text}");
        assert!(!text.contains('\u{1b}'));
        let md = markdown(&r);
        assert!(!md.contains('\u{202e}') && !md.contains("<b>"), "{md}");
        assert!(md.contains("\\<b\\>"), "{md}");
        assert!(md.contains("``/vendor`x``"), "{md}");
        let json = json(&r);
        assert!(
            json.contains("\\u001b") && json.contains("\\u202e"),
            "{json}"
        );
    }

    #[test]
    fn markdown_stays_within_the_comment_limit() {
        let many: Vec<AccountAccess> = (0..2000).map(|i| account(&format!("a{i}"))).collect();
        let md = markdown(&report(many));
        assert!(md.chars().count() <= crate::MARKDOWN_LIMIT);
        assert!(md.contains("The review is cut here"));
    }
}

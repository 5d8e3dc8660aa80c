//! Issue 7, section 3: the access review leads every rendering. Each scenario is planned by the
//! real planner from a small desired and live state, and the access section of each rendering
//! is snapshotted.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_model::{
    AccountSpec, AccountStatus, DesiredState, GrantSpec, GrantTarget, IamRead, Lifecycle,
    LiveAccessRole, LiveAccount, LiveIamAccount, LiveOrganization, LiveOu, LiveState,
    OrganizationSpec, OuSpec, SourceLoc, Tags,
};
use orgctl_planner::{Plan, PlanOptions};

use crate::{RenderOptions, json, markdown, text};

const MGMT: &str = "111111111111";
const STAGING: &str = "222222222222";
const PROD: &str = "333333333333";
const PARTNER_A: &str = "arn:aws:iam::999999999999:root";
const PARTNER_B: &str = "arn:aws:iam::888888888888:root";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

fn loc(file: &str, line: u32) -> SourceLoc {
    SourceLoc {
        file: file.into(),
        line,
        column: 1,
    }
}

fn grant(name: &str, partner: &str, principal: &str, accounts: &[&str]) -> GrantSpec {
    GrantSpec {
        name: name.into(),
        partner: partner.into(),
        owner: "platform-team".into(),
        ticket: "SEC-42".into(),
        description: String::new(),
        principal: principal.into(),
        principal_account: principal.split(':').nth(4).unwrap_or_default().into(),
        external_id: Some(format!("{partner}-ext-7f3a9c")),
        mfa: false,
        max_session_secs: 3600,
        managed_policies: [ADMIN.to_owned()].into(),
        inline_policies: BTreeMap::new(),
        permissions_boundary: None,
        targets: accounts
            .iter()
            .map(|a| GrantTarget::Account((*a).into()))
            .collect(),
        exclude_accounts: BTreeSet::new(),
        exclude_ids: BTreeSet::new(),
        role_name: name.to_owned(),
        expires: Some("2027-06-30".into()),
        access_ends: Some("2027-07-01T00:00:00Z".into()),
        source: loc("desired-state/grants.yaml", 3),
    }
}

fn live_role(account: &str, g: &GrantSpec) -> LiveAccessRole {
    LiveAccessRole {
        account_id: account.into(),
        role_name: g.role_name.clone(),
        path: "/orgctl/".into(),
        trust_policy: g.trust_policy(),
        description: g.role_description(),
        max_session_secs: g.max_session_secs,
        managed_policies: g.managed_policies.clone(),
        inline_policies: g.inline_policies.clone(),
        permissions_boundary: g.permissions_boundary.clone(),
        tags: g.role_tags(),
    }
}

fn desired(grants: Vec<GrantSpec>) -> DesiredState {
    let ou = |path: &str| OuSpec {
        path: path.into(),
        name: path.rsplit('/').next().unwrap_or_default().into(),
        id: None,
        tags: Tags::new(),
        full_aws_access: true,
        production: path.ends_with("Production"),
        source: loc("desired-state/ous.yaml", 1),
    };
    let account = |name: &str, email: &str, ou: &str| AccountSpec {
        name: name.into(),
        email: email.into(),
        ou: ou.into(),
        id: None,
        tags: Tags::new(),
        lifecycle: Lifecycle::Active,
        full_aws_access: true,
        source: loc("desired-state/accounts.yaml", 1),
    };
    DesiredState {
        organization: OrganizationSpec {
            management_account_id: MGMT.into(),
            enabled_policy_types: BTreeSet::new(),
            protected_accounts: BTreeSet::new(),
            policies_per_target_limit: 5,
            ignore_tag_keys: BTreeSet::new(),
            root_full_aws_access: true,
            member_role: orgctl_model::DEFAULT_MEMBER_ROLE.into(),
            plan_role: None,
            email_domains: BTreeSet::new(),
            source: loc("desired-state/organization.yaml", 1),
        },
        ous: [ou("/Staging"), ou("/Production")]
            .into_iter()
            .map(|o| (o.path.clone(), o))
            .collect(),
        accounts: [
            account("companyx-staging", "stg@companyx.example", "/Staging"),
            account("companyx-production", "prd@companyx.example", "/Production"),
        ]
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect(),
        policies: BTreeMap::new(),
        grants: grants.into_iter().map(|g| (g.name.clone(), g)).collect(),
    }
}

fn live(roles: Vec<LiveAccessRole>, unreadable: &[&str]) -> LiveState {
    let tag = Tags::from([("managed-by".to_owned(), "orgctl".to_owned())]);
    let mut s = LiveState {
        organization: LiveOrganization {
            id: "o-abc123defg".into(),
            management_account_id: MGMT.into(),
            root_id: "r-root".into(),
            enabled_policy_types: BTreeSet::new(),
            root_record: None,
        },
        ous: vec![
            LiveOu {
                id: "ou-stg".into(),
                name: "Staging".into(),
                parent_id: "r-root".into(),
                tags: tag.clone(),
            },
            LiveOu {
                id: "ou-prd".into(),
                name: "Production".into(),
                parent_id: "r-root".into(),
                tags: tag,
            },
        ],
        accounts: [
            (MGMT, "management", "root@companyx.example", "r-root"),
            (
                STAGING,
                "companyx-staging",
                "stg@companyx.example",
                "ou-stg",
            ),
            (
                PROD,
                "companyx-production",
                "prd@companyx.example",
                "ou-prd",
            ),
        ]
        .into_iter()
        .map(|(id, name, email, parent)| LiveAccount {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            parent_id: parent.into(),
            status: AccountStatus::Active,
            tags: Tags::new(),
        })
        .collect(),
        policies: vec![],
        access_roles: roles,
        iam_accounts: [STAGING, PROD]
            .into_iter()
            .map(|id| LiveIamAccount {
                account_id: id.into(),
                read: if unreadable.contains(&id) {
                    IamRead::Unreadable {
                        reason: "AccessDenied: the member role cannot be assumed".into(),
                    }
                } else {
                    IamRead::ReadRole
                },
            })
            .collect(),
        scope: None,
    };
    s.normalize();
    s
}

fn plan(d: &DesiredState, l: &LiveState, today: &str) -> Plan {
    orgctl_planner::plan(
        d,
        l,
        &PlanOptions {
            today: today.into(),
        },
    )
}

/// The six stories of the issue.
fn scenarios() -> Vec<(&'static str, Plan)> {
    let both = grant(
        "partner-a-admin",
        "PartnerA",
        PARTNER_A,
        &["companyx-staging", "companyx-production"],
    );
    let staging_only = grant(
        "partner-a-admin",
        "PartnerA",
        PARTNER_A,
        &["companyx-staging"],
    );
    let mut to_b = staging_only.clone();
    to_b.partner = "PartnerB".into();
    to_b.principal = PARTNER_B.into();
    to_b.principal_account = "888888888888".into();
    to_b.external_id = Some("PartnerB-ext-41d2e0".into());
    let applied = || vec![live_role(STAGING, &both), live_role(PROD, &both)];
    let mut edited = live_role(PROD, &both);
    edited.managed_policies.insert(READ_ONLY.into());
    edited.max_session_secs = 7200;
    let mut mfa_on = staging_only.clone();
    mfa_on.mfa = true;
    let mut loosened = staging_only.clone();
    loosened.max_session_secs = 4 * 3600;
    vec![
        (
            "new_grant",
            plan(
                &desired(vec![both.clone()]),
                &live(vec![], &[]),
                "2026-11-27",
            ),
        ),
        (
            "production_removed",
            plan(
                &desired(vec![staging_only.clone()]),
                &live(applied(), &[]),
                "2026-11-27",
            ),
        ),
        (
            "transfer",
            plan(
                &desired(vec![to_b]),
                &live(vec![live_role(STAGING, &staging_only)], &[]),
                "2026-11-27",
            ),
        ),
        (
            "expiry",
            plan(
                &desired(vec![both.clone()]),
                &live(applied(), &[]),
                "2027-07-01",
            ),
        ),
        (
            "out_of_band_revert",
            plan(
                &desired(vec![both.clone()]),
                &live(vec![live_role(STAGING, &both), edited], &[]),
                "2026-11-27",
            ),
        ),
        (
            "conditions_loosened",
            plan(
                &desired(vec![loosened]),
                &live(vec![live_role(STAGING, &mfa_on)], &[]),
                "2026-11-27",
            ),
        ),
        (
            "unreadable_account",
            plan(&desired(vec![both]), &live(vec![], &[PROD]), "2026-11-27"),
        ),
    ]
}

/// The text between the line starting with `start` and the first later line starting with one
/// of `ends`.
fn section(all: &str, start: &str, ends: &[&str]) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in all.lines() {
        if !inside && line.starts_with(start) {
            inside = true;
        } else if inside && ends.iter().any(|e| line.starts_with(e)) {
            break;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_access_section_in_every_rendering() {
    for (name, plan) in scenarios() {
        assert!(plan.errors.is_empty(), "{name}: {:?}", plan.errors);
        assert!(!plan.access.is_empty(), "{name}: no access review");
        let t = text(&plan, &RenderOptions::default());
        let access = section(
            &t,
            "Access changes",
            &[
                "Other changes",
                "Warnings",
                "This plan",
                "Not managed",
                "Plan:",
            ],
        );
        assert!(!access.is_empty(), "{name}:\n{t}");
        insta::assert_snapshot!(format!("access_{name}_text"), access);
        let md = markdown(&plan);
        let access = section(
            &md,
            "#### Access changes",
            &[
                "#### Other",
                "#### Warnings",
                "#### ⛔",
                "<details>",
                "<sub>",
            ],
        );
        assert!(!access.is_empty(), "{name}:\n{md}");
        insta::assert_snapshot!(format!("access_{name}_markdown"), access);
        let v: serde_json::Value = serde_json::from_str(&json(&plan)).expect("JSON plan");
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        let access_at = keys.iter().position(|k| *k == "access").expect("access");
        let changes_at = keys.iter().position(|k| *k == "changes").expect("changes");
        assert!(access_at < changes_at, "{name}: access leads the JSON plan");
        insta::assert_json_snapshot!(format!("access_{name}_json"), v["access"]);
    }
}

#[test]
fn the_review_says_who_gains_and_loses_what_where_until_when() {
    let all: BTreeMap<&str, Plan> = scenarios().into_iter().collect();
    let t = |name: &str| text(&all[name], &RenderOptions::default());
    assert!(t("new_grant").contains(
        "+ gains companyx-production, companyx-staging: AdministratorAccess; external id, \
         sessions ≤ 1h; until 2027-06-30"
    ));
    assert!(t("production_removed").contains("- loses companyx-production: AdministratorAccess"));
    let transfer = t("transfer");
    assert!(transfer.contains(
        "- loses companyx-staging: AdministratorAccess — transferred to partner PartnerB"
    ));
    assert!(transfer.contains("+ gains companyx-staging: AdministratorAccess; external id, sessions ≤ 1h; until 2027-06-30 — transferred from partner PartnerA"));
    // A change of conditions alone (MFA turned off, sessions lengthened) shows in the sentence
    // and in the entry's differences.
    let loosened = t("conditions_loosened");
    assert!(loosened.contains(
        "~ changes in companyx-staging: now AdministratorAccess; external id, sessions ≤ 4h; \
         until 2027-06-30"
    ));
    assert!(loosened.contains("- MFA required"), "{loosened}");
    assert!(loosened.contains("~ session 1h → 4h"), "{loosened}");
    assert!(t("expiry").contains("expired on 2027-06-30"));
    assert!(t("out_of_band_revert").contains("edited outside orgctl: reverted"));
    let unreadable = t("unreadable_account");
    assert!(unreadable.contains("! cannot be verified in companyx-production"));
    assert!(
        unreadable.contains("iam account companyx-production: IAM in account companyx-production")
    );
}

//! Rendering tests: snapshots of a plan with every kind of change, and the properties every
//! rendering must keep (access changes first, colour only on request, the Markdown size limit).

use std::collections::BTreeSet;

use orgctl_model::{Op, PolicyType, Ref, SourceLoc, Tags};
use orgctl_planner::planfile;
use orgctl_planner::{Action, Change, Note, Plan, PlanError, ResourceKind, Warning};
use serde_json::{Value, json};

use crate::{MARKDOWN_LIMIT, RenderOptions, json, markdown, text};

fn src(file: &str, line: u32) -> Option<SourceLoc> {
    Some(SourceLoc {
        file: format!("desired-state/{file}"),
        line,
        column: 3,
    })
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn id(s: &str) -> Ref {
    Ref::Id(s.to_owned())
}

#[allow(clippy::too_many_arguments)]
fn change(
    address: &str,
    kind: ResourceKind,
    action: Action,
    before: Option<Value>,
    after: Option<Value>,
    reason: &str,
    source: Option<SourceLoc>,
    ops: Vec<Op>,
) -> Change {
    Change {
        address: address.to_owned(),
        kind,
        action,
        before,
        after,
        diff: None,
        reason: reason.to_owned(),
        source,
        ops,
    }
}

fn empty_plan() -> Plan {
    Plan {
        changes: vec![],
        notes: vec![],
        warnings: vec![],
        errors: vec![],
        access: vec![],
        organization_id: "o-abc123defg".to_owned(),
        management_account_id: "111111111111".to_owned(),
        today: "2026-11-27".to_owned(),
        live_fingerprint: "4f1c2b9a7d3e8f60aa11bb22cc33dd44ee55ff6600112233445566778899aabb"
            .to_owned(),
        desired_fingerprint: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
            .to_owned(),
        records: vec![],
    }
}

/// A plan with every action and resource kind, tag diffs, a policy document diff, a move, a
/// replacement, warnings, an error and notes.
fn kitchen_sink() -> Plan {
    use Action::*;
    use ResourceKind::*;
    let mut changes = vec![
        change(
            "organization policy-type TAG_POLICY",
            Organization,
            Enable,
            Some(json!({"enabled_policy_types": ["SERVICE_CONTROL_POLICY"]})),
            Some(json!({"enabled_policy_types": ["SERVICE_CONTROL_POLICY", "TAG_POLICY"]})),
            "Tag policies are declared but the policy type is not enabled.",
            src("organization.yaml", 4),
            vec![Op::EnablePolicyType {
                root: id("r-ab12"),
                policy_type: PolicyType::TagPolicy,
            }],
        ),
        change(
            "ou /Workloads",
            Ou,
            Update,
            Some(
                json!({"path": "/Workloads", "tags": {"environment": "stg", "managed-by": "orgctl", "old": "y"}}),
            ),
            Some(
                json!({"path": "/Workloads", "tags": {"environment": "staging", "managed-by": "orgctl", "owner": "platform-team"}}),
            ),
            "Tags differ from the desired state.",
            src("ous.yaml", 3),
            vec![
                Op::TagResource {
                    resource: id("ou-ab12-11111111"),
                    tags: tags(&[("environment", "staging"), ("owner", "platform-team")]),
                },
                Op::UntagResource {
                    resource: id("ou-ab12-11111111"),
                    keys: BTreeSet::from(["old".to_owned()]),
                },
            ],
        ),
        change(
            "ou /Workloads/Sandbox",
            Ou,
            Create,
            None,
            Some(
                json!({"path": "/Workloads/Sandbox", "tags": {"managed-by": "orgctl", "cost center": "4711"}}),
            ),
            "Declared in the desired state; no such OU exists.",
            src("ous.yaml", 12),
            vec![Op::CreateOu {
                parent: id("ou-ab12-11111111"),
                name: "Sandbox".to_owned(),
                path: "/Workloads/Sandbox".to_owned(),
                tags: tags(&[("cost center", "4711"), ("managed-by", "orgctl")]),
            }],
        ),
        change(
            "ou /Workloads/Production",
            Ou,
            Rename,
            Some(json!({"path": "/Workloads/Prod", "tags": {"managed-by": "orgctl"}})),
            Some(json!({"path": "/Workloads/Production", "tags": {"managed-by": "orgctl"}})),
            "OU ou-ab12-22222222 is declared with a new name.",
            src("ous.yaml", 18),
            vec![Op::RenameOu {
                ou: id("ou-ab12-22222222"),
                name: "Production".to_owned(),
            }],
        ),
        change(
            "ou /Security/Audit",
            Ou,
            Replace,
            Some(
                json!({"id": "ou-ab12-33333333", "path": "/Audit", "tags": {"managed-by": "orgctl"}}),
            ),
            Some(
                json!({"path": "/Security/Audit", "tags": {"managed-by": "orgctl", "owner": "security"}}),
            ),
            "The OU moves to another parent; AWS cannot move an OU.",
            src("ous.yaml", 25),
            vec![
                Op::CreateOu {
                    parent: id("ou-ab12-44444444"),
                    name: "Audit".to_owned(),
                    path: "/Security/Audit".to_owned(),
                    tags: tags(&[("managed-by", "orgctl"), ("owner", "security")]),
                },
                Op::DeleteOu {
                    ou: id("ou-ab12-33333333"),
                },
            ],
        ),
        change(
            "account companyx-sandbox",
            Account,
            Create,
            None,
            Some(
                json!({"name": "companyx-sandbox", "email": "aws+sandbox@companyx.example", "ou": "/Workloads/Sandbox", "tags": {"environment": "sandbox"}}),
            ),
            "Declared in the desired state; no account has this email.",
            src("accounts.yaml", 2),
            vec![Op::CreateAccount {
                name: "companyx-sandbox".to_owned(),
                email: "aws+sandbox@companyx.example".to_owned(),
                parent: Ref::NewOu("/Workloads/Sandbox".to_owned()),
                tags: tags(&[("environment", "sandbox")]),
                ignore_tag_keys: Default::default(),
            }],
        ),
        change(
            "account companyx-staging",
            Account,
            Move,
            Some(
                json!({"name": "companyx-staging", "email": "aws+staging@companyx.example", "ou": "/Workloads/Staging", "tags": {"environment": "stg"}}),
            ),
            Some(
                json!({"name": "companyx-staging", "email": "aws+staging@companyx.example", "ou": "/Workloads/Production", "tags": {"environment": "staging"}}),
            ),
            "The account is declared in another OU.",
            src("accounts.yaml", 12),
            vec![Op::MoveAccount {
                account: id("222222222222"),
                from: id("ou-ab12-55555555"),
                to: id("ou-ab12-22222222"),
            }],
        ),
        change(
            "account companyx-dev",
            Account,
            Update,
            Some(
                json!({"name": "companyx-dev", "email": "aws+dev@companyx.example", "ou": "/Workloads", "tags": {"environment": "dev", "team": "a"}}),
            ),
            Some(
                json!({"name": "companyx-dev", "email": "aws+dev@companyx.example", "ou": "/Workloads", "tags": {"environment": "dev", "team": "b"}}),
            ),
            "Tags differ from the desired state.",
            src("accounts.yaml", 20),
            vec![Op::TagResource {
                resource: id("333333333333"),
                tags: tags(&[("team", "b")]),
            }],
        ),
        change(
            "account companyx-legacy",
            Account,
            Close,
            Some(
                json!({"name": "companyx-legacy", "email": "aws+legacy@companyx.example", "ou": "/Suspended", "tags": {}}),
            ),
            None,
            "The account is declared with lifecycle: closed.",
            src("accounts.yaml", 31),
            vec![Op::CloseAccount {
                account: id("444444444444"),
            }],
        ),
        change(
            "policy scp/restrict-regions",
            Policy,
            Create,
            None,
            Some(
                json!({"name": "restrict-regions", "description": "Only eu-west-1 and eu-central-1", "tags": {"managed-by": "orgctl"}}),
            ),
            "Declared in the desired state; no such policy exists.",
            src("policies.yaml", 2),
            vec![Op::CreatePolicy {
                name: "restrict-regions".to_owned(),
                policy_type: PolicyType::ServiceControlPolicy,
                description: "Only eu-west-1 and eu-central-1".to_owned(),
                content: "{}".to_owned(),
                tags: tags(&[("managed-by", "orgctl")]),
            }],
        ),
        change(
            "policy scp/deny-leave",
            Policy,
            Update,
            Some(
                json!({"name": "deny-leave", "description": "Deny leaving", "tags": {"managed-by": "orgctl"}}),
            ),
            Some(
                json!({"name": "deny-leave", "description": "Deny leaving the organization", "tags": {"managed-by": "orgctl"}}),
            ),
            "The description and document differ from the desired state.",
            src("policies.yaml", 20),
            vec![Op::UpdatePolicy {
                policy: id("p-aaaa1111"),
                description: Some("Deny leaving the organization".to_owned()),
                content: Some("{}".to_owned()),
            }],
        ),
        change(
            "policy tag/cost-center",
            Policy,
            Update,
            Some(
                json!({"name": "cost-center", "description": "", "tags": {"managed-by": "orgctl"}}),
            ),
            Some(
                json!({"name": "cost-center", "description": "", "tags": {"managed-by": "orgctl", "owner": "finops"}}),
            ),
            "Tags differ from the desired state.",
            src("policies.yaml", 41),
            vec![Op::TagResource {
                resource: id("p-bbbb2222"),
                tags: tags(&[("owner", "finops")]),
            }],
        ),
        change(
            "attachment scp/restrict-regions -> /Workloads",
            Attachment,
            Attach,
            None,
            None,
            "/Workloads is listed in the policy's targets.",
            src("policies.yaml", 9),
            vec![Op::AttachPolicy {
                policy: Ref::NewPolicy("restrict-regions".to_owned()),
                target: id("ou-ab12-11111111"),
            }],
        ),
        change(
            "attachment scp/legacy-deny -> account companyx-dev",
            Attachment,
            Detach,
            None,
            None,
            "The account is no longer listed in the policy's targets.",
            None,
            vec![Op::DetachPolicy {
                policy: id("p-cccc3333"),
                target: id("333333333333"),
            }],
        ),
        change(
            "attachment scp/FullAWSAccess -> /Workloads/Sandbox",
            Attachment,
            Detach,
            None,
            None,
            "The OU is declared with full_aws_access: false.",
            src("ous.yaml", 13),
            vec![Op::DetachPolicy {
                policy: id("p-FullAWSAccess"),
                target: Ref::NewOu("/Workloads/Sandbox".to_owned()),
            }],
        ),
        change(
            "attachment tag/cost-center -> root",
            Attachment,
            Attach,
            None,
            None,
            "The root is listed in the policy's targets.",
            src("policies.yaml", 45),
            vec![Op::AttachPolicy {
                policy: id("p-bbbb2222"),
                target: id("r-ab12"),
            }],
        ),
        change(
            "policy scp/legacy-deny",
            Policy,
            Delete,
            Some(
                json!({"name": "legacy-deny", "description": "Old guardrail", "tags": {"managed-by": "orgctl"}}),
            ),
            None,
            "Managed by orgctl and no longer declared.",
            None,
            vec![Op::DeletePolicy {
                policy: id("p-cccc3333"),
            }],
        ),
        change(
            "ou /Old",
            Ou,
            Delete,
            Some(json!({"path": "/Old", "tags": {"managed-by": "orgctl"}})),
            None,
            "Managed by orgctl and no longer declared.",
            None,
            vec![Op::DeleteOu {
                ou: id("ou-ab12-66666666"),
            }],
        ),
        change(
            "access companyx-dev/OrgctlReadOnly",
            Access,
            Create,
            None,
            Some(
                json!({"role": "OrgctlReadOnly", "principals": ["arn:aws:iam::999999999999:role/Auditor"], "expires": "2026-12-31"}),
            ),
            "Declared in the desired state.",
            src("access.yaml", 5),
            vec![],
        ),
    ];
    changes[9].diff = Some(
        "--- before\n+++ after\n@@ -0,0 +1,9 @@\n+{\n+  \"Statement\": [\n+    {\n+      \"Action\": \"*\",\n+      \"Condition\": {\"StringNotEquals\": {\"aws:RequestedRegion\": [\"eu-west-1\", \"eu-central-1\"]}},\n+      \"Effect\": \"Deny\",\n+      \"Resource\": \"*\"\n+    }\n+  ],\n+  \"Version\": \"2012-10-17\"\n+}\n"
            .to_owned(),
    );
    changes[10].diff = Some(
        "--- before\n+++ after\n@@ -2,7 +2,10 @@\n   \"Statement\": [\n     {\n-      \"Action\": \"organizations:LeaveOrganization\",\n+      \"Action\": [\n+        \"account:CloseAccount\",\n+        \"organizations:LeaveOrganization\"\n+      ],\n       \"Effect\": \"Deny\",\n       \"Resource\": \"*\"\n     }\n"
            .to_owned(),
    );
    Plan {
        changes,
        notes: vec![
            Note {
                address: "account 555555555555 (billing-legacy)".to_owned(),
                message: "Not in the desired state.".to_owned(),
            },
            Note {
                address: "policy scp/aws-guardrails-abc".to_owned(),
                message: "Not tagged managed-by: orgctl.".to_owned(),
            },
        ],
        warnings: vec![Warning {
            address: "account companyx-dev".to_owned(),
            message: "The account name in AWS is \"CompanyX Dev\"; orgctl cannot rename accounts yet."
                .to_owned(),
            source: src("accounts.yaml", 20),
        }],
        errors: vec![PlanError {
            address: "ou /Old".to_owned(),
            message: "Cannot delete: it still holds account 666666666666, which orgctl does not manage. Move the account or declare the OU."
                .to_owned(),
            source: None,
        }],
        ..empty_plan()
    }
}

/// A plan of `n` changes of mixed kinds, with a few warnings, errors and notes.
fn big_plan(n: usize) -> Plan {
    let mut plan = empty_plan();
    for i in 0..n {
        let c = match i % 5 {
            0 => change(
                &format!("account team-{i}"),
                ResourceKind::Account,
                Action::Create,
                None,
                Some(
                    json!({"name": format!("team-{i}"), "email": format!("aws+team-{i}@companyx.example"), "ou": "/Workloads", "tags": {"team": format!("t{i}")}}),
                ),
                "Declared in the desired state; no account has this email.",
                src("accounts.yaml", 10 + i as u32),
                vec![],
            ),
            1 => change(
                &format!("account old-{i}"),
                ResourceKind::Account,
                Action::Move,
                Some(json!({"name": format!("old-{i}"), "ou": "/A"})),
                Some(json!({"name": format!("old-{i}"), "ou": "/B"})),
                "The account is declared in another OU.",
                src("accounts.yaml", 10 + i as u32),
                vec![],
            ),
            2 => change(
                &format!("attachment scp/guard-{i} -> /Workloads/T{i}"),
                ResourceKind::Attachment,
                Action::Attach,
                None,
                None,
                "Listed in the policy's targets.",
                src("policies.yaml", 10 + i as u32),
                vec![],
            ),
            3 => change(
                &format!("ou /Workloads/T{i}"),
                ResourceKind::Ou,
                Action::Update,
                Some(json!({"path": format!("/Workloads/T{i}"), "tags": {"a": "1"}})),
                Some(json!({"path": format!("/Workloads/T{i}"), "tags": {"a": "2"}})),
                "Tags differ from the desired state.",
                src("ous.yaml", 10 + i as u32),
                vec![],
            ),
            _ => change(
                &format!("policy tag/p-{i}"),
                ResourceKind::Policy,
                Action::Delete,
                Some(json!({"name": format!("p-{i}"), "description": "d"})),
                None,
                "Managed by orgctl and no longer declared.",
                None,
                vec![],
            ),
        };
        plan.changes.push(c);
    }
    plan.warnings.push(Warning {
        address: "account team-0".to_owned(),
        message: "A warning.".to_owned(),
        source: None,
    });
    plan.errors.push(PlanError {
        address: "ou /Old".to_owned(),
        message: "Still holds unmanaged accounts.".to_owned(),
        source: None,
    });
    for i in 0..50 {
        plan.notes.push(Note {
            address: format!("account 7777777777{i:02}"),
            message: "Not in the desired state.".to_owned(),
        });
    }
    plan
}

/// Checks that `<details>` tags and code fences are balanced and properly nested.
fn assert_balanced_markdown(md: &str) {
    let mut details = 0usize;
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(open) = &fence {
            if indent <= 3 + 2 && trimmed == open.as_str() {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") {
            let ticks: String = trimmed.chars().take_while(|c| *c == '`').collect();
            fence = Some(ticks);
            continue;
        }
        details += line.matches("<details>").count();
        let closes = line.matches("</details>").count();
        assert!(closes <= details, "</details> without <details>:\n{md}");
        details -= closes;
    }
    assert!(fence.is_none(), "unclosed code fence");
    assert_eq!(details, 0, "unclosed <details>");
}

/// The lines of `md` outside code fences.
fn outside_fences(md: &str) -> String {
    let mut out = String::new();
    let mut in_fence = false;
    for line in md.lines() {
        // A fence line is indented at most three spaces (a list item's fence by its two).
        let body = line.trim_start_matches(' ');
        if line.len() - body.len() <= 3 && body.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `md` with its code spans (CommonMark: a run of n backticks up to the next run of exactly n)
/// removed; a backslash-escaped character (outside code spans) is literal text.
fn without_code_spans(md: &str) -> String {
    let chars: Vec<char> = md.chars().collect();
    let run_at = |i: usize| chars[i..].iter().take_while(|c| **c == '`').count();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.extend(&chars[i..i + 2]);
            i += 2;
            continue;
        }
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let m = run_at(j);
                if m == n {
                    close = Some(j + m);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => i = end,
            None => {
                out.extend(&chars[i..i + n]);
                i += n;
            }
        }
    }
    out
}

fn plain(plan: &Plan) -> String {
    text(plan, &RenderOptions { color: false })
}

#[test]
fn text_kitchen_sink() {
    insta::assert_snapshot!("text_kitchen_sink", plain(&kitchen_sink()));
}

#[test]
fn markdown_kitchen_sink() {
    let md = markdown(&kitchen_sink());
    assert_balanced_markdown(&md);
    insta::assert_snapshot!("markdown_kitchen_sink", md);
}

#[test]
fn json_kitchen_sink() {
    let version_line = format!("\"orgctl_version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    let out = json(&kitchen_sink());
    assert!(out.contains(&version_line));
    insta::assert_snapshot!(
        "json_kitchen_sink",
        out.replace(&version_line, "\"orgctl_version\": \"[version]\"")
    );
}

#[test]
fn empty_plan_renderings() {
    let plan = empty_plan();
    let t = plain(&plan);
    assert!(t.contains("No access changes."));
    assert!(t.ends_with("No changes. The organization matches the desired state.\n"));
    assert!(!t.contains("Plan:"));
    insta::assert_snapshot!("text_empty", t);
    let md = markdown(&plan);
    assert!(md.contains("No access changes."));
    assert!(md.contains("No changes. The organization matches the desired state."));
    assert!(!md.contains("| Resource |"), "no table for an empty plan");
    assert_balanced_markdown(&md);
    insta::assert_snapshot!("markdown_empty", md);
}

#[test]
fn stale_records_are_one_line_and_not_changes() {
    let mut plan = empty_plan();
    let record =
        |id: &str| orgctl_planner::RecordWrite::applied(id, "1:0123456789abcdef:2026-11-27");
    plan.records = vec![record("ou-1"), record("r-1")];
    let t = plain(&plan);
    assert!(
        t.ends_with(
            "No changes. The organization matches the desired state.\n2 records of what was \
             applied are out of date; the next apply rewrites them.\n"
        ),
        "{t}"
    );
    let md = markdown(&plan);
    assert_eq!(
        md.matches("records of what was applied are out of date")
            .count(),
        1,
        "{md}"
    );
    assert!(md.contains("**No changes. The organization matches the desired state.**"));
    assert_balanced_markdown(&md);
    plan.records.truncate(1);
    assert!(
        plain(&plan).ends_with(
            "1 record of what was applied is out of date; the next apply rewrites it.\n"
        )
    );
    assert!(!plain(&empty_plan()).contains("record"));
}

#[test]
fn empty_plan_with_errors_is_not_called_in_sync() {
    let mut plan = empty_plan();
    plan.errors.push(PlanError {
        address: "ou /X".to_owned(),
        message: "broken".to_owned(),
        source: None,
    });
    let t = plain(&plan);
    assert!(!t.contains("matches the desired state"));
    assert!(t.contains("This plan cannot be applied:"));
    assert!(t.ends_with("Plan: 0 to create, 0 to change, 0 to move, 0 to delete.\n"));
    assert!(!markdown(&plan).contains("matches the desired state"));
}

#[test]
fn text_leads_with_access_changes_and_shows_every_change_once() {
    let plan = kitchen_sink();
    let t = plain(&plan);
    let access_at = t.find("Access changes (").expect("access heading");
    let others_at = t.find("Other changes (").expect("other heading");
    assert!(access_at < others_at);
    for c in &plan.changes {
        let title_lines = t
            .lines()
            .filter(|l| l.starts_with(&format!("  {} ", c.action.symbol())))
            .count();
        assert!(title_lines > 0);
        if crate::describe::in_access_section(c) {
            // Access changes are listed (in plan order) in the access section only; role
            // changes are summed up there by the access review and listed with the others.
            let reason_at = t.find(&c.reason).expect("reason shown");
            assert!(
                reason_at > access_at && reason_at < others_at,
                "{}",
                c.address
            );
        }
    }
    let change_lines = t
        .lines()
        .filter(|l| {
            ["  + ", "  ~ ", "  → ", "  ± ", "  - "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count();
    assert_eq!(change_lines, plan.changes.len());
    assert!(t.contains("SCP restrict-regions will apply to /Workloads (and everything below it)"));
    assert!(t.contains("SCP legacy-deny will no longer apply to account companyx-dev"));
    assert!(t.contains("~ tags.environment: \"stg\" → \"staging\""));
    assert!(t.contains("+ tags.owner: \"platform-team\""));
    assert!(t.contains("- tags.old: \"y\""));
    assert!(t.contains(
        "account companyx-staging will move: /Workloads/Staging → /Workloads/Production"
    ));
    assert!(t.contains("OU id will change"));
    assert!(t.contains("(desired-state/accounts.yaml:12)"));
    assert!(t.contains("This plan cannot be applied:"));
    assert!(t.contains("Not managed by orgctl — left in place:"));
    let s = plan.summary();
    assert_eq!(
        t.lines().last(),
        Some(
            format!(
                "Plan: {} to create, {} to change, {} to move, {} to delete.",
                s.create, s.change, s.moves, s.delete
            )
            .as_str()
        )
    );
}

#[test]
fn text_sections_keep_plan_order() {
    let plan = kitchen_sink();
    let t = plain(&plan);
    let positions = |kind: ResourceKind| -> Vec<usize> {
        plan.changes
            .iter()
            .filter(|c| c.kind == kind && !c.is_access_change())
            .map(|c| t.find(&format!(" {}", c.address)).expect("address shown"))
            .collect()
    };
    let ous = positions(ResourceKind::Ou);
    assert!(ous.len() > 2);
    assert!(ous.windows(2).all(|w| w[0] < w[1]), "OUs in plan order");
}

#[test]
fn colour_only_when_asked() {
    let mut plan = kitchen_sink();
    // Hostile data must not smuggle escape sequences into uncoloured output either.
    plan.changes[1].reason = "evil \u{1b}[2J reason".to_owned();
    plan.notes[0].message = "evil \u{1b}]8;;http://x\u{7}".to_owned();
    let off = text(&plan, &RenderOptions { color: false });
    assert!(!off.contains('\u{1b}'), "no ESC bytes without colour");
    assert!(off.contains("evil \\u{1b}[2J reason"));
    let md = markdown(&plan);
    assert!(!md.contains('\u{1b}'));
    let on = text(&plan, &RenderOptions { color: true });
    assert!(on.contains("\u{1b}[32m+\u{1b}[0m"), "green +");
    assert!(on.contains("\u{1b}[31m-\u{1b}[0m"), "red -");
    assert!(on.contains("\u{1b}[35m±\u{1b}[0m"), "magenta ±");
    assert!(on.contains("\u{1b}[1mAccess changes"), "bold heading");
    assert!(!on.contains("\u{1b}[2J"));
}

#[test]
fn json_is_the_plan_file_and_round_trips() {
    let plan = kitchen_sink();
    let out = json(&plan);
    assert_eq!(out, planfile::to_json(&plan));
    assert_eq!(planfile::from_json(&out).expect("reads back"), plan);
    let v: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["format_version"], json!(planfile::FORMAT_VERSION));
    let first = &v["changes"][2];
    for key in ["address", "action", "after", "reason", "source"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    assert!(v["changes"][1].get("before").is_some());
    assert_eq!(v["notes"].as_array().map(Vec::len), Some(2));
    let s = plan.summary();
    assert_eq!(
        v["summary"],
        json!({"create": s.create, "change": s.change, "move": s.moves, "delete": s.delete})
    );
}

#[test]
fn markdown_kitchen_sink_is_not_truncated() {
    let plan = kitchen_sink();
    let md = markdown(&plan);
    assert!(!md.contains("not shown"));
    assert!(
        md.starts_with("### orgctl plan for `o-abc123defg` (management account `111111111111`)")
    );
    let access_at = md.find("#### Access changes (").expect("access");
    let others_at = md.find("#### Other changes (").expect("others");
    assert!(access_at < others_at);
    assert!(md.find("| Resource |").expect("table") < access_at);
    // Access changes are never collapsed.
    assert!(!md[access_at..others_at].contains("<details>"));
    for c in plan
        .changes
        .iter()
        .filter(|c| crate::describe::in_access_section(c))
    {
        let at = md
            .find(&crate::markdown::escape(&c.reason))
            .expect("reason shown");
        assert!(at > access_at && at < others_at, "{}", c.address);
    }
    assert!(md.contains("**Plan: 5 to create, 9 to change, 2 to move, 3 to delete.**"));
    assert!(md.contains("This plan cannot be applied:"));
}

#[test]
fn markdown_escapes_names_and_text() {
    let mut plan = empty_plan();
    plan.changes.push(change(
        "account we|rd`<b>name",
        ResourceKind::Account,
        Action::Create,
        None,
        Some(json!({"name": "we|rd`<b>name"})),
        "Because <script>alert(1)</script> | *bold* [link](x) ~~s~~ & `code`",
        None,
        vec![],
    ));
    plan.changes.push(change(
        "attachment scp/a`b -> /O|U<x>",
        ResourceKind::Attachment,
        Action::Attach,
        None,
        None,
        "r <i>",
        None,
        vec![],
    ));
    plan.warnings.push(Warning {
        address: "account ``x".to_owned(),
        message: "<img src=x> |".to_owned(),
        source: None,
    });
    let md = markdown(&plan);
    assert_balanced_markdown(&md);
    assert!(md.contains("SCP ``a`b`` will apply to `/O|U<x>` (and everything below it)"));
    assert!(md.contains("r \\<i\\>"));
    assert!(md.contains("```account ``x```"));
    assert!(md.contains("\\<img src=x\\> \\|"));
    let prose = without_code_spans(&outside_fences(&md));
    assert!(!prose.contains("/O|U"), "names are in code spans");
    // Outside code, every `<` is either escaped or one of the renderer's own tags.
    for (at, _) in prose.match_indices('<') {
        let escaped = prose[..at].ends_with('\\');
        let own = [
            "<details>",
            "</details>",
            "<summary>",
            "</summary>",
            "<sub>",
            "</sub>",
        ]
        .iter()
        .any(|t| prose[at..].starts_with(t));
        assert!(escaped || own, "raw < at {at}: {prose}");
    }
    // Inside the diff block names and reasons are verbatim (nothing there is markup).
    assert!(md.contains("+ account we|rd`<b>name will be created"));
    assert!(md.contains("      Because <script>alert(1)</script> | *bold*"));
    assert!(!prose.contains("<script>"));
}

#[test]
fn markdown_truncates_a_large_plan_at_the_limit() {
    let plan = big_plan(5_000);
    let md = markdown(&plan);
    let chars = md.chars().count();
    assert!(chars <= MARKDOWN_LIMIT, "{chars} characters");
    assert!(
        chars > MARKDOWN_LIMIT - 5_000,
        "uses the space it has: {chars}"
    );
    assert_balanced_markdown(&md);
    let s = plan.summary();
    assert!(md.contains(&format!(
        "**Plan: {} to create, {} to change, {} to move, {} to delete.**",
        s.create, s.change, s.moves, s.delete
    )));
    let total_row = md
        .lines()
        .find(|l| l.starts_with("| **Total** |"))
        .expect("total row");
    let total: usize = total_row
        .split('|')
        .filter_map(|c| c.trim().trim_matches('*').parse::<usize>().ok())
        .sum();
    assert_eq!(total, 5_000);
    // Errors survive truncation.
    assert!(md.contains("This plan cannot be applied:"));
    assert!(md.contains("Still holds unmanaged accounts."));
    // The note counts exactly the changes not shown.
    let note = md
        .lines()
        .find(|l| l.starts_with("**… "))
        .expect("truncation note");
    assert!(note.contains("(output truncated at 60,000 characters)"));
    assert!(md.contains("Run `orgctl plan --format text` or see the JSON plan artifact"));
    let not_shown: usize = note
        .trim_start_matches("**… ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("count in note");
    // Access changes: the 1,000 SCP attachments and the 1,000 account moves.
    let shown_access = md
        .lines()
        .filter(|l| l.starts_with("- `+` **SCP") || l.starts_with("- `→` **`account"))
        .count();
    let shown_other = md
        .lines()
        .filter(|l| {
            ["+ account", "~ ou", "- policy"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count();
    assert!(shown_access > 0);
    // The cut section says so where it is cut.
    assert!(md.contains(&format!(
        "- **… {} more not shown here** (see the end of this comment)",
        2_000 - shown_access
    )));
    assert_eq!(shown_access + shown_other + not_shown, 5_000);
    assert!(md.contains(&format!(
        "{} of 5000 changes shown",
        shown_access + shown_other
    )));
    assert!(md.trim_end().ends_with("for the full plan."));
}

#[test]
fn markdown_stays_within_any_limit_and_balanced() {
    let plan = big_plan(400);
    for limit in (2_000..40_000).step_by(1_337) {
        let md = crate::markdown::render(&plan, limit);
        assert!(md.chars().count() <= limit, "limit {limit}");
        assert_balanced_markdown(&md);
        assert!(md.contains("not shown"));
    }
}

/// Issue 7: a long access review is cut like the changes, whole entries only, and the closing
/// note counts the review entries not shown.
#[test]
fn markdown_cuts_a_long_access_review_within_the_limit() {
    use orgctl_planner::{AccessEffect, AccessEntry, AccessPermissions, PrincipalAccess};
    let mut plan = big_plan(50);
    plan.access = (0..400)
        .map(|p| PrincipalAccess {
            principal: format!("arn:aws:iam::{:012}:root", 900_000_000_000u64 + p),
            label: format!("partner P{p}"),
            entries: (0..5)
                .map(|e| AccessEntry {
                    effect: if e % 2 == 0 {
                        AccessEffect::Gains
                    } else {
                        AccessEffect::Changes
                    },
                    grant: format!("grant-{p}-{e}"),
                    role_name: format!("grant-{p}-{e}"),
                    accounts: (0..20).map(|a| format!("account-{a}")).collect(),
                    permissions: AccessPermissions {
                        managed_policies: vec!["AdministratorAccess".into()],
                        inline_policies: vec![],
                        permissions_boundary: None,
                    },
                    expires: Some("2027-06-30".into()),
                    mfa: true,
                    external_id_required: true,
                    max_session_secs: 14400,
                    why: "new grant or target".into(),
                    out_of_band: false,
                    details: vec!["+ managed policy AdministratorAccess".into()],
                    diff: None,
                })
                .collect(),
        })
        .collect();
    let md = markdown(&plan);
    assert!(md.chars().count() <= crate::MARKDOWN_LIMIT);
    assert_balanced_markdown(&md);
    let tail: String = md.chars().skip(md.chars().count() - 600).collect();
    assert!(md.contains("access review entries"), "{tail}");
    // The review comes first.
    let review_at = md.find("partner P0").expect("the review is shown");
    assert!(md.find("#### Access changes").expect("section") < review_at);
}

#[test]
fn markdown_keeps_errors_when_access_changes_fill_the_comment() {
    let mut plan = empty_plan();
    for i in 0..5_000 {
        plan.changes.push(change(
            &format!("attachment scp/guard -> /Workloads/Team{i}"),
            ResourceKind::Attachment,
            Action::Detach,
            None,
            None,
            "No longer listed in the policy's targets.",
            None,
            vec![],
        ));
    }
    for i in 0..3 {
        plan.errors.push(PlanError {
            address: format!("ou /Bad{i}"),
            message: format!("error number {i}"),
            source: None,
        });
    }
    let md = markdown(&plan);
    assert!(md.chars().count() <= MARKDOWN_LIMIT);
    assert_balanced_markdown(&md);
    for i in 0..3 {
        assert!(md.contains(&format!("error number {i}")));
    }
    assert!(md.contains("SCP `guard` will no longer apply to `/Workloads/Team0`"));
    assert!(md.contains("more changes not shown"));
}

#[test]
fn rendering_is_linear_in_plan_size() {
    // 100,000 changes: a quadratic renderer would take minutes here.
    let plan = big_plan(100_000);
    let start = std::time::Instant::now();
    let t = plain(&plan);
    let md = markdown(&plan);
    let elapsed = start.elapsed();
    assert!(t.lines().count() > 300_000);
    assert!(md.chars().count() <= MARKDOWN_LIMIT);
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
}

/// Characters that must never reach a reader raw: terminal controls, bidirectional controls,
/// zero-width and other invisible or look-alike-space characters.
const INVISIBLE: [char; 16] = [
    '\u{1b}',
    '\u{7f}',
    '\u{9b}',
    '\u{200b}',
    '\u{200c}',
    '\u{200d}',
    '\u{2060}',
    '\u{feff}',
    '\u{202e}',
    '\u{2067}',
    '\u{61c}',
    '\u{ad}',
    '\u{a0}',
    '\u{2028}',
    '\u{3164}',
    '\u{e0041}',
];

/// A plan whose every input string carries every invisible character.
fn hostile_plan() -> Plan {
    let evil: String = INVISIBLE.iter().collect();
    let mut plan = empty_plan();
    plan.changes.push(change(
        &format!("ou /Work{evil}loads"),
        ResourceKind::Ou,
        Action::Create,
        None,
        Some(json!({"path": format!("/Work{evil}loads"), "tags": {format!("k{evil}"): format!("v{evil}")}})),
        &format!("because{evil}"),
        Some(SourceLoc {
            file: format!("desired-state/o{evil}.yaml"),
            line: 3,
            column: 1,
        }),
        vec![],
    ));
    plan.changes.push(change(
        &format!("attachment scp/p{evil} -> /Work{evil}loads"),
        ResourceKind::Attachment,
        Action::Attach,
        None,
        None,
        &format!("r{evil}"),
        None,
        vec![],
    ));
    plan.notes.push(Note {
        address: format!("ou /Le{evil}gacy"),
        message: format!("not managed{evil}"),
    });
    plan.warnings.push(Warning {
        address: format!("account a{evil}"),
        message: format!("w{evil}"),
        source: None,
    });
    plan.errors.push(PlanError {
        address: format!("account b{evil}"),
        message: format!("e{evil}"),
        source: None,
    });
    plan
}

#[test]
fn no_rendering_lets_an_invisible_or_control_character_through() {
    let plan = hostile_plan();
    for (name, out) in [
        ("text", text(&plan, &RenderOptions { color: false })),
        ("markdown", markdown(&plan)),
        ("json", json(&plan)),
    ] {
        for c in INVISIBLE {
            assert!(
                !out.contains(c),
                "{name} prints U+{:04X} raw:\n{out}",
                u32::from(c)
            );
        }
    }
    // Text and Markdown show each as a visible escape; JSON escapes it and reads back exactly.
    let t = text(&plan, &RenderOptions { color: false });
    assert!(t.contains("ou /Work\\u{1b}\\u{7f}\\u{9b}\\u{200b}"), "{t}");
    assert!(markdown(&plan).contains("/Le\\u{1b}"));
    let out = json(&plan);
    assert!(
        out.contains("\\u200b") && out.contains("\\udb40\\udc41"),
        "{out}"
    );
    assert_eq!(planfile::from_json(&out).expect("reads back"), plan);
}

#[test]
fn markdown_text_cannot_mention_link_or_typeset() {
    let mut plan = empty_plan();
    plan.warnings.push(Warning {
        address: "account x".to_owned(),
        message: "ping @security-team and $x$ and ![img](http://x)".to_owned(),
        source: None,
    });
    let md = markdown(&plan);
    assert!(md.contains("ping \\@security-team"), "{md}");
    assert!(md.contains("\\$x\\$"), "{md}");
    assert!(md.contains("\\!\\[img\\]"), "{md}");
}

mod hostile_input {
    use proptest::prelude::*;

    use super::*;

    /// Strings mixing plain text, Markdown and HTML syntax, and characters that do not show.
    fn hostile() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            "[a-zA-Z0-9 /._-]{0,8}",
            Just("`".to_owned()),
            Just("```".to_owned()),
            Just("|".to_owned()),
            Just("</details>".to_owned()),
            Just("<script>".to_owned()),
            Just("@team".to_owned()),
            Just("\n".to_owned()),
            Just("\r".to_owned()),
            Just("\u{1b}[2J".to_owned()),
            Just("\u{9b}".to_owned()),
            proptest::char::any().prop_map(String::from),
            proptest::sample::select(INVISIBLE.to_vec()).prop_map(String::from),
        ];
        proptest::collection::vec(pieces, 0..6).prop_map(|v| v.concat())
    }

    fn plan_of(s: &[String]) -> Plan {
        let mut plan = empty_plan();
        plan.changes.push(change(
            &format!("ou /{}", s[0]),
            ResourceKind::Ou,
            Action::Create,
            None,
            Some(json!({"path": format!("/{}", s[0]), "tags": {s[1].clone(): s[2].clone()}})),
            &s[3],
            Some(SourceLoc {
                file: s[4].clone(),
                line: 1,
                column: 1,
            }),
            vec![],
        ));
        plan.changes.push(change(
            &format!("attachment scp/{} -> /{}", s[1], s[0]),
            ResourceKind::Attachment,
            Action::Detach,
            None,
            None,
            &s[2],
            None,
            vec![],
        ));
        plan.notes.push(Note {
            address: format!("ou /{}", s[3]),
            message: s[4].clone(),
        });
        plan.warnings.push(Warning {
            address: s[0].clone(),
            message: s[1].clone(),
            source: None,
        });
        plan.errors.push(PlanError {
            address: s[2].clone(),
            message: s[3].clone(),
            source: None,
        });
        plan
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the input holds, no rendering prints a character that does not show (the
        /// renderers' own line breaks aside), Markdown stays balanced, and JSON reads back.
        #[test]
        fn no_input_reaches_the_reader_raw(s in proptest::collection::vec(hostile(), 5)) {
            let plan = plan_of(&s);
            let md = markdown(&plan);
            for (name, out) in [
                ("text", text(&plan, &RenderOptions { color: false })),
                ("markdown", md.clone()),
                ("json", json(&plan)),
            ] {
                // The warning marker ⚠️ is the renderer's own (with its variation selector).
                let raw = out
                    .replace("\u{26a0}\u{fe0f}", "")
                    .chars()
                    .find(|c| *c != '\n' && orgctl_model::text::is_invisible(*c));
                prop_assert!(raw.is_none(), "{name} prints {raw:?} raw:\n{out}");
            }
            // Fences open and close on lines of their own; outside fences and code spans, the
            // only HTML is the renderer's own, balanced.
            let fence_lines = md
                .lines()
                .filter(|l| {
                    let body = l.trim_start_matches(' ');
                    l.len() - body.len() <= 3 && body.starts_with("```")
                })
                .count();
            prop_assert!(fence_lines % 2 == 0, "unbalanced fences:\n{md}");
            let prose = without_code_spans(&outside_fences(&md));
            prop_assert_eq!(
                prose.matches("<details>").count(),
                prose.matches("</details>").count(),
                "unbalanced <details>:\n{}",
                md
            );
            prop_assert!(!prose.contains("<script>"), "{}", md);
            prop_assert_eq!(planfile::from_json(&json(&plan)).expect("reads back"), plan);
        }
    }
}

mod access;

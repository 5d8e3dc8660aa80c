//! Planner unit tests: small desired/live pairs built in code, checked through a compact dump of
//! the plan (`action address` per line), so a refactor of the plan types edits one function.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_model::{
    AccountSpec, AccountStatus, DesiredState, Lifecycle, LiveAccount, LiveOrganization, LiveOu,
    LivePolicy, LiveState, OrganizationSpec, OuSpec, PolicySpec, PolicyType, SourceLoc, Tags,
    TargetRef, child_path,
};

use crate::{Action, Plan, PlanOptions, plan};

const MGMT: &str = "111111111111";

fn loc(line: u32) -> SourceLoc {
    SourceLoc {
        file: "t.yaml".into(),
        line,
        column: 1,
    }
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn managed() -> Tags {
    tags(&[("managed-by", "orgctl")])
}

struct D(DesiredState);

impl D {
    fn new() -> Self {
        D(DesiredState {
            grants: Default::default(),
            organization: OrganizationSpec {
                member_role: orgctl_model::DEFAULT_MEMBER_ROLE.to_string(),
                plan_role: None,
                email_domains: Default::default(),
                management_account_id: MGMT.into(),
                enabled_policy_types: [PolicyType::ServiceControlPolicy].into(),
                protected_accounts: BTreeSet::new(),
                policies_per_target_limit: 5,
                ignore_tag_keys: BTreeSet::new(),
                root_full_aws_access: true,
                source: loc(1),
            },
            ous: BTreeMap::new(),
            accounts: BTreeMap::new(),
            policies: BTreeMap::new(),
        })
    }
    fn ou(mut self, path: &str, id: Option<&str>) -> Self {
        let name = path.rsplit('/').next().unwrap_or_default().to_owned();
        self.0.ous.insert(
            path.into(),
            OuSpec {
                production: false,
                path: path.into(),
                name,
                id: id.map(Into::into),
                tags: Tags::new(),
                full_aws_access: true,
                source: loc(10),
            },
        );
        self
    }
    fn account(mut self, name: &str, email: &str, ou: &str, t: Tags) -> Self {
        self.0.accounts.insert(
            name.into(),
            AccountSpec {
                name: name.into(),
                email: email.into(),
                ou: ou.into(),
                id: None,
                tags: t,
                lifecycle: Lifecycle::Active,
                full_aws_access: true,
                source: loc(20),
            },
        );
        self
    }
    fn scp(mut self, name: &str, content: &str, targets: &[TargetRef]) -> Self {
        self.0.policies.insert(
            name.into(),
            PolicySpec {
                name: name.into(),
                policy_type: PolicyType::ServiceControlPolicy,
                description: String::new(),
                content: content.into(),
                targets: targets.iter().cloned().collect(),
                tags: Tags::new(),
                source: loc(30),
            },
        );
        self
    }
}

struct L(LiveState);

impl L {
    fn new() -> Self {
        let mut s = LiveState {
            organization: LiveOrganization {
                id: "o-test".into(),
                management_account_id: MGMT.into(),
                root_id: "r-root".into(),
                enabled_policy_types: [PolicyType::ServiceControlPolicy].into(),
                root_record: None,
            },
            ..LiveState::default()
        };
        s.policies.push(LivePolicy {
            id: "p-FullAWSAccess".into(),
            name: "FullAWSAccess".into(),
            policy_type: PolicyType::ServiceControlPolicy,
            description: String::new(),
            content: "{}".into(),
            aws_managed: true,
            tags: Tags::new(),
            targets: vec!["r-root".into()],
        });
        L(s)
    }
    fn faa(&mut self, target: &str) {
        self.0.policies[0].targets.push(target.into());
    }
    fn ou(mut self, id: &str, name: &str, parent: &str, t: Tags) -> Self {
        self.0.ous.push(LiveOu {
            id: id.into(),
            name: name.into(),
            parent_id: parent.into(),
            tags: t,
        });
        self.faa(id);
        self
    }
    fn account(mut self, id: &str, name: &str, email: &str, parent: &str, t: Tags) -> Self {
        self.0.accounts.push(LiveAccount {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            parent_id: parent.into(),
            status: AccountStatus::Active,
            tags: t,
        });
        self.faa(id);
        self
    }
    fn scp(mut self, id: &str, name: &str, content: &str, t: Tags, targets: &[&str]) -> Self {
        self.0.policies.push(LivePolicy {
            id: id.into(),
            name: name.into(),
            policy_type: PolicyType::ServiceControlPolicy,
            description: String::new(),
            content: content.into(),
            aws_managed: false,
            tags: t,
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        });
        self
    }
}

fn run(d: &D, l: &L) -> Plan {
    plan(
        &d.0,
        &l.0,
        &PlanOptions {
            today: "2026-11-27".into(),
        },
    )
}

/// Asserts that one of the plan's errors says each of `words`.
fn assert_error_saying(p: &Plan, words: &[&str]) {
    assert!(
        p.errors
            .iter()
            .any(|e| words.iter().all(|w| e.message.contains(w))),
        "{}",
        dump(p)
    );
}

/// One line per change (`action address`), then `error: …` lines.
fn dump(p: &Plan) -> String {
    let mut out: Vec<String> = p
        .changes
        .iter()
        .map(|c| format!("{} {}", c.action.as_str(), c.address))
        .collect();
    out.extend(
        p.errors
            .iter()
            .map(|e| format!("error: {}: {}", e.address, e.message)),
    );
    out.join("\n")
}

fn index_of(p: &Plan, address: &str, action: Action) -> usize {
    p.changes
        .iter()
        .position(|c| c.address == address && c.action == action)
        .unwrap_or_else(|| panic!("no {action:?} {address} in\n{}", dump(p)))
}

const DENY: &str = r#"{"Statement":[{"Action":"organizations:LeaveOrganization","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"}"#;

#[test]
fn empty_organization_creates_everything_in_dependency_order() {
    let d = D::new()
        .ou("/Workloads", None)
        .ou("/Workloads/Staging", None)
        .account(
            "staging",
            "s@partner.example",
            "/Workloads/Staging",
            tags(&[("env", "stg")]),
        )
        .scp(
            "deny-leave",
            DENY,
            &[TargetRef::Root, TargetRef::Ou("/Workloads/Staging".into())],
        );
    let p = run(&d, &L::new());
    assert_eq!(
        dump(&p),
        "create ou /Workloads\n\
         create ou /Workloads/Staging\n\
         create policy scp/deny-leave\n\
         attach attachment scp/deny-leave -> root\n\
         attach attachment scp/deny-leave -> /Workloads/Staging\n\
         create account staging"
    );
    // The OU carries its SCP before the account lands in it.
    assert!(
        index_of(
            &p,
            "attachment scp/deny-leave -> /Workloads/Staging",
            Action::Attach
        ) < index_of(&p, "account staging", Action::Create)
    );
    assert_eq!(p.summary().create, 4);
    assert_eq!(p.summary().change, 2);
}

#[test]
fn in_sync_organization_plans_nothing_and_notes_unmanaged_items() {
    let d = D::new()
        .ou("/A", None)
        .account("a", "a@x.example", "/A", Tags::new());
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-ct", "ControlTower", "r-root", Tags::new())
        .account("222222222222", "a", "A@X.example", "ou-a", Tags::new())
        .account(
            "333333333333",
            "other",
            "o@x.example",
            "r-root",
            Tags::new(),
        );
    let p = run(&d, &l);
    assert!(p.is_empty(), "{}", dump(&p));
    let notes: Vec<&str> = p.notes.iter().map(|n| n.address.as_str()).collect();
    assert_eq!(notes, ["ou /ControlTower", "account other"]);
}

#[test]
fn moves_retags_and_adopts() {
    let d = D::new().ou("/A", None).ou("/B", None).account(
        "a",
        "a@x.example",
        "/B",
        tags(&[("env", "prod"), ("team", "x")]),
    );
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-b", "B", "r-root", tags(&[("old", "1")]))
        .account(
            "222222222222",
            "a",
            "a@x.example",
            "ou-a",
            tags(&[("env", "stg"), ("gone", "1")]),
        );
    let p = run(&d, &l);
    assert_eq!(dump(&p), "update ou /B\nmove account a\nupdate account a");
    let adopt = &p.changes[0];
    assert!(adopt.reason.starts_with("Adopted"), "{}", adopt.reason);
    let tag_ops = &p.changes[2].ops;
    assert_eq!(tag_ops.len(), 2, "{tag_ops:?}");
}

#[test]
fn a_resource_another_tool_marked_as_its_own_is_adopted_and_the_plan_says_so() {
    let d = D::new().ou("/A", None);
    let l = L::new().ou("ou-a", "A", "r-root", tags(&[("managed-by", "terraform")]));
    let p = run(&d, &l);
    assert_eq!(dump(&p), "update ou /A");
    let c = &p.changes[0];
    assert_eq!(
        c.reason,
        "Adopted: it is tagged managed-by: terraform, not created by orgctl; it gets \
         managed-by: orgctl and the YAML's tags."
    );
}

#[test]
fn ignored_tag_keys_are_neither_set_nor_removed() {
    let mut d = D::new().account("a", "a@x.example", "/", tags(&[("env", "prod")]));
    d.0.organization
        .ignore_tag_keys
        .insert("aws-controltower".into());
    let l = L::new().account(
        "222222222222",
        "a",
        "a@x.example",
        "r-root",
        tags(&[("env", "prod"), ("aws-controltower", "x")]),
    );
    assert!(run(&d, &l).is_empty());
}

/// The executor finishes a resumed or adopted account by removing tags the op lacks; the op
/// carries the ignored keys so that it leaves them alone, as the planner does.
#[test]
fn create_account_carries_the_ignored_tag_keys() {
    let mut d = D::new().account("a", "a@x.example", "/", tags(&[("env", "prod")]));
    d.0.organization
        .ignore_tag_keys
        .insert("aws-controltower".into());
    let p = run(&d, &L::new());
    assert_eq!(dump(&p), "create account a");
    assert!(
        matches!(
            &p.changes[0].ops[..],
            [orgctl_model::Op::CreateAccount { ignore_tag_keys, .. }]
                if ignore_tag_keys == &BTreeSet::from(["aws-controltower".to_owned()])
        ),
        "{:?}",
        p.changes[0].ops
    );
}

#[test]
fn ou_with_id_and_new_name_is_renamed() {
    let d = D::new().ou("/Platform", Some("ou-a")).account(
        "a",
        "a@x.example",
        "/Platform",
        Tags::new(),
    );
    let l = L::new().ou("ou-a", "Infra", "r-root", managed()).account(
        "222222222222",
        "a",
        "a@x.example",
        "ou-a",
        Tags::new(),
    );
    assert_eq!(dump(&run(&d, &l)), "rename ou /Platform");
}

#[test]
fn ou_with_id_under_new_parent_is_replaced_and_its_accounts_follow() {
    let d = D::new()
        .ou("/New", None)
        .ou("/New/Team", Some("ou-team"))
        .ou("/New/Team/Sub", None)
        .account("a", "a@x.example", "/New/Team", Tags::new());
    let l = L::new()
        .ou("ou-old", "Old", "r-root", managed())
        .ou("ou-team", "Team", "ou-old", managed())
        .ou("ou-sub", "Sub", "ou-team", managed())
        .account("222222222222", "a", "a@x.example", "ou-team", Tags::new())
        .account(
            "333333333333",
            "stray",
            "s@x.example",
            "ou-sub",
            Tags::new(),
        );
    let p = run(&d, &l);
    assert_eq!(
        dump(&p),
        "create ou /New\n\
         replace ou /New/Team\n\
         replace ou /New/Team/Sub\n\
         move account a\n\
         move account stray\n\
         delete ou /Old/Team/Sub\n\
         delete ou /Old/Team\n\
         delete ou /Old"
    );
    assert!(p.changes[1].reason.contains("OU id will change"));
}

#[test]
fn changed_path_without_id_is_delete_plus_create() {
    let d = D::new().ou("/B", None);
    let l = L::new().ou("ou-a", "A", "r-root", managed());
    let p = run(&d, &l);
    assert_eq!(dump(&p), "create ou /B\ndelete ou /A");
    assert!(p.changes[0].reason.contains("give it its `id`"));
}

#[test]
fn deleting_an_ou_that_keeps_unmanaged_content_is_an_error() {
    let d = D::new();
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-ct", "CT", "ou-a", Tags::new())
        .account("333333333333", "stray", "s@x.example", "ou-a", Tags::new());
    let p = run(&d, &l);
    assert!(p.changes.is_empty(), "{}", dump(&p));
    assert_eq!(p.errors.len(), 1);
    let msg = &p.errors[0].message;
    assert!(
        msg.contains("account stray (333333333333)") && msg.contains("OU CT (ou-ct)"),
        "{msg}"
    );
}

#[test]
fn unmanaged_ou_is_never_deleted() {
    let l = L::new().ou("ou-x", "X", "r-root", Tags::new());
    let p = run(&D::new(), &l);
    assert!(p.is_empty() && p.errors.is_empty());
    assert_eq!(p.notes.len(), 1);
}

#[test]
fn policy_document_compared_canonically_and_diffed() {
    let d = D::new().scp("deny-leave", DENY, &[TargetRef::Root]);
    let pretty = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Resource\": \"*\", \"Effect\": \"Deny\", \"Action\": \"organizations:LeaveOrganization\"}]\n}";
    let l = L::new().scp("p-1", "deny-leave", pretty, managed(), &["r-root"]);
    assert!(
        run(&d, &l).is_empty(),
        "whitespace and key order are not changes"
    );
    let l = L::new().scp(
        "p-1",
        "deny-leave",
        &pretty.replace("Deny", "Allow"),
        managed(),
        &["r-root"],
    );
    let p = run(&d, &l);
    assert_eq!(dump(&p), "update policy scp/deny-leave");
    let diff = p.changes[0].diff.as_deref().unwrap_or_default();
    assert!(
        diff.contains("-      \"Effect\": \"Allow\"")
            && diff.contains("+      \"Effect\": \"Deny\""),
        "{diff}"
    );
}

#[test]
fn managed_policy_removed_from_yaml_is_detached_then_deleted_and_unmanaged_left() {
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .scp("p-1", "old", DENY, managed(), &["ou-a"])
        .scp("p-ct", "aws-guardrails", DENY, Tags::new(), &["ou-a"]);
    let d = D::new().ou("/A", None);
    let p = run(&d, &l);
    assert_eq!(
        dump(&p),
        "detach attachment scp/old -> /A\ndelete policy scp/old"
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.address == "policy scp/aws-guardrails")
    );
}

#[test]
fn below_the_limit_attach_comes_before_detach() {
    let d = D::new()
        .ou("/A", None)
        .scp("new", DENY, &[TargetRef::Ou("/A".into())]);
    let l =
        L::new()
            .ou("ou-a", "A", "r-root", managed())
            .scp("p-1", "old", DENY, managed(), &["ou-a"]);
    let p = run(&d, &l);
    assert_eq!(
        dump(&p),
        "create policy scp/new\nattach attachment scp/new -> /A\ndetach attachment scp/old -> /A\ndelete policy scp/old"
    );
}

#[test]
fn removing_full_aws_access_needs_another_scp() {
    let mut d = D::new()
        .ou("/A", None)
        .scp("allow", DENY, &[TargetRef::Ou("/A".into())]);
    if let Some(ou) = d.0.ous.get_mut("/A") {
        ou.full_aws_access = false;
    }
    let l = L::new().ou("ou-a", "A", "r-root", managed());
    let p = run(&d, &l);
    assert_eq!(
        dump(&p),
        "create policy scp/allow\nattach attachment scp/allow -> /A\ndetach attachment scp/FullAWSAccess -> /A"
    );
}

#[test]
fn detaching_the_last_scp_of_a_target_is_an_error() {
    // /X has only FullAWSAccess, and the YAML declares it without.
    let mut d = D::new().ou("/X", None);
    if let Some(ou) = d.0.ous.get_mut("/X") {
        ou.full_aws_access = false;
    }
    let l = L::new().ou("ou-x", "X", "r-root", managed());
    let p = run(&d, &l);
    assert_error_saying(&p, &["without any service control policy"]);
}

#[test]
fn protected_accounts_are_never_moved_or_closed() {
    let mut d = D::new()
        .ou("/A", None)
        .account("a", "a@x.example", "/A", Tags::new());
    d.0.organization
        .protected_accounts
        .insert("222222222222".into());
    let l = L::new().ou("ou-a", "A", "r-root", managed()).account(
        "222222222222",
        "a",
        "a@x.example",
        "r-root",
        Tags::new(),
    );
    let p = run(&d, &l);
    assert!(
        p.changes.is_empty() && p.errors[0].message.contains("protected"),
        "{}",
        dump(&p)
    );
    if let Some(a) = d.0.accounts.get_mut("a") {
        a.ou = "/".into();
        a.lifecycle = Lifecycle::Closed;
    }
    let p = run(&d, &l);
    assert!(
        p.changes.is_empty() && p.errors[0].message.contains("never closed"),
        "{}",
        dump(&p)
    );
}

#[test]
fn closed_lifecycle_closes_last_and_renamed_account_warns() {
    let mut d = D::new()
        .account("gone", "g@x.example", "/", Tags::new())
        .account("new-name", "n@x.example", "/", Tags::new());
    if let Some(a) = d.0.accounts.get_mut("gone") {
        a.lifecycle = Lifecycle::Closed;
    }
    let l = L::new()
        .account("222222222222", "gone", "g@x.example", "r-root", Tags::new())
        .account(
            "333333333333",
            "old-name",
            "n@x.example",
            "r-root",
            Tags::new(),
        );
    let p = run(&d, &l);
    assert_eq!(dump(&p), "close account gone");
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("`new-name`") && w.message.contains("`old-name`"))
    );
}

#[test]
fn wrong_management_account_is_refused() {
    let mut l = L::new();
    l.0.organization.management_account_id = "999999999999".into();
    let p = run(&D::new().ou("/A", None), &l);
    assert!(p.changes.is_empty());
    assert!(p.errors[0].message.contains("999999999999") && p.errors[0].message.contains(MGMT));
}

#[test]
fn policy_type_is_enabled_first() {
    let mut d = D::new();
    d.0.organization
        .enabled_policy_types
        .insert(PolicyType::TagPolicy);
    let p = run(&d, &L::new());
    assert_eq!(dump(&p), "enable organization policy-type TAG_POLICY");
}

#[test]
fn planning_is_deterministic() {
    let d = D::new()
        .ou("/A", None)
        .ou("/B", None)
        .account("a", "a@x.example", "/B", Tags::new())
        .scp(
            "s",
            DENY,
            &[TargetRef::Root, TargetRef::Account("a".into())],
        );
    let l = L::new().ou("ou-a", "A", "r-root", Tags::new()).account(
        "222222222222",
        "a",
        "a@x.example",
        "ou-a",
        Tags::new(),
    );
    let mut shuffled = L(l.0.clone());
    shuffled.0.ous.reverse();
    shuffled.0.policies.reverse();
    let (p1, p2) = (run(&d, &l), run(&d, &shuffled));
    assert_eq!(p1, p2);
}

#[test]
fn planner_is_linear_enough_for_large_organizations() {
    // Not a timing test (benchmarks measure speed): a smoke test that a 20,000-account plan
    // completes and is the size it should be.
    let mut d = D::new();
    let mut l = L::new();
    for o in 0..20 {
        let path = child_path("/", &format!("OU{o}"));
        d = d.ou(&path, None);
        l = l.ou(&format!("ou-{o}"), &format!("OU{o}"), "r-root", managed());
    }
    for i in 0..20_000u64 {
        let ou = format!("/OU{}", i % 20);
        let email = format!("a{i}@x.example");
        d = d.account(&format!("a{i}"), &email, &ou, Tags::new());
        // Every tenth account sits in the wrong OU.
        let parent = format!("ou-{}", (i + u64::from(i % 10 == 0)) % 20);
        l = l.account(
            &format!("{:012}", 100_000_000_000 + i),
            &format!("a{i}"),
            &email,
            &parent,
            Tags::new(),
        );
    }
    let p = run(&d, &l);
    assert_eq!(p.summary().moves, 2_000);
}

#[test]
fn a_resource_updated_twice_is_one_change() {
    // An unmanaged policy with another document is adopted and updated in one change.
    let d = D::new().scp("deny-leave", DENY, &[TargetRef::Root]);
    let l = L::new().scp(
        "p-1",
        "deny-leave",
        &DENY.replace("Deny", "Allow"),
        Tags::new(),
        &["r-root"],
    );
    let p = run(&d, &l);
    assert_eq!(dump(&p), "update policy scp/deny-leave");
    let c = &p.changes[0];
    assert_eq!(c.ops.len(), 2, "{:?}", c.ops);
    assert!(
        c.reason.starts_with("Document differs") && c.reason.contains("; adopted"),
        "{}",
        c.reason
    );
    assert!(c.diff.is_some());
}

mod access;
mod grants;
mod ou_names;
mod protection;
mod records;

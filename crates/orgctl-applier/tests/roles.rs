//! The applier with IAM operations (hand-built): they run through the IAM backend beside the
//! organization's, a failed or skipped operation on a role stops every later one on the same
//! role and every later widening one in the same account (narrowing still runs), and operations
//! in an account the same apply creates wait for it. The roles record (`orgctl:roles`): a
//! failed write of it stops the role creations of its account, it stays while a role there
//! could not be deleted, a crash between it and the role converges, and a scoped plan deletes
//! the roles of an account the YAML drops at the root (the record is read there).

use std::collections::BTreeSet;

use orgctl_applier::{ApplyOptions, ChangeOutcome, Silent, apply};
use orgctl_backend::iam::codes;
use orgctl_backend::{ApiError, Faulty, MemoryOrg, OrgApi, PollPolicy};
use orgctl_model::{GRANT_TAG_KEY, MANAGED_BY_KEY, Op, ROLE_PATH, Ref, RoleDefinition, Tags};
use orgctl_planner::{Action, Change, Plan, ResourceKind};

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const TRUST: &str = r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"}}],"Version":"2012-10-17"}"#;
const TRUST_B: &str = r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::888888888888:root"}}],"Version":"2012-10-17"}"#;

fn change(address: &str, ops: Vec<Op>) -> Change {
    Change {
        address: address.into(),
        kind: ResourceKind::Access,
        action: Action::Update,
        before: None,
        after: None,
        diff: None,
        reason: "test".into(),
        source: None,
        ops,
    }
}

fn plan(changes: Vec<Change>) -> Plan {
    Plan {
        changes,
        access: Vec::new(),
        notes: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        organization_id: String::new(),
        management_account_id: String::new(),
        today: "2026-12-02".into(),
        live_fingerprint: String::new(),
        desired_fingerprint: String::new(),
        records: Vec::new(),
    }
}

fn create(account: &Ref, name: &str) -> Op {
    Op::CreateRole {
        account: account.clone(),
        role: RoleDefinition {
            name: name.into(),
            path: ROLE_PATH.into(),
            trust_policy: TRUST.into(),
            description: "partner".into(),
            max_session_secs: 3600,
            tags: [
                (MANAGED_BY_KEY.to_owned(), "orgctl".to_owned()),
                (GRANT_TAG_KEY.to_owned(), name.to_owned()),
            ]
            .into(),
        },
    }
}

fn attach(account: &Ref, name: &str, arn: &str) -> Op {
    Op::AttachRolePolicy {
        account: account.clone(),
        role_name: name.into(),
        policy_arn: arn.into(),
    }
}

fn detach(account: &Ref, name: &str, arn: &str) -> Op {
    Op::DetachRolePolicy {
        account: account.clone(),
        role_name: name.into(),
        policy_arn: arn.into(),
    }
}

fn trust(account: &Ref, name: &str) -> Op {
    Op::UpdateTrustPolicy {
        account: account.clone(),
        role_name: name.into(),
        trust_policy: TRUST_B.into(),
    }
}

async fn org_with_accounts() -> (MemoryOrg, Ref, Ref) {
    let org = MemoryOrg::new("111111111111", "mgmt@example.com");
    let mut ids = Vec::new();
    for n in ["a", "b"] {
        let s = org
            .create_account(n, &format!("{n}@example.com"), &Tags::new())
            .await
            .expect("account");
        ids.push(Ref::Id(s.account_id.expect("id")));
    }
    (org, ids[0].clone(), ids[1].clone())
}

#[tokio::test]
async fn after_a_failed_operation_on_a_role_later_operations_on_that_role_are_skipped() {
    let (org, a, b) = org_with_accounts().await;
    // Both roles exist with AdministratorAccess.
    let setup = plan(vec![
        change("grant/x a", vec![create(&a, "x"), attach(&a, "x", ADMIN)]),
        change("grant/x b", vec![create(&b, "x"), attach(&b, "x", ADMIN)]),
    ]);
    let report = apply(
        &setup,
        &org,
        &org.iam(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);

    // Narrow, then hand over: the narrowing in account a fails (the 1st IAM write).
    let p = plan(vec![
        change("narrow a", vec![detach(&a, "x", ADMIN)]),
        change("narrow b", vec![detach(&b, "X", ADMIN)]),
        change(
            "hand over a",
            vec![trust(&a, "X"), attach(&a, "x", READ_ONLY)],
        ),
        change(
            "hand over b",
            vec![trust(&b, "x"), attach(&b, "x", READ_ONLY)],
        ),
        change("other role in a", vec![create(&a, "y")]),
    ]);
    let iam = Faulty::new(org.iam())
        .fail_write(1, ApiError::service("", codes::SERVICE_FAILURE, "injected"));
    let report = apply(&p, &org, &iam, &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply");
    let outcomes: Vec<(&str, &ChangeOutcome)> = report
        .outcomes
        .iter()
        .map(|(a, o)| (a.as_str(), o))
        .collect();
    assert!(
        matches!(outcomes[0].1, ChangeOutcome::Failed(e) if e.contains("role x")),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1].1, &ChangeOutcome::Done);
    match outcomes[2].1 {
        ChangeOutcome::Skipped(why) => assert!(why.contains("role x"), "{why}"),
        other => panic!("the trust change must not land on a failed narrowing: {other:?}"),
    }
    assert_eq!(outcomes[3].1, &ChangeOutcome::Done);
    match outcomes[4].1 {
        ChangeOutcome::Skipped(why) => assert!(why.contains("account"), "{why}"),
        other => panic!("nothing may widen in an account after a failed narrowing: {other:?}"),
    }

    // In account a the partner still has the old trust and AdministratorAccess, nothing more.
    let roles = org.iam().access_roles();
    let x_in_a = roles
        .iter()
        .find(|r| Ref::Id(r.account_id.clone()) == a && r.role_name == "x")
        .expect("x in a");
    assert_eq!(x_in_a.trust_policy, TRUST);
    assert_eq!(x_in_a.managed_policies, BTreeSet::from([ADMIN.to_owned()]));
    // A rerun carries it out.
    let report = apply(&p, &org, &org.iam(), &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);
}

/// The case the no-widening property found: in one account, role g1 (trusting the partner,
/// AdministratorAccess) goes away and role g2 is handed over to the same partner. When g1's
/// narrowing fails, g2 must not gain the partner: the partner would hold both roles.
#[tokio::test]
async fn a_failed_narrowing_of_one_role_stops_every_widening_in_its_account() {
    let (org, a, b) = org_with_accounts().await;
    let setup = plan(vec![
        change("g1 a", vec![create(&a, "g1"), attach(&a, "g1", ADMIN)]),
        change("g2 a", vec![create(&a, "g2"), attach(&a, "g2", READ_ONLY)]),
        change("g3 a", vec![create(&a, "g3")]),
        change("g2 b", vec![create(&b, "g2")]),
    ]);
    let report = apply(
        &setup,
        &org,
        &org.iam(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);
    let delete = |account: &Ref, name: &str| Op::DeleteRole {
        account: account.clone(),
        role_name: name.into(),
    };
    let p = plan(vec![
        change(
            "delete g1 a",
            vec![detach(&a, "g1", ADMIN), delete(&a, "g1")],
        ),
        change("delete g3 a", vec![delete(&a, "g3")]),
        change("hand over g2 a", vec![trust(&a, "g2")]),
        change("hand over g2 b", vec![trust(&b, "g2")]),
        change("new role in a", vec![create(&a, "g4")]),
    ]);
    let iam = Faulty::new(org.iam())
        .fail_write(1, ApiError::service("", codes::SERVICE_FAILURE, "injected"));
    let report = apply(&p, &org, &iam, &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply");
    let o: Vec<&ChangeOutcome> = report.outcomes.iter().map(|(_, o)| o).collect();
    assert!(matches!(o[0], ChangeOutcome::Failed(_)), "{o:?}");
    assert_eq!(o[1], &ChangeOutcome::Done, "narrowing still runs: {o:?}");
    assert!(matches!(o[2], ChangeOutcome::Skipped(_)), "{o:?}");
    assert_eq!(
        o[3],
        &ChangeOutcome::Done,
        "another account is independent: {o:?}"
    );
    assert!(matches!(o[4], ChangeOutcome::Skipped(_)), "{o:?}");
    let roles = org.iam().access_roles();
    let g2 = roles
        .iter()
        .find(|r| Ref::Id(r.account_id.clone()) == a && r.role_name == "g2")
        .expect("g2 in a");
    assert_eq!(
        g2.trust_policy, TRUST,
        "g2 in a still trusts only its old principal"
    );
    // A rerun carries it out.
    let report = apply(&p, &org, &org.iam(), &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);
}

#[tokio::test]
async fn role_operations_in_a_new_account_wait_for_it_and_are_skipped_when_it_fails() {
    let org = MemoryOrg::new("111111111111", "mgmt@example.com").with_create_account_polls(2);
    let root = Ref::Id(org.root_id());
    let new = Ref::NewAccount("new@example.com".into());
    let p = plan(vec![
        change(
            "account new",
            vec![Op::CreateAccount {
                name: "new".into(),
                email: "new@example.com".into(),
                parent: root,
                tags: Tags::new(),
                ignore_tag_keys: BTreeSet::new(),
            }],
        ),
        change(
            "grant/x new",
            vec![create(&new, "x"), attach(&new, "x", ADMIN)],
        ),
    ]);
    let options = ApplyOptions {
        poll: PollPolicy {
            initial: std::time::Duration::from_millis(1),
            max: std::time::Duration::from_millis(2),
            timeout: std::time::Duration::from_secs(5),
        },
        ..ApplyOptions::default()
    };
    let report = apply(&p, &org, &org.iam(), &options, &mut Silent)
        .await
        .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);
    assert_eq!(org.iam().access_roles().len(), 1);

    // When the account cannot be created, its roles are skipped.
    let org =
        MemoryOrg::new("111111111111", "mgmt@example.com").with_foreign_emails(["new@example.com"]);
    let mut p = p;
    p.changes[0].ops = vec![Op::CreateAccount {
        name: "new".into(),
        email: "new@example.com".into(),
        parent: Ref::Id(org.root_id()),
        tags: Tags::new(),
        ignore_tag_keys: BTreeSet::new(),
    }];
    let report = apply(&p, &org, &org.iam(), &options, &mut Silent)
        .await
        .expect("apply");
    assert!(matches!(report.outcomes[0].1, ChangeOutcome::Failed(_)));
    assert!(matches!(report.outcomes[1].1, ChangeOutcome::Skipped(_)));
    assert_eq!(org.iam().write_call_count(), 0);
}

fn roles_record(account: &Ref) -> Op {
    Op::TagResource {
        resource: account.clone(),
        tags: [(
            orgctl_model::ROLES_RECORD_TAG.to_owned(),
            orgctl_model::ROLES_RECORD_VALUE.to_owned(),
        )]
        .into(),
    }
}

fn unrecord(account: &Ref) -> Op {
    Op::UntagResource {
        resource: account.clone(),
        keys: [orgctl_model::ROLES_RECORD_TAG.to_owned()].into(),
    }
}

async fn has_record(org: &MemoryOrg, account: &Ref) -> bool {
    let Ref::Id(id) = account else {
        return false;
    };
    let tags = org.list_tags(id).await.expect("tags");
    orgctl_model::has_roles_record(&tags)
}

/// The roles record is written in the change of the account's first role, before it: when the
/// write fails, no role is created there (neither that one nor a later one), so no role exists
/// where no record points to it; the rerun writes it and creates them.
#[tokio::test]
async fn a_failed_roles_record_write_stops_every_role_creation_in_its_account() {
    let (org, a, b) = org_with_accounts().await;
    let p = plan(vec![
        change(
            "grant/x a",
            vec![roles_record(&a), create(&a, "x"), attach(&a, "x", ADMIN)],
        ),
        change("grant/x b", vec![roles_record(&b), create(&b, "x")]),
        change("grant/y a", vec![create(&a, "y")]),
    ]);
    // The first write to the organization is a's record.
    let faulty =
        Faulty::new(org).fail_write(1, ApiError::service("", "ServiceException", "injected"));
    let report = apply(
        &p,
        &faulty,
        &faulty.inner().iam(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply");
    let o: Vec<&ChangeOutcome> = report.outcomes.iter().map(|(_, o)| o).collect();
    assert!(matches!(o[0], ChangeOutcome::Failed(_)), "{o:?}");
    assert_eq!(o[1], &ChangeOutcome::Done, "another account is independent");
    assert!(matches!(o[2], ChangeOutcome::Skipped(_)), "{o:?}");
    let org = faulty.into_inner();
    let in_a = |roles: &[orgctl_model::LiveAccessRole]| {
        roles
            .iter()
            .filter(|r| Ref::Id(r.account_id.clone()) == a)
            .count()
    };
    assert_eq!(
        in_a(&org.iam().access_roles()),
        0,
        "no role without a record"
    );
    assert!(!has_record(&org, &a).await && has_record(&org, &b).await);
    // The rerun converges.
    let report = apply(&p, &org, &org.iam(), &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);
    assert_eq!(in_a(&org.iam().access_roles()), 2);
    assert!(has_record(&org, &a).await);
}

/// The record goes with the change of the account's last role deletion, after it; when an
/// earlier deletion in that account failed, it stays (a role is left there).
#[tokio::test]
async fn the_roles_record_stays_when_a_role_of_its_account_could_not_be_deleted() {
    let (org, a, _) = org_with_accounts().await;
    let setup = plan(vec![change(
        "grant/x a",
        vec![
            roles_record(&a),
            create(&a, "x"),
            attach(&a, "x", ADMIN),
            create(&a, "y"),
        ],
    )]);
    let report = apply(
        &setup,
        &org,
        &org.iam(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);
    let delete = |name: &str| Op::DeleteRole {
        account: a.clone(),
        role_name: name.into(),
    };
    let p = plan(vec![
        change("delete x a", vec![detach(&a, "x", ADMIN), delete("x")]),
        change("delete y a", vec![delete("y"), unrecord(&a)]),
    ]);
    let iam = Faulty::new(org.iam())
        .fail_write(1, ApiError::service("", codes::SERVICE_FAILURE, "injected"));
    let report = apply(&p, &org, &iam, &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply");
    let o: Vec<&ChangeOutcome> = report.outcomes.iter().map(|(_, o)| o).collect();
    assert!(matches!(o[0], ChangeOutcome::Failed(_)), "{o:?}");
    match o[1] {
        ChangeOutcome::Skipped(why) => assert!(why.contains("orgctl:roles"), "{why}"),
        other => panic!("the record must stay while role x is there: {other:?}"),
    }
    assert!(has_record(&org, &a).await);
    let report = apply(&p, &org, &org.iam(), &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);
    assert!(!has_record(&org, &a).await);
    assert!(org.iam().access_roles().is_empty());
}

/// Loads the YAML files (path, text) as `plan` does.
fn load_yaml(files: &[(&str, &str)]) -> orgctl_model::DesiredState {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        std::fs::write(dir.path().join(path), text).expect("write");
    }
    let options = orgctl_manifest::LoadOptions {
        today: Some("2026-11-27".into()),
    };
    match orgctl_manifest::load_dir_with(dir.path(), &options) {
        Ok(l) => l.desired,
        Err(e) => panic!("the YAML does not load:\n{e}"),
    }
}

/// Plans as `orgctl plan` and `apply` do: a scoped read, IAM in the accounts
/// `orgctl_planner::iam_accounts` selects.
async fn scoped_plan(d: &orgctl_model::DesiredState, org: &MemoryOrg) -> Plan {
    let options = orgctl_planner::PlanOptions {
        today: "2026-11-27".into(),
    };
    let read = orgctl_backend::ReadOptions {
        scope: Some(orgctl_planner::read_scope(d)),
        ..orgctl_backend::ReadOptions::default()
    };
    let select =
        |live: &orgctl_model::LiveState| Some(orgctl_planner::iam_accounts(d, live, &options));
    let live = orgctl_backend::read_all_selecting(org, &org.iam(), &read, &select, &|_| {})
        .await
        .expect("read");
    let p = orgctl_planner::plan(d, &live, &options);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    p
}

/// [`scoped_plan`], applied; returns the plan.
async fn plan_and_apply(d: &orgctl_model::DesiredState, org: &MemoryOrg) -> Plan {
    let p = scoped_plan(d, org).await;
    let report = apply(&p, org, &org.iam(), &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply starts");
    assert!(report.is_success(), "{:?}", report.outcomes);
    p
}

/// An organization with `sandbox` at the root, and two YAMLs: one managing /Team and naming
/// `sandbox` (at the root) as the target of a grant, one dropping both the account and the
/// grant. Returns the organization, sandbox's id, and the two.
async fn sandbox_grant() -> (
    MemoryOrg,
    String,
    orgctl_model::DesiredState,
    orgctl_model::DesiredState,
) {
    let org = MemoryOrg::new("111111111111", "mgmt@example.com");
    let sandbox = org
        .create_account("sandbox", "sandbox@example.com", &Tags::new())
        .await
        .expect("account")
        .account_id
        .expect("id");
    const ORG: &str = "organization:\n  management_account_id: \"111111111111\"\n";
    const OUS: &str = "ous:\n  - path: /Team\n";
    let accounts = format!(
        "accounts:\n  - name: sandbox\n    id: \"{sandbox}\"\n    email: sandbox@example.com\n    ou: /\n"
    );
    const GRANTS: &str = "grants:\n  - name: partner\n    partner: Partner A\n    owner: platform\n    \
        ticket: OPS-1\n    principal: \"999999999999\"\n    external_id: partner-ext-4711\n    \
        permissions:\n      managed: [ReadOnlyAccess]\n    targets: [sandbox]\n    expires: 2027-03-31\n";
    let with = load_yaml(&[
        ("organization.yaml", ORG),
        ("ous.yaml", OUS),
        ("accounts.yaml", &accounts),
        ("grants.yaml", GRANTS),
    ]);
    let without = load_yaml(&[("organization.yaml", ORG), ("ous.yaml", OUS)]);
    (org, sandbox, with, without)
}

async fn recorded(org: &MemoryOrg, account: &str) -> bool {
    orgctl_model::has_roles_record(&org.list_tags(account).await.expect("tags"))
}

#[tokio::test]
async fn a_role_in_an_account_the_yaml_drops_at_the_root_is_deleted_by_a_scoped_plan() {
    // The YAML drops both the account and the grant: the account stays at the root, not
    // named, and the scoped read (which reads its tags, as it reads every account at the root)
    // finds its roles record, reads its IAM and deletes the role, then the record.
    let (org, sandbox, with, without) = sandbox_grant().await;
    plan_and_apply(&with, &org).await;
    assert!(recorded(&org, &sandbox).await);
    assert_eq!(org.iam().access_roles().len(), 1);

    let p = plan_and_apply(&without, &org).await;
    assert!(
        p.changes
            .iter()
            .any(|c| c.kind == ResourceKind::Access && c.action == Action::Delete),
        "{:?}",
        p.changes
    );
    assert_eq!(org.iam().access_roles(), vec![]);
    assert!(!recorded(&org, &sandbox).await);
    let live = org.to_live();
    let account = live
        .accounts
        .iter()
        .find(|a| a.id == sandbox)
        .expect("sandbox");
    assert_eq!(account.parent_id, org.root_id(), "it stayed at the root");
}

#[tokio::test]
async fn a_crash_between_the_roles_record_and_the_role_converges() {
    // The apply writes the record, then dies before its first IAM write: the record points to
    // no role, which is harmless.
    let crash = |org: &MemoryOrg| Faulty::new(org.iam()).crash_after_writes(0);
    let (org, sandbox, with, without) = sandbox_grant().await;
    let p = scoped_plan(&with, &org).await;
    let _ = apply(
        &p,
        &org,
        &crash(&org),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await;
    assert!(recorded(&org, &sandbox).await);
    assert_eq!(org.iam().access_roles(), vec![]);
    // The rerun creates the role; the next plan is empty.
    plan_and_apply(&with, &org).await;
    assert_eq!(org.iam().access_roles().len(), 1);
    assert!(recorded(&org, &sandbox).await);
    let next = scoped_plan(&with, &org).await;
    assert!(next.is_empty(), "{:?}", next.changes);

    // The same crash, then the grant removed: the record with no role goes (a record write).
    let (org, sandbox, with, without) = {
        let _ = (org, sandbox, without);
        sandbox_grant().await
    };
    let p = scoped_plan(&with, &org).await;
    let _ = apply(
        &p,
        &org,
        &crash(&org),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await;
    assert!(recorded(&org, &sandbox).await);
    let p = plan_and_apply(&without, &org).await;
    assert!(
        p.records
            .iter()
            .any(|r| r.resource_id == sandbox && r.remove),
        "{:?}",
        p.records
    );
    orgctl_applier::record(&org, &p.records)
        .await
        .expect("records");
    assert!(!recorded(&org, &sandbox).await);
    assert_eq!(org.iam().access_roles(), vec![]);
    let next = scoped_plan(&without, &org).await;
    assert!(
        next.is_empty() && next.records.is_empty(),
        "{:?} {:?}",
        next.changes,
        next.records
    );
}

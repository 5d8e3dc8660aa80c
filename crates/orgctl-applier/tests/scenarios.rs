//! Hand-written apply scenarios on the strict in-memory organization, for the orderings AWS is
//! strict about: a policy swap at the per-target limit, dropping FullAWSAccess, and a partial
//! failure that must not widen access.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_applier::{ApplyOptions, ApplyReport, ChangeOutcome, Silent, apply, verify};
use orgctl_backend::{ApiError, Faulty, MemoryIam, MemoryOrg, OrgApi, ReadOptions, read_live};
use orgctl_model::{
    AccountSpec, DesiredState, Lifecycle, OrganizationSpec, OuSpec, PolicySpec, PolicyType,
    SourceLoc, Tags, TargetRef,
};
use orgctl_planner::{Action, PlanOptions, ResourceKind, plan};

const MGMT: &str = "111111111111";

fn loc() -> SourceLoc {
    SourceLoc {
        file: "t.yaml".into(),
        line: 1,
        column: 1,
    }
}

fn desired(policies: &[&str], full_aws_access: bool) -> DesiredState {
    let with_statements: Vec<(&str, Vec<&str>)> =
        policies.iter().map(|name| (*name, vec![*name])).collect();
    desired_with(&with_statements, full_aws_access)
}

/// A deny statement for the actions of service `svc`.
fn deny(svc: &str) -> String {
    format!(r#"{{"Action":"{svc}:*","Effect":"Deny","Resource":"*"}}"#)
}

/// `/A` with SCPs attached to it, each by name with the services it denies.
fn desired_with(policies: &[(&str, Vec<&str>)], full_aws_access: bool) -> DesiredState {
    let mut d = DesiredState {
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
            source: loc(),
        },
        ous: BTreeMap::new(),
        accounts: BTreeMap::new(),
        policies: BTreeMap::new(),
    };
    d.ous.insert(
        "/A".into(),
        OuSpec {
            production: false,
            path: "/A".into(),
            name: "A".into(),
            id: None,
            tags: Tags::new(),
            full_aws_access,
            source: loc(),
        },
    );
    for (name, services) in policies {
        let statements: Vec<String> = services.iter().map(|s| deny(s)).collect();
        d.policies.insert(
            (*name).into(),
            PolicySpec {
                name: (*name).into(),
                policy_type: PolicyType::ServiceControlPolicy,
                description: String::new(),
                content: format!(
                    r#"{{"Statement":[{}],"Version":"2012-10-17"}}"#,
                    statements.join(",")
                ),
                targets: [TargetRef::Ou("/A".into())].into(),
                tags: Tags::new(),
                source: loc(),
            },
        );
    }
    d
}

fn options() -> PlanOptions {
    PlanOptions {
        today: "2026-11-27".into(),
    }
}

async fn converge<A: OrgApi>(d: &DesiredState, api: &A) {
    let live = read_live(api, &ReadOptions::default()).await.expect("read");
    let p = plan(d, &live, &options());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let report = apply(
        &p,
        api,
        &MemoryIam::new(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply");
    assert!(report.is_success(), "{:?}", report.outcomes);
    let pending = verify(
        d,
        api,
        &MemoryIam::new(),
        &ReadOptions::default(),
        &options(),
    )
    .await
    .expect("verify");
    assert!(pending.is_empty(), "{pending:?}");
}

async fn org() -> MemoryOrg {
    let org = MemoryOrg::new(MGMT, "mgmt@x.example");
    org.enable_policy_type(&org.root_id(), PolicyType::ServiceControlPolicy)
        .await
        .expect("enable");
    org
}

#[tokio::test]
async fn a_swap_at_the_per_target_limit_is_accepted_by_a_strict_organization() {
    let org = org().await;
    // FullAWSAccess + 4 = the limit of 5.
    converge(&desired(&["s1", "s2", "s3", "s4"], true), &org).await;
    // Swap two of them at once: each attach needs a detach first.
    converge(&desired(&["s1", "s2", "s5", "s6"], true), &org).await;
}

#[tokio::test]
async fn full_aws_access_is_replaced_without_leaving_the_ou_without_an_scp() {
    let org = org().await;
    converge(&desired(&[], true), &org).await;
    converge(&desired(&["allow-list"], false), &org).await;
    converge(&desired(&["other"], false), &org).await;
    converge(&desired(&[], true), &org).await;
}

#[tokio::test]
async fn a_failed_attach_keeps_the_old_policy_attached() {
    let org = org().await;
    converge(&desired(&["old"], true), &org).await;
    let d = desired(&["new"], true);
    let (report, org) = apply_failing_once(&d, org, "AttachPolicy").await;
    let outcome = |address: &str| outcome_of(&report, address);
    assert!(
        matches!(
            outcome("attachment scp/new -> /A"),
            ChangeOutcome::Failed(_)
        ),
        "{:?}",
        report.outcomes
    );
    assert!(
        matches!(
            outcome("attachment scp/old -> /A"),
            ChangeOutcome::Skipped(_)
        ),
        "{:?}",
        report.outcomes
    );
    // `old` is still attached and therefore not deleted either.
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let old = live
        .policies
        .iter()
        .find(|p| p.name == "old")
        .expect("old kept");
    assert_eq!(old.targets.len(), 1);
    // A rerun converges.
    converge(&d, &org).await;
}

/// Issue 6, case 2: folding p2's deny into p1 (update p1, detach and delete p2). When the update
/// fails, p2 must stay attached: no later change of the apply detaches or deletes a policy.
#[tokio::test]
async fn a_failed_policy_update_stops_later_detachments_and_deletions() {
    let org = org().await;
    converge(
        &desired_with(&[("p1", vec!["a"]), ("p2", vec!["b"])], true),
        &org,
    )
    .await;
    let d = desired_with(&[("p1", vec!["a", "b"])], true);
    let (report, org) = apply_failing_once(&d, org, "UpdatePolicy").await;
    let outcome = |address: &str| outcome_of(&report, address);
    assert!(
        matches!(outcome("policy scp/p1"), ChangeOutcome::Failed(_)),
        "{:?}",
        report.outcomes
    );
    for later in ["attachment scp/p2 -> /A", "policy scp/p2"] {
        assert!(
            matches!(outcome(later), ChangeOutcome::Skipped(_)),
            "{later}: {:?}",
            report.outcomes
        );
    }
    // The deny of p2 is still in effect on /A.
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let p2 = live
        .policies
        .iter()
        .find(|p| p.name == "p2")
        .expect("p2 kept");
    assert_eq!(p2.targets.len(), 1);
    converge(&d, &org).await;
}

/// Top-level OUs `(name, pinned id)`, each with `FullAWSAccess`; `deny-x` on the OU named `X`
/// when there is one.
fn desired_ous(ous: &[(&str, Option<&str>)]) -> DesiredState {
    let mut d = desired_with(&[], true);
    d.ous.clear();
    for (name, id) in ous {
        let path = format!("/{name}");
        d.ous.insert(
            path.clone(),
            OuSpec {
                production: false,
                path,
                name: (*name).into(),
                id: id.map(Into::into),
                tags: Tags::new(),
                full_aws_access: true,
                source: loc(),
            },
        );
    }
    if d.ous.contains_key("/X") {
        d.policies.insert(
            "deny-x".into(),
            PolicySpec {
                name: "deny-x".into(),
                policy_type: PolicyType::ServiceControlPolicy,
                description: String::new(),
                content: format!(r#"{{"Statement":[{}],"Version":"2012-10-17"}}"#, deny("s3")),
                targets: [TargetRef::Ou("/X".into())].into(),
                tags: Tags::new(),
                source: loc(),
            },
        );
    }
    d
}

/// The live id of the top-level OU named `name`.
fn ou_id(org: &MemoryOrg, name: &str) -> String {
    let live = org.to_live();
    live.ous
        .iter()
        .find(|o| o.name == name && o.parent_id == live.organization.root_id)
        .map(|o| o.id.clone())
        .unwrap_or_else(|| panic!("no OU {name}"))
}

#[tokio::test]
async fn a_new_ou_takes_the_name_of_an_ou_renamed_away_in_the_same_apply() {
    let org = org().await;
    converge(&desired_ous(&[("X", None)]), &org).await;
    let old_x = ou_id(&org, "X");
    // Live /X is pinned as /Y; a new /X (with its SCP) takes the name.
    converge(&desired_ous(&[("Y", Some(&old_x)), ("X", None)]), &org).await;
    assert_eq!(ou_id(&org, "Y"), old_x, "renamed, same id");
    let new_x = ou_id(&org, "X");
    assert_ne!(new_x, old_x, "a new OU, not the renamed one adopted");
    let live = org.to_live();
    let deny_x = live
        .policies
        .iter()
        .find(|p| p.name == "deny-x")
        .expect("deny-x");
    assert_eq!(deny_x.targets, vec![new_x], "the SCP meant for /X is on /X");
}

#[tokio::test]
async fn two_sibling_ous_swap_names_in_one_apply() {
    let org = org().await;
    converge(&desired_ous(&[("A", None), ("B", None)]), &org).await;
    let (a, b) = (ou_id(&org, "A"), ou_id(&org, "B"));
    converge(&desired_ous(&[("A", Some(&b)), ("B", Some(&a))]), &org).await;
    assert_eq!(ou_id(&org, "A"), b);
    assert_eq!(ou_id(&org, "B"), a);
    // And back, with a third name in the way of nothing.
    converge(
        &desired_ous(&[("A", Some(&a)), ("B", Some(&b)), ("C", None)]),
        &org,
    )
    .await;
    assert_eq!((ou_id(&org, "A"), ou_id(&org, "B")), (a, b));
}

/// The SCP `name` denying `services`, attached to `targets`.
fn scp(name: &str, services: &[&str], targets: &[TargetRef]) -> PolicySpec {
    let statements: Vec<String> = services.iter().map(|s| deny(s)).collect();
    PolicySpec {
        name: name.into(),
        policy_type: PolicyType::ServiceControlPolicy,
        description: String::new(),
        content: format!(
            r#"{{"Statement":[{}],"Version":"2012-10-17"}}"#,
            statements.join(",")
        ),
        targets: targets.iter().cloned().collect(),
        tags: Tags::new(),
        source: loc(),
    }
}

/// An account of the YAML in `ou`.
fn account(name: &str, ou: &str) -> AccountSpec {
    AccountSpec {
        name: name.into(),
        email: format!("{name}@x.example"),
        ou: ou.into(),
        id: None,
        tags: Tags::new(),
        lifecycle: Lifecycle::Active,
        full_aws_access: true,
        source: loc(),
    }
}

/// An account leaving /A (which denies `a` through p1) for the root, where p2 is updated to deny
/// `a` as well: when that update fails, the account must stay in /A, or it would lose the deny.
#[tokio::test]
async fn a_failed_policy_update_stops_later_account_moves() {
    let org = org().await;
    let mut d = desired_with(&[], true);
    d.accounts.insert("app".into(), account("app", "/A"));
    d.policies.insert(
        "p1".into(),
        scp("p1", &["a"], &[TargetRef::Ou("/A".into())]),
    );
    d.policies
        .insert("p2".into(), scp("p2", &["b"], &[TargetRef::Root]));
    converge(&d, &org).await;

    d.accounts.insert("app".into(), account("app", "/"));
    d.policies
        .insert("p2".into(), scp("p2", &["a", "b"], &[TargetRef::Root]));
    let (report, org) = apply_failing_once(&d, org, "UpdatePolicy").await;
    let outcome = |address: &str| outcome_of(&report, address);
    assert!(
        matches!(outcome("policy scp/p2"), ChangeOutcome::Failed(_)),
        "{:?}",
        report.outcomes
    );
    assert!(
        matches!(outcome("account app"), ChangeOutcome::Skipped(_)),
        "{:?}",
        report.outcomes
    );
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let a = live.ous.iter().find(|o| o.name == "A").expect("/A");
    let app = live.accounts.iter().find(|x| x.name == "app").expect("app");
    assert_eq!(app.parent_id, a.id, "app stays under p1's deny");
    converge(&d, &org).await;
}

// -- issue 6, planner cases: checked against the strict organization -------------------------------

fn ou_spec(path: &str, id: Option<&str>) -> OuSpec {
    OuSpec {
        production: false,
        path: path.into(),
        name: path.rsplit('/').next().unwrap_or_default().into(),
        id: id.map(Into::into),
        tags: Tags::new(),
        full_aws_access: true,
        source: loc(),
    }
}

fn account_spec(name: &str, ou: &str) -> AccountSpec {
    AccountSpec {
        name: name.into(),
        email: format!("{name}@x.example"),
        ou: ou.into(),
        id: None,
        tags: Tags::new(),
        lifecycle: Lifecycle::Active,
        full_aws_access: true,
        source: loc(),
    }
}

fn scp_spec(name: &str, targets: &[TargetRef]) -> PolicySpec {
    PolicySpec {
        name: name.into(),
        policy_type: PolicyType::ServiceControlPolicy,
        description: String::new(),
        content: format!(r#"{{"Statement":[{}],"Version":"2012-10-17"}}"#, deny(name)),
        targets: targets.iter().cloned().collect(),
        tags: Tags::new(),
        source: loc(),
    }
}

/// A desired state of these OUs, accounts (name, OU) and SCPs.
fn state(ous: &[OuSpec], accounts: &[(&str, &str)], scps: &[PolicySpec]) -> DesiredState {
    let mut d = desired(&[], true);
    d.ous = ous.iter().map(|o| (o.path.clone(), o.clone())).collect();
    d.accounts = accounts
        .iter()
        .map(|(name, ou)| ((*name).to_owned(), account_spec(name, ou)))
        .collect();
    d.policies = scps.iter().map(|p| (p.name.clone(), p.clone())).collect();
    d
}

/// Plans `d` against `api` and applies it with the first call of `operation` failing.
async fn apply_with_failure(
    d: &DesiredState,
    api: MemoryOrg,
    operation: &'static str,
) -> MemoryOrg {
    let (report, api) = apply_failing_once(d, api, operation).await;
    assert!(report.failed() == 1, "{:?}", report.outcomes);
    api
}

/// Plans `d` against `api` (without errors) and applies it with the first call of `operation`
/// denied: the report, and the organization afterwards.
async fn apply_failing_once(
    d: &DesiredState,
    api: MemoryOrg,
    operation: &'static str,
) -> (ApplyReport, MemoryOrg) {
    let live = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    let p = plan(d, &live, &options());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let faulty = Faulty::new(api).fail_next_calls_of(
        operation,
        1,
        ApiError::service(operation, "AccessDeniedException", "denied"),
    );
    let report = apply(
        &p,
        &faulty,
        &MemoryIam::new(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply starts");
    (report, faulty.into_inner())
}

/// The outcome of the change at `address`.
fn outcome_of(report: &ApplyReport, address: &str) -> ChangeOutcome {
    report
        .outcomes
        .iter()
        .find(|(a, _)| a == address)
        .map(|(_, o)| o.clone())
        .expect(address)
}

/// Issue 6, case 1: an SCP orgctl does not manage, attached to an OU the YAML replaces, ends up
/// on the replacement, and the accounts that move over keep its deny.
#[tokio::test]
async fn a_replaced_ou_keeps_an_unmanaged_guardrail() {
    let org = org().await;
    converge(
        &state(
            &[
                ou_spec("/Old", None),
                ou_spec("/Old/Team", None),
                ou_spec("/New", None),
            ],
            &[("a", "/Old/Team")],
            &[],
        ),
        &org,
    )
    .await;
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let team = live.ous.iter().find(|o| o.name == "Team").expect("Team");
    let guard = org
        .create_policy(
            "guard",
            PolicyType::ServiceControlPolicy,
            "",
            &format!(
                r#"{{"Statement":[{}],"Version":"2012-10-17"}}"#,
                deny("ec2")
            ),
            &Tags::new(),
        )
        .await
        .expect("guard");
    org.attach_policy(&guard.id, &team.id)
        .await
        .expect("attach");
    let d = state(
        &[ou_spec("/New", None), ou_spec("/New/Team", Some(&team.id))],
        &[("a", "/New/Team")],
        &[],
    );
    converge(&d, &org).await;
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let account = live.accounts.iter().find(|a| a.name == "a").expect("a");
    let guard = live
        .policies
        .iter()
        .find(|p| p.name == "guard")
        .expect("guard");
    assert!(
        guard.targets.contains(&account.parent_id),
        "guard is on {:?}, a is in {}",
        guard.targets,
        account.parent_id
    );
}

/// Issue 6, case 3: at the per-target limit, a failed attachment leaves the target with every
/// deny it had.
#[tokio::test]
async fn a_failed_attach_at_the_per_target_limit_removes_no_deny() {
    let org = org().await;
    converge(&desired(&["s1", "s2", "s3", "s4"], true), &org).await;
    let d = desired(&["s1", "s2", "s3", "s5"], true);
    let org = apply_with_failure(&d, org, "AttachPolicy").await;
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let a = live.ous.iter().find(|o| o.name == "A").expect("A");
    for name in ["s1", "s2", "s3", "s4"] {
        let p = live.policies.iter().find(|p| p.name == name).expect(name);
        assert!(p.targets.contains(&a.id), "{name} left /A");
    }
    converge(&d, &org).await;
}

/// Issue 6, case 4: an account gets its own SCP before it leaves a stricter OU; when that fails,
/// it stays where it was.
#[tokio::test]
async fn an_account_whose_new_scp_fails_to_attach_does_not_move() {
    let org = org().await;
    let ous = [ou_spec("/Strict", None), ou_spec("/Loose", None)];
    let strict = scp_spec("strict", &[TargetRef::Ou("/Strict".into())]);
    converge(
        &state(&ous, &[("a", "/Strict")], std::slice::from_ref(&strict)),
        &org,
    )
    .await;
    let own = scp_spec("own", &[TargetRef::Account("a".into())]);
    let d = state(&ous, &[("a", "/Loose")], &[strict, own]);
    let org = apply_with_failure(&d, org, "AttachPolicy").await;
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let account = live.accounts.iter().find(|a| a.name == "a").expect("a");
    let strict_ou = live
        .ous
        .iter()
        .find(|o| o.name == "Strict")
        .expect("Strict");
    assert_eq!(account.parent_id, strict_ou.id);
    converge(&d, &org).await;
}

/// Issue 6, case 9: SCPs enabled and attached up to the limit in one apply (AWS attaches
/// FullAWSAccess everywhere when SCPs are enabled; the plan makes room for the fifth).
#[tokio::test]
async fn enabling_scps_and_filling_the_limit_converges_in_one_apply() {
    let org = MemoryOrg::new(MGMT, "mgmt@x.example");
    org.create_ou(&org.root_id(), "A", &Tags::new())
        .await
        .expect("A");
    converge(&desired(&["s1", "s2", "s3", "s4", "s5"], false), &org).await;
}

/// Whether the SCPs in effect on account `name` (its own, its OUs', the root's) deny `service`
/// (or everything).
fn denied(org: &MemoryOrg, name: &str, service: &str) -> bool {
    let live = org.to_live();
    let parent = |id: &str| -> Option<String> {
        live.ous
            .iter()
            .map(|o| (&o.id, &o.parent_id))
            .chain(live.accounts.iter().map(|a| (&a.id, &a.parent_id)))
            .find(|(i, _)| *i == id)
            .map(|(_, p)| p.clone())
    };
    let Some(account) = live.accounts.iter().find(|a| a.name == name) else {
        return false;
    };
    let mut chain = vec![account.id.clone()];
    while let Some(p) = chain.last().and_then(|c| parent(c)) {
        chain.push(p);
    }
    let action = format!(r#""{service}:*""#);
    let denies = live
        .policies
        .iter()
        .any(|p| p.content.contains(&action) && p.targets.iter().any(|t| chain.contains(t)));
    // A level whose SCPs allow nothing denies everything below it.
    let allows = |p: &&orgctl_model::LivePolicy| {
        p.name == "FullAWSAccess" || p.content.contains(r#""Effect":"Allow""#)
    };
    let locked = chain.iter().any(|level| {
        !live
            .policies
            .iter()
            .filter(|p| p.targets.contains(level))
            .any(|p| allows(&p))
    });
    denies || locked
}

/// Applies the plan from `org` to `d`, checking after every write that account `name` stays
/// denied `service`; returns the writes after which it was not.
async fn apply_keeping_denied(
    org: MemoryOrg,
    d: &DesiredState,
    name: &str,
    service: &str,
) -> Vec<String> {
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let p = plan(d, &live, &options());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let lapses = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = lapses.clone();
    let (name_owned, service_owned) = (name.to_owned(), service.to_owned());
    let observed = Faulty::new(org).observe_writes(move |org: &MemoryOrg, op| {
        if !denied(org, &name_owned, &service_owned) {
            seen.lock().expect("lock").push(op.to_owned());
        }
    });
    let report = apply(
        &p,
        &observed,
        &MemoryIam::new(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply starts");
    assert!(report.is_success(), "{:?}", report.outcomes);
    converge(d, observed.inner()).await;
    lapses.lock().expect("lock").clone()
}

/// A policy that stops denying `a` while another starts to: the update that drops the
/// statement runs only after the attachment that carries it on.
#[tokio::test]
async fn a_policy_update_that_drops_a_deny_runs_after_what_carries_it_on() {
    let org = org().await;
    let mut d = desired_with(&[], true);
    d.accounts.insert("app".into(), account("app", "/A"));
    d.policies
        .insert("p1".into(), scp("p1", &["a"], &[TargetRef::Root]));
    converge(&d, &org).await;
    d.policies
        .insert("p1".into(), scp("p1", &["b"], &[TargetRef::Root]));
    d.policies
        .insert("p2".into(), scp("p2", &["a"], &[TargetRef::Root]));
    let lapses = apply_keeping_denied(org, &d, "app", "a").await;
    assert!(lapses.is_empty(), "app was not denied `a` after {lapses:?}");
}

/// An account moving from /A to /A/B while the deny moves from /A to /A/B: /A keeps it until
/// the account has moved.
#[tokio::test]
async fn an_ou_keeps_its_deny_until_the_accounts_leaving_it_have_moved() {
    let org = org().await;
    let mut d = desired_with(&[], true);
    d.ous.insert(
        "/A/B".into(),
        OuSpec {
            production: false,
            path: "/A/B".into(),
            name: "B".into(),
            id: None,
            tags: Tags::new(),
            full_aws_access: true,
            source: loc(),
        },
    );
    d.accounts.insert("app".into(), account("app", "/A"));
    d.policies.insert(
        "p1".into(),
        scp("p1", &["a"], &[TargetRef::Ou("/A".into())]),
    );
    converge(&d, &org).await;
    d.accounts.insert("app".into(), account("app", "/A/B"));
    d.policies.insert(
        "p1".into(),
        scp("p1", &["a"], &[TargetRef::Ou("/A/B".into())]),
    );
    let lapses = apply_keeping_denied(org, &d, "app", "a").await;
    assert!(lapses.is_empty(), "app was not denied `a` after {lapses:?}");
}

/// Two SCPs on the root trade their denies (p1: a → b, p2: b → a): an account keeps both denies
/// at every step, because each policy first gets the union of its old and new documents.
#[tokio::test]
async fn two_policies_trading_their_denies_keep_both_in_effect_throughout() {
    let org = org().await;
    let mut d = desired_with(&[], true);
    d.accounts.insert("app".into(), account("app", "/A"));
    d.policies
        .insert("p1".into(), scp("p1", &["a"], &[TargetRef::Root]));
    d.policies
        .insert("p2".into(), scp("p2", &["b"], &[TargetRef::Root]));
    converge(&d, &org).await;
    d.policies
        .insert("p1".into(), scp("p1", &["b"], &[TargetRef::Root]));
    d.policies
        .insert("p2".into(), scp("p2", &["a"], &[TargetRef::Root]));
    let snapshot = org.to_live();
    for service in ["a", "b"] {
        let copy = MemoryOrg::from_live(&snapshot).expect("copy");
        let lapses = apply_keeping_denied(copy, &d, "app", service).await;
        assert!(
            lapses.is_empty(),
            "app was not denied `{service}` after {lapses:?}"
        );
    }
}

/// An account at the per-target limit swaps denies while it moves to an OU that carries one of
/// them (`a`): the swap takes FullAWSAccess off the account, and it gets it back only once the
/// account sits under the OU that denies `a`.
#[tokio::test]
async fn an_account_swapping_denies_at_the_limit_gets_full_aws_access_back_after_it_moves() {
    let org = org().await;
    let mut d = desired_with(&[], true);
    d.ous.insert("/B".into(), ou_spec("/B", None));
    d.accounts.insert("app".into(), account("app", "/A"));
    let on_app = [TargetRef::Account("app".into())];
    for (name, service) in [("d1", "a"), ("d2", "b"), ("d3", "c"), ("d4", "d")] {
        d.policies
            .insert(name.into(), scp(name, &[service], &on_app));
    }
    converge(&d, &org).await;
    d.accounts.insert("app".into(), account("app", "/B"));
    d.policies.insert(
        "d1".into(),
        scp("d1", &["a"], &[TargetRef::Ou("/B".into())]),
    );
    d.policies.insert("d2".into(), scp("d2", &["b"], &[]));
    for (name, service) in [("n1", "x"), ("n2", "y")] {
        d.policies
            .insert(name.into(), scp(name, &[service], &on_app));
    }
    let lapses = apply_keeping_denied(org, &d, "app", "a").await;
    assert!(lapses.is_empty(), "app was not denied `a` after {lapses:?}");
}

#[tokio::test]
async fn apply_decides_only_from_the_ops() {
    // The same organization twice (the in-memory organization's ids are deterministic).
    let before = state(
        &[ou_spec("/A", None), ou_spec("/B", None)],
        &[("app", "/A")],
        &[
            scp_spec("keep", &[TargetRef::Ou("/A".into())]),
            scp_spec("gone", &[TargetRef::Ou("/B".into())]),
        ],
    );
    let (first, second) = (org().await, org().await);
    converge(&before, &first).await;
    converge(&before, &second).await;
    let after = state(
        &[ou_spec("/B", None), ou_spec("/C", None)],
        &[("app", "/C")],
        &[
            scp_spec("keep", &[TargetRef::Ou("/C".into())]),
            scp_spec("new", &[TargetRef::Account("app".into())]),
        ],
    );
    let live = read_live(&first, &ReadOptions::default())
        .await
        .expect("read");
    let p = plan(&after, &live, &options());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let actions: BTreeSet<String> = p
        .changes
        .iter()
        .map(|c| format!("{:?}", c.action))
        .collect();
    assert!(actions.len() >= 5, "a plan of many kinds: {actions:?}");
    // Everything but the ops (and the address the report names) says something else.
    let mut misleading = p.clone();
    for change in &mut misleading.changes {
        change.kind = ResourceKind::Access;
        change.action = Action::Enable;
        change.reason = "nothing happens".into();
        change.before = None;
        change.after = Some(serde_json::json!({ "nothing": "changes" }));
        change.diff = None;
    }
    let as_planned = apply(
        &p,
        &first,
        &MemoryIam::new(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply");
    let as_misled = apply(
        &misleading,
        &second,
        &MemoryIam::new(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply");
    assert!(as_planned.is_success(), "{:?}", as_planned.outcomes);
    assert_eq!(as_planned.outcomes, as_misled.outcomes);
    assert_eq!(first.to_live(), second.to_live());
}

/// `/A` grants nothing and is at the limit with deny `x`; the YAML gives it an allow-list `g` and
/// moves `x` to `/B` with account `a`: `a` stays denied `x` after every write (`x` makes room on
/// `/A` while it grants nothing, and `g` comes only after `a` has moved).
#[tokio::test]
async fn a_grant_replacing_a_deny_at_the_limit_waits_for_the_account_to_leave() {
    let org = org().await;
    let mut strict = ou_spec("/A", None);
    strict.full_aws_access = false;
    let ous = [strict, ou_spec("/B", None)];
    let on_a = [TargetRef::Ou("/A".into())];
    let mut scps: Vec<PolicySpec> = ["d1", "d2", "d3", "d4", "x"]
        .iter()
        .map(|n| scp_spec(n, &on_a))
        .collect();
    converge(&state(&ous, &[("a", "/A")], &scps), &org).await;
    scps.retain(|p| p.name != "x");
    scps.push(scp_spec("x", &[TargetRef::Ou("/B".into())]));
    let mut g = scp_spec("g", &on_a);
    g.content =
        r#"{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#
            .into();
    scps.push(g);
    let d = state(&ous, &[("a", "/B")], &scps);
    let lapses = apply_keeping_denied(org, &d, "a", "x").await;
    assert!(lapses.is_empty(), "a was not denied x after {lapses:?}");
}

/// A failed restore of FullAWSAccess after a swap at the limit leaves the OU granting nothing
/// (closed, not open): nothing later removes anything, and a rerun plans exactly the restore
/// (and what the failure held back) and converges.
#[tokio::test]
async fn a_failed_restore_of_full_aws_access_fails_closed_and_a_rerun_restores_it() {
    let org = org().await;
    converge(&desired(&["s1", "s2", "s3", "s4"], true), &org).await;
    let d = desired(&["s1", "s2", "s3", "s5"], true);
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let p = plan(&d, &live, &options());
    let full = "attachment scp/FullAWSAccess -> /A";
    let nth = p
        .changes
        .iter()
        .flat_map(|c| c.ops.iter().map(move |_| c))
        .position(|c| c.address == full && c.action == Action::Attach)
        .expect("restore")
        + 1;
    let faulty = Faulty::new(org).fail_write(
        nth,
        ApiError::service("AttachPolicy", "AccessDeniedException", "denied"),
    );
    let report = apply(
        &p,
        &faulty,
        &MemoryIam::new(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply starts");
    let org = faulty.into_inner();
    assert!(
        report
            .outcomes
            .iter()
            .any(|(a, o)| a == full && matches!(o, ChangeOutcome::Failed(_))),
        "{:?}",
        report.outcomes
    );
    assert!(
        matches!(
            outcome_of(&report, "policy scp/s4"),
            ChangeOutcome::Skipped(_)
        ),
        "{:?}",
        report.outcomes
    );
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let rerun = plan(&d, &live, &options());
    assert!(rerun.errors.is_empty(), "{:?}", rerun.errors);
    let addresses: Vec<(&str, Action)> = rerun
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c.action))
        .collect();
    assert_eq!(
        addresses,
        [(full, Action::Attach), ("policy scp/s4", Action::Delete)],
        "{addresses:?}"
    );
    converge(&d, &org).await;
}

/// `/A` allows only `s3`; the YAML gives it FullAWSAccess back and puts a new deny on the root.
/// When the deny fails to attach, FullAWSAccess must not be attached to `/A` either: its
/// accounts would be allowed what the deny is there to refuse, which `/A` refused before.
#[tokio::test]
async fn a_failed_deny_keeps_full_aws_access_from_being_attached_after_it() {
    let org = org().await;
    let mut strict = ou_spec("/A", None);
    strict.full_aws_access = false;
    let mut allow_list = scp_spec("allow-list", &[TargetRef::Ou("/A".into())]);
    allow_list.content =
        r#"{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#
            .into();
    converge(
        &state(
            std::slice::from_ref(&strict),
            &[("a", "/A")],
            std::slice::from_ref(&allow_list),
        ),
        &org,
    )
    .await;
    allow_list.targets.clear();
    let d = state(
        &[ou_spec("/A", None)],
        &[("a", "/A")],
        &[allow_list, scp_spec("guard", &[TargetRef::Root])],
    );
    let (report, org) = apply_failing_once(&d, org, "AttachPolicy").await;
    assert!(
        matches!(
            outcome_of(&report, "attachment scp/guard -> root"),
            ChangeOutcome::Failed(_)
        ),
        "{:?}",
        report.outcomes
    );
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let a = live.ous.iter().find(|o| o.name == "A").expect("A");
    let full = live
        .policies
        .iter()
        .find(|p| p.name == "FullAWSAccess")
        .expect("FullAWSAccess");
    assert!(
        !full.targets.contains(&a.id),
        "/A got FullAWSAccess without the root's deny: {:?}",
        report.outcomes
    );
    converge(&d, &org).await;
}

/// Issue 8: after a failed change, the verifying read records what is as the YAML says (a new
/// OU, the root) and nothing a remaining change depends on (the policy whose attachment
/// failed); the rerun records the rest and leaves nothing to record.
#[tokio::test]
async fn after_a_failed_change_only_what_is_as_the_yaml_says_is_recorded() {
    use orgctl_model::RECORD_TAG;
    use orgctl_planner::records::{PendingWhy, Provenance, provenance};

    let org = org().await;
    converge(&desired(&["old"], true), &org).await;
    let mut d = desired(&["new"], true);
    let mut b = d.ous["/A"].clone();
    b.path = "/B".into();
    b.name = "B".into();
    d.ous.insert("/B".into(), b);
    let (report, org) = apply_failing_once(&d, org, "AttachPolicy").await;
    assert!(!report.is_success());
    let pending = verify(
        &d,
        &org,
        &MemoryIam::new(),
        &ReadOptions::default(),
        &options(),
    )
    .await
    .expect("verify");
    assert!(!pending.is_empty(), "the failed attachment is still to do");

    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let record = |tags: &Tags| tags.get(RECORD_TAG).cloned();
    let ou_b = live.ous.iter().find(|o| o.name == "B").expect("B created");
    assert!(record(&ou_b.tags).is_some(), "the new OU is recorded");
    let new = live
        .policies
        .iter()
        .find(|p| p.name == "new")
        .expect("new created");
    assert_eq!(record(&new.tags), None, "a pending change depends on it");
    let again = plan(&d, &live, &options());
    assert_eq!(again.records, vec![], "everything else is recorded");
    // What the failed apply left to do is still pending, never out-of-band.
    let classes: Vec<(&str, Provenance)> = again
        .changes
        .iter()
        .map(|c| c.address.as_str())
        .zip(provenance(&d, &live, &options(), &again))
        .collect();
    assert!(
        classes.contains(&(
            "attachment scp/new -> /A",
            Provenance::Pending(PendingWhy::NotRecorded)
        )),
        "{classes:?}"
    );
    assert!(
        classes.iter().all(|(_, p)| *p != Provenance::OutOfBand),
        "{classes:?}"
    );
    // The rerun converges and records the rest.
    converge(&d, &org).await;
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let after = plan(&d, &live, &options());
    assert!(after.is_empty() && after.records.is_empty(), "{after:?}");
}

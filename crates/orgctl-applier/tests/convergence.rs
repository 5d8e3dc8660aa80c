//! Property tests of the whole reconcile loop on the strict in-memory organization, over
//! generated cases (see `world`): a starting organization built by a real apply and changed out
//! of band, and a desired state derived from it.
//!
//! - every case either plans without errors, or its plan errors are ones a generated feature
//!   explains and the apply is refused without a write (`Case::explain_errors`);
//! - applying a plan converges (the next plan is empty) and a second apply writes nothing;
//!   planning is deterministic, and a saved plan round-trips through its JSON;
//! - an apply aborted after its k-th write converges on a fresh plan and apply, for every k;
//! - no prefix of an apply widens access: after every write of the apply (to the organization or
//!   to IAM), and of every apply in which one write fails, each account keeps every SCP
//!   statement and tag-policy rule that is in effect on it both before and after the whole
//!   apply, and what each principal reaches in each account through orgctl's roles (trust,
//!   managed and inline policies, under their boundary) is within what it reached before or
//!   within what it reaches after the whole apply (`world::access::widened`);
//! - the roles record: no write of an apply (with a failure injected at any write) leaves an
//!   orgctl role in an account without `orgctl:roles` that was not already so before it; after
//!   an aborted apply, and after its rerun, every account holding an orgctl role (IAM read in
//!   every account) carries the record, and so does, after an apply and its verify, every
//!   account whose IAM `plan` reads;
//! - a plan from the scoped read (IAM read only in the accounts `orgctl_planner::iam_accounts`
//!   selects) is the plan from the full read but for notes on what was not read and the one
//!   documented limit (`world::seen_by_scoped_read`);
//! - the cases include access grants and orgctl's read role (`world::grants`); a failure is
//!   injected at, and an abort placed after, every write to either API, and an aborted apply and
//!   its rerun never create a role twice;
//! - the generators reach every kind of case often enough, and plan errors stay a minority.
//!
//! Cases per property and run (each `.ci/run` runs them once): see `CASES_*`.

mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use orgctl_applier::{ApplyOptions, Silent, apply, plan_iam_accounts, reread_applied, verify};
use orgctl_backend::iam::operations::CREATE_ROLE;
use orgctl_backend::{ApiError, MemoryIam, MemoryOrg, ReadOptions, codes, read_all_selecting};
use orgctl_model::{LiveAccessRole, LiveState, Tags, has_roles_record};
use orgctl_planner::{plan, planfile};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use world::access::{InEffect, RoleReach, emails, in_effect, kept, missing, role_reach, widened};
use world::{
    Api, Case, Fault, Kind, block_on, build_case, faulty_apis, live_for, live_of, options,
    plan_and_apply, probe, scoped, seen_by_scoped_read,
};

/// Cases of the convergence property per run (each count can be raised for a deeper local run
/// with `PROPTEST_CASES`, which then applies to every property).
const CASES_CONVERGE: u32 = 256;
/// Cases of the aborted-apply property per run (each applies once per write, to the
/// organization and IAM: grants and the read role make writes many).
const CASES_ABORT: u32 = 48;
/// Cases of the no-widening property per run (each applies once per write, plus once).
const CASES_NO_WIDENING: u32 = 64;
/// Cases of the scoped-equals-full property per run.
const CASES_SCOPED: u32 = 256;
/// Cases of the targeted-verify property per run.
const CASES_TARGETED: u32 = 256;
/// Cases the distribution test draws.
const CASES_DISTRIBUTION: usize = 1000;

/// `default`, or `PROPTEST_CASES` when set.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// The bytes every case is built from.
fn case_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 64..512)
}

/// For a case whose plan has errors: each error is one the case's features explain, and the
/// apply is refused before any write. Returns whether the plan had errors.
async fn refused_for_a_generated_reason(case: &Case) -> bool {
    if case.plan.errors.is_empty() {
        return false;
    }
    if let Err(unexplained) = case.explain_errors() {
        panic!("{unexplained}");
    }
    let org = case.org();
    let refused = apply(
        &case.plan,
        &org,
        &org.iam(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await;
    assert!(refused.is_err(), "a plan with errors must not apply");
    assert_eq!(org.write_call_count(), 0, "a refused plan wrote");
    assert_eq!(
        org.iam().write_call_count(),
        0,
        "a refused plan wrote to IAM"
    );
    true
}

fn access_denied() -> ApiError {
    ApiError::service("", codes::ACCESS_DENIED, "injected")
}

/// What no intermediate state of an apply may lose or exceed.
struct Bounds {
    /// SCP statements and tag rules in effect both before and after the apply.
    kept: InEffect,
    /// What principals reach through orgctl's roles before the apply.
    before: RoleReach,
    /// And after it.
    after: RoleReach,
    /// Accounts holding an orgctl role without the roles record before the apply.
    unrecorded: BTreeSet<String>,
}

impl Bounds {
    fn of(case: &Case, after: &orgctl_model::LiveState) -> Self {
        Self {
            kept: kept(&in_effect(&case.start), &in_effect(after)),
            before: role_reach(&case.start.access_roles, &emails(&case.start)),
            after: role_reach(&after.access_roles, &emails(after)),
            unrecorded: unrecorded(&case.start.access_roles, &account_tags(&case.start)),
        }
    }
}

/// The accounts holding an orgctl role (under `/orgctl/`, orgctl's tag) whose tags lack the
/// roles record (`orgctl:roles`).
fn unrecorded(roles: &[LiveAccessRole], tags: &BTreeMap<String, Tags>) -> BTreeSet<String> {
    roles
        .iter()
        .filter(|r| r.is_managed())
        .filter(|r| !tags.get(&r.account_id).is_some_and(has_roles_record))
        .map(|r| r.account_id.clone())
        .collect()
}

/// [`unrecorded`] among the accounts whose IAM `live` read.
fn read_unrecorded(live: &LiveState) -> BTreeSet<String> {
    let read: BTreeSet<&str> = live
        .iam_accounts
        .iter()
        .filter(|a| a.read.is_readable())
        .map(|a| a.account_id.as_str())
        .collect();
    let mut out = unrecorded(&live.access_roles, &account_tags(live));
    out.retain(|a| read.contains(a.as_str()));
    out
}

/// Account id → tags.
fn account_tags(live: &LiveState) -> BTreeMap<String, Tags> {
    live.accounts
        .iter()
        .map(|a| (a.id.clone(), a.tags.clone()))
        .collect()
}

/// Applies the case's plan to a fresh organization with `fault` placed among its writes to the
/// organization and IAM (`writes`, of [`probe`]), and returns the organization and every
/// violation of `bounds` seen after a write to either.
async fn observed_apply(
    case: &Case,
    writes: &[Api],
    fault: Fault,
    bounds: Arc<Bounds>,
) -> (MemoryOrg, Vec<String>) {
    let violations = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(Mutex::new(0usize));
    // After a write to the organization, with what it has; after a write to IAM, with its roles
    // and the organization's accounts (SCPs do not change then).
    let check = || {
        let (seen, count, bounds) = (violations.clone(), count.clone(), bounds.clone());
        move |org: Option<&orgctl_model::LiveState>,
              roles: &[LiveAccessRole],
              emails: &BTreeMap<String, String>,
              tags: &BTreeMap<String, Tags>,
              op: &str| {
            let mut n = count.lock().unwrap_or_else(PoisonError::into_inner);
            *n += 1;
            let mut found = Vec::new();
            if let Some(live) = org {
                found.extend(missing(&bounds.kept, &in_effect(live)));
            }
            found.extend(widened(
                &bounds.before,
                &bounds.after,
                &role_reach(roles, emails),
            ));
            found.extend(
                unrecorded(roles, tags)
                    .difference(&bounds.unrecorded)
                    .map(|a| format!("account {a} holds an orgctl role without orgctl:roles")),
            );
            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
            for m in found {
                seen.push(format!("after write {} ({op}): {m}", *n));
            }
        }
    };
    let (org, iam) = faulty_apis(case, writes, fault, access_denied());
    let on_org = check();
    let org = org.observe_writes(move |org: &MemoryOrg, op| {
        let live = org.to_live();
        on_org(
            Some(&live),
            &live.access_roles,
            &emails(&live),
            &account_tags(&live),
            op,
        )
    });
    let on_iam = check();
    let iam = iam.observe_writes(move |iam: &MemoryIam, op| {
        on_iam(
            None,
            &iam.access_roles(),
            &iam.account_emails(),
            &iam.account_tags(),
            op,
        )
    });
    let _ = apply(
        &case.plan,
        &org,
        &iam,
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply starts");
    let found = violations
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (org.into_inner(), found)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(CASES_CONVERGE), ..ProptestConfig::default() })]

    #[test]
    fn apply_converges_and_a_second_apply_writes_nothing(bytes in case_bytes()) {
        block_on(async {
            let case = build_case(&bytes).await;
            if refused_for_a_generated_reason(&case).await {
                return;
            }
            let org = case.org();
            let (d, p) = (&case.desired, &case.plan);
            // Deterministic, and the saved plan round-trips.
            assert_eq!(*p, plan(d, &live_for(&org, d).await, &options()));
            let back = planfile::from_json(&planfile::to_json(p)).expect("plan file reads back");
            assert_eq!(*p, back);

            let report = apply(p, &org, &org.iam(), &ApplyOptions::default(), &mut Silent).await.expect("apply starts");
            assert!(report.is_success(), "apply failed: {:?}\nplan: {:?}", report.outcomes, p.changes);
            let pending = verify(d, &org, &org.iam(), &scoped(d), &options()).await.expect("verify");
            assert!(pending.is_empty(), "did not converge: {pending:?}\nplan: {:?}", p.changes);
            assert_eq!(read_unrecorded(&live_for(&org, d).await), BTreeSet::new(), "roles without their record");

            org.clear_calls();
            org.iam().clear_calls();
            // The verify recorded what was applied: the next plan is empty and has no records
            // to write (recording never makes a plan non-empty).
            let second = plan(d, &live_for(&org, d).await, &options());
            assert!(second.is_empty(), "recording made the plan non-empty: {:?}", second.changes);
            assert_eq!(second.records, vec![], "records left after apply");
            let report = apply(&second, &org, &org.iam(), &ApplyOptions::default(), &mut Silent).await.expect("apply starts");
            assert!(report.outcomes.is_empty(), "second plan: {:?}", second.changes);
            assert_eq!(org.write_call_count(), 0);
            assert_eq!(org.iam().write_call_count(), 0);
        });
    }
}

/// Whether a note of the full read's plan is about something the scoped read did not read:
/// an account or OU the scoped live state does not hold, or an unmanaged policy's attachment
/// count (a scoped read knows only the attachments on what it read).
fn about_what_was_not_read(note: &orgctl_planner::Note, scoped: &orgctl_model::LiveState) -> bool {
    let unmanaged_policy = note.address.starts_with("policy ")
        && note
            .message
            .contains("is not managed by orgctl — left in place with its");
    let unread = scoped
        .accounts
        .iter()
        .map(|a| a.id.as_str())
        .chain(scoped.ous.iter().map(|o| o.id.as_str()))
        .all(|id| {
            !(note.message.starts_with(&format!("account {id} "))
                || note.message.starts_with(&format!("OU {id} ")))
        });
    unmanaged_policy || unread
}

/// An access review one account at a time: (principal, entry naming that one account), sorted.
fn per_account(
    access: &[orgctl_planner::PrincipalAccess],
) -> Vec<(String, orgctl_planner::AccessEntry)> {
    let mut out: Vec<_> = access
        .iter()
        .flat_map(|p| {
            p.entries.iter().flat_map(move |e| {
                e.accounts.iter().map(move |a| {
                    let mut one = e.clone();
                    one.accounts = vec![a.clone()];
                    (p.principal.clone(), one)
                })
            })
        })
        .collect();
    out.sort_by_key(|(p, e)| (p.clone(), format!("{e:?}")));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(CASES_SCOPED), ..ProptestConfig::default() })]

    /// The plan from a scoped read (`plan`, `apply`) is the plan from the full read (`drift`)
    /// but for the notes about what the scoped read did not read, on organizations with
    /// unmanaged OUs, subtrees and accounts (`world::out_of_band::elsewhere`).
    #[test]
    fn a_scoped_plan_is_the_full_plan_but_for_notes_on_what_was_not_read(bytes in case_bytes()) {
        block_on(async {
            let case = build_case(&bytes).await;
            let org = case.org();
            let scoped_live = live_for(&org, &case.desired).await;
            let full = plan(&case.desired, &live_of(&org).await, &options());
            let s = &case.plan;
            assert_eq!(*s, plan(&case.desired, &scoped_live, &options()));
            // The one documented limit (see `seen_by_scoped_read`).
            let (full_changes, full_records) = seen_by_scoped_read(&full, &scoped_live);
            assert_eq!(s.changes, full_changes);
            // IAM is read only where the plan needs it (`orgctl_planner::iam_accounts`): what
            // the full plan says about how IAM was read in the other accounts is not expected.
            let iam_read: BTreeSet<&str> = scoped_live
                .accounts
                .iter()
                .filter(|a| scoped_live.iam_accounts.iter().any(|i| i.account_id == a.id))
                .map(|a| a.name.as_str())
                .collect();
            let iam_unread = |address: &str| {
                address
                    .strip_prefix(planfile::IAM_READ_ADDRESS_PREFIX)
                    .is_some_and(|name| !iam_read.contains(name))
            };
            let full_warnings: Vec<_> = full.warnings.iter().filter(|w| !iam_unread(&w.address)).cloned().collect();
            assert_eq!(s.warnings, full_warnings);
            assert_eq!(s.errors, full.errors);
            // The access review of the full plan, without the losses in those accounts:
            // compared one account at a time, as grouping and the labels of a principal
            // depend on which accounts are in the review.
            let read_names: std::collections::BTreeSet<&str> = scoped_live.accounts.iter().map(|a| a.name.as_str()).collect();
            let full_access: Vec<_> = per_account(&full.access)
                .into_iter()
                .filter(|(_, e)| e.effect != orgctl_planner::AccessEffect::Loses || read_names.contains(e.accounts[0].as_str()))
                .collect();
            assert_eq!(per_account(&s.access), full_access);
            for p in &s.access {
                let full_labels = full.access.iter().find(|f| f.principal == p.principal).map(|f| f.label.split(", ").collect::<Vec<_>>()).unwrap_or_default();
                assert!(p.label.split(", ").all(|l| full_labels.contains(&l)), "label {:?} not in the full plan's {full_labels:?}", p.label);
            }
            // Records of what was read are the same.
            assert_eq!(s.records, full_records);
            assert_eq!(s.desired_fingerprint, full.desired_fingerprint);
            for note in &s.notes {
                let same = full.notes.contains(note)
                    || (about_what_was_not_read(note, &scoped_live) && full.notes.iter().any(|n| n.address == note.address))
                    || (note.address == "organization" && note.message.starts_with("not read, as the YAML does not manage it"));
                assert!(same, "a scoped note the full plan lacks: {note:?}\nfull: {:#?}", full.notes);
            }
            for note in &full.notes {
                assert!(
                    s.notes.contains(note) || about_what_was_not_read(note, &scoped_live) || iam_unread(&note.address),
                    "a note of the full plan missing from the scoped one: {note:?}"
                );
            }
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(CASES_ABORT), ..ProptestConfig::default() })]

    #[test]
    fn apply_aborted_after_any_write_converges_on_rerun(bytes in case_bytes()) {
        block_on(async {
            let case = build_case(&bytes).await;
            if refused_for_a_generated_reason(&case).await {
                return;
            }
            // The writes of an uninterrupted apply (to the organization and IAM) and of the
            // records its verify writes, then an abort after each k of them.
            let (done, _, mut writes) = probe(&case).await;
            let creates = done.iam().call_count(CREATE_ROLE);
            let records = plan(&case.desired, &live_for(&done, &case.desired).await, &options()).records;
            writes.extend(records.iter().map(|_| Api::Org));
            // What the start state already had out of a scoped read's reach.
            let start_full = plan(&case.desired, &case.start, &options());
            let out_of_reach: Vec<&String> = start_full.changes.iter().map(|c| &c.address).collect();
            // Every account holding an orgctl role (IAM read everywhere) carries the roles
            // record, but those that already lacked it before the apply.
            let start_unrecorded = unrecorded(&case.start.access_roles, &account_tags(&case.start));
            let new_unrecorded = |live: &LiveState| -> BTreeSet<String> {
                unrecorded(&live.access_roles, &account_tags(live)).difference(&start_unrecorded).cloned().collect()
            };
            for k in 0..writes.len() {
                let (org, iam) = faulty_apis(&case, &writes, Fault::CrashAfter(k), access_denied());
                let report = apply(&case.plan, &org, &iam, &ApplyOptions::default(), &mut Silent).await;
                if report.is_ok_and(|r| r.is_success()) {
                    let _ = verify(&case.desired, &org, &iam, &ReadOptions::default(), &options()).await;
                }
                let org = org.into_inner();
                assert_eq!(new_unrecorded(&live_of(&org).await), BTreeSet::new(), "k={k}: the aborted apply left roles without their record");
                // Recovery is a fresh plan and apply.
                plan_and_apply(&case.desired, &org).await;
                let pending = verify(&case.desired, &org, &org.iam(), &scoped(&case.desired), &options()).await.expect("verify");
                assert!(pending.is_empty(), "k={k}: did not converge: {pending:?}");
                // Nothing left to do, but what a scoped read cannot see (its documented limit:
                // roles the start state already had out of its reach).
                let after_live = live_of(&org).await;
                assert_eq!(new_unrecorded(&after_live), BTreeSet::new(), "k={k}: the rerun left roles without their record");
                let after = plan(&case.desired, &after_live, &options());
                let read = live_for(&org, &case.desired).await;
                let (changes, records) = seen_by_scoped_read(&after, &read);
                assert!(changes.is_empty(), "k={k}: {changes:?}");
                assert_eq!(records, vec![], "k={k}: records left after the rerun");
                for c in after.changes.iter().filter(|c| !changes.contains(c)) {
                    assert!(
                        out_of_reach.contains(&&c.address),
                        "k={k}: the apply left a role out of a scoped read's reach: {c:?}"
                    );
                }
                assert_eq!(read_unrecorded(&read), BTreeSet::new(), "k={k}: roles without their record");
                assert!(
                    org.iam().call_count(CREATE_ROLE) <= creates,
                    "k={k}: {} CreateRole calls over the aborted apply and its rerun, {creates} in one apply",
                    org.iam().call_count(CREATE_ROLE)
                );
            }
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(CASES_NO_WIDENING), ..ProptestConfig::default() })]

    #[test]
    fn no_prefix_of_an_apply_widens_access(bytes in case_bytes()) {
        block_on(async {
            let case = build_case(&bytes).await;
            if refused_for_a_generated_reason(&case).await {
                return;
            }
            let (done, report, writes) = probe(&case).await;
            assert!(report.is_success(), "apply failed: {:?}", report.outcomes);
            let bounds = Arc::new(Bounds::of(&case, &done.to_live()));
            // Every prefix of the whole apply, then every prefix of an apply whose k-th write
            // (to either API) fails, and what the apply does after that failure.
            let faults = std::iter::once(Fault::None).chain((1..=writes.len()).map(Fault::FailWrite));
            for fail_at in faults {
                let (_, violations) = observed_apply(&case, &writes, fail_at, bounds.clone()).await;
                assert!(
                    violations.is_empty(),
                    "failing write {fail_at:?}: access widened: {violations:#?}\nplan: {:#?}",
                    case.plan.changes.iter().map(|c| (&c.address, &c.ops)).collect::<Vec<_>>()
                );
            }
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(CASES_TARGETED), ..ProptestConfig::default() })]

    /// After an apply, successful or with one failed write (to the organization or IAM), the
    /// targeted re-read of `apply`'s verify (what the apply wrote, patched into the state it
    /// planned from) plans what a fresh scoped read plans: the same pending changes, records,
    /// warnings and errors. It reads everything again only for a reason it names (a policy
    /// type enabled, a creation without an id).
    #[test]
    fn a_targeted_verify_plans_what_a_fresh_scoped_read_plans(bytes in case_bytes(), fail in 0usize..96) {
        block_on(async {
            let case = build_case(&bytes).await;
            if !case.plan.errors.is_empty() {
                return;
            }
            let (_, _, writes) = probe(&case).await;
            let fault = match fail % (writes.len() + 1) {
                0 => Fault::None,
                n => Fault::FailWrite(n),
            };
            let (org, iam) = faulty_apis(&case, &writes, fault, access_denied());
            // Read as `plan` and `apply` read: scoped, IAM where plans read it.
            let read = scoped(&case.desired);
            let opts = options();
            let select = plan_iam_accounts(&case.desired, &opts);
            let before = read_all_selecting(&org, &iam, &read, &select, &|_| {}).await.expect("read");
            assert_eq!(plan(&case.desired, &before, &options()), case.plan);
            let report = apply(&case.plan, &org, &iam, &ApplyOptions::default(), &mut Silent)
                .await
                .expect("apply starts");
            let (targeted, full) = reread_applied(&org, &iam, &before, &case.plan, &report, &read, &select, &|_| {})
                .await
                .expect("targeted re-read");
            let fresh = read_all_selecting(&org, &iam, &read, &select, &|_| {}).await.expect("fresh read");
            let (t, f) = (plan(&case.desired, &targeted, &options()), plan(&case.desired, &fresh, &options()));
            let context = || format!(
                "fault {fault:?}, outcomes {:?}\nplan: {:#?}",
                report.outcomes,
                case.plan.changes.iter().map(|c| (&c.address, &c.ops)).collect::<Vec<_>>()
            );
            assert_eq!(t.changes, f.changes, "pending changes differ; {}", context());
            assert_eq!(t.records, f.records, "records differ; {}", context());
            assert_eq!(t.warnings, f.warnings, "warnings differ; {}", context());
            assert_eq!(t.errors, f.errors, "errors differ; {}", context());
            if let Some(why) = full {
                let enables = case.plan.changes.iter().flat_map(|c| &c.ops).any(|op| matches!(op, orgctl_model::Op::EnablePolicyType { .. }));
                assert!(enables || !report.is_success(), "read in full without a reason: {why}; {}", context());
            }
        });
    }
}

/// The generators reach every kind of case in a minimum share of cases, and plan errors stay a
/// bounded minority, each explained by the case. Prints the distribution.
#[test]
fn generated_cases_reach_every_kind() {
    let mut runner = TestRunner::deterministic();
    let strategy = case_bytes();
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    for _ in 0..CASES_DISTRIBUTION {
        let bytes = strategy
            .new_tree(&mut runner)
            .expect("generate bytes")
            .current();
        let case = block_on(build_case(&bytes));
        if let Err(e) = case.explain_errors() {
            unexplained.push(format!("{e}\nbytes: {bytes:?}"));
        }
        for k in case.kinds {
            *counts.entry(k).or_default() += 1;
        }
    }
    let share = |k: Kind| counts.get(&k).copied().unwrap_or(0) * 100 / CASES_DISTRIBUTION;
    let table: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("{k:?}: {}%", share(*k)))
        .collect();
    println!("distribution of {CASES_DISTRIBUTION} generated cases: {table:?}");
    for k in Kind::ALL {
        let minimum = match k {
            Kind::PlanError => 1,
            _ => 5,
        };
        assert!(
            share(k) >= minimum,
            "{k:?} in only {}% of cases: {table:?}",
            share(k)
        );
    }
    assert!(
        unexplained.is_empty(),
        "{} cases with unexplained plan errors:\n{}",
        unexplained.len(),
        unexplained.join("\n\n")
    );
    assert!(
        share(Kind::PlanError) <= 25,
        "plan errors in {}% of cases: {table:?}",
        share(Kind::PlanError)
    );
}

/// Prints the case built from the bytes in `WORLD_CASE` (`1,2,3`), for reading a shrunk failure:
/// `WORLD_CASE=… cargo test -p orgctl-applier --test convergence show_case -- --ignored --nocapture`.
#[test]
#[ignore = "a debugging aid, run by hand"]
fn show_case() {
    let bytes: Vec<u8> = std::env::var("WORLD_CASE")
        .unwrap_or_default()
        .split(',')
        .filter_map(|b| b.trim().parse().ok())
        .collect();
    block_on(async {
        let case = build_case(&bytes).await;
        println!("kinds: {:?}", case.kinds);
        println!("start: {:#?}", case.start);
        println!("desired: {:#?}", case.desired);
        for c in &case.plan.changes {
            println!("change {} ({:?}): {:?}", c.address, c.action, c.ops);
        }
        println!("errors: {:#?}", case.plan.errors);
        if !case.plan.errors.is_empty() {
            return;
        }
        let (org, report, writes) = probe(&case).await;
        println!("outcomes: {:#?}", report.outcomes);
        let pending = verify(
            &case.desired,
            &org,
            &org.iam(),
            &ReadOptions::default(),
            &options(),
        )
        .await;
        println!("pending after apply: {pending:#?}");
        let bounds = Arc::new(Bounds::of(&case, &org.to_live()));
        let faults = std::iter::once(Fault::None).chain((1..=writes.len()).map(Fault::FailWrite));
        for fail_at in faults {
            let (org, violations) = observed_apply(&case, &writes, fail_at, bounds.clone()).await;
            if !violations.is_empty() {
                println!("failing write {fail_at:?}: {violations:#?}");
                println!("calls: {:?} / {:?}", org.calls(), org.iam().calls());
                break;
            }
        }
    });
}

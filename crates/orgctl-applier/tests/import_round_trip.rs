//! `orgctl import`'s round trip, over random organizations on the strict in-memory backend
//! (the convergence tests' generated starting organizations: applied desired states changed
//! out of band, with unmanaged OUs, accounts and policies, grants, orgctl's read role,
//! look-alike roles, unreadable and closed accounts):
//!
//! - the exported files load without an error;
//! - the plan from them against the same organization has no error and only adoptions (an OU
//!   or policy getting the `managed-by` tag, said so by the plan), except where the export
//!   reported a change it could not avoid (`Adjustment::changes_aws`, same address);
//! - after applying it, the next plan is empty;
//! - with `--only-managed` too.

#[allow(dead_code)]
mod world;

use std::collections::BTreeSet;

use orgctl_applier::{ApplyOptions, Silent, apply};
use orgctl_manifest::export::{Export, ExportOptions, export};
use orgctl_manifest::{LoadOptions, load_dir_with};
use orgctl_model::{DesiredState, MANAGED_BY_KEY, MANAGED_BY_VALUE, Op, Tags};
use orgctl_planner::{Action, Change, ResourceKind, plan};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use world::{block_on, build_case, live_of, options};

/// Cases per run (`PROPTEST_CASES` overrides).
const CASES: u32 = 128;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES)
}

/// Writes the export to a temporary directory and loads it as `plan` would.
pub fn load(export: &Export) -> DesiredState {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in &export.files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }
    let today = options().today;
    match load_dir_with(dir.path(), &LoadOptions { today: Some(today) }) {
        Ok(l) => l.desired,
        Err(e) => panic!(
            "the exported files do not load:\n{e}\n\n{}",
            export
                .files
                .iter()
                .map(|(p, t)| format!("--- {p}\n{t}"))
                .collect::<String>()
        ),
    }
}

/// Whether a change is an adoption and nothing else: an OU or policy gets the `managed-by` tag,
/// and the plan says it is adopted.
pub fn is_adoption(c: &Change) -> bool {
    let marker = Tags::from([(MANAGED_BY_KEY.to_owned(), MANAGED_BY_VALUE.to_owned())]);
    matches!(c.kind, ResourceKind::Ou | ResourceKind::Policy)
        && c.action == Action::Update
        && c.reason.starts_with("Adopted")
        && c.ops.len() == 1
        && matches!(&c.ops[0], Op::TagResource { tags, .. } if *tags == marker)
}

/// Whether the export reported a change at this address (or under it: `grant/g` covers
/// `grant/g -> account a`).
fn reported(export: &Export, address: &str) -> bool {
    export.adjustments.iter().any(|a| {
        a.changes_aws
            && (address == a.address
                || address.starts_with(&format!("{} ", a.address))
                || (a.address.starts_with("iam role ") && address.starts_with("grant/")))
    })
}

async fn round_trip(bytes: &[u8], only_managed: bool) {
    let case = build_case(bytes).await;
    let org = case.org();
    let live = live_of(&org).await;
    let opts = ExportOptions {
        today: options().today,
        only_managed,
    };
    let exported = export(&live, &opts);
    assert_eq!(exported, export(&live, &opts), "deterministic");
    let desired = load(&exported);
    let first = plan(&desired, &live, &options());
    let context = || {
        format!(
            "adjustments: {:#?}\nfiles:\n{}",
            exported.adjustments,
            exported
                .files
                .iter()
                .filter(|(p, _)| p.ends_with(".yaml"))
                .map(|(p, t)| format!("--- {p}\n{t}"))
                .collect::<String>()
        )
    };
    assert!(
        first.errors.is_empty(),
        "plan errors: {:#?}\n{}",
        first.errors,
        context()
    );
    let unexplained: Vec<&Change> = first
        .changes
        .iter()
        .filter(|c| !is_adoption(c) && !reported(&exported, &c.address))
        .collect();
    assert!(
        unexplained.is_empty(),
        "changes other than adoptions that import did not report: {unexplained:#?}\n{}",
        context()
    );
    let report = apply(
        &first,
        &org,
        &org.iam(),
        &ApplyOptions::default(),
        &mut Silent,
    )
    .await
    .expect("apply starts");
    assert!(report.is_success(), "apply failed: {:?}", report.outcomes);
    let next = plan(&desired, &live_of(&org).await, &options());
    assert!(
        next.changes.is_empty(),
        "the plan after the adoption is not empty: {:#?}\n{}",
        next.changes,
        context()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn import_then_plan_shows_only_adoptions_and_converges(
        bytes in proptest::collection::vec(any::<u8>(), 64..512),
        only_managed in any::<bool>(),
    ) {
        block_on(round_trip(&bytes, only_managed));
    }
}

/// The generated organizations reach what the round trip must handle: unmanaged OUs and
/// policies to adopt, grants, and (sometimes) something the export must report.
#[test]
fn generated_organizations_have_things_to_adopt_and_grants() {
    let mut kinds: BTreeSet<&str> = BTreeSet::new();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..200 {
        let bytes = proptest::collection::vec(any::<u8>(), 64..512)
            .new_tree(&mut runner)
            .expect("bytes")
            .current();
        block_on(async {
            let case = build_case(&bytes).await;
            let live = live_of(&case.org()).await;
            let exported = export(
                &live,
                &ExportOptions {
                    today: options().today,
                    only_managed: false,
                },
            );
            let desired = load(&exported);
            let first = plan(&desired, &live, &options());
            if first.changes.iter().any(is_adoption) {
                kinds.insert("adoption");
            }
            if !desired.grants.is_empty() {
                kinds.insert("grant");
            }
            if desired.organization.plan_role.is_some() {
                kinds.insert("plan role");
            }
            if !exported.adjustments.is_empty() {
                kinds.insert("adjustment");
            }
        });
    }
    assert_eq!(
        kinds,
        BTreeSet::from(["adjustment", "adoption", "grant", "plan role"])
    );
}

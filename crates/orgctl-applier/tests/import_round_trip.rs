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
//! - with `--only-managed` too;
//! - on organizations changed by hand to hold what the YAML cannot say as AWS has it (OU names
//!   with `/` or a character that does not show, accounts named `root` or like another, a tag
//!   value with a character that does not show, a policy whose name has one, another tool's
//!   `managed-by`): the export makes them valid and reports each place the plan changes.

#[allow(dead_code)]
mod world;

use std::collections::BTreeSet;

use orgctl_applier::{ApplyOptions, Silent, apply};
use orgctl_backend::{MemoryOrg, OrgApi};
use orgctl_manifest::export::{Export, ExportOptions, export};
use orgctl_manifest::{LoadOptions, load_dir_with};
use orgctl_model::{
    DesiredState, LiveState, MANAGED_BY_KEY, MANAGED_BY_VALUE, Op, PolicyType, Tags,
};
use orgctl_planner::{Action, Change, ResourceKind, plan};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use world::{Chooser, block_on, build_case, live_for, live_of, options, org_from};

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

/// Changes the organization by hand the way the YAML cannot say (each with a chance drawn
/// from `odd`); errors (a name a sibling has, a full target) leave that change out.
async fn odd_names(org: &MemoryOrg, live: &LiveState, odd: &[u8]) {
    let mut c = Chooser::new(odd);
    let root = live.organization.root_id.clone();
    let ous: Vec<&orgctl_model::LiveOu> = live.ous.iter().collect();
    if c.chance(40)
        && let Some(ou) = c.one_of(&ous)
    {
        let _ = org.rename_ou(&ou.id, &format!("{}/x", ou.name)).await;
    }
    if c.chance(40)
        && let Some(ou) = c.one_of(&ous)
    {
        let _ = org.rename_ou(&ou.id, &format!("{}\u{a0}", ou.name)).await;
    }
    if c.chance(40) {
        let _ = org
            .create_account("root", "odd-root@odd.example", &Tags::new())
            .await;
    }
    if c.chance(40)
        && let Some(a) = c.one_of(&live.accounts)
    {
        let _ = org
            .create_account(&a.name, "odd-twin@odd.example", &Tags::new())
            .await;
    }
    if c.chance(40)
        && let Some(ou) = c.one_of(&ous)
    {
        let tags = Tags::from([("note".to_owned(), "a\u{a0}b".to_owned())]);
        let _ = org.tag_resource(&ou.id, &tags).await;
    }
    if c.chance(40)
        && let Some(ou) = c.one_of(&ous)
    {
        let tags = Tags::from([(MANAGED_BY_KEY.to_owned(), "terraform".to_owned())]);
        let _ = org.tag_resource(&ou.id, &tags).await;
    }
    if c.chance(40)
        && live
            .organization
            .enabled_policy_types
            .contains(&PolicyType::ServiceControlPolicy)
        && let Ok(p) = org
            .create_policy(
                "deny\u{a0}odd",
                PolicyType::ServiceControlPolicy,
                "",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
                &Tags::new(),
            )
            .await
    {
        let _ = org.attach_policy(&p.id, &root).await;
    }
}

async fn round_trip(bytes: &[u8], only_managed: bool, odd: &[u8]) {
    let case = build_case(bytes).await;
    let org = org_from(&case.start, 0);
    odd_names(&org, &case.start, odd).await;
    let live = live_of(&org).await;
    let opts = ExportOptions {
        today: options().today,
        only_managed,
    };
    let exported = export(&live, &opts);
    assert_eq!(exported, export(&live, &opts), "deterministic");
    let desired = load(&exported);
    let first = plan(&desired, &live_for(&org, &desired).await, &options());
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
    let next = plan(&desired, &live_for(&org, &desired).await, &options());
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
        odd in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        block_on(round_trip(&bytes, only_managed, &odd));
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
            let org = case.org();
            let live = live_of(&org).await;
            let exported = export(
                &live,
                &ExportOptions {
                    today: options().today,
                    only_managed: false,
                },
            );
            let desired = load(&exported);
            let first = plan(&desired, &live_for(&org, &desired).await, &options());
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

/// The hand-made oddities reach the export: every kind is reported, and the round trip holds.
#[test]
fn every_hand_made_oddity_is_reported() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for _ in 0..20 {
        let bytes = proptest::collection::vec(any::<u8>(), 64..512)
            .new_tree(&mut runner)
            .expect("bytes")
            .current();
        block_on(async {
            let case = build_case(&bytes).await;
            let org = org_from(&case.start, 0);
            odd_names(&org, &case.start, &[99; 16]).await;
            let live = live_of(&org).await;
            let exported = export(
                &live,
                &ExportOptions {
                    today: options().today,
                    only_managed: false,
                },
            );
            for (kind, words) in [
                ("ou renamed", " is named `"),
                ("account renamed", "which the YAML cannot use"),
                ("ignored key", "listed in ignore_tag_keys"),
                ("another tool", "tagged managed-by: terraform"),
                ("policy left out", "cannot be written in the YAML"),
            ] {
                if exported
                    .adjustments
                    .iter()
                    .any(|a| a.message.contains(words))
                {
                    seen.insert(kind);
                }
            }
            round_trip(&bytes, false, &[99; 16]).await;
        });
    }
    assert_eq!(
        seen,
        BTreeSet::from([
            "account renamed",
            "another tool",
            "ignored key",
            "ou renamed",
            "policy left out"
        ])
    );
}

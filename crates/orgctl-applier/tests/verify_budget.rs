//! The request budget of `apply`'s verify (issue 9): after an apply of 50 new accounts on the
//! 500-account organization (`scripts/bench-emulator.sh`'s shape: 5 top-level OUs of 3 children
//! each, 500 accounts with two tags each, 5 SCPs, a YAML describing all of it), the targeted
//! re-read ([`orgctl_applier::reread_applied`]) makes requests that grow with what the apply
//! wrote, the full re-read (`apply --full-verify`) with the organization. Requests are counted as
//! AWS answers them (`Pages`: a listing is one request per page of 20); IAM calls one each.
//!
//! `cargo test -p orgctl-applier --test verify_budget -- --nocapture` prints the figures of
//! `docs/performance.md`.

use orgctl_applier::{ApplyOptions, Silent, apply, plan_iam_accounts, record, reread_applied};
use orgctl_backend::paged::Pages;
use orgctl_backend::{MemoryOrg, OrgApi, ReadOptions, read_all_reporting, read_all_selecting};
use orgctl_manifest::export::{ExportOptions, export};
use orgctl_manifest::{LoadOptions, load_dir_with};
use orgctl_model::{AccountStatus, DesiredState, LiveAccount, LiveOu, LiveState, PolicyType, Tags};
use orgctl_planner::{PlanOptions, plan, read_scope};

const SCP: PolicyType = PolicyType::ServiceControlPolicy;
const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const TODAY: &str = "2026-12-02";

fn managed() -> Tags {
    [("managed-by".to_owned(), "orgctl".to_owned())].into()
}

/// The organization: `accounts` accounts over 20 OUs, 5 SCPs on the top-level OUs, all of it
/// orgctl's; and its top-level OUs' names.
async fn organization(accounts: usize) -> MemoryOrg {
    let mut live = MemoryOrg::new("111111111111", "mgmt@example.com").to_live();
    let root = live.organization.root_id.clone();
    let mut leaves = Vec::new();
    for u in 0..5 {
        let top = format!("ou-unit-{u:08}");
        live.ous.push(LiveOu {
            id: top.clone(),
            name: format!("Unit{u}"),
            parent_id: root.clone(),
            tags: managed(),
        });
        leaves.push(top.clone());
        for t in 0..3 {
            let id = format!("ou-team-{u:02}{t:06}");
            live.ous.push(LiveOu {
                id: id.clone(),
                name: format!("Team{t}"),
                parent_id: top.clone(),
                tags: managed(),
            });
            leaves.push(id);
        }
    }
    for i in 0..accounts {
        live.accounts.push(LiveAccount {
            id: format!("{:012}", 300_000_000_000u64 + i as u64),
            name: format!("account-{i}"),
            email: format!("a{i}@example.com"),
            parent_id: leaves[i % leaves.len()].clone(),
            status: AccountStatus::Active,
            tags: [
                ("team".to_owned(), format!("t{}", i % 7)),
                ("env".to_owned(), "prod".to_owned()),
            ]
            .into(),
        });
    }
    live.normalize();
    let org = MemoryOrg::from_live(&live).expect("load");
    org.enable_policy_type(&root, SCP).await.expect("scp");
    for u in 0..5 {
        let p = org
            .create_policy(&format!("scp{u}"), SCP, "", DOC, &managed())
            .await
            .expect("policy");
        org.attach_policy(&p.id, &format!("ou-unit-{u:08}"))
            .await
            .expect("attach");
    }
    org
}

/// The YAML of the whole organization (as `orgctl import` writes it), with `new` accounts more.
fn desired(live: &LiveState, new: usize) -> DesiredState {
    let files = export(
        live,
        &ExportOptions {
            today: TODAY.into(),
            only_managed: false,
        },
    )
    .files;
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in &files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        let mut text = text.clone();
        if path.ends_with("accounts.yaml") {
            for i in 0..new {
                text.push_str(&format!(
                    "  - name: new-{i}\n    email: new{i}@example.com\n    ou: /Unit{}/Team{}\n    tags:\n      team: t0\n      env: prod\n",
                    i % 5,
                    i % 3
                ));
            }
        }
        std::fs::write(path, text).expect("write");
    }
    let loaded = load_dir_with(
        dir.path(),
        &LoadOptions {
            today: Some(TODAY.into()),
        },
    )
    .expect("the YAML loads");
    loaded.desired
}

/// What a verify read cost: organization requests (in pages) and IAM calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    org: usize,
    iam: usize,
}

impl Cost {
    fn total(self) -> usize {
        self.org + self.iam
    }
}

/// Applies `new` accounts on an organization of `accounts`, then verifies both ways; returns
/// the full verify's cost and the targeted one's, having checked that both plan nothing.
async fn verify_costs(accounts: usize, new: usize) -> (Cost, Cost) {
    let org = organization(accounts).await;
    let options = PlanOptions {
        today: TODAY.into(),
    };
    // Applied before with the YAML of what is there: every resource carries its record.
    let d0 = desired(&org.to_live(), 0);
    let live0 = read_all_reporting(&org, &org.iam(), &ReadOptions::default(), &|_| {})
        .await
        .expect("read");
    let p0 = plan(&d0, &live0, &options);
    assert!(p0.is_empty(), "{:?}", p0.changes);
    record(&org, &p0.records).await.expect("record");
    let d = desired(&org.to_live(), new);
    let read = ReadOptions {
        scope: Some(read_scope(&d)),
        ..ReadOptions::default()
    };
    let api = Pages::new(org);
    let iam = api.inner.iam();
    // IAM where `plan` and `apply` read it (grant targets, recorded accounts: none here).
    let select = plan_iam_accounts(&d, &options);
    let before = read_all_selecting(&api, &iam, &read, &select, &|_| {})
        .await
        .expect("read");
    let p = plan(&d, &before, &options);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.changes.len(), new, "{:?}", p.changes);
    let report = apply(&p, &api, &iam, &ApplyOptions::default(), &mut Silent)
        .await
        .expect("apply starts");
    assert!(report.is_success(), "{:?}", report.outcomes);

    let reads = || iam.calls().len() - iam.write_call_count();
    let (org0, iam0) = (api.requests(), reads());
    let full = read_all_selecting(&api, &iam, &read, &select, &|_| {})
        .await
        .expect("full verify");
    let full_cost = Cost {
        org: api.requests() - org0,
        iam: reads() - iam0,
    };
    let (org0, iam0) = (api.requests(), reads());
    let (targeted, fell_back) =
        reread_applied(&api, &iam, &before, &p, &report, &read, &select, &|_| {})
            .await
            .expect("targeted verify");
    let targeted_cost = Cost {
        org: api.requests() - org0,
        iam: reads() - iam0,
    };
    assert_eq!(fell_back, None);
    let (a, b) = (plan(&d, &full, &options), plan(&d, &targeted, &options));
    assert!(a.changes.is_empty() && b.changes.is_empty());
    assert_eq!(a.records, b.records);
    assert_eq!(a.records.len(), new, "each new account is recorded");
    (full_cost, targeted_cost)
}

/// The targeted verify's budget for `n` new accounts, `T` enabled types, as
/// `docs/performance.md` states it: per account DescribeAccount, ListParents,
/// ListTagsForResource and ListPoliciesForTarget per type; no IAM (a new account that no grant
/// targets is not where plans read IAM).
fn targeted_budget(n: usize, types: usize) -> Cost {
    Cost {
        org: n * (3 + types),
        iam: 0,
    }
}

#[tokio::test]
async fn verifying_50_new_accounts_reads_what_the_apply_wrote_not_the_500_account_organization() {
    let (full, targeted) = verify_costs(500, 50).await;
    println!(
        "verify after 50 new accounts on 500: full re-read {} requests ({} organization + {} \
         IAM), targeted {} ({} + {})",
        full.total(),
        full.org,
        full.iam,
        targeted.total(),
        targeted.org,
        targeted.iam
    );
    assert_eq!(targeted, targeted_budget(50, 1));
    // A third of the whole read's organization requests (the whole read reads no IAM here
    // either: IAM only where plans read it, and no account is a grant target).
    assert!(
        targeted.total() * 3 < full.total(),
        "{targeted:?} / {full:?}"
    );
    // Ten times the organization, the same writes: the same targeted verify.
    let (full_5000, targeted_5000) = verify_costs(5_000, 50).await;
    println!(
        "verify after 50 new accounts on 5,000: full re-read {}, targeted {}",
        full_5000.total(),
        targeted_5000.total()
    );
    assert_eq!(targeted_5000, targeted);
    assert!(full_5000.total() > 5 * full.total());
}

//! Planner benchmark: plans synthetic organizations of 1,000 to 100,000 accounts and prints the
//! time per plan (wall clock, and the CPU time of all threads in that run: the planner runs its
//! independent phases on more than one core) and the peak memory. `cargo bench -p
//! orgctl-planner` runs the full sizes; under `cargo test` (no `--bench` argument) it runs one
//! small size as a smoke test.
//! `PROFILE=N` builds one organization of N accounts and plans it once (for
//! `valgrind --tool=callgrind`); with `PLAN_HASH=1` it also prints the SHA-256 of the plan's
//! JSON (the same before and after a change that must not change the output).
//!
//! Each organization has 1 account in 10 in the wrong OU, 1 in 20 with a changed tag, 1 in 50
//! missing (to create), 100 OUs under 10 parents and 5 SCPs attached to OUs; 10 access grants,
//! one per parent OU (so every account is a target), and the read role: IAM is read in every
//! live account, where the roles are in place except in 1 account in 7 (to create).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use orgctl_model::{
    AccountSpec, AccountStatus, DesiredState, GrantSpec, GrantTarget, IamRead, Lifecycle,
    LiveAccessRole, LiveAccount, LiveIamAccount, LiveOrganization, LiveOu, LivePolicy, LiveState,
    OrganizationSpec, OuSpec, PolicySpec, PolicyType, SourceLoc, Tags, TargetRef,
};
use orgctl_planner::{PlanOptions, plan};

fn loc() -> SourceLoc {
    SourceLoc {
        file: "bench.yaml".into(),
        line: 1,
        column: 1,
    }
}

fn managed() -> Tags {
    [("managed-by".to_owned(), "orgctl".to_owned())].into()
}

fn org(accounts: usize) -> (DesiredState, LiveState) {
    let mut d = DesiredState {
        grants: Default::default(),
        organization: OrganizationSpec {
            member_role: orgctl_model::DEFAULT_MEMBER_ROLE.to_string(),
            plan_role: None,
            email_domains: Default::default(),
            management_account_id: "111111111111".into(),
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
    let mut l = LiveState {
        organization: LiveOrganization {
            id: "o-bench".into(),
            management_account_id: "111111111111".into(),
            root_id: "r-root".into(),
            enabled_policy_types: [PolicyType::ServiceControlPolicy].into(),
            root_record: None,
        },
        ..LiveState::default()
    };
    let mut faa = vec!["r-root".to_owned()];
    let mut leaf_paths = Vec::new();
    let mut leaf_ids = Vec::new();
    for p in 0..10 {
        let path = format!("/P{p}");
        let id = format!("ou-root-p{p:07}");
        d.ous.insert(path.clone(), ou(&path, &format!("P{p}")));
        l.ous.push(LiveOu {
            id: id.clone(),
            name: format!("P{p}"),
            parent_id: "r-root".into(),
            tags: managed(),
        });
        faa.push(id.clone());
        for c in 0..9 {
            let cpath = format!("{path}/C{c}");
            let cid = format!("ou-root-c{p}{c:06}");
            d.ous.insert(cpath.clone(), ou(&cpath, &format!("C{c}")));
            l.ous.push(LiveOu {
                id: cid.clone(),
                name: format!("C{c}"),
                parent_id: id.clone(),
                tags: managed(),
            });
            faa.push(cid.clone());
            leaf_paths.push(cpath);
            leaf_ids.push(cid);
        }
    }
    for i in 0..accounts {
        let leaf = i % leaf_paths.len();
        let name = format!("acct-{i:06}");
        let email = format!("acct-{i:06}@corp.example");
        let tags: Tags = [("cost-center".to_owned(), format!("cc-{}", i % 37))].into();
        d.accounts.insert(
            name.clone(),
            AccountSpec {
                name: name.clone(),
                email: email.clone(),
                ou: leaf_paths[leaf].clone(),
                id: None,
                tags: tags.clone(),
                lifecycle: Lifecycle::Active,
                full_aws_access: true,
                source: loc(),
            },
        );
        if i % 50 == 49 {
            continue; // to create
        }
        let id = format!("{:012}", 200_000_000_000u64 + i as u64);
        let parent = if i % 10 == 0 {
            &leaf_ids[(leaf + 1) % leaf_ids.len()]
        } else {
            &leaf_ids[leaf]
        };
        let mut live_tags = tags;
        if i % 20 == 0 {
            live_tags.insert("cost-center".into(), "stale".into());
        }
        l.accounts.push(LiveAccount {
            id: id.clone(),
            name,
            email,
            parent_id: parent.clone(),
            status: AccountStatus::Active,
            tags: live_tags,
        });
        faa.push(id);
    }
    for s in 0..5 {
        let name = format!("scp-{s}");
        let content = format!(
            r#"{{"Statement":[{{"Action":"svc{s}:*","Effect":"Deny","Resource":"*"}}],"Version":"2012-10-17"}}"#
        );
        let targets: BTreeSet<TargetRef> =
            (0..10).map(|p| TargetRef::Ou(format!("/P{p}"))).collect();
        d.policies.insert(
            name.clone(),
            PolicySpec {
                name: name.clone(),
                policy_type: PolicyType::ServiceControlPolicy,
                description: String::new(),
                content: content.clone(),
                targets,
                tags: Tags::new(),
                source: loc(),
            },
        );
        l.policies.push(LivePolicy {
            id: format!("p-scp{s:08}"),
            name,
            policy_type: PolicyType::ServiceControlPolicy,
            description: String::new(),
            content,
            aws_managed: false,
            tags: managed(),
            targets: (0..10).map(|p| format!("ou-root-p{p:07}")).collect(),
        });
    }
    l.policies.push(LivePolicy {
        id: "p-FullAWSAccess".into(),
        name: "FullAWSAccess".into(),
        policy_type: PolicyType::ServiceControlPolicy,
        description: String::new(),
        content: "{}".into(),
        aws_managed: true,
        tags: Tags::new(),
        targets: faa,
    });
    grants(&mut d, &mut l, &leaf_paths);
    // As the live-state reader returns it.
    l.normalize();
    (d, l)
}

const PLAN_ROLE: &str = "arn:aws:iam::111111111111:role/orgctl-plan";

/// Ten grants, grant `g` on `/P{g}`; the read role; IAM read in every live account, with the
/// roles in place except in 1 account in 7.
fn grants(d: &mut DesiredState, l: &mut LiveState, leaf_paths: &[String]) {
    d.organization.plan_role = Some(PLAN_ROLE.into());
    let specs: Vec<GrantSpec> = (0..10)
        .map(|g| GrantSpec {
            name: format!("partner-{g}"),
            partner: format!("Partner {g}"),
            owner: "platform".into(),
            ticket: format!("SEC-{g}"),
            description: String::new(),
            principal: format!("arn:aws:iam::{:012}:root", 900_000_000_000u64 + g),
            principal_account: format!("{:012}", 900_000_000_000u64 + g),
            external_id: Some(format!("partner-{g}-external")),
            mfa: false,
            max_session_secs: 3600,
            managed_policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()].into(),
            inline_policies: BTreeMap::new(),
            permissions_boundary: None,
            targets: [GrantTarget::Ou(format!("/P{g}"))].into(),
            exclude_accounts: BTreeSet::new(),
            exclude_ids: BTreeSet::new(),
            role_name: format!("partner-{g}"),
            expires: Some("2027-06-30".into()),
            access_ends: Some("2027-07-01T00:00:00Z".into()),
            source: loc(),
        })
        .collect();
    let read_role = |account: &str| LiveAccessRole {
        account_id: account.to_owned(),
        role_name: orgctl_model::READ_ROLE_NAME.into(),
        path: orgctl_model::ROLE_PATH.into(),
        trust_policy: orgctl_model::trust_policy(PLAN_ROLE, None, false, None),
        description: "orgctl read role: IAM read-only access for orgctl plan, access and drift"
            .into(),
        max_session_secs: 3600,
        managed_policies: BTreeSet::new(),
        inline_policies: [(
            orgctl_model::READ_ROLE_POLICY_NAME.to_owned(),
            orgctl_model::READ_ROLE_POLICY.to_owned(),
        )]
        .into(),
        permissions_boundary: None,
        tags: [
            ("managed-by".to_owned(), "orgctl".to_owned()),
            (
                orgctl_model::ROLE_TAG_KEY.to_owned(),
                orgctl_model::READ_ROLE_TAG_VALUE.to_owned(),
            ),
        ]
        .into(),
    };
    let grant_role = |account: &str, g: &GrantSpec| LiveAccessRole {
        account_id: account.to_owned(),
        role_name: g.role_name.clone(),
        path: orgctl_model::ROLE_PATH.into(),
        trust_policy: g.trust_policy(),
        description: g.role_description(),
        max_session_secs: g.max_session_secs,
        managed_policies: g.managed_policies.clone(),
        inline_policies: g.inline_policies.clone(),
        permissions_boundary: g.permissions_boundary.clone(),
        tags: g.role_tags(),
    };
    let by_email: std::collections::HashMap<&str, &AccountSpec> =
        d.accounts.values().map(|a| (a.email.as_str(), a)).collect();
    for (i, account) in l.accounts.iter().enumerate() {
        l.iam_accounts.push(LiveIamAccount {
            account_id: account.id.clone(),
            read: IamRead::ReadRole,
        });
        if i % 7 == 0 {
            continue;
        }
        let Some(spec) = by_email.get(account.email.as_str()) else {
            continue;
        };
        let p = leaf_paths
            .iter()
            .position(|path| *path == spec.ou)
            .unwrap_or_default()
            / 9;
        l.access_roles.push(read_role(&account.id));
        l.access_roles.push(grant_role(&account.id, &specs[p]));
    }
    d.grants = specs.into_iter().map(|g| (g.name.clone(), g)).collect();
}

fn ou(path: &str, name: &str) -> OuSpec {
    OuSpec {
        production: false,
        path: path.into(),
        name: name.into(),
        id: None,
        tags: Tags::new(),
        full_aws_access: true,
        source: loc(),
    }
}

/// The process's CPU time so far (all threads, user and system), in ms (10 ms resolution).
fn cpu_ms() -> i64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<i64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) * 10
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    if std::env::var_os("PROBE").is_some() {
        probe();
        return;
    }
    // One plan of N accounts, for `valgrind --tool=callgrind`.
    if let Some(n) = std::env::var("PROFILE").ok().and_then(|v| v.parse().ok()) {
        let (d, l) = org(n);
        let cpu0 = cpu_ms();
        let start = Instant::now();
        let p = plan(
            &d,
            &l,
            &PlanOptions {
                today: "2026-11-27".into(),
            },
        );
        let wall = start.elapsed();
        println!(
            "{n} accounts: {} changes in {:?} (CPU {} ms)",
            p.changes.len(),
            wall,
            cpu_ms() - cpu0
        );
        // The plan's own hash, to show a change of the planner leaves its output as it was.
        if std::env::var_os("PLAN_HASH").is_some() {
            println!("plan sha256 {}", orgctl_model::fingerprint(&p));
        }
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000]
    };
    let options = PlanOptions {
        today: "2026-11-27".into(),
    };
    println!(
        "{:>9} {:>9} {:>12} {:>12} {:>12}",
        "accounts", "changes", "plan (ms)", "CPU (ms)", "peak RSS MiB"
    );
    for &n in sizes {
        let (d, l) = org(n);
        let runs = if n >= 100_000 { 3 } else { 5 };
        let (mut best, mut best_cpu) = (f64::MAX, 0);
        let mut changes = 0;
        for _ in 0..runs {
            let cpu = cpu_ms();
            let start = Instant::now();
            let p = plan(&d, &l, &options);
            let wall = start.elapsed().as_secs_f64() * 1000.0;
            if wall < best {
                (best, best_cpu) = (wall, cpu_ms() - cpu);
            }
            changes = p.changes.len();
        }
        let expected = n / 10 + n / 50;
        assert!(
            changes >= expected,
            "{n}: {changes} changes, expected at least {expected}"
        );
        println!(
            "{n:>9} {changes:>9} {best:>12.1} {best_cpu:>12} {:>12.1}",
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
}

#[allow(dead_code)]
fn probe() {
    let (d, l) = org(100_000);
    let t = Instant::now();
    let _ = d.fingerprint();
    println!("desired fp {:?}", t.elapsed());
    let t = Instant::now();
    let _ = l.fingerprint();
    println!("live fp {:?}", t.elapsed());
    let options = PlanOptions {
        today: "2026-11-27".into(),
    };
    let t = Instant::now();
    let p = plan(&d, &l, &options);
    println!("plan {:?} ({} records)", t.elapsed(), p.records.len());
    let t = Instant::now();
    let _ = orgctl_planner::records::Records::new(&d, &l, &options);
    println!(
        "records (matching, wanted roles, desired views) {:?}",
        t.elapsed()
    );
}

//! The scoped read of `plan` and `apply`: what it reads, its exact request budget (pages
//! counted as AWS pages them), and that it does not grow with what the YAML does not manage.

use orgctl_model::{
    AccountStatus, LiveAccessRole, LiveAccount, LiveOu, LiveState, PolicyType, ROLES_RECORD_TAG,
    ReadScope, Tags,
};

use super::*;
use crate::api::{OrgApi, operations as ops};
use crate::memory::MemoryOrg;
use crate::paged::Pages;

const SCP: PolicyType = PolicyType::ServiceControlPolicy;
const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;

fn page(n: usize) -> usize {
    n.div_ceil(20).max(1)
}

fn managed() -> Tags {
    [("managed-by".to_owned(), "orgctl".to_owned())].into()
}

/// The issue's organization, in the shape the emulator benchmark seeds
/// (`scripts/seed_scale.py --scale5000`): 15 top-level OUs, `/Unit0` with 4 children,
/// `/Unit1`–`/Unit9` with 9 each (100 OUs), 5 SCPs. The YAML manages `/Unit0` and its
/// children (5 OUs) with 10 accounts each (by id), the SCPs (one on each of its OUs) and
/// grants on 20 of its accounts, whose roles exist and whose tags carry the roles record
/// (`orgctl:roles`, as the apply that made them left it); the other `accounts − 50` accounts are
/// spread over the 95 OUs it does not manage. Returns the organization and its scope.
async fn scale(accounts: usize) -> (MemoryOrg, ReadScope) {
    let mut live = MemoryOrg::new("111111111111", "mgmt@example.com").to_live();
    let root = live.organization.root_id.clone();
    let mut unmanaged = Vec::new();
    let mut managed_ous = Vec::new();
    for u in 0..15 {
        let top = format!("ou-unit-{u:08}");
        live.ous.push(LiveOu {
            id: top.clone(),
            name: format!("Unit{u}"),
            parent_id: root.clone(),
            tags: if u == 0 { managed() } else { Tags::new() },
        });
        let teams = match u {
            0 => 4,
            1..=9 => 9,
            _ => 0,
        };
        if u == 0 {
            managed_ous.push(top.clone());
        } else if teams == 0 {
            unmanaged.push(top.clone());
        }
        for t in 0..teams {
            let id = format!("ou-team-{u:02}{t:06}");
            live.ous.push(LiveOu {
                id: id.clone(),
                name: format!("Team{t}"),
                parent_id: top.clone(),
                tags: if u == 0 { managed() } else { Tags::new() },
            });
            if u == 0 {
                managed_ous.push(id);
            } else {
                unmanaged.push(id);
            }
        }
    }
    let mut yaml_accounts = Vec::new();
    let roles_record = Tags::from([(ROLES_RECORD_TAG.to_owned(), "1".to_owned())]);
    for i in 0..accounts {
        let id = format!("{:012}", 300_000_000_000u64 + i as u64);
        let parent = if i < 50 {
            yaml_accounts.push(id.clone());
            managed_ous[i % 5].clone()
        } else {
            unmanaged[i % unmanaged.len()].clone()
        };
        live.accounts.push(LiveAccount {
            id,
            name: format!("account {i}"),
            email: format!("a{i}@example.com"),
            parent_id: parent,
            status: AccountStatus::Active,
            tags: [("team".to_owned(), "x".to_owned())].into(),
        });
        if i < 20
            && let Some(a) = live.accounts.last_mut()
        {
            a.tags.extend(roles_record.clone());
        }
    }
    for id in yaml_accounts.iter().take(20) {
        live.access_roles.push(LiveAccessRole {
            account_id: id.clone(),
            role_name: "partner".into(),
            path: "/orgctl/".into(),
            trust_policy: r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"}}],"Version":"2012-10-17"}"#.into(),
            description: String::new(),
            max_session_secs: 3600,
            managed_policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()].into(),
            inline_policies: Default::default(),
            permissions_boundary: None,
            tags: managed(),
        });
    }
    live.normalize();
    let org = MemoryOrg::from_live(&live).expect("load");
    org.enable_policy_type(&root, SCP).await.expect("scp");
    let mut names = BTreeSet::new();
    for (i, ou) in managed_ous.iter().enumerate() {
        let name = format!("scp{i}");
        let p = org
            .create_policy(&name, SCP, "", DOC, &managed())
            .await
            .expect("policy");
        org.attach_policy(&p.id, ou).await.expect("attach");
        names.insert(name);
    }
    org.clear_calls();
    let scope = ReadScope {
        subtrees: ["/Unit0".to_owned()].into(),
        ou_ids: managed_ous.iter().cloned().collect(),
        account_ids: yaml_accounts.into_iter().collect(),
        account_emails: BTreeSet::new(),
        policies: names,
    };
    (org, scope)
}

/// IAM read as `plan` reads it: in the accounts whose tags carry the roles record (here the
/// grants' 20 targets, where their roles are; `orgctl_planner::iam_accounts` adds the targets
/// themselves, the same 20).
async fn read_as_plan(api: &Pages<MemoryOrg>, scope: &ReadScope) -> LiveState {
    let recorded = |live: &LiveState| {
        Some(
            live.accounts
                .iter()
                .filter(|a| orgctl_model::has_roles_record(&a.tags))
                .map(|a| a.id.clone())
                .collect(),
        )
    };
    read_all_selecting(api, &api.inner.iam(), &scoped(scope), &recorded, &|_| {})
        .await
        .expect("read")
}

fn scoped(scope: &ReadScope) -> ReadOptions {
    ReadOptions {
        scope: Some(scope.clone()),
        ..ReadOptions::default()
    }
}

/// The scoped read's budget, as `docs/performance.md` states it, from the full organization
/// and the scope (nothing outside the YAML's subtrees, the root's children and the YAML's
/// accounts appears in it).
fn scoped_budget(full: &LiveState, scope: &ReadScope, read: &LiveState) -> usize {
    let root = &full.organization.root_id;
    let children = |p: &str| full.ous.iter().filter(|o| o.parent_id == p).count();
    let accounts_in = |p: &str| full.accounts.iter().filter(|a| a.parent_id == p).count();
    let types = full.organization.enabled_policy_types.len();
    let customer: Vec<_> = full.policies.iter().filter(|p| !p.aws_managed).collect();
    let walked: Vec<&LiveOu> = read
        .ous
        .iter()
        .filter(|o| {
            !read
                .scope
                .as_ref()
                .is_some_and(|s| s.unwalked_ous.contains(&o.id))
        })
        .collect();
    let root_children = children(root);
    let yaml_accounts = read
        .accounts
        .iter()
        .filter(|a| scope.names_account(&a.id, &a.email))
        .count();
    let listed: Vec<_> = customer
        .iter()
        .filter(|p| scope.policies.contains(&p.name) || orgctl_model::is_managed(&p.tags))
        .collect();
    let unlisted: Vec<&orgctl_model::LivePolicy> = full
        .policies
        .iter()
        .filter(|p| !listed.iter().any(|l| l.id == p.id))
        .collect();
    // DescribeOrganization, ListRoots; the root's children and the policy lists.
    2 + page(root_children) + page(accounts_in(root))
        + types * page(full.policies.len())
        // Tags of the root's children and of customer policies (ownership).
        + root_children + customer.len()
        // The walked subtrees, listed.
        + walked.iter().map(|o| page(children(&o.id)) + page(accounts_in(&o.id))).sum::<usize>()
        // Targets of the YAML's and orgctl's policies.
        + listed.iter().map(|p| page(p.targets.len())).sum::<usize>()
        // Tags of the root, the walked OUs below the root's children, every account read.
        + 1 + (read.ous.len() - root_children) + read.accounts.len()
        // Documents of customer policies.
        + customer.len()
        // The other policies' attachments, the cheaper way.
        + others(read, types, 1 + walked.len() + yaml_accounts, &unlisted)
}

/// The attachments of the policies whose targets were not listed (FullAWSAccess, policies
/// orgctl does not manage): per target and type (the root, the walked OUs, the YAML's
/// accounts), unless nothing was left unwalked and listing those policies' targets costs less.
fn others(
    read: &LiveState,
    types: usize,
    per_target_targets: usize,
    unlisted: &[&orgctl_model::LivePolicy],
) -> usize {
    let per_target = types * per_target_targets;
    let everything = 1 + read.ous.len() + read.accounts.len();
    let complete = read
        .scope
        .as_ref()
        .is_none_or(|s| s.unwalked_ous.is_empty());
    if complete && unlisted.len() * page(everything) <= per_target {
        unlisted.iter().map(|p| page(p.targets.len())).sum()
    } else {
        per_target
    }
}

#[tokio::test]
async fn a_scoped_read_of_the_issues_organization_stays_under_400_requests() {
    let (org, scope) = scale(5_000).await;
    let full = org.to_live();
    assert_eq!(full.accounts.len(), 5_001);
    assert_eq!(full.ous.len(), 100);
    let api = Pages::new(org);
    let live = read_as_plan(&api, &scope).await;
    let organization = api.requests();
    assert_eq!(organization, scoped_budget(&full, &scope, &live));
    // IAM in the 20 targets only (not in the 30 other member accounts read): AssumeRole and
    // ListRoles each, then GetRole, ListAttachedRolePolicies and ListRolePolicies per role.
    let iam = api.inner.iam().calls().len();
    assert_eq!(live.iam_accounts.len(), 20);
    assert_eq!(iam, 20 * 2 + 20 * 3);
    let total = organization + iam;
    // 157 + 100 = 257 (docs/performance.md; 157 + 160 = 317 when IAM was read in every member
    // account read).
    assert!(total < 400, "{organization} + {iam} = {total} requests");
    // Nothing of the other 9 top-level OUs is listed, and FullAWSAccess's targets never are.
    assert_eq!(api.requests_of(ops::LIST_ACCOUNTS_FOR_PARENT), 1 + 5);
    assert_eq!(api.requests_of(ops::LIST_TARGETS_FOR_POLICY), 5);
    assert_eq!(api.requests_of(ops::LIST_ACCOUNTS), 0);
    assert_eq!(live.accounts.len(), 51);
    assert_eq!(
        live.scope,
        Some(LiveScope {
            unread_accounts: 0,
            unwalked_ous: (1..15).map(|u| format!("ou-unit-{u:08}")).collect(),
        })
    );
    // The full read of the same organization, for scale: every account's tags, every page.
    let full_api = Pages::new(api.inner);
    read_live(&full_api, &ReadOptions::default())
        .await
        .expect("full read");
    // 5,750 (docs/performance.md).
    assert!(full_api.requests() > 5_000, "{}", full_api.requests());
}

#[tokio::test]
async fn a_thousand_more_accounts_outside_what_the_yaml_manages_change_a_scoped_read_by_under_2_percent()
 {
    let mut counts = Vec::new();
    for accounts in [5_000, 6_000] {
        let (org, scope) = scale(accounts).await;
        let api = Pages::new(org);
        read_as_plan(&api, &scope).await;
        counts.push(api.requests() + api.inner.iam().calls().len());
    }
    let (before, after) = (counts[0], counts[1]);
    assert!(
        after.abs_diff(before) * 100 < before * 2,
        "{before} requests with 5,000 accounts, {after} with 6,000"
    );
}

#[tokio::test]
async fn a_scoped_read_finds_the_yamls_accounts_outside_its_subtrees_and_places_them() {
    // Root ─ A ─ A1 ─ A11, Root ─ B (see `tests::sample`); the YAML manages /B, and names acc2
    // (in /A/A1) by id and acc3 (in /A/A1/A11) by email only.
    let org = super::tests::sample().await;
    let full = org.to_live();
    let id_of = |name: &str| {
        full.accounts
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.id.clone())
            .expect("account")
    };
    let ou = |name: &str| {
        full.ous
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.id.clone())
            .expect("ou")
    };
    let scope = ReadScope {
        subtrees: ["/B".to_owned()].into(),
        ou_ids: BTreeSet::new(),
        account_ids: [id_of("acc2")].into(),
        account_emails: ["acc3@example.com".to_owned()].into(),
        policies: BTreeSet::new(),
    };
    let live = read_live(&org, &scoped(&scope)).await.expect("read");
    let mut names: Vec<&str> = live.accounts.iter().map(|a| a.name.as_str()).collect();
    names.sort();
    // The root's accounts, /B's, and the two the YAML names; not acc1 (in /A).
    assert_eq!(names, ["acc0", "acc2", "acc3", "management", "old"]);
    let mut unwalked = vec![ou("A"), ou("A1"), ou("A11")];
    unwalked.sort();
    assert_eq!(
        live.scope,
        Some(LiveScope {
            unread_accounts: 1,
            unwalked_ous: unwalked,
        })
    );
    // What was read is what a full read reads, tags and parents included.
    for a in &live.accounts {
        assert!(full.accounts.contains(a), "{a:?}");
    }
    for o in &live.ous {
        assert!(full.ous.contains(o), "{o:?}");
    }
    assert_eq!(org.call_count(ops::LIST_ACCOUNTS), 1);
    assert_eq!(org.call_count(ops::DESCRIBE_ACCOUNT), 1);
    assert_eq!(org.call_count(ops::LIST_TARGETS_FOR_POLICY), 0);
    // Only /B is listed below the root.
    assert_eq!(org.call_count(ops::LIST_ACCOUNTS_FOR_PARENT), 2);
}

#[tokio::test]
async fn an_orgctl_policy_attached_outside_the_scope_keeps_its_targets() {
    // deny-s3 (on /A and on the closed account in /B) is orgctl's: its targets are listed
    // and placed, so a plan never deletes it while it is attached there.
    let org = super::tests::sample().await;
    let full = org.to_live();
    let deny = full
        .policies
        .iter()
        .find(|p| p.name == "deny-s3")
        .expect("deny-s3")
        .clone();
    org.tag_resource(&deny.id, &managed()).await.expect("tag");
    org.clear_calls();
    let scope = ReadScope {
        subtrees: ["/Elsewhere".to_owned()].into(),
        ..ReadScope::default()
    };
    let live = read_live(&org, &scoped(&scope)).await.expect("read");
    let read = live
        .policies
        .iter()
        .find(|p| p.id == deny.id)
        .expect("deny-s3");
    assert_eq!(read.targets, deny.targets);
    assert_eq!(org.call_count(ops::LIST_TARGETS_FOR_POLICY), 1);
    for t in &read.targets {
        assert!(
            live.ous.iter().any(|o| o.id == *t) || live.accounts.iter().any(|a| a.id == *t),
            "{t} is placed"
        );
    }
}

#[tokio::test]
async fn a_scope_that_covers_the_organization_reads_what_a_full_read_reads() {
    // The YAML manages /A and /B: nothing is left unwalked, and FullAWSAccess's and the
    // unmanaged policies' targets are listed per policy, as the full read lists them (cheaper
    // than per target here).
    let org = super::tests::sample().await;
    let full = read_live(&org, &ReadOptions::default())
        .await
        .expect("full");
    org.clear_calls();
    let scope = ReadScope {
        subtrees: ["/A".to_owned(), "/B".to_owned()].into(),
        ..ReadScope::default()
    };
    let live = read_live(&org, &scoped(&scope)).await.expect("scoped");
    assert_eq!(live, full, "a read that left nothing out has no scope");
    assert_eq!(org.call_count(ops::LIST_POLICIES_FOR_TARGET), 0);
    assert_eq!(
        org.call_count(ops::LIST_TARGETS_FOR_POLICY),
        full.policies.len()
    );
    // The same requests as the full read, in another order.
    let api = Pages::new(org);
    let live = read_live(&api, &scoped(&scope)).await.expect("scoped");
    assert_eq!(
        api.requests(),
        scoped_budget(&api.inner.to_live(), &scope, &live)
    );
}

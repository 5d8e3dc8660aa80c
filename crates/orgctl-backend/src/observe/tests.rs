//! The reader against the in-memory organization: same state, exact request budget, bounded
//! concurrency, retries, races and scale.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use orgctl_model::{AccountStatus, LiveAccount, LiveOu, LiveState, PolicyType, Tags};

use super::*;
use crate::api::{ApiResult, OrgApi, operations as ops};
use crate::faults::Faulty;
use crate::memory::MemoryOrg;
use crate::retry::{RetryPolicy, Retrying};
use crate::wrap::delegate_org_api;

const SCP: PolicyType = PolicyType::ServiceControlPolicy;
const TAG: PolicyType = PolicyType::TagPolicy;
const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const TAG_DOC: &str = r#"{"tags":{"team":{"tag_key":{"@@assign":"team"}}}}"#;

fn tags(k: &str, v: &str) -> Tags {
    [(k.to_owned(), v.to_owned())].into_iter().collect()
}

/// Root ─ A ─ A1 ─ A11, Root ─ B; five accounts spread over them; two SCPs and one tag policy.
pub(super) async fn sample() -> MemoryOrg {
    let api = MemoryOrg::new("111111111111", "mgmt@example.com");
    let root = api.root_id();
    api.enable_policy_type(&root, SCP).await.expect("scp");
    api.enable_policy_type(&root, TAG).await.expect("tag");
    let a = api.create_ou(&root, "A", &tags("t", "a")).await.expect("A");
    let a1 = api.create_ou(&a.id, "A1", &Tags::new()).await.expect("A1");
    let a11 = api
        .create_ou(&a1.id, "A11", &Tags::new())
        .await
        .expect("A11");
    let b = api.create_ou(&root, "B", &Tags::new()).await.expect("B");
    for (i, parent) in [&root, &a.id, &a1.id, &a11.id].into_iter().enumerate() {
        let s = api
            .create_account(
                &format!("acc{i}"),
                &format!("acc{i}@example.com"),
                &tags("n", "x"),
            )
            .await
            .expect("account");
        let id = s.account_id.expect("id");
        if *parent != root {
            api.move_account(&id, &root, parent).await.expect("move");
        }
    }
    let closed = api
        .create_account("old", "old@example.com", &Tags::new())
        .await
        .expect("old")
        .account_id
        .expect("id");
    api.move_account(&closed, &root, &b.id).await.expect("move");
    api.close_account(&closed).await.expect("close");
    let p1 = api
        .create_policy("deny-s3", SCP, "no S3", DOC, &tags("owner", "sec"))
        .await
        .expect("p1");
    api.attach_policy(&p1.id, &a.id).await.expect("attach");
    api.attach_policy(&p1.id, &closed).await.expect("attach");
    api.create_policy("unused", SCP, "", DOC, &Tags::new())
        .await
        .expect("p2");
    let t = api
        .create_policy("team", TAG, "", TAG_DOC, &Tags::new())
        .await
        .expect("t");
    api.attach_policy(&t.id, &root).await.expect("attach");
    api.detach_policy(crate::memory::FULL_AWS_ACCESS_ID, &b.id)
        .await
        .expect_err("B has no other SCP");
    api.clear_calls();
    api
}

#[tokio::test]
async fn reads_exactly_what_the_organization_holds() {
    let api = sample().await;
    let live = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    assert_eq!(live, api.to_live());
    assert_eq!(live.ous.len(), 4);
    assert_eq!(live.accounts.len(), 6);
    assert_eq!(live.policies.len(), 4);
    assert!(
        live.accounts
            .iter()
            .any(|a| a.status == AccountStatus::Suspended)
    );
}

#[tokio::test]
async fn the_request_budget_is_exact() {
    let api = sample().await;
    let live = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    let r = 1 + live.ous.len(); // the root and every OU
    let a = live.accounts.len();
    let t = live.organization.enabled_policy_types.len();
    let p_customer = live.policies.iter().filter(|p| !p.aws_managed).count();
    let p_aws = live.policies.len() - p_customer;
    assert_eq!((r, a, t, p_customer, p_aws), (5, 6, 2, 3, 1));
    // Tags: the root (its record of what was applied), every OU, account and customer policy.
    let expected = 2 + 2 * r + r + a + p_customer + t + 2 * p_customer + p_aws;
    assert_eq!(api.calls().len(), expected, "{:?}", api.calls());
    assert_eq!(api.call_count(ops::DESCRIBE_ORGANIZATION), 1);
    assert_eq!(api.call_count(ops::LIST_ROOTS), 1);
    assert_eq!(api.call_count(ops::LIST_OUS_FOR_PARENT), r);
    assert_eq!(api.call_count(ops::LIST_ACCOUNTS_FOR_PARENT), r);
    assert_eq!(api.call_count(ops::LIST_TAGS), r + a + p_customer);
    assert_eq!(api.call_count(ops::LIST_POLICIES), t);
    assert_eq!(api.call_count(ops::DESCRIBE_POLICY), p_customer);
    assert_eq!(
        api.call_count(ops::LIST_TARGETS_FOR_POLICY),
        p_customer + p_aws
    );
    assert_eq!(api.call_count(ops::LIST_PARENTS), 0);
    assert_eq!(api.call_count(ops::LIST_ACCOUNTS), 0);
    assert_eq!(api.write_call_count(), 0);
}

#[tokio::test]
async fn only_enabled_policy_types_are_listed() {
    let api = MemoryOrg::new("111111111111", "mgmt@example.com");
    let live = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    assert_eq!(live, api.to_live());
    assert!(live.policies.is_empty());
    assert_eq!(api.call_count(ops::LIST_POLICIES), 0);
}

/// Counts requests in flight; each call yields a few times so that calls overlap.
struct Gauge<A> {
    inner: A,
    now: AtomicUsize,
    max: AtomicUsize,
}

impl<A> Gauge<A> {
    fn new(inner: A) -> Self {
        Self {
            inner,
            now: AtomicUsize::new(0),
            max: AtomicUsize::new(0),
        }
    }

    async fn around<T, F, Fut>(&self, _op: &'static str, mut call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        let r = call().await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        r
    }
}

delegate_org_api!(Gauge);

#[tokio::test]
async fn reads_run_concurrently_within_the_bound() {
    for concurrency in [1, 3, 8] {
        let api = Gauge::new(sample().await);
        let live = read_live(
            &api,
            &ReadOptions {
                concurrency,
                ..ReadOptions::default()
            },
        )
        .await
        .expect("read");
        assert_eq!(live, api.inner.to_live());
        let max = api.max.load(Ordering::SeqCst);
        assert!(max <= concurrency, "{max} > {concurrency}");
        assert_eq!(max, concurrency, "the bound is used");
    }
}

#[tokio::test(start_paused = true)]
async fn reads_through_throttling_with_retries() {
    let org = sample().await;
    let expected = org.to_live();
    let api = Retrying::new(
        Faulty::new(org).throttle_next(5).fail_next_calls_of(
            ops::LIST_TAGS,
            3,
            crate::api::ApiError::throttling(""),
        ),
        RetryPolicy::default(),
    );
    let live = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    assert_eq!(live, expected);
    assert_eq!(api.stats().retries(), 8);
}

#[tokio::test]
async fn a_failed_call_fails_the_read() {
    let api = Faulty::new(sample().await).fail_next_calls_of(
        ops::DESCRIBE_POLICY,
        1,
        crate::api::ApiError::service("", crate::api::codes::ACCESS_DENIED, "no"),
    );
    let e = read_live(&api, &ReadOptions::default())
        .await
        .expect_err("denied");
    match e {
        ReadError::Api(e) => {
            assert_eq!(e.code, crate::api::codes::ACCESS_DENIED);
            assert_eq!(e.operation, ops::DESCRIBE_POLICY);
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// Creates an account (which gets FullAWSAccess) just before the first ListTargetsForPolicy,
/// as another administrator might while orgctl reads.
struct Racy<A> {
    inner: A,
    fired: AtomicBool,
}

impl<A: OrgApi> Racy<A> {
    async fn around<T, F, Fut>(&self, op: &'static str, mut call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        if op == ops::LIST_TARGETS_FOR_POLICY && !self.fired.swap(true, Ordering::SeqCst) {
            self.inner
                .create_account("late", "late@example.com", &Tags::new())
                .await?;
        }
        call().await
    }
}

delegate_org_api!(Racy);

#[tokio::test]
async fn an_attachment_to_a_target_outside_the_tree_is_left_out() {
    let api = Racy {
        inner: sample().await,
        fired: AtomicBool::new(false),
    };
    let live = read_live(&api, &ReadOptions::default())
        .await
        .expect("a consistent read");
    assert!(
        live.accounts.iter().all(|a| a.name != "late"),
        "created after the walk"
    );
    let known: std::collections::HashSet<&str> =
        std::iter::once(live.organization.root_id.as_str())
            .chain(live.ous.iter().map(|o| o.id.as_str()))
            .chain(live.accounts.iter().map(|a| a.id.as_str()))
            .collect();
    for p in &live.policies {
        assert!(
            p.targets.iter().all(|t| known.contains(t.as_str())),
            "{p:?}"
        );
    }
    // The next read sees the late account.
    let next = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    assert!(next.accounts.iter().any(|a| a.name == "late"));
}

/// 100,000 accounts over 100 OUs.
fn big_org() -> LiveState {
    let mut live = MemoryOrg::new("111111111111", "mgmt@example.com").to_live();
    let root = live.organization.root_id.clone();
    for i in 0..100 {
        live.ous.push(LiveOu {
            id: format!("ou-big0-{i:08}"),
            name: format!("OU {i}"),
            parent_id: root.clone(),
            tags: Tags::new(),
        });
    }
    for i in 0..99_999u64 {
        live.accounts.push(LiveAccount {
            id: format!("{:012}", 300_000_000_000 + i),
            name: format!("account {i}"),
            email: format!("a{i}@example.com"),
            parent_id: format!("ou-big0-{:08}", i % 100),
            status: AccountStatus::Active,
            tags: tags("n", "x"),
        });
    }
    live.normalize();
    live
}

#[tokio::test]
async fn a_large_organization_reads_quickly() {
    let live = big_org();
    let started = Instant::now();
    let api = MemoryOrg::from_live(&live).expect("load");
    let read = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    let elapsed = started.elapsed();
    assert_eq!(read.accounts.len(), 100_000);
    assert_eq!(read, live);
    // Linear work takes well under a second in release builds; the bound leaves room for
    // unoptimised test builds on a slow machine, and still catches quadratic behaviour.
    assert!(
        elapsed.as_secs_f64() < 10.0,
        "reading 100,000 accounts took {elapsed:?}"
    );
}

#[tokio::test]
async fn a_wrong_organization_is_refused_after_its_first_request() {
    let org = MemoryOrg::new("111111111111", "mgmt@example.com");
    let options = ReadOptions {
        expect_management_account: Some("222222222222".into()),
        ..ReadOptions::default()
    };
    let err = read_live(&org, &options)
        .await
        .expect_err("wrong organization");
    assert!(
        matches!(&err, ReadError::WrongOrganization { expected, found }
            if expected == "222222222222" && found == "111111111111"),
        "{err}"
    );
    assert_eq!(org.calls(), ["DescribeOrganization"]);
    let options = ReadOptions {
        expect_management_account: Some("111111111111".into()),
        ..ReadOptions::default()
    };
    assert!(read_live(&org, &options).await.is_ok());
}

#[tokio::test]
async fn progress_is_reported_per_tree_level_and_per_answer() {
    let org = sample().await;
    let seen = std::sync::Mutex::new(Vec::new());
    let live = read_live_reporting(&org, &ReadOptions::default(), &|p| {
        seen.lock().expect("lock").push(p);
    })
    .await
    .expect("read");
    let seen = seen.into_inner().expect("lock");
    let tree: Vec<_> = seen
        .iter()
        .filter_map(|p| match p {
            ReadProgress::Tree {
                levels,
                ous,
                accounts,
            } => Some((*levels, *ous, *accounts)),
            ReadProgress::Details { .. } | ReadProgress::Iam { .. } => None,
        })
        .collect();
    // Root, then the levels of A/B, A1 and A11 (the last level lists nothing new).
    assert_eq!(tree.first(), Some(&(0, 0, 0)));
    assert_eq!(
        tree.last(),
        Some(&(4, live.ous.len(), live.accounts.len())),
        "{tree:?}"
    );
    let details: Vec<(usize, usize)> = seen
        .iter()
        .filter_map(|p| match p {
            ReadProgress::Details { done, total } => Some((*done, *total)),
            ReadProgress::Tree { .. } | ReadProgress::Iam { .. } => None,
        })
        .collect();
    let total = details[0].1;
    assert_eq!(details, (0..=total).map(|d| (d, total)).collect::<Vec<_>>());
    assert_eq!(
        ReadProgress::Details { done: 3, total: 9 }.to_string(),
        "reading tags, policies and attachments: 3/9 requests done"
    );
    assert_eq!(
        ReadProgress::Tree {
            levels: 1,
            ous: 2,
            accounts: 1
        }
        .to_string(),
        "listing OUs and accounts: 1 level listed, 2 OUs and 1 account found"
    );
}

//! Failures moto never produces, injected by the test proxy: each must come out of `SdkOrg` as
//! an `ApiError` of the right kind (the SDK's own retries are off, so one fault is one error),
//! and a retry on top must converge. Also: asynchronous account creation, a `NextToken` that
//! does not advance, and credentials errors.

use std::time::Duration;

use orgctl_backend::api::CreateAccountState;
use orgctl_backend::{ApiError, ErrorKind, OrgApi, ReadOptions, RetryPolicy, codes, read_live};
use orgctl_model::{PolicyType, Tags};

use super::moto::moto;
use super::proxy::{Fault, Proxy};
use super::support::TestOrg;

#[track_caller]
fn assert_kind<T: std::fmt::Debug>(
    result: Result<T, ApiError>,
    operation: &str,
    kind: ErrorKind,
    code: &str,
) -> ApiError {
    let err = result.expect_err(&format!("{operation} should fail ({code})"));
    assert_eq!(err.operation, operation, "{err:?}");
    assert_eq!(err.kind, kind, "{err:?}");
    assert_eq!(err.code, code, "{err:?}");
    err
}

#[tokio::test]
async fn throttling_is_a_retryable_throttling_error() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, None).await;
    proxy.fail("ListRoots", Fault::Throttle, 1);
    let err = assert_kind(
        org.list_roots().await,
        "ListRoots",
        ErrorKind::Throttling,
        codes::TOO_MANY_REQUESTS,
    );
    assert!(err.is_retryable());
    assert!(
        err.message.contains("Try again later"),
        "AWS's message: {err:?}"
    );
    // One attempt only: the SDK's retries are off.
    assert_eq!(org.recorder().count("ListRoots"), 1);
    assert_eq!(proxy.requests("ListRoots"), 1);
    assert_eq!(
        org.list_roots().await.expect("then it works")[0].id,
        t.root_id
    );
    assert_eq!(org.recorder().summary()["ListRoots"], (2, 1));
}

#[tokio::test]
async fn concurrent_modification_and_5xx_are_transient() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, None).await;

    proxy.fail("CreateOrganizationalUnit", Fault::ConcurrentModification, 1);
    let err = assert_kind(
        org.create_ou(&t.root_id, &t.name("A"), &Tags::new()).await,
        "CreateOrganizationalUnit",
        ErrorKind::Transient,
        codes::CONCURRENT_MODIFICATION,
    );
    assert!(err.is_retryable());

    proxy.fail("DescribeOrganization", Fault::Unavailable503, 1);
    let err = assert_kind(
        org.describe_organization().await,
        "DescribeOrganization",
        ErrorKind::Transient,
        "HTTP 503",
    );
    assert!(err.is_retryable());

    proxy.fail("DescribeOrganization", Fault::ServiceException500, 1);
    assert_kind(
        org.describe_organization().await,
        "DescribeOrganization",
        ErrorKind::Transient,
        "ServiceException",
    );

    proxy.fail("ListPolicies", Fault::Drop, 1);
    let err = org
        .list_policies(PolicyType::ServiceControlPolicy)
        .await
        .expect_err("dropped connection");
    assert_eq!(err.kind, ErrorKind::Transient, "{err:?}");
    assert!(err.is_retryable());
    // The message is the causes' text, not a Rust Debug dump of the SDK's error.
    for debug in ["DispatchFailure(", "ConnectorError {", " { "] {
        assert!(!err.message.contains(debug), "{err}");
    }

    let statuses: Vec<Option<u16>> = org
        .recorder()
        .attempts()
        .into_iter()
        .map(|a| a.status)
        .collect();
    assert_eq!(statuses, vec![Some(400), Some(503), Some(500), None]);
    // Nothing was created by the failed call, and the next one goes through.
    assert!(
        org.list_ous_for_parent(&t.root_id)
            .await
            .expect("list")
            .is_empty()
    );
    org.create_ou(&t.root_id, &t.name("A"), &Tags::new())
        .await
        .expect("create after the fault");
}

/// Fast retries for tests (the policy's shape, not its production timings, is under test).
fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(10),
        max_elapsed: Duration::from_secs(30),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn sdk_org_retries_each_request_and_converges() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let sdk = t.sdk_via(&proxy.url, None).await;
    let rec = sdk.recorder().clone();
    let org = sdk.with_retry(quick_retries(6));
    proxy.fail("CreateOrganizationalUnit", Fault::Throttle, 2);
    proxy.fail("CreateOrganizationalUnit", Fault::ConcurrentModification, 1);
    proxy.fail("CreateOrganizationalUnit", Fault::Unavailable503, 1);
    proxy.fail("CreateOrganizationalUnit", Fault::Drop, 1);
    let ou = org
        .create_ou(&t.root_id, &t.name("Retried"), &Tags::new())
        .await
        .expect("converges within 6 attempts");
    let stats = org.retrier().stats().get("CreateOrganizationalUnit");
    assert_eq!((stats.calls, stats.retries, stats.failures), (1, 5, 0));
    // Every attempt went over the wire once: the SDK itself does not retry.
    assert_eq!(rec.summary()["CreateOrganizationalUnit"], (6, 5));
    assert_eq!(proxy.requests("CreateOrganizationalUnit"), 6);
    assert_eq!(
        org.list_ous_for_parent(&t.root_id).await.expect("list"),
        vec![ou],
        "created exactly once"
    );

    // A service error is not retried.
    rec.clear();
    org.enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable");
    let err = org
        .enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
        .await
        .expect_err("already enabled");
    assert_eq!(err.code, codes::POLICY_TYPE_ALREADY_ENABLED);
    assert_eq!(rec.count("EnablePolicyType"), 2);

    // Retries run out: the last retryable error comes back.
    rec.clear();
    proxy.fail("ListRoots", Fault::Throttle, 10);
    let err = org.list_roots().await.expect_err("gives up");
    assert_eq!(err.kind, ErrorKind::Throttling);
    assert_eq!(rec.count("ListRoots"), 6);
}

#[tokio::test]
async fn the_live_state_reader_over_sdk_org_reads_through_throttling() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let sdk = t.sdk_via(&proxy.url, Some(2)).await;
    let rec = sdk.recorder().clone();
    let org = sdk.with_retry(quick_retries(8));
    org.enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable");
    let managed = Tags::from([("managed-by".to_owned(), "orgctl".to_owned())]);
    let workloads = org
        .create_ou(&t.root_id, &t.name("Workloads"), &managed)
        .await
        .expect("OU");
    let staging = org
        .create_ou(&workloads.id, &t.name("Staging"), &Tags::new())
        .await
        .expect("OU");
    let mut accounts = Vec::new();
    for i in 0..3 {
        let n = t.name(&format!("acct{i}"));
        let s = org
            .create_account(&n, &format!("{n}@example.com"), &Tags::new())
            .await
            .expect("account");
        let id = s.account_id.expect("id");
        org.move_account(&id, &t.root_id, &staging.id)
            .await
            .expect("move");
        accounts.push(id);
    }
    let p = org
        .create_policy(
            &t.name("deny-s3"),
            PolicyType::ServiceControlPolicy,
            "d",
            &super::support::scp("s3:*"),
            &managed,
        )
        .await
        .expect("policy");
    org.attach_policy(&p.id, &workloads.id)
        .await
        .expect("attach");

    rec.clear();
    let calm = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    assert!(rec.write_operations().is_empty(), "a read writes nothing");
    assert_eq!(calm.organization.root_id, t.root_id);
    assert_eq!(calm.organization.management_account_id, t.management());
    assert_eq!(calm.ous.len(), 2);
    let st = calm
        .ous
        .iter()
        .find(|o| o.id == staging.id)
        .expect("staging");
    assert_eq!(st.parent_id, workloads.id);
    for id in &accounts {
        let a = calm.accounts.iter().find(|a| &a.id == id).expect("account");
        assert_eq!(a.parent_id, staging.id);
    }
    let mine = calm.policies.iter().find(|x| x.id == p.id).expect("policy");
    assert_eq!(mine.targets, vec![workloads.id.clone()]);
    assert_eq!(mine.tags, managed);
    assert_eq!(mine.content, super::support::scp("s3:*"));
    // Staging holds 3 accounts: 2 pages of 2.
    assert_eq!(
        rec.count("ListAccountsForParent"),
        3 + 1,
        "root, Workloads, Staging (2 pages)"
    );

    // The same read with throttling sprinkled over it converges to the same state.
    proxy.fail("ListTagsForResource", Fault::Throttle, 3);
    proxy.fail("ListAccountsForParent", Fault::ConcurrentModification, 2);
    proxy.fail("DescribePolicy", Fault::Unavailable503, 1);
    let stormy = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    assert_eq!(stormy, calm);
    assert!(
        org.retrier().stats().retries() >= 6,
        "{}",
        org.retrier().stats()
    );
}

#[tokio::test]
async fn credentials_errors_say_what_to_do() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, None).await;

    proxy.fail(
        "ListRoots",
        Fault::Error {
            status: 400,
            code: "ExpiredTokenException",
        },
        1,
    );
    let err = assert_kind(
        org.list_roots().await,
        "ListRoots",
        ErrorKind::Credentials,
        "ExpiredCredentials",
    );
    assert!(
        err.message.starts_with("The AWS credentials have expired"),
        "{err}"
    );
    assert!(!err.is_retryable());

    proxy.fail(
        "ListRoots",
        Fault::Error {
            status: 400,
            code: "UnrecognizedClientException",
        },
        1,
    );
    let err = assert_kind(
        org.list_roots().await,
        "ListRoots",
        ErrorKind::Credentials,
        "InvalidCredentials",
    );
    assert!(err.message.contains("rejected the credentials"), "{err}");

    // AccessDenied is a permission problem, not a credentials one: it keeps AWS's code.
    proxy.fail(
        "ListRoots",
        Fault::Error {
            status: 400,
            code: "AccessDeniedException",
        },
        1,
    );
    assert_kind(
        org.list_roots().await,
        "ListRoots",
        ErrorKind::Service,
        codes::ACCESS_DENIED,
    );
}

#[tokio::test]
async fn create_account_in_progress_is_polled_and_listed() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, None).await;
    proxy.hold_create_account(2);
    let name = t.name("slow");
    let started = org
        .create_account(&name, &format!("{name}@example.com"), &Tags::new())
        .await
        .expect("create");
    assert_eq!(started.state, CreateAccountState::InProgress);
    assert_eq!(started.account_id, None);
    assert_eq!(started.account_name, name);

    // A resumed apply finds the request by listing the IN_PROGRESS ones.
    let pending = org.list_create_account_in_progress().await.expect("list");
    assert_eq!(pending, vec![started.clone()]);

    for _ in 0..2 {
        let s = org
            .describe_create_account_status(&started.request_id)
            .await
            .expect("poll");
        assert_eq!(s.state, CreateAccountState::InProgress);
        assert_eq!(s.account_id, None);
    }
    let done = org
        .describe_create_account_status(&started.request_id)
        .await
        .expect("poll");
    assert_eq!(done.state, CreateAccountState::Succeeded);
    let id = done.account_id.expect("account id once it succeeded");
    assert!(
        org.list_accounts_for_parent(&t.root_id)
            .await
            .expect("list")
            .iter()
            .any(|a| a.id == id)
    );
    assert!(
        org.list_create_account_in_progress()
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(org.recorder().count("DescribeCreateAccountStatus"), 3);
}

#[tokio::test]
async fn create_account_failure_reason_is_mapped() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, None).await;
    proxy.fail_create_account("EMAIL_ALREADY_EXISTS");
    let name = t.name("dup");
    let s = org
        .create_account(&name, &format!("{name}@example.com"), &Tags::new())
        .await
        .expect("create answers");
    assert_eq!(s.state, CreateAccountState::Failed);
    assert_eq!(s.failure_reason.as_deref(), Some("EMAIL_ALREADY_EXISTS"));
    assert_eq!(s.account_id, None);
}

#[tokio::test]
async fn a_next_token_that_does_not_advance_stops_the_listing() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, Some(2)).await;
    for i in 0..5 {
        org.create_ou(&t.root_id, &t.name(&format!("ou{i}")), &Tags::new())
            .await
            .expect("OU");
    }
    proxy.repeat_next_token("ListOrganizationalUnitsForParent");
    let err = org
        .list_ous_for_parent(&t.root_id)
        .await
        .expect_err("must not loop forever");
    assert_eq!(err.code, "PaginationNotAdvancing", "{err:?}");
    assert_eq!(err.operation, "ListOrganizationalUnitsForParent");
    assert_eq!(err.kind, ErrorKind::Other);
    assert!(!err.is_retryable());
    // Page 1 gave token T; page 2 (asked with T) answered T again: stop there.
    assert_eq!(org.recorder().count("ListOrganizationalUnitsForParent"), 2);
}

/// A throttle on one page of a listing retries that page, not the listing from page 1.
#[tokio::test]
async fn a_throttled_page_is_retried_alone() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t
        .sdk_via(&proxy.url, Some(2))
        .await
        .with_retry(quick_retries(4));
    for i in 0..5 {
        org.create_ou(&t.root_id, &t.name(&format!("ou{i}")), &Tags::new())
            .await
            .expect("OU");
    }
    // Three pages of two; the second is throttled twice.
    proxy.pass("ListOrganizationalUnitsForParent", 1);
    proxy.fail("ListOrganizationalUnitsForParent", Fault::Throttle, 2);
    let ous = org.list_ous_for_parent(&t.root_id).await.expect("listed");
    assert_eq!(ous.len(), 5);
    assert_eq!(
        proxy.requests("ListOrganizationalUnitsForParent"),
        3 + 2,
        "three pages and two retries of page 2"
    );
    let stats = org
        .retrier()
        .stats()
        .get("ListOrganizationalUnitsForParent");
    assert_eq!((stats.calls, stats.retries, stats.failures), (3, 2, 0));
}

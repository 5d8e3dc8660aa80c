//! Failures moto never produces, injected by the test proxy: each must come out of `SdkOrg` as
//! an `ApiError` of the right kind (the SDK's own retries are off, so one fault is one error),
//! and a retry on top must converge. Also: asynchronous account creation, a `NextToken` that
//! does not advance, and credentials errors.

use orgctl_backend::api::CreateAccountState;
use orgctl_backend::{ApiError, ErrorKind, OrgApi, codes};
use orgctl_model::Tags;

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
    let proxy = Proxy::start(moto().addr).await;
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
    let proxy = Proxy::start(moto().addr).await;
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
        .list_policies(orgctl_model::PolicyType::ServiceControlPolicy)
        .await
        .expect_err("dropped connection");
    assert_eq!(err.kind, ErrorKind::Transient, "{err:?}");
    assert!(err.is_retryable());

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

#[tokio::test]
async fn a_retry_loop_over_sdk_org_converges() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr).await;
    let org = t.sdk_via(&proxy.url, None).await;
    proxy.fail("CreateOrganizationalUnit", Fault::Throttle, 2);
    proxy.fail("CreateOrganizationalUnit", Fault::ConcurrentModification, 1);
    proxy.fail("CreateOrganizationalUnit", Fault::Unavailable503, 1);
    let mut attempts = 0;
    let ou = loop {
        attempts += 1;
        match org
            .create_ou(&t.root_id, &t.name("Retried"), &Tags::new())
            .await
        {
            Ok(ou) => break ou,
            Err(e) if e.is_retryable() && attempts < 10 => continue,
            Err(e) => panic!("gave up after {attempts} attempts: {e}"),
        }
    };
    assert_eq!(attempts, 5);
    assert_eq!(org.recorder().summary()["CreateOrganizationalUnit"], (5, 4));
    assert_eq!(
        org.list_ous_for_parent(&t.root_id).await.expect("list"),
        vec![ou]
    );
}

#[tokio::test]
async fn credentials_errors_say_what_to_do() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr).await;
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
    let proxy = Proxy::start(moto().addr).await;
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
    let proxy = Proxy::start(moto().addr).await;
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
    let proxy = Proxy::start(moto().addr).await;
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

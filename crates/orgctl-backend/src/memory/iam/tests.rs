//! One test per IAM rule the in-memory IAM enforces, each asserting IAM's error code.

use orgctl_model::Tags;

use super::*;
use crate::iam::operations as ops;

const A: &str = "222222222222";
const B: &str = "333333333333";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"partner-ext-1234"}}}]}"#;
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn iam() -> MemoryIam {
    MemoryIam::new().with_accounts([A, B])
}

fn new_role(name: &str) -> NewRole {
    NewRole {
        path: "/orgctl/".into(),
        name: name.into(),
        trust_policy: TRUST.into(),
        description: "partner access".into(),
        max_session_secs: 3600,
        tags: [("managed-by".to_owned(), "orgctl".to_owned())].into(),
    }
}

fn assert_code<T: std::fmt::Debug>(r: ApiResult<T>, code: &str) -> ApiError {
    let e = r.expect_err("the call must fail");
    assert_eq!(e.code, code, "{e}");
    e
}

/// A JSON object whose size (white space not counted) is exactly `n` characters.
fn doc_of_size(n: usize) -> String {
    // {"a":"…"} is 8 characters around the value.
    format!(r#"{{"a":"{}"}}"#, "x".repeat(n - 8))
}

#[tokio::test]
async fn create_then_get_round_trips_every_field() {
    let api = iam();
    let created = api
        .create_role(A, &new_role("Partner"))
        .await
        .expect("create");
    let got = api.get_role(A, "Partner").await.expect("get");
    assert_eq!(created, got);
    assert_eq!(
        got.summary.arn,
        format!("arn:aws:iam::{A}:role/orgctl/Partner")
    );
    assert_eq!(got.summary.trust_policy, TRUST);
    assert_eq!(got.summary.max_session_secs, 3600);
    assert_eq!(got.tags["managed-by"], "orgctl");
    assert_eq!(got.permissions_boundary, None);
}

#[tokio::test]
async fn role_names_are_unique_per_account_case_insensitively() {
    let api = iam();
    api.create_role(A, &new_role("Partner"))
        .await
        .expect("create");
    assert_code(
        api.create_role(A, &new_role("PARTNER")).await,
        codes::ENTITY_ALREADY_EXISTS,
    );
    // Found whatever the case; another account is another namespace.
    assert_eq!(
        api.get_role(A, "partner").await.expect("get").summary.name,
        "Partner"
    );
    api.create_role(B, &new_role("partner"))
        .await
        .expect("other account");
    assert_code(api.get_role(B, "nobody").await, codes::NO_SUCH_ENTITY);
}

#[tokio::test]
async fn roles_are_scoped_to_their_account() {
    let api = iam();
    api.create_role(A, &new_role("Partner"))
        .await
        .expect("create");
    assert!(api.list_roles(B, "/").await.expect("list").is_empty());
    assert_code(api.get_role(B, "Partner").await, codes::NO_SUCH_ENTITY);
    let e = assert_code(
        api.list_roles("444444444444", "/").await,
        codes::ACCESS_DENIED,
    );
    assert_eq!(e.operation, ops::ASSUME_ROLE);
}

#[tokio::test]
async fn list_roles_filters_by_path_prefix() {
    let api = iam();
    api.create_role(A, &new_role("Mine")).await.expect("create");
    let mut other = new_role("Theirs");
    other.path = "/".into();
    api.create_role(A, &other).await.expect("create");
    let names: Vec<_> = api
        .list_roles(A, "/orgctl/")
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["Mine"]);
    assert_eq!(api.list_roles(A, "/").await.expect("list").len(), 2);
}

#[tokio::test]
async fn role_name_length_and_charset() {
    let api = iam();
    api.create_role(A, &new_role(&"a".repeat(64)))
        .await
        .expect("64 is fine");
    for bad in [
        "a".repeat(65),
        String::new(),
        "has space".into(),
        "slash/no".into(),
        "é".into(),
    ] {
        assert_code(
            api.create_role(A, &new_role(&bad)).await,
            codes::VALIDATION_ERROR,
        );
    }
    api.create_role(A, &new_role("a_b+c=d,e.f@g-h"))
        .await
        .expect("every allowed symbol");
}

#[tokio::test]
async fn paths_begin_and_end_with_a_slash() {
    let api = iam();
    for (i, good) in ["/", "/orgctl/", "/a/b/"].into_iter().enumerate() {
        let mut r = new_role(&format!("r{i}"));
        r.path = good.into();
        api.create_role(A, &r).await.expect(good);
    }
    for bad in [
        "",
        "orgctl/",
        "/orgctl",
        "//",
        "/or gctl/",
        &format!("/{}/", "a".repeat(511)),
    ] {
        let mut r = new_role("bad");
        r.path = bad.into();
        assert_code(api.create_role(A, &r).await, codes::VALIDATION_ERROR);
    }
}

#[tokio::test]
async fn trust_policy_must_be_json_and_at_most_2048_characters() {
    let api = iam();
    let mut r = new_role("NotJson");
    r.trust_policy = "%7Bnope".into();
    assert_code(
        api.create_role(A, &r).await,
        codes::MALFORMED_POLICY_DOCUMENT,
    );
    r.trust_policy = "[]".into();
    assert_code(
        api.create_role(A, &r).await,
        codes::MALFORMED_POLICY_DOCUMENT,
    );

    let mut r = new_role("Big");
    r.trust_policy = doc_of_size(2049);
    assert_code(api.create_role(A, &r).await, codes::LIMIT_EXCEEDED);
    // White space does not count.
    r.trust_policy = format!("{}\n   ", doc_of_size(2048));
    api.create_role(A, &r).await.expect("2048 is fine");
    assert_code(
        api.update_trust_policy(A, "Big", &doc_of_size(2049)).await,
        codes::LIMIT_EXCEEDED,
    );
    assert_code(
        api.update_trust_policy(A, "Big", "{").await,
        codes::MALFORMED_POLICY_DOCUMENT,
    );
    api.update_trust_policy(A, "Big", TRUST)
        .await
        .expect("update");
    assert_eq!(
        api.get_role(A, "Big")
            .await
            .expect("get")
            .summary
            .trust_policy,
        TRUST
    );
}

#[tokio::test]
async fn max_session_is_one_to_twelve_hours() {
    let api = iam();
    for bad in [3599, 43_201, 0] {
        let mut r = new_role("S");
        r.max_session_secs = bad;
        assert_code(api.create_role(A, &r).await, codes::VALIDATION_ERROR);
    }
    let mut r = new_role("S");
    r.max_session_secs = 43_200;
    api.create_role(A, &r).await.expect("12 h");
    assert_code(
        api.update_role(A, "S", "d", 3599).await,
        codes::VALIDATION_ERROR,
    );
    assert_code(
        api.update_role(A, "S", &"d".repeat(1001), 3600).await,
        codes::VALIDATION_ERROR,
    );
    api.update_role(A, "S", "new", 7200).await.expect("update");
    let got = api.get_role(A, "S").await.expect("get");
    assert_eq!(
        (
            got.summary.description.as_str(),
            got.summary.max_session_secs
        ),
        ("new", 7200)
    );
}

#[tokio::test]
async fn at_most_ten_managed_policies_per_role() {
    let mine: Vec<String> = (0..11)
        .map(|i| format!("arn:aws:iam::{A}:policy/Mine{i}"))
        .collect();
    let api = iam().with_managed_policies(mine.clone());
    api.create_role(A, &new_role("R")).await.expect("create");
    for arn in &mine[..10] {
        api.attach_policy(A, "R", arn).await.expect("attach");
    }
    // Attaching an attached policy again changes nothing, even at the limit.
    api.attach_policy(A, "R", &mine[0]).await.expect("again");
    assert_code(
        api.attach_policy(A, "R", &mine[10]).await,
        codes::LIMIT_EXCEEDED,
    );
    assert_code(
        api.attach_policy(A, "R", ADMIN).await,
        codes::LIMIT_EXCEEDED,
    );
    api.detach_policy(A, "R", &mine[0]).await.expect("detach");
    api.attach_policy(A, "R", ADMIN).await.expect("room again");
    assert_eq!(
        api.list_attached_policies(A, "R")
            .await
            .expect("list")
            .len(),
        10
    );
}

#[tokio::test]
async fn unknown_managed_policies_do_not_exist() {
    let api = iam();
    api.create_role(A, &new_role("R")).await.expect("create");
    for bad in [
        "arn:aws:iam::aws:policy/NoSuchPolicy",
        "arn:aws:iam::222222222222:policy/Mine",
        "AdministratorAccess",
    ] {
        assert_code(api.attach_policy(A, "R", bad).await, codes::NO_SUCH_ENTITY);
        assert_code(
            api.put_permissions_boundary(A, "R", bad).await,
            codes::NO_SUCH_ENTITY,
        );
    }
    api.attach_policy(
        A,
        "R",
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
    )
    .await
    .expect("job-function path");
    let listed = api.list_attached_policies(A, "R").await.expect("list");
    assert_eq!(listed[0].name, "ViewOnlyAccess");
    assert_code(
        api.detach_policy(A, "R", ADMIN).await,
        codes::NO_SUCH_ENTITY,
    );
}

#[tokio::test]
async fn inline_policies_total_at_most_10240_characters_per_role() {
    let api = iam();
    api.create_role(A, &new_role("R")).await.expect("create");
    api.put_inline_policy(A, "R", "one", &doc_of_size(6000))
        .await
        .expect("one");
    assert_code(
        api.put_inline_policy(A, "R", "two", &doc_of_size(4241))
            .await,
        codes::LIMIT_EXCEEDED,
    );
    api.put_inline_policy(A, "R", "two", &doc_of_size(4240))
        .await
        .expect("exactly 10240");
    // Replacing a policy counts its new size, not both.
    api.put_inline_policy(A, "R", "two", &doc_of_size(4000))
        .await
        .expect("replace");
    assert_code(
        api.put_inline_policy(A, "R", "bad", "not json").await,
        codes::MALFORMED_POLICY_DOCUMENT,
    );
    assert_code(
        api.put_inline_policy(A, "R", "bad name", DOC).await,
        codes::VALIDATION_ERROR,
    );
    let mut names = api.list_inline_policies(A, "R").await.expect("list");
    names.sort();
    assert_eq!(names, ["one", "two"]);
    assert_code(
        api.get_inline_policy(A, "R", "three").await,
        codes::NO_SUCH_ENTITY,
    );
    assert_code(
        api.delete_inline_policy(A, "R", "three").await,
        codes::NO_SUCH_ENTITY,
    );
}

#[tokio::test]
async fn at_most_fifty_tags() {
    let api = iam();
    let many: Tags = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let mut r = new_role("T");
    r.tags = many.clone();
    assert_code(api.create_role(A, &r).await, codes::LIMIT_EXCEEDED);
    r.tags = many
        .iter()
        .take(50)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    api.create_role(A, &r).await.expect("50 tags");
    let one_more: Tags = [("extra".to_owned(), "v".to_owned())].into();
    assert_code(api.tag_role(A, "T", &one_more).await, codes::LIMIT_EXCEEDED);
    // Replacing a value does not add a tag; untagging makes room.
    let same: Tags = [("k0".to_owned(), "w".to_owned())].into();
    api.tag_role(A, "T", &same).await.expect("replace value");
    api.untag_role(A, "T", &["k1".to_owned(), "absent".to_owned()])
        .await
        .expect("untag");
    api.tag_role(A, "T", &one_more).await.expect("room again");
    let tags = api.get_role(A, "T").await.expect("get").tags;
    assert_eq!((tags.len(), tags["k0"].as_str()), (50, "w"));
}

#[tokio::test]
async fn delete_conflicts_while_policies_remain_but_not_for_a_boundary() {
    let api = iam();
    api.create_role(A, &new_role("R")).await.expect("create");
    api.attach_policy(A, "R", ADMIN).await.expect("attach");
    api.put_inline_policy(A, "R", "p", DOC).await.expect("put");
    api.put_permissions_boundary(A, "R", "arn:aws:iam::aws:policy/PowerUserAccess")
        .await
        .expect("boundary");
    assert_eq!(
        api.get_role(A, "R")
            .await
            .expect("get")
            .permissions_boundary
            .as_deref(),
        Some("arn:aws:iam::aws:policy/PowerUserAccess")
    );
    assert_code(api.delete_role(A, "R").await, codes::DELETE_CONFLICT);
    api.detach_policy(A, "R", ADMIN).await.expect("detach");
    assert_code(api.delete_role(A, "R").await, codes::DELETE_CONFLICT);
    api.delete_inline_policy(A, "R", "p")
        .await
        .expect("delete inline");
    api.delete_role(A, "R")
        .await
        .expect("a boundary does not block DeleteRole");
    assert_code(api.get_role(A, "R").await, codes::NO_SUCH_ENTITY);
    assert_code(api.delete_role(A, "R").await, codes::NO_SUCH_ENTITY);
}

#[tokio::test]
async fn calls_are_logged_and_writes_counted() {
    let api = iam();
    api.create_role(A, &new_role("R")).await.expect("create");
    api.get_role(A, "R").await.expect("get");
    api.list_roles(A, "/orgctl/").await.expect("list");
    assert_eq!(
        api.calls(),
        [ops::CREATE_ROLE, ops::GET_ROLE, ops::LIST_ROLES]
    );
    assert_eq!(api.write_call_count(), 1);
}

#[tokio::test]
async fn retrying_counts_iam_calls_and_writes() {
    let api = crate::Retrying::new(iam(), crate::RetryPolicy::default());
    api.create_role(A, &new_role("R")).await.expect("create");
    assert_code(
        api.create_role(A, &new_role("r")).await,
        codes::ENTITY_ALREADY_EXISTS,
    );
    api.list_roles(A, "/orgctl/").await.expect("list");
    let stats = api.stats();
    assert_eq!(stats.get(ops::CREATE_ROLE).calls, 2);
    assert_eq!(
        stats.get(ops::CREATE_ROLE).retries,
        0,
        "a service error is not retried"
    );
    assert_eq!((stats.calls(), stats.write_calls()), (3, 2));
}

#[test]
fn iam_concurrent_modification_and_throttling_are_retryable() {
    for code in [codes::CONCURRENT_MODIFICATION, codes::THROTTLING] {
        assert!(
            ApiError::service(ops::CREATE_ROLE, code, "").is_retryable(),
            "{code}"
        );
    }
    for code in [
        codes::NO_SUCH_ENTITY,
        codes::DELETE_CONFLICT,
        codes::LIMIT_EXCEEDED,
    ] {
        assert!(
            !ApiError::service(ops::CREATE_ROLE, code, "").is_retryable(),
            "{code}"
        );
    }
}

#[tokio::test]
async fn faulty_crashes_iam_writes_and_a_rerun_converges() {
    let api = crate::Faulty::new(iam()).crash_after_writes(2);
    api.create_role(A, &new_role("R"))
        .await
        .expect("first write");
    api.attach_policy(A, "R", ADMIN)
        .await
        .expect("second write");
    let e = api
        .put_inline_policy(A, "R", "p", DOC)
        .await
        .expect_err("crashed after two writes");
    assert_eq!(e.code, crate::faults::CRASH_CODE);
    assert_code(api.get_role(A, "R").await, crate::faults::CRASH_CODE);
    api.recover();
    // What the crash left: the role and its attachment, no inline policy yet.
    assert!(
        api.list_inline_policies(A, "R")
            .await
            .expect("list")
            .is_empty()
    );
    assert_code(
        api.create_role(A, &new_role("R")).await,
        codes::ENTITY_ALREADY_EXISTS,
    );
    api.put_inline_policy(A, "R", "p", DOC)
        .await
        .expect("rerun");
    assert_eq!(api.inner().write_call_count(), 4);
}

//! The executor against the in-memory organization: every operation, every idempotency path
//! (run twice: the second run is `AlreadyDone` and the organization does not change), resumed
//! account creation after a crash, failure reasons in words, unresolved references.

use std::collections::BTreeSet;
use std::time::Duration;

use orgctl_model::{LiveState, Op, PolicyType, Ref, Tags};

use super::*;
use crate::api::{OrgApi, operations as ops};
use crate::faults::{CRASH_CODE, Faulty};
use crate::memory::{FULL_AWS_ACCESS_ID, MemoryOrg};

const SCP: PolicyType = PolicyType::ServiceControlPolicy;
const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;

fn org() -> MemoryOrg {
    MemoryOrg::new("111111111111", "mgmt@example.com")
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn id(s: &str) -> Ref {
    Ref::Id(s.to_owned())
}

fn poll() -> PollPolicy {
    PollPolicy::default()
}

async fn run(api: &MemoryOrg, op: &Op, ids: &mut IdMap) -> Outcome {
    execute(api, op, ids, &poll()).await.expect("execute")
}

/// Runs `op` twice (with fresh id maps, as two applies would): the first run is `Done`, the
/// second `AlreadyDone` and changes nothing. Returns the ids the second run recorded.
async fn twice(api: &MemoryOrg, op: &Op) -> IdMap {
    let mut first = IdMap::with_root(api.root_id());
    assert_eq!(run(api, op, &mut first).await, Outcome::Done, "{op:?}");
    let after_first: LiveState = api.to_live();
    let mut second = IdMap::with_root(api.root_id());
    assert_eq!(
        run(api, op, &mut second).await,
        Outcome::AlreadyDone,
        "{op:?}"
    );
    assert_eq!(api.to_live(), after_first, "the second run changed nothing");
    assert_eq!(first, second, "both runs recorded the same ids");
    second
}

async fn scp_org() -> (MemoryOrg, String) {
    let api = org();
    let root = api.root_id();
    api.enable_policy_type(&root, SCP).await.expect("enable");
    (api, root)
}

async fn account(api: &MemoryOrg, name: &str) -> String {
    api.create_account(name, &format!("{name}@example.com"), &Tags::new())
        .await
        .expect("create")
        .account_id
        .expect("id")
}

// -- policy types, OUs ---------------------------------------------------------------------------

#[tokio::test]
async fn enable_policy_type_is_idempotent() {
    let api = org();
    let op = Op::EnablePolicyType {
        root: id(&api.root_id()),
        policy_type: SCP,
    };
    twice(&api, &op).await;
    assert!(
        api.to_live()
            .organization
            .enabled_policy_types
            .contains(&SCP)
    );
}

#[tokio::test]
async fn create_ou_is_idempotent_and_records_the_id() {
    let api = org();
    let root = api.root_id();
    let op = Op::CreateOu {
        parent: id(&root),
        name: "Workloads".into(),
        path: "/Workloads".into(),
        tags: tags(&[("managed-by", "orgctl")]),
    };
    let ids = twice(&api, &op).await;
    let ou = ids
        .resolve(&Ref::NewOu("/Workloads".into()))
        .expect("recorded");
    assert_eq!(api.describe_ou(&ou).await.expect("ou").name, "Workloads");
    assert_eq!(
        api.call_count(ops::TAG_RESOURCE),
        0,
        "tags were already set"
    );
}

#[tokio::test]
async fn create_ou_adopts_an_existing_ou_and_completes_its_tags() {
    let api = org();
    let root = api.root_id();
    let existing = api
        .create_ou(&root, "Workloads", &tags(&[("team", "a")]))
        .await
        .expect("ou");
    let op = Op::CreateOu {
        parent: id(&root),
        name: "Workloads".into(),
        path: "/Workloads".into(),
        tags: tags(&[("managed-by", "orgctl")]),
    };
    let mut ids = IdMap::new();
    assert_eq!(run(&api, &op, &mut ids).await, Outcome::AlreadyDone);
    assert_eq!(
        ids.resolve(&Ref::NewOu("/Workloads".into())),
        Some(existing.id.clone())
    );
    assert_eq!(
        api.list_tags(&existing.id).await.expect("tags"),
        tags(&[("managed-by", "orgctl"), ("team", "a")])
    );
}

#[tokio::test]
async fn create_ou_never_adopts_an_ou_the_plan_refers_to() {
    let api = org();
    let root = api.root_id();
    // Live /X, which the plan renames to /Y, and a new /X created before the rename ran.
    let x = api.create_ou(&root, "X", &Tags::new()).await.expect("ou");
    let create = Op::CreateOu {
        parent: id(&root),
        name: "X".into(),
        path: "/X".into(),
        tags: tags(&[("managed-by", "orgctl")]),
    };
    let rename = Op::RenameOu {
        ou: id(&x.id),
        name: "Y".into(),
    };
    let mut ids = IdMap::for_ops([&create, &rename]);
    assert!(ids.is_claimed(&x.id) && ids.is_claimed(&root));
    api.clear_calls();
    let e = execute(&api, &create, &mut ids, &poll())
        .await
        .expect_err("the OU in the way is the plan's /Y");
    assert!(
        matches!(&e, ExecError::AdoptionRefused { id, .. } if *id == x.id),
        "{e:?}"
    );
    assert!(e.to_string().contains("run `orgctl plan` again"), "{e}");
    assert_eq!(ids.resolve(&Ref::NewOu("/X".into())), None, "not adopted");
    assert_eq!(
        api.write_call_count(),
        1,
        "only the refused CreateOu: {:?}",
        api.calls()
    );
    assert!(
        api.list_tags(&x.id).await.expect("tags").is_empty(),
        "not retagged"
    );
}

#[tokio::test]
async fn create_policy_never_adopts_a_policy_the_plan_refers_to() {
    let (api, _) = scp_org().await;
    let existing = api
        .create_policy("deny-s3", SCP, "Deny S3", DOC, &Tags::new())
        .await
        .expect("policy");
    let op = create_policy_op(DOC);
    let mut ids = IdMap::for_ops([
        &op,
        &Op::DeletePolicy {
            policy: id(&existing.id),
        },
    ]);
    let e = execute(&api, &op, &mut ids, &poll())
        .await
        .expect_err("claimed");
    assert!(matches!(e, ExecError::AdoptionRefused { .. }), "{e:?}");
    assert_eq!(ids.resolve(&Ref::NewPolicy("deny-s3".into())), None);
}

#[tokio::test]
async fn refs_to_objects_created_earlier_resolve() {
    let api = org();
    let root = api.root_id();
    let mut ids = IdMap::with_root(&root);
    for (parent, name, path) in [
        (id(&root), "A", "/A"),
        (Ref::NewOu("/A".into()), "B", "/A/B"),
    ] {
        let op = Op::CreateOu {
            parent,
            name: name.into(),
            path: path.into(),
            tags: Tags::new(),
        };
        assert_eq!(run(&api, &op, &mut ids).await, Outcome::Done);
    }
    let a = ids.resolve(&Ref::NewOu("/A".into())).expect("A");
    let b = ids.resolve(&Ref::NewOu("/A/B".into())).expect("B");
    assert_eq!(api.list_parent(&b).await.expect("parent"), a);
}

#[tokio::test]
async fn rename_ou_is_idempotent_without_a_second_rename() {
    let api = org();
    let root = api.root_id();
    let ou = api.create_ou(&root, "Old", &Tags::new()).await.expect("ou");
    let op = Op::RenameOu {
        ou: id(&ou.id),
        name: "New".into(),
    };
    twice(&api, &op).await;
    assert_eq!(api.call_count(ops::UPDATE_OU), 1);
    assert_eq!(api.describe_ou(&ou.id).await.expect("ou").name, "New");
}

#[tokio::test]
async fn delete_ou_is_idempotent() {
    let api = org();
    let root = api.root_id();
    let ou = api
        .create_ou(&root, "Gone", &Tags::new())
        .await
        .expect("ou");
    twice(&api, &Op::DeleteOu { ou: id(&ou.id) }).await;
    assert!(api.to_live().ous.is_empty());
}

// -- accounts -----------------------------------------------------------------------------------

fn create_account_op(parent: Ref) -> Op {
    Op::CreateAccount {
        name: "dev".into(),
        email: "Dev@Example.com".into(),
        parent,
        tags: tags(&[("team", "a")]),
        ignore_tag_keys: BTreeSet::new(),
    }
}

#[tokio::test]
async fn create_account_in_the_root_makes_no_move() {
    let api = org();
    let root = api.root_id();
    let mut ids = IdMap::with_root(&root);
    let op = create_account_op(id(&root));
    assert_eq!(run(&api, &op, &mut ids).await, Outcome::Done);
    let acc = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded under the lower-cased email");
    assert_eq!(api.list_parent(&acc).await.expect("p"), root);
    assert_eq!(api.call_count(ops::MOVE_ACCOUNT), 0);
    assert_eq!(api.call_count(ops::LIST_ROOTS), 0, "the root id was known");
}

#[tokio::test]
async fn create_account_is_idempotent_and_lands_in_its_ou() {
    let api = org();
    let root = api.root_id();
    let ou = api.create_ou(&root, "Dev", &Tags::new()).await.expect("ou");
    let ids = twice(&api, &create_account_op(id(&ou.id))).await;
    let acc = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded");
    assert_eq!(api.list_parent(&acc).await.expect("p"), ou.id);
    assert_eq!(api.to_live().accounts.len(), 2);
    assert_eq!(api.call_count(ops::MOVE_ACCOUNT), 1, "moved once");
}

#[tokio::test]
async fn create_account_finds_the_root_when_not_told() {
    let api = org();
    let root = api.root_id();
    let ou = api.create_ou(&root, "Dev", &Tags::new()).await.expect("ou");
    let mut ids = IdMap::new();
    run(&api, &create_account_op(id(&ou.id)), &mut ids).await;
    assert_eq!(ids.root_id(), Some(root.as_str()));
    assert_eq!(api.call_count(ops::LIST_ROOTS), 1);
}

#[tokio::test(start_paused = true)]
async fn create_account_waits_with_backoff() {
    let api = org().with_create_account_polls(4);
    let root = api.root_id();
    let started = tokio::time::Instant::now();
    let mut ids = IdMap::with_root(&root);
    assert_eq!(
        run(&api, &create_account_op(id(&root)), &mut ids).await,
        Outcome::Done
    );
    assert_eq!(api.call_count(ops::DESCRIBE_CREATE_ACCOUNT_STATUS), 5);
    // 1 + 2 + 4 + 8 + 16 seconds.
    assert_eq!(started.elapsed(), Duration::from_secs(31));
    assert!(
        ids.resolve(&Ref::NewAccount("dev@example.com".into()))
            .is_some()
    );
}

#[tokio::test(start_paused = true)]
async fn create_account_resumes_the_request_in_progress() {
    let api = org().with_create_account_polls(3);
    let root = api.root_id();
    let ou = api.create_ou(&root, "Dev", &Tags::new()).await.expect("ou");
    // An earlier apply started the request and died.
    let started = api
        .create_account("dev", "dev@example.com", &tags(&[("team", "a")]))
        .await
        .expect("start");
    assert_eq!(started.state, CreateAccountState::InProgress);
    api.clear_calls();

    let mut ids = IdMap::with_root(&root);
    let outcome = run(&api, &create_account_op(id(&ou.id)), &mut ids).await;
    assert_eq!(outcome, Outcome::Done);
    let calls = api.calls();
    assert_eq!(calls[0], ops::LIST_CREATE_ACCOUNT_STATUS);
    assert!(
        !calls.contains(&ops::CREATE_ACCOUNT),
        "no second request: {calls:?}"
    );
    assert_eq!(api.call_count(ops::DESCRIBE_CREATE_ACCOUNT_STATUS), 4);
    let acc = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded");
    assert_eq!(api.list_parent(&acc).await.expect("p"), ou.id);
    assert_eq!(api.to_live().accounts.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_request_for_another_email_is_not_taken_as_ours() {
    let api = org().with_create_account_polls(1);
    let root = api.root_id();
    // Someone else is creating an account with the same name and another email.
    let theirs = api
        .create_account("dev", "someone@example.com", &Tags::new())
        .await
        .expect("start");
    let mut ids = IdMap::with_root(&root);
    assert_eq!(
        run(&api, &create_account_op(id(&root)), &mut ids).await,
        Outcome::Done
    );
    assert_eq!(api.call_count(ops::CREATE_ACCOUNT), 2, "our own request");
    let ours = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded");
    let live = api.to_live();
    let acc = live.accounts.iter().find(|a| a.id == ours).expect("ours");
    assert_eq!(acc.email, "Dev@Example.com");
    let other = api
        .describe_create_account_status(&theirs.request_id)
        .await
        .expect("theirs")
        .account_id
        .expect("id");
    assert_ne!(other, ours);
}

#[tokio::test(start_paused = true)]
async fn a_resumed_creation_is_finished_like_a_fresh_one() {
    let api = org().with_create_account_polls(2);
    let root = api.root_id();
    let ou = api.create_ou(&root, "Dev", &Tags::new()).await.expect("ou");
    // An earlier apply started the request with other tags (the YAML changed since) and died.
    api.create_account("dev", "dev@example.com", &tags(&[("team", "old")]))
        .await
        .expect("start");
    api.clear_calls();

    let mut ids = IdMap::with_root(&root);
    assert_eq!(
        run(&api, &create_account_op(id(&ou.id)), &mut ids).await,
        Outcome::Done
    );
    assert_eq!(
        api.call_count(ops::CREATE_ACCOUNT),
        0,
        "resumed, not restarted"
    );
    let acc = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded");
    assert_eq!(api.list_parent(&acc).await.expect("p"), ou.id);
    assert_eq!(
        api.list_tags(&acc).await.expect("tags"),
        tags(&[("team", "a")]),
        "the op's tags, as a fresh creation has them"
    );
}

#[tokio::test(start_paused = true)]
async fn a_resumed_creation_drops_tags_the_op_does_not_have_and_keeps_ignored_keys() {
    let api = org().with_create_account_polls(1);
    let root = api.root_id();
    // An earlier apply started the request with a tag the YAML has since dropped; someone also
    // tagged the request with a key the YAML's `ignore_tag_keys` leaves alone.
    api.create_account(
        "dev",
        "dev@example.com",
        &tags(&[("team", "a"), ("stale", "1"), ("owner", "alice")]),
    )
    .await
    .expect("start");

    let mut op = create_account_op(id(&root));
    if let Op::CreateAccount {
        ignore_tag_keys, ..
    } = &mut op
    {
        ignore_tag_keys.insert("owner".to_owned());
    }
    let mut ids = IdMap::with_root(&root);
    assert_eq!(run(&api, &op, &mut ids).await, Outcome::Done);
    let acc = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded");
    assert_eq!(
        api.list_tags(&acc).await.expect("tags"),
        tags(&[("team", "a"), ("owner", "alice")]),
        "the op's tags plus the ignored key, nothing else"
    );
}

#[tokio::test(start_paused = true)]
async fn an_adopted_account_drops_tags_the_op_does_not_have() {
    let api = org();
    let root = api.root_id();
    // An earlier apply created the account (its request is gone from the in-progress list).
    api.create_account("dev", "dev@example.com", &tags(&[("stale", "1")]))
        .await
        .expect("start");
    let mut ids = IdMap::with_root(&root);
    assert_eq!(
        run(&api, &create_account_op(id(&root)), &mut ids).await,
        Outcome::AlreadyDone
    );
    let acc = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded");
    assert_eq!(
        api.list_tags(&acc).await.expect("tags"),
        tags(&[("team", "a")])
    );
}

#[tokio::test(start_paused = true)]
async fn an_adopted_account_keeps_orgctls_bookkeeping_tags() {
    let api = org();
    let root = api.root_id();
    // The account carries the record of an earlier apply (and a stale key the op drops).
    api.create_account(
        "dev",
        "dev@example.com",
        &tags(&[
            ("stale", "1"),
            (orgctl_model::RECORD_TAG, "1:0123456789abcdef:2026-01-01"),
        ]),
    )
    .await
    .expect("start");
    let mut ids = IdMap::with_root(&root);
    assert_eq!(
        run(&api, &create_account_op(id(&root)), &mut ids).await,
        Outcome::AlreadyDone
    );
    let acc = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded");
    assert_eq!(
        api.list_tags(&acc).await.expect("tags"),
        tags(&[
            ("team", "a"),
            (orgctl_model::RECORD_TAG, "1:0123456789abcdef:2026-01-01"),
        ]),
        "the op's tags and the bookkeeping key, which the planner never compares"
    );
}

#[tokio::test(start_paused = true)]
async fn of_two_requests_with_the_same_name_the_one_with_our_email_is_resumed() {
    let api = org().with_create_account_polls(1);
    let root = api.root_id();
    // Someone else is creating an account with the same name and another email, and an
    // earlier apply of ours started its request after theirs and died.
    api.create_account("dev", "someone@example.com", &Tags::new())
        .await
        .expect("theirs");
    api.create_account("dev", "dev@example.com", &tags(&[("team", "a")]))
        .await
        .expect("ours");
    api.clear_calls();

    let mut ids = IdMap::with_root(&root);
    assert_eq!(
        run(&api, &create_account_op(id(&root)), &mut ids).await,
        Outcome::Done
    );
    assert_eq!(
        api.call_count(ops::CREATE_ACCOUNT),
        0,
        "no second request for our email: {:?}",
        api.calls()
    );
    let ours = ids
        .resolve(&Ref::NewAccount("dev@example.com".into()))
        .expect("recorded");
    let live = api.to_live();
    let acc = live.accounts.iter().find(|a| a.id == ours).expect("ours");
    assert_eq!(acc.email, "dev@example.com");
    assert_eq!(
        live.accounts
            .iter()
            .filter(|a| a.email.eq_ignore_ascii_case("dev@example.com"))
            .count(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_crash_while_the_account_is_created_is_resumed() {
    // CreateAccount reaches AWS, then the process dies before it sees the answer.
    let faulty = Faulty::new(org().with_create_account_polls(2)).crash_during_write(1);
    let root = faulty.inner().root_id();
    let op = create_account_op(id(&root));
    let mut ids = IdMap::with_root(&root);
    let e = execute(&faulty, &op, &mut ids, &poll())
        .await
        .expect_err("crashed");
    assert!(
        matches!(&e, ExecError::Api(a) if a.code == CRASH_CODE),
        "{e}"
    );

    // The process restarts and applies again.
    let api = faulty.into_inner();
    let mut ids = IdMap::with_root(&root);
    assert_eq!(run(&api, &op, &mut ids).await, Outcome::Done);
    assert_eq!(api.call_count(ops::CREATE_ACCOUNT), 1, "one request only");
    assert_eq!(api.call_count(ops::DESCRIBE_CREATE_ACCOUNT_STATUS), 3);
    assert_eq!(api.to_live().accounts.len(), 2);
}

#[tokio::test]
async fn a_crash_between_creation_and_move_is_completed() {
    let faulty = Faulty::new(org()).crash_after_writes(2);
    let root = faulty.inner().root_id();
    let ou = faulty
        .create_ou(&root, "Dev", &Tags::new())
        .await
        .expect("ou (write 1)");
    let op = create_account_op(id(&ou.id));
    let mut ids = IdMap::with_root(&root);
    execute(&faulty, &op, &mut ids, &poll())
        .await
        .expect_err("crashed before MoveAccount (write 3)");
    let api = faulty.into_inner();
    let live = api.to_live();
    let created = live
        .accounts
        .iter()
        .find(|a| a.name == "dev")
        .expect("created");
    assert_eq!(created.parent_id, root, "stranded in the root");

    let mut ids = IdMap::with_root(&root);
    assert_eq!(run(&api, &op, &mut ids).await, Outcome::AlreadyDone);
    assert_eq!(
        ids.resolve(&Ref::NewAccount("dev@example.com".into())),
        Some(created.id.clone()),
        "the existing account is adopted"
    );
    assert_eq!(api.list_parent(&created.id).await.expect("p"), ou.id);
    assert_eq!(api.to_live().accounts.len(), 2, "no second account");
}

#[tokio::test]
async fn a_failed_request_explains_its_reason() {
    let api = org().with_foreign_emails(["dev@example.com"]);
    let root = api.root_id();
    let mut ids = IdMap::with_root(&root);
    let e = execute(&api, &create_account_op(id(&root)), &mut ids, &poll())
        .await
        .expect_err("taken elsewhere");
    let ExecError::CreateAccountFailed { name, reason } = &e else {
        panic!("unexpected {e:?}");
    };
    assert_eq!(name, "dev");
    assert!(
        reason.starts_with(
            "EMAIL_ALREADY_EXISTS: an account with this root email already exists (in this or \
             another organization)"
        ),
        "{reason}"
    );
    assert!(e.to_string().contains("use another email address"), "{e}");
    assert!(ids.is_empty());
}

#[tokio::test]
async fn an_email_of_a_closed_account_is_not_adopted() {
    let api = org();
    let root = api.root_id();
    let old = api
        .create_account("dev", "dev@example.com", &Tags::new())
        .await
        .expect("c")
        .account_id
        .expect("id");
    api.close_account(&old).await.expect("close");
    let mut ids = IdMap::with_root(&root);
    let e = execute(&api, &create_account_op(id(&root)), &mut ids, &poll())
        .await
        .expect_err("closed");
    assert!(e.to_string().contains("closed"), "{e}");
    assert!(e.to_string().contains(&old), "{e}");
}

#[test]
fn every_documented_failure_reason_is_explained() {
    for code in [
        "ACCOUNT_LIMIT_EXCEEDED",
        "EMAIL_ALREADY_EXISTS",
        "INVALID_ADDRESS",
        "INVALID_EMAIL",
        "CONCURRENT_ACCOUNT_MODIFICATION",
        "INTERNAL_FAILURE",
        "GOVCLOUD_ACCOUNT_ALREADY_EXISTS",
        "MISSING_BUSINESS_VALIDATION",
        "FAILED_BUSINESS_VALIDATION",
        "PENDING_BUSINESS_VALIDATION",
        "INVALID_IDENTITY_FOR_BUSINESS_VALIDATION",
        "UNKNOWN_BUSINESS_VALIDATION",
        "MISSING_PAYMENT_INSTRUMENT",
        "INVALID_PAYMENT_INSTRUMENT",
        "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED",
    ] {
        let words = describe_create_account_failure(code);
        assert!(words.starts_with(&format!("{code}: ")), "{words}");
        assert!(!words.contains("no further explanation"), "{code}");
    }
    assert!(describe_create_account_failure("SOMETHING_NEW").contains("no further explanation"));
}

#[tokio::test(start_paused = true)]
async fn create_account_gives_up_after_the_timeout() {
    let api = org().with_create_account_polls(1_000);
    let root = api.root_id();
    let policy = PollPolicy {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(30),
        timeout: Duration::from_secs(120),
    };
    let started = tokio::time::Instant::now();
    let mut ids = IdMap::with_root(&root);
    let e = execute(&api, &create_account_op(id(&root)), &mut ids, &policy)
        .await
        .expect_err("timeout");
    assert!(
        matches!(&e, ExecError::CreateAccountTimeout { name, request_id } if name == "dev" && request_id.starts_with("car-")),
        "{e:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(120));
    assert!(e.to_string().contains("run apply again later"), "{e}");
}

#[tokio::test]
async fn move_account_is_idempotent() {
    let api = org();
    let root = api.root_id();
    let ou = api.create_ou(&root, "Dev", &Tags::new()).await.expect("ou");
    let acc = account(&api, "dev").await;
    let op = Op::MoveAccount {
        account: id(&acc),
        from: id(&root),
        to: id(&ou.id),
    };
    twice(&api, &op).await;
    assert_eq!(api.call_count(ops::LIST_PARENTS), 1, "checked where it is");
    // Source and destination the same: AWS says DuplicateAccountException.
    let same = Op::MoveAccount {
        account: id(&acc),
        from: id(&ou.id),
        to: id(&ou.id),
    };
    assert_eq!(
        run(&api, &same, &mut IdMap::new()).await,
        Outcome::AlreadyDone
    );
}

#[tokio::test]
async fn move_account_from_a_wrong_source_still_fails() {
    let api = org();
    let root = api.root_id();
    let a = api.create_ou(&root, "A", &Tags::new()).await.expect("A");
    let b = api.create_ou(&root, "B", &Tags::new()).await.expect("B");
    let acc = account(&api, "dev").await;
    let op = Op::MoveAccount {
        account: id(&acc),
        from: id(&a.id),
        to: id(&b.id),
    };
    let e = execute(&api, &op, &mut IdMap::new(), &poll())
        .await
        .expect_err("it is in the root, not in A nor B");
    assert!(
        matches!(&e, ExecError::Api(a) if a.code == codes::SOURCE_PARENT_NOT_FOUND),
        "{e}"
    );
}

#[tokio::test]
async fn close_account_is_idempotent() {
    let api = org();
    let acc = account(&api, "dev").await;
    twice(&api, &Op::CloseAccount { account: id(&acc) }).await;
}

// -- tags ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tag_and_untag_can_run_twice() {
    let api = org();
    let acc = account(&api, "dev").await;
    let tag = Op::TagResource {
        resource: id(&acc),
        tags: tags(&[("a", "1"), ("b", "2")]),
    };
    let untag = Op::UntagResource {
        resource: id(&acc),
        keys: BTreeSet::from(["b".to_owned()]),
    };
    for op in [&tag, &untag] {
        let mut ids = IdMap::new();
        assert_eq!(run(&api, op, &mut ids).await, Outcome::Done);
        let after = api.to_live();
        assert_eq!(run(&api, op, &mut ids).await, Outcome::Done);
        assert_eq!(api.to_live(), after);
    }
    assert_eq!(api.list_tags(&acc).await.expect("t"), tags(&[("a", "1")]));
}

// -- policies -----------------------------------------------------------------------------------

fn create_policy_op(content: &str) -> Op {
    Op::CreatePolicy {
        name: "deny-s3".into(),
        policy_type: SCP,
        description: "no S3".into(),
        content: content.into(),
        tags: tags(&[("managed-by", "orgctl")]),
    }
}

#[tokio::test]
async fn create_policy_is_idempotent_and_records_the_id() {
    let (api, _) = scp_org().await;
    let ids = twice(&api, &create_policy_op(DOC)).await;
    let p = ids
        .resolve(&Ref::NewPolicy("deny-s3".into()))
        .expect("recorded");
    assert_eq!(api.describe_policy(&p).await.expect("doc"), DOC);
    assert_eq!(api.call_count(ops::UPDATE_POLICY), 0);
}

#[tokio::test]
async fn create_policy_adopts_an_equal_document_and_fixes_the_description() {
    let (api, _) = scp_org().await;
    // Same JSON, other formatting and description.
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(DOC).expect("json"),
    )
    .expect("pretty");
    let existing = api
        .create_policy("deny-s3", SCP, "old", &pretty, &Tags::new())
        .await
        .expect("p");
    let mut ids = IdMap::new();
    assert_eq!(
        run(&api, &create_policy_op(DOC), &mut ids).await,
        Outcome::AlreadyDone
    );
    assert_eq!(
        ids.resolve(&Ref::NewPolicy("deny-s3".into())),
        Some(existing.id.clone())
    );
    let listed = api.list_policies(SCP).await.expect("l");
    let p = listed.iter().find(|p| p.id == existing.id).expect("p");
    assert_eq!(p.description, "no S3");
    assert_eq!(
        api.list_tags(&existing.id).await.expect("t"),
        tags(&[("managed-by", "orgctl")])
    );
}

#[tokio::test]
async fn create_policy_refuses_to_take_over_another_document() {
    let (api, _) = scp_org().await;
    let other = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let existing = api
        .create_policy("deny-s3", SCP, "no S3", other, &Tags::new())
        .await
        .expect("p");
    let e = execute(&api, &create_policy_op(DOC), &mut IdMap::new(), &poll())
        .await
        .expect_err("conflict");
    assert!(
        matches!(&e, ExecError::PolicyConflict { existing: id, .. } if *id == existing.id),
        "{e:?}"
    );
    assert_eq!(api.describe_policy(&existing.id).await.expect("d"), other);
}

#[tokio::test]
async fn create_policy_refuses_a_name_taken_by_another_type() {
    let (api, root) = scp_org().await;
    api.enable_policy_type(&root, PolicyType::TagPolicy)
        .await
        .expect("tag");
    api.create_policy("deny-s3", PolicyType::TagPolicy, "", "{}", &Tags::new())
        .await
        .expect("tag policy");
    let e = execute(&api, &create_policy_op(DOC), &mut IdMap::new(), &poll())
        .await
        .expect_err("conflict");
    assert!(matches!(e, ExecError::PolicyConflict { .. }), "{e:?}");
}

#[tokio::test]
async fn update_policy_can_run_twice() {
    let (api, _) = scp_org().await;
    let p = api
        .create_policy("p", SCP, "", DOC, &Tags::new())
        .await
        .expect("p");
    let op = Op::UpdatePolicy {
        policy: id(&p.id),
        description: Some("new".into()),
        content: None,
    };
    let mut ids = IdMap::new();
    assert_eq!(run(&api, &op, &mut ids).await, Outcome::Done);
    let after = api.to_live();
    assert_eq!(run(&api, &op, &mut ids).await, Outcome::Done);
    assert_eq!(api.to_live(), after);
}

#[tokio::test]
async fn attach_detach_and_delete_policy_are_idempotent() {
    let (api, root) = scp_org().await;
    let ou = api.create_ou(&root, "A", &Tags::new()).await.expect("A");
    let p = api
        .create_policy("p", SCP, "", DOC, &Tags::new())
        .await
        .expect("p");
    let attach = Op::AttachPolicy {
        policy: id(&p.id),
        target: id(&ou.id),
    };
    twice(&api, &attach).await;
    let detach = Op::DetachPolicy {
        policy: id(FULL_AWS_ACCESS_ID),
        target: id(&ou.id),
    };
    twice(&api, &detach).await;
    let targets = api.list_targets_for_policy(&p.id).await.expect("t");
    assert_eq!(targets, vec![ou.id.clone()]);
    api.attach_policy(FULL_AWS_ACCESS_ID, &ou.id)
        .await
        .expect("re-attach");
    api.detach_policy(&p.id, &ou.id).await.expect("detach");
    twice(&api, &Op::DeletePolicy { policy: id(&p.id) }).await;
}

// -- references ---------------------------------------------------------------------------------

#[tokio::test]
async fn unresolved_references_are_errors_before_any_call() {
    let (api, root) = scp_org().await;
    api.clear_calls();
    let cases = [
        Op::AttachPolicy {
            policy: Ref::NewPolicy("missing".into()),
            target: id(&root),
        },
        Op::CreateOu {
            parent: Ref::NewOu("/Missing".into()),
            name: "X".into(),
            path: "/Missing/X".into(),
            tags: Tags::new(),
        },
        Op::CreateAccount {
            name: "x".into(),
            email: "x@example.com".into(),
            parent: Ref::NewOu("/Missing".into()),
            tags: Tags::new(),
            ignore_tag_keys: BTreeSet::new(),
        },
        Op::MoveAccount {
            account: Ref::NewAccount("x@example.com".into()),
            from: id(&root),
            to: id(&root),
        },
    ];
    for op in &cases {
        let e = execute(&api, op, &mut IdMap::new(), &poll())
            .await
            .expect_err("unresolved");
        let ExecError::Unresolved(r) = &e else {
            panic!("unexpected {e:?}");
        };
        assert!(op.refs().contains(&r), "{r}");
        assert!(e.to_string().contains("run `orgctl plan` again"), "{e}");
    }
    assert!(api.calls().is_empty(), "{:?}", api.calls());
}

#[test]
fn id_maps_resolve_and_serialise() {
    let mut ids = IdMap::with_root("r-abcd");
    assert_eq!(ids.resolve(&id("ou-x")), Some("ou-x".to_owned()));
    assert_eq!(ids.resolve(&Ref::NewOu("/A".into())), None);
    ids.insert(Ref::NewOu("/A".into()), "ou-abcd-00000001".into());
    ids.insert(Ref::NewAccount("a@b.c".into()), "200000000001".into());
    assert_eq!(
        ids.resolve(&Ref::NewOu("/A".into())).as_deref(),
        Some("ou-abcd-00000001")
    );
    assert_eq!(ids.len(), 2);
    let json = serde_json::to_string(&ids).expect("json");
    let back: IdMap = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, ids);
    assert_eq!(back.root_id(), Some("r-abcd"));
}

#[test]
fn executor_and_reader_futures_can_be_spawned() {
    fn send<T: Send>(_: &T) {}
    let api = crate::retry::Retrying::new(Faulty::new(org()), crate::retry::RetryPolicy::default());
    let op = Op::DeleteOu { ou: id("ou-x") };
    let mut ids = IdMap::new();
    let policy = poll();
    let exec = execute(&api, &op, &mut ids, &policy);
    send(&exec);
    drop(exec);
    let options = crate::observe::ReadOptions::default();
    let read = crate::observe::read_live(&api, &options);
    send(&read);
}

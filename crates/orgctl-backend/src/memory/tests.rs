//! One test per AWS rule the in-memory organization enforces, each asserting AWS's error code.

use orgctl_model::{AccountStatus, LiveState, PolicyType, Tags};

use super::*;
use crate::api::{ApiError, CreateAccountState, OrgApi, codes, operations as ops};

const MGMT: &str = "111111111111";
const SCP: PolicyType = PolicyType::ServiceControlPolicy;
const TAG: PolicyType = PolicyType::TagPolicy;
const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
const TAG_DOC: &str = r#"{"tags":{"team":{"tag_key":{"@@assign":"team"}}}}"#;

fn org() -> MemoryOrg {
    MemoryOrg::new(MGMT, "mgmt@example.com")
}

fn no_tags() -> Tags {
    Tags::new()
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn assert_code<T: std::fmt::Debug>(r: ApiResult<T>, code: &str) -> ApiError {
    let e = r.expect_err("the call must fail");
    assert_eq!(e.code, code, "{e}");
    e
}

/// An organization with SCPs enabled.
async fn scp_org() -> (MemoryOrg, String) {
    let api = org();
    let root = api.root_id();
    api.enable_policy_type(&root, SCP).await.expect("enable");
    (api, root)
}

async fn new_account(api: &MemoryOrg, name: &str, email: &str) -> String {
    let s = api
        .create_account(name, email, &no_tags())
        .await
        .expect("create account");
    assert_eq!(s.state, CreateAccountState::Succeeded);
    s.account_id.expect("id")
}

// -- the organization ---------------------------------------------------------------------------

#[tokio::test]
async fn a_new_organization_has_a_root_and_the_management_account() {
    let api = org();
    let live = api.to_live();
    assert!(live.organization.id.starts_with("o-"));
    assert!(live.organization.root_id.starts_with("r-"));
    assert_eq!(live.organization.management_account_id, MGMT);
    assert!(live.organization.enabled_policy_types.is_empty());
    assert_eq!(live.accounts.len(), 1);
    assert_eq!(live.accounts[0].id, MGMT);
    assert_eq!(live.accounts[0].parent_id, live.organization.root_id);
    assert!(live.policies.is_empty(), "no policy type is enabled");
    let scps = api.list_policies(SCP).await.expect("list");
    assert_eq!(scps.len(), 1);
    assert_eq!(scps[0].id, FULL_AWS_ACCESS_ID);
    assert!(scps[0].aws_managed);
    let targets = api
        .list_targets_for_policy(FULL_AWS_ACCESS_ID)
        .await
        .expect("targets");
    assert_eq!(targets, vec![MGMT.to_owned(), live.organization.root_id]);
}

#[tokio::test]
async fn ids_are_deterministic() {
    async fn build() -> LiveState {
        let (api, root) = scp_org().await;
        let ou = api.create_ou(&root, "A", &no_tags()).await.expect("ou");
        assert!(ou.id.starts_with("ou-"), "{}", ou.id);
        new_account(&api, "dev", "dev@example.com").await;
        api.create_policy("deny", SCP, "", DOC, &no_tags())
            .await
            .expect("policy");
        api.to_live()
    }
    let a = build().await;
    assert_eq!(a, build().await);
    assert_eq!(
        a.ous[0].id,
        format!("ou-{}-00000001", &a.organization.root_id[2..])
    );
    assert_eq!(a.accounts[1].id, "200000000001");
    assert_eq!(a.accounts[1].name, "dev");
    assert_eq!(a.policies[0].id, "p-00000001");
}

#[tokio::test]
async fn snapshots_round_trip_exactly() {
    let (api, root) = scp_org().await;
    api.enable_policy_type(&root, TAG).await.expect("tag");
    let ou = api
        .create_ou(&root, "Workloads", &tags(&[("team", "platform")]))
        .await
        .expect("ou");
    let child = api
        .create_ou(&ou.id, "Prod", &no_tags())
        .await
        .expect("child");
    let dev = new_account(&api, "dev", "dev@example.com").await;
    api.move_account(&dev, &root, &child.id)
        .await
        .expect("move");
    let p = api
        .create_policy("deny", SCP, "d", DOC, &tags(&[("k", "v")]))
        .await
        .expect("policy");
    api.attach_policy(&p.id, &child.id).await.expect("attach");
    api.create_policy("team", TAG, "", TAG_DOC, &no_tags())
        .await
        .expect("tag policy");
    let live = api.to_live();
    let back = MemoryOrg::from_live(&live).expect("load").to_live();
    assert_eq!(back, live);
    let json = serde_json::to_string(&live).expect("json");
    let parsed: LiveState = serde_json::from_str(&json).expect("parse");
    assert_eq!(MemoryOrg::from_live(&parsed).expect("load").to_live(), live);

    // A loaded organization goes on handing out fresh ids.
    let again = MemoryOrg::from_live(&live).expect("load");
    let ou2 = again
        .create_ou(&root, "Other", &no_tags())
        .await
        .expect("ou");
    assert!(live.ous.iter().all(|o| o.id != ou2.id));
    let a2 = new_account(&again, "x", "x@example.com").await;
    assert!(live.accounts.iter().all(|a| a.id != a2));
}

#[tokio::test]
async fn snapshots_without_scps_get_full_aws_access_back() {
    let live = org().to_live();
    let api = MemoryOrg::from_live(&live).expect("load");
    assert_eq!(api.to_live(), live);
    let root = api.root_id();
    api.enable_policy_type(&root, SCP).await.expect("enable");
    let targets = api
        .list_targets_for_policy(FULL_AWS_ACCESS_ID)
        .await
        .expect("targets");
    assert_eq!(targets.len(), 2);
}

#[test]
fn impossible_snapshots_are_refused() {
    let base = org().to_live();
    let root = base.organization.root_id.clone();
    let ou = |id: &str, name: &str, parent: &str| orgctl_model::LiveOu {
        id: id.to_owned(),
        name: name.to_owned(),
        parent_id: parent.to_owned(),
        tags: Tags::new(),
    };
    let refuse = |live: &LiveState, needle: &str| {
        let e = MemoryOrg::from_live(live).expect_err("refused");
        assert!(e.to_string().contains(needle), "{e}");
    };

    let mut s = base.clone();
    s.ous.push(ou("ou-a", "A", "ou-missing"));
    refuse(&s, "ou-missing");

    let mut s = base.clone();
    s.ous.push(ou("ou-a", "A", "ou-b"));
    s.ous.push(ou("ou-b", "B", "ou-a"));
    refuse(&s, "reachable");

    let mut s = base.clone();
    s.ous.push(ou("ou-a", "A", &root));
    s.ous.push(ou("ou-b", "A", &root));
    refuse(&s, "two OUs named");

    let mut s = base.clone();
    let mut parent = root.clone();
    for i in 0..6 {
        let id = format!("ou-{i}");
        s.ous.push(ou(&id, "X", &parent));
        parent = id;
    }
    refuse(&s, "deeper");

    let mut s = base.clone();
    let mut dup = s.accounts[0].clone();
    dup.id = "222222222222".to_owned();
    dup.email = "MGMT@example.com".to_owned();
    s.accounts.push(dup);
    refuse(&s, "same email");

    let mut s = base.clone();
    s.accounts.clear();
    refuse(&s, "management account");

    let mut s = base.clone();
    s.policies.push(orgctl_model::LivePolicy {
        id: "p-1".to_owned(),
        name: "x".to_owned(),
        policy_type: TAG,
        description: String::new(),
        content: TAG_DOC.to_owned(),
        aws_managed: false,
        tags: Tags::new(),
        targets: vec![],
    });
    refuse(&s, "not enabled");

    let mut s = base.clone();
    s.organization.enabled_policy_types.insert(TAG);
    s.policies.push(orgctl_model::LivePolicy {
        id: "p-1".to_owned(),
        name: "x".to_owned(),
        policy_type: TAG,
        description: String::new(),
        content: TAG_DOC.to_owned(),
        aws_managed: false,
        tags: Tags::new(),
        targets: vec!["ou-gone".to_owned()],
    });
    refuse(&s, "ou-gone");

    let mut s = base;
    s.ous.push(ou(MGMT, "A", &root));
    refuse(&s, "used twice");
}

#[tokio::test]
async fn every_call_is_logged_and_writes_are_counted() {
    let api = org();
    let root = api.root_id();
    api.list_roots().await.expect("roots");
    api.create_ou(&root, "A", &no_tags()).await.expect("ou");
    let _ = api.create_ou(&root, "A", &no_tags()).await;
    api.list_ous_for_parent(&root).await.expect("list");
    assert_eq!(
        api.calls(),
        vec![
            ops::LIST_ROOTS,
            ops::CREATE_OU,
            ops::CREATE_OU,
            ops::LIST_OUS_FOR_PARENT
        ]
    );
    assert_eq!(api.write_call_count(), 2, "failed writes count too");
    assert_eq!(api.call_count(ops::CREATE_OU), 2);
    api.clear_calls();
    assert!(api.calls().is_empty());
}

// -- OUs ----------------------------------------------------------------------------------------

#[tokio::test]
async fn duplicate_ou_name_among_siblings_is_refused_on_create() {
    let api = org();
    let root = api.root_id();
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    assert_code(
        api.create_ou(&root, "A", &no_tags()).await,
        codes::DUPLICATE_OU,
    );
    // The same name elsewhere in the tree is fine.
    api.create_ou(&a.id, "A", &no_tags()).await.expect("A/A");
}

#[tokio::test]
async fn duplicate_ou_name_among_siblings_is_refused_on_rename() {
    let api = org();
    let root = api.root_id();
    api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let b = api.create_ou(&root, "B", &no_tags()).await.expect("B");
    assert_code(api.rename_ou(&b.id, "A").await, codes::DUPLICATE_OU);
    api.rename_ou(&b.id, "B")
        .await
        .expect("its own name is fine");
    api.rename_ou(&b.id, "C").await.expect("rename");
    assert_eq!(api.describe_ou(&b.id).await.expect("describe").name, "C");
    // The old name is free again.
    api.create_ou(&root, "B", &no_tags())
        .await
        .expect("B again");
}

#[tokio::test]
async fn ou_depth_is_limited_to_five() {
    let api = org();
    let mut parent = api.root_id();
    for level in 1..=5 {
        parent = api
            .create_ou(&parent, &format!("L{level}"), &no_tags())
            .await
            .expect("within the limit")
            .id;
    }
    let e = assert_code(
        api.create_ou(&parent, "L6", &no_tags()).await,
        codes::CONSTRAINT_VIOLATION,
    );
    assert!(e.message.contains("OU_DEPTH_LIMIT_EXCEEDED"), "{e}");
}

#[tokio::test]
async fn deleting_an_ou_with_child_ous_is_refused() {
    let api = org();
    let root = api.root_id();
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let b = api.create_ou(&a.id, "B", &no_tags()).await.expect("B");
    assert_code(api.delete_ou(&a.id).await, codes::OU_NOT_EMPTY);
    api.delete_ou(&b.id).await.expect("leaf");
    api.delete_ou(&a.id).await.expect("now empty");
    assert!(api.to_live().ous.is_empty());
    assert_code(api.delete_ou(&a.id).await, codes::OU_NOT_FOUND);
}

#[tokio::test]
async fn deleting_an_ou_with_accounts_is_refused() {
    let api = org();
    let root = api.root_id();
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let dev = new_account(&api, "dev", "dev@example.com").await;
    api.move_account(&dev, &root, &a.id).await.expect("move");
    assert_code(api.delete_ou(&a.id).await, codes::OU_NOT_EMPTY);
    // A closed account still counts.
    api.close_account(&dev).await.expect("close");
    assert_code(api.delete_ou(&a.id).await, codes::OU_NOT_EMPTY);
}

#[tokio::test]
async fn deleting_an_ou_detaches_its_policies() {
    let (api, root) = scp_org().await;
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let p = api
        .create_policy("deny", SCP, "", DOC, &no_tags())
        .await
        .expect("policy");
    api.attach_policy(&p.id, &a.id).await.expect("attach");
    api.delete_ou(&a.id).await.expect("delete");
    assert!(
        api.list_targets_for_policy(&p.id)
            .await
            .expect("t")
            .is_empty()
    );
    api.delete_policy(&p.id).await.expect("no longer in use");
}

#[tokio::test]
async fn unknown_parents_are_reported() {
    let api = org();
    assert_code(
        api.create_ou("ou-zzzz-99999999", "A", &no_tags()).await,
        codes::PARENT_NOT_FOUND,
    );
    assert_code(
        api.list_ous_for_parent("ou-zzzz-99999999").await,
        codes::PARENT_NOT_FOUND,
    );
    assert_code(
        api.list_accounts_for_parent("ou-zzzz-99999999").await,
        codes::PARENT_NOT_FOUND,
    );
    // An account is not a parent.
    assert_code(
        api.create_ou(MGMT, "A", &no_tags()).await,
        codes::PARENT_NOT_FOUND,
    );
}

#[tokio::test]
async fn unknown_ous_are_reported() {
    let api = org();
    assert_code(
        api.describe_ou("ou-zzzz-99999999").await,
        codes::OU_NOT_FOUND,
    );
    assert_code(
        api.rename_ou("ou-zzzz-99999999", "X").await,
        codes::OU_NOT_FOUND,
    );
    assert_code(api.delete_ou("ou-zzzz-99999999").await, codes::OU_NOT_FOUND);
    assert_code(
        api.list_parent("ou-zzzz-99999999").await,
        codes::CHILD_NOT_FOUND,
    );
}

#[tokio::test]
async fn invalid_ou_names_are_refused() {
    let api = org();
    let root = api.root_id();
    assert_code(
        api.create_ou(&root, "", &no_tags()).await,
        codes::INVALID_INPUT,
    );
    assert_code(
        api.create_ou(&root, &"x".repeat(129), &no_tags()).await,
        codes::INVALID_INPUT,
    );
    api.create_ou(&root, &"x".repeat(128), &no_tags())
        .await
        .expect("128 characters is fine");
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    assert_code(api.rename_ou(&a.id, "").await, codes::INVALID_INPUT);
}

// -- accounts -----------------------------------------------------------------------------------

#[tokio::test]
async fn created_accounts_go_into_the_root() {
    let api = org();
    let id = new_account(&api, "dev", "dev@example.com").await;
    assert_eq!(id.len(), 12);
    assert!(id.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(api.list_parent(&id).await.expect("parent"), api.root_id());
    let listed = api
        .list_accounts_for_parent(&api.root_id())
        .await
        .expect("list");
    assert!(
        listed
            .iter()
            .any(|a| a.id == id && a.status == AccountStatus::Active)
    );
}

#[tokio::test]
async fn an_email_already_in_the_organization_fails_the_request() {
    let api = org();
    new_account(&api, "dev", "dev@example.com").await;
    let s = api
        .create_account("dev2", "DEV@example.com", &no_tags())
        .await
        .expect("the call itself succeeds");
    assert_eq!(s.state, CreateAccountState::Failed);
    assert_eq!(s.failure_reason.as_deref(), Some("EMAIL_ALREADY_EXISTS"));
    assert_eq!(s.account_id, None);
    let again = api
        .describe_create_account_status(&s.request_id)
        .await
        .expect("describe");
    assert_eq!(again, s);
    assert_eq!(api.to_live().accounts.len(), 2);
}

#[tokio::test]
async fn an_email_of_another_organization_fails_the_request() {
    let api = org().with_foreign_emails(["taken@example.com"]);
    let s = api
        .create_account("x", "Taken@Example.com", &no_tags())
        .await
        .expect("call");
    assert_eq!(s.state, CreateAccountState::Failed);
    assert_eq!(s.failure_reason.as_deref(), Some("EMAIL_ALREADY_EXISTS"));
}

#[tokio::test]
async fn invalid_account_names_and_emails_are_refused() {
    let api = org();
    for (name, email) in [
        ("", "a@example.com"),
        (&"n".repeat(51) as &str, "a@example.com"),
        ("naïve", "a@example.com"),
        ("ok", "no-at-sign.example.com"),
        ("ok", "a@b@example.com"),
        ("ok", "a@nodot"),
        ("ok", "a b@example.com"),
        ("ok", "a@x."),
        ("ok", "a@.x"),
        ("ok", &format!("{}@example.com", "a".repeat(60))),
    ] {
        assert_code(
            api.create_account(name, email, &no_tags()).await,
            codes::INVALID_INPUT,
        );
    }
    assert!(
        api.list_create_account_in_progress()
            .await
            .expect("l")
            .is_empty()
    );
    new_account(&api, &"n".repeat(50), "a@b.co").await;
}

#[tokio::test]
async fn account_creation_can_take_several_polls() {
    let api = org().with_create_account_polls(2);
    let s = api
        .create_account("dev", "dev@example.com", &tags(&[("team", "a")]))
        .await
        .expect("start");
    assert_eq!(s.state, CreateAccountState::InProgress);
    assert!(s.request_id.starts_with("car-"));
    let pending = api.list_create_account_in_progress().await.expect("list");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].account_name, "dev");
    for _ in 0..2 {
        let s = api
            .describe_create_account_status(&s.request_id)
            .await
            .expect("poll");
        assert_eq!(s.state, CreateAccountState::InProgress);
        assert_eq!(api.to_live().accounts.len(), 1, "not there yet");
    }
    let done = api
        .describe_create_account_status(&s.request_id)
        .await
        .expect("poll");
    assert_eq!(done.state, CreateAccountState::Succeeded);
    let id = done.account_id.expect("id");
    assert!(
        api.list_create_account_in_progress()
            .await
            .expect("l")
            .is_empty()
    );
    assert_eq!(
        api.list_tags(&id).await.expect("tags"),
        tags(&[("team", "a")])
    );
    assert_code(
        api.describe_create_account_status("car-nope0000").await,
        codes::CREATE_ACCOUNT_STATUS_NOT_FOUND,
    );
}

#[tokio::test]
async fn move_account_with_the_wrong_source_is_refused() {
    let api = org();
    let root = api.root_id();
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let b = api.create_ou(&root, "B", &no_tags()).await.expect("B");
    let dev = new_account(&api, "dev", "dev@example.com").await;
    assert_code(
        api.move_account(&dev, &a.id, &b.id).await,
        codes::SOURCE_PARENT_NOT_FOUND,
    );
    assert_code(
        api.move_account(&dev, "ou-zzzz-99999999", &b.id).await,
        codes::SOURCE_PARENT_NOT_FOUND,
    );
}

#[tokio::test]
async fn move_account_to_a_missing_destination_is_refused() {
    let api = org();
    let root = api.root_id();
    let dev = new_account(&api, "dev", "dev@example.com").await;
    assert_code(
        api.move_account(&dev, &root, "ou-zzzz-99999999").await,
        codes::DESTINATION_PARENT_NOT_FOUND,
    );
}

#[tokio::test]
async fn move_account_to_where_it_is_is_refused() {
    let api = org();
    let root = api.root_id();
    let dev = new_account(&api, "dev", "dev@example.com").await;
    assert_code(
        api.move_account(&dev, &root, &root).await,
        codes::DUPLICATE_ACCOUNT,
    );
}

#[tokio::test]
async fn unknown_accounts_are_reported() {
    let api = org();
    let root = api.root_id();
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    assert_code(
        api.move_account("999999999999", &root, &a.id).await,
        codes::ACCOUNT_NOT_FOUND,
    );
    assert_code(
        api.close_account("999999999999").await,
        codes::ACCOUNT_NOT_FOUND,
    );
}

#[tokio::test]
async fn moving_an_account_changes_its_parent() {
    let api = org();
    let root = api.root_id();
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let dev = new_account(&api, "dev", "dev@example.com").await;
    api.move_account(&dev, &root, &a.id).await.expect("move");
    assert_eq!(api.list_parent(&dev).await.expect("p"), a.id);
    let in_a = api.list_accounts_for_parent(&a.id).await.expect("l");
    assert_eq!(in_a.len(), 1);
    let in_root = api.list_accounts_for_parent(&root).await.expect("l");
    assert!(in_root.iter().all(|x| x.id != dev));
}

#[tokio::test]
async fn closing_suspends_the_account_and_keeps_it_listed() {
    let api = org();
    let dev = new_account(&api, "dev", "dev@example.com").await;
    api.close_account(&dev).await.expect("close");
    let live = api.to_live();
    let acc = live.accounts.iter().find(|a| a.id == dev).expect("listed");
    assert_eq!(acc.status, AccountStatus::Suspended);
}

#[tokio::test]
async fn closing_a_closed_account_is_refused() {
    let api = org();
    let dev = new_account(&api, "dev", "dev@example.com").await;
    api.close_account(&dev).await.expect("close");
    assert_code(api.close_account(&dev).await, codes::ACCOUNT_ALREADY_CLOSED);
}

#[tokio::test]
async fn closing_the_management_account_is_refused() {
    let api = org();
    let e = assert_code(api.close_account(MGMT).await, codes::CONSTRAINT_VIOLATION);
    assert!(e.message.contains("CANNOT_CLOSE_MANAGEMENT_ACCOUNT"), "{e}");
}

// -- policy types and FullAWSAccess -------------------------------------------------------------

#[tokio::test]
async fn enabling_an_enabled_type_is_refused() {
    let (api, root) = scp_org().await;
    assert_code(
        api.enable_policy_type(&root, SCP).await,
        codes::POLICY_TYPE_ALREADY_ENABLED,
    );
    assert_code(
        api.enable_policy_type("r-nope", TAG).await,
        codes::ROOT_NOT_FOUND,
    );
}

#[tokio::test]
async fn enabling_scps_attaches_full_aws_access_everywhere() {
    let api = org();
    let root = api.root_id();
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let dev = new_account(&api, "dev", "dev@example.com").await;
    api.enable_policy_type(&root, SCP).await.expect("enable");
    let mut expected = vec![root.clone(), a.id, dev, MGMT.to_owned()];
    expected.sort();
    let targets = api
        .list_targets_for_policy(FULL_AWS_ACCESS_ID)
        .await
        .expect("targets");
    assert_eq!(targets, expected);
    let live = api.to_live();
    assert_eq!(live.policies.len(), 1);
    assert!(live.policies[0].aws_managed);
    assert_eq!(live.policies[0].content, "", "not described by the reader");
}

#[tokio::test]
async fn new_ous_and_accounts_get_full_aws_access_while_scps_are_enabled() {
    let (api, root) = scp_org().await;
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let dev = new_account(&api, "dev", "dev@example.com").await;
    let targets = api
        .list_targets_for_policy(FULL_AWS_ACCESS_ID)
        .await
        .expect("targets");
    assert!(targets.contains(&a.id));
    assert!(targets.contains(&dev));
}

#[tokio::test]
async fn policies_of_a_type_that_is_not_enabled_are_refused() {
    let (api, root) = scp_org().await;
    assert_code(
        api.create_policy("team", TAG, "", TAG_DOC, &no_tags())
            .await,
        codes::POLICY_TYPE_NOT_ENABLED,
    );
    api.enable_policy_type(&root, TAG).await.expect("enable");
    let p = api
        .create_policy("team", TAG, "", TAG_DOC, &no_tags())
        .await
        .expect("now it works");
    // A fresh organization: FullAWSAccess exists but SCPs are not enabled.
    let fresh = org();
    assert_code(
        fresh.attach_policy(FULL_AWS_ACCESS_ID, MGMT).await,
        codes::POLICY_TYPE_NOT_ENABLED,
    );
    assert!(p.id.starts_with("p-"));
}

// -- policies -----------------------------------------------------------------------------------

#[tokio::test]
async fn policy_documents_over_the_size_limit_are_refused() {
    let (api, root) = scp_org().await;
    api.enable_policy_type(&root, TAG).await.expect("tag");
    let big = |n: usize| format!(r#"{{"x":"{}"}}"#, "a".repeat(n - 8));
    assert_eq!(big(5_120).len(), 5_120);
    api.create_policy("max", SCP, "", &big(5_120), &no_tags())
        .await
        .expect("exactly at the limit");
    let e = assert_code(
        api.create_policy("over", SCP, "", &big(5_121), &no_tags())
            .await,
        codes::CONSTRAINT_VIOLATION,
    );
    assert!(e.message.contains("POLICY_CONTENT_LIMIT_EXCEEDED"), "{e}");
    api.create_policy("tag", TAG, "", &big(10_000), &no_tags())
        .await
        .expect("tag policies may be larger");
    assert_code(
        api.create_policy("tag2", TAG, "", &big(10_001), &no_tags())
            .await,
        codes::CONSTRAINT_VIOLATION,
    );
    let p = api
        .create_policy("p", SCP, "", DOC, &no_tags())
        .await
        .expect("p");
    let e = assert_code(
        api.update_policy(&p.id, None, Some(&big(5_121))).await,
        codes::CONSTRAINT_VIOLATION,
    );
    assert!(e.message.contains("POLICY_CONTENT_LIMIT_EXCEEDED"), "{e}");
}

#[tokio::test]
async fn documents_that_are_not_json_are_refused() {
    let (api, _) = scp_org().await;
    for doc in ["{not json", "[1,2]", "\"s\""] {
        assert_code(
            api.create_policy("bad", SCP, "", doc, &no_tags()).await,
            codes::MALFORMED_POLICY_DOCUMENT,
        );
    }
    let p = api
        .create_policy("p", SCP, "", DOC, &no_tags())
        .await
        .expect("p");
    assert_code(
        api.update_policy(&p.id, None, Some("{")).await,
        codes::MALFORMED_POLICY_DOCUMENT,
    );
    assert_eq!(
        api.describe_policy(&p.id).await.expect("d"),
        DOC,
        "unchanged"
    );
}

#[tokio::test]
async fn more_policies_of_a_type_than_the_limit_are_refused() {
    let (api, root) = scp_org().await;
    // FullAWSAccess counts: four more make five.
    for i in 0..4 {
        let p = api
            .create_policy(&format!("p{i}"), SCP, "", DOC, &no_tags())
            .await
            .expect("policy");
        api.attach_policy(&p.id, &root)
            .await
            .expect("within the limit");
    }
    let p = api
        .create_policy("p4", SCP, "", DOC, &no_tags())
        .await
        .expect("policy");
    let e = assert_code(
        api.attach_policy(&p.id, &root).await,
        codes::CONSTRAINT_VIOLATION,
    );
    assert!(
        e.message
            .contains("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"),
        "{e}"
    );
    // Another target is not affected.
    api.attach_policy(&p.id, MGMT).await.expect("other target");
}

#[tokio::test]
async fn the_policy_limit_is_configurable() {
    let api = org().with_policy_limit(2);
    let root = api.root_id();
    api.enable_policy_type(&root, SCP).await.expect("enable");
    api.enable_policy_type(&root, TAG).await.expect("enable");
    let a = api
        .create_policy("a", SCP, "", DOC, &no_tags())
        .await
        .expect("a");
    let b = api
        .create_policy("b", SCP, "", DOC, &no_tags())
        .await
        .expect("b");
    api.attach_policy(&a.id, &root).await.expect("second SCP");
    assert_code(
        api.attach_policy(&b.id, &root).await,
        codes::CONSTRAINT_VIOLATION,
    );
    // The limit is per type.
    let t = api
        .create_policy("t", TAG, "", TAG_DOC, &no_tags())
        .await
        .expect("t");
    api.attach_policy(&t.id, &root)
        .await
        .expect("first tag policy");
}

#[tokio::test]
async fn attaching_an_attached_policy_is_refused() {
    let (api, root) = scp_org().await;
    assert_code(
        api.attach_policy(FULL_AWS_ACCESS_ID, &root).await,
        codes::DUPLICATE_POLICY_ATTACHMENT,
    );
}

#[tokio::test]
async fn detaching_a_policy_that_is_not_attached_is_refused() {
    let (api, root) = scp_org().await;
    let p = api
        .create_policy("p", SCP, "", DOC, &no_tags())
        .await
        .expect("p");
    assert_code(
        api.detach_policy(&p.id, &root).await,
        codes::POLICY_NOT_ATTACHED,
    );
}

#[tokio::test]
async fn detaching_the_last_scp_is_refused() {
    let (api, root) = scp_org().await;
    let a = api.create_ou(&root, "A", &no_tags()).await.expect("A");
    let e = assert_code(
        api.detach_policy(FULL_AWS_ACCESS_ID, &a.id).await,
        codes::CONSTRAINT_VIOLATION,
    );
    assert!(
        e.message
            .contains("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"),
        "{e}"
    );
    let p = api
        .create_policy("p", SCP, "", DOC, &no_tags())
        .await
        .expect("p");
    api.attach_policy(&p.id, &a.id).await.expect("attach");
    api.detach_policy(FULL_AWS_ACCESS_ID, &a.id)
        .await
        .expect("another SCP remains");
    assert_code(
        api.detach_policy(&p.id, &a.id).await,
        codes::CONSTRAINT_VIOLATION,
    );
}

#[tokio::test]
async fn deleting_an_attached_policy_is_refused() {
    let (api, root) = scp_org().await;
    let p = api
        .create_policy("p", SCP, "", DOC, &no_tags())
        .await
        .expect("p");
    api.attach_policy(&p.id, &root).await.expect("attach");
    assert_code(api.delete_policy(&p.id).await, codes::POLICY_IN_USE);
    api.detach_policy(&p.id, &root).await.expect("detach");
    api.delete_policy(&p.id).await.expect("delete");
    assert_code(api.describe_policy(&p.id).await, codes::POLICY_NOT_FOUND);
    // The name is free again.
    api.create_policy("p", SCP, "", DOC, &no_tags())
        .await
        .expect("again");
}

#[tokio::test]
async fn duplicate_policy_names_are_refused() {
    let (api, root) = scp_org().await;
    api.enable_policy_type(&root, TAG).await.expect("tag");
    api.create_policy("p", SCP, "", DOC, &no_tags())
        .await
        .expect("p");
    assert_code(
        api.create_policy("p", SCP, "", DOC, &no_tags()).await,
        codes::DUPLICATE_POLICY,
    );
    assert_code(
        api.create_policy("p", TAG, "", TAG_DOC, &no_tags()).await,
        codes::DUPLICATE_POLICY,
    );
    assert_code(
        api.create_policy(FULL_AWS_ACCESS, SCP, "", DOC, &no_tags())
            .await,
        codes::DUPLICATE_POLICY,
    );
}

#[tokio::test]
async fn aws_managed_policies_cannot_be_changed_or_deleted() {
    let (api, _) = scp_org().await;
    let e = assert_code(
        api.update_policy(FULL_AWS_ACCESS_ID, Some("mine"), None)
            .await,
        codes::INVALID_INPUT,
    );
    assert!(e.message.contains("IMMUTABLE_POLICY"), "{e}");
    assert_code(
        api.update_policy(FULL_AWS_ACCESS_ID, None, Some(DOC)).await,
        codes::INVALID_INPUT,
    );
    assert_code(
        api.delete_policy(FULL_AWS_ACCESS_ID).await,
        codes::INVALID_INPUT,
    );
    assert_code(
        api.list_tags(FULL_AWS_ACCESS_ID).await,
        codes::INVALID_INPUT,
    );
    assert_code(
        api.tag_resource(FULL_AWS_ACCESS_ID, &tags(&[("a", "b")]))
            .await,
        codes::INVALID_INPUT,
    );
    let doc = api.describe_policy(FULL_AWS_ACCESS_ID).await.expect("doc");
    assert!(doc.contains("\"Allow\""));
}

#[tokio::test]
async fn unknown_policies_and_targets_are_reported() {
    let (api, root) = scp_org().await;
    let p = api
        .create_policy("p", SCP, "", DOC, &no_tags())
        .await
        .expect("p");
    assert_code(
        api.attach_policy("p-nope0000", &root).await,
        codes::POLICY_NOT_FOUND,
    );
    assert_code(
        api.detach_policy("p-nope0000", &root).await,
        codes::POLICY_NOT_FOUND,
    );
    assert_code(
        api.delete_policy("p-nope0000").await,
        codes::POLICY_NOT_FOUND,
    );
    assert_code(
        api.describe_policy("p-nope0000").await,
        codes::POLICY_NOT_FOUND,
    );
    assert_code(
        api.update_policy("p-nope0000", Some("d"), None).await,
        codes::POLICY_NOT_FOUND,
    );
    assert_code(
        api.list_targets_for_policy("p-nope0000").await,
        codes::POLICY_NOT_FOUND,
    );
    assert_code(
        api.attach_policy(&p.id, "999999999999").await,
        codes::TARGET_NOT_FOUND,
    );
    assert_code(
        api.detach_policy(&p.id, "ou-zzzz-99999999").await,
        codes::TARGET_NOT_FOUND,
    );
    assert_code(api.list_tags("999999999999").await, codes::TARGET_NOT_FOUND);
    assert_code(
        api.tag_resource("999999999999", &tags(&[("a", "b")])).await,
        codes::TARGET_NOT_FOUND,
    );
    assert_code(
        api.untag_resource("999999999999", &["a".to_owned()]).await,
        codes::TARGET_NOT_FOUND,
    );
}

#[tokio::test]
async fn policies_can_be_updated() {
    let (api, _) = scp_org().await;
    let p = api
        .create_policy("p", SCP, "old", DOC, &no_tags())
        .await
        .expect("p");
    let doc2 = r#"{"Version":"2012-10-17","Statement":[]}"#;
    api.update_policy(&p.id, Some("new"), Some(doc2))
        .await
        .expect("update");
    assert_eq!(api.describe_policy(&p.id).await.expect("d"), doc2);
    let listed = api.list_policies(SCP).await.expect("l");
    assert!(
        listed
            .iter()
            .any(|x| x.id == p.id && x.description == "new")
    );
    assert_code(
        api.update_policy(&p.id, Some(&"d".repeat(513)), None).await,
        codes::INVALID_INPUT,
    );
}

// -- tags ---------------------------------------------------------------------------------------

#[tokio::test]
async fn more_than_fifty_tags_are_refused() {
    let api = org();
    let root = api.root_id();
    let many = |n: usize, prefix: &str| -> Tags {
        (0..n)
            .map(|i| (format!("{prefix}{i}"), "v".to_owned()))
            .collect()
    };
    let e = assert_code(
        api.create_ou(&root, "A", &many(51, "k")).await,
        codes::CONSTRAINT_VIOLATION,
    );
    assert!(e.message.contains("MAX_TAG_LIMIT_EXCEEDED"), "{e}");
    let a = api
        .create_ou(&root, "A", &many(50, "k"))
        .await
        .expect("50 is fine");
    // Overwriting existing keys does not add tags; new keys do.
    api.tag_resource(&a.id, &many(50, "k"))
        .await
        .expect("overwrite");
    assert_code(
        api.tag_resource(&a.id, &many(1, "new")).await,
        codes::CONSTRAINT_VIOLATION,
    );
    assert_eq!(api.list_tags(&a.id).await.expect("t").len(), 50);
}

#[tokio::test]
async fn tag_keys_and_values_are_checked() {
    let api = org();
    let root = api.root_id();
    let bad: Vec<Tags> = vec![
        tags(&[("", "v")]),
        tags(&[(&"k".repeat(129), "v")]),
        tags(&[("aws:owner", "v")]),
        tags(&[("AWS:owner", "v")]),
        tags(&[("k", &"v".repeat(257))]),
        tags(&[("k!", "v")]),
        tags(&[("k", "v#")]),
    ];
    for t in &bad {
        assert_code(api.tag_resource(&root, t).await, codes::INVALID_INPUT);
        assert_code(
            api.create_account("x", "x@example.com", t).await,
            codes::INVALID_INPUT,
        );
    }
    assert_code(
        api.untag_resource(&root, &["aws:x".to_owned()]).await,
        codes::INVALID_INPUT,
    );
    let good = tags(&[
        (&"k".repeat(128), &"v".repeat(256)),
        ("team name/x=y+z-@:.", ""),
        ("équipe", "données"),
    ]);
    api.tag_resource(&root, &good).await.expect("valid tags");
    assert_eq!(api.list_tags(&root).await.expect("t"), good);
}

#[tokio::test]
async fn tags_are_set_and_removed() {
    let (api, root) = scp_org().await;
    let dev = new_account(&api, "dev", "dev@example.com").await;
    let p = api
        .create_policy("p", SCP, "", DOC, &tags(&[("a", "1")]))
        .await
        .expect("p");
    for id in [root.as_str(), dev.as_str(), p.id.as_str()] {
        api.tag_resource(id, &tags(&[("a", "2"), ("b", "3")]))
            .await
            .expect("tag");
        api.untag_resource(id, &["b".to_owned(), "missing".to_owned()])
            .await
            .expect("untag");
        assert_eq!(api.list_tags(id).await.expect("t"), tags(&[("a", "2")]));
    }
}

//! The IAM seam over real HTTP: `SdkIam` assumes `OrganizationAccountAccessRole` in member
//! accounts the emulator created and manages roles there; the same sequence gives the same
//! transcript on the strict in-memory IAM (`MemoryIam`). The executor's role operations and the
//! live reader's IAM read (with its read-role fallback and unreadable accounts) run here over
//! real HTTP too.

use std::time::Duration;

use orgctl_aws::SdkOrg;
use orgctl_backend::iam::{IamApi, NewRole, codes, operations as iam_ops};
use orgctl_backend::{AWS_MANAGED_POLICIES, ApiResult, ErrorKind, MemoryIam, OrgApi, RetryPolicy};
use orgctl_model::Tags;
use serde_json::Value;

use super::moto::moto;
use super::proxy::{Fault, Proxy};
use super::support::TestOrg;

const MEMBER_ROLE: &str = "OrganizationAccountAccessRole";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const BOUNDARY: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
const INLINE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

/// A member account of the test's organization (moto creates it synchronously).
async fn member(t: &TestOrg, org: &SdkOrg, base: &str) -> String {
    let name = t.name(base);
    org.create_account(&name, &format!("{name}@example.com"), &Tags::new())
        .await
        .expect("create account")
        .account_id
        .expect("account id")
}

fn trust_policy(partner: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{partner}:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"partner-ext-4711"}}}}}}]}}"#
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("a JSON document")
}

fn outcome<T>(r: &ApiResult<T>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.code.clone(),
    }
}

/// The grant-role sequence, written once over the seam. Returns a transcript of what each step
/// saw, so two backends can be compared line by line.
async fn grant_sequence<A: IamApi>(api: &A, account: &str, other: &str) -> Vec<String> {
    let mut log = Vec::new();
    let role = NewRole {
        path: "/orgctl/".into(),
        name: "partner-staging".into(),
        trust_policy: trust_policy("999999999999"),
        description: "partner A, owner platform, ticket OPS-1".into(),
        max_session_secs: 7200,
        tags: [
            ("managed-by".to_owned(), "orgctl".to_owned()),
            ("orgctl-grant".to_owned(), "partner-staging".to_owned()),
        ]
        .into(),
    };
    log.push(format!(
        "create: {}",
        outcome(&api.create_role(account, &role).await)
    ));
    log.push(format!(
        "create again: {}",
        outcome(&api.create_role(account, &role).await)
    ));
    log.push(format!(
        "attach admin: {}",
        outcome(&api.attach_policy(account, &role.name, ADMIN).await)
    ));
    log.push(format!(
        "attach unknown: {}",
        outcome(
            &api.attach_policy(account, &role.name, "arn:aws:iam::aws:policy/NoSuchThing")
                .await
        )
    ));
    log.push(format!(
        "put inline: {}",
        outcome(
            &api.put_inline_policy(account, &role.name, "read-s3", INLINE)
                .await
        )
    ));
    log.push(format!(
        "boundary: {}",
        outcome(
            &api.put_permissions_boundary(account, &role.name, BOUNDARY)
                .await
        )
    ));
    log.push(format!(
        "put malformed inline: {}",
        outcome(
            &api.put_inline_policy(account, &role.name, "broken", "{not json")
                .await
        )
    ));

    let listed = api
        .list_roles(account, "/orgctl/")
        .await
        .expect("list roles");
    log.push(format!(
        "listed: {:?}",
        listed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>()
    ));
    let got = api.get_role(account, &role.name).await.expect("get role");
    let s = &got.summary;
    log.push(format!(
        "role: {} {} session={} description={:?}",
        s.path, s.name, s.max_session_secs, s.description
    ));
    log.push(format!(
        "arn ok: {}",
        s.arn == format!("arn:aws:iam::{account}:role/orgctl/partner-staging")
    ));
    log.push(format!(
        "trust same: {}; external id: {}",
        json(&s.trust_policy) == json(&role.trust_policy),
        json(&s.trust_policy)["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"]
    ));
    log.push(format!("tags: {:?}", got.tags));
    log.push(format!("boundary: {:?}", got.permissions_boundary));
    let attached = api
        .list_attached_policies(account, &role.name)
        .await
        .expect("attached");
    log.push(format!("attached: {attached:?}"));
    let inline = api
        .list_inline_policies(account, &role.name)
        .await
        .expect("inline");
    log.push(format!("inline: {inline:?}"));
    let doc = api
        .get_inline_policy(account, &role.name, "read-s3")
        .await
        .expect("inline document");
    log.push(format!("inline same: {}", json(&doc) == json(INLINE)));

    // Another account is another IAM.
    log.push(format!(
        "other account roles: {}",
        api.list_roles(other, "/orgctl/")
            .await
            .expect("other")
            .len()
    ));
    log.push(format!(
        "other account get: {}",
        outcome(&api.get_role(other, &role.name).await)
    ));

    // A hand-over: the trust policy changes in place.
    log.push(format!(
        "new trust: {}",
        outcome(
            &api.update_trust_policy(account, &role.name, &trust_policy("888888888888"))
                .await
        )
    ));
    let after = api.get_role(account, &role.name).await.expect("get again");
    log.push(format!(
        "trust now: {}",
        json(&after.summary.trust_policy)["Statement"][0]["Principal"]["AWS"]
    ));

    // DeleteConflict while policies remain, then a clean delete.
    log.push(format!(
        "delete with policies: {}",
        outcome(&api.delete_role(account, &role.name).await)
    ));
    log.push(format!(
        "detach: {}",
        outcome(&api.detach_policy(account, &role.name, ADMIN).await)
    ));
    log.push(format!(
        "delete with inline: {}",
        outcome(&api.delete_role(account, &role.name).await)
    ));
    log.push(format!(
        "delete inline: {}",
        outcome(
            &api.delete_inline_policy(account, &role.name, "read-s3")
                .await
        )
    ));
    log.push(format!(
        "delete: {}",
        outcome(&api.delete_role(account, &role.name).await)
    ));
    log.push(format!(
        "get deleted: {}",
        outcome(&api.get_role(account, &role.name).await)
    ));
    log
}

fn expected(admin_attached: &str) -> Vec<String> {
    [
        "create: ok",
        "create again: EntityAlreadyExists",
        "attach admin: ok",
        "attach unknown: NoSuchEntity",
        "put inline: ok",
        "boundary: ok",
        "put malformed inline: MalformedPolicyDocument",
        r#"listed: ["partner-staging"]"#,
        r#"role: /orgctl/ partner-staging session=7200 description="partner A, owner platform, ticket OPS-1""#,
        "arn ok: true",
        r#"trust same: true; external id: "partner-ext-4711""#,
        r#"tags: {"managed-by": "orgctl", "orgctl-grant": "partner-staging"}"#,
        r#"boundary: Some("arn:aws:iam::aws:policy/PowerUserAccess")"#,
        admin_attached,
        r#"inline: ["read-s3"]"#,
        "inline same: true",
        "other account roles: 0",
        "other account get: NoSuchEntity",
        "new trust: ok",
        r#"trust now: "arn:aws:iam::888888888888:root""#,
        "delete with policies: DeleteConflict",
        "detach: ok",
        "delete with inline: DeleteConflict",
        "delete inline: ok",
        "delete: ok",
        "get deleted: NoSuchEntity",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

#[tokio::test]
async fn grant_role_round_trips_in_a_member_account_and_matches_the_memory_iam() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let staging = member(&t, &org, "staging").await;
    let prod = member(&t, &org, "prod").await;
    // One item per page: every listing paginates.
    let iam = org.iam(MEMBER_ROLE).with_page_size(1);

    let over_http = grant_sequence(&iam, &staging, &prod).await;
    let attached = r#"attached: [AttachedPolicy { name: "AdministratorAccess", arn: "arn:aws:iam::aws:policy/AdministratorAccess" }]"#;
    assert_eq!(over_http, expected(attached));

    let memory = MemoryIam::new().with_accounts([staging.clone(), prod.clone()]);
    let in_memory = grant_sequence(&memory, &staging, &prod).await;
    assert_eq!(
        in_memory, over_http,
        "the in-memory IAM and the SDK over moto agree"
    );

    // Each account was assumed once, however many calls followed.
    assert_eq!(iam.assumed_accounts(), 2);
    let stats = iam.retrier().stats();
    assert_eq!(stats.get(iam_ops::ASSUME_ROLE).calls, 2, "{stats}");
    assert_eq!(stats.get(iam_ops::GET_ROLE).calls, 4, "{stats}");
    // The IAM requests were recorded, the writes counted as writes.
    assert!(iam.recorder().count(iam_ops::CREATE_ROLE) >= 2);
    assert!(
        iam.recorder()
            .write_operations()
            .iter()
            .any(|o| o == iam_ops::DELETE_ROLE)
    );
}

#[tokio::test]
async fn every_builtin_managed_policy_attaches_in_the_emulator() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let account = member(&t, &org, "policies").await;
    let iam = org.iam(MEMBER_ROLE);
    let role = NewRole {
        path: "/orgctl/".into(),
        name: "all-managed".into(),
        trust_policy: trust_policy("999999999999"),
        description: String::new(),
        max_session_secs: 3600,
        tags: Tags::new(),
    };
    iam.create_role(&account, &role).await.expect("create");
    for arn in AWS_MANAGED_POLICIES {
        iam.attach_policy(&account, &role.name, arn)
            .await
            .unwrap_or_else(|e| panic!("the launcher must load {arn}: {e}"));
    }
    let attached = iam
        .list_attached_policies(&account, &role.name)
        .await
        .expect("list");
    let mut arns: Vec<_> = attached.iter().map(|p| p.arn.as_str()).collect();
    arns.sort();
    let mut want = AWS_MANAGED_POLICIES.to_vec();
    want.sort();
    assert_eq!(arns, want);
    let e = iam
        .attach_policy(
            &account,
            &role.name,
            "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        )
        .await
        .expect_err("only the small list is loaded");
    assert_eq!(e.code, codes::NO_SUCH_ENTITY);
}

#[tokio::test]
async fn concurrent_calls_assume_an_account_once() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, None).await;
    let account = member(&t, &org, "once").await;
    let iam = org.iam(MEMBER_ROLE);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (iam, account) = (iam.clone(), account.clone());
        calls.spawn(async move { iam.list_roles(&account, "/").await });
    }
    while let Some(listed) = calls.join_next().await {
        // moto pre-creates the member role itself.
        assert!(
            listed
                .expect("task")
                .expect("list roles")
                .iter()
                .any(|r| r.name == MEMBER_ROLE)
        );
    }
    assert_eq!(proxy.requests("AssumeRole"), 1);
    assert_eq!(proxy.requests("ListRoles"), 8);
    assert_eq!(iam.retrier().stats().get(iam_ops::ASSUME_ROLE).calls, 1);
}

#[tokio::test]
async fn a_refused_assume_role_is_an_error_naming_the_role_and_the_next_call_assumes_again() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, None).await;
    let account = member(&t, &org, "refused").await;
    let iam = org.iam(MEMBER_ROLE);
    proxy.fail(
        "AssumeRole",
        Fault::QueryError {
            status: 403,
            code: "AccessDenied",
        },
        1,
    );
    let err = iam
        .list_roles(&account, "/orgctl/")
        .await
        .expect_err("AssumeRole is refused");
    assert_eq!(
        (err.operation, err.code.as_str(), err.kind),
        (
            iam_ops::ASSUME_ROLE,
            codes::ACCESS_DENIED,
            ErrorKind::Service
        ),
        "{err:?}"
    );
    assert!(
        err.message
            .contains(&format!("arn:aws:iam::{account}:role/{MEMBER_ROLE}")),
        "{err}"
    );
    assert_eq!(iam.assumed_accounts(), 0);
    assert_eq!(
        proxy.requests("ListRoles"),
        0,
        "no IAM request without credentials"
    );
    iam.list_roles(&account, "/orgctl/")
        .await
        .expect("the next call assumes again");
    assert_eq!(iam.assumed_accounts(), 1);
    assert_eq!(proxy.requests("AssumeRole"), 2);
}

#[tokio::test]
async fn iam_errors_carry_their_retry_classification_and_retries_converge() {
    let t = TestOrg::new().await;
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let org = t.sdk_via(&proxy.url, None).await;
    let account = member(&t, &org, "faults").await;
    let iam = org.iam(MEMBER_ROLE);
    for (status, code, kind) in [
        (400, codes::THROTTLING, ErrorKind::Throttling),
        (409, codes::CONCURRENT_MODIFICATION, ErrorKind::Transient),
        (500, codes::SERVICE_FAILURE, ErrorKind::Transient),
        (409, codes::DELETE_CONFLICT, ErrorKind::Service),
    ] {
        proxy.fail("ListRoles", Fault::QueryError { status, code }, 1);
        let err = iam.list_roles(&account, "/orgctl/").await.expect_err(code);
        assert_eq!(
            (err.operation, err.code.as_str(), err.kind),
            (iam_ops::LIST_ROLES, code, kind),
            "{err:?}"
        );
    }

    let quick = RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    let iam = t
        .sdk_via(&proxy.url, None)
        .await
        .with_retry(quick)
        .iam(MEMBER_ROLE);
    proxy.fail(
        "ListRoles",
        Fault::QueryError {
            status: 400,
            code: codes::THROTTLING,
        },
        2,
    );
    iam.list_roles(&account, "/orgctl/")
        .await
        .expect("retried past two throttles");
    assert_eq!(iam.retrier().stats().get(iam_ops::LIST_ROLES).retries, 2);
}

#[tokio::test]
async fn listings_follow_every_page() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let account = member(&t, &org, "pages").await;
    let iam = org.iam(MEMBER_ROLE);
    for name in ["a", "b", "c"] {
        let role = NewRole {
            path: "/orgctl/".into(),
            name: name.into(),
            trust_policy: trust_policy("999999999999"),
            description: String::new(),
            max_session_secs: 3600,
            tags: Tags::new(),
        };
        iam.create_role(&account, &role).await.expect("create");
        iam.put_inline_policy(&account, "a", &format!("p-{name}"), INLINE)
            .await
            .expect("put");
    }
    for name in ["AdministratorAccess", "ReadOnlyAccess", "SecurityAudit"] {
        iam.attach_policy(&account, "a", &format!("arn:aws:iam::aws:policy/{name}"))
            .await
            .expect("attach");
    }
    let small = iam.clone().with_page_size(1);
    let roles = small.list_roles(&account, "/orgctl/").await.expect("roles");
    assert_eq!(
        roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert_eq!(
        small
            .list_inline_policies(&account, "a")
            .await
            .expect("inline"),
        ["p-a", "p-b", "p-c"]
    );
    assert_eq!(
        small
            .list_attached_policies(&account, "a")
            .await
            .expect("attached")
            .len(),
        3
    );
    let pages = |op| iam.recorder().count(op);
    // moto answers ListRolePolicies in one page whatever MaxItems says: only the other two
    // listings show pagination here.
    assert!(pages(iam_ops::LIST_ROLES) >= 3, "one role per page");
    assert!(pages(iam_ops::LIST_ATTACHED_ROLE_POLICIES) >= 3);
    // IAM's maximum page: one request each.
    let before = pages(iam_ops::LIST_ROLES);
    assert_eq!(
        iam.list_roles(&account, "/orgctl/")
            .await
            .expect("roles")
            .len(),
        3
    );
    assert_eq!(pages(iam_ops::LIST_ROLES), before + 1);
}

/// Role operations carried out by the executor over real HTTP: the role appears as the
/// operations describe it (read back by the live reader), a rerun of its creation writes
/// nothing, and the deletions of what is gone are `AlreadyDone`.
#[tokio::test]
async fn the_executor_creates_and_deletes_a_grant_role_and_the_reader_sees_it() {
    use orgctl_backend::{
        IdMap, Outcome, PollPolicy, ReadOptions, execute_iam, read_iam, read_live,
    };
    use orgctl_model::{Op, Ref, RoleDefinition, canonical_json_str};

    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let account = member(&t, &org, "exec").await;
    let other = member(&t, &org, "exec-other").await;
    let iam = org.iam(orgctl_backend::IamRoles::write(MEMBER_ROLE));
    let at = || Ref::Id(account.clone());
    let name = "partner-exec";
    let trust = canonical_json_str(&trust_policy("999999999999")).expect("json");
    let tags: Tags = [
        ("managed-by".to_owned(), "orgctl".to_owned()),
        ("orgctl-grant".to_owned(), "partner".to_owned()),
    ]
    .into();
    let create = vec![
        Op::CreateRole {
            account: at(),
            role: RoleDefinition {
                name: name.into(),
                path: "/orgctl/".into(),
                trust_policy: trust.clone(),
                description: "partner A, owner platform".into(),
                max_session_secs: 7200,
                tags: tags.clone(),
            },
        },
        Op::PutRolePermissionsBoundary {
            account: at(),
            role_name: name.into(),
            policy_arn: BOUNDARY.into(),
        },
        Op::PutRolePolicy {
            account: at(),
            role_name: name.into(),
            policy_name: "read-s3".into(),
            document: canonical_json_str(INLINE).expect("json"),
        },
        Op::AttachRolePolicy {
            account: at(),
            role_name: name.into(),
            policy_arn: ADMIN.into(),
        },
    ];
    let poll = PollPolicy::default();
    let mut ids = IdMap::new();
    for op in &create {
        assert_eq!(
            execute_iam(&iam, op, &mut ids, &poll).await,
            Ok(Outcome::Done),
            "{op:?}"
        );
    }
    let mut live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    read_iam(&iam, &mut live, &ReadOptions::default(), &|_| {})
        .await
        .expect("read IAM");
    let roles: Vec<_> = live
        .access_roles
        .iter()
        .filter(|r| r.account_id == account || r.account_id == other)
        .collect();
    assert_eq!(roles.len(), 1, "only in the target account: {roles:?}");
    let role = roles[0];
    assert_eq!(role.account_id, account);
    assert_eq!(role.trust_policy, trust);
    assert_eq!(role.max_session_secs, 7200);
    assert_eq!(role.tags, tags);
    assert_eq!(role.managed_policies, [ADMIN.to_owned()].into());
    assert_eq!(role.permissions_boundary.as_deref(), Some(BOUNDARY));
    assert_eq!(
        role.inline_policies["read-s3"],
        canonical_json_str(INLINE).expect("json")
    );
    assert!(
        live.iam_accounts
            .iter()
            .all(|a| a.read == orgctl_model::IamRead::MemberRole)
    );

    // Creating it again takes the role over: the refused CreateRole, then reads only.
    let before = iam.recorder().attempts().len();
    assert_eq!(
        execute_iam(&iam, &create[0], &mut IdMap::new(), &poll).await,
        Ok(Outcome::AlreadyDone)
    );
    let writes: Vec<(String, bool)> = iam.recorder().attempts()[before..]
        .iter()
        .filter(|a| iam_ops::is_write(&a.operation))
        .map(|a| (a.operation.clone(), a.succeeded()))
        .collect();
    assert_eq!(
        writes,
        [("CreateRole".to_owned(), false)],
        "nothing was changed"
    );

    let delete = vec![
        Op::DetachRolePolicy {
            account: at(),
            role_name: name.into(),
            policy_arn: ADMIN.into(),
        },
        Op::DeleteRolePolicy {
            account: at(),
            role_name: name.into(),
            policy_name: "read-s3".into(),
        },
        Op::DeleteRole {
            account: at(),
            role_name: name.into(),
        },
    ];
    for op in &delete {
        assert_eq!(
            execute_iam(&iam, op, &mut ids, &poll).await,
            Ok(Outcome::Done),
            "{op:?}"
        );
    }
    for op in &delete {
        assert_eq!(
            execute_iam(&iam, op, &mut ids, &poll).await,
            Ok(Outcome::AlreadyDone),
            "{op:?}"
        );
    }
    assert!(
        iam.list_roles(&account, "/orgctl/")
            .await
            .expect("list")
            .is_empty()
    );
}

/// Reading modes over real HTTP, AssumeRole refused by the fault proxy: the read role refused
/// falls back to the member role, both refused make the account unreadable (a state, not a
/// failed read), and a read role that can be assumed is used.
#[tokio::test]
async fn reads_fall_back_to_the_member_role_and_report_unreadable_accounts() {
    use orgctl_backend::{IamRoles, ReadOptions, read_iam, read_live};
    use orgctl_model::IamRead;

    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let mut accounts = Vec::new();
    for base in ["read-a", "read-b", "read-c"] {
        accounts.push(member(&t, &org, base).await);
    }
    let proxy = Proxy::start(moto().addr)
        .await
        .expect("start the fault proxy");
    let via = t.sdk_via(&proxy.url, None).await;
    let iam = via.iam(IamRoles::read(
        MEMBER_ROLE,
        Some("arn:aws:iam::000000000000:role/orgctl-plan"),
    ));
    let mut live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    live.accounts
        .retain(|a| accounts.contains(&a.id) || a.id == live.organization.management_account_id);
    accounts.sort();
    // One account at a time, in id order: the first loses both roles, the second its read role.
    let denied = Fault::QueryError {
        status: 403,
        code: codes::ACCESS_DENIED,
    };
    proxy.fail("AssumeRole", denied, 3);
    let one = ReadOptions {
        concurrency: 1,
        ..ReadOptions::default()
    };
    read_iam(&iam, &mut live, &one, &|_| {})
        .await
        .expect("read IAM");
    let reads: Vec<&IamRead> = live.iam_accounts.iter().map(|a| &a.read).collect();
    assert_eq!(reads.len(), 3);
    match reads[0] {
        IamRead::Unreadable { reason } => {
            assert!(
                reason.contains("orgctl/orgctl-read") && reason.contains(MEMBER_ROLE),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    match reads[1] {
        IamRead::Fallback { reason } => assert!(reason.contains("orgctl/orgctl-read"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(reads[2], &IamRead::ReadRole);
    assert_eq!(proxy.requests("AssumeRole"), 5, "1 + 1 per role tried");
}

//! IAM in member accounts: the in-memory IAM linked to the in-memory organization (who can be
//! reached, through which role), the IAM reader ([`read_iam`]) with its reading modes, and
//! snapshots carrying IAM.

use orgctl_model::{
    GRANT_TAG_KEY, IamRead, LiveAccessRole, MANAGED_BY_KEY, READ_ROLE_NAME, ROLE_PATH, Tags,
};

use super::*;
use crate::api::OrgApi;
use crate::iam::{IamRoles, NewRole, codes, operations as iam_ops};
use crate::memory::{MemoryIam, MemoryOrg};

const MGMT: &str = "111111111111";
const PLAN_ROLE: &str = "arn:aws:iam::111111111111:role/orgctl-plan";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#;
const DOC: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn orgctl_tags(grant: &str) -> Tags {
    [
        (MANAGED_BY_KEY.to_owned(), "orgctl".to_owned()),
        (GRANT_TAG_KEY.to_owned(), grant.to_owned()),
    ]
    .into()
}

fn role(name: &str, path: &str, tags: Tags) -> NewRole {
    NewRole {
        path: path.into(),
        name: name.into(),
        trust_policy: TRUST.into(),
        description: "partner access".into(),
        max_session_secs: 7200,
        tags,
    }
}

/// The management account and three member accounts (ids 200000000001…3).
async fn org() -> (MemoryOrg, Vec<String>) {
    let org = MemoryOrg::new(MGMT, "mgmt@example.com");
    let mut ids = Vec::new();
    for name in ["staging", "production", "sandbox"] {
        let s = org
            .create_account(name, &format!("{name}@example.com"), &Tags::new())
            .await
            .expect("create account");
        ids.push(s.account_id.expect("created at once"));
    }
    (org, ids)
}

fn read_role() -> NewRole {
    NewRole {
        path: ROLE_PATH.into(),
        name: READ_ROLE_NAME.into(),
        trust_policy: TRUST.into(),
        description: "orgctl read role".into(),
        max_session_secs: 3600,
        tags: [(MANAGED_BY_KEY.to_owned(), "orgctl".to_owned())].into(),
    }
}

#[tokio::test]
async fn linked_iam_reaches_active_member_accounts_through_the_member_role_only() {
    let (org, ids) = org().await;
    let iam = org.iam();
    assert_eq!(iam.connect(&ids[0]).await, Ok(IamRead::MemberRole));
    // The management account, an unknown account and a closed one refuse AssumeRole.
    for account in [MGMT, "999999999999"] {
        let e = iam.connect(account).await.expect_err(account);
        assert_eq!(
            (e.operation, e.code.as_str()),
            (iam_ops::ASSUME_ROLE, codes::ACCESS_DENIED)
        );
    }
    org.close_account(&ids[2]).await.expect("close");
    let e = iam.connect(&ids[2]).await.expect_err("suspended");
    assert!(e.message.contains("suspended"), "{e}");
    let e = iam
        .list_roles(&ids[2], ROLE_PATH)
        .await
        .expect_err("suspended");
    assert_eq!(e.operation, iam_ops::ASSUME_ROLE);
    // A removed member role, then restored.
    iam.remove_member_role(&ids[1]);
    let e = iam.connect(&ids[1]).await.expect_err("no member role");
    assert!(e.message.contains("does not exist"), "{e}");
    iam.restore_member_role(&ids[1]);
    assert_eq!(iam.connect(&ids[1]).await, Ok(IamRead::MemberRole));
    // One AssumeRole logged per role tried.
    assert_eq!(iam.call_count(iam_ops::ASSUME_ROLE), 6);
}

#[tokio::test]
async fn an_account_still_being_created_cannot_be_reached_until_it_exists() {
    let org = MemoryOrg::new(MGMT, "mgmt@example.com").with_create_account_polls(1);
    let s = org
        .create_account("new", "new@example.com", &Tags::new())
        .await
        .expect("create");
    let next = format!("{}", crate::memory::DEFAULT_ACCOUNT_ID_SEED);
    assert!(org.iam().connect(&next).await.is_err());
    let id = loop {
        let status = org
            .describe_create_account_status(&s.request_id)
            .await
            .expect("poll");
        if let Some(id) = status.account_id {
            break id;
        }
    };
    assert_eq!(id, next);
    assert_eq!(org.iam().connect(&id).await, Ok(IamRead::MemberRole));
}

#[tokio::test]
async fn reads_use_the_read_role_where_it_exists_and_fall_back_to_the_member_role() {
    let (org, ids) = org().await;
    let write = org.iam();
    write
        .create_role(&ids[0], &read_role())
        .await
        .expect("read role");
    let read = org.iam().with_roles(IamRoles::read(
        "OrganizationAccountAccessRole",
        Some(PLAN_ROLE),
    ));
    assert_eq!(read.connect(&ids[0]).await, Ok(IamRead::ReadRole));
    match read.connect(&ids[1]).await {
        Ok(IamRead::Fallback { reason }) => {
            assert!(reason.contains("role/orgctl/orgctl-read"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Without a plan role, reads use the member role.
    let plain = org
        .iam()
        .with_roles(IamRoles::read("OrganizationAccountAccessRole", None));
    assert_eq!(plain.connect(&ids[0]).await, Ok(IamRead::MemberRole));
    // Through the read role nothing can be written.
    let e = read
        .create_role(&ids[0], &role("x", ROLE_PATH, Tags::new()))
        .await
        .expect_err("read role writes nothing");
    assert_eq!(e.code, codes::ACCESS_DENIED);
    // The read role survives a removed member role; with neither, nothing is reachable.
    write.remove_member_role(&ids[0]);
    assert_eq!(read.connect(&ids[0]).await, Ok(IamRead::ReadRole));
    assert!(write.connect(&ids[0]).await.is_err());
    assert!(write.remove_role(&ids[0], READ_ROLE_NAME));
    let e = read.connect(&ids[0]).await.expect_err("nothing assumable");
    assert!(
        e.message.contains("orgctl-read") && e.message.contains("OrganizationAccountAccessRole"),
        "{e}"
    );
}

#[tokio::test]
async fn read_iam_reads_every_role_under_orgctl_in_every_active_member_account() {
    let (org, ids) = org().await;
    let iam = org.iam();
    iam.create_role(
        &ids[0],
        &role("partner-staging", ROLE_PATH, orgctl_tags("partner")),
    )
    .await
    .expect("create");
    iam.attach_policy(&ids[0], "partner-staging", ADMIN)
        .await
        .expect("attach");
    iam.put_inline_policy(&ids[0], "partner-staging", "read-s3", DOC)
        .await
        .expect("put");
    iam.put_permissions_boundary(&ids[0], "partner-staging", ADMIN)
        .await
        .expect("boundary");
    // A look-alike without orgctl's tags is read too (the planner notes it); a role outside
    // the path is not.
    iam.create_role(&ids[1], &role("look-alike", ROLE_PATH, Tags::new()))
        .await
        .expect("create");
    iam.create_role(&ids[1], &role("elsewhere", "/", Tags::new()))
        .await
        .expect("create");
    iam.remove_member_role(&ids[2]);
    iam.clear_calls();

    let mut live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let seen = std::sync::Mutex::new(Vec::new());
    read_iam(&iam, &mut live, &ReadOptions::default(), &|p| {
        seen.lock().expect("lock").push(p)
    })
    .await
    .expect("read IAM");

    assert_eq!(live.access_roles, iam.access_roles());
    let staging = &live.access_roles[0];
    assert_eq!(
        (staging.account_id.as_str(), staging.role_name.as_str()),
        (ids[0].as_str(), "partner-staging")
    );
    assert_eq!(staging.grant(), Some("partner"));
    assert!(staging.is_managed());
    assert_eq!(staging.managed_policies, [ADMIN.to_owned()].into());
    assert_eq!(staging.permissions_boundary.as_deref(), Some(ADMIN));
    assert_eq!(
        staging.inline_policies["read-s3"],
        orgctl_model::canonical_json_str(DOC).expect("json"),
        "inline documents are canonical JSON"
    );
    assert_eq!(staging.max_session_secs, 7200);
    assert_eq!(live.access_roles.len(), 2);
    assert!(!live.access_roles[1].is_managed());

    let reads: Vec<(&str, bool)> = live
        .iam_accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.read.is_readable()))
        .collect();
    assert_eq!(
        reads,
        [
            (ids[0].as_str(), true),
            (ids[1].as_str(), true),
            (ids[2].as_str(), false)
        ],
        "the management account is never read"
    );
    // Budget: per member account 1 AssumeRole (+ ListRoles when reachable), per role under
    // /orgctl/ 3 reads + 1 per inline policy.
    let calls = iam.calls();
    let count = |op: &str| calls.iter().filter(|c| **c == op).count();
    assert_eq!(count(iam_ops::ASSUME_ROLE), 3);
    assert_eq!(count(iam_ops::LIST_ROLES), 2);
    assert_eq!(count(iam_ops::GET_ROLE), 2);
    assert_eq!(count(iam_ops::GET_ROLE_POLICY), 1);
    assert_eq!(calls.len(), 3 + 2 + 2 * 3 + 1);
    let progress = seen.into_inner().expect("lock");
    assert_eq!(
        progress.first(),
        Some(&ReadProgress::Iam { done: 0, total: 3 })
    );
    assert_eq!(
        progress.last(),
        Some(&ReadProgress::Iam { done: 3, total: 3 })
    );
    assert_eq!(
        ReadProgress::Iam { done: 1, total: 3 }.to_string(),
        "reading IAM roles under /orgctl/ in member accounts: 1/3 accounts done"
    );
}

#[tokio::test]
async fn read_iam_says_how_each_account_was_read() {
    let (org, ids) = org().await;
    org.iam()
        .create_role(&ids[0], &read_role())
        .await
        .expect("read role");
    org.iam().remove_member_role(&ids[2]);
    let read = org.iam().with_roles(IamRoles::read(
        "OrganizationAccountAccessRole",
        Some(PLAN_ROLE),
    ));
    let live = read_all_reporting(&org, &read, &ReadOptions::default(), &|_| {})
        .await
        .expect("read");
    let modes: Vec<&IamRead> = live.iam_accounts.iter().map(|a| &a.read).collect();
    assert_eq!(modes[0], &IamRead::ReadRole);
    assert!(matches!(modes[1], IamRead::Fallback { .. }), "{modes:?}");
    match modes[2] {
        IamRead::Unreadable { reason } => assert!(reason.contains(&ids[2]), "{reason}"),
        other => panic!("{other:?}"),
    }
    // The read role itself is one of the roles under /orgctl/.
    assert_eq!(live.access_roles.len(), 1);
    assert!(live.access_roles[0].role_name == READ_ROLE_NAME);
}

#[tokio::test]
async fn an_iam_failure_other_than_access_denied_fails_the_read() {
    let (org, ids) = org().await;
    let iam = crate::faults::Faulty::new(org.iam()).fail_next_calls_of(
        iam_ops::LIST_ROLES,
        1,
        ApiError::service("", codes::SERVICE_FAILURE, "boom"),
    );
    let mut live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read");
    let e = read_iam(&iam, &mut live, &ReadOptions::default(), &|_| {})
        .await
        .expect_err("fails");
    assert!(e.to_string().contains("boom"), "{e}");
    // AccessDenied on a read makes the account unreadable instead.
    let iam = crate::faults::Faulty::new(org.iam()).fail_next_calls_of(
        iam_ops::LIST_ROLES,
        1,
        ApiError::service("", codes::ACCESS_DENIED, "not allowed"),
    );
    read_iam(&iam, &mut live, &ReadOptions::default(), &|_| {})
        .await
        .expect("read");
    assert_eq!(
        live.iam_accounts
            .iter()
            .filter(|a| !a.read.is_readable())
            .count(),
        1
    );
    let _ = ids;
}

#[tokio::test]
async fn a_snapshot_carries_iam_roles_and_unreadable_accounts() {
    let (org, ids) = org().await;
    let iam = org.iam();
    iam.create_role(&ids[0], &role("partner", ROLE_PATH, orgctl_tags("partner")))
        .await
        .expect("create");
    iam.attach_policy(&ids[0], "partner", ADMIN)
        .await
        .expect("attach");
    iam.put_inline_policy(&ids[0], "partner", "p", DOC)
        .await
        .expect("put");
    iam.remove_member_role(&ids[1]);
    let live = org.to_live();
    assert_eq!(live.access_roles.len(), 1);
    assert_eq!(live.iam_accounts.len(), 1);
    assert!(!live.iam_accounts[0].read.is_readable());

    let copy = MemoryOrg::from_live(&live).expect("load");
    assert_eq!(copy.to_live(), live, "a snapshot round-trips with its IAM");
    let again = read_all_reporting(&copy, &copy.iam(), &ReadOptions::default(), &|_| {})
        .await
        .expect("read");
    assert_eq!(again.access_roles, live.access_roles);
    assert!(!again.iam_accounts[1].read.is_readable());
    // The copy is strict too: the role cannot be deleted while it has policies.
    let e = copy
        .iam()
        .delete_role(&ids[0], "partner")
        .await
        .expect_err("conflict");
    assert_eq!(e.code, codes::DELETE_CONFLICT);

    // A role in an account the organization does not have is refused.
    let mut broken = live.clone();
    broken.access_roles.push(LiveAccessRole {
        account_id: MGMT.into(),
        ..live.access_roles[0].clone()
    });
    let e = MemoryOrg::from_live(&broken).expect_err("refused");
    assert!(e.to_string().contains("not a member account"), "{e}");
}

#[tokio::test]
async fn an_unlinked_memory_iam_serves_the_accounts_added() {
    let iam = MemoryIam::new().with_accounts(["222222222222"]);
    assert_eq!(iam.connect("222222222222").await, Ok(IamRead::MemberRole));
    assert!(iam.connect("333333333333").await.is_err());
}

/// A snapshot records how the read that made it reached each account; a plan made from the
/// snapshot reads the same way (same modes, same reasons), whatever roles the in-memory IAM
/// holds: an STS that let orgctl's read role in where it does not exist yet (the emulator), a
/// fallback with STS's answer, an unreadable account with its error. Writing orgctl's read role
/// ends the replay of its recorded outcome in that account.
#[tokio::test]
async fn a_snapshot_replays_how_each_account_was_read() {
    let (org, ids) = org().await;
    let mut live = org.to_live();
    assert!(live.iam_accounts.is_empty());
    let fallback = "AssumeRole: AccessDenied: User: arn:aws:sts::111111111111:assumed-role/orgctl-plan/x is not authorized to perform: sts:AssumeRole";
    let unreadable = "AssumeRole: AccessDenied: account closed; really";
    live.iam_accounts = vec![
        orgctl_model::LiveIamAccount {
            account_id: ids[0].clone(),
            read: IamRead::ReadRole,
        },
        orgctl_model::LiveIamAccount {
            account_id: ids[1].clone(),
            read: IamRead::Fallback {
                reason: fallback.into(),
            },
        },
        orgctl_model::LiveIamAccount {
            account_id: ids[2].clone(),
            read: IamRead::Unreadable {
                reason: unreadable.into(),
            },
        },
    ];
    live.normalize();
    let copy = MemoryOrg::from_live(&live).expect("load");
    assert_eq!(copy.to_live(), live, "the recorded reads round-trip");
    let reads =
        |l: &LiveState| -> Vec<IamRead> { l.iam_accounts.iter().map(|a| a.read.clone()).collect() };
    let plan = copy.iam().with_roles(IamRoles::read(
        "OrganizationAccountAccessRole",
        Some(PLAN_ROLE),
    ));
    let again = read_all_reporting(&copy, &plan, &ReadOptions::default(), &|_| {})
        .await
        .expect("read");
    assert_eq!(reads(&again), reads(&live), "read as recorded");
    // Without a plan role only the member role is tried: the recorded read role is moot.
    let member = read_all_reporting(&copy, &copy.iam(), &ReadOptions::default(), &|_| {})
        .await
        .expect("read");
    assert_eq!(
        reads(&member),
        vec![
            IamRead::MemberRole,
            IamRead::MemberRole,
            IamRead::Unreadable {
                reason: unreadable.into()
            }
        ]
    );
    // An apply creates the read role where the read fell back: from then on it is used.
    copy.iam()
        .create_role(&ids[1], &read_role())
        .await
        .expect("create");
    assert_eq!(plan.connect(&ids[1]).await, Ok(IamRead::ReadRole));
    // Deleting it where it was recorded as used: the read falls back.
    copy.iam()
        .create_role(&ids[0], &read_role())
        .await
        .expect("create");
    copy.iam()
        .delete_role(&ids[0], READ_ROLE_NAME)
        .await
        .expect("delete");
    assert!(matches!(
        plan.connect(&ids[0]).await,
        Ok(IamRead::Fallback { .. })
    ));
    assert_eq!(
        copy.to_live().iam_accounts.len(),
        1,
        "only the unreadable account is still recorded"
    );
}

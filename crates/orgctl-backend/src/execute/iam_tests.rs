//! The IAM executor ([`execute_iam`]) against the in-memory organization and its linked IAM:
//! every role operation, its idempotency paths, taking over a role an interrupted apply
//! created, refusing a role orgctl does not own, waiting for a new account's member role, and a
//! failure injected at every IAM write followed by a rerun that converges.

use std::collections::BTreeSet;
use std::time::Duration;

use orgctl_model::{
    GRANT_TAG_KEY, LiveAccessRole, MANAGED_BY_KEY, Op, ROLE_PATH, Ref, RoleDefinition, Tags,
};

use super::*;
use crate::api::{ApiError, OrgApi};
use crate::faults::{CRASH_CODE, Faulty};
use crate::iam::{IamApi, NewRole, codes as iam_codes};
use crate::memory::{MemoryIam, MemoryOrg};

const MGMT: &str = "111111111111";
const ROLE: &str = "partner-staging";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const BOUNDARY: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
const TRUST_A: &str = r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"}}],"Version":"2012-10-17"}"#;
const TRUST_B: &str = r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::888888888888:root"}}],"Version":"2012-10-17"}"#;
const DOC: &str = r#"{"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#;

fn fast() -> PollPolicy {
    PollPolicy {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
        timeout: Duration::from_millis(200),
    }
}

fn grant_tags(grant: &str) -> Tags {
    [
        (MANAGED_BY_KEY.to_owned(), "orgctl".to_owned()),
        (GRANT_TAG_KEY.to_owned(), grant.to_owned()),
    ]
    .into()
}

fn definition(trust: &str) -> RoleDefinition {
    RoleDefinition {
        name: ROLE.into(),
        path: ROLE_PATH.into(),
        trust_policy: trust.into(),
        description: "partner A".into(),
        max_session_secs: 3600,
        tags: grant_tags("partner"),
    }
}

async fn org() -> (MemoryOrg, String) {
    let org = MemoryOrg::new(MGMT, "mgmt@example.com");
    let s = org
        .create_account("staging", "staging@example.com", &Tags::new())
        .await
        .expect("create");
    (org, s.account_id.expect("id"))
}

/// A role's whole life as a plan would write it: create, boundary, inline, attach; then
/// changes; then narrowing and deletion.
fn lifecycle(account: &Ref) -> (Vec<Op>, Vec<Op>) {
    let a = || account.clone();
    let r = || ROLE.to_owned();
    let create = vec![
        Op::CreateRole {
            account: a(),
            role: definition(TRUST_A),
        },
        Op::PutRolePermissionsBoundary {
            account: a(),
            role_name: r(),
            policy_arn: BOUNDARY.into(),
        },
        Op::PutRolePolicy {
            account: a(),
            role_name: r(),
            policy_name: "read-s3".into(),
            document: DOC.into(),
        },
        Op::AttachRolePolicy {
            account: a(),
            role_name: r(),
            policy_arn: ADMIN.into(),
        },
        Op::UpdateTrustPolicy {
            account: a(),
            role_name: r(),
            trust_policy: TRUST_B.into(),
        },
        Op::UpdateRole {
            account: a(),
            role_name: r(),
            description: "partner B".into(),
            max_session_secs: 7200,
        },
        Op::TagRole {
            account: a(),
            role_name: r(),
            tags: [("ticket".to_owned(), "OPS-2".to_owned())].into(),
        },
        Op::UntagRole {
            account: a(),
            role_name: r(),
            keys: BTreeSet::from(["ticket".to_owned()]),
        },
    ];
    let delete = vec![
        Op::DetachRolePolicy {
            account: a(),
            role_name: r(),
            policy_arn: ADMIN.into(),
        },
        Op::DeleteRolePolicy {
            account: a(),
            role_name: r(),
            policy_name: "read-s3".into(),
        },
        Op::DeleteRolePermissionsBoundary {
            account: a(),
            role_name: r(),
        },
        Op::DeleteRole {
            account: a(),
            role_name: r(),
        },
    ];
    (create, delete)
}

async fn run_all<I: IamApi>(iam: &I, ops: &[Op], ids: &mut IdMap) -> Vec<Outcome> {
    let mut out = Vec::new();
    for op in ops {
        out.push(execute_iam(iam, op, ids, &fast()).await.expect("execute"));
    }
    out
}

fn roles(iam: &MemoryIam) -> Vec<LiveAccessRole> {
    iam.access_roles()
}

#[tokio::test]
async fn every_role_operation_runs_and_a_second_run_changes_nothing() {
    let (org, account) = org().await;
    let iam = org.iam();
    let (create, delete) = lifecycle(&Ref::Id(account.clone()));
    let outcomes = run_all(&iam, &create, &mut IdMap::new()).await;
    assert!(outcomes.iter().all(|o| *o == Outcome::Done), "{outcomes:?}");
    let after = roles(&iam);
    assert_eq!(after.len(), 1);
    let r = &after[0];
    assert_eq!(r.trust_policy, TRUST_B);
    assert_eq!(
        (r.description.as_str(), r.max_session_secs),
        ("partner B", 7200)
    );
    assert_eq!(r.tags, grant_tags("partner"));
    assert_eq!(r.managed_policies, [ADMIN.to_owned()].into());
    assert_eq!(r.inline_policies["read-s3"], DOC);
    assert_eq!(r.permissions_boundary.as_deref(), Some(BOUNDARY));

    // Again: the role is taken over (AlreadyDone) and ends the same.
    let again = run_all(&iam, &create, &mut IdMap::new()).await;
    assert_eq!(again[0], Outcome::AlreadyDone);
    assert_eq!(roles(&iam), after);

    let outcomes = run_all(&iam, &delete, &mut IdMap::new()).await;
    assert!(outcomes.iter().all(|o| *o == Outcome::Done), "{outcomes:?}");
    assert!(roles(&iam).is_empty());
    // Whatever is gone already is AlreadyDone.
    let again = run_all(&iam, &delete, &mut IdMap::new()).await;
    assert!(
        again.iter().all(|o| *o == Outcome::AlreadyDone),
        "{again:?}"
    );
}

#[tokio::test]
async fn create_role_takes_over_orgctls_role_of_the_same_grant_and_refuses_any_other() {
    let (org, account) = org().await;
    let iam = org.iam();
    let op = Op::CreateRole {
        account: Ref::Id(account.clone()),
        role: definition(TRUST_B),
    };
    // An interrupted apply left the role with an older trust policy and no description.
    let mut left = NewRole {
        path: ROLE_PATH.into(),
        name: ROLE.to_uppercase(),
        trust_policy: TRUST_A.into(),
        description: String::new(),
        max_session_secs: 3600,
        tags: [
            (MANAGED_BY_KEY.to_owned(), "orgctl".to_owned()),
            (GRANT_TAG_KEY.to_owned(), "partner".to_owned()),
        ]
        .into(),
    };
    iam.create_role(&account, &left).await.expect("create");
    let outcome = execute_iam(&iam, &op, &mut IdMap::new(), &fast()).await;
    assert_eq!(outcome, Ok(Outcome::AlreadyDone));
    let r = &roles(&iam)[0];
    assert_eq!(
        (r.trust_policy.as_str(), r.description.as_str()),
        (TRUST_B, "partner A")
    );

    // Roles orgctl does not own for this grant are never taken over.
    for (tags, path, why) in [
        (Tags::new(), ROLE_PATH, "managed-by"),
        (grant_tags("other-grant"), ROLE_PATH, "other-grant"),
        (grant_tags("partner"), "/team/", "/team/"),
    ] {
        assert!(iam.remove_role(&account, ROLE));
        left.tags = tags;
        left.path = path.into();
        iam.create_role(&account, &left).await.expect("create");
        let before = roles(&iam);
        let e = execute_iam(&iam, &op, &mut IdMap::new(), &fast())
            .await
            .expect_err("refused");
        let text = e.to_string();
        assert!(matches!(e, ExecError::RoleConflict { .. }), "{text}");
        assert!(
            text.contains(&account) && text.contains(&ROLE.to_uppercase()),
            "{text}"
        );
        assert!(text.contains(why), "{text}");
        assert_eq!(roles(&iam), before, "nothing changed");
    }
}

#[tokio::test]
async fn iam_failures_name_the_account_and_the_role() {
    let (org, account) = org().await;
    let op = Op::AttachRolePolicy {
        account: Ref::Id(account.clone()),
        role_name: ROLE.into(),
        policy_arn: ADMIN.into(),
    };
    let e = execute_iam(&org.iam(), &op, &mut IdMap::new(), &fast())
        .await
        .expect_err("no such role");
    let text = e.to_string();
    assert!(text.contains(&account) && text.contains(ROLE), "{text}");
    assert!(
        matches!(&e, ExecError::Iam { source, .. } if source.code == iam_codes::NO_SUCH_ENTITY)
    );
}

#[tokio::test]
async fn a_role_in_an_account_the_same_apply_creates_waits_for_its_member_role() {
    let org = MemoryOrg::new(MGMT, "mgmt@example.com").with_create_account_polls(2);
    let iam = org.iam();
    let new = Ref::NewAccount("dev@example.com".into());
    let (create, _) = lifecycle(&new);
    let mut ids = IdMap::for_ops(&create);
    // Before the account exists, the reference is unresolved.
    let e = execute_iam(&iam, &create[0], &mut ids, &fast())
        .await
        .expect_err("unresolved");
    assert!(matches!(e, ExecError::Unresolved(_)), "{e}");
    let root = org.root_id();
    let account_op = Op::CreateAccount {
        name: "dev".into(),
        email: "dev@example.com".into(),
        parent: Ref::Id(root),
        tags: Tags::new(),
        ignore_tag_keys: BTreeSet::new(),
    };
    execute(&org, &account_op, &mut ids, &fast())
        .await
        .expect("account");
    let outcomes = run_all(&iam, &create, &mut ids).await;
    assert!(outcomes.iter().all(|o| *o == Outcome::Done));
    let id = ids.resolve(&new).expect("resolved");
    assert_eq!(roles(&iam)[0].account_id, id);
    // One AssumeRole to see the member role, once per apply.
    assert_eq!(iam.call_count(crate::iam::operations::ASSUME_ROLE), 1);

    // A new account whose member role never becomes assumable: a bounded wait, then an error.
    let org = MemoryOrg::new(MGMT, "mgmt@example.com");
    let iam = org.iam();
    let mut ids = IdMap::new();
    execute(&org, &account_op, &mut ids, &fast())
        .await
        .expect("account");
    let id = ids.resolve(&new).expect("resolved");
    iam.remove_member_role(&id);
    let e = execute_iam(&iam, &create[0], &mut ids, &fast())
        .await
        .expect_err("unreachable");
    assert!(matches!(e, ExecError::NewAccountUnreachable { .. }), "{e}");
    assert!(e.to_string().contains(&id), "{e}");
    assert!(
        iam.call_count(crate::iam::operations::ASSUME_ROLE) > 1,
        "it retried"
    );
}

/// A failure at every IAM write (before it reached IAM, or after it took effect with the
/// answer lost), then a rerun of the same operations: the role ends exactly as without the
/// failure.
#[tokio::test]
async fn a_failure_at_any_iam_write_converges_on_rerun() {
    let (clean_org, clean_account) = org().await;
    let (create, _) = lifecycle(&Ref::Id(clean_account.clone()));
    run_all(&clean_org.iam(), &create, &mut IdMap::new()).await;
    let want = roles(&clean_org.iam());
    let writes = create.len();
    for k in 1..=writes {
        for lost in [false, true] {
            let (org, account) = org().await;
            assert_eq!(account, clean_account);
            let error = ApiError::service("", CRASH_CODE, "injected");
            let faulty = if lost {
                Faulty::new(org.iam()).lose_write_response(k, error)
            } else {
                Faulty::new(org.iam()).fail_write(k, error)
            };
            let mut ids = IdMap::new();
            let mut failed = false;
            for op in &create {
                if execute_iam(&faulty, op, &mut ids, &fast()).await.is_err() {
                    failed = true;
                    break;
                }
            }
            assert!(failed, "write {k} failed");
            run_all(&org.iam(), &create, &mut IdMap::new()).await;
            assert_eq!(roles(&org.iam()), want, "write {k} (lost answer: {lost})");
        }
    }
}

//! Every `OrgApi` method of `SdkOrg` against moto through the real SDK and HTTP: round trips,
//! pagination (exact page counts from the recorder) and AWS error codes.

use std::collections::BTreeSet;

use orgctl_aws::operations;
use orgctl_backend::api::{CreateAccountState, OuInfo};
use orgctl_backend::{ApiError, ErrorKind, OrgApi, codes};
use orgctl_model::{AccountStatus, PolicyType, Tags};

use super::support::{TestOrg, scp};

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[track_caller]
fn assert_service_error<T: std::fmt::Debug>(
    result: Result<T, ApiError>,
    operation: &str,
    code: &str,
) {
    let err = result.expect_err(&format!("{operation} should fail with {code}"));
    assert_eq!(err.code, code, "{err}");
    assert_eq!(err.operation, operation, "{err}");
    assert_eq!(err.kind, ErrorKind::Service, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert!(!err.message.is_empty(), "AWS's message is kept: {err:?}");
}

#[tokio::test]
async fn identity_organization_and_roots() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    assert_eq!(org.region(), "us-east-1");
    assert_eq!(
        org.page_size(),
        20,
        "the default page size is AWS's maximum"
    );
    assert_eq!(
        org.caller_account_id().await.expect("caller"),
        t.management()
    );

    let info = org.describe_organization().await.expect("describe");
    assert_eq!(info, t.info);
    assert!(info.id.starts_with("o-"), "{info:?}");

    let roots = org.list_roots().await.expect("roots");
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].id, t.root_id);
    assert!(roots[0].enabled_policy_types.is_empty(), "{roots:?}");

    org.enable_policy_type(&t.root_id, PolicyType::TagPolicy)
        .await
        .expect("enable tag policies");
    org.enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable SCPs");
    let roots = org.list_roots().await.expect("roots");
    assert_eq!(
        roots[0].enabled_policy_types,
        vec![PolicyType::ServiceControlPolicy, PolicyType::TagPolicy],
        "enabled types, sorted"
    );
    assert_service_error(
        org.enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
            .await,
        "EnablePolicyType",
        codes::POLICY_TYPE_ALREADY_ENABLED,
    );
}

#[tokio::test]
async fn ous_round_trip() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let managed = tags(&[("managed-by", "orgctl"), ("team", "platform")]);

    let workloads = org
        .create_ou(&t.root_id, &t.name("Workloads"), &managed)
        .await
        .expect("create OU");
    assert!(workloads.id.starts_with("ou-"), "{workloads:?}");
    assert_eq!(workloads.name, t.name("Workloads"));
    assert_eq!(
        org.describe_ou(&workloads.id).await.expect("describe"),
        workloads
    );
    assert_eq!(org.list_tags(&workloads.id).await.expect("tags"), managed);

    let staging = org
        .create_ou(&workloads.id, &t.name("Staging"), &Tags::new())
        .await
        .expect("create child OU");
    assert!(org.list_tags(&staging.id).await.expect("tags").is_empty());
    assert_eq!(
        org.list_ous_for_parent(&t.root_id).await.expect("list"),
        vec![workloads.clone()]
    );
    assert_eq!(
        org.list_ous_for_parent(&workloads.id).await.expect("list"),
        vec![staging.clone()]
    );
    assert_eq!(
        org.list_parent(&staging.id).await.expect("parent"),
        workloads.id
    );
    assert_eq!(
        org.list_parent(&workloads.id).await.expect("parent"),
        t.root_id
    );

    org.rename_ou(&staging.id, &t.name("Stage"))
        .await
        .expect("rename");
    assert_eq!(
        org.describe_ou(&staging.id).await.expect("describe"),
        OuInfo {
            id: staging.id.clone(),
            name: t.name("Stage"),
        }
    );
    assert_service_error(
        org.rename_ou(&staging.id, &t.name("Workloads")).await,
        "UpdateOrganizationalUnit",
        codes::DUPLICATE_OU,
    );

    org.tag_resource(
        &workloads.id,
        &tags(&[("team", "security"), ("cost", "42")]),
    )
    .await
    .expect("tag");
    org.untag_resource(&workloads.id, &["managed-by".to_owned()])
        .await
        .expect("untag");
    assert_eq!(
        org.list_tags(&workloads.id).await.expect("tags"),
        tags(&[("cost", "42"), ("team", "security")])
    );

    org.delete_ou(&staging.id).await.expect("delete");
    assert_service_error(
        org.describe_ou(&staging.id).await,
        "DescribeOrganizationalUnit",
        codes::OU_NOT_FOUND,
    );
    assert!(
        org.list_ous_for_parent(&workloads.id)
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn accounts_round_trip() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let name = t.name("companyx-staging");
    let email = format!("{name}@partner.example");
    let created = org
        .create_account(&name, &email, &tags(&[("env", "staging")]))
        .await
        .expect("create account");
    // moto creates accounts synchronously.
    assert_eq!(created.state, CreateAccountState::Succeeded, "{created:?}");
    assert_eq!(created.account_name, name);
    assert_eq!(created.failure_reason, None);
    let id = created.account_id.clone().expect("account id");
    assert_eq!(id.len(), 12);
    assert!(created.request_id.starts_with("car-"), "{created:?}");

    let status = org
        .describe_create_account_status(&created.request_id)
        .await
        .expect("describe status");
    assert_eq!(status, created);
    assert!(
        org.list_create_account_in_progress()
            .await
            .expect("in progress")
            .is_empty()
    );

    let in_root = org
        .list_accounts_for_parent(&t.root_id)
        .await
        .expect("list");
    let mine = in_root
        .iter()
        .find(|a| a.id == id)
        .expect("new account in root");
    assert_eq!(
        (mine.name.as_str(), mine.email.as_str()),
        (name.as_str(), email.as_str())
    );
    assert_eq!(mine.status, AccountStatus::Active);
    assert!(
        in_root.iter().any(|a| a.id == t.management()),
        "{in_root:?}"
    );
    assert_eq!(
        org.list_tags(&id).await.expect("tags"),
        tags(&[("env", "staging")])
    );

    let ou = org
        .create_ou(&t.root_id, &t.name("Workloads"), &Tags::new())
        .await
        .expect("OU");
    assert_eq!(org.list_parent(&id).await.expect("parent"), t.root_id);
    org.move_account(&id, &t.root_id, &ou.id)
        .await
        .expect("move");
    assert_eq!(org.list_parent(&id).await.expect("parent"), ou.id);
    let in_ou = org.list_accounts_for_parent(&ou.id).await.expect("list");
    assert_eq!(
        in_ou.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        vec![id.as_str()]
    );

    org.tag_resource(&id, &tags(&[("env", "production"), ("owner", "x")]))
        .await
        .expect("tag");
    org.untag_resource(&id, &["owner".to_owned()])
        .await
        .expect("untag");
    assert_eq!(
        org.list_tags(&id).await.expect("tags"),
        tags(&[("env", "production")])
    );

    org.close_account(&id).await.expect("close");
    let all = org.list_accounts().await.expect("list accounts");
    let closed = all.iter().find(|a| a.id == id).expect("still listed");
    assert!(closed.status.is_closed(), "{closed:?}");
    assert_service_error(
        org.close_account(&id).await,
        "CloseAccount",
        codes::ACCOUNT_ALREADY_CLOSED,
    );
    assert_service_error(
        org.move_account("111111111111", &t.root_id, &ou.id).await,
        "MoveAccount",
        codes::ACCOUNT_NOT_FOUND,
    );
}

#[tokio::test]
async fn policies_round_trip() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    org.enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable");
    let name = t.name("deny-leave-organization");
    let content = scp("organizations:LeaveOrganization");
    let created = org
        .create_policy(
            &name,
            PolicyType::ServiceControlPolicy,
            "Members cannot leave",
            &content,
            &tags(&[("managed-by", "orgctl")]),
        )
        .await
        .expect("create policy");
    assert!(created.id.starts_with("p-"), "{created:?}");
    assert_eq!(created.name, name);
    assert_eq!(created.policy_type, PolicyType::ServiceControlPolicy);
    assert_eq!(created.description, "Members cannot leave");
    assert!(!created.aws_managed);
    assert_eq!(
        org.describe_policy(&created.id).await.expect("describe"),
        content
    );
    assert_eq!(
        org.list_tags(&created.id).await.expect("tags"),
        tags(&[("managed-by", "orgctl")])
    );
    assert_service_error(
        org.create_policy(
            &name,
            PolicyType::ServiceControlPolicy,
            "",
            &content,
            &Tags::new(),
        )
        .await,
        "CreatePolicy",
        codes::DUPLICATE_POLICY,
    );

    let scps = org
        .list_policies(PolicyType::ServiceControlPolicy)
        .await
        .expect("list");
    assert!(scps.contains(&created), "{scps:?}");
    let full = scps
        .iter()
        .find(|p| p.name == "FullAWSAccess")
        .expect("FullAWSAccess");
    assert!(full.aws_managed);
    assert!(
        scps.iter()
            .all(|p| p.policy_type == PolicyType::ServiceControlPolicy)
    );

    let content2 = scp("account:CloseAccount");
    org.update_policy(&created.id, Some("Updated"), Some(&content2))
        .await
        .expect("update");
    assert_eq!(
        org.describe_policy(&created.id).await.expect("describe"),
        content2
    );
    org.update_policy(&created.id, None, Some(&content))
        .await
        .expect("update content only");
    let listed = org
        .list_policies(PolicyType::ServiceControlPolicy)
        .await
        .expect("list");
    let mine = listed.iter().find(|p| p.id == created.id).expect("listed");
    assert_eq!(
        mine.description, "Updated",
        "description untouched by a content update"
    );
    assert_eq!(
        org.describe_policy(&created.id).await.expect("describe"),
        content
    );

    let ou = org
        .create_ou(&t.root_id, &t.name("Workloads"), &Tags::new())
        .await
        .expect("OU");
    assert!(
        org.list_targets_for_policy(&created.id)
            .await
            .expect("targets")
            .is_empty()
    );
    org.attach_policy(&created.id, &ou.id)
        .await
        .expect("attach OU");
    org.attach_policy(&created.id, &t.root_id)
        .await
        .expect("attach root");
    let targets: BTreeSet<String> = org
        .list_targets_for_policy(&created.id)
        .await
        .expect("targets")
        .into_iter()
        .collect();
    assert_eq!(targets, BTreeSet::from([ou.id.clone(), t.root_id.clone()]));
    assert_service_error(
        org.delete_policy(&created.id).await,
        "DeletePolicy",
        codes::POLICY_IN_USE,
    );
    org.detach_policy(&created.id, &ou.id)
        .await
        .expect("detach");
    org.detach_policy(&created.id, &t.root_id)
        .await
        .expect("detach");
    assert!(
        org.list_targets_for_policy(&created.id)
            .await
            .expect("targets")
            .is_empty()
    );
    org.delete_policy(&created.id).await.expect("delete");
    assert_service_error(
        org.describe_policy(&created.id).await,
        "DescribePolicy",
        codes::POLICY_NOT_FOUND,
    );

    // Tag policies are listed by their own type.
    org.enable_policy_type(&t.root_id, PolicyType::TagPolicy)
        .await
        .expect("enable tag policies");
    let tag_policy = org
        .create_policy(
            &t.name("cost-center"),
            PolicyType::TagPolicy,
            "",
            r#"{"tags":{"cost-center":{"tag_key":{"@@assign":"cost-center"}}}}"#,
            &Tags::new(),
        )
        .await
        .expect("create tag policy");
    assert_eq!(tag_policy.policy_type, PolicyType::TagPolicy);
    assert_eq!(tag_policy.description, "");
    let tag_policies = org
        .list_policies(PolicyType::TagPolicy)
        .await
        .expect("list");
    assert_eq!(tag_policies, vec![tag_policy]);
}

#[tokio::test]
async fn recorder_sees_exactly_the_operations_the_iam_policies_grant() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let rec = org.recorder().clone();
    // Every OrgApi method once (plus GetCallerIdentity).
    org.caller_account_id().await.expect("caller");
    org.describe_organization().await.expect("describe");
    org.list_roots().await.expect("roots");
    org.enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable");
    let ou = org
        .create_ou(&t.root_id, &t.name("A"), &Tags::new())
        .await
        .expect("create OU");
    org.rename_ou(&ou.id, &t.name("B")).await.expect("rename");
    org.describe_ou(&ou.id).await.expect("describe OU");
    org.list_ous_for_parent(&t.root_id).await.expect("list OUs");
    let created = org
        .create_account(
            &t.name("acct"),
            &format!("{}@example.com", t.name("acct")),
            &Tags::new(),
        )
        .await
        .expect("create account");
    let id = created.account_id.clone().expect("id");
    org.describe_create_account_status(&created.request_id)
        .await
        .expect("status");
    org.list_create_account_in_progress()
        .await
        .expect("in progress");
    org.list_accounts_for_parent(&t.root_id)
        .await
        .expect("list");
    org.list_accounts().await.expect("list all");
    org.list_parent(&id).await.expect("parent");
    org.move_account(&id, &t.root_id, &ou.id)
        .await
        .expect("move");
    org.tag_resource(&id, &tags(&[("a", "1")]))
        .await
        .expect("tag");
    org.untag_resource(&id, &["a".to_owned()])
        .await
        .expect("untag");
    org.list_tags(&id).await.expect("tags");
    let p = org
        .create_policy(
            &t.name("p"),
            PolicyType::ServiceControlPolicy,
            "",
            &scp("s3:*"),
            &Tags::new(),
        )
        .await
        .expect("policy");
    org.update_policy(&p.id, Some("d"), None)
        .await
        .expect("update");
    org.describe_policy(&p.id).await.expect("describe policy");
    org.list_policies(PolicyType::ServiceControlPolicy)
        .await
        .expect("policies");
    org.attach_policy(&p.id, &ou.id).await.expect("attach");
    org.list_targets_for_policy(&p.id).await.expect("targets");
    let on_ou = org
        .list_policies_for_target(&ou.id, PolicyType::ServiceControlPolicy)
        .await
        .expect("policies for target");
    assert!(on_ou.contains(&p.id), "{on_ou:?}");
    let described = org.describe_account(&id).await.expect("describe account");
    assert_eq!(described.id, id);
    org.detach_policy(&p.id, &ou.id).await.expect("detach");
    org.delete_policy(&p.id).await.expect("delete policy");
    org.close_account(&id).await.expect("close");
    org.move_account(&id, &ou.id, &t.root_id)
        .await
        .expect("move back");
    org.delete_ou(&ou.id).await.expect("delete OU");

    let seen: BTreeSet<String> = rec.operations().into_iter().collect();
    let mut granted: BTreeSet<String> = operations::READS
        .iter()
        .chain(operations::WRITES.iter())
        .map(|s| (*s).to_owned())
        .collect();
    granted.insert(operations::GET_CALLER_IDENTITY.to_owned());
    assert_eq!(
        seen, granted,
        "the SDK called exactly the operations the IAM policies list"
    );
    let writes: BTreeSet<String> = rec.write_operations().into_iter().collect();
    let expected_writes: BTreeSet<String> =
        operations::WRITES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(writes, expected_writes);
    let summary = rec.summary();
    assert!(
        summary.values().all(|(_, failed)| *failed == 0),
        "no failed attempts: {summary:?}"
    );
    assert_eq!(summary["MoveAccount"], (2, 0));
    assert_eq!(rec.attempts().len(), rec.operations().len());
}

#[tokio::test]
async fn lists_follow_every_page() {
    let t = TestOrg::new().await;
    let org = t.sdk(Some(2)).await;
    let rec = org.recorder().clone();

    // 5 OUs under the root: pages of 2 → 3 requests.
    let mut ous = Vec::new();
    for i in 0..5 {
        ous.push(
            org.create_ou(&t.root_id, &t.name(&format!("ou{i}")), &Tags::new())
                .await
                .expect("OU"),
        );
    }
    // 4 under one OU: exactly 2 pages (no trailing empty page).
    for i in 0..4 {
        org.create_ou(&ous[0].id, &t.name(&format!("sub{i}")), &Tags::new())
            .await
            .expect("OU");
    }
    // 4 new accounts + the management account in the root.
    let mut account_ids = BTreeSet::from([t.management().to_owned()]);
    for i in 0..4 {
        let n = t.name(&format!("acct{i}"));
        let s = org
            .create_account(&n, &format!("{n}@example.com"), &Tags::new())
            .await
            .expect("account");
        account_ids.insert(s.account_id.expect("id"));
    }
    // 4 SCPs + FullAWSAccess.
    org.enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable");
    for i in 0..4 {
        org.create_policy(
            &t.name(&format!("p{i}")),
            PolicyType::ServiceControlPolicy,
            "",
            &scp(&format!("s3:Action{i}")),
            &Tags::new(),
        )
        .await
        .expect("policy");
    }

    rec.clear();
    let listed = org.list_ous_for_parent(&t.root_id).await.expect("list");
    assert_eq!(
        listed.iter().map(|o| &o.id).collect::<BTreeSet<_>>(),
        ous.iter().map(|o| &o.id).collect::<BTreeSet<_>>(),
        "every OU once"
    );
    assert_eq!(listed.len(), 5, "no duplicates");
    assert_eq!(rec.count("ListOrganizationalUnitsForParent"), 3);

    rec.clear();
    assert_eq!(
        org.list_ous_for_parent(&ous[0].id)
            .await
            .expect("list")
            .len(),
        4
    );
    assert_eq!(rec.count("ListOrganizationalUnitsForParent"), 2);

    rec.clear();
    let accounts = org
        .list_accounts_for_parent(&t.root_id)
        .await
        .expect("list");
    assert_eq!(
        accounts
            .iter()
            .map(|a| a.id.clone())
            .collect::<BTreeSet<_>>(),
        account_ids
    );
    assert_eq!(accounts.len(), 5);
    assert_eq!(rec.count("ListAccountsForParent"), 3);

    rec.clear();
    assert_eq!(org.list_accounts().await.expect("list").len(), 5);
    assert_eq!(rec.count("ListAccounts"), 3);

    rec.clear();
    let policies = org
        .list_policies(PolicyType::ServiceControlPolicy)
        .await
        .expect("list");
    assert_eq!(policies.len(), 5, "{policies:?}");
    assert_eq!(
        policies
            .iter()
            .map(|p| &p.id)
            .collect::<BTreeSet<_>>()
            .len(),
        5
    );
    assert_eq!(rec.count("ListPolicies"), 3);
    assert_eq!(rec.operations().len(), 3, "nothing but the pages");
}

#[tokio::test]
async fn unknown_ids_are_aws_errors() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    let ou = org
        .create_ou(&t.root_id, &t.name("Gone"), &Tags::new())
        .await
        .expect("OU");
    org.delete_ou(&ou.id).await.expect("delete");
    assert_service_error(
        org.rename_ou(&ou.id, &t.name("Again")).await,
        "UpdateOrganizationalUnit",
        codes::OU_NOT_FOUND,
    );
    assert_service_error(
        org.list_ous_for_parent("ou-zzzz-zzzzzzzz").await,
        "ListOrganizationalUnitsForParent",
        codes::PARENT_NOT_FOUND,
    );
    let p = org
        .create_policy(
            &t.name("p"),
            PolicyType::ServiceControlPolicy,
            "",
            &scp("s3:*"),
            &Tags::new(),
        )
        .await
        .expect("policy");
    assert_service_error(
        org.attach_policy(&p.id, "not-a-target").await,
        "AttachPolicy",
        codes::INVALID_INPUT,
    );
    org.delete_policy(&p.id).await.expect("delete");
    assert_service_error(
        org.update_policy(&p.id, Some("x"), None).await,
        "UpdatePolicy",
        codes::POLICY_NOT_FOUND,
    );
    assert_service_error(
        org.list_targets_for_policy(&p.id).await,
        "ListTargetsForPolicy",
        codes::POLICY_NOT_FOUND,
    );
}

/// Deleting an OU takes its policy attachments with it, as on AWS (moto 5.2.5 kept the deleted
/// OU among the policy's targets, so the policy could never be deleted and every later apply that
/// deleted an OU and its managed SCP together failed with PolicyInUseException; the project's
/// launcher mends that).
#[tokio::test]
async fn deleting_an_ou_detaches_its_policies() {
    let t = TestOrg::new().await;
    let org = t.sdk(None).await;
    org.enable_policy_type(&t.root_id, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable");
    let ou = org
        .create_ou(&t.root_id, &t.name("Security"), &Tags::new())
        .await
        .expect("create OU");
    let policy = org
        .create_policy(
            &t.name("deny-root"),
            PolicyType::ServiceControlPolicy,
            "",
            &scp("iam:CreateUser"),
            &Tags::new(),
        )
        .await
        .expect("create policy");
    org.attach_policy(&policy.id, &ou.id).await.expect("attach");
    org.delete_ou(&ou.id).await.expect("delete OU");
    let targets = org
        .list_targets_for_policy(&policy.id)
        .await
        .expect("targets");
    assert!(
        !targets.iter().any(|t| t == &ou.id),
        "the deleted OU is still a target: {targets:?}"
    );
    org.delete_policy(&policy.id)
        .await
        .expect("a policy attached only to a deleted OU can be deleted");
}

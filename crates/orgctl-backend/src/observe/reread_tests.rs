//! The targeted re-read after an apply: what it reads, that the patched state is the state a
//! fresh read finds, and that it reads everything again when it cannot be exact.

use orgctl_model::{PolicyType, Tags};

use super::tests::sample;
use super::*;
use crate::api::{OrgApi, operations as ops};
use crate::memory::MemoryOrg;

const SCP: PolicyType = PolicyType::ServiceControlPolicy;
const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#;

fn tags(k: &str, v: &str) -> Tags {
    [(k.to_owned(), v.to_owned())].into_iter().collect()
}

async fn full(api: &MemoryOrg) -> LiveState {
    read_all_reporting(api, &api.iam(), &ReadOptions::default(), &|_| {})
        .await
        .expect("read")
}

fn ou_id(live: &LiveState, name: &str) -> String {
    live.ous
        .iter()
        .find(|o| o.name == name)
        .map(|o| o.id.clone())
        .unwrap_or_else(|| panic!("OU {name}"))
}

fn account_id(live: &LiveState, name: &str) -> String {
    live.accounts
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.id.clone())
        .unwrap_or_else(|| panic!("account {name}"))
}

fn all() -> Aspects {
    Aspects::all()
}

#[tokio::test]
async fn what_an_apply_wrote_read_again_is_what_a_fresh_read_finds() {
    let api = sample().await;
    let before = full(&api).await;
    let root = before.organization.root_id.clone();
    let (a, b, a11) = (
        ou_id(&before, "A"),
        ou_id(&before, "B"),
        ou_id(&before, "A11"),
    );
    let moved = account_id(&before, "acc1");
    // The writes: a new account in B, an account moved to B, an OU renamed and tagged, a new
    // policy attached to it, an OU emptied and deleted, a policy updated.
    let new = api
        .create_account("acc9", "acc9@example.com", &tags("n", "y"))
        .await
        .expect("create")
        .account_id
        .expect("id");
    api.move_account(&new, &root, &b).await.expect("move");
    api.move_account(&moved, &a, &b).await.expect("move");
    api.rename_ou(&a, "A-renamed").await.expect("rename");
    api.tag_resource(&a, &tags("t", "b")).await.expect("tag");
    let p = api
        .create_policy(
            "deny-ec2",
            SCP,
            "no EC2",
            DOC,
            &tags("managed-by", "orgctl"),
        )
        .await
        .expect("policy");
    api.attach_policy(&p.id, &a).await.expect("attach");
    let inner = account_id(&before, "acc3");
    let a1 = ou_id(&before, "A1");
    api.move_account(&inner, &a11, &a1).await.expect("move");
    api.delete_ou(&a11).await.expect("delete");
    let deny_s3 = before
        .policies
        .iter()
        .find(|p| p.name == "deny-s3")
        .map(|p| p.id.clone())
        .expect("deny-s3");
    api.update_policy(&deny_s3, Some("no S3 at all"), None)
        .await
        .expect("update");
    api.clear_calls();

    let mut t = Touched::default();
    t.accounts.insert(new.clone(), all());
    for id in [&moved, &inner] {
        t.accounts.insert(
            id.clone(),
            Aspects {
                parent: true,
                ..Aspects::default()
            },
        );
    }
    t.ous.insert(
        a.clone(),
        Aspects {
            info: true,
            tags: true,
            ..Aspects::default()
        },
    );
    t.ous.insert(
        a11.clone(),
        Aspects {
            info: true,
            ..Aspects::default()
        },
    );
    t.policies.insert(p.id.clone(), (SCP, all()));
    t.policies.insert(
        deny_s3,
        (
            SCP,
            Aspects {
                info: true,
                ..Aspects::default()
            },
        ),
    );
    t.attachments.extend([new.clone(), a.clone()]);
    t.iam.insert(new.clone());
    let (patched, whole) = reread(
        &api,
        &api.iam(),
        &before,
        &t,
        &ReadOptions::default(),
        &|_| {},
    )
    .await
    .expect("re-read");
    assert_eq!(whole, None);
    let reads = api.calls();
    api.clear_calls();
    assert_eq!(patched, full(&api).await);
    // Per object, only the aspects asked for; the policy list once for its type.
    assert_eq!(api_count(&reads, ops::DESCRIBE_ACCOUNT), 1);
    assert_eq!(api_count(&reads, ops::LIST_PARENTS), 3);
    assert_eq!(api_count(&reads, ops::DESCRIBE_OU), 2);
    assert_eq!(api_count(&reads, ops::LIST_TAGS), 3);
    assert_eq!(api_count(&reads, ops::LIST_POLICIES), 1);
    assert_eq!(api_count(&reads, ops::DESCRIBE_POLICY), 2);
    assert_eq!(api_count(&reads, ops::LIST_TARGETS_FOR_POLICY), 1);
    // Two targets, two enabled types.
    assert_eq!(api_count(&reads, ops::LIST_POLICIES_FOR_TARGET), 4);
    assert_eq!(api_count(&reads, ops::LIST_ACCOUNTS_FOR_PARENT), 0);
    assert_eq!(api_count(&reads, ops::LIST_OUS_FOR_PARENT), 0);
    assert_eq!(reads.len(), 17, "{reads:?}");
}

fn api_count(calls: &[&str], op: &str) -> usize {
    calls.iter().filter(|c| **c == op).count()
}

#[tokio::test]
async fn an_answer_outside_the_state_makes_it_read_everything_again() {
    let api = sample().await;
    let before = full(&api).await;
    let (a, b) = (ou_id(&before, "A"), ou_id(&before, "B"));
    // An OU the live state does not hold (created out of band), and an account moved into it.
    let elsewhere = api
        .create_ou(&b, "Elsewhere", &Tags::new())
        .await
        .expect("ou");
    let moved = account_id(&before, "acc1");
    api.move_account(&moved, &a, &elsewhere.id)
        .await
        .expect("move");
    let mut t = Touched::default();
    t.accounts.insert(
        moved.clone(),
        Aspects {
            parent: true,
            ..Aspects::default()
        },
    );
    let (patched, whole) = reread(
        &api,
        &api.iam(),
        &before,
        &t,
        &ReadOptions::default(),
        &|_| {},
    )
    .await
    .expect("re-read");
    let why = whole.expect("read in full");
    assert!(why.contains(&elsewhere.id), "{why}");
    assert_eq!(patched, full(&api).await);

    // And what cannot be read one by one at all.
    let t = Touched {
        unknown: Some("a creation left no id".into()),
        ..Touched::default()
    };
    let (patched, whole) = reread(
        &api,
        &api.iam(),
        &before,
        &t,
        &ReadOptions::default(),
        &|_| {},
    )
    .await
    .expect("re-read");
    assert_eq!(whole.as_deref(), Some("a creation left no id"));
    assert_eq!(patched, full(&api).await);
}

//! The IAM reader of `orgctl access`: every role of every member account it is given, through
//! the [`IamApi`] seam.
//!
//! `access` reads more than `plan`: besides orgctl's roles under [`ROLE_PATH`] in full detail,
//! it needs the trust policy of **every** role (to find roles outside `/orgctl/` that a principal
//! outside the organization may assume, and the member role). One `ListRoles` without a path
//! prefix per account returns them all (trust policies included); then, per role under
//! `/orgctl/` only, GetRole (tags, boundary), ListAttachedRolePolicies, ListRolePolicies and
//! GetRolePolicy per inline policy. Request budget per account: 1 AssumeRole per role tried +
//! ListRoles pages + Σ roles under `/orgctl/` × (3 + inline count).
//!
//! Each account is reached with [`IamApi::connect`] (the read role, then the member role); when
//! neither can be assumed, the account is [`IamRead::Unreadable`], never an error of the whole
//! read. Accounts are read concurrently, at most `concurrency` at a time.
//!
//! TODO(dedupe): the plan's IAM reader (observe, issue 7 decision 4) reads the same roles under
//! `/orgctl/`; once it lands, share its per-role detail read.

use futures::StreamExt;
use orgctl_model::{IamRead, LiveAccessRole, ROLE_PATH, canonical_json_str};

use crate::api::ApiResult;
use crate::iam::{IamApi, RoleSummary};

/// What was read in one member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRoles {
    /// 12 digits.
    pub account_id: String,
    /// How it was read.
    pub read: IamRead,
    /// Every role (any path), as ListRoles returns them.
    pub roles: Vec<RoleSummary>,
    /// The roles under [`ROLE_PATH`], in full detail.
    pub access_roles: Vec<LiveAccessRole>,
}

/// Reads every account of `accounts` through `iam` (its [`crate::IamRoles`]: the read role
/// first when configured, then the member role; see [`IamApi::connect`]), at most
/// `concurrency` accounts at a time; `answered(done)` after each account. The result is in the
/// order of `accounts`. An account that cannot be reached, or whose reads fail, is
/// [`IamRead::Unreadable`] with the reason.
pub async fn read_account_roles<I: IamApi>(
    iam: &I,
    accounts: &[String],
    concurrency: usize,
    answered: &(dyn Fn(usize) + Sync),
) -> Vec<AccountRoles> {
    let mut out: Vec<(usize, AccountRoles)> = Vec::with_capacity(accounts.len());
    let mut stream = futures::stream::iter(accounts.iter().enumerate())
        .map(|(i, account)| async move { (i, read_one(iam, account).await) })
        .buffer_unordered(concurrency.max(1));
    while let Some(r) = stream.next().await {
        out.push(r);
        answered(out.len());
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

async fn read_one<I: IamApi>(iam: &I, account: &str) -> AccountRoles {
    let unreadable = |reason: String| AccountRoles {
        account_id: account.to_owned(),
        read: IamRead::Unreadable { reason },
        roles: Vec::new(),
        access_roles: Vec::new(),
    };
    let read = match iam.connect(account).await {
        Ok(read) => read,
        Err(e) => return unreadable(e.to_string()),
    };
    match read_with(iam, account).await {
        Ok((roles, access_roles)) => AccountRoles {
            account_id: account.to_owned(),
            read,
            roles,
            access_roles,
        },
        Err(e) => unreadable(e.to_string()),
    }
}

async fn read_with<A: IamApi>(
    api: &A,
    account: &str,
) -> ApiResult<(Vec<RoleSummary>, Vec<LiveAccessRole>)> {
    let roles = api.list_roles(account, "/").await?;
    let mut detailed = Vec::new();
    // Under the path as the full read counts it (`observe::read_iam`: ListRoles with PathPrefix
    // `/orgctl/`), so `drift` sees the roles `plan` sees and makes the same requests for them.
    for r in roles.iter().filter(|r| r.path.starts_with(ROLE_PATH)) {
        let role = api.get_role(account, &r.name).await?;
        let attached = api.list_attached_policies(account, &r.name).await?;
        let mut inline = std::collections::BTreeMap::new();
        for name in api.list_inline_policies(account, &r.name).await? {
            let doc = api.get_inline_policy(account, &r.name, &name).await?;
            inline.insert(name, canonical_json_str(&doc).unwrap_or(doc));
        }
        detailed.push(LiveAccessRole {
            account_id: account.to_owned(),
            role_name: r.name.clone(),
            path: r.path.clone(),
            trust_policy: canonical_json_str(&r.trust_policy)
                .unwrap_or_else(|| r.trust_policy.clone()),
            description: r.description.clone(),
            max_session_secs: r.max_session_secs,
            managed_policies: attached.into_iter().map(|p| p.arn).collect(),
            inline_policies: inline,
            permissions_boundary: role.permissions_boundary,
            tags: role.tags,
        });
    }
    Ok((roles, detailed))
}

#[cfg(test)]
mod tests {
    use orgctl_model::Tags;

    use super::*;
    use crate::MemoryIam;
    use crate::iam::NewRole;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn reads_every_role_and_details_only_those_under_orgctl() {
        let iam = MemoryIam::new().with_accounts(["222222222222", "333333333333"]);
        block_on(async {
            for (path, name) in [
                ("/", "vendor"),
                ("/orgctl/", "partner"),
                ("/orgctl/team/", "nested"),
            ] {
                iam.create_role(
                    "222222222222",
                    &NewRole {
                        path: path.into(),
                        name: name.into(),
                        trust_policy: r#"{"Statement":[]}"#.into(),
                        description: String::new(),
                        max_session_secs: 3600,
                        tags: Tags::new(),
                    },
                )
                .await
                .expect("create");
            }
            iam.put_inline_policy("222222222222", "partner", "p", r#"{ "Statement": [] }"#)
                .await
                .expect("put");
            let accounts = ["222222222222".to_owned(), "444444444444".to_owned()];
            let read = read_account_roles(&iam, &accounts, 4, &|_| {}).await;
            assert_eq!(read[0].read, IamRead::MemberRole);
            assert_eq!(read[0].roles.len(), 3);
            // Every role under /orgctl/, at any depth, as the full read details them.
            let detailed: Vec<_> = read[0].access_roles.iter().map(|r| &r.role_name).collect();
            assert_eq!(detailed, ["nested", "partner"]);
            assert_eq!(
                read[0].access_roles[1].inline_policies["p"],
                r#"{"Statement":[]}"#
            );
            assert!(matches!(read[1].read, IamRead::Unreadable { .. }));
        });
    }
}

//! `orgctl access`: who can reach each account, and how (issue 7 §4).
//!
//! Reads the organization as `plan` does, then IAM in every ACTIVE member account (or the one
//! `--account` names): every role and its trust policy, and orgctl's roles under `/orgctl/` in
//! full (see `orgctl_backend::access`). The review itself is pure
//! (`orgctl_planner::access_report::review`).

use std::process::ExitCode;

use orgctl_backend::MemoryIam;
use orgctl_backend::access::{AccountRoles, read_account_roles};
use orgctl_backend::iam::{IamApi, NewRole};
use orgctl_model::{
    AccountStatus, DesiredState, LiveState, MANAGED_BY_KEY, READ_ROLE_NAME, ROLE_PATH,
};
use orgctl_planner::access_report::{AccessReport, AccountIam, RoleTrust, review};

use super::{load, plan_options};
use crate::args::{AccessArgs, Format, Global};
use crate::error::CliError;
use crate::live::{Source, read_options, read_org as read};
use crate::ui;

/// Exit code 2: something is flagged (with --detailed-exitcode).
const EXIT_FLAGGED: u8 = 2;

/// `orgctl access`.
pub async fn access(a: &AccessArgs, g: &Global) -> Result<ExitCode, CliError> {
    let desired = load(&a.dir.dir, g)?;
    let today = plan_options(g)?.today;
    let source = Source::open(
        a.live.live_state.as_deref(),
        g,
        desired.organization.policies_per_target_limit,
    )
    .await?;
    let pinned = read_options(g, Some(&desired.organization.management_account_id));
    let report = match &source {
        Source::Snapshot { org, path } => {
            let mut live = read(org.as_ref(), &pinned).await?;
            // The organization read does not cover IAM: the snapshot's roles seed the sandbox.
            let recorded = crate::live::read_snapshot(path)?.live;
            live.access_roles = recorded.access_roles;
            live.iam_accounts = recorded.iam_accounts;
            let only = only_account(a, &desired, &live)?;
            let member = sandbox_iam(&live, &desired, false)
                .await
                .map_err(|message| CliError::Snapshot {
                    path: path.clone(),
                    message,
                })?;
            let read_role =
                match desired.organization.plan_role {
                    Some(_) => Some(sandbox_iam(&live, &desired, true).await.map_err(
                        |message| CliError::Snapshot {
                            path: path.clone(),
                            message,
                        },
                    )?),
                    None => None,
                };
            let iam = read_iam(read_role.as_ref(), &member, &live, only.as_deref(), g).await;
            review(&desired, &live, &iam, &today, only.as_deref())
        }
        Source::Aws(api) => {
            let result = async {
                let live = read(api, &pinned).await?;
                let only = only_account(a, &desired, &live)?;
                let member = api.iam(&desired.organization.member_role);
                let read_role = desired
                    .organization
                    .plan_role
                    .as_ref()
                    .map(|_| api.iam(&format!("{}{READ_ROLE_NAME}", &ROLE_PATH[1..])));
                let iam = read_iam(read_role.as_ref(), &member, &live, only.as_deref(), g).await;
                Ok::<AccessReport, CliError>(review(&desired, &live, &iam, &today, only.as_deref()))
            }
            .await;
            super::summarize_calls(api, g);
            result?
        }
    };
    for acct in &report.accounts {
        if let orgctl_planner::access_report::IamStatus::Unreadable { reason } = &acct.iam {
            ui::info(&format!(
                "warning: account {} ({}): IAM could not be read: {reason}",
                acct.name, acct.id
            ));
        }
    }
    let text = match a.format {
        Format::Text => orgctl_render::access_text(&report),
        Format::Markdown => orgctl_render::access_markdown(&report),
        Format::Json => orgctl_render::access_json(&report),
    };
    ui::stdout(&text);
    Ok(if a.detailed_exitcode && report.is_flagged() {
        ExitCode::from(EXIT_FLAGGED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The account `--account` names (by live name, desired name or id), as its id.
fn only_account(
    a: &AccessArgs,
    desired: &DesiredState,
    live: &LiveState,
) -> Result<Option<String>, CliError> {
    let Some(name) = &a.account else {
        return Ok(None);
    };
    let by_desired = desired.accounts.get(name).and_then(|spec| match &spec.id {
        Some(id) => live.accounts.iter().find(|l| &l.id == id),
        None => live
            .accounts
            .iter()
            .find(|l| l.email.eq_ignore_ascii_case(&spec.email)),
    });
    let found = by_desired.or_else(|| {
        live.accounts
            .iter()
            .find(|l| &l.name == name || &l.id == name)
    });
    match found {
        Some(acct) => Ok(Some(acct.id.clone())),
        None => Err(CliError::Usage(format!(
            "--account {name}: no account of organization {} has that name or id{}",
            live.organization.id,
            if desired.accounts.contains_key(name) {
                " (the desired state lists it, but it does not exist yet: run `orgctl apply`)"
            } else {
                ""
            }
        ))),
    }
}

/// Reads IAM in every ACTIVE member account (or only `only`), with progress on stderr.
async fn read_iam<R: IamApi, M: IamApi>(
    read_role: Option<&R>,
    member: &M,
    live: &LiveState,
    only: Option<&str>,
    g: &Global,
) -> Vec<AccountIam> {
    let accounts: Vec<String> = live
        .accounts
        .iter()
        .filter(|acct| {
            acct.status == AccountStatus::Active
                && acct.id != live.organization.management_account_id
                && only.is_none_or(|o| o == acct.id)
        })
        .map(|acct| acct.id.clone())
        .collect();
    let total = accounts.len();
    let progress = ui::Progress::new(Some(total as u64), "reading IAM in member accounts");
    let read = read_account_roles(
        read_role,
        member,
        &accounts,
        usize::from(g.concurrency),
        &|done| progress.set(format!("{done}/{total} accounts read")),
    )
    .await;
    progress.finish();
    read.into_iter().map(to_review_input).collect()
}

fn to_review_input(r: AccountRoles) -> AccountIam {
    AccountIam {
        account_id: r.account_id,
        read: r.read,
        roles: r
            .roles
            .into_iter()
            .map(|s| RoleTrust {
                path: s.path,
                name: s.name,
                trust_policy: s.trust_policy,
            })
            .collect(),
        access_roles: r.access_roles,
    }
}

/// The IAM of a `--live-state` sandbox, as the in-memory IAM: every ACTIVE member account with
/// the member role AWS Organizations creates in the accounts it creates (trusting the
/// management account, AdministratorAccess attached), plus the roles under `/orgctl/` the
/// snapshot records. With `read_role`, only the accounts where orgctl's read role is recorded
/// (the connection through the read role reaches only those). An account the snapshot records
/// as unreadable (`iam_accounts`, `via: unreadable`) cannot be reached at all, as an account
/// whose member role was removed.
///
/// TODO(dedupe): replace with the backend's MemoryIam linked to MemoryOrg once it lands.
async fn sandbox_iam(
    live: &LiveState,
    desired: &DesiredState,
    read_role: bool,
) -> Result<MemoryIam, String> {
    let managed: Vec<String> = live
        .access_roles
        .iter()
        .flat_map(|r| r.managed_policies.iter().chain(&r.permissions_boundary))
        .cloned()
        .collect();
    let iam = MemoryIam::new().with_managed_policies(managed);
    let mgmt = &live.organization.management_account_id;
    let member_role = &desired.organization.member_role;
    let (path, name) = match member_role.rsplit_once('/') {
        Some((p, n)) => (format!("/{p}/"), n.to_owned()),
        None => ("/".to_owned(), member_role.clone()),
    };
    for acct in live
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Active && &a.id != mgmt)
    {
        let has_read_role = live.access_roles.iter().any(|r| {
            r.account_id == acct.id && r.is_read_role() && r.tags.contains_key(MANAGED_BY_KEY)
        });
        let unreadable = live
            .iam_accounts
            .iter()
            .any(|r| r.account_id == acct.id && !r.read.is_readable());
        if unreadable || (read_role && !has_read_role) {
            continue;
        }
        iam.add_account(acct.id.clone());
        {
            let e = |e: orgctl_backend::ApiError| format!("account {}: {e}", acct.id);
            iam.create_role(
                &acct.id,
                &NewRole {
                    path: path.clone(),
                    name: name.clone(),
                    trust_policy: orgctl_model::trust_policy(
                        &format!("arn:aws:iam::{mgmt}:root"),
                        None,
                        false,
                        None,
                    ),
                    description: String::new(),
                    max_session_secs: 3600,
                    tags: Default::default(),
                },
            )
            .await
            .map_err(e)?;
            iam.attach_policy(
                &acct.id,
                &name,
                "arn:aws:iam::aws:policy/AdministratorAccess",
            )
            .await
            .map_err(e)?;
            for r in live.access_roles.iter().filter(|r| r.account_id == acct.id) {
                let e = |e: orgctl_backend::ApiError| {
                    format!("role {} in account {}: {e}", r.role_name, acct.id)
                };
                iam.create_role(
                    &acct.id,
                    &NewRole {
                        path: r.path.clone(),
                        name: r.role_name.clone(),
                        trust_policy: r.trust_policy.clone(),
                        description: r.description.clone(),
                        max_session_secs: r.max_session_secs,
                        tags: r.tags.clone(),
                    },
                )
                .await
                .map_err(e)?;
                for arn in &r.managed_policies {
                    iam.attach_policy(&acct.id, &r.role_name, arn)
                        .await
                        .map_err(e)?;
                }
                for (policy, doc) in &r.inline_policies {
                    iam.put_inline_policy(&acct.id, &r.role_name, policy, doc)
                        .await
                        .map_err(e)?;
                }
                if let Some(b) = &r.permissions_boundary {
                    iam.put_permissions_boundary(&acct.id, &r.role_name, b)
                        .await
                        .map_err(e)?;
                }
            }
        }
    }
    Ok(iam)
}

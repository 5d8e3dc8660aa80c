//! `orgctl access`: who can reach each account, and how (issue 7 §4).
//!
//! Reads the organization as `plan` does, then IAM in every ACTIVE member account (or the one
//! `--account` names): every role and its trust policy, and orgctl's roles under `/orgctl/` in
//! full (see `orgctl_backend::access`). The review itself is pure
//! (`orgctl_planner::access_report::review`).

use std::process::ExitCode;

use orgctl_backend::access::{AccountRoles, read_account_roles};
use orgctl_backend::{IamApi, IamRoles};
use orgctl_model::{AccountStatus, DesiredState, LiveState};
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
    let roles = IamRoles::read(
        &desired.organization.member_role,
        desired.organization.plan_role.as_deref(),
    );
    let report = match &source {
        Source::Snapshot { org, .. } => {
            // The sandbox's IAM: the roles the snapshot records, linked to its organization.
            let live = read(org.as_ref(), &pinned).await?;
            let only = only_account(a, &desired, &live)?;
            let iam = org.iam().with_roles(roles);
            let iam = read_iam(&iam, &live, only.as_deref(), g).await;
            review(&desired, &live, &iam, &today, only.as_deref())
        }
        Source::Aws(api) => {
            let result = async {
                let live = read(api, &pinned).await?;
                let only = only_account(a, &desired, &live)?;
                let iam = read_iam(&api.iam(roles), &live, only.as_deref(), g).await;
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
pub(super) async fn read_iam<I: IamApi>(
    iam: &I,
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
    let read = read_account_roles(iam, &accounts, usize::from(g.concurrency), &|done| {
        progress.set(format!("{done}/{total} accounts read"))
    })
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

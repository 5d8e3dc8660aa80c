//! `orgctl drift`: every difference between the desired state and AWS, classified (issue 8 §2).
//!
//! Reads everything: the organization (as `plan`), then IAM in every ACTIVE member account as
//! `orgctl access` reads it (every role and its trust policy, orgctl's roles under `/orgctl/` in
//! full; see `orgctl_backend::access`), which also gives the plan its IAM, so each account is
//! read once. Then plans, classifies each change by the records of the last apply, and reviews
//! access for roles trusting outside principals. The report itself is pure
//! (`orgctl_planner::drift::report`). Never writes to AWS.

use std::process::ExitCode;

use orgctl_backend::{IamApi, IamRoles, OrgApi, ReadOptions};
use orgctl_model::{DesiredState, IamRead, LiveIamAccount};
use orgctl_planner::PlanOptions;
use orgctl_planner::access_report::review;
use orgctl_planner::drift::{DriftInput, DriftReport, Provenance, report};
use orgctl_planner::records::Records;

use super::access::read_iam;
use super::{load, plan_options};
use crate::args::{DriftArgs, Format, Global};
use crate::error::CliError;
use crate::live::{Source, read_options, read_org, write_file};
use crate::ui;

/// Exit code 2: there is drift (with --detailed-exitcode).
const EXIT_DRIFT: u8 = 2;

/// `orgctl drift`.
pub async fn drift(a: &DriftArgs, g: &Global) -> Result<ExitCode, CliError> {
    let desired = load(&a.dir.dir, g)?;
    let options = plan_options(g)?;
    let source = Source::open(
        a.live.live_state.as_deref(),
        g,
        desired.organization.policies_per_target_limit,
    )
    .await?;
    let read = read_options(g, Some(&desired.organization.management_account_id));
    // Reads try orgctl's read role first (when a plan role is configured), as `plan` does.
    let roles = IamRoles::read(
        &desired.organization.member_role,
        desired.organization.plan_role.as_deref(),
    );
    let report = match &source {
        Source::Snapshot { org, .. } => {
            let iam = org.iam().with_roles(roles);
            drift_against(org.as_ref(), &iam, &desired, &options, &read, g).await?
        }
        Source::Aws(api) => {
            let r = drift_against(api, &api.iam(roles), &desired, &options, &read, g).await;
            super::summarize_calls(api, g);
            r?
        }
    };
    let text = match a.format {
        Format::Text => orgctl_render::drift_text(&report),
        Format::Markdown => orgctl_render::drift_markdown(&report),
        Format::Json => orgctl_render::drift_json(&report),
    };
    match &a.out {
        Some(path) => {
            write_file(path, &text)?;
            ui::stdout(&format!(
                "{} The report is in {}.\n",
                orgctl_render::drift_summary(&report),
                path.display()
            ));
        }
        None => ui::stdout(&text),
    }
    if !report.errors.is_empty() {
        for e in &report.errors {
            let at = e
                .source
                .as_ref()
                .map(|s| format!("{s}: "))
                .unwrap_or_default();
            ui::error(&format!("{at}{}: {}", e.address, e.message));
        }
        return Err(CliError::PlanErrors(report.errors.len()));
    }
    Ok(if a.detailed_exitcode && report.is_drift() {
        ExitCode::from(EXIT_DRIFT)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads the organization and IAM, plans and classifies.
async fn drift_against<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    desired: &DesiredState,
    options: &PlanOptions,
    read: &ReadOptions,
    g: &Global,
) -> Result<DriftReport, CliError> {
    let mut live = read_org(api, read).await?;
    let accounts = read_iam(iam, &live, None, g).await;
    live.access_roles = accounts
        .iter()
        .flat_map(|a| a.access_roles.iter().cloned())
        .collect();
    live.iam_accounts = accounts
        .iter()
        .map(|a| LiveIamAccount {
            account_id: a.account_id.clone(),
            read: a.read.clone(),
        })
        .collect();
    live.normalize();
    for a in &live.iam_accounts {
        match &a.read {
            IamRead::Unreadable { reason } => ui::info(&format!(
                "warning: IAM in account {} could not be read, so its roles are unknown: {reason}",
                a.account_id
            )),
            IamRead::Fallback { reason } => ui::info(&format!(
                "warning: IAM in account {} was read through the member role, since orgctl's \
                 read role could not be assumed: {reason}",
                a.account_id
            )),
            IamRead::ReadRole | IamRead::MemberRole => {}
        }
    }
    // The plan sees IAM as `plan` and `apply` read it (grant targets, accounts carrying the
    // roles record, read-role accounts); the report gets the full read, and lists orgctl's
    // roles elsewhere as unmanaged.
    let selected = orgctl_planner::iam_accounts(desired, &live, options);
    let mut as_planned = live.clone();
    as_planned
        .access_roles
        .retain(|r| selected.contains(&r.account_id));
    as_planned
        .iam_accounts
        .retain(|a| selected.contains(&a.account_id));
    let plan = orgctl_planner::plan(desired, &as_planned, options);
    // Out-of-band or pending: the records of what the last apply applied (`records`).
    let records = Records::new(desired, &live, options);
    let provenance: Vec<Provenance> = plan.changes.iter().map(|c| records.provenance(c)).collect();
    let applied_on: Vec<Option<String>> = plan
        .changes
        .iter()
        .map(|c| records.recorded_on(c).map(str::to_owned))
        .collect();
    let access = review(desired, &live, &accounts, &options.today, None);
    Ok(report(&DriftInput {
        desired,
        live: &live,
        plan: &plan,
        provenance: &provenance,
        applied_on: &applied_on,
        access: &access,
    }))
}

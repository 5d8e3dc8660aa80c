//! One function per subcommand.

mod access;
mod drift;
mod import;
mod shell;

pub use access::access;
pub use drift::drift;
pub use import::import;
pub use shell::{completions, man};

use std::path::Path;
use std::process::ExitCode;

use orgctl_applier::{ApplyOptions, ChangeOutcome, Reporter};
use std::time::Duration;

use orgctl_backend::lease::{self, LeaseError, LeaseOptions};
use orgctl_backend::{IamApi, IamRoles, OrgApi};
use orgctl_manifest::Loaded;
use orgctl_model::{DesiredState, LiveState};
use orgctl_planner::{Change, Plan, PlanOptions, planfile};
use orgctl_render::RenderOptions;

use crate::args::{
    ApplyArgs, DEFAULT_DIR, DirArg, ForceUnlockArgs, Format, Global, LiveArg, PlanArgs,
    SnapshotArgs,
};
use crate::error::CliError;
use crate::live::{
    IamScope, Source, read, read_options, scoped_read_options, snapshot_json, write_file,
};
use crate::ui;

/// Exit code 2: the plan has changes (with --detailed-exitcode).
const EXIT_CHANGES: u8 = 2;

/// Loads and validates the desired state, judging grant expiries against `--today` (default
/// the current UTC date); diagnostics go to stderr.
fn load(dir: &Path, g: &Global) -> Result<DesiredState, CliError> {
    let options = orgctl_manifest::LoadOptions {
        today: Some(plan_options(g)?.today),
    };
    match orgctl_manifest::load_dir_with(dir, &options) {
        Ok(Loaded { desired, warnings }) => {
            for w in &warnings {
                ui::info(&w.to_string());
            }
            Ok(desired)
        }
        Err(e) => Err(CliError::Load(e)),
    }
}

/// `orgctl validate`.
pub fn validate(dir: &Path, g: &Global) -> Result<ExitCode, CliError> {
    let desired = load(dir, g)?;
    ui::info(&format!(
        "{}: valid ({} OUs, {} accounts, {} policies{})",
        dir.display(),
        desired.ous.len(),
        desired.accounts.len(),
        desired.policies.len(),
        match desired.grants.len() {
            0 => String::new(),
            n => format!(", {n} grants"),
        }
    ));
    Ok(ExitCode::SUCCESS)
}

fn plan_options(g: &Global) -> Result<PlanOptions, CliError> {
    let today = match &g.today {
        Some(t) if ui::valid_date(t) => t.clone(),
        Some(t) => {
            return Err(CliError::Usage(format!(
                "--today {t}: expected a date as YYYY-MM-DD"
            )));
        }
        None => ui::today_utc(),
    };
    Ok(PlanOptions { today })
}

/// Prints plan errors to stderr and fails when there are any.
fn check_plan_errors(plan: &Plan) -> Result<(), CliError> {
    for e in &plan.errors {
        let at = e
            .source
            .as_ref()
            .map(|s| format!("{s}: "))
            .unwrap_or_default();
        ui::error(&format!("{at}{}: {}", e.address, e.message));
    }
    if plan.errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::PlanErrors(plan.errors.len()))
    }
}

/// `orgctl plan`.
pub async fn plan(a: &PlanArgs, g: &Global) -> Result<ExitCode, CliError> {
    let desired = load(&a.dir.dir, g)?;
    let options = plan_options(g)?;
    let source = Source::open(
        a.live.live_state.as_deref(),
        g,
        desired.organization.policies_per_target_limit,
    )
    .await?;
    // Reads try orgctl's read role first (when a plan role is configured).
    let roles = IamRoles::read(
        &desired.organization.member_role,
        desired.organization.plan_role.as_deref(),
    );
    let plan = match &source {
        Source::Snapshot { org, .. } => {
            let iam = org.iam().with_roles(roles);
            plan_against(org.as_ref(), &iam, &desired, &options, g).await?
        }
        Source::Aws(api) => {
            let plan = plan_against(api, &api.iam(roles), &desired, &options, g).await;
            summarize_calls(api, g);
            plan?
        }
    };
    let text = match a.format {
        Format::Text => orgctl_render::text(
            &plan,
            &RenderOptions {
                color: ui::stdout_color(),
            },
        ),
        Format::Markdown => orgctl_render::markdown(&plan),
        Format::Json => orgctl_render::json(&plan),
    };
    ui::stdout(&text);
    if let Some(out) = &a.out {
        write_file(out, &orgctl_render::json(&plan))?;
        ui::info(&format!(
            "Saved the plan to {}; apply it with `orgctl apply --plan {}`.",
            out.display(),
            out.display()
        ));
    }
    check_plan_errors(&plan)?;
    Ok(if a.detailed_exitcode && !plan.is_empty() {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}

async fn plan_against<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    desired: &DesiredState,
    options: &PlanOptions,
    g: &Global,
) -> Result<Plan, CliError> {
    let live = read(
        api,
        iam,
        &scoped_read_options(g, desired),
        IamScope::For(desired, options),
    )
    .await?;
    Ok(orgctl_planner::plan(desired, &live, options))
}

/// `orgctl apply`.
pub async fn apply(a: &ApplyArgs, g: &Global) -> Result<ExitCode, CliError> {
    let desired = load(&a.dir.dir, g)?;
    let options = plan_options(g)?;
    let saved = match &a.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
                action: "read",
                path: path.clone(),
                source,
            })?;
            Some(
                planfile::from_json(&text).map_err(|source| CliError::PlanFile {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let apply_options = ApplyOptions {
        allow_close: a.allow_close,
        ..Default::default()
    };
    if let Some(saved) = &saved {
        // A plan is made for one day (grant expiry is judged against it): a plan saved before
        // an expiry must not be applied after it. Refused before touching AWS.
        if saved.today != options.today {
            return Err(CliError::StalePlan(format!(
                "the saved plan {} was made for {} but today is {}: access grants expire by the                  day, so a plan is only applied on the day it was made for; run `orgctl plan                  --out FILE` again (nothing was changed)",
                a.plan
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                saved.today,
                options.today
            )));
        }
        // Refuse before touching AWS when the desired state moved on.
        if saved.desired_fingerprint != desired.fingerprint() {
            return Err(CliError::StalePlan(format!(
                "the saved plan is stale: the desired state in {} changed since it was made; run \
                 `orgctl plan --out FILE` again (nothing was changed)",
                a.dir.dir.display()
            )));
        }
        orgctl_applier::preflight(saved, &apply_options)?;
    }
    let source = Source::open(
        a.live.live_state.as_deref(),
        g,
        desired.organization.policies_per_target_limit,
    )
    .await?;
    // apply reads and writes IAM through the member role.
    let roles = IamRoles::write(&desired.organization.member_role);
    let result = match &source {
        Source::Snapshot { org, path } => {
            let iam = org.iam().with_roles(roles);
            let r = apply_against(
                org.as_ref(),
                &iam,
                &desired,
                saved,
                &options,
                &apply_options,
                a,
                g,
            )
            .await;
            // The snapshot file is the organization: it records whatever was written, also
            // when the apply failed part-way; a refused apply leaves it untouched.
            if org.write_call_count() + iam.write_call_count() > 0 {
                write_file(path, &snapshot_json(&org.to_live(), &org.root_tags()))?;
            }
            r
        }
        Source::Aws(api) => {
            let iam = api.iam(roles);
            let r = apply_against(api, &iam, &desired, saved, &options, &apply_options, a, g).await;
            summarize_calls(api, g);
            r
        }
    };
    result
        .map_err(|e| with_unlock_command(e, &a.dir, &a.live, g))
        .map(|()| ExitCode::SUCCESS)
}

/// A held lease's message names the exact `orgctl force-unlock` command for the organization
/// this command worked on: the token, then the same directory, snapshot, profile and region.
fn with_unlock_command(e: CliError, dir: &DirArg, live: &LiveArg, g: &Global) -> CliError {
    let CliError::Lease(lease) = e else {
        return e;
    };
    match *lease {
        LeaseError::Held {
            holder,
            since,
            until,
            root_id,
            waited,
            token,
            unlock_args: _,
        } => {
            let mut args = Vec::new();
            if dir.dir != Path::new(DEFAULT_DIR) {
                args.push(dir.dir.display().to_string());
            }
            if let Some(file) = &live.live_state {
                args.extend(["--live-state".to_owned(), file.display().to_string()]);
            }
            if let Some(profile) = &g.profile {
                args.extend(["--profile".to_owned(), profile.clone()]);
            }
            if let Some(region) = &g.region {
                args.extend(["--region".to_owned(), region.clone()]);
            }
            let unlock_args = args.iter().map(|a| format!(" {}", shell_word(a))).collect();
            LeaseError::Held {
                holder,
                since,
                until,
                root_id,
                waited,
                token,
                unlock_args,
            }
            .into()
        }
        other => other.into(),
    }
}

/// `word` as one shell word: as it is when it is plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `orgctl force-unlock TOKEN [DIR]`.
pub async fn force_unlock(a: &ForceUnlockArgs, g: &Global) -> Result<ExitCode, CliError> {
    let desired = load(&a.dir.dir, g)?;
    let source = Source::open(
        a.live.live_state.as_deref(),
        g,
        desired.organization.policies_per_target_limit,
    )
    .await?;
    let read = read_options(g, Some(&desired.organization.management_account_id));
    let result = match &source {
        Source::Snapshot { org, path } => {
            let r = force_unlock_against(org.as_ref(), &read, a).await;
            if org.write_call_count() > 0 {
                write_file(path, &snapshot_json(&org.to_live(), &org.root_tags()))?;
            }
            r
        }
        Source::Aws(api) => {
            let r = force_unlock_against(api, &read, a).await;
            summarize_calls(api, g);
            r
        }
    };
    result.map(|()| ExitCode::SUCCESS)
}

async fn force_unlock_against<A: OrgApi>(
    api: &A,
    read: &orgctl_backend::ReadOptions,
    a: &ForceUnlockArgs,
) -> Result<(), CliError> {
    // The wrong organization is refused before the lease is even read, as apply does.
    let org = orgctl_backend::observe::check_organization(api, read).await?;
    let options = LeaseOptions::default();
    let held = lease::find_by_token(api, &a.token, &options).await?;
    let what = format!(
        "the apply lease of {} (since {}, until {}, token {}) on organization {}",
        held.holder, held.since, held.until, a.token, org.id
    );
    if !a.yes {
        if !ui::interactive() {
            return Err(CliError::Refused(format!(
                "refusing to release {what} without confirmation: stdin is not a terminal; pass \
                 --yes to release it non-interactively (nothing was changed)"
            )));
        }
        if !ui::confirm(&format!(
            "Release {what}? Do this only when no apply is running: an apply still running \
             under this lease would go on beside the next one."
        )) {
            return Err(CliError::Refused(
                "force-unlock cancelled (nothing was changed)".into(),
            ));
        }
    }
    // Checked again right before the write: the token must still hold the lease.
    let released = lease::release_by_token(api, &a.token, &options).await?;
    ui::info(&format!(
        "Released the apply lease of {} (since {}, until {}, serial {}) on organization {}; the \
         next apply takes it. Run `orgctl plan` to see what the stopped apply left to do.",
        released.holder, released.since, released.until, released.serial, org.id
    ));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn apply_against<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    desired: &DesiredState,
    saved: Option<Plan>,
    options: &PlanOptions,
    apply_options: &ApplyOptions,
    a: &ApplyArgs,
    g: &Global,
) -> Result<(), CliError> {
    // The apply lease (see `orgctl_backend::lease`): looked at before the read, so that an
    // apply that has to wait reads the organization the other one left; taken after the plan is
    // confirmed, before the first write. A plan never needs it.
    let lease_options = lease_options(a);
    let started = std::time::Instant::now();
    let read = scoped_read_options(g, desired);
    // The wrong organization is refused before anything else, the lease included.
    orgctl_backend::observe::check_organization(api, &read).await?;
    let seen = match lease::wait_until_free(
        api,
        &LeaseOptions {
            wait: Duration::ZERO,
            ..lease_options.clone()
        },
    )
    .await
    {
        Err(LeaseError::Held { holder, until, .. }) if !a.wait_lock.is_zero() => {
            ui::info(&format!(
                "Another apply holds the lease ({holder}, until {until}); waiting up to {}s.",
                a.wait_lock.as_secs()
            ));
            lease::wait_until_free(api, &lease_options).await?
        }
        other => other?,
    };
    let live: LiveState =
        crate::live::read(api, iam, &read, IamScope::For(desired, options)).await?;
    // A saved plan is only trusted as far as it is the plan orgctl makes now: the fresh plan
    // is applied, and only when the saved one equals it (else the file was edited after review).
    let plan = orgctl_planner::plan(desired, &live, options);
    if let Some(saved) = saved {
        if saved.live_fingerprint != plan.live_fingerprint {
            return Err(CliError::StalePlan(
                "the saved plan is stale: the organization changed since it was made; run \
                 `orgctl plan --out FILE` again (nothing was changed)"
                    .into(),
            ));
        }
        if let Some(difference) = planfile::difference(&saved, &plan) {
            return Err(CliError::StalePlan(format!(
                "the saved plan {} does not match the plan made now from the same desired state \
                 and organization ({difference}): it was edited after it was made, or made by \
                 another orgctl version; review a fresh `orgctl plan --out FILE` (nothing was \
                 changed)",
                a.plan
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )));
        }
    }
    ui::stdout(&orgctl_render::text(
        &plan,
        &RenderOptions {
            color: ui::stdout_color(),
        },
    ));
    check_plan_errors(&plan)?;
    // Nothing to change and every record of what was applied current: no lease, no write.
    if plan.is_empty() && plan.records.is_empty() {
        return Ok(());
    }
    orgctl_applier::preflight(&plan, apply_options)?;
    // Records alone change nothing orgctl manages: they need no confirmation.
    if !a.auto_approve && !plan.is_empty() {
        if !ui::interactive() {
            return Err(CliError::Refused(
                "refusing to apply without confirmation: stdin is not a terminal; pass \
                 --auto-approve to apply non-interactively (nothing was changed)"
                    .into(),
            ));
        }
        let changes = match plan.changes.len() {
            1 => "this 1 change".to_owned(),
            n => format!("these {n} changes"),
        };
        if !ui::confirm(&format!(
            "Apply {changes} to organization {}?",
            plan.organization_id
        )) {
            return Err(CliError::Refused(
                "apply cancelled (nothing was changed)".into(),
            ));
        }
    }
    // `--wait-lock` bounds the whole wait: what is left of it after the first one.
    let lease_options = LeaseOptions {
        wait: a.wait_lock.saturating_sub(started.elapsed()),
        ..lease_options
    };
    let lease = lease::acquire(api, &lease_options, &seen).await?;
    if let Some(expired) = &lease.took_over {
        ui::info(&format!(
            "warning: took over the expired apply lease of {expired}; if that apply is still \
             running, the two may interleave"
        ));
    }
    // Ctrl-C stops the apply where it is (as a kill would: a rerun converges) and still
    // releases the lease.
    let work = async {
        tokio::select! {
            result = apply_leased(api, iam, desired, &plan, options, apply_options, &read, &live, a, g) => result,
            _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
        }
    };
    let (outcome, released) = lease.run(api, &lease_options, &read, &live, work).await;
    if let Err(e) = &released
        && !matches!(e, LeaseError::Lost { .. })
    {
        ui::info(&format!(
            "warning: could not release the apply lease ({e}); other applies wait for it until \
             it expires"
        ));
    }
    outcome?
}

/// The writes, under the lease: the plan's changes, then a read of what they wrote (patched into
/// `before`, the state the plan was made from; the whole scoped read again with
/// `--full-verify`) that must plan nothing, and the records of what was applied
/// (`orgctl:applied`) on every resource that read finds as the YAML says — also after a failed
/// change, on the resources no remaining change depends on. A plan with no changes only writes
/// its records.
#[allow(clippy::too_many_arguments)]
async fn apply_leased<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    desired: &DesiredState,
    plan: &Plan,
    options: &PlanOptions,
    apply_options: &ApplyOptions,
    read: &orgctl_backend::ReadOptions,
    before: &LiveState,
    a: &ApplyArgs,
    g: &Global,
) -> Result<(), CliError> {
    if plan.is_empty() {
        let recorded = orgctl_applier::record(api, &plan.records).await?;
        ui::info(&format!(
            "Recorded {}. The organization matches the desired state.",
            resources(recorded)
        ));
        return Ok(());
    }
    let mut reporter = Progress::new(plan.changes.len(), g.verbose);
    let report = orgctl_applier::apply(plan, api, iam, apply_options, &mut reporter).await;
    reporter.bar.finish();
    let report = report?;
    // The check of `orgctl_applier::verify_applied` (`verify` with --full-verify), with the
    // read's progress shown; IAM where plans read it.
    let live = if a.full_verify {
        crate::live::read_as(
            api,
            iam,
            read,
            "verifying (reading the organization again)",
            IamScope::For(desired, options),
        )
        .await
    } else {
        crate::live::reread_applied(
            api,
            iam,
            before,
            plan,
            &report,
            read,
            IamScope::For(desired, options),
        )
        .await
    };
    let again = match live {
        Ok(live) => orgctl_planner::plan(desired, &live, options),
        Err(_) if !report.is_success() => {
            return Err(CliError::Partial(report.failed(), report.skipped()));
        }
        Err(e) => return Err(e),
    };
    let recorded = orgctl_applier::record(api, &again.records).await;
    if !report.is_success() {
        if let Err(e) = &recorded {
            ui::info(&format!("warning: {e}"));
        }
        return Err(CliError::Partial(report.failed(), report.skipped()));
    }
    let recorded = recorded?;
    if !again.changes.is_empty() {
        return Err(CliError::NotConverged(
            again.changes.iter().map(describe).collect(),
        ));
    }
    ui::info(&format!(
        "Apply complete: {} changed, {} already in effect, {} recorded. The organization \
         matches the desired state.",
        report.done(),
        report.already_done(),
        resources(recorded)
    ));
    Ok(())
}

/// `1 resource`, `3 resources`.
fn resources(n: usize) -> String {
    match n {
        1 => "1 resource".to_owned(),
        n => format!("{n} resources"),
    }
}

/// The lease as this apply takes it: `--wait-lock`, `--lock-holder` (default user@host/pid).
fn lease_options(a: &ApplyArgs) -> LeaseOptions {
    let holder = a.lock_holder.clone().unwrap_or_else(|| {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let user = var("USER")
            .or_else(|| var("USERNAME"))
            .unwrap_or_else(|| "someone".to_owned());
        let host = var("HOSTNAME")
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
            })
            .unwrap_or_else(|| "unknown-host".to_owned());
        format!("{user}@{host}/{}", std::process::id())
    });
    LeaseOptions {
        holder,
        wait: a.wait_lock,
        clock: std::time::SystemTime::now,
        ..LeaseOptions::default()
    }
}

fn describe(c: &Change) -> String {
    format!("{} {}", c.action.as_str(), c.address)
}

/// Reports apply progress on stderr: a bar on a terminal, lines with counts elsewhere.
struct Progress {
    bar: ui::Progress,
    verbose: u8,
    total: usize,
    finished: usize,
    failed: usize,
    skipped: usize,
}

impl Progress {
    fn new(total: usize, verbose: u8) -> Self {
        Progress {
            bar: ui::Progress::new(Some(total as u64), "applying"),
            verbose,
            total,
            finished: 0,
            failed: 0,
            skipped: 0,
        }
    }
}

impl Reporter for Progress {
    fn finished(&mut self, _index: usize, _total: usize, change: &Change, outcome: &ChangeOutcome) {
        self.bar.inc();
        self.finished += 1;
        let line = match outcome {
            ChangeOutcome::Done if self.verbose > 0 => {
                Some(format!("  done: {}", describe(change)))
            }
            ChangeOutcome::AlreadyDone if self.verbose > 0 => {
                Some(format!("  already in effect: {}", describe(change)))
            }
            ChangeOutcome::Failed(e) => {
                self.failed += 1;
                Some(format!("  FAILED: {}: {e}", describe(change)))
            }
            ChangeOutcome::Skipped(why) => {
                self.skipped += 1;
                Some(format!("  skipped: {}: {why}", describe(change)))
            }
            _ => None,
        };
        self.bar.set(format!(
            "{}/{} changes finished ({} failed, {} skipped)",
            self.finished, self.total, self.failed, self.skipped
        ));
        if let Some(line) = line {
            self.bar.println(&line);
        }
    }
}

/// `orgctl snapshot`.
pub async fn snapshot(a: &SnapshotArgs, g: &Global) -> Result<ExitCode, CliError> {
    let Source::Aws(api) = Source::open(None, g, 5).await? else {
        return Err(CliError::Internal("snapshot reads AWS only".into()));
    };
    // No desired state here: orgctl's read role is tried first, then the default member role.
    let roles = IamRoles::read(orgctl_model::DEFAULT_MEMBER_ROLE, Some(""));
    let live = read(&api, &api.iam(roles), &read_options(g, None), IamScope::All).await;
    summarize_calls(&api, g);
    let json = snapshot_json(&live?, &Default::default());
    match &a.out {
        Some(path) => {
            write_file(path, &json)?;
            ui::info(&format!(
                "Wrote the live organization to {}.",
                path.display()
            ));
        }
        None => ui::stdout(&json),
    }
    Ok(ExitCode::SUCCESS)
}

/// With -v, the AWS calls made (and retried) per operation.
fn summarize_calls(api: &orgctl_aws::SdkOrg, g: &Global) {
    if g.verbose == 0 {
        return;
    }
    let recorder = api.recorder();
    let summary = recorder.summary();
    let total: usize = summary.values().map(|(calls, _)| calls).sum();
    ui::info(&format!("AWS requests: {total}"));
    for (op, (calls, failed)) in summary {
        ui::info(&format!(
            "  {op:<40} {calls:>6} ({failed} failed or retried)"
        ));
    }
    let stats = api.retrier().stats();
    if stats.retries() > 0 || stats.rate_decreases > 0 {
        let rate = api
            .retrier()
            .current_rate()
            .map_or_else(|| "unlimited".to_owned(), |r| format!("{r:.1}/s"));
        ui::info(&format!(
            "AWS retries: {}; throttling lowered the request rate {} time(s), now {rate}; retry \
             budget spent {} time(s)",
            stats.retries(),
            stats.rate_decreases,
            stats.budget_exhausted
        ));
    }
}

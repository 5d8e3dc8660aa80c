//! Where the live organization comes from: AWS through the SDK, or a snapshot file served by the
//! strict in-memory organization. The snapshot format is versioned here.

use std::path::{Path, PathBuf};

use orgctl_backend::{IamApi, MemoryOrg, OrgApi, ReadOptions, RetryPolicy, read_all_selecting};
use orgctl_model::DesiredState;
use orgctl_model::{IamRead, LiveState, Tags};
use orgctl_planner::PlanOptions;
use serde::{Deserialize, Serialize};

use crate::args::Global;
use crate::error::CliError;

/// The snapshot format version this orgctl writes and reads.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// A live-state snapshot file.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "orgctl live-state snapshot (format_version 1)")]
struct Snapshot {
    /// The version of this format: 1. A reader refuses any other.
    #[schemars(extend("const" = SNAPSHOT_FORMAT_VERSION))]
    format_version: u32,
    /// The root's tags: not part of the live state (orgctl does not manage them, plans do not
    /// show them, fingerprints do not cover them), kept so that a sandbox's root carries its
    /// tags, the apply lease among them, from one run to the next as AWS's root does.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    root_tags: Tags,
    /// The organization.
    #[serde(flatten)]
    live: LiveState,
}

/// What a snapshot file holds.
pub struct SnapshotFile {
    /// The organization.
    pub live: LiveState,
    /// The root's tags (see `Snapshot::root_tags`).
    pub root_tags: Tags,
}

/// Reads a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<SnapshotFile, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| CliError::Snapshot {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(SNAPSHOT_FORMAT_VERSION)) {
        return Err(CliError::Snapshot {
            path: path.to_owned(),
            message: format!(
                "format_version is {}, this orgctl reads {SNAPSHOT_FORMAT_VERSION}",
                version.map_or_else(|| "missing".to_owned(), |v| v.to_string())
            ),
        });
    }
    let snap: Snapshot = serde_json::from_value(value).map_err(|e| CliError::Snapshot {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut live = snap.live;
    live.normalize();
    Ok(SnapshotFile {
        live,
        root_tags: snap.root_tags,
    })
}

/// The snapshot JSON of a live state and its root's tags.
pub fn snapshot_json(live: &LiveState, root_tags: &Tags) -> String {
    let mut live = live.clone();
    live.normalize();
    let snap = Snapshot {
        format_version: SNAPSHOT_FORMAT_VERSION,
        root_tags: root_tags.clone(),
        live,
    };
    orgctl_render::safe_json(&serde_json::to_string_pretty(&snap).unwrap_or_default())
}

/// The JSON Schema (draft 2020-12) of a snapshot file, as committed in
/// `docs/snapshot.schema.json`.
pub fn snapshot_schema() -> String {
    orgctl_model::schema::to_text(schemars::schema_for!(Snapshot))
}

/// Writes a file, replacing it atomically (write to a temporary file, then rename).
pub fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    let io = |source| CliError::Io {
        action: "write",
        path: path.to_owned(),
        source,
    };
    let tmp: PathBuf = {
        let mut name = path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".orgctl-tmp");
        path.with_file_name(name)
    };
    let mut body = text.to_owned();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    std::fs::write(&tmp, body).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The organization a command works on.
pub enum Source {
    /// A snapshot file, served by the in-memory organization.
    Snapshot {
        /// The organization.
        org: Box<MemoryOrg>,
        /// Its file (apply writes it back).
        path: PathBuf,
    },
    /// AWS, every request retried under the default policy.
    Aws(orgctl_aws::SdkOrg),
}

impl Source {
    /// Opens the snapshot file when given, else connects to AWS.
    pub async fn open(
        live_state: Option<&Path>,
        g: &Global,
        policy_limit: u32,
    ) -> Result<Self, CliError> {
        match live_state {
            Some(path) => {
                let SnapshotFile { live, root_tags } = read_snapshot(path)?;
                let org = MemoryOrg::from_live(&live)
                    .map_err(|e| CliError::Snapshot {
                        path: path.to_owned(),
                        message: e.to_string(),
                    })?
                    .with_policy_limit(policy_limit as usize)
                    .with_root_tags(root_tags);
                Ok(Source::Snapshot {
                    org: Box::new(org),
                    path: path.to_owned(),
                })
            }
            None => {
                let opts = orgctl_aws::AwsOptions {
                    profile: g.profile.clone(),
                    region: g.region.clone(),
                    page_size: g.page_size,
                };
                let sdk = orgctl_aws::connect(&opts)
                    .await?
                    .with_retry(RetryPolicy::default());
                // Long reads and applies show their retries (`crate::ui::Progress`).
                crate::ui::watch_retries(sdk.retrier());
                Ok(Source::Aws(sdk))
            }
        }
    }
}

/// How to read the organization: with the command-line concurrency, and (when `pinned` is
/// given) refusing any organization but the pinned one right after the first request.
pub fn read_options(g: &Global, pinned: Option<&str>) -> ReadOptions {
    ReadOptions {
        concurrency: usize::from(g.concurrency),
        expect_management_account: pinned.map(str::to_owned),
        scope: None,
    }
}

/// How `plan` and `apply` read: as [`read_options`] with the desired state's pin, and only what
/// the desired state manages (`orgctl_planner::read_scope`); `drift`, `access`, `import` and
/// `snapshot` read everything.
pub fn scoped_read_options(g: &Global, desired: &orgctl_model::DesiredState) -> ReadOptions {
    ReadOptions {
        scope: Some(orgctl_planner::read_scope(desired)),
        ..read_options(g, Some(&desired.organization.management_account_id))
    }
}

/// Which member accounts' IAM a read covers.
#[derive(Debug, Clone, Copy)]
pub enum IamScope<'a> {
    /// Every ACTIVE member account (`snapshot`, `import`).
    All,
    /// What `plan` and `apply` need for this desired state (`orgctl_planner::iam_accounts`:
    /// grant targets, accounts carrying the roles record `orgctl:roles`, and with a plan role
    /// the accounts that want the read role).
    For(&'a DesiredState, &'a PlanOptions),
}

impl IamScope<'_> {
    fn select(&self, live: &LiveState) -> Option<std::collections::BTreeSet<String>> {
        match self {
            IamScope::All => None,
            IamScope::For(desired, options) => {
                Some(orgctl_planner::iam_accounts(desired, live, options))
            }
        }
    }
}

/// Reads the whole organization, refusing a wrong one before anything else is read, then IAM in
/// the ACTIVE member accounts `scope` covers through `iam`; shows its progress on stderr (see
/// [`crate::ui::Progress`]) and warns about each account whose IAM could not be read, or was read
/// through the member role because the read role could not be assumed.
pub async fn read<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    options: &ReadOptions,
    scope: IamScope<'_>,
) -> Result<LiveState, CliError> {
    read_as(api, iam, options, "reading the organization", scope).await
}

/// [`read`] for a run without a desired state (`import`): orgctl's read role is tried first
/// in every account (it may or may not be there), so reading through the member role instead
/// is said once, as a count, not per account.
pub async fn read_trying_the_read_role<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    options: &ReadOptions,
) -> Result<LiveState, CliError> {
    let live = read_with(
        api,
        iam,
        options,
        "reading the organization",
        false,
        IamScope::All,
    )
    .await?;
    let fallback = live
        .iam_accounts
        .iter()
        .filter(|a| matches!(a.read, IamRead::Fallback { .. }))
        .count();
    if fallback > 0 {
        crate::ui::info(&format!(
            "IAM in {fallback} member account(s) was read through the member role (orgctl's \
             read role is not there)."
        ));
    }
    Ok(live)
}

/// Reads the organization only (no IAM), refusing a wrong one before anything else is read;
/// shows its progress on stderr. For commands that read IAM their own way (`orgctl access`).
pub async fn read_org<A: OrgApi>(api: &A, options: &ReadOptions) -> Result<LiveState, CliError> {
    let progress = crate::ui::Progress::new(None, "reading the organization");
    let live =
        orgctl_backend::read_live_reporting(api, options, &|p| progress.set(p.to_string())).await;
    if let Ok(live) = &live {
        progress.set(format!(
            "done: {} OUs, {} accounts, {} policies",
            live.ous.len(),
            live.accounts.len(),
            live.policies.len()
        ));
    }
    progress.finish();
    Ok(live?)
}

/// The verify's read after an apply: what the apply wrote, read again and patched into
/// `before` ([`orgctl_applier::reread_applied`]), its progress shown; with `-v`, says which
/// read it made (the whole one when it had to, and why).
pub async fn reread_applied<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    before: &LiveState,
    plan: &orgctl_planner::Plan,
    report: &orgctl_applier::ApplyReport,
    options: &ReadOptions,
    scope: IamScope<'_>,
) -> Result<LiveState, CliError> {
    let progress = crate::ui::Progress::new(None, "verifying (reading again what the apply wrote)");
    let start = std::time::Instant::now();
    let select = |live: &LiveState| scope.select(live);
    let live =
        orgctl_applier::reread_applied(api, iam, before, plan, report, options, &select, &|p| {
            progress.set(p.to_string());
        })
        .await;
    progress.finish();
    let (live, full) = live?;
    // With -v: which read the verify made, and why the whole one when it was.
    match full {
        Some(why) => tracing::info!(
            "verified by reading the organization again as plan reads it ({why}) in {:.2} s",
            start.elapsed().as_secs_f64()
        ),
        None => tracing::info!(
            "verified by reading again what the apply wrote in {:.2} s",
            start.elapsed().as_secs_f64()
        ),
    }
    Ok(live)
}

/// [`read`], its progress reported as `what`.
pub async fn read_as<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    options: &ReadOptions,
    what: &str,
    scope: IamScope<'_>,
) -> Result<LiveState, CliError> {
    read_with(api, iam, options, what, true, scope).await
}

/// [`read_as`], warning about each account read through the member role instead of the read
/// role only when `warn_fallback`.
async fn read_with<A: OrgApi, I: IamApi>(
    api: &A,
    iam: &I,
    options: &ReadOptions,
    what: &str,
    warn_fallback: bool,
    scope: IamScope<'_>,
) -> Result<LiveState, CliError> {
    let progress = crate::ui::Progress::new(None, what);
    let start = std::time::Instant::now();
    // The IAM read starts with its first progress report (0 of N accounts).
    let iam_start = std::sync::OnceLock::new();
    let select = |live: &LiveState| scope.select(live);
    let live = read_all_selecting(api, iam, options, &select, &|p| {
        if matches!(p, orgctl_backend::ReadProgress::Iam { .. }) {
            iam_start.get_or_init(std::time::Instant::now);
        }
        progress.set(p.to_string());
    })
    .await;
    if let Ok(live) = &live {
        // With -v: how long each read took, so a slow plan says which one to look at.
        let end = std::time::Instant::now();
        let iam_start = iam_start.get().copied().unwrap_or(end);
        tracing::info!(
            "read the organization in {:.2} s, then IAM in {} member accounts ({} roles under \
             {}) in {:.2} s",
            iam_start.duration_since(start).as_secs_f64(),
            live.iam_accounts.len(),
            live.access_roles.len(),
            orgctl_model::ROLE_PATH,
            end.duration_since(iam_start).as_secs_f64(),
        );
        progress.set(format!(
            "done: {} OUs, {} accounts, {} policies, {} roles under /orgctl/ in {} member accounts",
            live.ous.len(),
            live.accounts.len(),
            live.policies.len(),
            live.access_roles.len(),
            live.iam_accounts.len(),
        ));
    }
    progress.finish();
    let live = live?;
    for a in &live.iam_accounts {
        match &a.read {
            IamRead::Unreadable { reason } => crate::ui::info(&format!(
                "warning: IAM in account {} could not be read, so its roles are unknown: {reason}",
                a.account_id
            )),
            IamRead::Fallback { reason } if warn_fallback => crate::ui::info(&format!(
                "warning: IAM in account {} was read through the member role, since orgctl's \
                 read role could not be assumed: {reason}",
                a.account_id
            )),
            IamRead::Fallback { .. } | IamRead::ReadRole | IamRead::MemberRole => {}
        }
    }
    Ok(live)
}

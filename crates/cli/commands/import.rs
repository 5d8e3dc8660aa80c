//! `orgctl import`: a desired state written from the live organization (issue 8 §1).
//!
//! Reads the organization and IAM in its member accounts as `plan` does (read-only: orgctl's
//! read role first, then the default member role), turns it into files with the pure
//! `orgctl_manifest::export`, and writes them. The directory must be empty unless `--force`;
//! that is checked before anything is read, and nothing is written when it fails.

use std::path::Path;
use std::process::ExitCode;

use orgctl_backend::IamRoles;
use orgctl_manifest::export::{Export, ExportOptions, export};
use orgctl_model::DEFAULT_MEMBER_ROLE;

use super::{plan_options, summarize_calls};
use crate::args::{Global, ImportArgs};
use crate::error::CliError;
use crate::live::{Source, read_options, read_trying_the_read_role as read, write_file};
use crate::ui;

/// `orgctl import`.
pub async fn import(a: &ImportArgs, g: &Global) -> Result<ExitCode, CliError> {
    let out = a.out.as_path();
    if out.as_os_str() == "-" {
        return Err(CliError::Usage(
            "--out -: import writes a directory of several files, not one stream; give a \
             directory (nothing was read or written)"
                .to_owned(),
        ));
    }
    check_out(out, a.force)?;
    let today = plan_options(g)?.today;
    let source = Source::open(a.live.live_state.as_deref(), g, 5).await?;
    // No desired state yet: orgctl's read role is tried first, then the default member role.
    let roles = IamRoles::read(DEFAULT_MEMBER_ROLE, Some(""));
    let live = match &source {
        Source::Snapshot { org, .. } => {
            read(
                org.as_ref(),
                &org.iam().with_roles(roles),
                &read_options(g, None),
            )
            .await?
        }
        Source::Aws(api) => {
            let live = read(api, &api.iam(roles), &read_options(g, None)).await;
            summarize_calls(api, g);
            live?
        }
    };
    let exported = export(
        &live,
        &ExportOptions {
            today,
            only_managed: a.only_managed,
        },
    );
    write(out, &exported)?;
    report(out, &exported, &live.organization.id, a.only_managed);
    Ok(ExitCode::SUCCESS)
}

/// Refuses a directory that is not empty (unless `force`) or a path that is not a directory.
fn check_out(out: &Path, force: bool) -> Result<(), CliError> {
    let shown = out.display();
    match std::fs::metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CliError::Io {
            action: "read",
            path: out.to_owned(),
            source,
        }),
        Ok(m) if !m.is_dir() => Err(CliError::Usage(format!(
            "--out {shown} is not a directory; nothing was written"
        ))),
        Ok(_) => {
            let mut entries = std::fs::read_dir(out).map_err(|source| CliError::Io {
                action: "read",
                path: out.to_owned(),
                source,
            })?;
            if entries.next().is_some() && !force {
                return Err(CliError::Usage(format!(
                    "{shown} is not empty: import writes a whole desired state, so it writes only \
                     into an empty directory; give another --out, or --force to replace the \
                     files it writes (nothing was read or written)"
                )));
            }
            Ok(())
        }
    }
}

/// Writes every file (each replaced atomically), creating directories.
fn write(out: &Path, exported: &Export) -> Result<(), CliError> {
    for (rel, text) in &exported.files {
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| CliError::Io {
                action: "write",
                path: parent.to_owned(),
                source,
            })?;
        }
        write_file(&path, text)?;
    }
    Ok(())
}

/// What was imported and every adjustment, on stderr (stdout stays empty).
fn report(out: &Path, exported: &Export, organization: &str, only_managed: bool) {
    for adj in &exported.adjustments {
        let kind = if adj.changes_aws { "warning" } else { "note" };
        ui::info(&format!("{kind}: {}: {}", adj.address, adj.message));
    }
    let c = exported.counts;
    let changes = exported
        .adjustments
        .iter()
        .filter(|a| a.changes_aws)
        .count();
    ui::info(&format!(
        "Imported {}organization {organization} into {}: {} OUs, {} accounts, {} policies, {} \
         grants ({} files).",
        if only_managed {
            "what orgctl manages in "
        } else {
            ""
        },
        out.display(),
        c.ous,
        c.accounts,
        c.policies,
        c.grants,
        exported.files.len()
    ));
    let next = if changes == 0 {
        "Next: `orgctl plan` on it shows only adoptions (the managed-by tag on OUs and policies)."
            .to_owned()
    } else {
        format!(
            "Next: `orgctl plan` on it shows adoptions (the managed-by tag on OUs and policies) \
             and the {changes} change(s) warned about above."
        )
    };
    ui::info(&next);
}

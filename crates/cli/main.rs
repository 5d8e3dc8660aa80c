//! The `orgctl` binary: parses the command line, wires the crates together and is the one place
//! that prints, reads the environment and the clock, and maps errors to exit codes.

mod args;
mod commands;
mod error;
mod live;
mod ui;

use std::process::ExitCode;

use clap::Parser as _;

use crate::args::{Cli, Command, SchemaKind};
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    ui::init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report(&CliError::Internal(format!(
                "cannot start the async runtime: {e}"
            )));
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => report(&e),
    }
}

/// Every error ends here: the message on stderr, exit code 1. Invalid input lists each
/// diagnostic on its own line (they carry their own `error:`), then one summary line.
fn report(e: &CliError) -> ExitCode {
    match e {
        CliError::Load(orgctl_manifest::LoadError::Invalid(diagnostics)) => {
            for d in diagnostics {
                ui::info(&d.to_string());
            }
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == orgctl_manifest::Severity::Error)
                .count();
            ui::error(&format!(
                "the desired state is invalid ({errors} error{}); nothing was read or changed",
                if errors == 1 { "" } else { "s" }
            ));
        }
        other => ui::error(&other.to_string()),
    }
    ExitCode::from(1)
}

/// A command line clap could not parse: its message, then exit 1 like every other error (clap
/// would exit 2, which `plan --detailed-exitcode` uses for "changes pending"). `--help` and
/// `--version` print on stdout and exit 0.
fn usage(e: &clap::Error) -> ExitCode {
    if e.use_stderr() {
        // The message quotes the command line: shown like every other message on stderr.
        ui::info(e.render().to_string().trim_end());
        ExitCode::from(1)
    } else {
        let _ = e.print();
        ExitCode::SUCCESS
    }
}

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate(a) => commands::validate(&a.dir, g),
        Command::Plan(a) => commands::plan(a, g).await,
        Command::Apply(a) => commands::apply(a, g).await,
        Command::ForceUnlock(a) => commands::force_unlock(a, g).await,
        Command::Snapshot(a) => commands::snapshot(a, g).await,
        Command::Import(a) => commands::import(a, g).await,
        Command::Access(a) => commands::access(a, g).await,
        Command::Completions(a) => commands::completions(a),
        Command::Man(a) => commands::man(a),
        Command::Drift(a) => commands::drift(a, g).await,
        Command::Schema(a) => {
            ui::stdout(&match a.kind {
                SchemaKind::DesiredState => orgctl_manifest::json_schema(),
                SchemaKind::Plan => orgctl_planner::planfile::json_schema(),
                SchemaKind::Snapshot => live::snapshot_schema(),
                SchemaKind::Access => orgctl_planner::access_report::json_schema(),
                SchemaKind::Drift => orgctl_planner::drift::json_schema(),
            });
            Ok(ExitCode::SUCCESS)
        }
    }
}

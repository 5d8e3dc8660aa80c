//! The `orgctl` binary: parses the command line, wires the crates together and is the one place
//! that prints, reads the environment and the clock, and maps errors to exit codes.

mod args;
mod commands;
mod error;
mod live;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
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

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate(a) => commands::validate(&a.dir),
        Command::Plan(a) => commands::plan(a, g).await,
        Command::Apply(a) => commands::apply(a, g).await,
        Command::Snapshot(a) => commands::snapshot(a, g).await,
        Command::Schema => {
            ui::stdout(&orgctl_manifest::json_schema());
            Ok(ExitCode::SUCCESS)
        }
    }
}

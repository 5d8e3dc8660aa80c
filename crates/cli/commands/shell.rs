//! `orgctl completions` and `orgctl man`: shell completions and man pages generated from the
//! clap definition in `args.rs`, so they cannot fall behind the command line.

use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::args::{Cli, CompletionShell, CompletionsArgs, ManArgs};
use crate::error::CliError;
use crate::ui;

/// `orgctl completions SHELL`: the completion script on stdout.
pub fn completions(a: &CompletionsArgs) -> Result<ExitCode, CliError> {
    let shell = match a.shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "orgctl", &mut script);
    ui::stdout(&utf8(script)?);
    Ok(ExitCode::SUCCESS)
}

/// `orgctl man [--dir DIR]`: orgctl(1) on stdout, or every page written into DIR.
pub fn man(a: &ManArgs) -> Result<ExitCode, CliError> {
    // The pages list the commands with their own pages: `help` has none.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match &a.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .map_err(|e| CliError::Internal(format!("cannot render the man page: {e}")))?;
            ui::stdout(&utf8(page)?);
        }
        Some(dir) => {
            let io = |source| CliError::Io {
                action: "write man pages into",
                path: dir.clone(),
                source,
            };
            std::fs::create_dir_all(dir).map_err(io)?;
            // As clap_mangen::generate_to, but every page says orgctl's version (a subcommand's
            // own page would say only its name).
            let source = format!("orgctl {}", env!("CARGO_PKG_VERSION"));
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                clap_mangen::Man::new(sub.clone())
                    .source(source.clone())
                    .generate_to(dir)
                    .map_err(io)?;
            }
            clap_mangen::Man::new(cmd).generate_to(dir).map_err(io)?;
            ui::info(&format!("wrote the man pages into {}", dir.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn utf8(bytes: Vec<u8>) -> Result<String, CliError> {
    String::from_utf8(bytes)
        .map_err(|e| CliError::Internal(format!("generated text is not UTF-8: {e}")))
}

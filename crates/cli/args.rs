//! The command line, as clap sees it. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manage an AWS Organization as code: OUs, accounts, policies and access, planned from YAML and
/// applied safely.
///
/// Exit codes: 0 success; 1 error; 2 (plan with --detailed-exitcode) changes pending, (access with
/// --detailed-exitcode) something flagged, (drift with --detailed-exitcode) drift found.
#[derive(Debug, Parser)]
#[command(name = "orgctl", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Shared options.
    #[command(flatten)]
    pub global: Global,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// More logs on stderr (-v: progress and AWS call summary, -vv: every call).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The date plans are made for (YYYY-MM-DD), for reproducible plans; default today (UTC).
    #[arg(long, global = true, env = "ORGCTL_TODAY", value_name = "YYYY-MM-DD")]
    pub today: Option<String>,
    /// AWS profile to use (default: the standard credential chain).
    #[arg(long, global = true, env = "AWS_PROFILE", hide_env_values = true)]
    pub profile: Option<String>,
    /// AWS region for regional services (Organizations itself is always us-east-1).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// How many AWS read requests may be in flight at once.
    #[arg(long, global = true, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Items per page for AWS list calls, 1 to 20 (default 20, the most AWS Organizations
    /// accepts).
    #[arg(long, global = true, value_name = "1-20", value_parser = page_size)]
    pub page_size: Option<i32>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the desired state without contacting AWS (exit 0 valid, 1 invalid).
    Validate(DirArg),
    /// Show what apply would change (reads the live organization; never writes).
    Plan(PlanArgs),
    /// Make the organization match the desired state.
    Apply(ApplyArgs),
    /// Release the apply lease of an apply that was killed while holding it (the token is in
    /// the error of the apply that found it held); only when no apply is running.
    ForceUnlock(ForceUnlockArgs),
    /// Who can reach each account, and how: grants (desired and live, expiry, days left), root
    /// email ownership, roles trusting principals outside the organization, the member role.
    /// Reads every role of every active member account (more than `plan`); never writes.
    Access(AccessArgs),
    /// Report every difference between the desired state and AWS, classified: out-of-band (AWS
    /// changed after the last apply), expired grants, unverifiable accounts, pending YAML
    /// changes, and unmanaged resources (information). Reads what `plan` and `access` read;
    /// never writes.
    Drift(DriftArgs),
    /// Write the live organization as a JSON snapshot (for offline plans with --live-state).
    Snapshot(SnapshotArgs),
    /// Write a desired state from the live organization (read-only), to adopt an existing
    /// organization: `orgctl plan` on it then shows only adoptions (see docs/adopting.md).
    ///
    /// Writes organization.yaml, ous.yaml, accounts.yaml, policies.yaml, policies/*.json and
    /// grants.yaml, each headed by where and when it was imported; the same organization gives
    /// the same bytes. What the YAML cannot say as AWS has it (such as an OU name with `/`) is
    /// made valid, and each such change is listed on stderr and as a comment next to the item.
    Import(ImportArgs),
    /// Print the JSON Schema of a file format (the desired-state YAML by default).
    Schema(SchemaArgs),
    /// Print a shell completion script (bash, zsh or fish), generated from the command line.
    ///
    /// bash: `orgctl completions bash > /etc/bash_completion.d/orgctl` (or
    /// `source <(orgctl completions bash)`); zsh: `orgctl completions zsh > _orgctl` in a
    /// directory of `$fpath`; fish: `orgctl completions fish >
    /// ~/.config/fish/completions/orgctl.fish`.
    Completions(CompletionsArgs),
    /// Print the man page orgctl(1), generated from the command line (`orgctl man | man -l -`).
    ///
    /// With --dir, write orgctl.1 and one orgctl-COMMAND.1 per command into DIR instead (for
    /// packages: `orgctl man --dir /usr/local/share/man/man1`).
    Man(ManArgs),
}

/// `orgctl completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells `orgctl completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// bash (with the bash-completion package).
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
}

/// `orgctl man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write orgctl.1 and orgctl-COMMAND.1 for every command into DIR (created if missing)
    /// instead of printing orgctl.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `orgctl schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which format.
    #[arg(long, value_enum, default_value_t = SchemaKind::DesiredState)]
    pub kind: SchemaKind,
}

/// The file formats with a JSON Schema (committed as `docs/<kind>.schema.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A desired-state YAML file.
    DesiredState,
    /// The JSON plan (`plan --format json`, `plan --out`).
    Plan,
    /// A live-state snapshot (`snapshot`, `--live-state`).
    Snapshot,
    /// The access review (`access --format json`).
    Access,
    /// The drift report (`drift --format json`).
    Drift,
}

/// The default desired-state directory.
pub const DEFAULT_DIR: &str = "desired-state";

/// The desired-state directory.
#[derive(Debug, Args)]
pub struct DirArg {
    /// Directory holding the desired-state YAML files (searched recursively).
    #[arg(default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
}

/// Where the live organization comes from.
#[derive(Debug, Args)]
pub struct LiveArg {
    /// Plan against a snapshot file instead of AWS (no credentials needed). With apply and
    /// force-unlock, the file is the organization: it is updated in place (a sandbox).
    #[arg(long, value_name = "FILE")]
    pub live_state: Option<PathBuf>,
}

/// Output formats of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Terminal text, Terraform style (colour on a terminal, NO_COLOR honoured).
    Text,
    /// Markdown for a pull-request comment (at most 60,000 characters).
    Markdown,
    /// Versioned JSON for machines (the same document as --out).
    Json,
}

/// `orgctl plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Desired state.
    #[command(flatten)]
    pub dir: DirArg,
    /// Live state.
    #[command(flatten)]
    pub live: LiveArg,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the plan as JSON to FILE, for `apply --plan FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes (0 none, 1 error): for drift checks.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// `orgctl access`.
#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Desired state.
    #[command(flatten)]
    pub dir: DirArg,
    /// Live state.
    #[command(flatten)]
    pub live: LiveArg,
    /// Review only this account (its name, as in the YAML or in AWS, or its id); only its IAM
    /// is read.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 2 when something is flagged (0 nothing, 1 error): for CI.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// `orgctl drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Desired state.
    #[command(flatten)]
    pub dir: DirArg,
    /// Live state.
    #[command(flatten)]
    pub live: LiveArg,
    /// What to print (or write with --out).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 2 when there is drift: anything out-of-band, expired, unverifiable or pending, or a
    /// plan warning (0 none, 1 error); unmanaged resources do not count.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Write the report to FILE in the chosen format; stdout gets a one-line summary.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `orgctl apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Desired state.
    #[command(flatten)]
    pub dir: DirArg,
    /// Live state.
    #[command(flatten)]
    pub live: LiveArg,
    /// Apply exactly this saved plan; refused when the organization or the desired state
    /// changed since it was made, or when it is not exactly the plan made again from them (a
    /// plan file edited after review).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Allow closing accounts marked `lifecycle: closed`.
    #[arg(long)]
    pub allow_close: bool,
    /// When another apply holds the organization's apply lease, wait up to DURATION for it
    /// (`90s`, `10m`, `1h`; plain numbers are seconds) instead of failing at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0s")]
    pub wait_lock: std::time::Duration,
    /// Who this apply is, as written in the apply lease and shown to applies that find it held
    /// (default: user@host/pid).
    #[arg(long, value_name = "NAME", env = "ORGCTL_LOCK_HOLDER")]
    pub lock_holder: Option<String>,
    /// Verify the apply by reading the organization again as `plan` reads it, instead of
    /// reading again only what the apply wrote (and IAM in the accounts it wrote to).
    #[arg(long)]
    pub full_verify: bool,
}

/// `orgctl force-unlock`.
#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The token of the lease to release, as printed by the apply that found it held; a lease
    /// held with any other token (mistyped, or another apply took it since) is not released.
    #[arg(value_name = "TOKEN")]
    pub token: String,
    /// Desired state (its management account id pins the organization).
    #[command(flatten)]
    pub dir: DirArg,
    /// Live state.
    #[command(flatten)]
    pub live: LiveArg,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// `90s`, `10m`, `1h`, `1h30m` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{text:?} is not a duration: write e.g. 90s, 10m or 1h");
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() || text.is_empty() {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs(total))
}

/// `orgctl import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The directory to write (created if missing); it must be empty unless --force. Not `-`:
    /// a desired state is several files.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DIR)]
    pub out: PathBuf,
    /// Write into a directory that is not empty, replacing the files import writes (other
    /// files are left as they are).
    #[arg(long)]
    pub force: bool,
    /// Import only what orgctl manages: OUs and policies tagged `managed-by: orgctl`, accounts
    /// that carry orgctl's record of an apply or hold a role orgctl keeps, their grants, and the
    /// OUs these sit in.
    #[arg(long)]
    pub only_managed: bool,
    /// Live state.
    #[command(flatten)]
    pub live: LiveArg,
}

/// `orgctl snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Parses `--page-size`: only what every Organizations list call accepts.
fn page_size(s: &str) -> Result<i32, String> {
    let max = orgctl_aws::MAX_PAGE_SIZE;
    match s.trim().parse::<i32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a page size from 1 to {max}: AWS Organizations returns at most {max} items per page"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "m", "1d", "10 m", "-5s", "5s5", "99999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}

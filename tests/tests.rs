//! orgctl's integration tests, one binary (`cargo test --test integration`).
//!
//! Everything here drives the real `orgctl` binary (exit code, stdout, stderr), except
//! `workspace`, which checks the boundaries between the crates.

mod common;

/// `access` against snapshot files: every format, exit codes, `--account`, its JSON schema.
mod access;
/// `validate`, `plan` and `apply` against snapshot files (the in-memory backend).
mod cli;
/// What the main commands print (exit code, stdout, stderr), as reviewed insta snapshots.
mod cli_snapshots;
/// `drift` against snapshot files: every class, every format, exit codes, `--out`, its schema.
mod drift;
/// The AWS backend over real HTTP against the moto emulator (started by the harness).
mod emulator;
/// `import` on snapshot files: the round trip, refusals, `--only-managed`, `docs/adopting.md`.
mod import;
/// Every invalid desired state under `tests/invalid/` is refused with file and line.
mod invalid_inputs;
/// The apply lease: a held one stops `apply`, `--wait-lock` waits, an expired one is taken over,
/// `force-unlock` releases a killed apply's.
mod lease;
/// `docs/partner-access.md`: its three pull requests replayed; the plans it shows are real.
mod partner_access;
/// `orgctl completions` and `orgctl man`: every command in them; bash completes with the script.
mod shell;
/// The boundaries between the crates: who depends on the AWS SDK, a planner without IO, who prints.
mod workspace;

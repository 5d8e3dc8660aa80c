//! orgctl's desired-state loader: the YAML files of a directory → a validated
//! [`DesiredState`], or every problem at once with file, line, column and field path.
//!
//! The format (schema v1) has four top-level keys, each optional in any one file:
//! `organization` (exactly once across all files), `ous`, `accounts` and `policies`. Every
//! `.yaml`/`.yml` file (any case) below the directory is read, in path order, and the files are
//! merged; hidden files and directories (names starting with `.`) are not.
//! [`json_schema`] describes the format for editors; `docs/desired-state.schema.json` is that
//! schema, committed.
//!
//! Loading is linear in the size of the input: each file is parsed once and every uniqueness
//! and reference check goes through a hash map.

use std::path::{Path, PathBuf};

use orgctl_model::DesiredState;

mod diag;
mod document;
pub mod export;
mod fast;
mod load;
mod node;
pub mod raw;
mod text;
mod validate;

pub use diag::{Diagnostic, Severity};
pub use document::MAX_DOCUMENT_FILE_BYTES;
pub use node::Located;
pub use text::{escape_invisible, first_invisible, is_invisible};
pub use validate::{
    ALWAYS_ON_RULE, CHECK_RULES, DEFAULT_MAX_GRANT_DAYS, DEFAULT_POLICIES_PER_TARGET,
    GRANT_ROLE_PREFIX, MAX_INLINE_CHARS, MAX_MANAGED_POLICIES, MAX_OU_DEPTH,
    MAX_POLICIES_PER_TARGET, MAX_TAGS, MAX_TRUST_POLICY_CHARS, MIN_EXTERNAL_ID_CHARS,
    MIN_POLICIES_PER_TARGET, default_role_name, email_problem, is_account_id, is_ou_id,
    ou_path_segments,
};

/// A desired state that loaded, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated desired state.
    pub desired: DesiredState,
    /// Problems that do not stop loading (sorted by place).
    pub warnings: Vec<Diagnostic>,
}

/// Why a desired-state directory did not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A directory or file could not be read.
    #[error("cannot read {}: {source}", escape_invisible(&path.display().to_string()))]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The directory holds no `.yaml` or `.yml` file that is read.
    #[error(
        "no desired-state files in {}: expected .yaml or .yml files (see the example in \
         desired-state/){}",
        escape_invisible(&dir.display().to_string()),
        skipped_words(skipped)
    )]
    NoFiles {
        /// The directory.
        dir: PathBuf,
        /// YAML files that are there but not read (hidden, or not regular files).
        skipped: Vec<PathBuf>,
    },
    /// The date given to judge expiries against is not a date `YYYY-MM-DD`.
    #[error("--today {0}: expected a date as YYYY-MM-DD")]
    BadToday(String),
    /// The files have problems: every diagnostic (errors and warnings, sorted by place).
    #[error("{}", render_diagnostics(.0))]
    Invalid(Vec<Diagnostic>),
}

impl LoadError {
    /// The diagnostics of an [`LoadError::Invalid`] (none for the other kinds).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Invalid(d) => d,
            _ => &[],
        }
    }
}

/// The skipped files of [`LoadError::NoFiles`], as a clause.
fn skipped_words(skipped: &[PathBuf]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let names: Vec<String> = skipped
        .iter()
        .map(|p| escape_invisible(&p.display().to_string()).into_owned())
        .collect();
    format!(
        "; not read: {} (hidden files, whose names start with `.`, and files that are not \
         regular files are skipped)",
        names.join(", ")
    )
}

/// One diagnostic per line.
fn render_diagnostics(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// How to load a desired state.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The date (`YYYY-MM-DD`, UTC) the grant checks judge expiries against: an expired grant
    /// is a warning, one expiring more than `checks.max_grant_days` later an error. The loader
    /// reads no clock; without a date those two checks are skipped.
    pub today: Option<String>,
}

/// Loads and validates every `.yaml`/`.yml` file (any case) below `dir` (recursively, sorted by
/// path), without the checks that need today's date (see [`load_dir_with`]). Hidden
/// directories are not entered; hidden YAML files are not read and get a warning. Diagnostics
/// name files as `dir.join(relative)`.
pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    load_dir_with(dir, &LoadOptions::default())
}

/// [`load_dir`] with options (the date the expiry checks use).
pub fn load_dir_with(dir: &Path, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let today = match &options.today {
        None => None,
        Some(t) => Some(validate::parse_date(t).ok_or_else(|| LoadError::BadToday(t.clone()))?),
    };
    let parsed = load::parse_dir(dir)?;
    let (desired, diagnostics) = validate::validate(parsed, today);
    match desired {
        Some(desired) => Ok(Loaded {
            desired,
            warnings: diagnostics,
        }),
        None => Err(LoadError::Invalid(diagnostics)),
    }
}

/// The JSON Schema (draft 2020-12) of one desired-state file, pretty-printed with a final
/// newline; generated from the raw serde types, so it cannot drift from what the loader reads.
pub fn json_schema() -> String {
    orgctl_model::schema::to_text(schemars::schema_for!(raw::RawFile))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/desired-state.schema.json` is [`json_schema`]'s output, committed. Rerun with
    /// `ORGCTL_UPDATE_SCHEMA=1` to rewrite it after changing the raw types.
    #[test]
    fn committed_schema_is_current() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/desired-state.schema.json");
        let generated = json_schema();
        if std::env::var_os("ORGCTL_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).expect("write the schema");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: rerun with ORGCTL_UPDATE_SCHEMA=1 cargo test -p orgctl-manifest \
             committed_schema_is_current, then commit it",
            path.display()
        );
    }

    #[test]
    fn schema_describes_the_format() {
        let schema: serde_json::Value =
            serde_json::from_str(&json_schema()).expect("the schema is JSON");
        let props = &schema["properties"];
        for key in [
            "organization",
            "ous",
            "accounts",
            "policies",
            "grants",
            "checks",
        ] {
            assert!(props.get(key).is_some(), "no {key} in {schema}");
        }
        assert_eq!(
            schema["additionalProperties"],
            serde_json::Value::Bool(false)
        );
        let text = schema.to_string();
        // Doc comments become descriptions; validation attributes become keywords.
        assert!(text.contains("12-digit id of the organization's management account"));
        assert!(text.contains(r#""pattern":"^[0-9]{12}$""#), "{text}");
        assert!(text.contains(r#""maxLength":50"#), "{text}");
    }
}

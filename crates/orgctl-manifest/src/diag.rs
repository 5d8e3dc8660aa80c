//! Located diagnostics: what is wrong, where (file, line, column, field path) and, for
//! duplicates, where the other one is.

use std::fmt;

use orgctl_model::SourceLoc;

use crate::text::escape_invisible;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The desired state is refused.
    Error,
    /// Worth fixing, but the desired state loads.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem in the desired-state YAML.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// The YAML file: the directory given to [`crate::load_dir`] joined with the file's path.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The field path, such as `accounts[2].email` (indexes count within the file).
    pub field: String,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
    /// The other place involved (the first declaration of a duplicate).
    pub related: Option<SourceLoc>,
    /// Error or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// An error at a place.
    pub fn error(
        at: &SourceLoc,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            file: at.file.clone(),
            line: at.line,
            column: at.column,
            field: field.into(),
            message: message.into(),
            related: None,
            severity: Severity::Error,
        }
    }

    /// A warning at a place.
    pub fn warning(
        at: &SourceLoc,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(at, field, message)
        }
    }

    /// The same diagnostic, naming another place too.
    pub fn with_related(mut self, related: SourceLoc) -> Diagnostic {
        self.related = Some(related);
        self
    }

    /// Where the diagnostic points.
    pub fn loc(&self) -> SourceLoc {
        SourceLoc {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Everything that may come from the input is printed with invisible characters
        // escaped: a YAML file must not send escape sequences to the terminal.
        write!(
            f,
            "{}:{}:{}: {}: ",
            escape_invisible(&self.file),
            self.line,
            self.column,
            self.severity
        )?;
        if !self.field.is_empty() {
            write!(f, "{}: ", escape_invisible(&self.field))?;
        }
        f.write_str(&escape_invisible(&self.message))?;
        if let Some(r) = &self.related {
            write!(f, " (see also {})", escape_invisible(&r.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32) -> SourceLoc {
        SourceLoc {
            file: "desired-state/accounts.yaml".into(),
            line,
            column: 5,
        }
    }

    #[test]
    fn renders_file_line_column_field_and_related() {
        let d = Diagnostic::error(&at(7), "accounts[1].name", "duplicate account name `a`")
            .with_related(at(2));
        assert_eq!(
            d.to_string(),
            "desired-state/accounts.yaml:7:5: error: accounts[1].name: duplicate account name `a` \
             (see also desired-state/accounts.yaml:2:5)"
        );
        let e = Diagnostic::error(&at(4), "accounts[0].\u{1b}[2J", "unknown key `\u{1b}[2J`");
        assert_eq!(
            e.to_string(),
            "desired-state/accounts.yaml:4:5: error: accounts[0].\\u{1b}[2J: unknown key \
             `\\u{1b}[2J`"
        );
        let w = Diagnostic::warning(&at(3), "", "listed twice");
        assert_eq!(
            w.to_string(),
            "desired-state/accounts.yaml:3:5: warning: listed twice"
        );
    }
}

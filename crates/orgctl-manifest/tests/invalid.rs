//! Every case under `tests/invalid/<case>/` (repository root) is refused with
//! [`LoadError::Invalid`]. A case's `expect` file lists what the report must say: its first
//! line is `<file>:<line>` of the problem (the file relative to the case directory, matched as
//! a suffix of a diagnostic's file), and every further line is a substring of the rendered
//! report.

use std::path::{Path, PathBuf};

use orgctl_manifest::{LoadError, LoadOptions, Severity, load_dir_with};

/// The date the expiry checks use (the integration test through the binary uses the real date;
/// every case is invalid on both).
const TODAY: &str = "2026-12-02";

/// How many cases `tests/invalid/` holds (the same count as in `tests/invalid_inputs.rs`).
const CASES: usize = 153;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/invalid");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/invalid exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// Checks one case; returns what is wrong with the report.
fn check(case: &Path) -> Result<String, String> {
    let expect =
        std::fs::read_to_string(case.join("expect")).map_err(|e| format!("expect: {e}"))?;
    let mut lines = expect.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().ok_or("empty expect file")?;
    let (file, line) = first
        .rsplit_once(':')
        .ok_or_else(|| format!("first expect line {first:?} is not <file>:<line>"))?;
    let line: u32 = line
        .parse()
        .map_err(|_| format!("first expect line {first:?} is not <file>:<line>"))?;
    let options = LoadOptions {
        today: Some(TODAY.to_owned()),
    };
    let err = match load_dir_with(case, &options) {
        Ok(_) => return Err("loaded without errors".to_owned()),
        Err(e) => e,
    };
    let LoadError::Invalid(diags) = &err else {
        return Err(format!("not LoadError::Invalid: {err}"));
    };
    let report = err.to_string();
    let mut problems = Vec::new();
    let suffix = format!("/{file}");
    let located = diags.iter().any(|d| {
        d.severity == Severity::Error
            && d.line == line
            && (d.file == file || d.file.replace('\\', "/").ends_with(&suffix))
    });
    if !located {
        problems.push(format!("no error at {file}:{line}"));
    }
    for want in lines {
        if !report.contains(want) {
            problems.push(format!("report lacks {want:?}"));
        }
    }
    for d in diags {
        if d.line == 0 || d.column == 0 {
            problems.push(format!("unlocated diagnostic: {d}"));
        }
    }
    if let Some(c) = report
        .chars()
        .find(|c| *c != '\n' && orgctl_manifest::is_invisible(*c))
    {
        problems.push(format!(
            "the report has the raw character U+{:04X}",
            u32::from(c)
        ));
    }
    if report.lines().count() != diags.len() {
        problems.push("the report is not one diagnostic per line".to_owned());
    }
    if problems.is_empty() {
        Ok(report)
    } else {
        Err(format!("{}\n{report}", problems.join("; ")))
    }
}

#[test]
fn every_invalid_desired_state_is_refused_with_file_line_and_message() {
    let cases = cases();
    // Exactly as many as `tests/invalid_inputs.rs` checks through the binary.
    assert_eq!(
        cases.len(),
        CASES,
        "update CASES here and in tests/invalid_inputs.rs"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        match check(case) {
            Ok(report) => {
                if std::env::var_os("ORGCTL_SHOW_REPORTS").is_some() {
                    println!("== {name}\n{report}");
                }
            }
            Err(problem) => failures.push(format!("== {name}: {problem}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

//! Every case under `tests/invalid/<case>/` is an invalid desired state. `orgctl validate` and
//! `orgctl plan` must exit 1 with a message naming the file and line (the case's `expect` file
//! lists substrings, the first `file:line`), print nothing on stdout and never panic.

use crate::common::{orgctl, repo};

#[test]
fn every_invalid_desired_state_is_refused_with_file_and_line() {
    let root = repo().join("tests/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/invalid exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 40,
        "expected at least 40 invalid cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let expect = std::fs::read_to_string(case.join("expect")).expect("expect file");
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for command in ["validate", "plan"] {
            // `plan` must refuse before it looks for an organization: give it no credentials and
            // an endpoint that does not answer, so any AWS access would fail differently.
            let run = orgctl(
                case,
                &[command, "."],
                &[
                    ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
                    ("AWS_ACCESS_KEY_ID", "x"),
                    ("AWS_SECRET_ACCESS_KEY", "x"),
                ],
            );
            let problems: Vec<String> =
                std::iter::once((run.code != 1).then(|| format!("exit code {}", run.code)))
                    .chain(std::iter::once(
                        (!run.stdout.is_empty()).then(|| "stdout not empty".to_owned()),
                    ))
                    .chain(std::iter::once(
                        run.stderr
                            .contains("panicked")
                            .then(|| "panicked".to_owned()),
                    ))
                    .chain(expect.lines().filter(|l| !l.trim().is_empty()).map(|want| {
                        (!run.stderr.contains(want.trim()))
                            .then(|| format!("stderr lacks {want:?}"))
                    }))
                    .flatten()
                    .collect();
            if !problems.is_empty() {
                failures.push(format!(
                    "{name} ({command}): {}\n{}",
                    problems.join("; "),
                    run.stderr
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

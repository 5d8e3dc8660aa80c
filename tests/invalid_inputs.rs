//! Every case under `tests/invalid/<case>/` is an invalid desired state. `orgctl validate` and
//! `orgctl plan` must exit 1 with a message naming the file and line, print nothing on stdout
//! and never panic.
//!
//! A case's `expect` file lists what stderr must say, one item a line. The first line is
//! `<file>:<line>` of the first problem; it and every other line that starts with a place
//! (`<file>:<line>` or `<file>:<line>:<column>...`) must start a diagnostic line exactly (the
//! file relative to the case directory, which the binary prints as `./<file>`; `:8` does not
//! match `:80`). Every other line is a substring of stderr.

use crate::common::{orgctl, repo};

/// How many cases `tests/invalid/` holds: a case that goes missing, or one added without its
/// `expect`, fails the test instead of passing unnoticed.
const CASES: usize = 153;

/// Whether an expect line names a place: `<file>:<line>` and possibly more.
fn place(want: &str) -> bool {
    let Some((file, rest)) = want.split_once(':') else {
        return false;
    };
    !file.is_empty()
        && !file.contains(char::is_whitespace)
        && rest.starts_with(|c: char| c.is_ascii_digit())
}

/// Whether the place `want` starts a line of `stderr` (after `./`), or is the other place a
/// diagnostic names (`(see also ./<want>`), not followed by another digit.
fn names_place(stderr: &str, want: &str) -> bool {
    let exact = |text: &str| {
        text.strip_prefix("./")
            .and_then(|t| t.strip_prefix(want))
            .is_some_and(|after| !after.starts_with(|c: char| c.is_ascii_digit()))
    };
    stderr.lines().any(|line| {
        exact(line)
            || line
                .match_indices("(see also ")
                .any(|(i, m)| exact(&line[i + m.len()..]))
    })
}

/// What is wrong with one run of one case.
fn problems(expect: &str, code: i32, stdout: &str, stderr: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if code != 1 {
        problems.push(format!("exit code {code}"));
    }
    if !stdout.is_empty() {
        problems.push("stdout not empty".to_owned());
    }
    if stderr.contains("panicked") {
        problems.push("panicked".to_owned());
    }
    // What comes from the input is printed escaped: only line breaks may not show.
    if let Some(c) = stderr
        .chars()
        .find(|c| *c != '\n' && orgctl_manifest::is_invisible(*c))
    {
        problems.push(format!(
            "stderr has the raw character U+{:04X}",
            u32::from(c)
        ));
    }
    let mut lines = expect.lines().map(str::trim).filter(|l| !l.is_empty());
    match lines.next() {
        Some(first) if place(first) => {
            if !names_place(stderr, first) {
                problems.push(format!("no diagnostic at {first}"));
            }
        }
        other => problems.push(format!(
            "the expect file must start with <file>:<line>, not {other:?}"
        )),
    }
    for want in lines {
        let found = if place(want) {
            names_place(stderr, want)
        } else {
            stderr.contains(want)
        };
        if !found {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    problems
}

#[test]
fn places_match_exactly() {
    let stderr = "./a.yaml:80:3: error: x\n./b.yaml:4:9: error: y\n";
    assert!(names_place(stderr, "a.yaml:80"));
    assert!(!names_place(stderr, "a.yaml:8"));
    assert!(names_place(stderr, "b.yaml:4:9: error: y"));
    assert!(!names_place(stderr, "yaml:4"));
    assert!(place("policies/scps.yaml:4"));
    assert!(!place("deny-leave.json` is not valid JSON"));
    assert!(names_place(
        "./c.yaml:1:1: error: z (see also ./a.yaml:12:1)",
        "a.yaml:12"
    ));
    assert!(!names_place(
        "./c.yaml:1:1: error: z (see also ./a.yaml:12:1)",
        "a.yaml:1"
    ));
    assert!(!problems("b.yaml:40\n", 1, "", stderr).is_empty());
    assert!(!problems("b.yaml:4\nz\n", 1, "", stderr).is_empty());
    assert!(!problems("b.yaml:4\n", 2, "", stderr).is_empty());
    assert!(problems("b.yaml:4\ny\n", 1, "", stderr).is_empty());
}

#[test]
fn every_invalid_desired_state_is_refused_with_file_and_line() {
    let root = repo().join("tests/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/invalid exists")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert!(
        cases.iter().all(|p| p.is_dir()),
        "tests/invalid holds only case directories: {cases:?}"
    );
    assert_eq!(
        cases.len(),
        CASES,
        "tests/invalid holds {} cases; update CASES when adding one",
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
            let problems = problems(&expect, run.code, &run.stdout, &run.stderr);
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

/// An organization block and one SCP read from `document_file: <file>`.
const ONE_SCP_FROM_FILE: &str = "organization:\n  management_account_id: \"123456789012\"\n  \
    enabled_policy_types: [service_control_policy]\npolicies:\n  - name: deny-s3\n    \
    type: service_control_policy\n    document_file: deny-s3.json\n";

/// Runs `orgctl validate .` in `dir`; kills it after 30 seconds (`None` then).
fn validate_within_30s(dir: &std::path::Path) -> Option<crate::common::Run> {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(["validate", "."])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .env("NO_COLOR", "1")
        .spawn()
        .expect("the orgctl binary runs");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().expect("kill the hung orgctl");
            child.wait().expect("reap");
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout).expect("stdout");
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_string(&mut stderr).expect("stderr");
    }
    Some(crate::common::Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

/// A FIFO as `document_file` is refused at once, never opened (opening it blocks until a
/// writer comes; `validate` used to hang there).
#[cfg(unix)]
#[test]
fn a_fifo_as_document_file_is_refused_without_opening_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.yaml"), ONE_SCP_FROM_FILE).expect("write");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("deny-s3.json"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    let run = validate_within_30s(dir.path()).expect("validate returns instead of hanging");
    run.expect_code(1);
    assert!(
        run.stderr.starts_with(
            "./main.yaml:7:20: error: policies[0].document_file: document_file `deny-s3.json` is \
             not a regular file"
        ),
        "{}",
        run.stderr
    );
}

/// A JSON file saved with a UTF-8 byte order mark (as some Windows editors do) loads.
#[test]
fn a_json_document_with_a_byte_order_mark_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.yaml"), ONE_SCP_FROM_FILE).expect("write");
    std::fs::write(
        dir.path().join("deny-s3.json"),
        "\u{feff}{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Deny\", \
         \"Action\": \"s3:*\", \"Resource\": \"*\"}}\n",
    )
    .expect("write");
    let run = validate_within_30s(dir.path()).expect("validate returns");
    run.expect_code(0);
    assert!(
        run.stderr.contains("valid (0 OUs, 0 accounts, 1 policies)"),
        "{}",
        run.stderr
    );
}

/// `.YAML` files are read like `.yaml` ones; a hidden YAML file is not read, and `validate`
/// says so (it used to skip both silently).
#[test]
fn upper_case_yaml_files_are_read_and_hidden_ones_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("Organization.YAML"),
        "organization:\n  management_account_id: \"123456789012\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join(".accounts.yaml"),
        "accounts:\n  - name: staging\n    email: staging@example.com\n    ou: /\n",
    )
    .expect("write");
    let run = validate_within_30s(dir.path()).expect("validate returns");
    run.expect_code(0);
    assert!(
        run.stderr.contains(
            "./.accounts.yaml:1:1: warning: hidden file not read: names starting with `.` are \
             skipped; rename it to load it"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("valid (0 OUs, 0 accounts, 0 policies)"),
        "{}",
        run.stderr
    );

    std::fs::remove_file(dir.path().join("Organization.YAML")).expect("remove");
    let run = validate_within_30s(dir.path()).expect("validate returns");
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("; not read: .accounts.yaml (hidden files"),
        "{}",
        run.stderr
    );
}

//! `orgctl completions` and `orgctl man`: generated from the clap definition, checked through
//! the binary (every command is in them; bash really completes with the script).

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::{orgctl, repo};

/// The subcommands `orgctl --help` lists (so a new command is checked without editing this).
fn commands() -> BTreeSet<String> {
    let help = orgctl(&repo(), &["--help"], &[]);
    help.expect_code(0);
    let names: BTreeSet<String> = help
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    for expected in ["validate", "plan", "apply", "completions", "man"] {
        assert!(names.contains(expected), "{expected} in {names:?}");
    }
    names
}

#[test]
fn completions_for_each_shell_name_every_command() {
    let commands = commands();
    for (shell, marker) in [
        ("bash", "complete -F _orgctl"),
        ("zsh", "#compdef orgctl"),
        ("fish", "complete -c orgctl"),
    ] {
        let run = orgctl(&repo(), &["completions", shell], &[]);
        run.expect_code(0);
        assert!(run.stdout.contains(marker), "{shell}: {marker}");
        assert!(run.stderr.is_empty(), "{shell}: {}", run.stderr);
        for c in &commands {
            assert!(run.stdout.contains(c.as_str()), "{shell} completes {c}");
        }
        // Options of the commands too, not only their names.
        assert!(run.stdout.contains("detailed-exitcode"), "{shell}");
    }
    let bad = orgctl(&repo(), &["completions", "powershell"], &[]);
    bad.expect_code(1);
    assert!(bad.stderr.contains("bash, zsh, fish"), "{}", bad.stderr);
}

/// Sources the bash script and asks it for the completions of `words` (the last being typed).
fn bash_complete(script: &str, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("orgctl.bash");
    std::fs::write(&path, script).expect("write script");
    let line = words.join(" ");
    let cword = words.len() - 1;
    let program = format!(
        "source {path}\nCOMP_WORDS=({line})\nCOMP_CWORD={cword}\nCOMP_LINE='{line}'\n\
         COMP_POINT=${{#COMP_LINE}}\n_orgctl orgctl '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path = path.display(),
        cur = words[cword],
        prev = words[cword - 1],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(program)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_commands_options_and_values() {
    let script = orgctl(&repo(), &["completions", "bash"], &[]).stdout;
    let check = Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
        .expect("bash runs");
    assert!(check.status.success(), "bash -n: {check:?}");

    assert_eq!(bash_complete(&script, &["orgctl", "pl"]), ["plan"]);
    assert_eq!(
        bash_complete(&script, &["orgctl", "plan", "--detailed"]),
        ["--detailed-exitcode"]
    );
    assert_eq!(
        bash_complete(&script, &["orgctl", "plan", "--format", ""]),
        ["text", "markdown", "json"]
    );
    let shells = bash_complete(&script, &["orgctl", "completions", ""]);
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.iter().any(|s| s == shell), "{shell} in {shells:?}");
    }
    assert!(!shells.iter().any(|s| s == "powershell"), "{shells:?}");
}

#[test]
fn man_page_on_stdout_and_one_page_per_command_in_a_dir() {
    let commands = commands();
    let run = orgctl(&repo(), &["man"], &[]);
    run.expect_code(0);
    assert!(run.stdout.contains(".TH orgctl 1"), "{}", run.stdout);
    assert!(run.stdout.contains(".SH SYNOPSIS"));
    assert!(run.stdout.contains("Exit codes: 0 success"));
    for c in &commands {
        assert!(
            run.stdout.contains(&c.replace('-', "\\-")),
            "orgctl.1 lists {c}"
        );
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("man1");
    let written = orgctl(
        &repo(),
        &["man", "--dir", out.to_str().expect("utf-8")],
        &[],
    );
    written.expect_code(0);
    assert!(written.stdout.is_empty(), "{}", written.stdout);
    let files: BTreeSet<String> = std::fs::read_dir(&out)
        .expect("man dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let mut expected: BTreeSet<String> = commands.iter().map(|c| format!("orgctl-{c}.1")).collect();
    expected.insert("orgctl.1".to_owned());
    assert_eq!(files, expected);
    let plan = std::fs::read_to_string(out.join("orgctl-plan.1")).expect("plan page");
    assert!(plan.contains(".TH orgctl-plan 1"), "{plan}");
    assert!(
        plan.contains(&format!("\"orgctl {}\"", env!("CARGO_PKG_VERSION"))),
        "{plan}"
    );
    assert!(
        plan.contains("orgctl\\-plan \\- Show what apply would change"),
        "{plan}"
    );
    assert!(plan.contains("\\-\\-detailed\\-exitcode"), "{plan}");
    // The top page on stdout is the same as the file.
    let top = std::fs::read_to_string(out.join("orgctl.1")).expect("top page");
    assert_eq!(top, run.stdout);

    // A DIR that is a file: an error naming it, exit 1.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let bad = orgctl(
        &repo(),
        &["man", "--dir", file.to_str().expect("utf-8")],
        &[],
    );
    bad.expect_code(1);
    assert!(bad.stderr.contains("not-a-dir"), "{}", bad.stderr);
}

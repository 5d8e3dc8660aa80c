//! `docs/partner-access.md` is real: its three pull requests (the YAML and the diffs exactly as
//! the page shows them) are replayed on a `--live-state` sandbox of the example organization, and
//! each plan orgctl prints must be the one the page shows. `ORGCTL_UPDATE_DOCS=1` rewrites the
//! page's plans from what orgctl prints (review the diff). The emulator replays the same page
//! over real HTTP (`emulator::grants::the_three_pull_requests_of_the_walk_through`).

use std::path::PathBuf;

use crate::common::{Sandbox, orgctl, repo};

/// The walk-through.
pub fn doc_path() -> PathBuf {
    repo().join("docs/partner-access.md")
}

/// The fenced block after `<!-- story:NAME -->`: the byte range of its content (after the
/// opening fence's line, up to the closing fence) in `doc`.
pub fn block_range(doc: &str, name: &str) -> std::ops::Range<usize> {
    let marker = format!("<!-- story:{name} -->\n");
    let at = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker:?} not in docs/partner-access.md"))
        + marker.len();
    assert!(
        doc[at..].starts_with("```"),
        "a fenced block must follow {marker:?}"
    );
    let start = at + doc[at..].find('\n').expect("fence line") + 1;
    let end = start
        + doc[start..]
            .find("```\n")
            .unwrap_or_else(|| panic!("the block after {marker:?} is not closed"));
    start..end
}

/// The content of the block after `<!-- story:NAME -->`.
pub fn block(doc: &str, name: &str) -> String {
    doc[block_range(doc, name)].to_owned()
}

/// Applies a unified diff (one file, as the page shows it) to `text`: each hunk's old lines
/// (context and `-`) must occur exactly once and become its new lines (context and `+`).
pub fn apply_diff(text: &str, diff: &str) -> String {
    let mut out = text.to_owned();
    let mut hunks: Vec<(String, String)> = Vec::new();
    for line in diff.lines() {
        if line.starts_with("--- ") || line.starts_with("+++ ") {
            continue;
        }
        if line.starts_with("@@") {
            hunks.push((String::new(), String::new()));
            continue;
        }
        let (old, new) = hunks.last_mut().expect("a hunk header before the lines");
        match line.split_at(line.len().min(1)) {
            ("-", rest) => old.push_str(&format!("{rest}\n")),
            ("+", rest) => new.push_str(&format!("{rest}\n")),
            (" ", rest) | ("", rest) => {
                old.push_str(&format!("{rest}\n"));
                new.push_str(&format!("{rest}\n"));
            }
            _ => panic!("not a diff line: {line:?}"),
        }
    }
    for (old, new) in hunks {
        assert_eq!(
            out.matches(old.as_str()).count(),
            1,
            "a hunk's old lines must occur exactly once:\n{old}"
        );
        out = out.replacen(old.as_str(), &new, 1);
    }
    out
}

/// `desired-state/grants.yaml` after each of the three pull requests, as the page writes them.
pub fn grants_after_each_pull_request() -> [String; 3] {
    let doc = std::fs::read_to_string(doc_path()).expect("read docs/partner-access.md");
    let pr1 = block(&doc, "pr1-grants");
    let pr2 = apply_diff(&pr1, &block(&doc, "pr2-diff"));
    let pr3 = apply_diff(&pr2, &block(&doc, "pr3-diff"));
    [pr1, pr2, pr3]
}

/// The plan the page shows for pull request `n` (1–3).
pub fn documented_plan(n: usize) -> String {
    let doc = std::fs::read_to_string(doc_path()).expect("read docs/partner-access.md");
    block(&doc, &format!("pr{n}-plan"))
}

/// The example organization without grants, applied to a sandbox.
fn story_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    let grants = sb.path().join("desired-state/grants.yaml");
    if grants.exists() {
        std::fs::remove_file(grants).expect("remove the example's grants");
    }
    sb.run(&["apply", "--auto-approve"]).expect_code(0);
    sb.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    sb
}

#[test]
fn the_walk_through_prints_what_the_doc_shows() {
    let sb = story_sandbox();
    let mut printed = Vec::new();
    for (i, grants) in grants_after_each_pull_request().iter().enumerate() {
        sb.write("desired-state/grants.yaml", grants);
        orgctl(sb.path(), &["validate"], &[]).expect_code(0);
        let plan = sb.run(&["plan", "--detailed-exitcode"]);
        plan.expect_code(2);
        printed.push(plan.stdout.clone());
        sb.run(&["apply", "--auto-approve"]).expect_code(0);
        let again = sb.run(&["plan", "--detailed-exitcode"]);
        again.expect_code(0);
        assert!(
            again.stdout.contains("No changes."),
            "pull request {}: {}",
            i + 1,
            again.stdout
        );
    }

    // Who can reach staging now: the live roles, as `orgctl access` reads them.
    let access = sb.run(&["access", "--account", "companyx-staging"]);
    access.expect_code(0);

    let path = doc_path();
    let mut doc = std::fs::read_to_string(&path).expect("read docs/partner-access.md");
    if std::env::var_os("ORGCTL_UPDATE_DOCS").is_some() {
        for (i, plan) in printed.iter().enumerate() {
            let range = block_range(&doc, &format!("pr{}-plan", i + 1));
            doc.replace_range(range, plan);
        }
        let range = block_range(&doc, "pr3-access");
        doc.replace_range(range, &access.stdout);
        std::fs::write(&path, doc).expect("write docs/partner-access.md");
        return;
    }
    for (i, plan) in printed.iter().enumerate() {
        assert_eq!(
            &block(&doc, &format!("pr{}-plan", i + 1)),
            plan,
            "docs/partner-access.md shows another plan for pull request {} than orgctl prints \
             (ORGCTL_UPDATE_DOCS=1 rewrites it; review the diff)",
            i + 1
        );
    }
    assert_eq!(
        block(&doc, "pr3-access"),
        access.stdout,
        "docs/partner-access.md shows another `orgctl access` than orgctl prints \
         (ORGCTL_UPDATE_DOCS=1 rewrites it; review the diff)"
    );
}

#[test]
fn the_diffs_apply_hunk_by_hunk() {
    let text = "a\nb\nc\nd\n";
    assert_eq!(
        apply_diff(text, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"),
        "a\nB\nc\nd\n"
    );
    // Empty context lines (editors strip the trailing space).
    assert_eq!(
        apply_diff("x\n\ny\n", "@@ -1,3 +1,2 @@\n x\n\n-y\n"),
        "x\n\n"
    );
}

#[test]
fn the_readme_quotes_the_third_plan_as_the_page_shows_it() {
    let plan = documented_plan(3);
    let start = plan.find("Access changes").expect("an access section");
    let end = plan.find("\nOther changes").expect("other changes");
    let access = plan[start..end].trim_end();
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    assert!(
        readme.contains(&format!("```\n{access}\n```\n")),
        "README.md must quote the access changes of docs/partner-access.md's third plan:\n{access}"
    );
}

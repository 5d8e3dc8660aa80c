//! The boundaries `docs/architecture.md` states between the crates, checked on their manifests
//! and sources.

use std::path::Path;

use crate::common::repo;

/// The names of the dependencies a `Cargo.toml` declares for its package, in every dependency
/// table (not the workspace's shared `[workspace.dependencies]`).
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("read Cargo.toml");
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            let table = line.trim_matches(['[', ']']);
            in_dependencies = table.ends_with("dependencies") && !table.starts_with("workspace");
        } else if in_dependencies && let Some((key, _)) = line.split_once('=') {
            let name = key.trim().split('.').next().unwrap_or_default();
            if !name.is_empty() && !name.starts_with('#') {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// `(crate directory, its dependencies)` for the root package and every crate under `crates/`.
fn crates() -> Vec<(String, Vec<String>)> {
    let mut all = vec![(".".to_owned(), dependencies(&repo().join("Cargo.toml")))];
    for entry in std::fs::read_dir(repo().join("crates")).expect("crates/") {
        let dir = entry.expect("entry").path();
        let manifest = dir.join("Cargo.toml");
        if manifest.is_file() {
            let name = dir
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            all.push((name, dependencies(&manifest)));
        }
    }
    assert!(all.len() >= 8, "the workspace's crates: {all:?}");
    all
}

#[test]
fn only_orgctl_aws_depends_on_the_aws_sdk() {
    for (dir, deps) in crates() {
        if dir == "orgctl-aws" {
            assert!(deps.iter().any(|d| d.starts_with("aws-sdk-")), "{deps:?}");
            continue;
        }
        let sdk: Vec<&String> = deps.iter().filter(|d| d.starts_with("aws-")).collect();
        assert!(sdk.is_empty(), "{dir} depends on {sdk:?}");
        // Only the binary (the root package) may reach the SDK, through orgctl-aws.
        if dir != "." {
            assert!(
                !deps.iter().any(|d| d == "orgctl-aws"),
                "{dir} depends on orgctl-aws"
            );
        }
    }
}

#[test]
fn the_planner_does_no_io_and_reads_no_clock() {
    let (_, deps) = crates()
        .into_iter()
        .find(|(dir, _)| dir == "orgctl-planner")
        .expect("orgctl-planner");
    let pure = [
        "orgctl-model",
        "serde",
        "serde_json",
        "similar",
        "sha2",
        "schemars",
        "thiserror",
        // Calendar dates only (the access review's days left); reading its clock is banned below.
        "jiff",
        // dev-dependencies
        "proptest",
        "insta",
    ];
    for d in &deps {
        assert!(
            pure.contains(&d.as_str()),
            "orgctl-planner depends on {d}: is it pure (no IO, no clock)?"
        );
    }
    let files = sources(&repo().join("crates/orgctl-planner/src"));
    assert!(files.len() > 10, "planner sources found: {files:?}");
    for (path, text) in files {
        for banned in [
            "std::fs",
            "std::io",
            "std::net",
            "std::env",
            "std::process",
            "std::time",
            "SystemTime",
            "Instant",
            "thread_rng",
            "::now(",
        ] {
            assert!(!text.contains(banned), "{path} uses {banned}");
        }
    }
}

#[test]
fn only_the_binary_prints() {
    let mut libraries = 0;
    for entry in std::fs::read_dir(repo().join("crates")).expect("crates/") {
        let dir = entry.expect("entry").path();
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !name.starts_with("orgctl-") {
            continue;
        }
        libraries += 1;
        for (path, text) in sources(&dir.join("src")) {
            // A development tool's own binary (`orgctl-faultproxy`'s `src/main.rs`) is a binary.
            if path.ends_with("/src/main.rs") {
                continue;
            }
            for banned in [
                "print!",
                "println!",
                "eprint",
                "dbg!",
                "io::stdout",
                "io::stderr",
            ] {
                assert!(!text.contains(banned), "{path} uses {banned}");
            }
        }
    }
    assert!(libraries >= 7, "library crates found: {libraries}");
}

/// `(path, text)` of every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut pending = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                files.push((path.display().to_string(), text));
            }
        }
    }
    files
}

#[test]
fn the_export_of_orgctl_import_does_no_io_and_reads_no_clock() {
    let path = repo().join("crates/orgctl-manifest/src/export.rs");
    let text = std::fs::read_to_string(&path).expect("export.rs");
    for banned in [
        "std::fs",
        "std::io",
        "std::net",
        "std::env",
        "std::process",
        "std::time",
        "SystemTime",
        "Instant",
        "::now(",
        "Zoned",
    ] {
        assert!(!text.contains(banned), "{} uses {banned}", path.display());
    }
}

//! Helpers shared by the integration tests: run the binary, make sandboxes and snapshots.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use orgctl_backend::{MemoryOrg, OrgApi};
use orgctl_model::Tags;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panics with everything the run printed unless it exited with `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `orgctl` with `args` in `cwd`, no stdin, a pinned date and no colour.
pub fn orgctl(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgctl"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env("ORGCTL_TODAY", "2026-11-27")
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("AWS_PROFILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the orgctl binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// A sandbox: a temp dir holding a copy of the example desired state and an organization
/// snapshot with only the management account (the example's pinned 123456789012).
pub struct Sandbox {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// A new sandbox.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(
            &repo().join("desired-state"),
            &dir.path().join("desired-state"),
        );
        let sb = Sandbox { dir };
        sb.write_org(&MemoryOrg::new("123456789012", "root@companyx.example"));
        sb
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The snapshot file.
    pub fn snapshot(&self) -> PathBuf {
        self.path().join("live.json")
    }

    /// Replaces the snapshot with this organization.
    pub fn write_org(&self, org: &MemoryOrg) {
        let mut live = org.to_live();
        live.normalize();
        let mut value = serde_json::to_value(&live).expect("serialise");
        value["format_version"] = serde_json::json!(1);
        std::fs::write(
            self.snapshot(),
            serde_json::to_string_pretty(&value).expect("json"),
        )
        .expect("write");
    }

    /// The snapshot's text.
    pub fn snapshot_text(&self) -> String {
        std::fs::read_to_string(self.snapshot()).expect("read snapshot")
    }

    /// Runs orgctl here with `--live-state live.json` appended.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--live-state", "live.json"]);
        orgctl(self.path(), &all, &[])
    }

    /// Writes a file below the sandbox.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    /// Reads a file below the sandbox.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).expect("read")
    }
}

/// Creates OU `name` under `parent` (`None`: the root) in an in-memory organization, as an
/// out-of-band change would; returns its id.
pub fn create_ou(org: &MemoryOrg, parent: Option<&str>, name: &str, tags: &Tags) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let parent = match parent {
        Some(id) => id.to_owned(),
        None => rt.block_on(org.list_roots()).expect("roots")[0].id.clone(),
    };
    rt.block_on(org.create_ou(&parent, name, tags))
        .expect("create OU")
        .id
}

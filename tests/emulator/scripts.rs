//! The emulator scripts themselves: the launcher dies with its parent (no orphan servers),
//! `seed_handbuilt.py` builds the hand-built organization the CLI demos and tests start from, and
//! the README's quick start (`scripts/quickstart.sh`) runs end to end, grants and `orgctl access`
//! included.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orgctl_aws::connect_static;
use orgctl_backend::{ReadOptions, read_live};
use orgctl_model::{PolicyType, Tags};
use serde_json::Value;

use super::moto::moto;
use super::support::{random_account_id, seed_handbuilt, seeded_env};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    repo().join(".venv-moto/bin/python")
}

/// Whether a process is alive (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

#[test]
fn the_launcher_exits_when_its_parent_dies() {
    moto(); // the venv exists
    let script = repo().join("scripts/moto_server.py");
    // A shell starts the launcher in the background, waits until it answers, prints its pid
    // and exits: the launcher's parent is gone.
    let sh = format!(
        r#"
        port=$("{py}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        "{py}" "{script}" --port "$port" >/dev/null 2>&1 </dev/null &
        pid=$!
        for _ in $(seq 1 150); do
          "{py}" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null && break
          sleep 0.2
        done
        echo "$pid"
        "#,
        py = python().display(),
        script = script.display(),
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(sh)
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the launcher's pid");
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "moto_server.py (pid {pid}) still runs 10 s after its parent exited"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn the_seeded_organization_looks_hand_built() {
    let account = random_account_id();
    let seeded = seed_handbuilt(&account);
    assert_eq!(seeded["management_account_id"], account.as_str());
    let org = connect_static(&seeded_env(&seeded), None)
        .await
        .expect("connect");
    assert_eq!(org.caller_account_id().await.expect("caller"), account);
    let live = read_live(&org, &ReadOptions::default())
        .await
        .expect("read the seeded organization");
    let root = seeded["root_id"].as_str().expect("root");
    assert_eq!(live.organization.root_id, root);
    assert_eq!(
        live.organization
            .enabled_policy_types
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![PolicyType::ServiceControlPolicy],
        "tag policies not enabled yet"
    );

    let ou_path: BTreeMap<&str, &str> = seeded["ous"]
        .as_object()
        .expect("ous")
        .iter()
        .map(|(path, id)| (id.as_str().expect("id"), path.as_str()))
        .collect();
    let path_of = |id: &str| {
        if id == root {
            "/".to_owned()
        } else {
            ou_path.get(id).map(|p| (*p).to_owned()).unwrap_or_default()
        }
    };
    // Two of the example's OUs exist, hand-made (not tagged managed-by: orgctl); one unrelated.
    let mut paths: Vec<String> = live.ous.iter().map(|o| path_of(&o.id)).collect();
    paths.sort();
    assert_eq!(paths, vec!["/Legacy", "/Workloads", "/Workloads/Staging"]);
    assert!(live.ous.iter().all(|o| !orgctl_model::is_managed(&o.tags)));

    let by_name = |n: &str| {
        live.accounts
            .iter()
            .find(|a| a.name == n)
            .unwrap_or_else(|| panic!("account {n}"))
    };
    // In the wrong OUs, with a stale tag value.
    let staging = by_name("companyx-staging");
    assert_eq!(path_of(&staging.parent_id), "/", "staging sits in the root");
    assert_eq!(staging.email, "companyx-staging@partner.example");
    assert_eq!(staging.tags["environment"], "stage", "stale value");
    let production = by_name("companyx-production");
    assert_eq!(path_of(&production.parent_id), "/Workloads/Staging");
    assert_eq!(
        production.tags,
        tags(&[
            ("cost-center", "companyx"),
            ("environment", "production"),
            ("owner", "partner")
        ])
    );
    assert_eq!(path_of(&by_name("legacy-billing").parent_id), "/Legacy");
    assert!(live.accounts.iter().all(|a| a.name != "companyx-sandbox"));

    // deny-leave-organization exists with another document; restrict-regions does not.
    let deny = live
        .policies
        .iter()
        .find(|p| p.name == "deny-leave-organization")
        .expect("deny-leave-organization");
    assert_eq!(deny.targets, vec![root.to_owned()]);
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("desired-state/policies/deny-leave-organization.json"),
    )
    .expect("the example's document");
    let want: Value = serde_json::from_str(&example).expect("JSON");
    let have: Value = serde_json::from_str(&deny.content).expect("JSON");
    assert_ne!(want, have, "the live document differs from the example's");
    assert!(live.policies.iter().all(|p| p.name != "restrict-regions"));
    let legacy = live
        .policies
        .iter()
        .find(|p| p.name == "legacy-deny-s3")
        .expect("legacy-deny-s3");
    assert_eq!(
        legacy.targets,
        vec![seeded["ous"]["/Legacy"].as_str().expect("id").to_owned()]
    );
}

/// The README's first command, as CI runs it: its own emulator (`scripts/emulator.sh start`, here
/// with its pid file in a temp dir), the hand-built seed, plan (access changes first: the
/// example's grants), apply, a plan with no changes, then `orgctl access`; the emulator stopped.
#[test]
fn the_quick_start_runs_end_to_end_with_the_grants_and_access() {
    moto(); // the venv exists
    let run_dir = tempfile::tempdir().expect("run dir");
    let home = tempfile::tempdir().expect("home");
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/quickstart.sh"))
        .current_dir(repo())
        .stdin(Stdio::null())
        .env("ORGCTL_BIN", env!("CARGO_BIN_EXE_orgctl"))
        .env("ORGCTL_RUN_DIR", run_dir.path())
        .env("ORGCTL_TODAY", "2026-11-27")
        .env("NO_COLOR", "1")
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for var in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("run quickstart.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "quickstart.sh failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for needle in [
        // The first plan: the grants lead the access changes.
        "arn:aws:iam::999988887777:root (partner Partner GmbH)",
        "+ gains companyx-staging: AdministratorAccess, inline deny-billing; MFA, external id, sessions ≤ 4h; until 2027-06-30",
        "+ gains companyx-production: AdministratorAccess, inline deny-billing; MFA, external id, sessions ≤ 2h; until 2027-03-31",
        "+ grant/partner-staging -> account companyx-staging will be created",
        // In sync after the apply.
        "No changes. The organization matches the desired state.",
        // `orgctl access`: the roles AWS now holds, and the partner's root emails.
        "grant partner-staging (role /orgctl/orgctl-partner-staging): active",
        "grant partner-production (role /orgctl/orgctl-partner-production): active",
        "root email:   companyx-staging@partner.example (NOT a company domain",
    ] {
        assert!(
            stdout.contains(needle),
            "{needle:?} not in the quick start's output:\n{stdout}"
        );
    }
    assert!(
        stderr.contains("exit code 0 - the organization matches desired-state/."),
        "{stderr}"
    );
    assert!(stderr.contains("==> orgctl access"), "{stderr}");
    // The emulator it started is stopped.
    assert!(
        !run_dir.path().join("moto.pid").exists(),
        "the quick start left its emulator running"
    );
}

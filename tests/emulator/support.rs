//! Per-test organizations: every test runs as its own management account with its own
//! organization, so tests share one emulator yet run in parallel without seeing each other.
//!
//! moto maps the credentials STS AssumeRole returns to the account named in the role ARN, so
//! assuming `arn:aws:iam::<random 12 digits>:role/bootstrap` gives a fresh account to call
//! CreateOrganization from.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use orgctl_aws::{Bootstrap, SdkOrg, StaticCredentials, StaticEnv, connect_static};
use orgctl_backend::OrgApi;
use orgctl_backend::api::OrgInfo;
use serde_json::Value;

use super::moto::moto;

/// A random number (std only: a randomly keyed hasher over time, pid and a counter).
pub fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// A random 12-digit account id (never moto's default 123456789012).
pub fn random_account_id() -> String {
    loop {
        let id = format!("{:012}", random_u64() % 1_000_000_000_000);
        if id != "123456789012" && !id.starts_with('0') {
            return id;
        }
    }
}

/// One test's organization in the shared emulator.
pub struct TestOrg {
    /// The management account's credentials, pointed at moto.
    pub env: StaticEnv,
    /// The organization.
    pub info: OrgInfo,
    /// Its root.
    pub root_id: String,
    /// A short random suffix for names that must not collide with other tests'.
    pub suffix: String,
}

impl TestOrg {
    /// A fresh management account and organization (feature set ALL).
    pub async fn new() -> TestOrg {
        let moto = moto();
        let base = StaticEnv {
            endpoint_url: moto.url.clone(),
            region: "us-east-1".into(),
            credentials: StaticCredentials {
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
                session_token: None,
            },
        };
        let account = random_account_id();
        let boot = Bootstrap::connect(&base).await.expect("bootstrap clients");
        let credentials = boot
            .assume_role(
                &format!("arn:aws:iam::{account}:role/bootstrap"),
                "orgctl-tests",
            )
            .await
            .expect("assume the bootstrap role");
        let env = StaticEnv {
            credentials,
            ..base
        };
        let info = Bootstrap::connect(&env)
            .await
            .expect("bootstrap clients")
            .create_organization()
            .await
            .expect("create the organization");
        assert_eq!(info.management_account_id, account);
        let org = connect_static(&env, None).await.expect("connect");
        let roots = org.list_roots().await.expect("list roots");
        assert_eq!(roots.len(), 1, "one root");
        TestOrg {
            env,
            info,
            root_id: roots[0].id.clone(),
            suffix: format!("{:06x}", random_u64() % 0x100_0000),
        }
    }

    /// A client for this organization, straight to moto.
    pub async fn sdk(&self, page_size: Option<i32>) -> SdkOrg {
        connect_static(&self.env, page_size).await.expect("connect")
    }

    /// A client for this organization through another endpoint (a fault proxy).
    pub async fn sdk_via(&self, endpoint_url: &str, page_size: Option<i32>) -> SdkOrg {
        let env = StaticEnv {
            endpoint_url: endpoint_url.to_owned(),
            ..self.env.clone()
        };
        connect_static(&env, page_size).await.expect("connect")
    }

    /// A name unique to this test (`base-<suffix>`).
    pub fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.suffix)
    }

    /// The management account's id.
    pub fn management(&self) -> &str {
        &self.info.management_account_id
    }
}

/// A minimal valid SCP denying one action.
pub fn scp(action: &str) -> String {
    format!(
        r#"{{"Statement":[{{"Action":"{action}","Effect":"Deny","Resource":"*"}}],"Version":"2012-10-17"}}"#
    )
}

/// Runs `scripts/seed_handbuilt.py --account ACCOUNT` against the shared emulator: a
/// hand-built organization (see the script) in a new management account. Returns the script's
/// JSON (ids, and the account's credentials).
pub fn seed_handbuilt(account: &str) -> Value {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(repo.join(".venv-moto/bin/python"))
        .arg(repo.join("scripts/seed_handbuilt.py"))
        .args(["--endpoint-url", &moto().url, "--account", account])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run seed_handbuilt.py");
    assert!(
        out.status.success(),
        "seed_handbuilt.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("seed output is JSON")
}

/// The emulator environment with a seeded organization's credentials.
pub fn seeded_env(seeded: &Value) -> StaticEnv {
    let c = &seeded["credentials"];
    StaticEnv {
        endpoint_url: moto().url.clone(),
        region: "us-east-1".into(),
        credentials: StaticCredentials {
            access_key_id: c["AWS_ACCESS_KEY_ID"].as_str().expect("key").into(),
            secret_access_key: c["AWS_SECRET_ACCESS_KEY"].as_str().expect("secret").into(),
            session_token: c["AWS_SESSION_TOKEN"].as_str().map(str::to_owned),
        },
    }
}

/// The environment that gives orgctl the credentials of `env` and the endpoint `endpoint`.
pub fn env_vars(env: &StaticEnv, endpoint: &str) -> Vec<(&'static str, String)> {
    let c = &env.credentials;
    let mut vars = vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key.clone()),
    ];
    if let Some(t) = &c.session_token {
        vars.push(("AWS_SESSION_TOKEN", t.clone()));
    }
    vars
}

/// The binary in `cwd` with exactly `env` (plus PATH, an empty HOME, no shared config files,
/// no instance metadata), a pinned date and no colour; the HOME dir lives as long as the guard.
pub fn orgctl_command(
    cwd: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
) -> (Command, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("home");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgctl"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("ORGCTL_TODAY", "2026-11-27")
        .env("NO_COLOR", "1");
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd, home)
}

/// Runs the binary (see [`orgctl_command`]) to completion: exit code, stdout, stderr.
pub fn run_binary(
    cwd: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
) -> (i32, String, String) {
    let (mut cmd, _home) = orgctl_command(cwd, args, env);
    let out = cmd.output().expect("run orgctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

//! `orgctl_aws::connect` with the standard chain: credentials, region and endpoint come from the
//! environment and the shared config files.
//!
//! The environment is process-wide, so each case runs this test binary again as a child
//! process with a controlled environment (`env_clear`), running only [`probe_child`], which
//! connects, calls STS and Organizations and prints what it saw as one JSON line.

use std::path::Path;
use std::process::Command;

use orgctl_aws::{AwsOptions, connect};
use orgctl_backend::OrgApi;
use serde_json::{Value, json};

use super::moto::moto;
use super::support::TestOrg;

const PROBE: &str = "emulator::connect::probe_child";

/// Runs the probe in a child process with exactly `env` (plus PATH).
fn probe(env: &[(&str, &str)]) -> Value {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([
        PROBE,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_clear()
    .env("ORGCTL_PROBE", "1");
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the probe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.find("PROBE:").map(|i| &l[i + "PROBE:".len()..]))
        .unwrap_or_else(|| {
            panic!(
                "the probe printed no result ({}):\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).expect("probe JSON")
}

/// An environment with no credentials anywhere: empty HOME, no config files, no IMDS.
fn isolated(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", dir.display().to_string()),
        ("AWS_CONFIG_FILE", dir.join("config").display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("credentials").display().to_string(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL", moto().url.clone()),
    ]
}

fn as_refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn environment_credentials_and_aws_endpoint_url_are_used() {
    let t = TestOrg::new().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = isolated(dir.path());
    let c = &t.env.credentials;
    env.push(("AWS_ACCESS_KEY_ID", c.access_key_id.clone()));
    env.push(("AWS_SECRET_ACCESS_KEY", c.secret_access_key.clone()));
    env.push(("AWS_SESSION_TOKEN", c.session_token.clone().expect("token")));
    let seen = probe(&as_refs(&env));
    assert_eq!(
        seen["region"], "us-east-1",
        "no region anywhere → us-east-1: {seen}"
    );
    assert_eq!(seen["caller"], json!(t.management()), "{seen}");
    assert_eq!(seen["organization"], json!(t.info.id), "{seen}");

    // AWS_REGION is honoured.
    env.push(("AWS_REGION", "eu-central-1".into()));
    let seen = probe(&as_refs(&env));
    assert_eq!(seen["region"], "eu-central-1", "{seen}");
    assert_eq!(seen["caller"], json!(t.management()), "{seen}");
}

#[tokio::test]
async fn a_named_profile_supplies_credentials_and_region() {
    let t = TestOrg::new().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let c = &t.env.credentials;
    std::fs::write(
        dir.path().join("config"),
        "[profile orgctl-test]\nregion = eu-west-1\n",
    )
    .expect("config");
    std::fs::write(
        dir.path().join("credentials"),
        format!(
            "[orgctl-test]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            c.access_key_id,
            c.secret_access_key,
            c.session_token.clone().expect("token")
        ),
    )
    .expect("credentials");
    let mut env = isolated(dir.path());
    env.push(("ORGCTL_PROBE_PROFILE", "orgctl-test".into()));
    let seen = probe(&as_refs(&env));
    assert_eq!(seen["region"], "eu-west-1", "the profile's region: {seen}");
    assert_eq!(seen["caller"], json!(t.management()), "{seen}");
    assert_eq!(seen["organization"], json!(t.info.id), "{seen}");

    // --region wins over the profile.
    env.push(("ORGCTL_PROBE_REGION", "ap-southeast-2".into()));
    let seen = probe(&as_refs(&env));
    assert_eq!(seen["region"], "ap-southeast-2", "{seen}");
    assert_eq!(seen["caller"], json!(t.management()), "{seen}");
}

#[test]
fn no_credentials_is_a_credentials_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = isolated(dir.path());
    let seen = probe(&as_refs(&env));
    assert_eq!(seen["caller_error"]["kind"], "Credentials", "{seen}");
    assert_eq!(
        seen["caller_error"]["code"], "CredentialsNotFound",
        "{seen}"
    );
    let msg = seen["caller_error"]["message"].as_str().expect("message");
    assert!(
        msg.starts_with("No AWS credentials found: set AWS_PROFILE"),
        "{msg}"
    );
    assert_eq!(seen["organization_error"]["kind"], "Credentials", "{seen}");
}

#[test]
fn an_undefined_profile_is_a_credentials_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("config"),
        "[profile other]\nregion = eu-west-1\n",
    )
    .expect("config");
    let mut env = isolated(dir.path());
    env.push(("ORGCTL_PROBE_PROFILE", "missing-profile".into()));
    let seen = probe(&as_refs(&env));
    assert_eq!(seen["caller_error"]["kind"], "Credentials", "{seen}");
    assert_eq!(seen["caller_error"]["code"], "ProfileNotFound", "{seen}");
    let msg = seen["caller_error"]["message"].as_str().expect("message");
    assert!(
        msg.starts_with("The selected AWS profile is not defined"),
        "{msg}"
    );
    // Later calls get the SDK's terser error: still a credentials error with the same advice.
    assert_eq!(seen["organization_error"]["kind"], "Credentials", "{seen}");
    assert_eq!(seen["organization_error"]["message"], msg, "{seen}");
}

/// The child half of the tests above (it needs their environment, so it only runs in a child
/// process they start; run alone it fails).
#[tokio::test]
#[ignore = "runs in a child process started by the emulator::connect tests"]
async fn probe_child() {
    assert!(
        std::env::var_os("ORGCTL_PROBE").is_some(),
        "this is the child half of the emulator::connect tests: run those instead"
    );
    let opts = AwsOptions {
        profile: std::env::var("ORGCTL_PROBE_PROFILE").ok(),
        region: std::env::var("ORGCTL_PROBE_REGION").ok(),
        page_size: None,
    };
    let org = connect(&opts).await.expect("connect");
    let err_json = |e: orgctl_backend::ApiError| json!({"kind": format!("{:?}", e.kind), "code": e.code, "message": e.message});
    let (caller, caller_error) = match org.caller_account_id().await {
        Ok(id) => (json!(id), Value::Null),
        Err(e) => (Value::Null, err_json(e)),
    };
    let (organization, organization_error) = match org.describe_organization().await {
        Ok(o) => (json!(o.id), Value::Null),
        Err(e) => (Value::Null, err_json(e)),
    };
    let seen = json!({
        "region": org.region(),
        "caller": caller,
        "caller_error": caller_error,
        "organization": organization,
        "organization_error": organization_error,
    });
    println!("PROBE:{seen}");
}

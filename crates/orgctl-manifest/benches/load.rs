//! Loader benchmark: writes desired-state directories of 1,000 to 100,000 accounts (over 1,000
//! OUs, two tags each, ids given) and prints the best time of `load_dir` and the peak memory.
//! `cargo bench -p orgctl-manifest --bench load` runs the full sizes; under `cargo test` (no
//! `--bench` argument) it runs one small size as a smoke test. `PROFILE=N` loads N accounts
//! once and exits (for `valgrind --tool=callgrind`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use orgctl_manifest::load_dir;

const ORG: &str = "organization:\n  management_account_id: \"123456789012\"\n  enabled_policy_types: [service_control_policy, tag_policy]\n";

/// Writes the desired state of `accounts` accounts into `dir`.
fn write_state(dir: &Path, accounts: usize) {
    let ous_count = 1000.min(accounts);
    let mut ous = String::from("ous:\n");
    for i in 0..ous_count {
        let _ = write!(
            ous,
            "  - path: /Unit{i:04}\n    tags: {{cost-center: cc{i}}}\n"
        );
    }
    let mut text = String::from("accounts:\n");
    for i in 0..accounts {
        let _ = write!(
            text,
            "  - name: account-{i:06}\n    email: account-{i:06}@example.com\n    ou: /Unit{:04}\n    id: \"{:012}\"\n    tags: {{cost-center: cc{i}, owner: team-{}}}\n",
            i % ous_count,
            100_000_000_000u64 + i as u64,
            i % 97
        );
    }
    for (name, body) in [
        ("organization.yaml", ORG),
        ("ous.yaml", ous.as_str()),
        ("accounts.yaml", text.as_str()),
    ] {
        if let Err(e) = std::fs::write(dir.join(name), body) {
            panic!("cannot write {name}: {e}");
        }
    }
}

fn load(dir: &Path, accounts: usize) -> f64 {
    let start = Instant::now();
    let loaded = match load_dir(dir) {
        Ok(l) => l,
        Err(e) => panic!("the benchmark state does not load:\n{e}"),
    };
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(loaded.desired.accounts.len(), accounts);
    ms
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temporary directory: {e}"),
    };
    if let Some(n) = std::env::var("PROFILE").ok().and_then(|v| v.parse().ok()) {
        write_state(dir.path(), n);
        let ms = load(dir.path(), n);
        println!("{n} accounts loaded in {ms:.1} ms");
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000]
    };
    println!(
        "{:>9} {:>10} {:>12} {:>12}",
        "accounts", "YAML MiB", "load (ms)", "peak RSS MiB"
    );
    for &n in sizes {
        write_state(dir.path(), n);
        let bytes: u64 = ["ous.yaml", "accounts.yaml"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
            .map(|m| m.len())
            .sum();
        let runs = if n >= 100_000 { 3 } else { 5 };
        let best = (0..runs)
            .map(|_| load(dir.path(), n))
            .fold(f64::MAX, f64::min);
        #[allow(clippy::cast_precision_loss)]
        let mib = bytes as f64 / (1024.0 * 1024.0);
        println!(
            "{n:>9} {mib:>10.1} {best:>12.1} {:>12.1}",
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
}

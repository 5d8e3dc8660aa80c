//! One moto server for the whole test binary.
//!
//! The first test that needs it installs the pinned emulator if the venv is missing
//! (`scripts/emulator.sh install`), starts `scripts/moto_server.py` on a free loopback port and
//! waits until `GET /moto-api/` answers 200 from the process it started. The launcher exits by
//! itself when this test process dies, so no server outlives the run. If moto cannot be
//! installed or started, every emulator test fails with the reason: they never skip.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the server may take to answer after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The running emulator.
pub struct Moto {
    /// `127.0.0.1:PORT`.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The launcher process (kept so it is not reaped early; it exits with this process).
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();

/// The shared emulator, started on first use. Panics (failing the test) when it cannot run.
pub fn moto() -> &'static Moto {
    match MOTO.get_or_init(start) {
        Ok(m) => m,
        Err(e) => panic!("the moto emulator is not available, so this test cannot run: {e}"),
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv_python(root: &Path) -> PathBuf {
    match std::env::var_os("ORGCTL_MOTO_VENV") {
        Some(v) => PathBuf::from(v).join("bin/python"),
        None => root.join(".venv-moto/bin/python"),
    }
}

fn install(root: &Path) -> Result<(), String> {
    let out = Command::new("bash")
        .arg(root.join("scripts/emulator.sh"))
        .arg("install")
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run scripts/emulator.sh install: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "scripts/emulator.sh install failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `GET /moto-api/` answers 200.
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

fn start() -> Result<Moto, String> {
    let root = repo();
    install(&root)?;
    let python = venv_python(&root);
    let log_path =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{}.log", std::process::id()));
    let mut last_err = String::new();
    // A port picked free may be taken before the server binds it: try a few.
    for _ in 0..3 {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let mut child = Command::new(&python)
            .arg(root.join("scripts/moto_server.py"))
            .args(["--port", &port.to_string()])
            .env_remove("MOTO_ACCOUNT_ID")
            .env_remove("MOTO_IAM_LOAD_MANAGED_POLICIES")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                last_err = format!("moto_server.py exited ({status}) on port {port}:\n{log}");
                break;
            }
            // Answering is not enough: it must be our server, and it must still be alive.
            if answers(addr) && matches!(child.try_wait(), Ok(None)) {
                return Ok(Moto {
                    addr,
                    url: format!("http://{addr}"),
                    _child: Mutex::new(child),
                });
            }
            if started.elapsed() > READY_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "moto did not answer on {addr} within {READY_TIMEOUT:?} (log: {})",
                    log_path.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Err(last_err)
}

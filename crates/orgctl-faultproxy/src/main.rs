//! `orgctl-faultproxy`: the fault proxy of the emulator tests as a process, for benchmarks.
//!
//! ```text
//! orgctl-faultproxy --upstream 127.0.0.1:5000 [--port N] [--latency-ms MS] [--rate R --burst B]
//! ```
//!
//! Prints its URL (`http://127.0.0.1:PORT`) on the first line of stdout, then serves until it
//! is killed. `GET http://127.0.0.1:PORT/_faultproxy/stats` answers the counters as JSON.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use orgctl_faultproxy::{Options, Proxy};

/// What the command line asks for.
#[derive(Debug, Default)]
struct Args {
    upstream: Option<SocketAddr>,
    port: u16,
    latency: Duration,
    rate: Option<f64>,
    burst: u32,
}

const USAGE: &str = "usage: orgctl-faultproxy --upstream HOST:PORT [--port N] [--latency-ms MS] \
                     [--rate REQUESTS_PER_S [--burst N]]";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        burst: 10,
        ..Args::default()
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let bad = |v: &str| format!("{flag} {v}: not a valid value");
        match flag.as_str() {
            "--upstream" => {
                let v = value()?;
                out.upstream = Some(v.parse().map_err(|_| bad(&v))?);
            }
            "--port" => {
                let v = value()?;
                out.port = v.parse().map_err(|_| bad(&v))?;
            }
            "--latency-ms" => {
                let v = value()?;
                out.latency = Duration::from_millis(v.parse().map_err(|_| bad(&v))?);
            }
            "--rate" => {
                let v = value()?;
                let rate: f64 = v.parse().map_err(|_| bad(&v))?;
                if !(rate.is_finite() && rate > 0.0) {
                    return Err(bad(&v));
                }
                out.rate = Some(rate);
            }
            "--burst" => {
                let v = value()?;
                out.burst = v.parse().map_err(|_| bad(&v))?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if out.upstream.is_none() {
        return Err(format!("--upstream is required\n{USAGE}"));
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let Some(upstream) = args.upstream else {
        return ExitCode::from(2);
    };
    let options = Options {
        port: args.port,
        lifetime: None,
    };
    let proxy = match Proxy::start_with(upstream, &options).await {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("orgctl-faultproxy: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    proxy.latency(args.latency);
    if let Some(rate) = args.rate {
        proxy.rate_limit(rate, args.burst);
    }
    println!("{}", proxy.url);
    tokio::select! {
        () = proxy.run() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn the_command_line_is_parsed_and_checked() {
        let a =
            args("--upstream 127.0.0.1:5000 --latency-ms 50 --rate 10 --burst 5").expect("valid");
        assert_eq!(a.upstream, Some(SocketAddr::from(([127, 0, 0, 1], 5000))));
        assert_eq!(a.latency, Duration::from_millis(50));
        assert_eq!(a.rate, Some(10.0));
        assert_eq!(a.burst, 5);
        assert_eq!(args("--upstream 127.0.0.1:1").expect("valid").burst, 10);
        assert!(args("--latency-ms 50").is_err(), "no upstream");
        assert!(args("--upstream 127.0.0.1:1 --rate 0").is_err());
        assert!(args("--upstream 127.0.0.1:1 --rate").is_err());
        assert!(args("--upstream nowhere").is_err());
        assert!(args("--upstream 127.0.0.1:1 --fast").is_err());
    }
}

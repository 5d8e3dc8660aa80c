//! Terminal concerns: stdout/stderr, colour, logging, progress, the clock and confirmation.
//! stdout carries only the requested output; everything else goes to stderr.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use orgctl_backend::Retrier;
use orgctl_model::text::{escape_invisible, is_invisible};

/// orgctl's own crates, the only ones that log unless `RUST_LOG` says otherwise.
const OWN_CRATES: [&str; 8] = [
    "orgctl",
    "orgctl_model",
    "orgctl_manifest",
    "orgctl_planner",
    "orgctl_render",
    "orgctl_backend",
    "orgctl_applier",
    "orgctl_aws",
];

/// The log filter for `-v` count `verbose`: orgctl's own crates at warn (none), info (`-v`) or
/// debug (`-vv`); the AWS SDK and other libraries only from `-vvv` (at debug). Without `-v`, an
/// error is orgctl's one message, not the SDK's warnings before it.
fn log_filter(verbose: u8) -> String {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let others = if verbose >= 3 { "debug" } else { "off" };
    std::iter::once(others.to_owned())
        .chain(OWN_CRATES.iter().map(|c| format!("{c}={level}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Sets up tracing on stderr (`-v` info, `-vv` debug, `-vvv` the SDK too; `RUST_LOG`
/// overrides), with colours only when stderr is a terminal and NO_COLOR is unset.
pub fn init_logging(verbose: u8) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter(verbose)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| VisibleStderr)
        .with_ansi(stderr_color())
        .with_target(false)
        .without_time()
        .try_init();
}

/// stderr for log events: every character that does not show is written escaped, like every
/// other stderr line (log fields carry names from the YAML and AWS). Line breaks stay, and so
/// does ESC: the subscriber escapes ESC in what it prints from fields itself and uses it for
/// its own colours. The subscriber writes each event whole, so a write is whole characters.
struct VisibleStderr;

impl Write for VisibleStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut err = std::io::stderr().lock();
        match std::str::from_utf8(buf) {
            Ok(text) => err.write_all(visible_log(text).as_bytes())?,
            Err(_) => err.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A formatted log event with every character that does not show escaped, line breaks and
/// ESC (the subscriber's own colours) aside.
fn visible_log(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c != '\n' && c != '\x1b' && is_invisible(c);
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&escape_invisible(c.encode_utf8(&mut [0; 4])));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes the command's output to stdout (a closed pipe is not an error).
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// `text` made safe for a terminal: messages carry names from the YAML, from AWS and from files
/// (an OU name read from AWS is not validated by orgctl), so every control, bidirectional or
/// invisible character is shown as a visible `\u{…}` escape. Line breaks are kept.
fn visible(text: &str) -> String {
    text.split('\n')
        .map(escape_invisible)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line on stderr.
pub fn info(text: &str) {
    eprintln!("{}", visible(text));
}

/// An error line on stderr.
pub fn error(text: &str) {
    let text = visible(text);
    if stderr_color() {
        eprintln!("\x1b[1;31merror:\x1b[0m {text}");
    } else {
        eprintln!("error: {text}");
    }
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

/// Whether stdout gets colour: a terminal, and NO_COLOR unset.
pub fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && !no_color()
}

fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && !no_color()
}

/// How often a long step reports on a stderr that is not a terminal, and how long a step must
/// run before it reports at all (quick steps stay silent).
pub const PLAIN_EVERY: Duration = Duration::from_secs(2);

/// The progress of one step (reading the organization, applying) on stderr. On a terminal: a
/// spinner or a bar. Elsewhere (CI logs, a file): once the step has run [`PLAIN_EVERY`], a
/// line `WHAT: STATUS (N s)` every [`PLAIN_EVERY`], and a last one when it ends.
pub struct Progress {
    bar: ProgressBar,
    what: String,
    status: Arc<Mutex<String>>,
    started: Instant,
    /// Prints the plain lines (not on a terminal).
    ticker: Option<tokio::task::JoinHandle<()>>,
}

/// The retrier of this run's AWS client, whose retries every progress line shows.
static RETRIER: OnceLock<Retrier> = OnceLock::new();

/// Makes every later progress line show the retries of `retrier` (the run's AWS client).
pub fn watch_retries(retrier: &Retrier) {
    let _ = RETRIER.set(retrier.clone());
}

/// `retries: W waiting, N so far (throttled: R requests/s)` once a request was retried;
/// empty before.
fn retry_note() -> String {
    RETRIER.get().map_or_else(String::new, |r| {
        retry_text(r.waiting_retries(), r.stats().retries(), r.current_rate())
    })
}

fn retry_text(waiting: usize, retried: u64, rate: Option<f64>) -> String {
    if waiting == 0 && retried == 0 {
        return String::new();
    }
    let rate = rate.map_or_else(String::new, |r| format!(" (throttled: {r:.1} requests/s)"));
    format!("retries: {waiting} waiting, {retried} so far{rate}")
}

/// `status; note`, either may be empty.
fn joined(status: &str, note: &str) -> String {
    match (status.is_empty(), note.is_empty()) {
        (_, true) => status.to_owned(),
        (true, false) => note.to_owned(),
        (false, false) => format!("{status}; {note}"),
    }
}

fn plain_line(what: &str, status: &str, started: Instant) -> String {
    let secs = started.elapsed().as_secs();
    let status = joined(status, &retry_note());
    if status.is_empty() {
        format!("{what} ({secs} s)")
    } else {
        format!("{what}: {status} ({secs} s)")
    }
}

impl Progress {
    /// Starts reporting `what`, with `len` steps (a bar) or none (a spinner).
    pub fn new(len: Option<u64>, what: &str) -> Self {
        let bar = match len {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        let status = Arc::new(Mutex::new(String::new()));
        let started = Instant::now();
        let mut ticker = None;
        if std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            let style = match len {
                Some(_) => ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}"),
                None => ProgressStyle::with_template("{spinner} {msg}"),
            };
            if let Ok(style) = style {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            if RETRIER.get().is_some()
                && let Ok(runtime) = tokio::runtime::Handle::try_current()
            {
                // Retries change while nothing else does (every reader waiting): refresh.
                let (bar, what, status) = (bar.clone(), what.to_owned(), status.clone());
                ticker = Some(runtime.spawn(async move {
                    let mut every = tokio::time::interval(Duration::from_millis(500));
                    loop {
                        every.tick().await;
                        let now = lock(&status).clone();
                        bar.set_message(message(&bar, &what, &now));
                    }
                }));
            }
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let (what, status) = (what.to_owned(), status.clone());
                ticker = Some(runtime.spawn(async move {
                    let start = tokio::time::Instant::now() + PLAIN_EVERY;
                    let mut every = tokio::time::interval_at(start, PLAIN_EVERY);
                    loop {
                        every.tick().await;
                        let now = lock(&status).clone();
                        info(&plain_line(&what, &now, started));
                    }
                }));
            }
        }
        bar.set_message(what.to_owned());
        Progress {
            bar,
            what: what.to_owned(),
            status,
            started,
            ticker,
        }
    }

    /// Where the step is (`12/40 changes done`): the spinner's text on a terminal, the next
    /// plain line elsewhere.
    pub fn set(&self, status: String) {
        self.bar
            .set_message(message(&self.bar, &self.what, &status));
        *lock(&self.status) = status;
    }

    /// One more step done (the bar).
    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// Prints a line without tearing the bar.
    pub fn println(&self, line: &str) {
        self.bar.suspend(|| info(line));
    }

    /// Ends the step; elsewhere than on a terminal, a step that took [`PLAIN_EVERY`] or more
    /// ends with its last status.
    pub fn finish(mut self) {
        self.bar.finish_and_clear();
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
            if self.started.elapsed() >= PLAIN_EVERY {
                let status = lock(&self.status).clone();
                info(&plain_line(&self.what, &status, self.started));
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
    }
}

/// A terminal's progress message: `what: status; retries` for a spinner, `what; retries` for a
/// bar (which shows its counts itself).
fn message(bar: &ProgressBar, what: &str, status: &str) -> String {
    let note = retry_note();
    let status = if bar.length().is_none() {
        joined(status, &note)
    } else {
        note
    };
    if status.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {status}")
    }
}

fn lock(m: &Mutex<String>) -> MutexGuard<'_, String> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Asks on the terminal; true only for `yes`.
pub fn confirm(question: &str) -> bool {
    eprint!(
        "{}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
        visible(question)
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && answer.trim() == "yes"
}

/// Whether stdin is a terminal (apply asks only then).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// Today's date in UTC, YYYY-MM-DD (one of the two clock reads in orgctl; the apply lease's
/// times are the other).
pub fn today_utc() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

/// Whether `s` is a date of the calendar written YYYY-MM-DD (`2026-02-31` is not).
pub fn valid_date(s: &str) -> bool {
    s.len() == 10 && jiff::civil::Date::strptime("%Y-%m-%d", s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_show_what_does_not_show() {
        assert_eq!(
            visible_log("\x1b[2mINFO\x1b[0m account=Work\u{200b}loads\u{202e}\u{9b}x\n"),
            "\x1b[2mINFO\x1b[0m account=Work\\u{200b}loads\\u{202e}\\u{9b}x\n"
        );
        assert!(matches!(
            visible_log("plain line\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn progress_shows_retries_once_there_are_some() {
        assert_eq!(retry_text(0, 0, None), "");
        assert_eq!(
            retry_text(0, 0, Some(8.0)),
            "",
            "a lowered rate alone is no retry"
        );
        assert_eq!(
            retry_text(3, 12, Some(8.25)),
            "retries: 3 waiting, 12 so far (throttled: 8.2 requests/s)"
        );
        assert_eq!(retry_text(0, 1, None), "retries: 0 waiting, 1 so far");
        assert_eq!(joined("40/120 read", ""), "40/120 read");
        assert_eq!(
            joined("", "retries: 1 waiting, 1 so far"),
            "retries: 1 waiting, 1 so far"
        );
        assert_eq!(joined("a", "b"), "a; b");
    }

    #[test]
    fn dates_validate() {
        assert!(valid_date("2026-11-27"));
        assert!(!valid_date("2026-13-01"));
        assert!(!valid_date("26-11-27"));
        assert!(!valid_date("2026-02-31"));
        assert!(valid_date("2028-02-29"));
        assert_eq!(today_utc().len(), 10);
    }
}

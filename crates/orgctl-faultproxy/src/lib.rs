//! A fault-injecting HTTP/1.1 proxy between the AWS SDK and moto, for what moto cannot do:
//! throttling, concurrent modification, 5xx, dropped connections, asynchronous account
//! creation, a `NextToken` that does not advance, added latency and a token bucket.
//!
//! One code, two users: the emulator tests (`tests/emulator/`, through [`Proxy`]) and the rate
//! benchmark (`scripts/bench-rate.sh`, through the `orgctl-faultproxy` binary of this crate).
//! Never shipped (`publish = false`).
//!
//! It answers one request per connection (moto closes every connection anyway), on loopback
//! only, with bounded sizes, a per-connection timeout and a bounded lifetime; its task is
//! aborted when the [`Proxy`] is dropped and dies with the test's runtime. The Organizations
//! operation comes from the `X-Amz-Target` header (STS's query protocol names it in `Action=`).
//! Faults are scripted per operation and consumed in order: `fail("ListRoots", Throttle, 2)`
//! answers the next two ListRoots with a throttling error, then lets them through;
//! `pass("ListRoots", 3)` first lets three through (to hit, say, the fourth page of a listing).
//! A token bucket ([`Proxy::rate_limit`]) throttles every request above a rate, as AWS does.
//! `GET /_faultproxy/stats` answers the counters as JSON ([`Stats`]) instead of forwarding.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Largest request or response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Longest a connection may take end to end.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest the proxy lives unless told otherwise ([`Options::lifetime`]).
const LIFETIME: Duration = Duration::from_secs(600);
/// The path that answers the counters.
pub const STATS_PATH: &str = "/_faultproxy/stats";
/// Most connections served at once.
const MAX_CONNECTIONS: usize = 32;

/// A scripted failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 `TooManyRequestsException` (AWS's throttling answer).
    Throttle,
    /// HTTP 400 `TooManyRequestsException: Rate exceeded` (AWS's answer above the rate limit).
    RateExceeded,
    /// HTTP 400 `ConcurrentModificationException`.
    ConcurrentModification,
    /// HTTP 503 with an HTML body and no error type.
    Unavailable503,
    /// HTTP 500 `ServiceException` (JSON, modeled).
    ServiceException500,
    /// Any JSON 1.1 error.
    Error {
        /// HTTP status.
        status: u16,
        /// `__type`.
        code: &'static str,
    },
    /// Any query-protocol (STS, IAM) error: an XML `ErrorResponse`.
    QueryError {
        /// HTTP status.
        status: u16,
        /// `<Code>`.
        code: &'static str,
    },
    /// Close the connection without answering.
    Drop,
}

/// AWS-style rate limiting: `rate` requests per second, bursts of up to `burst`.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: std::time::Instant,
}

impl Bucket {
    /// Takes a token if there is one.
    fn admit(&mut self) -> bool {
        let now = std::time::Instant::now();
        self.tokens = (self.tokens + (now - self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Debug, Default)]
struct Script {
    /// Per operation, what to do with its next requests: a fault, or `None` to let one through.
    faults: HashMap<String, VecDeque<Option<Fault>>>,
    /// Throttles every request beyond the bucket's rate.
    bucket: Option<Bucket>,
    /// Requests the bucket throttled.
    rate_limited: usize,
    /// Added before every answer.
    latency: Duration,
    /// Answer the next CreateAccount with IN_PROGRESS (no account id).
    hold_next_create: bool,
    /// Answer the next CreateAccount with FAILED and this reason.
    fail_next_create: Option<String>,
    /// DescribeCreateAccountStatus polls still answered IN_PROGRESS.
    held_polls: usize,
    /// Requests held back, by request id: their IN_PROGRESS status.
    held: BTreeMap<String, Value>,
    /// The accounts moto already created for held requests, by request id: hidden from the
    /// account listings until the request is released, as AWS has no account before then.
    held_accounts: BTreeMap<String, String>,
    /// Operations whose every NextToken is replaced by the first one seen.
    repeat_token: HashMap<String, Option<String>>,
    /// Requests seen, per operation.
    seen: BTreeMap<String, usize>,
}

/// The running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    script: Arc<Mutex<Script>>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(script: &Mutex<Script>) -> MutexGuard<'_, Script> {
    script.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Proxy {
    /// Starts a proxy to `upstream` on a free loopback port that lives at most 10 minutes
    /// (call inside a tokio runtime).
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        Self::start_with(upstream, &Options::default()).await
    }

    /// Starts a proxy to `upstream` as `options` say (call inside a tokio runtime).
    pub async fn start_with(upstream: SocketAddr, options: &Options) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port))).await?;
        let addr = listener.local_addr()?;
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        let lifetime = options.lifetime;
        let task = tokio::spawn(async move {
            let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
            let serve = async {
                loop {
                    let Ok((sock, peer)) = listener.accept().await else {
                        continue;
                    };
                    if !peer.ip().is_loopback() {
                        continue;
                    }
                    let Ok(permit) = limit.clone().acquire_owned().await else {
                        return;
                    };
                    let script = shared.clone();
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(
                            CONNECTION_TIMEOUT,
                            handle(sock, upstream, script),
                        )
                        .await;
                        drop(permit);
                    });
                }
            };
            match lifetime {
                Some(lifetime) => {
                    let _ = tokio::time::timeout(lifetime, serve).await;
                }
                None => serve.await,
            }
        });
        Ok(Proxy {
            url: format!("http://{addr}"),
            script,
            task,
        })
    }

    /// Runs until the proxy's lifetime ends (forever without one).
    pub async fn run(mut self) {
        let _ = (&mut self.task).await;
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        lock(&self.script).stats()
    }

    /// Answers the next `times` requests of `operation` with `fault`.
    pub fn fail(&self, operation: &str, fault: Fault, times: usize) {
        let mut s = lock(&self.script);
        let queue = s.faults.entry(operation.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(Some(fault), times));
    }

    /// Lets the next `times` requests of `operation` through before the faults scripted after
    /// this call.
    pub fn pass(&self, operation: &str, times: usize) {
        let mut s = lock(&self.script);
        let queue = s.faults.entry(operation.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(None, times));
    }

    /// Throttles (`TooManyRequestsException: Rate exceeded`; STS and IAM: `Throttling`, in
    /// XML) every request beyond `rate` per
    /// second, with bursts of up to `burst` (the bucket starts full). Throttled requests take no
    /// token.
    pub fn rate_limit(&self, rate: f64, burst: u32) {
        lock(&self.script).bucket = Some(Bucket {
            rate,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: std::time::Instant::now(),
        });
    }

    /// Delays every answer by `latency` (a slow network or a slow AWS).
    pub fn latency(&self, latency: Duration) {
        lock(&self.script).latency = latency;
    }

    /// How many requests the token bucket throttled.
    pub fn rate_limited(&self) -> usize {
        lock(&self.script).rate_limited
    }

    /// How many requests reached the proxy, all operations together.
    pub fn total_requests(&self) -> usize {
        lock(&self.script).seen.values().sum()
    }

    /// Makes the next CreateAccount asynchronous: it answers IN_PROGRESS without an account
    /// id, ListCreateAccountStatus lists it as IN_PROGRESS, the account listings leave out the
    /// account moto created at once, and the first `polls`
    /// DescribeCreateAccountStatus calls for it answer IN_PROGRESS too; after that moto's real
    /// (SUCCEEDED) answer comes through.
    pub fn hold_create_account(&self, polls: usize) {
        let mut s = lock(&self.script);
        s.hold_next_create = true;
        s.held_polls = polls;
    }

    /// Answers the next `polls` DescribeCreateAccountStatus calls for a held request with
    /// IN_PROGRESS (after that it succeeds): a rerun finds the request still running.
    pub fn hold_polls(&self, polls: usize) {
        lock(&self.script).held_polls = polls;
    }

    /// Makes the next CreateAccount answer FAILED with `reason` (`EMAIL_ALREADY_EXISTS`).
    pub fn fail_create_account(&self, reason: &str) {
        lock(&self.script).fail_next_create = Some(reason.to_owned());
    }

    /// Replaces every `NextToken` `operation` returns by the first one it returned.
    pub fn repeat_next_token(&self, operation: &str) {
        lock(&self.script)
            .repeat_token
            .insert(operation.to_owned(), None);
    }

    /// How many requests of `operation` reached the proxy (faulted ones included).
    pub fn requests(&self, operation: &str) -> usize {
        lock(&self.script)
            .seen
            .get(operation)
            .copied()
            .unwrap_or_default()
    }
}

/// How to start a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The loopback port to listen on; 0 for a free one.
    pub port: u16,
    /// How long the proxy serves; `None` until it is dropped (or its runtime ends).
    pub lifetime: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            port: 0,
            lifetime: Some(LIFETIME),
        }
    }
}

/// The proxy's counters ([`Proxy::stats`], `GET /_faultproxy/stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests that reached the proxy, faulted and throttled ones included.
    pub requests: usize,
    /// Requests the token bucket throttled.
    pub rate_limited: usize,
    /// Requests per operation.
    pub by_operation: BTreeMap<String, usize>,
}

impl Stats {
    /// The counters as JSON: `{"requests": N, "rate_limited": N, "by_operation": {...}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "by_operation": self.by_operation,
        })
        .to_string()
    }
}

impl Script {
    fn stats(&self) -> Stats {
        Stats {
            requests: self.seen.values().sum(),
            rate_limited: self.rate_limited,
            by_operation: self.seen.clone(),
        }
    }
}

/// One HTTP message: the start line, the headers and the body.
struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The bytes to send: hop-by-hop and length headers replaced, `Connection: close`.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (k, v) in &self.headers {
            let lower = k.to_ascii_lowercase();
            if matches!(
                lower.as_str(),
                "connection" | "keep-alive" | "content-length" | "transfer-encoding"
            ) {
                continue;
            }
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn io_err(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_owned())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one message. Requests without a length have no body; responses without one run to EOF.
async fn read_message(stream: &mut TcpStream, is_response: bool) -> std::io::Result<Message> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(io_err("head too large"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io_err("connection closed before the head ended"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let mut msg = Message {
        start,
        headers,
        body: Vec::new(),
    };
    let chunked = msg
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if let Some(len) = msg.header("content-length") {
        let len: usize = len.parse().map_err(|_| io_err("bad Content-Length"))?;
        if len > MAX_BODY {
            return Err(io_err("body too large"));
        }
        while body.len() < len {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(io_err("connection closed inside the body"));
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else if chunked {
        loop {
            if let Some(decoded) = dechunk(&body)? {
                body = decoded;
                break;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(io_err("connection closed inside a chunked body"));
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if is_response {
        loop {
            if body.len() > MAX_BODY {
                return Err(io_err("body too large"));
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.clear();
    }
    msg.body = body;
    Ok(msg)
}

/// Decodes a complete chunked body, or `None` when more bytes are needed.
fn dechunk(data: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = find(&data[pos..], b"\r\n") else {
            return Ok(None);
        };
        let size_line = String::from_utf8_lossy(&data[pos..pos + eol]);
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| io_err("bad chunk size"))?;
        pos += eol + 2;
        if size == 0 {
            return Ok(Some(out));
        }
        if data.len() < pos + size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&data[pos..pos + size]);
        pos += size + 2;
        if out.len() > MAX_BODY {
            return Err(io_err("body too large"));
        }
    }
}

/// The operation a request calls.
fn operation_of(req: &Message) -> String {
    if let Some(target) = req.header("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let body = String::from_utf8_lossy(&req.body);
    body.split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("Unknown")
        .to_owned()
}

fn error_response(status: u16, reason: &str, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({ "__type": code, "Message": message }).to_string();
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amzn-Errortype: {code}\r\nx-amzn-RequestId: orgctl-test-proxy\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn query_error_response(status: u16, code: &str) -> Vec<u8> {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>injected by the test proxy</Message></Error>\
         <RequestId>orgctl-test-proxy</RequestId></ErrorResponse>"
    );
    format!(
        "HTTP/1.1 {status} Error\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn fault_response(fault: &Fault) -> Option<Vec<u8>> {
    Some(match fault {
        Fault::Throttle => error_response(
            400,
            "Bad Request",
            "TooManyRequestsException",
            "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
        ),
        Fault::RateExceeded => error_response(
            400,
            "Bad Request",
            "TooManyRequestsException",
            "Rate exceeded",
        ),
        Fault::ConcurrentModification => error_response(
            400,
            "Bad Request",
            "ConcurrentModificationException",
            "The target of the operation is currently being modified by a different request. Try again later.",
        ),
        Fault::ServiceException500 => error_response(
            500,
            "Internal Server Error",
            "ServiceException",
            "AWS Organizations can't complete your request because of an internal service error. Try again later.",
        ),
        Fault::Error { status, code } => {
            error_response(*status, "Error", code, "injected by the test proxy")
        }
        Fault::QueryError { status, code } => query_error_response(*status, code),
        Fault::Unavailable503 => {
            let body = "<html><body>Service Unavailable</body></html>";
            format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        }
        Fault::Drop => return None,
    })
}

/// Serves one connection: one request, answered by a fault or by moto (possibly rewritten).
async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    script: Arc<Mutex<Script>>,
) -> std::io::Result<()> {
    let req = read_message(&mut client, false).await?;
    if req.start.starts_with(&format!("GET {STATS_PATH} ")) {
        let body = lock(&script).stats().to_json();
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(answer.as_bytes()).await?;
        client.shutdown().await?;
        return Ok(());
    }
    let op = operation_of(&req);
    let latency = lock(&script).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = {
        let mut s = lock(&script);
        *s.seen.entry(op.clone()).or_default() += 1;
        let limited = s.bucket.as_mut().is_some_and(|b| !b.admit());
        if limited {
            s.rate_limited += 1;
            // Organizations speaks JSON; STS and IAM (the query protocol) throttle in XML.
            Some(if req.header("x-amz-target").is_some() {
                Fault::RateExceeded
            } else {
                Fault::QueryError {
                    status: 400,
                    code: "Throttling",
                }
            })
        } else {
            s.faults
                .get_mut(&op)
                .and_then(VecDeque::pop_front)
                .flatten()
        }
    };
    if let Some(fault) = fault {
        if let Some(bytes) = fault_response(&fault) {
            client.write_all(&bytes).await?;
            client.shutdown().await?;
        }
        return Ok(());
    }

    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&req.to_bytes()).await?;
    let mut resp = read_message(&mut up, true).await?;
    rewrite(&op, &req, &mut resp, &script);
    client.write_all(&resp.to_bytes()).await?;
    client.shutdown().await?;
    Ok(())
}

/// Applies the scripted rewrites to a successful response.
fn rewrite(op: &str, req: &Message, resp: &mut Message, script: &Mutex<Script>) {
    if !resp.start.contains(" 200 ") {
        return;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(&resp.body) else {
        return;
    };
    let request: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let mut s = lock(script);
    let mut changed = false;
    match op {
        "CreateAccount" => {
            if let Some(reason) = s.fail_next_create.take() {
                if let Some(st) = body.get_mut("CreateAccountStatus") {
                    st["State"] = Value::from("FAILED");
                    st["FailureReason"] = Value::from(reason);
                    if let Some(o) = st.as_object_mut() {
                        o.remove("AccountId");
                    }
                    changed = true;
                }
            } else if s.hold_next_create {
                s.hold_next_create = false;
                if let Some(st) = body.get_mut("CreateAccountStatus") {
                    let account = st["AccountId"].as_str().map(str::to_owned);
                    hold(st);
                    if let Some(id) = st["Id"].as_str() {
                        s.held.insert(id.to_owned(), st.clone());
                        if let Some(account) = account {
                            s.held_accounts.insert(id.to_owned(), account);
                        }
                    }
                    changed = true;
                }
            }
        }
        "DescribeCreateAccountStatus" => {
            let id = request["CreateAccountRequestId"]
                .as_str()
                .unwrap_or_default();
            if s.held.contains_key(id) {
                if s.held_polls > 0 {
                    s.held_polls -= 1;
                    if let Some(st) = body.get_mut("CreateAccountStatus") {
                        hold(st);
                        changed = true;
                    }
                } else {
                    s.held.remove(id);
                    s.held_accounts.remove(id);
                }
            }
        }
        "ListAccounts" | "ListAccountsForParent" if !s.held_accounts.is_empty() => {
            if let Some(list) = body.get_mut("Accounts").and_then(Value::as_array_mut) {
                let before = list.len();
                list.retain(|a| {
                    !s.held_accounts
                        .values()
                        .any(|id| a["Id"].as_str() == Some(id.as_str()))
                });
                changed = list.len() != before;
            }
        }
        "ListCreateAccountStatus" => {
            let states = request["States"].as_array().cloned().unwrap_or_default();
            let wants_in_progress = states.is_empty() || states.iter().any(|v| v == "IN_PROGRESS");
            if wants_in_progress && !s.held.is_empty() && request["NextToken"].is_null() {
                let held: Vec<Value> = s.held.values().cloned().collect();
                if let Some(list) = body
                    .get_mut("CreateAccountStatuses")
                    .and_then(Value::as_array_mut)
                {
                    // moto lists the account as SUCCEEDED already (when not filtered): drop it.
                    list.retain(|v| !s.held.contains_key(v["Id"].as_str().unwrap_or_default()));
                    list.extend(held);
                    changed = true;
                }
            }
        }
        _ => {}
    }
    if let Some(first) = s.repeat_token.get_mut(op)
        && let Some(token) = body.get("NextToken").and_then(Value::as_str)
    {
        match first {
            None => *first = Some(token.to_owned()),
            Some(f) => {
                body["NextToken"] = Value::from(f.clone());
                changed = true;
            }
        }
    }
    if changed {
        resp.body = body.to_string().into_bytes();
    }
}

/// Turns a CreateAccountStatus into an IN_PROGRESS one.
fn hold(status: &mut Value) {
    status["State"] = Value::from("IN_PROGRESS");
    if let Some(o) = status.as_object_mut() {
        o.remove("AccountId");
        o.remove("CompletedTimestamp");
    }
}

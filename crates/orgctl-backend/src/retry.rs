//! One retry mechanism for every request: a [`Retrier`], shared by all the calls of one client,
//! retries throttling, `ConcurrentModificationException` and transient (5xx, timeout, dropped
//! connection) failures of **one request** with exponential backoff and full jitter, under
//! three client-wide limits that every concurrent call shares:
//!
//! - an **adaptive request rate** ([`AdaptiveRate`], AIMD): no limit until AWS throttles; on a
//!   throttle the allowed rate becomes `0.8 ×` the rate of successful requests over the last
//!   second (multiplicative decrease), then grows by 1 request/s every second (additive
//!   increase) until it is lifted. A throttle of a request sent before the last decrease, or
//!   less than a second after it, says nothing new and is ignored, so a burst of concurrent
//!   throttles cuts the rate once, not once per reader. Every attempt, first ones included, waits for its turn at that rate;
//! - a **retry budget** ([`RetryPolicy::retry_budget`] tokens): a retry costs
//!   [`RETRY_COST`] tokens, a success returns one. When the budget is spent, retryable errors
//!   come back at once instead of multiplying the load;
//! - per request: at most [`RetryPolicy::max_attempts`] attempts, and no retry later than
//!   [`RetryPolicy::max_elapsed`] after the first.
//!
//! A request is one HTTP request: the AWS backend (`orgctl_aws::SdkOrg`) sends every page of a
//! listing through its retrier on its own, so a throttle on page 25 retries page 25, never the
//! listing. [`Retrying`] applies the same retrier to every method of any other [`OrgApi`] (the
//! in-memory organization's methods are single requests).
//!
//! The counters ([`CallStats`]) see every request, for the CLI's `-v` summary. Errors that
//! retrying cannot fix (everything else, [`crate::api::ApiError::is_retryable`] says which)
//! come back at once. Waiting uses `tokio::time`, so tests run with a paused clock and cost no
//! real time.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

#[cfg(any(doc, test))]
use crate::api::OrgApi;
use crate::api::{ApiResult, ErrorKind, operations};
use crate::wrap::{delegate_iam_api, delegate_org_api};

/// What one retry costs from the shared budget.
pub const RETRY_COST: u32 = 5;

/// How often and how long to retry a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The most attempts of one request, the first included (at least 1).
    pub max_attempts: u32,
    /// The cap of the first wait; each later cap doubles.
    pub initial_backoff: Duration,
    /// The largest cap of one wait.
    pub max_backoff: Duration,
    /// No retry starts later than this after the first attempt.
    pub max_elapsed: Duration,
    /// The retry budget shared by every request of the client, in tokens: a retry costs
    /// [`RETRY_COST`], a success gives one back (up to this many).
    pub retry_budget: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_elapsed: Duration::from_secs(300),
            retry_budget: 500,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The cap of the wait before retry `retry` (1 for the first retry):
    /// `min(max_backoff, initial_backoff · 2^(retry−1))`.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(31));
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// A wait before retry `retry`, drawn uniformly from `[0, backoff_cap(retry)]`.
    pub fn jittered_backoff(&self, retry: u32) -> Duration {
        let cap = self.backoff_cap(retry);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

/// The client-wide request rate, adapted to throttling (additive increase, multiplicative
/// decrease). Pure: every method takes the current time, so it is tested with a simulated
/// clock; [`Retrier`] drives it with `tokio::time`.
#[derive(Debug, Clone)]
pub struct AdaptiveRate {
    /// The rate set by the last decrease (requests per second), `None` while unlimited.
    floor: Option<f64>,
    /// When the last decrease happened.
    last_decrease: Option<Instant>,
    /// The earliest time the next request may be sent.
    next_slot: Option<Instant>,
    /// When recent requests succeeded (the last [`AdaptiveRate::WINDOW`]).
    successes: VecDeque<Instant>,
    /// How many decreases so far.
    decreases: u64,
}

impl Default for AdaptiveRate {
    fn default() -> Self {
        Self::new()
    }
}

impl AdaptiveRate {
    /// The factor applied on a throttle.
    pub const DECREASE: f64 = 0.8;
    /// How many requests per second the rate grows every second without a throttle.
    pub const INCREASE_PER_SEC: f64 = 1.0;
    /// The lowest rate (requests per second).
    pub const MIN_RATE: f64 = 0.5;
    /// Above this rate the limit is lifted.
    pub const MAX_RATE: f64 = 100.0;
    /// How far back successes are counted to measure the rate AWS lets through.
    pub const WINDOW: Duration = Duration::from_secs(1);

    /// Unlimited, until the first throttle.
    pub fn new() -> Self {
        Self {
            floor: None,
            last_decrease: None,
            next_slot: None,
            successes: VecDeque::new(),
            decreases: 0,
        }
    }

    /// The allowed rate at `now` (requests per second), `None` when unlimited.
    pub fn rate(&self, now: Instant) -> Option<f64> {
        let (floor, since) = (self.floor?, self.last_decrease?);
        let rate =
            floor + Self::INCREASE_PER_SEC * now.saturating_duration_since(since).as_secs_f64();
        (rate < Self::MAX_RATE).then_some(rate)
    }

    /// How many times the rate was decreased.
    pub fn decreases(&self) -> u64 {
        self.decreases
    }

    /// Reserves the next send slot at `now`: returns when the request may be sent (`now` or
    /// later); requests are spaced `1 / rate` apart.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let Some(rate) = self.rate(now) else {
            self.next_slot = None;
            return now;
        };
        let slot = self.next_slot.map_or(now, |s| s.max(now));
        self.next_slot = Some(slot + Duration::from_secs_f64(1.0 / rate));
        slot
    }

    fn forget_old(&mut self, now: Instant) {
        while self
            .successes
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > Self::WINDOW)
        {
            self.successes.pop_front();
        }
    }

    /// A request succeeded at `now`.
    pub fn on_success(&mut self, now: Instant) {
        self.forget_old(now);
        self.successes.push_back(now);
    }

    /// A request sent at `sent` was throttled at `now`. Returns whether the rate was decreased.
    /// A throttle of a request sent before the last decrease, or within [`Self::WINDOW`] of it,
    /// is ignored: the decrease already used what the last second measured, and requests that
    /// arrive a little closer together than the new spacing must not cut the rate again.
    pub fn on_throttle(&mut self, sent: Instant, now: Instant) -> bool {
        if self
            .last_decrease
            .is_some_and(|d| sent < d || now.saturating_duration_since(d) < Self::WINDOW)
        {
            return false;
        }
        self.forget_old(now);
        let measured = self.successes.len() as f64 / Self::WINDOW.as_secs_f64();
        let base = match self.rate(now) {
            Some(rate) => rate.min(measured),
            None => measured,
        };
        let new = (base * Self::DECREASE).max(Self::MIN_RATE);
        self.floor = Some(new);
        self.last_decrease = Some(now);
        self.decreases += 1;
        // Slots reserved at the old rate stay; later ones follow the new rate.
        true
    }
}

/// Counters of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpStats {
    /// Requests made by the caller (one per request, however many attempts it took).
    pub calls: u64,
    /// Extra attempts made because an attempt failed with a retryable error.
    pub retries: u64,
    /// Requests that ended in an error (after any retries).
    pub failures: u64,
}

/// Counters per operation name, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Counters by AWS operation name (`"ListAccountsForParent"`).
    pub operations: BTreeMap<&'static str, OpStats>,
    /// How many times throttling decreased the client-wide rate.
    pub rate_decreases: u64,
    /// Retryable errors returned without a retry because the shared retry budget was spent.
    pub budget_exhausted: u64,
}

impl CallStats {
    /// The counters of one operation (zero when it was never called).
    pub fn get(&self, operation: &str) -> OpStats {
        self.operations.get(operation).copied().unwrap_or_default()
    }

    /// All requests.
    pub fn calls(&self) -> u64 {
        self.operations.values().map(|s| s.calls).sum()
    }

    /// All retries.
    pub fn retries(&self) -> u64 {
        self.operations.values().map(|s| s.retries).sum()
    }

    /// All requests that ended in an error.
    pub fn failures(&self) -> u64 {
        self.operations.values().map(|s| s.failures).sum()
    }

    /// Requests of operations that change the organization.
    pub fn write_calls(&self) -> u64 {
        self.operations
            .iter()
            .filter(|(op, _)| operations::is_write(op))
            .map(|(_, s)| s.calls)
            .sum()
    }
}

impl fmt::Display for CallStats {
    /// One line per operation (`ListAccountsForParent: 12 calls, 3 retries`), then a total.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (op, s) in &self.operations {
            write!(f, "{op}: {} call{}", s.calls, plural(s.calls))?;
            if s.retries > 0 {
                write!(
                    f,
                    ", {} retr{}",
                    s.retries,
                    if s.retries == 1 { "y" } else { "ies" }
                )?;
            }
            if s.failures > 0 {
                write!(f, ", {} failed", s.failures)?;
            }
            writeln!(f)?;
        }
        write!(
            f,
            "total: {} call{} ({} write{}), {} retr{}",
            self.calls(),
            plural(self.calls()),
            self.write_calls(),
            plural(self.write_calls()),
            self.retries(),
            if self.retries() == 1 { "y" } else { "ies" }
        )?;
        if self.rate_decreases > 0 {
            write!(
                f,
                "; throttled: request rate lowered {} time{}",
                self.rate_decreases,
                plural(self.rate_decreases)
            )?;
        }
        if self.budget_exhausted > 0 {
            write!(
                f,
                "; retry budget spent {} time{}",
                self.budget_exhausted,
                plural(self.budget_exhausted)
            )?;
        }
        Ok(())
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[derive(Debug)]
struct Shared {
    stats: CallStats,
    rate: AdaptiveRate,
    /// Retry tokens left.
    budget: u32,
    /// Requests that failed and wait for their retry (backoff, then their turn at the rate).
    waiting: usize,
}

/// Counts one request as waiting to retry while it lives.
struct WaitingRetry<'a>(&'a Retrier);

impl<'a> WaitingRetry<'a> {
    fn new(retrier: &'a Retrier) -> Self {
        retrier.lock().waiting += 1;
        Self(retrier)
    }
}

impl Drop for WaitingRetry<'_> {
    fn drop(&mut self) {
        let mut shared = self.0.lock();
        shared.waiting = shared.waiting.saturating_sub(1);
    }
}

/// The retry engine of one client: the policy, the adaptive rate, the retry budget and the
/// counters, shared by every concurrent request (see the [module documentation](self)).
/// Cheap to clone: clones share everything.
#[derive(Debug, Clone)]
pub struct Retrier {
    policy: RetryPolicy,
    shared: Arc<Mutex<Shared>>,
}

impl Default for Retrier {
    fn default() -> Self {
        Self::new(RetryPolicy::default())
    }
}

impl Retrier {
    /// A retrier with a full budget and no rate limit yet.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            shared: Arc::new(Mutex::new(Shared {
                stats: CallStats::default(),
                rate: AdaptiveRate::new(),
                budget: policy.retry_budget,
                waiting: 0,
            })),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The counters so far.
    pub fn stats(&self) -> CallStats {
        self.lock().stats.clone()
    }

    /// How many requests failed and now wait for their retry (their backoff, then their turn
    /// at the rate): what a long read's progress shows as "waiting to retry".
    pub fn waiting_retries(&self) -> usize {
        self.lock().waiting
    }

    /// The allowed request rate now (requests per second), `None` when unlimited.
    pub fn current_rate(&self) -> Option<f64> {
        self.lock().rate.rate(Instant::now())
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, op: &'static str, retries: u64, failed: bool) {
        let mut shared = self.lock();
        let s = shared.stats.operations.entry(op).or_default();
        s.calls += 1;
        s.retries += retries;
        s.failures += u64::from(failed);
    }

    /// Waits for this request's turn at the client-wide rate; returns the send time.
    async fn wait_turn(&self) -> Instant {
        let slot = self.lock().rate.reserve(Instant::now());
        tokio::time::sleep_until(slot).await;
        Instant::now()
    }

    /// Takes the cost of one retry from the budget; `false` when it is spent.
    fn take_retry_token(&self) -> bool {
        let mut shared = self.lock();
        if shared.budget >= RETRY_COST {
            shared.budget -= RETRY_COST;
            true
        } else {
            shared.stats.budget_exhausted += 1;
            false
        }
    }

    /// Runs one request (`call` sends it) with retries. `call` may be called several times.
    pub async fn run<T, F, Fut>(&self, op: &'static str, mut call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let start = Instant::now();
        let max_attempts = self.policy.max_attempts.max(1);
        let mut attempt: u32 = 1;
        let mut waiting: Option<WaitingRetry<'_>> = None;
        loop {
            let sent = self.wait_turn().await;
            drop(waiting.take());
            let result = call().await;
            let retries = u64::from(attempt - 1);
            let error = match result {
                Ok(v) => {
                    {
                        let mut shared = self.lock();
                        shared.rate.on_success(Instant::now());
                        shared.budget = (shared.budget + 1).min(self.policy.retry_budget);
                    }
                    self.record(op, retries, false);
                    return Ok(v);
                }
                Err(e) => e,
            };
            if error.kind == ErrorKind::Throttling {
                let mut shared = self.lock();
                if shared.rate.on_throttle(sent, Instant::now()) {
                    shared.stats.rate_decreases += 1;
                    tracing::debug!(
                        operation = op,
                        rate = shared.rate.rate(Instant::now()).unwrap_or(f64::INFINITY),
                        "throttled: lowering the request rate"
                    );
                }
            }
            if !error.is_retryable() || attempt >= max_attempts {
                if error.is_retryable() {
                    tracing::info!(operation = op, attempts = attempt, code = %error.code, "giving up after the last attempt");
                }
                self.record(op, retries, true);
                return Err(error);
            }
            let delay = self.policy.jittered_backoff(attempt);
            if start.elapsed() + delay > self.policy.max_elapsed {
                tracing::info!(operation = op, attempts = attempt, code = %error.code, "giving up: retrying would exceed the time budget");
                self.record(op, retries, true);
                return Err(error);
            }
            if !self.take_retry_token() {
                tracing::info!(operation = op, attempts = attempt, code = %error.code, "giving up: the shared retry budget is spent");
                self.record(op, retries, true);
                return Err(error);
            }
            tracing::debug!(
                operation = op,
                attempt,
                code = %error.code,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying"
            );
            waiting = Some(WaitingRetry::new(self));
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// An [`OrgApi`] (or [`crate::iam::IamApi`]) that sends every method call of `inner` through a
/// [`Retrier`] as one request.
/// For backends whose methods are single requests (the in-memory organization); the AWS backend
/// retries per page itself.
#[derive(Debug)]
pub struct Retrying<A> {
    inner: A,
    retrier: Retrier,
}

impl<A> Retrying<A> {
    /// Wraps `inner` with a new retrier.
    pub fn new(inner: A, policy: RetryPolicy) -> Self {
        Self {
            inner,
            retrier: Retrier::new(policy),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CallStats {
        self.retrier.stats()
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        self.retrier.policy()
    }

    /// The retrier.
    pub fn retrier(&self) -> &Retrier {
        &self.retrier
    }

    /// The wrapped API.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Unwraps the API.
    pub fn into_inner(self) -> A {
        self.inner
    }

    async fn around<T, F, Fut>(&self, op: &'static str, call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        self.retrier.run(op, call).await
    }
}

delegate_org_api!(Retrying);
delegate_iam_api!(Retrying);

#[cfg(test)]
mod tests {
    use orgctl_model::Tags;

    use super::*;
    use crate::api::{ApiError, codes};
    use crate::faults::Faulty;
    use crate::memory::MemoryOrg;

    fn faulty() -> Faulty<MemoryOrg> {
        Faulty::new(MemoryOrg::new("111111111111", "mgmt@example.com"))
    }

    #[test]
    fn backoff_caps_double_up_to_the_maximum() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_cap(1), Duration::from_millis(200));
        assert_eq!(p.backoff_cap(2), Duration::from_millis(400));
        assert_eq!(p.backoff_cap(7), Duration::from_millis(12_800));
        assert_eq!(p.backoff_cap(8), Duration::from_secs(20));
        assert_eq!(p.backoff_cap(100), Duration::from_secs(20));
        for retry in 1..10 {
            assert!(p.jittered_backoff(retry) <= p.backoff_cap(retry));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn converges_under_throttling() {
        let api = Retrying::new(
            faulty()
                .throttle_next(3)
                .concurrent_modification_next(1)
                .server_error_next(1),
            RetryPolicy::default(),
        );
        let root = api.inner().inner().root_id();
        let started = tokio::time::Instant::now();
        let ou = api
            .create_ou(&root, "Workloads", &Tags::new())
            .await
            .expect("retried until it went through");
        assert!(ou.id.starts_with("ou-"));
        let s = api.stats().get(operations::CREATE_OU);
        assert_eq!(
            s,
            OpStats {
                calls: 1,
                retries: 5,
                failures: 0
            }
        );
        assert_eq!(api.inner().inner().call_count(operations::CREATE_OU), 1);
        // Five backoffs, each at most its cap (0.2 + 0.4 + 0.8 + 1.6 + 3.2 s), plus the pacing
        // after the throttles: with no success to measure, the rate drops to MIN_RATE and grows
        // from there, so each of the three throttled retries waits at most 1 / MIN_RATE.
        assert!(started.elapsed() <= Duration::from_millis(6_200 + 3 * 2_000));
        assert!(
            api.stats().rate_decreases >= 1,
            "throttling lowered the rate"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts_with_the_last_error() {
        let api = Retrying::new(faulty().throttle_next(100), RetryPolicy::default());
        let e = api.list_roots().await.expect_err("still throttled");
        assert_eq!(e.code, codes::TOO_MANY_REQUESTS);
        assert_eq!(e.operation, operations::LIST_ROOTS);
        assert_eq!(api.inner().call_count(), 8, "max_attempts attempts");
        let s = api.stats();
        assert_eq!(s.get(operations::LIST_ROOTS).retries, 7);
        assert_eq!(s.failures(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_when_the_time_budget_is_spent() {
        let policy = RetryPolicy {
            max_attempts: 1_000,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(1),
            max_elapsed: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let api = Retrying::new(faulty().server_error_next(10_000), policy);
        let started = tokio::time::Instant::now();
        api.list_roots().await.expect_err("gave up");
        assert!(started.elapsed() <= Duration::from_secs(10));
        assert!(
            api.inner().call_count() > 10,
            "waits are jittered below 1 s"
        );
        assert!(api.inner().call_count() < 1_000);
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_errors_come_back_at_once() {
        let api = Retrying::new(faulty(), RetryPolicy::default());
        let root = api.inner().inner().root_id();
        api.create_ou(&root, "A", &Tags::new())
            .await
            .expect("first");
        let started = tokio::time::Instant::now();
        let e = api
            .create_ou(&root, "A", &Tags::new())
            .await
            .expect_err("duplicate");
        assert_eq!(e.code, codes::DUPLICATE_OU);
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(api.inner().call_count(), 2);
        let s = api.stats().get(operations::CREATE_OU);
        assert_eq!(
            s,
            OpStats {
                calls: 2,
                retries: 0,
                failures: 1
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn crash_errors_are_not_retried() {
        let api = Retrying::new(
            faulty().fail_write(1, ApiError::service("", codes::ACCESS_DENIED, "denied")),
            RetryPolicy::default(),
        );
        let root = api.inner().inner().root_id();
        let e = api
            .create_ou(&root, "A", &Tags::new())
            .await
            .expect_err("denied");
        assert_eq!(e.code, codes::ACCESS_DENIED);
        assert_eq!(api.stats().retries(), 0);
    }

    #[test]
    fn stats_summary_reads_well() {
        let mut s = CallStats::default();
        s.operations.insert(
            operations::LIST_ROOTS,
            OpStats {
                calls: 1,
                retries: 2,
                failures: 0,
            },
        );
        s.operations.insert(
            operations::CREATE_OU,
            OpStats {
                calls: 3,
                retries: 0,
                failures: 1,
            },
        );
        assert_eq!(
            s.to_string(),
            "CreateOrganizationalUnit: 3 calls, 1 failed\nListRoots: 1 call, 2 retries\n\
             total: 4 calls (3 writes), 2 retries"
        );
        s.rate_decreases = 2;
        s.budget_exhausted = 1;
        assert!(
            s.to_string().ends_with(
                "2 retries; throttled: request rate lowered 2 times; retry budget spent 1 time"
            ),
            "{s}"
        );
    }

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn the_rate_is_unlimited_until_a_throttle_then_cut_once_per_burst_and_recovers() {
        let t0 = Instant::now();
        let mut rate = AdaptiveRate::new();
        assert_eq!(rate.rate(t0), None);
        assert_eq!(rate.reserve(t0), t0, "no wait while unlimited");
        // Ten successes in the last second, then a throttle: 0.8 × 10 = 8 requests/s.
        for i in 0..10 {
            rate.on_success(at(t0, 10 * i));
        }
        assert!(rate.on_throttle(at(t0, 100), at(t0, 110)));
        let r = rate.rate(at(t0, 110)).expect("limited");
        assert!((r - 8.0).abs() < 1e-9, "{r}");
        // Seven more throttles of requests sent before that cut change nothing, nor do
        // throttles within a second of it.
        for _ in 0..7 {
            assert!(!rate.on_throttle(at(t0, 105), at(t0, 120)));
        }
        assert!(!rate.on_throttle(at(t0, 500), at(t0, 600)));
        assert_eq!(rate.decreases(), 1);
        // Requests are spaced 1/rate apart.
        let a = rate.reserve(at(t0, 110));
        let b = rate.reserve(at(t0, 110));
        assert_eq!(a, at(t0, 110));
        let gap = (b - a).as_secs_f64();
        assert!((gap - 1.0 / 8.0).abs() < 1e-3, "{gap}");
        // Additive increase: one request/s per second.
        let r = rate.rate(at(t0, 2_110)).expect("limited");
        assert!((r - 10.0).abs() < 1e-9, "{r}");
        // A throttle of a request sent after the cut cuts again, from the measured rate (no
        // success in the last second here) but never below MIN_RATE.
        assert!(rate.on_throttle(at(t0, 2_110), at(t0, 2_200)));
        assert_eq!(rate.rate(at(t0, 2_200)), Some(AdaptiveRate::MIN_RATE));
        // It recovers and, past MAX_RATE, the limit is lifted.
        let later = at(t0, 2_200) + Duration::from_secs_f64(AdaptiveRate::MAX_RATE + 1.0);
        assert_eq!(rate.rate(later), None);
        assert_eq!(rate.reserve(later), later);
    }

    /// A server that lets `rate` requests per second through (bucket of `burst`) and throttles
    /// the rest, answering after `latency`. Throttled requests take no token.
    struct TokenBucket {
        rate: f64,
        burst: f64,
        latency: Duration,
        state: Mutex<(f64, Instant)>,
        attempts: std::sync::atomic::AtomicU64,
    }

    impl TokenBucket {
        fn new(rate: f64, burst: f64, latency: Duration) -> Self {
            Self {
                rate,
                burst,
                latency,
                state: Mutex::new((burst, Instant::now())),
                attempts: std::sync::atomic::AtomicU64::new(0),
            }
        }

        async fn request(&self) -> ApiResult<()> {
            self.attempts
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(self.latency / 2).await;
            let admitted = {
                let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                s.0 = (s.0 + (now - s.1).as_secs_f64() * self.rate).min(self.burst);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    true
                } else {
                    false
                }
            };
            tokio::time::sleep(self.latency / 2).await;
            if admitted {
                Ok(())
            } else {
                Err(crate::api::ApiError::throttling("ListTagsForResource"))
            }
        }
    }

    /// Issue 6 case 13 on a simulated clock: 8 concurrent readers, 300 requests, a server
    /// allowing 10 requests/s. Every request succeeds, within 1.25 × 300 / 10 s, and the
    /// throttles stay a small share of the attempts.
    #[tokio::test(start_paused = true)]
    async fn concurrent_readers_adapt_to_a_token_bucket() {
        use futures::StreamExt;
        const REQUESTS: u64 = 300;
        let server = TokenBucket::new(10.0, 10.0, Duration::from_millis(40));
        let retrier = Retrier::new(RetryPolicy::default());
        let started = Instant::now();
        let results: Vec<ApiResult<()>> = futures::stream::iter(0..REQUESTS)
            .map(|_| retrier.run(operations::LIST_TAGS, || server.request()))
            .buffer_unordered(8)
            .collect()
            .await;
        let elapsed = started.elapsed();
        let failed = results.iter().filter(|r| r.is_err()).count();
        let stats = retrier.stats();
        assert_eq!(failed, 0, "every request succeeds: {stats}");
        let limit = Duration::from_secs_f64(1.25 * REQUESTS as f64 / 10.0);
        assert!(elapsed <= limit, "{elapsed:?} > {limit:?}: {stats}");
        let attempts = server.attempts.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(attempts, REQUESTS + stats.retries());
        assert!(
            stats.retries() * 10 <= REQUESTS,
            "at most 10 % of the requests retried: {stats}"
        );
        assert!(stats.rate_decreases >= 1, "{stats}");
    }

    /// A request that failed counts as waiting to retry from its failure until its retry is
    /// sent, and no longer once it is done.
    #[tokio::test(start_paused = true)]
    async fn requests_waiting_to_retry_are_counted() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let api = Retrying::new(faulty().server_error_next(3), policy);
        assert_eq!(api.retrier().waiting_retries(), 0);
        let done = std::sync::atomic::AtomicBool::new(false);
        let request = async {
            let r = api.list_roots().await;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            r
        };
        // Probes every millisecond of the simulated clock while the request runs (three
        // jittered backoffs capped at 1, 2 and 4 s: the chance that all three are shorter than
        // a millisecond is about 1e-10).
        let probe = async {
            let mut seen = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                seen = seen.max(api.retrier().waiting_retries());
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            seen
        };
        let (result, seen) = tokio::join!(request, probe);
        result.expect("the fourth attempt succeeds");
        assert_eq!(seen, 1, "one request waited to retry");
        assert_eq!(api.retrier().waiting_retries(), 0, "none once it is done");
        assert_eq!(api.stats().retries(), 3);
    }

    /// The retry budget is shared: 8 concurrent requests against a server that always throttles
    /// stop after the budget's worth of retries in total, not 8 × 7.
    #[tokio::test(start_paused = true)]
    async fn the_retry_budget_is_shared_by_concurrent_requests() {
        let policy = RetryPolicy {
            retry_budget: 20,
            ..RetryPolicy::default()
        };
        let retrier = Retrier::new(policy);
        let attempts = std::sync::atomic::AtomicU64::new(0);
        let call = || async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err::<(), _>(crate::api::ApiError::throttling("ListRoots"))
        };
        let results =
            futures::future::join_all((0..8).map(|_| retrier.run(operations::LIST_ROOTS, call)))
                .await;
        assert!(results.iter().all(Result::is_err));
        let stats = retrier.stats();
        assert_eq!(stats.retries(), 20 / u64::from(RETRY_COST), "{stats}");
        assert_eq!(
            attempts.load(std::sync::atomic::Ordering::SeqCst),
            8 + 20 / u64::from(RETRY_COST)
        );
        assert_eq!(stats.budget_exhausted, 8, "{stats}");
    }
}

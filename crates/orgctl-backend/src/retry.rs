//! One retry mechanism for every call: [`Retrying`] wraps any [`OrgApi`] and retries
//! throttling, `ConcurrentModificationException` and transient (5xx, timeout, connection)
//! failures with exponential backoff and full jitter, within a [`RetryPolicy`].
//!
//! AWS Organizations throttles hard (a few requests per second per account), so every call the
//! reader and the executor make goes through this one place: the retry rules are the same
//! everywhere and the counters ([`CallStats`]) see every call, for the CLI's `-v` summary.
//! Errors that retrying cannot fix (everything else, [`crate::api::ApiError::is_retryable`] says which)
//! come back at once.
//!
//! The wait before retry *n* is drawn uniformly from `[0, min(max_backoff, initial_backoff ·
//! 2ⁿ⁻¹)]` ("full jitter"), which spreads concurrent callers apart. Sleeping uses
//! `tokio::time`, so tests run with a paused clock and cost no real time.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::Rng;

use crate::api::{ApiResult, OrgApi, operations};
use crate::wrap::delegate_org_api;

/// How often and how long to retry a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The most attempts of one call, the first included (at least 1).
    pub max_attempts: u32,
    /// The cap of the first wait; each later cap doubles.
    pub initial_backoff: Duration,
    /// The largest cap of one wait.
    pub max_backoff: Duration,
    /// No retry starts later than this after the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_elapsed: Duration::from_secs(300),
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

/// Counters of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpStats {
    /// Calls made by the caller (one per method call, however many attempts it took).
    pub calls: u64,
    /// Extra attempts made because an attempt failed with a retryable error.
    pub retries: u64,
    /// Calls that ended in an error (after any retries).
    pub failures: u64,
}

/// Counters per operation name, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Counters by AWS operation name (`"ListAccountsForParent"`).
    pub operations: BTreeMap<&'static str, OpStats>,
}

impl CallStats {
    /// The counters of one operation (zero when it was never called).
    pub fn get(&self, operation: &str) -> OpStats {
        self.operations.get(operation).copied().unwrap_or_default()
    }

    /// All calls.
    pub fn calls(&self) -> u64 {
        self.operations.values().map(|s| s.calls).sum()
    }

    /// All retries.
    pub fn retries(&self) -> u64 {
        self.operations.values().map(|s| s.retries).sum()
    }

    /// All calls that ended in an error.
    pub fn failures(&self) -> u64 {
        self.operations.values().map(|s| s.failures).sum()
    }

    /// Calls of operations that change the organization.
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
        )
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// An [`OrgApi`] that retries every call of `inner` under a [`RetryPolicy`] and counts calls.
#[derive(Debug)]
pub struct Retrying<A> {
    inner: A,
    policy: RetryPolicy,
    stats: Mutex<CallStats>,
}

impl<A: OrgApi> Retrying<A> {
    /// Wraps `inner`.
    pub fn new(inner: A, policy: RetryPolicy) -> Self {
        Self {
            inner,
            policy,
            stats: Mutex::new(CallStats::default()),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CallStats {
        self.lock().clone()
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The wrapped API.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Unwraps the API.
    pub fn into_inner(self) -> A {
        self.inner
    }

    fn lock(&self) -> MutexGuard<'_, CallStats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, op: &'static str, retries: u64, failed: bool) {
        let mut stats = self.lock();
        let s = stats.operations.entry(op).or_default();
        s.calls += 1;
        s.retries += retries;
        s.failures += u64::from(failed);
    }

    async fn around<T, F, Fut>(&self, op: &'static str, mut call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let start = tokio::time::Instant::now();
        let max_attempts = self.policy.max_attempts.max(1);
        let mut attempt: u32 = 1;
        loop {
            let result = call().await;
            let retries = u64::from(attempt - 1);
            let error = match result {
                Ok(v) => {
                    self.record(op, retries, false);
                    return Ok(v);
                }
                Err(e) => e,
            };
            if !error.is_retryable() || attempt >= max_attempts {
                if error.is_retryable() {
                    tracing::warn!(operation = op, attempts = attempt, code = %error.code, "giving up after the last attempt");
                }
                self.record(op, retries, true);
                return Err(error);
            }
            let delay = self.policy.jittered_backoff(attempt);
            if start.elapsed() + delay > self.policy.max_elapsed {
                tracing::warn!(operation = op, attempts = attempt, code = %error.code, "giving up: retrying would exceed the time budget");
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
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

delegate_org_api!(Retrying);

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
        // Five waits, each at most its cap: 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s.
        assert!(started.elapsed() <= Duration::from_millis(6_200));
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
        };
        let api = Retrying::new(faulty().throttle_next(10_000), policy);
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
    }
}

//! [`Faulty`]: a decorator that makes any [`OrgApi`] (or [`crate::iam::IamApi`]) fail on cue,
//! for tests.
//!
//! The applier must survive a crash between any two writes, throttling, concurrent
//! modification and 5xx answers. `Faulty` scripts those failures deterministically (no clock, no
//! randomness): fail the k-th write (before it reaches the organization, or after it took effect
//! and only the answer was lost), "crash" after k writes so that every later call fails too, or
//! answer the next N calls with a retryable error before letting calls through.
//!
//! Writes are counted when they reach the fault layer past any injected burst (a call refused
//! with a burst error never reached AWS, so it is not a write).

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

#[cfg(any(doc, test))]
use crate::api::OrgApi;
use crate::api::{ApiError, ApiResult, ErrorKind, codes, operations};
use crate::wrap::{delegate_iam_api, delegate_org_api};

/// The error code [`Faulty::crash_after_writes`] reports: the process "died".
pub const CRASH_CODE: &str = "InjectedCrash";

/// One scripted failure of a write call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFault {
    /// Which write fails, counting from 1.
    pub nth: usize,
    /// The error it fails with (its `operation` is replaced by the failing call's).
    pub error: ApiError,
    /// Whether the write takes effect first and only its answer is replaced by the error (a
    /// lost response), instead of never reaching the organization.
    pub after_effect: bool,
    /// Whether every later call (reads included) fails with the same error, as after a crash.
    pub sticky: bool,
}

#[derive(Debug)]
struct Burst {
    operation: Option<&'static str>,
    remaining: usize,
    error: ApiError,
}

#[derive(Debug, Default)]
struct Script {
    calls: usize,
    writes: usize,
    write_faults: Vec<WriteFault>,
    bursts: Vec<Burst>,
    crashed: Option<ApiError>,
    injected: usize,
}

/// Called with the wrapped API and the operation after every write that reached it.
type Observer<A> = Box<dyn Fn(&A, &'static str) + Send + Sync>;

/// An [`OrgApi`] (or [`crate::iam::IamApi`]) that forwards to `inner` except where its script
/// says to fail.
pub struct Faulty<A> {
    inner: A,
    script: Mutex<Script>,
    observer: Option<Observer<A>>,
}

impl<A: std::fmt::Debug> std::fmt::Debug for Faulty<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faulty")
            .field("inner", &self.inner)
            .field("script", &self.script)
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

/// The error of a simulated crash: not retryable, not an AWS answer.
pub fn crash_error() -> ApiError {
    ApiError {
        operation: "",
        code: CRASH_CODE.to_owned(),
        message: "the process stopped here (injected crash)".to_owned(),
        kind: ErrorKind::Other,
    }
}

impl<A> Faulty<A> {
    /// Forwards every call to `inner` until failures are scripted.
    pub fn new(inner: A) -> Self {
        Self {
            inner,
            script: Mutex::new(Script::default()),
            observer: None,
        }
    }

    /// Calls `observe` with the wrapped API and the operation name after every write that
    /// reached it (whether it took effect or failed there, and also when its answer is then
    /// replaced by a scripted fault): tests check every intermediate state with it.
    pub fn observe_writes(
        mut self,
        observe: impl Fn(&A, &'static str) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Box::new(observe));
        self
    }

    /// Adds a scripted write failure.
    pub fn with_write_fault(self, fault: WriteFault) -> Self {
        self.lock().write_faults.push(fault);
        self
    }

    /// The `nth` write (from 1) fails with `error` without reaching the organization; other
    /// calls go through.
    pub fn fail_write(self, nth: usize, error: ApiError) -> Self {
        self.with_write_fault(WriteFault {
            nth,
            error,
            after_effect: false,
            sticky: false,
        })
    }

    /// The `nth` write (from 1) takes effect, but its caller gets `error` instead of the answer
    /// (the response was lost).
    pub fn lose_write_response(self, nth: usize, error: ApiError) -> Self {
        self.with_write_fault(WriteFault {
            nth,
            error,
            after_effect: true,
            sticky: false,
        })
    }

    /// The first `k` writes go through; the next write and every later call fail with
    /// [`crash_error`], as if the process had died after `k` writes.
    pub fn crash_after_writes(self, k: usize) -> Self {
        self.with_write_fault(WriteFault {
            nth: k + 1,
            error: crash_error(),
            after_effect: false,
            sticky: true,
        })
    }

    /// The write number `k` takes effect and then the process "dies": its answer and every
    /// later call fail with [`crash_error`].
    pub fn crash_during_write(self, k: usize) -> Self {
        self.with_write_fault(WriteFault {
            nth: k,
            error: crash_error(),
            after_effect: true,
            sticky: true,
        })
    }

    /// The next `n` calls (of any operation) fail with `error`; calls after them go through.
    /// Bursts queue up: a second one starts when the first is used up.
    pub fn fail_next_calls(self, n: usize, error: ApiError) -> Self {
        self.lock().bursts.push(Burst {
            operation: None,
            remaining: n,
            error,
        });
        self
    }

    /// The next `n` calls of `operation` (`"CreateOrganizationalUnit"`, see
    /// [`crate::api::operations`]) fail with `error`.
    pub fn fail_next_calls_of(self, operation: &'static str, n: usize, error: ApiError) -> Self {
        self.lock().bursts.push(Burst {
            operation: Some(operation),
            remaining: n,
            error,
        });
        self
    }

    /// The next `n` calls are throttled (`TooManyRequestsException`).
    pub fn throttle_next(self, n: usize) -> Self {
        self.fail_next_calls(n, ApiError::throttling(""))
    }

    /// The next `n` calls fail with `ConcurrentModificationException`.
    pub fn concurrent_modification_next(self, n: usize) -> Self {
        self.fail_next_calls(
            n,
            ApiError::service(
                "",
                codes::CONCURRENT_MODIFICATION,
                "The target of the operation is currently being modified by a different \
                 request. Try again later.",
            ),
        )
    }

    /// The next `n` calls fail as an HTTP 500 would (`ServiceException`, transient).
    pub fn server_error_next(self, n: usize) -> Self {
        self.fail_next_calls(
            n,
            ApiError::transient(
                "",
                codes::SERVICE,
                "AWS Organizations can't complete your request because of an internal service \
                 error. Try again later.",
            ),
        )
    }

    /// Ends a simulated crash: later calls go through again (a restarted process).
    pub fn recover(&self) {
        self.lock().crashed = None;
    }

    /// How many calls reached this layer.
    pub fn call_count(&self) -> usize {
        self.lock().calls
    }

    /// How many writes reached this layer past injected bursts.
    pub fn write_count(&self) -> usize {
        self.lock().writes
    }

    /// How many calls failed with an injected error.
    pub fn injected_count(&self) -> usize {
        self.lock().injected
    }

    /// The wrapped API.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Unwraps the API.
    pub fn into_inner(self) -> A {
        self.inner
    }

    fn lock(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides, before the call, whether it fails; returns the fault to apply after the call.
    fn before(&self, op: &'static str) -> Result<Option<WriteFault>, ApiError> {
        let mut s = self.lock();
        s.calls += 1;
        if let Some(e) = &s.crashed {
            let e = e.clone().for_operation(op);
            s.injected += 1;
            return Err(e);
        }
        if let Some(burst) = s
            .bursts
            .iter_mut()
            .find(|b| b.remaining > 0 && b.operation.is_none_or(|o| o == op))
        {
            burst.remaining -= 1;
            let e = burst.error.clone().for_operation(op);
            s.injected += 1;
            return Err(e);
        }
        if !operations::is_write(op) {
            return Ok(None);
        }
        s.writes += 1;
        let n = s.writes;
        let Some(fault) = s.write_faults.iter().find(|f| f.nth == n).cloned() else {
            return Ok(None);
        };
        if fault.after_effect {
            return Ok(Some(fault));
        }
        if fault.sticky {
            s.crashed = Some(fault.error.clone());
        }
        s.injected += 1;
        Err(fault.error.for_operation(op))
    }

    async fn around<T, F, Fut>(&self, op: &'static str, mut call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let after = self.before(op)?;
        let result = call().await;
        if let Some(observe) = &self.observer
            && operations::is_write(op)
        {
            observe(&self.inner, op);
        }
        match after {
            None => result,
            Some(fault) => {
                let mut s = self.lock();
                if fault.sticky {
                    s.crashed = Some(fault.error.clone());
                }
                s.injected += 1;
                Err(fault.error.for_operation(op))
            }
        }
    }
}

delegate_org_api!(Faulty);
delegate_iam_api!(Faulty);

#[cfg(test)]
mod tests {
    use orgctl_model::Tags;

    use super::*;
    use crate::api::ErrorKind;
    use crate::memory::MemoryOrg;

    fn org() -> MemoryOrg {
        MemoryOrg::new("111111111111", "mgmt@example.com")
    }

    #[tokio::test]
    async fn fails_the_nth_write_only() {
        let api =
            Faulty::new(org()).fail_write(2, ApiError::service("", codes::ACCESS_DENIED, "no"));
        let root = api.inner().root_id();
        api.create_ou(&root, "A", &Tags::new())
            .await
            .expect("first write");
        api.list_roots().await.expect("reads pass");
        let e = api
            .create_ou(&root, "B", &Tags::new())
            .await
            .expect_err("second write fails");
        assert_eq!(e.code, codes::ACCESS_DENIED);
        assert_eq!(e.operation, operations::CREATE_OU);
        api.create_ou(&root, "C", &Tags::new())
            .await
            .expect("third write");
        let names: Vec<String> = api
            .inner()
            .to_live()
            .ous
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(names, vec!["A", "C"], "the failed write never happened");
        assert_eq!(api.write_count(), 3);
        assert_eq!(api.injected_count(), 1);
    }

    #[tokio::test]
    async fn crash_after_writes_fails_everything_later() {
        let api = Faulty::new(org()).crash_after_writes(1);
        let root = api.inner().root_id();
        api.create_ou(&root, "A", &Tags::new())
            .await
            .expect("first write");
        let e = api
            .create_ou(&root, "B", &Tags::new())
            .await
            .expect_err("crash");
        assert_eq!(e.code, CRASH_CODE);
        assert_eq!(e.kind, ErrorKind::Other);
        assert!(!e.is_retryable());
        let e = api
            .list_roots()
            .await
            .expect_err("reads fail after the crash");
        assert_eq!(e.code, CRASH_CODE);
        assert_eq!(e.operation, operations::LIST_ROOTS);
        assert_eq!(api.inner().to_live().ous.len(), 1);
        api.recover();
        api.list_roots().await.expect("recovered");
    }

    #[tokio::test]
    async fn lost_response_takes_effect() {
        let api = Faulty::new(org()).crash_during_write(1);
        let root = api.inner().root_id();
        let e = api
            .create_ou(&root, "A", &Tags::new())
            .await
            .expect_err("lost");
        assert_eq!(e.code, CRASH_CODE);
        assert_eq!(api.inner().to_live().ous.len(), 1, "the OU was created");
        assert!(api.describe_organization().await.is_err(), "crashed");
    }

    #[tokio::test]
    async fn bursts_of_retryable_errors_then_calls_go_through() {
        let api = Faulty::new(org())
            .throttle_next(2)
            .concurrent_modification_next(1)
            .server_error_next(1);
        let mut codes_seen = Vec::new();
        for _ in 0..4 {
            let e = api.list_roots().await.expect_err("injected");
            assert!(e.is_retryable(), "{e}");
            assert_eq!(e.operation, operations::LIST_ROOTS);
            codes_seen.push(e.code);
        }
        assert_eq!(
            codes_seen,
            vec![
                codes::TOO_MANY_REQUESTS,
                codes::TOO_MANY_REQUESTS,
                codes::CONCURRENT_MODIFICATION,
                codes::SERVICE
            ]
        );
        api.list_roots().await.expect("through");
        assert_eq!(api.injected_count(), 4);
        assert_eq!(api.inner().call_count(operations::LIST_ROOTS), 1);
    }

    #[tokio::test]
    async fn observes_every_write_that_reached_the_organization() {
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let api = Faulty::new(org())
            .fail_write(2, ApiError::service("", codes::ACCESS_DENIED, "no"))
            .observe_writes(move |inner: &MemoryOrg, op| {
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((op, inner.to_live().ous.len()));
            });
        let root = api.inner().root_id();
        api.create_ou(&root, "A", &Tags::new())
            .await
            .expect("first write");
        api.list_roots().await.expect("reads are not observed");
        assert!(api.create_ou(&root, "B", &Tags::new()).await.is_err());
        api.create_ou(&root, "C", &Tags::new())
            .await
            .expect("third write");
        let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(
            seen,
            vec![(operations::CREATE_OU, 1), (operations::CREATE_OU, 2)],
            "the failed write never reached the organization"
        );
    }

    #[tokio::test]
    async fn bursts_can_target_one_operation() {
        let api = Faulty::new(org()).fail_next_calls_of(
            operations::LIST_TAGS,
            1,
            ApiError::throttling(""),
        );
        let root = api.inner().root_id();
        api.list_roots().await.expect("other operations pass");
        assert!(api.list_tags(&root).await.is_err());
        api.list_tags(&root).await.expect("burst used up");
    }
}

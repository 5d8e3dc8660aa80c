//! A record of every HTTP attempt the SDK clients make: the API operation's name and the HTTP
//! status (none when the request never got an answer).
//!
//! An SDK interceptor appends to the record after each attempt, so the counts are what went on
//! the wire, not what the code meant to do. The CLI prints a summary with `-v`; tests assert
//! exact call counts (pages, retries, "no writes during plan").

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::operations;

/// One HTTP attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The API operation (`ListAccountsForParent`, `GetCallerIdentity`).
    pub operation: String,
    /// The HTTP status, or `None` when no response arrived (connection failure, timeout,
    /// missing credentials).
    pub status: Option<u16>,
    /// Where the request went (`https://organizations.us-east-1.amazonaws.com`), when it was
    /// built.
    pub endpoint: Option<String>,
}

impl Attempt {
    /// Whether the attempt got a 2xx answer.
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(s) if (200..300).contains(&s))
    }
}

/// Every HTTP attempt made through one [`crate::SdkOrg`], in order. Cheap to clone (shared),
/// safe to read while calls are in flight.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    attempts: Arc<Mutex<Vec<Attempt>>>,
}

impl Recorder {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Attempt>> {
        // A panic while pushing cannot leave the Vec inconsistent; keep recording.
        self.attempts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every attempt, in order.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.lock().clone()
    }

    /// The operation name of every attempt, in order.
    pub fn operations(&self) -> Vec<String> {
        self.lock().iter().map(|a| a.operation.clone()).collect()
    }

    /// How many attempts were made of `operation`.
    pub fn count(&self, operation: &str) -> usize {
        self.lock()
            .iter()
            .filter(|a| a.operation == operation)
            .count()
    }

    /// The attempts of operations that are not reads (anything outside
    /// [`operations::READS`] and `GetCallerIdentity`), in order.
    pub fn write_operations(&self) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|a| !operations::is_read(&a.operation))
            .map(|a| a.operation.clone())
            .collect()
    }

    /// Per operation: (attempts, attempts without a 2xx answer).
    pub fn summary(&self) -> BTreeMap<String, (usize, usize)> {
        let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for a in self.lock().iter() {
            let entry = out.entry(a.operation.clone()).or_default();
            entry.0 += 1;
            if !a.succeeded() {
                entry.1 += 1;
            }
        }
        out
    }

    /// The endpoint of the last attempt of `operation` that was built.
    pub fn last_endpoint(&self, operation: &str) -> Option<String> {
        self.lock()
            .iter()
            .rev()
            .filter(|a| a.operation == operation)
            .find_map(|a| a.endpoint.clone())
    }

    /// Forgets everything recorded so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn push(&self, attempt: Attempt) {
        self.lock().push(attempt);
    }

    /// The SDK interceptor that feeds this record.
    pub(crate) fn interceptor(&self) -> RecordingInterceptor {
        RecordingInterceptor {
            recorder: self.clone(),
        }
    }
}

/// The scheme, host and port of a URI (`http://127.0.0.1:5000/path` → `http://127.0.0.1:5000`).
fn endpoint_of(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("", uri));
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

/// Records each attempt into a [`Recorder`] (`read_after_attempt` runs once per attempt, whether
/// it got a response or not).
#[derive(Debug)]
pub(crate) struct RecordingInterceptor {
    recorder: Recorder,
}

/// The endpoint of the attempt in flight, kept in the attempt's config bag.
#[derive(Debug, Clone)]
struct SentTo(String);

impl Storable for SentTo {
    type Storer = StoreReplace<Self>;
}

impl Intercept for RecordingInterceptor {
    fn name(&self) -> &'static str {
        "OrgctlRecorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(SentTo(endpoint_of(context.request().uri())));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_owned())
            .unwrap_or_else(|| "Unknown".to_owned());
        let status = context.response().map(|r| r.status().as_u16());
        let endpoint = cfg.load::<SentTo>().map(|s| s.0.clone());
        self.recorder.push(Attempt {
            operation,
            status,
            endpoint,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_calls_and_failures() {
        let r = Recorder::new();
        for (op, status) in [
            ("ListRoots", Some(200)),
            ("CreateOrganizationalUnit", Some(400)),
            ("CreateOrganizationalUnit", Some(200)),
            ("ListRoots", None),
        ] {
            r.push(Attempt {
                operation: op.into(),
                status,
                endpoint: Some("http://127.0.0.1:5000".into()),
            });
        }
        assert_eq!(r.count("ListRoots"), 2);
        assert_eq!(
            r.write_operations(),
            vec!["CreateOrganizationalUnit", "CreateOrganizationalUnit"]
        );
        assert_eq!(
            r.last_endpoint("ListRoots").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            endpoint_of("https://organizations.us-east-1.amazonaws.com/?x=1"),
            "https://organizations.us-east-1.amazonaws.com"
        );
        let s = r.summary();
        assert_eq!(s["ListRoots"], (2, 1));
        assert_eq!(s["CreateOrganizationalUnit"], (2, 1));
        let clone = r.clone();
        clone.clear();
        assert!(r.operations().is_empty());
    }
}

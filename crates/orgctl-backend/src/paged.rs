//! A request counter for tests ([`Pages`], with the `test-util` feature): an
//! [`OrgApi`](crate::api::OrgApi) that
//! counts each call as AWS would answer it, a listing as one request per page of 20.

use std::future::Future;
use std::sync::Mutex;

use orgctl_model::Tags;

use crate::api::{
    AccountInfo, ApiResult, CreateAccountStatus, OrgInfo, OuInfo, PolicySummary, operations as ops,
};
use crate::wrap::delegate_org_api;

/// How many items an answer holds, to count the pages AWS would answer it in.
pub trait Items {
    /// The items.
    fn items(&self) -> usize;
}

impl<T> Items for Vec<T> {
    fn items(&self) -> usize {
        self.len()
    }
}

macro_rules! one_item {
    ($($t:ty),*) => {$(impl Items for $t { fn items(&self) -> usize { 1 } })*};
}
one_item!(
    (),
    String,
    Tags,
    OrgInfo,
    OuInfo,
    AccountInfo,
    PolicySummary,
    CreateAccountStatus
);

/// Counts requests as AWS would answer them: a listing costs one request per page of 20
/// (AWS's maximum for the Organizations listings orgctl makes).
pub struct Pages<A> {
    /// The API counted.
    pub inner: A,
    log: Mutex<Vec<(&'static str, usize)>>,
}

impl<A> Pages<A> {
    /// Counts the requests made to `inner`.
    pub fn new(inner: A) -> Self {
        Self {
            inner,
            log: Mutex::new(Vec::new()),
        }
    }

    /// Forgets the requests counted so far.
    pub fn clear(&self) {
        self.log.lock().expect("log").clear();
    }

    async fn around<T: Items, F, Fut>(&self, op: &'static str, mut call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let r = call().await;
        let paged = [
            ops::LIST_OUS_FOR_PARENT,
            ops::LIST_ACCOUNTS_FOR_PARENT,
            ops::LIST_ACCOUNTS,
            ops::LIST_POLICIES,
            ops::LIST_TARGETS_FOR_POLICY,
            ops::LIST_POLICIES_FOR_TARGET,
        ]
        .contains(&op);
        let pages = match &r {
            Ok(v) if paged => v.items().div_ceil(20).max(1),
            _ => 1,
        };
        self.log.lock().expect("log").push((op, pages));
        r
    }

    /// Requests made so far, in pages.
    pub fn requests(&self) -> usize {
        self.log.lock().expect("log").iter().map(|(_, n)| n).sum()
    }

    /// Requests of one operation made so far, in pages.
    pub fn requests_of(&self, op: &str) -> usize {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|(o, _)| *o == op)
            .map(|(_, n)| n)
            .sum()
    }
}

delegate_org_api!(Pages);

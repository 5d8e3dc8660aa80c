//! Following `NextToken`, and refusing to loop forever.
//!
//! A list call is repeated with each page's `NextToken` until a page comes back without one.
//! AWS may return an empty page that still carries a token, so emptiness does not end the loop.
//! A token seen before means the server is not advancing (the emulator's
//! ListCreateAccountStatus does exactly that): the listing stops with an error rather than
//! spinning, and so does a listing that runs past [`MAX_PAGES`].

use std::collections::HashSet;

use orgctl_backend::ApiError;

use crate::errors::other;

/// Far more pages than any organization needs (20 items each).
pub(crate) const MAX_PAGES: usize = 50_000;

/// The pagination state of one listing.
#[derive(Debug)]
pub(crate) struct Pager {
    operation: &'static str,
    token: Option<String>,
    seen: HashSet<String>,
    pages: usize,
}

impl Pager {
    /// A listing of `operation`, at its first page.
    pub(crate) fn new(operation: &'static str) -> Self {
        Self {
            operation,
            token: None,
            seen: HashSet::new(),
            pages: 0,
        }
    }

    /// The token to send with the next request.
    pub(crate) fn token(&self) -> Option<String> {
        self.token.clone()
    }

    /// Takes the `NextToken` of the page just received: `Ok(true)` when there is another page.
    pub(crate) fn advance(&mut self, next: Option<&str>) -> Result<bool, ApiError> {
        self.pages += 1;
        let Some(next) = next.filter(|t| !t.is_empty()) else {
            self.token = None;
            return Ok(false);
        };
        if !self.seen.insert(next.to_owned()) {
            return Err(other(
                self.operation,
                "PaginationNotAdvancing",
                format!(
                    "the service returned NextToken {next:?} again after {} pages; stopping instead of looping forever",
                    self.pages
                ),
            ));
        }
        if self.pages >= MAX_PAGES {
            return Err(other(
                self.operation,
                "PaginationTooLong",
                format!("more than {MAX_PAGES} pages; stopping"),
            ));
        }
        self.token = Some(next.to_owned());
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_tokens_until_none() {
        let mut p = Pager::new("ListAccounts");
        assert_eq!(p.token(), None);
        assert_eq!(p.advance(Some("a")), Ok(true));
        assert_eq!(p.token().as_deref(), Some("a"));
        assert_eq!(p.advance(Some("b")), Ok(true));
        assert_eq!(p.advance(None), Ok(false));
    }

    #[test]
    fn empty_token_ends_the_listing() {
        let mut p = Pager::new("ListAccounts");
        assert_eq!(p.advance(Some("")), Ok(false));
    }

    #[test]
    fn a_repeated_token_is_an_error() {
        let mut p = Pager::new("ListCreateAccountStatus");
        assert_eq!(p.advance(Some("2")), Ok(true));
        let err = p.advance(Some("2")).expect_err("must stop");
        assert_eq!(err.code, "PaginationNotAdvancing");
        assert_eq!(err.operation, "ListCreateAccountStatus");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_token_cycle_is_an_error() {
        let mut p = Pager::new("ListAccounts");
        assert_eq!(p.advance(Some("a")), Ok(true));
        assert_eq!(p.advance(Some("b")), Ok(true));
        assert!(p.advance(Some("a")).is_err());
    }
}

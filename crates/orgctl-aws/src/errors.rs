//! Turning SDK failures into [`ApiError`]s: AWS's error code for service errors, and a retry
//! classification ([`ErrorKind`]) for everything.
//!
//! - a modeled (or unmodeled) service error → [`ApiError::service`] with AWS's code, which
//!   classifies throttling and ConcurrentModificationException itself;
//! - HTTP 5xx, timeouts, connection and IO failures → [`ErrorKind::Transient`];
//! - missing, expired or rejected credentials → [`ErrorKind::Credentials`] with one sentence
//!   saying what to do;
//! - responses that could not be read, and anything else → [`ErrorKind::Other`], with the SDK's
//!   cause chain in the message (each cause's text, never a Rust `Debug` dump).

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::retry::ErrorKind as RetryKind;
use orgctl_backend::{ApiError, ErrorKind};

/// Service error codes that mean the credentials themselves are expired.
const EXPIRED_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "TokenRefreshRequired",
];

/// Service error codes that mean the credentials were not accepted.
const REJECTED_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "UnrecognizedClient",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "AuthFailure",
];

/// The one-sentence advice for each credentials problem.
pub(crate) const MISSING_ADVICE: &str = "No AWS credentials found: set AWS_PROFILE (or --profile) and run `aws sso login` for an SSO profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then run again.";
pub(crate) const EXPIRED_ADVICE: &str = "The AWS credentials have expired: refresh them (for example `aws sso login`, or a new session from your identity provider) and run again.";
pub(crate) const REJECTED_ADVICE: &str = "AWS rejected the credentials (unknown access key, invalid session token or bad signature): check which profile or access keys are in use and run again.";
pub(crate) const PROFILE_ADVICE: &str = "The selected AWS profile is not defined or not usable: check --profile / AWS_PROFILE against ~/.aws/config and ~/.aws/credentials and run again.";

/// Maps one SDK failure of `operation`.
pub(crate) fn map_sdk_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> ApiError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let full = cause_chain(&err);
    match &err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let service_err = ctx.err();
            let message = service_err.message().unwrap_or_default().to_owned();
            match service_err.code() {
                Some(code) if EXPIRED_CODES.contains(&code) => {
                    credentials(operation, "ExpiredCredentials", EXPIRED_ADVICE)
                }
                Some(code) if REJECTED_CODES.contains(&code) => {
                    credentials(operation, "InvalidCredentials", REJECTED_ADVICE)
                }
                Some(code) => {
                    let mut api = ApiError::service(operation, code, message_or(message, &full));
                    // A 5xx (ServiceException, …) is AWS failing, not refusing: retry it.
                    if status >= 500 && api.kind == ErrorKind::Service {
                        api.kind = ErrorKind::Transient;
                    }
                    api
                }
                None if status >= 500 => transient(operation, &format!("HTTP {status}"), full),
                None => other(operation, &format!("HTTP {status}"), full),
            }
        }
        SdkError::TimeoutError(_) => transient(operation, "Timeout", full),
        SdkError::DispatchFailure(d) => {
            if let Some(api) = credentials_in_chain(operation, &err) {
                api
            } else if let Some(cause) = unreachable_cause(&err) {
                other(operation, UNREACHABLE, cause)
            } else if d.is_io()
                || d.is_timeout()
                // e.g. hyper's "connection closed before message completed"
                || matches!(
                    d.as_other(),
                    Some(RetryKind::TransientError | RetryKind::ServerError)
                )
            {
                transient(operation, "ConnectionFailed", full)
            } else {
                other(operation, "DispatchFailure", full)
            }
        }
        SdkError::ResponseError(ctx) => {
            let status = ctx.raw().status().as_u16();
            if status >= 500 {
                transient(operation, &format!("HTTP {status}"), full)
            } else {
                other(operation, "UnreadableResponse", full)
            }
        }
        SdkError::ConstructionFailure(_) => credentials_in_chain(operation, &err)
            .unwrap_or_else(|| other(operation, "RequestNotBuilt", full)),
        _ => credentials_in_chain(operation, &err)
            .unwrap_or_else(|| other(operation, "SdkError", full)),
    }
}

/// The code of a request that could not reach the endpoint at all (connection refused, no such
/// host). Not retried: nothing listens there, and retrying only delays the message. Its message
/// is the cause (`connection refused`); [`crate::SdkOrg`] names the endpoint in front of it.
pub(crate) const UNREACHABLE: &str = "EndpointUnreachable";

/// Why the endpoint could not be reached, when nothing answered at all: the connection was
/// refused, or the host name does not resolve.
fn unreachable_cause(err: &(dyn StdError + 'static)) -> Option<&'static str> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Some("connection refused");
        }
        let text = e.to_string().to_lowercase();
        if text.contains("connection refused") {
            return Some("connection refused");
        }
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return Some("the host name does not resolve");
        }
        current = e.source();
    }
    None
}

/// The texts of an error and its causes, `: `-separated, each cause shown once (a cause whose
/// text is already part of the previous one is left out).
fn cause_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// An [`ErrorKind::Other`] error for a response that lacks something it must carry.
pub(crate) fn malformed(operation: &'static str, what: &str) -> ApiError {
    other(
        operation,
        "MalformedResponse",
        format!("the response has no {what}"),
    )
}

/// An [`ErrorKind::Other`] error.
pub(crate) fn other(operation: &'static str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        operation,
        code: code.to_owned(),
        message: message.into(),
        kind: ErrorKind::Other,
    }
}

fn transient(operation: &'static str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        operation,
        code: code.to_owned(),
        message: message.into(),
        kind: ErrorKind::Transient,
    }
}

fn credentials(operation: &'static str, code: &str, advice: &str) -> ApiError {
    ApiError {
        operation,
        code: code.to_owned(),
        message: advice.to_owned(),
        kind: ErrorKind::Credentials,
    }
}

fn message_or(message: String, fallback: &str) -> String {
    if message.is_empty() {
        fallback.to_owned()
    } else {
        message
    }
}

/// Whether the chain says a named profile (other than an absent `default`) does not exist.
fn profile_not_defined(text: &str) -> bool {
    text.lines().any(|l| {
        l.contains("profile `")
            && l.contains("` was not defined")
            && !l.contains("profile `default`")
    })
}

/// Looks through the cause chain for a credentials-provider failure (or the "no identity"
/// failure the SDK reports when no credentials provider is configured at all).
fn credentials_in_chain(
    operation: &'static str,
    err: &(dyn StdError + 'static),
) -> Option<ApiError> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    let mut chain_text = String::new();
    let mut found: Option<&CredentialsError> = None;
    while let Some(e) = current {
        chain_text.push_str(&e.to_string());
        chain_text.push('\n');
        if found.is_none() {
            found = e.downcast_ref::<CredentialsError>();
        }
        current = e.source();
    }
    let text = chain_text.to_lowercase();
    tracing::debug!(operation, chain = %chain_text, "credentials check");
    if let Some(cred_err) = found {
        let (code, advice) = if profile_not_defined(&text) {
            ("ProfileNotFound", PROFILE_ADVICE)
        } else if text.contains("profile file credentials provider initialization error") {
            // The SDK reports a broken profile in full once, then only as "already taken".
            ("ProfileNotUsable", PROFILE_ADVICE)
        } else if text.contains("expired") {
            ("ExpiredCredentials", EXPIRED_ADVICE)
        } else if matches!(cred_err, CredentialsError::CredentialsNotLoaded(_)) {
            ("CredentialsNotFound", MISSING_ADVICE)
        } else {
            ("CredentialsNotLoaded", MISSING_ADVICE)
        };
        return Some(credentials(operation, code, advice));
    }
    // No provider configured at all: the orchestrator finds no identity resolver for SigV4.
    let no_identity = text.contains("no auth scheme")
        || text.contains("identity resolver")
        || text.contains("no credentials")
        || text.contains("credentials provider");
    no_identity.then(|| credentials(operation, "CredentialsNotFound", MISSING_ADVICE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_is_one_sentence() {
        for advice in [
            MISSING_ADVICE,
            EXPIRED_ADVICE,
            REJECTED_ADVICE,
            PROFILE_ADVICE,
        ] {
            assert!(advice.ends_with('.'), "{advice}");
            assert_eq!(
                advice.matches(". ").count(),
                0,
                "one sentence only: {advice}"
            );
            assert!(!advice.contains('\n'));
        }
    }

    #[test]
    fn credential_provider_errors_in_the_chain_are_credentials() {
        let err = CredentialsError::not_loaded("no providers in chain provided credentials");
        let api = credentials_in_chain("ListRoots", &err).expect("classified");
        assert_eq!(api.kind, ErrorKind::Credentials);
        assert_eq!(api.code, "CredentialsNotFound");
        assert_eq!(api.message, MISSING_ADVICE);

        let err = CredentialsError::provider_error(
            "The SSO session associated with this profile has expired or is otherwise invalid",
        );
        let api = credentials_in_chain("ListRoots", &err).expect("classified");
        assert_eq!(api.code, "ExpiredCredentials");
        assert_eq!(api.message, EXPIRED_ADVICE);
    }

    #[test]
    fn refused_connections_and_unknown_hosts_are_unreachable() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(unreachable_cause(&refused), Some("connection refused"));
        let dns = std::io::Error::other("dns error: failed to lookup address information");
        assert_eq!(
            unreachable_cause(&dns),
            Some("the host name does not resolve")
        );
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        assert_eq!(unreachable_cause(&reset), None);
    }

    #[test]
    fn the_cause_chain_is_text_without_debug_dumps() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "dispatch failure")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        ));
        assert_eq!(
            cause_chain(&err),
            "dispatch failure: connection reset by peer"
        );
    }

    #[test]
    fn unrelated_errors_are_not_credentials() {
        let err = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(credentials_in_chain("ListRoots", &err).is_none());
    }
}

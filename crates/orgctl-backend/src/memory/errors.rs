//! Errors as AWS words them: the code, and for `ConstraintViolationException` and
//! `InvalidInputException` the reason first (`OU_DEPTH_LIMIT_EXCEEDED: …`).

use crate::api::{ApiError, codes};

pub(super) fn err(op: &'static str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::service(op, code, message)
}

pub(super) fn constraint(op: &'static str, reason: &str, text: &str) -> ApiError {
    err(op, codes::CONSTRAINT_VIOLATION, format!("{reason}: {text}"))
}

pub(super) fn invalid(op: &'static str, reason: &str, text: impl AsRef<str>) -> ApiError {
    err(
        op,
        codes::INVALID_INPUT,
        format!("{reason}: {}", text.as_ref()),
    )
}

pub(super) fn parent_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::PARENT_NOT_FOUND,
        "We can't find a root or OU with the ParentId that you specified.",
    )
}

pub(super) fn ou_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::OU_NOT_FOUND,
        "We can't find an OU with the OrganizationalUnitId that you specified.",
    )
}

pub(super) fn account_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::ACCOUNT_NOT_FOUND,
        "We can't find an AWS account with the AccountId that you specified.",
    )
}

pub(super) fn policy_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::POLICY_NOT_FOUND,
        "We can't find a policy with the PolicyId that you specified.",
    )
}

pub(super) fn target_not_found(op: &'static str) -> ApiError {
    err(
        op,
        codes::TARGET_NOT_FOUND,
        "We can't find a root, OU, account, or policy with the TargetId that you specified.",
    )
}

pub(super) fn type_not_enabled(op: &'static str) -> ApiError {
    err(
        op,
        codes::POLICY_TYPE_NOT_ENABLED,
        "The specified policy type isn't currently enabled in this root. You can't attach \
         policies of the specified type to entities in a root until you enable that type in \
         the root.",
    )
}

pub(super) fn immutable_policy(op: &'static str) -> ApiError {
    invalid(
        op,
        "IMMUTABLE_POLICY",
        "You specified a policy that is managed by AWS and can't be modified.",
    )
}

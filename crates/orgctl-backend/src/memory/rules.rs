//! Input rules: the lengths, patterns and limits AWS checks on a request's input before it
//! looks at the organization (names, emails, descriptions, tags, policy documents).

use orgctl_model::{PolicyType, Tags};

use super::MAX_TAGS;
use super::errors::{constraint, err, invalid};
use crate::api::{ApiResult, codes};

pub(super) fn check_len(
    op: &'static str,
    what: &str,
    value: &str,
    min: usize,
    max: usize,
) -> ApiResult<()> {
    let n = value.chars().count();
    if n < min {
        return Err(invalid(
            op,
            "MIN_LENGTH_EXCEEDED",
            format!("{what} must be at least {min} characters long."),
        ));
    }
    if n > max {
        return Err(invalid(
            op,
            "MAX_LENGTH_EXCEEDED",
            format!("{what} must be at most {max} characters long."),
        ));
    }
    Ok(())
}

pub(super) fn check_ou_name(op: &'static str, name: &str) -> ApiResult<()> {
    check_len(op, "Name", name, 1, 128)
}

pub(super) fn check_policy_name(op: &'static str, name: &str) -> ApiResult<()> {
    check_len(op, "Name", name, 1, 128)
}

pub(super) fn check_description(op: &'static str, description: &str) -> ApiResult<()> {
    check_len(op, "Description", description, 0, 512)
}

pub(super) fn check_account_name(op: &'static str, name: &str) -> ApiResult<()> {
    check_len(op, "AccountName", name, 1, 50)?;
    if !name.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(invalid(
            op,
            "INVALID_PATTERN",
            "AccountName may contain only printable ASCII characters.",
        ));
    }
    Ok(())
}

/// AWS's pattern for account emails: `[^\s@]+@[^\s@]+\.[^\s@]+`, 6–64 characters.
pub(super) fn check_email(op: &'static str, email: &str) -> ApiResult<()> {
    check_len(op, "Email", email, 6, 64)?;
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            let no_space_or_at = |s: &str| !s.chars().any(|c| c.is_whitespace() || c == '@');
            !local.is_empty()
                && no_space_or_at(local)
                && no_space_or_at(domain)
                && domain
                    .char_indices()
                    .any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len())
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            op,
            "INVALID_PATTERN",
            format!("The email address {email:?} doesn't match the required pattern."),
        ))
    }
}

/// AWS's tag pattern: `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`.
pub(super) fn tag_chars_ok(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_alphanumeric()
            || (c.is_whitespace() && !c.is_control())
            || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
    })
}

pub(super) fn check_tag_key(op: &'static str, key: &str) -> ApiResult<()> {
    check_len(op, "Tag key", key, 1, 128)?;
    if key.to_lowercase().starts_with("aws:") {
        return Err(invalid(
            op,
            "INVALID_SYSTEM_TAGS_PARAMETER",
            format!(
                "The tag key {key:?} is a system tag. You can't add, edit, or delete system \
                 tag keys because they're reserved for AWS use."
            ),
        ));
    }
    if !tag_chars_ok(key) {
        return Err(invalid(
            op,
            "INVALID_PATTERN",
            format!("The tag key {key:?} doesn't match the required pattern."),
        ));
    }
    Ok(())
}

pub(super) fn check_tags(op: &'static str, tags: &Tags) -> ApiResult<()> {
    for (k, v) in tags {
        check_tag_key(op, k)?;
        check_len(op, "Tag value", v, 0, 256)?;
        if !tag_chars_ok(v) {
            return Err(invalid(
                op,
                "INVALID_PATTERN",
                format!("The value of tag {k:?} doesn't match the required pattern."),
            ));
        }
    }
    check_tag_count(op, tags.len())
}

pub(super) fn check_tag_count(op: &'static str, n: usize) -> ApiResult<()> {
    if n > MAX_TAGS {
        return Err(constraint(
            op,
            "MAX_TAG_LIMIT_EXCEEDED",
            &format!(
                "You have exceeded the number of tags allowed on this resource ({n} > {MAX_TAGS})."
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_content(
    op: &'static str,
    policy_type: PolicyType,
    content: &str,
) -> ApiResult<()> {
    if content.is_empty() {
        return Err(invalid(
            op,
            "MIN_LENGTH_EXCEEDED",
            "Content must be at least 1 character long.",
        ));
    }
    let max = policy_type.max_document_chars();
    let n = content.chars().count();
    if n > max {
        return Err(constraint(
            op,
            "POLICY_CONTENT_LIMIT_EXCEEDED",
            &format!(
                "You have exceeded the maximum policy size ({n} characters; a {policy_type} may \
                 have at most {max})."
            ),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(content) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(err(
            op,
            codes::MALFORMED_POLICY_DOCUMENT,
            "The provided policy document doesn't meet the requirements of the specified \
             policy type.",
        )),
    }
}

//! AWS's format rules for ids, emails and OU paths, and orgctl's limits: pure functions the
//! sections share (and other crates may use).

use orgctl_model::ROOT_PATH;

use crate::text::invisible_problem;

/// The default of `policies_per_target_limit`: AWS's default SCP quota.
pub const DEFAULT_POLICIES_PER_TARGET: u32 = 5;
/// The smallest allowed `policies_per_target_limit` (replacing a policy attaches the new one
/// before detaching the old).
pub const MIN_POLICIES_PER_TARGET: u32 = 2;
/// The largest allowed `policies_per_target_limit`.
pub const MAX_POLICIES_PER_TARGET: u32 = 1000;
/// AWS's limit on the depth of the OU tree below the root.
pub const MAX_OU_DEPTH: usize = 5;
/// AWS's limit on tags per resource.
pub const MAX_TAGS: usize = 50;

/// Whether `s` is a 12-digit account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` looks like an OU id (`ou-` + 4–32 + `-` + 8–32 lower-case letters or digits).
pub fn is_ou_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("ou-") else {
        return false;
    };
    let Some((a, b)) = rest.split_once('-') else {
        return false;
    };
    let ok = |part: &str, min: usize| {
        (min..=32).contains(&part.len())
            && part
                .bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    };
    ok(a, 4) && ok(b, 8)
}

/// Why `email` is not an address AWS accepts for an account's root user, if it is not.
pub fn email_problem(email: &str) -> Option<String> {
    let n = email.chars().count();
    if !(6..=64).contains(&n) {
        return Some(format!("`{email}` has {n} characters; AWS allows 6 to 64"));
    }
    if let Some(problem) = invisible_problem("email", email) {
        return Some(problem);
    }
    if email.chars().any(char::is_whitespace) {
        return Some(format!("`{email}` contains whitespace"));
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Some(format!("`{email}` must contain exactly one `@`"));
    };
    if local.is_empty() {
        return Some(format!("`{email}` has nothing before the `@`"));
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Some(format!(
            "`{email}` needs a domain with a dot and no empty part after the `@`, such as \
             `example.com`"
        ));
    }
    None
}

/// Why `path` is not a valid OU path, if it is not; otherwise its segments.
pub fn ou_path_segments(path: &str) -> Result<Vec<&str>, String> {
    if path == ROOT_PATH {
        return Err(
            "`/` is the root, which always exists; declare only the OUs below it".to_owned(),
        );
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!(
            "`{path}` is not an OU path: it must start with `/`, such as `/Workloads/Staging`"
        ));
    };
    if rest.ends_with('/') {
        return Err(format!("OU path `{path}` must not end with `/`"));
    }
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "OU path `{path}` has an empty segment (`//`); segments are OU names"
        ));
    }
    for s in &segments {
        if let Some(problem) = invisible_problem("OU name", s) {
            return Err(problem);
        }
        let n = s.chars().count();
        if n > 128 {
            return Err(format!(
                "OU name `{s}` has {n} characters; AWS allows 1 to 128"
            ));
        }
    }
    if segments.len() > MAX_OU_DEPTH {
        return Err(format!(
            "OU `{path}` is {} levels deep; AWS allows at most {MAX_OU_DEPTH} levels of OUs \
             below the root",
            segments.len()
        ));
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_and_ou_ids() {
        assert!(is_account_id("012345678901"));
        assert!(!is_account_id("01234567890"));
        assert!(!is_account_id("01234567890a"));
        assert!(is_ou_id("ou-ab12-cd34ef56"));
        assert!(is_ou_id("ou-abcd-12345678"));
        assert!(!is_ou_id("ou-abc-12345678"));
        assert!(!is_ou_id("ou-abcd-1234567"));
        assert!(!is_ou_id("ou-ABCD-12345678"));
        assert!(!is_ou_id("r-abcd"));
    }

    #[test]
    fn emails() {
        assert_eq!(email_problem("a.b+c@example.co.uk"), None);
        for bad in [
            "a@b.c",
            "ab@example",
            "a@@example.com",
            "@example.com",
            "a b@example.com",
            "a@example..com",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ou_paths() {
        assert_eq!(ou_path_segments("/A/B"), Ok(vec!["A", "B"]));
        assert!(ou_path_segments("/1/2/3/4/5").is_ok());
        for bad in ["/", "A", "/A/", "/A//B", "/1/2/3/4/5/6", ""] {
            assert!(ou_path_segments(bad).is_err(), "{bad}");
        }
    }
}

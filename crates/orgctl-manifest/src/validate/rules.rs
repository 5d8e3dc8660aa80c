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

/// Whether `c` is in IAM's name charset (`A-Z a-z 0-9 + = , . @ _ -`).
pub fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// Why `name` is not an IAM name (role, user, policy, path segment) of 1 to `max` characters,
/// if it is not.
pub fn iam_name_problem(what: &str, name: &str, max: usize) -> Option<String> {
    let n = name.chars().count();
    if n == 0 || n > max {
        return Some(format!(
            "{what} `{name}` has {n} characters; IAM allows 1 to {max}"
        ));
    }
    if let Some(c) = name.chars().find(|c| !is_iam_name_char(*c)) {
        return Some(format!(
            "{what} `{name}` has the character {c:?}; IAM allows only letters, digits and \
             + = , . @ _ -"
        ));
    }
    None
}

/// The prefix of a grant's default role name.
pub const GRANT_ROLE_PREFIX: &str = "orgctl-";

/// The default role name of a grant: `orgctl-` followed by the grant's name, each character
/// outside IAM's charset replaced by `-`, cut to 64 characters.
pub fn default_role_name(grant: &str) -> String {
    let sanitized: String = grant
        .chars()
        .map(|c| if is_iam_name_char(c) { c } else { '-' })
        .collect();
    format!("{GRANT_ROLE_PREFIX}{sanitized}")
        .chars()
        .take(64)
        .collect()
}

/// An IAM principal ARN, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamArn<'a> {
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: &'a str,
    /// The 12-digit account.
    pub account: &'a str,
    /// `root`, `role` or `user`.
    pub kind: &'a str,
}

/// The AWS partitions.
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// Parses `arn:PARTITION:iam::ACCOUNT:root`, `...:role/[PATH/]NAME` or `...:user/[PATH/]NAME`
/// strictly (IAM's charset, names of 1 to 64 characters).
pub fn parse_iam_arn(arn: &str) -> Option<IamArn<'_>> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if !PARTITIONS.contains(&partition) || !is_account_id(account) {
        return None;
    }
    if resource == "root" {
        return Some(IamArn {
            partition,
            account,
            kind: "root",
        });
    }
    let (kind, path) = resource.split_once('/')?;
    if kind != "role" && kind != "user" {
        return None;
    }
    let segments: Vec<&str> = path.split('/').collect();
    let (name, dirs) = segments.split_last()?;
    // IAM paths (`/a/b/`) have at most 512 characters.
    let path_chars = dirs.iter().map(|d| d.len() + 1).sum::<usize>() + 1;
    if iam_name_problem("", name, 64).is_some()
        || path_chars > 512
        || dirs.iter().any(|d| iam_name_problem("", d, 512).is_some())
    {
        return None;
    }
    Some(IamArn {
        partition,
        account,
        kind,
    })
}

/// A managed policy (or boundary) as written → its ARN: a name (`AdministratorAccess`,
/// `job-function/ViewOnlyAccess`) is an AWS managed policy; an ARN must be
/// `arn:PARTITION:iam::(aws|ACCOUNT):policy/[PATH/]NAME`.
pub fn managed_policy_arn(written: &str) -> Result<String, String> {
    let check_path = |path: &str| -> Result<(), String> {
        let segments: Vec<&str> = path.split('/').collect();
        for (i, s) in segments.iter().enumerate() {
            let max = if i + 1 == segments.len() { 128 } else { 512 };
            if let Some(problem) = iam_name_problem("policy name", s, max) {
                return Err(problem);
            }
        }
        Ok(())
    };
    if let Some(rest) = written.strip_prefix("arn:") {
        let bad = || {
            format!(
                "`{written}` is not a managed policy ARN such as \
                 `arn:aws:iam::aws:policy/ReadOnlyAccess` or \
                 `arn:aws:iam::123456789012:policy/NAME`"
            )
        };
        let (partition, rest) = rest.split_once(':').ok_or_else(bad)?;
        let rest = rest.strip_prefix("iam::").ok_or_else(bad)?;
        let (owner, resource) = rest.split_once(':').ok_or_else(bad)?;
        let path = resource.strip_prefix("policy/").ok_or_else(bad)?;
        if !PARTITIONS.contains(&partition) || !(owner == "aws" || is_account_id(owner)) {
            return Err(bad());
        }
        check_path(path).map_err(|p| format!("{}: {p}", bad()))?;
        return Ok(written.to_owned());
    }
    check_path(written)?;
    Ok(format!("arn:aws:iam::aws:policy/{written}"))
}

/// Why `id` is not an external id STS accepts (2 to 1224 characters of `A-Z a-z 0-9 + = , .
/// @ : / _ -`), if it is not.
pub fn external_id_problem(id: &str) -> Option<String> {
    let n = id.chars().count();
    if !(2..=1224).contains(&n) {
        return Some(format!(
            "the external id has {n} characters; STS allows 2 to 1224"
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(is_iam_name_char(*c) || *c == ':' || *c == '/'))
    {
        return Some(format!(
            "the external id has the character {c:?}; STS allows only letters, digits and \
             + = , . @ : / _ -"
        ));
    }
    None
}

/// The shortest and longest session a role allows, in seconds.
pub const SESSION_SECS: std::ops::RangeInclusive<i32> = 3_600..=43_200;

/// A session length written `1h`, `90m` or `2h30m` → seconds (1 h to 12 h).
pub fn parse_session(written: &str) -> Result<i32, String> {
    let bad = || {
        format!(
            "`{written}` is not a session length: write hours and/or minutes, such as `1h`, \
             `90m` or `2h30m`"
        )
    };
    let mut rest = written;
    let mut total: i64 = 0;
    let mut seen_h = false;
    let mut seen_m = false;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 5 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit = rest[digits..].chars().next().ok_or_else(bad)?;
        match unit {
            'h' if !seen_h && !seen_m => {
                seen_h = true;
                total += n * 3600;
            }
            'm' if !seen_m => {
                seen_m = true;
                total += n * 60;
            }
            _ => return Err(bad()),
        }
        rest = &rest[digits + 1..];
    }
    let secs = i32::try_from(total).unwrap_or(i32::MAX);
    if !SESSION_SECS.contains(&secs) {
        return Err(format!(
            "`{written}` is out of range: IAM allows sessions of 1 hour to 12 hours (`1h` to \
             `12h`)"
        ));
    }
    Ok(secs)
}

/// Why `domain` is not an email domain (such as `companyx.example`), if it is not.
pub fn domain_problem(domain: &str) -> Option<String> {
    let d = domain.trim();
    if d != domain {
        return Some(format!("`{domain}` has blanks around it"));
    }
    if d.contains('@') {
        return Some(format!(
            "`{domain}` has an `@`: give the domain only, such as `companyx.example`"
        ));
    }
    let labels: Vec<&str> = d.split('.').collect();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if d.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Some(format!(
            "`{domain}` is not a domain: labels of letters, digits and `-` separated by dots, \
             such as `companyx.example`"
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
    fn default_role_names_are_prefixed_sanitized_and_cut() {
        assert_eq!(
            default_role_name("partner-staging"),
            "orgctl-partner-staging"
        );
        assert_eq!(default_role_name("a b/c"), "orgctl-a-b-c");
        let long = default_role_name(&"x".repeat(80));
        assert_eq!(long.chars().count(), 64);
        assert!(long.starts_with("orgctl-xxx"));
        assert!(iam_name_problem("role name", &long, 64).is_none());
    }

    #[test]
    fn iam_arns() {
        let a = parse_iam_arn("arn:aws:iam::999988887777:role/team/deploy").expect("role");
        assert_eq!((a.account, a.kind), ("999988887777", "role"));
        assert!(parse_iam_arn("arn:aws:iam::999988887777:root").is_some());
        assert!(parse_iam_arn("arn:aws-cn:iam::999988887777:user/bob").is_some());
        for bad in [
            "arn:aws:iam::99998888777:root",
            "arn:aws:sts::999988887777:assumed-role/x/y",
            "arn:aws:iam::999988887777:group/x",
            "arn:aws:iam::999988887777:role/",
            "arn:aws:iam::999988887777:role/a b",
            &format!(
                "arn:aws:iam::999988887777:role/{}/{}/x",
                "p".repeat(255),
                "q".repeat(255)
            ),
            "arn:aws:iam:us-east-1:999988887777:root",
            "arn:foo:iam::999988887777:root",
            "999988887777",
        ] {
            assert!(parse_iam_arn(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn managed_policies_and_sessions_and_external_ids() {
        assert_eq!(
            managed_policy_arn("ReadOnlyAccess").as_deref(),
            Ok("arn:aws:iam::aws:policy/ReadOnlyAccess")
        );
        assert_eq!(
            managed_policy_arn("job-function/ViewOnlyAccess").as_deref(),
            Ok("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
        );
        assert!(managed_policy_arn("arn:aws:iam::123456789012:policy/x").is_ok());
        assert!(managed_policy_arn("arn:aws:iam::aws:role/x").is_err());
        assert!(managed_policy_arn("Admin Access").is_err());
        assert_eq!(parse_session("1h"), Ok(3600));
        assert_eq!(parse_session("90m"), Ok(5400));
        assert_eq!(parse_session("2h30m"), Ok(9000));
        assert_eq!(parse_session("12h"), Ok(43_200));
        for bad in ["59m", "13h", "12h1m", "1", "h", "1m1h", "", "1.5h", "1h1h"] {
            assert!(parse_session(bad).is_err(), "{bad}");
        }
        assert!(external_id_problem("companyx-7f3a:9c/x=1").is_none());
        assert!(external_id_problem("a").is_some());
        assert!(external_id_problem("a b c").is_some());
        assert!(external_id_problem(&"a".repeat(1225)).is_some());
    }

    #[test]
    fn domains() {
        assert!(domain_problem("companyx.example").is_none());
        for bad in [
            "companyx", "a@b.com", "-a.com", "a..com", " a.com", "a_b.com",
        ] {
            assert!(domain_problem(bad).is_some(), "{bad}");
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

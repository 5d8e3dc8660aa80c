//! The AWS API operations [`crate::SdkOrg`] can call, by name.
//!
//! These lists are the single source of truth for the IAM policies in `docs/iam/`: a unit test
//! checks that every read appears as `organizations:<Op>` in the read-only plan policy and that
//! every read and write appears in the apply policy (and nothing else does). If `SdkOrg` starts
//! calling a new operation, add it here, and the test points at the policy to update.
//!
//! The names themselves are the backend crate's ([`orgctl_backend::operations`]), so the
//! recorder, the retry counters and `ApiError::operation` all spell them the same way.

pub use orgctl_backend::operations::*;

/// STS GetCallerIdentity: needs no IAM permission (AWS always allows it).
pub const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";

/// Every Organizations read `SdkOrg` makes (`orgctl plan` and `snapshot` need exactly these);
/// the writes are [`WRITES`] (`orgctl apply` needs both).
pub const READS: &[&str] = &[
    DESCRIBE_ORGANIZATION,
    LIST_ROOTS,
    LIST_OUS_FOR_PARENT,
    LIST_ACCOUNTS_FOR_PARENT,
    LIST_ACCOUNTS,
    LIST_PARENTS,
    DESCRIBE_OU,
    DESCRIBE_ACCOUNT,
    LIST_TAGS,
    LIST_POLICIES,
    DESCRIBE_POLICY,
    LIST_TARGETS_FOR_POLICY,
    LIST_POLICIES_FOR_TARGET,
    LIST_CREATE_ACCOUNT_STATUS,
    DESCRIBE_CREATE_ACCOUNT_STATUS,
];

/// The IAM operations [`crate::SdkIam`] calls in member accounts (and STS AssumeRole, made
/// with the management account's credentials). `iam::READS` is exactly what the orgctl read
/// role in a member account needs (`docs/iam/member-read-role.json`).
pub mod iam {
    pub use orgctl_backend::iam::operations::*;
}

/// Whether an operation only reads (an Organizations read, STS GetCallerIdentity or
/// AssumeRole, or an IAM read in a member account).
pub fn is_read(operation: &str) -> bool {
    operation == GET_CALLER_IDENTITY
        || operation == iam::ASSUME_ROLE
        || READS.contains(&operation)
        || iam::READS.contains(&operation)
}

#[cfg(test)]
mod tests {
    //! The IAM policies under `docs/iam/` grant exactly what `SdkOrg` calls.

    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    fn policy_actions(file: &str) -> BTreeSet<String> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/iam")
            .join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
        assert_eq!(doc["Version"], "2012-10-17", "{file}: IAM policy Version");
        let statements = doc["Statement"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: Statement must be an array"));
        let mut actions = BTreeSet::new();
        for st in statements {
            assert_eq!(st["Effect"], "Allow", "{file}: only Allow statements");
            if st["Action"] == serde_json::json!(["sts:AssumeRole"]) {
                // Checked by `assumed_roles`.
                continue;
            }
            assert_eq!(
                st["Resource"], "*",
                "{file}: Organizations needs Resource *"
            );
            let list = st["Action"]
                .as_array()
                .unwrap_or_else(|| panic!("{file}: Action must be an array"));
            for a in list {
                let a = a.as_str().unwrap_or_else(|| panic!("{file}: action {a}"));
                assert!(!a.contains('*'), "{file}: no wildcard actions ({a})");
                assert!(actions.insert(a.to_owned()), "{file}: {a} listed twice");
            }
        }
        actions
    }

    /// The role ARNs the policy may `sts:AssumeRole` (member accounts' IAM).
    fn assumed_roles(file: &str) -> BTreeSet<String> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/iam")
            .join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let mut out = BTreeSet::new();
        for st in doc["Statement"].as_array().expect("statements") {
            if st["Action"] == serde_json::json!(["sts:AssumeRole"]) {
                for r in st["Resource"].as_array().expect("a list of role ARNs") {
                    out.insert(r.as_str().expect("an ARN").to_owned());
                }
            }
        }
        out
    }

    #[test]
    fn plan_and_apply_roles_assume_exactly_the_member_account_roles_orgctl_uses() {
        use orgctl_backend::iam::IamRoles;
        let member = orgctl_model::DEFAULT_MEMBER_ROLE;
        let wildcard = |arn: Option<String>| arn.map(|a| a.replace("000000000000", "*"));
        let read = IamRoles::read(member, Some("arn:aws:iam::000000000000:role/orgctl-plan"));
        let plan: BTreeSet<String> = [
            wildcard(read.read_role_arn("000000000000")),
            wildcard(Some(read.member_role_arn("000000000000"))),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(
            assumed_roles("plan-role.json"),
            plan,
            "read role, then the member role"
        );
        let write = IamRoles::write(member);
        assert_eq!(
            assumed_roles("apply-role.json"),
            [wildcard(Some(write.member_role_arn("000000000000"))).expect("arn")].into(),
            "apply writes through the member role only"
        );
        assert!(assumed_roles("member-read-role.json").is_empty());
    }

    fn qualified(ops: &[&str]) -> BTreeSet<String> {
        ops.iter().map(|op| format!("organizations:{op}")).collect()
    }

    #[test]
    fn plan_policy_grants_exactly_the_reads() {
        assert_eq!(policy_actions("plan-role.json"), qualified(READS));
    }

    #[test]
    fn apply_policy_grants_exactly_the_reads_and_writes() {
        let mut want = qualified(READS);
        want.extend(qualified(&WRITES));
        assert_eq!(policy_actions("apply-role.json"), want);
    }

    #[test]
    fn member_read_policy_grants_exactly_the_iam_reads() {
        let want: BTreeSet<String> = iam::READS.iter().map(|op| format!("iam:{op}")).collect();
        assert_eq!(policy_actions("member-read-role.json"), want);
        for w in &iam::WRITES {
            assert!(!iam::READS.contains(w), "{w}");
            assert!(is_write(w), "{w} counts as a write");
        }
    }

    #[test]
    fn lists_are_disjoint_and_classify() {
        for w in &WRITES {
            assert!(!READS.contains(w), "{w}");
            assert!(!is_read(w));
        }
        assert!(READS.iter().all(|r| is_read(r)));
        assert!(is_read(GET_CALLER_IDENTITY));
    }
}

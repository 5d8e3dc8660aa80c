//! The AWS API operations [`crate::SdkOrg`] can call, by name.
//!
//! These lists are the single source of truth for the IAM policies in `docs/iam/`: a unit test
//! checks that every read appears as `organizations:<Op>` in the read-only plan policy and that
//! every read and write appears in the apply policy (and nothing else does). If `SdkOrg` starts
//! calling a new operation, add it here, and the test points at the policy to update.

#![allow(missing_docs)]

pub const DESCRIBE_ORGANIZATION: &str = "DescribeOrganization";
pub const LIST_ROOTS: &str = "ListRoots";
pub const LIST_OUS_FOR_PARENT: &str = "ListOrganizationalUnitsForParent";
pub const LIST_ACCOUNTS_FOR_PARENT: &str = "ListAccountsForParent";
pub const LIST_ACCOUNTS: &str = "ListAccounts";
pub const LIST_PARENTS: &str = "ListParents";
pub const DESCRIBE_OU: &str = "DescribeOrganizationalUnit";
pub const LIST_TAGS: &str = "ListTagsForResource";
pub const LIST_POLICIES: &str = "ListPolicies";
pub const DESCRIBE_POLICY: &str = "DescribePolicy";
pub const LIST_TARGETS_FOR_POLICY: &str = "ListTargetsForPolicy";
pub const LIST_CREATE_ACCOUNT_STATUS: &str = "ListCreateAccountStatus";
pub const DESCRIBE_CREATE_ACCOUNT_STATUS: &str = "DescribeCreateAccountStatus";

pub const ENABLE_POLICY_TYPE: &str = "EnablePolicyType";
pub const CREATE_OU: &str = "CreateOrganizationalUnit";
pub const UPDATE_OU: &str = "UpdateOrganizationalUnit";
pub const DELETE_OU: &str = "DeleteOrganizationalUnit";
pub const CREATE_ACCOUNT: &str = "CreateAccount";
pub const MOVE_ACCOUNT: &str = "MoveAccount";
pub const CLOSE_ACCOUNT: &str = "CloseAccount";
pub const TAG_RESOURCE: &str = "TagResource";
pub const UNTAG_RESOURCE: &str = "UntagResource";
pub const CREATE_POLICY: &str = "CreatePolicy";
pub const UPDATE_POLICY: &str = "UpdatePolicy";
pub const ATTACH_POLICY: &str = "AttachPolicy";
pub const DETACH_POLICY: &str = "DetachPolicy";
pub const DELETE_POLICY: &str = "DeletePolicy";

/// STS GetCallerIdentity: needs no IAM permission (AWS always allows it).
pub const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";

/// Every Organizations read `SdkOrg` makes (`orgctl plan` and `snapshot` need exactly these).
pub const READS: &[&str] = &[
    DESCRIBE_ORGANIZATION,
    LIST_ROOTS,
    LIST_OUS_FOR_PARENT,
    LIST_ACCOUNTS_FOR_PARENT,
    LIST_ACCOUNTS,
    LIST_PARENTS,
    DESCRIBE_OU,
    LIST_TAGS,
    LIST_POLICIES,
    DESCRIBE_POLICY,
    LIST_TARGETS_FOR_POLICY,
    LIST_CREATE_ACCOUNT_STATUS,
    DESCRIBE_CREATE_ACCOUNT_STATUS,
];

/// Every Organizations write `SdkOrg` makes (`orgctl apply` needs these plus [`READS`]).
pub const WRITES: &[&str] = &[
    ENABLE_POLICY_TYPE,
    CREATE_OU,
    UPDATE_OU,
    DELETE_OU,
    CREATE_ACCOUNT,
    MOVE_ACCOUNT,
    CLOSE_ACCOUNT,
    TAG_RESOURCE,
    UNTAG_RESOURCE,
    CREATE_POLICY,
    UPDATE_POLICY,
    ATTACH_POLICY,
    DETACH_POLICY,
    DELETE_POLICY,
];

/// Whether an operation only reads (an Organizations read or STS GetCallerIdentity).
pub fn is_read(operation: &str) -> bool {
    operation == GET_CALLER_IDENTITY || READS.contains(&operation)
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
        want.extend(qualified(WRITES));
        assert_eq!(policy_actions("apply-role.json"), want);
    }

    #[test]
    fn lists_are_disjoint_and_classify() {
        for w in WRITES {
            assert!(!READS.contains(w), "{w}");
            assert!(!is_read(w));
        }
        assert!(READS.iter().all(|r| is_read(r)));
        assert!(is_read(GET_CALLER_IDENTITY));
    }
}

//! The example desired state at the repository root (`desired-state/`) loads cleanly.

use std::path::Path;

use orgctl_model::{PolicyType, TargetRef};

fn example_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../desired-state")
}

#[test]
fn example_desired_state_loads_without_errors_or_warnings() {
    let loaded = match orgctl_manifest::load_dir(&example_dir()) {
        Ok(l) => l,
        Err(e) => panic!("the example does not load:\n{e}"),
    };
    assert!(
        loaded.warnings.is_empty(),
        "warnings: {:?}",
        loaded.warnings
    );
    let d = &loaded.desired;
    assert_eq!(d.organization.management_account_id, "123456789012");
    assert_eq!(
        d.organization.enabled_policy_types,
        [PolicyType::ServiceControlPolicy, PolicyType::TagPolicy].into()
    );
    let ous: Vec<&str> = d.ous.keys().map(String::as_str).collect();
    assert_eq!(
        ous,
        [
            "/Sandbox",
            "/Workloads",
            "/Workloads/Production",
            "/Workloads/Staging"
        ]
    );
    for name in [
        "companyx-staging",
        "companyx-production",
        "companyx-sandbox",
    ] {
        assert!(d.accounts.contains_key(name), "missing account {name}");
    }
    assert_eq!(d.accounts["companyx-staging"].ou, "/Workloads/Staging");
    assert_eq!(
        d.accounts["companyx-production"].email,
        "companyx-production@partner.example"
    );
    let deny = &d.policies["deny-leave-organization"];
    assert_eq!(deny.targets, [TargetRef::Root].into());
    let regions = &d.policies["restrict-regions"];
    assert_eq!(
        regions.targets,
        [TargetRef::Ou("/Workloads".to_owned())].into()
    );
    assert!(regions.content.contains("eu-central-1"));
    assert!(!regions.content.contains(' '), "content is minified");
    assert_eq!(
        d.policies["cost-center-tag"].policy_type,
        PolicyType::TagPolicy
    );

    // The story: the partner is administrator on staging until the contract ends and on
    // production until the launch; an auditor reads the workloads.
    let o = &d.organization;
    assert_eq!(
        o.plan_role.as_deref(),
        Some("arn:aws:iam::123456789012:role/orgctl-plan"),
        "set: orgctl keeps its read role, trusting the plan role of the management account"
    );
    assert!(o.email_domains.contains("companyx.example"));
    assert!(d.ous["/Workloads/Production"].production);
    let names: Vec<&str> = d.grants.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["auditor-readonly", "partner-production", "partner-staging"]
    );
    let staging = &d.grants["partner-staging"];
    assert_eq!(staging.principal, "arn:aws:iam::999988887777:root");
    assert_eq!(staging.role_name, "orgctl-partner-staging");
    assert!(staging.external_id.is_some() && staging.mfa);
    assert_eq!(staging.max_session_secs, 4 * 3600);
    assert!(
        staging
            .managed_policies
            .contains("arn:aws:iam::aws:policy/AdministratorAccess")
    );
    assert!(staging.inline_policies.contains_key("deny-billing"));
    let production = &d.grants["partner-production"];
    assert_eq!(production.expires.as_deref(), Some("2027-03-31"));
    assert_eq!(
        production.access_ends.as_deref(),
        Some("2027-04-01T00:00:00Z")
    );
    assert_eq!(d.grants["auditor-readonly"].role_name, "companyx-audit");
}

/// The example's expiries are valid on the day the tests plan for (2026-11-27) and on the day
/// this was written (the quick start uses the real date): not expired, within 365 days.
#[test]
fn example_grants_pass_the_checks_on_the_test_day() {
    for today in ["2026-11-27", "2026-12-02"] {
        let options = orgctl_manifest::LoadOptions {
            today: Some(today.to_owned()),
        };
        let loaded = match orgctl_manifest::load_dir_with(&example_dir(), &options) {
            Ok(l) => l,
            Err(e) => panic!("the example does not load on {today}:\n{e}"),
        };
        assert!(loaded.warnings.is_empty(), "{today}: {:?}", loaded.warnings);
    }
}

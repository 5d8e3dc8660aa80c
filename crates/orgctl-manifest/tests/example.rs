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
}

//! Loading, merging and mapping desired-state directories (written to temporary directories).

use std::path::Path;

use orgctl_manifest::{LoadError, Loaded, Severity, load_dir};
use orgctl_model::{Lifecycle, PolicyType, TargetRef};

const ORG: &str = "organization:\n  management_account_id: \"123456789012\"\n  enabled_policy_types: [service_control_policy, tag_policy]\n";

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(path, text).expect("write file");
    }
}

fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Loaded, LoadError>) {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), files);
    let result = load_dir(dir.path());
    (dir, result)
}

fn loaded(files: &[(&str, &str)]) -> Loaded {
    match load(files).1 {
        Ok(l) => l,
        Err(e) => panic!("does not load:\n{e}"),
    }
}

fn errors(files: &[(&str, &str)]) -> Vec<orgctl_manifest::Diagnostic> {
    match load(files).1 {
        Ok(_) => panic!("loaded, but should not"),
        Err(LoadError::Invalid(d)) => d,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn merges_files_and_applies_defaults() {
    let l = loaded(&[
        ("organization.yaml", ORG),
        (
            "ous/tree.yml",
            "ous:\n  - path: /Workloads\n  - path: /Workloads/Staging\n    id: ou-ab12-cd34ef56\n",
        ),
        (
            "accounts.yaml",
            "# comment\naccounts:\n  - name: staging\n    email: staging@example.com\n    ou: /Workloads/Staging\n    tags: {owner: team, enabled: yes}\n",
        ),
        ("empty.yaml", ""),
        ("comments-only.yaml", "# nothing here\n# at all\n"),
    ]);
    let d = &l.desired;
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(d.organization.policies_per_target_limit, 5);
    assert!(d.organization.protected_accounts.is_empty());
    let staging_ou = &d.ous["/Workloads/Staging"];
    assert_eq!(staging_ou.name, "Staging");
    assert_eq!(staging_ou.id.as_deref(), Some("ou-ab12-cd34ef56"));
    assert!(staging_ou.full_aws_access);
    assert!(staging_ou.source.file.ends_with("ous/tree.yml"));
    assert_eq!(staging_ou.source.line, 3);
    let a = &d.accounts["staging"];
    assert_eq!(a.lifecycle, Lifecycle::Active);
    assert!(a.full_aws_access);
    assert_eq!(a.id, None);
    // YAML 1.2 booleans only: `yes` stays text.
    assert_eq!(a.tags["enabled"], "yes");
    // Items point at their `- `.
    assert_eq!((a.source.line, a.source.column), (3, 3));
    assert!(a.source.file.ends_with("accounts.yaml"));
}

#[test]
fn files_are_named_as_the_directory_joined_with_their_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            ("organization.yaml", ORG),
            (
                "sub/accounts.yaml",
                "accounts:\n  - name: a\n    email: bad\n    ou: /\n",
            ),
        ],
    );
    let err = load_dir(dir.path()).expect_err("invalid");
    let d = &err.diagnostics()[0];
    assert_eq!(
        d.file,
        dir.path().join("sub/accounts.yaml").display().to_string()
    );
    assert_eq!((d.line, d.column), (3, 12));
    assert_eq!(d.field, "accounts[0].email");
}

#[test]
fn maps_targets_and_canonical_content() {
    let l = loaded(&[
        ("organization.yaml", ORG),
        ("ous.yaml", "ous:\n  - path: /Workloads\n"),
        (
            "accounts.yaml",
            "accounts:\n  - name: staging\n    email: staging@example.com\n    ou: /Workloads\n",
        ),
        (
            "policies/doc.json",
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ { \"Effect\": \"Deny\", \"Action\": \"x:Y\", \"Resource\": \"*\" } ]\n}\n",
        ),
        (
            "policies/policies.yaml",
            "policies:\n\
             \x20 - name: from-file\n    type: service_control_policy\n    document_file: doc.json\n    targets: [root, /Workloads, staging]\n\
             \x20 - name: from-mapping\n    type: service_control_policy\n    document:\n      Version: \"2012-10-17\"\n      Statement:\n        - {Resource: \"*\", Action: \"x:Y\", Effect: Deny}\n    targets: [\"/\"]\n\
             \x20 - name: from-string\n    type: service_control_policy\n    description: inline JSON\n    document: '{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"x:Y\",\"Resource\":\"*\"}],\"Version\":\"2012-10-17\"}'\n",
        ),
    ]);
    let p = &l.desired.policies;
    let expected =
        r#"{"Statement":[{"Action":"x:Y","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"}"#;
    for name in ["from-file", "from-mapping", "from-string"] {
        assert_eq!(p[name].content, expected, "{name}");
        assert_eq!(p[name].policy_type, PolicyType::ServiceControlPolicy);
    }
    assert_eq!(
        p["from-file"].targets,
        [
            TargetRef::Root,
            TargetRef::Ou("/Workloads".to_owned()),
            TargetRef::Account("staging".to_owned())
        ]
        .into()
    );
    assert_eq!(p["from-mapping"].targets, [TargetRef::Root].into());
    assert!(p["from-string"].targets.is_empty());
    assert_eq!(p["from-string"].description, "inline JSON");
    assert_eq!(p["from-file"].description, "");
}

#[test]
fn resolves_protected_accounts_to_ids() {
    let l = loaded(&[
        (
            "organization.yaml",
            "organization:\n  management_account_id: \"123456789012\"\n  protected_accounts: [production, \"999999999999\"]\n",
        ),
        (
            "accounts.yaml",
            "accounts:\n  - name: production\n    email: production@example.com\n    ou: /\n    id: \"210987654321\"\n",
        ),
    ]);
    assert_eq!(
        l.desired.organization.protected_accounts,
        ["210987654321".to_owned(), "999999999999".to_owned()].into()
    );
}

#[test]
fn duplicates_name_both_places_across_files() {
    let diags = errors(&[
        (
            "a.yaml",
            &format!("{ORG}accounts:\n  - name: x\n    email: one@example.com\n    ou: /\n"),
        ),
        (
            "b.yaml",
            "accounts:\n  - name: y\n    email: ONE@example.com\n    ou: /\n",
        ),
    ]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert!(d.file.ends_with("b.yaml"));
    assert_eq!((d.line, d.column), (3, 12));
    let related = d.related.as_ref().expect("related place");
    assert!(related.file.ends_with("a.yaml"));
    assert_eq!((related.line, related.column), (6, 12));
    assert!(d.to_string().contains(" (see also "), "{d}");
}

#[test]
fn reports_every_broken_item_without_cascading() {
    // The first OU cannot be read; the account in it must not be reported as in an undeclared
    // OU (the unreadable item may be that OU), but the other problems are all reported.
    let diags = errors(&[
        ("organization.yaml", ORG),
        (
            "ous.yaml",
            "ous:\n  - path: /Workloads\n    colour: blue\n  - path: Sandbox\n",
        ),
        (
            "accounts.yaml",
            "accounts:\n  - name: a\n    email: a@example.com\n    ou: /Workloads\n  - name: b\n    email: b@example\n    ou: /\n  - name: c\n    email: c@example.com\n    ou: /\n    lifecycle: 3\n",
        ),
    ]);
    let fields: Vec<&str> = diags.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "accounts[1].email",
            "accounts[2].lifecycle",
            "ous[0].colour",
            "ous[1].path"
        ],
        "{diags:#?}"
    );
    assert!(diags.iter().all(|d| d.severity == Severity::Error));
}

#[test]
fn organization_errors_do_not_claim_it_is_missing() {
    let diags = errors(&[(
        "organization.yaml",
        "organization:\n  management_account_id: \"123456789012\"\n  color: red\n",
    )]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].field, "organization.color");
}

#[test]
fn harmless_repetitions_are_warnings() {
    let l = loaded(&[
        (
            "organization.yaml",
            "organization:\n  management_account_id: \"123456789012\"\n  enabled_policy_types: [tag_policy, tag_policy]\n",
        ),
        (
            "policies.yaml",
            "policies:\n  - name: t\n    type: tag_policy\n    document: {tags: {}}\n    targets: [root, root]\n",
        ),
    ]);
    assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
    assert!(l.warnings.iter().all(|w| w.severity == Severity::Warning));
    assert!(l.warnings[0].to_string().contains(": warning: "));
}

#[test]
fn full_aws_access_counts_against_the_limit_only_where_it_stays() {
    // Five SCPs on an OU that dropped FullAWSAccess fit a limit of 5; on the root they do not.
    let scps: String = (1..=5)
        .map(|i| format!("  - name: p{i}\n    type: service_control_policy\n    document: {{Version: \"2012-10-17\", Statement: []}}\n    targets: [/Locked]\n"))
        .collect();
    let l = loaded(&[
        ("organization.yaml", ORG),
        (
            "ous.yaml",
            "ous:\n  - path: /Locked\n    full_aws_access: false\n",
        ),
        ("policies.yaml", &format!("policies:\n{scps}")),
    ]);
    assert!(!l.desired.ous["/Locked"].full_aws_access);
    let diags = errors(&[
        ("organization.yaml", ORG),
        (
            "policies.yaml",
            &format!("policies:\n{}", scps.replace("/Locked", "root")),
        ),
    ]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0].message.contains("root would have 6"),
        "{}",
        diags[0]
    );
}

#[test]
fn no_yaml_files_is_its_own_error() {
    let (_dir, result) = load(&[
        ("README.md", "# not yaml\n"),
        (".hidden/x.yaml", "organization: {}\n"),
    ]);
    assert!(
        matches!(result, Err(LoadError::NoFiles { .. })),
        "{result:?}"
    );
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let result = load_dir(&dir.path().join("nope"));
    assert!(matches!(result, Err(LoadError::Io { .. })), "{result:?}");
}

#[test]
fn invalid_display_lists_one_diagnostic_per_line() {
    let (_dir, result) = load(&[(
        "all.yaml",
        "organization:\n  management_account_id: \"1\"\naccounts:\n  - name: root\n    email: x\n    ou: /\n",
    )]);
    let err = result.expect_err("invalid");
    let text = err.to_string();
    assert_eq!(text.lines().count(), err.diagnostics().len());
    assert_eq!(err.diagnostics().len(), 3, "{text}");
    let mut sorted = err.diagnostics().to_vec();
    sorted.sort_by_key(|d| (d.line, d.column));
    assert_eq!(sorted, err.diagnostics(), "diagnostics are sorted by place");
}

/// A hundred thousand accounts over a thousand OUs load (run with `--ignored --release`;
/// loading is linear, so this takes seconds, not hours).
#[test]
#[ignore = "large; run explicitly with --release"]
fn a_hundred_thousand_accounts_load() {
    let mut ous = String::from("ous:\n");
    for i in 0..1000 {
        ous.push_str(&format!(
            "  - path: /Unit{i:04}\n    tags: {{cost-center: cc{i}}}\n"
        ));
    }
    let mut accounts = String::from("accounts:\n");
    for i in 0..100_000 {
        accounts.push_str(&format!(
            "  - name: account-{i:06}\n    email: account-{i:06}@example.com\n    ou: /Unit{:04}\n    id: \"{:012}\"\n    tags: {{cost-center: cc{i}, owner: team-{}}}\n",
            i % 1000,
            100_000_000_000u64 + i,
            i % 97
        ));
    }
    let started = std::time::Instant::now();
    let l = loaded(&[
        ("organization.yaml", ORG),
        ("ous.yaml", &ous),
        ("accounts.yaml", &accounts),
    ]);
    eprintln!(
        "loaded {} accounts in {:?}",
        l.desired.accounts.len(),
        started.elapsed()
    );
    assert_eq!(l.desired.accounts.len(), 100_000);
}

#[test]
fn items_point_at_their_dash_or_their_flow_mapping() {
    let diags = errors(&[(
        "a.yaml",
        "organization: {management_account_id: \"123456789012\"}\naccounts: [{name: a, ou: /}]\nous:\n-   path: /A\n    tags: []\n",
    )]);
    let places: Vec<(u32, u32, &str)> = diags
        .iter()
        .map(|d| (d.line, d.column, d.field.as_str()))
        .collect();
    assert_eq!(
        places,
        [(2, 12, "accounts[0].email"), (5, 11, "ous[0].tags")],
        "{diags:#?}"
    );
    let l = loaded(&[(
        "a.yaml",
        "organization: {management_account_id: \"123456789012\"}\nous:\n-   path: /A\n- {path: /B}\n",
    )]);
    let source = |p: &str| (l.desired.ous[p].source.line, l.desired.ous[p].source.column);
    assert_eq!(source("/A"), (3, 1));
    assert_eq!(source("/B"), (4, 1));
}

#[test]
fn inline_yaml_documents_keep_yaml_1_2_scalars() {
    let l = loaded(&[
        ("organization.yaml", ORG),
        (
            "policies.yaml",
            "policies:\n  - name: p\n    type: service_control_policy\n    document:\n      Version: 2012-10-17\n      Statement:\n        - Effect: Deny\n          Action: ec2:*\n          Resource: '*'\n          Condition: {Bool: {aws:SecureTransport: false}, NumericLessThan: {s3:TlsVersion: 1.2}}\n",
        ),
    ]);
    assert_eq!(
        l.desired.policies["p"].content,
        r#"{"Statement":[{"Action":"ec2:*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:TlsVersion":1.2}},"Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"}"#
    );
}

#[test]
fn several_yaml_documents_in_one_file_are_refused() {
    let diags = errors(&[
        ("organization.yaml", ORG),
        ("two.yaml", "ous: []\n---\naccounts: []\n"),
    ]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].file.ends_with("two.yaml"));
    assert_eq!(diags[0].line, 3);
    assert!(
        diags[0].message.contains("one YAML document"),
        "{}",
        diags[0]
    );
}

/// OUs and accounts the grant tests share.
const GRANT_WORLD: &str = "ous:\n  - path: /Workloads\n  - path: /Workloads/Production\n    production: true\naccounts:\n  - name: prod\n    email: prod@companyx.example\n    ou: /Workloads/Production\n    id: \"222222222222\"\n  - name: tools\n    email: tools@companyx.example\n    ou: /\n    id: \"333333333333\"\n";

#[test]
fn a_grant_maps_to_arns_seconds_and_the_end_of_access() {
    let org = format!(
        "{ORG}  member_role: team/Admin\n  plan_role: arn:aws:iam::123456789012:role/ci/orgctl-plan\n  email_domains: [CompanyX.example]\n"
    );
    let grants = "grants:\n  - name: auditor\n    partner: Audit & Co\n    owner: security\n    reason: audit\n    principal: \"999988887777\"\n    external_id: audit-2027-b41e\n    mfa: true\n    max_session: 1h30m\n    permissions:\n      managed: [ReadOnlyAccess, job-function/ViewOnlyAccess]\n      inline:\n        - name: deny\n          document: '{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Deny\", \"Action\": \"kms:Decrypt\", \"Resource\": \"*\"}}'\n      permissions_boundary: arn:aws:iam::123456789012:policy/boundary\n    targets: [/Workloads, tools]\n    exclude: [prod, \"444444444444\"]\n    expires: 2027-02-28\n  - name: tools-deploy\n    partner: Platform\n    owner: platform\n    ticket: OPS-7\n    principal: arn:aws:iam::333333333333:role/deploy\n    permissions:\n      managed: [PowerUserAccess]\n    targets: [tools]\n";
    let l = loaded(&[
        ("organization.yaml", &org),
        ("world.yaml", GRANT_WORLD),
        ("grants.yaml", grants),
    ]);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let o = &l.desired.organization;
    assert_eq!(o.member_role, "team/Admin");
    assert_eq!(
        o.plan_role.as_deref(),
        Some("arn:aws:iam::123456789012:role/ci/orgctl-plan")
    );
    assert_eq!(o.email_domains, ["companyx.example".to_owned()].into());
    assert!(l.desired.ous["/Workloads/Production"].production);
    assert!(!l.desired.ous["/Workloads"].production);

    let g = &l.desired.grants["auditor"];
    assert_eq!(g.principal, "arn:aws:iam::999988887777:root");
    assert_eq!(g.principal_account, "999988887777");
    assert_eq!(g.ticket, "audit");
    assert_eq!(g.max_session_secs, 5400);
    assert_eq!(g.role_name, "orgctl-auditor");
    assert_eq!(g.expires.as_deref(), Some("2027-02-28"));
    assert_eq!(g.access_ends.as_deref(), Some("2027-03-01T00:00:00Z"));
    assert_eq!(
        g.managed_policies,
        [
            "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned(),
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".to_owned()
        ]
        .into()
    );
    assert_eq!(
        g.inline_policies["deny"],
        r#"{"Statement":{"Action":"kms:Decrypt","Effect":"Deny","Resource":"*"},"Version":"2012-10-17"}"#
    );
    assert_eq!(
        g.permissions_boundary.as_deref(),
        Some("arn:aws:iam::123456789012:policy/boundary")
    );
    assert_eq!(
        g.targets,
        [
            orgctl_model::GrantTarget::Account("tools".to_owned()),
            orgctl_model::GrantTarget::Ou("/Workloads".to_owned())
        ]
        .into()
    );
    assert_eq!(g.exclude_accounts, ["prod".to_owned()].into());
    assert_eq!(g.exclude_ids, ["444444444444".to_owned()].into());
    assert!(
        g.trust_policy()
            .contains("\"sts:ExternalId\":\"audit-2027-b41e\"")
    );

    // An internal principal (an account the YAML lists) needs neither expiry nor external id.
    let t = &l.desired.grants["tools-deploy"];
    assert_eq!(t.principal_account, "333333333333");
    assert_eq!((t.expires.as_ref(), t.external_id.as_ref()), (None, None));
    assert_eq!(t.max_session_secs, 3600);
    assert!(!t.mfa);
}

#[test]
fn expiries_are_judged_against_the_given_day() {
    let grant = |expires: &str| {
        format!(
            "grants:\n  - name: p\n    partner: P\n    owner: o\n    ticket: T-1\n    principal: \"999988887777\"\n    external_id: abcdefgh-1\n    permissions:\n      managed: [ReadOnlyAccess]\n    targets: [tools]\n    expires: {expires}\n"
        )
    };
    let run = |expires: &str, today: &str| {
        let dir = tempfile::tempdir().expect("temp dir");
        write(
            dir.path(),
            &[
                ("organization.yaml", ORG),
                ("world.yaml", GRANT_WORLD),
                ("grants.yaml", &grant(expires)),
            ],
        );
        orgctl_manifest::load_dir_with(
            dir.path(),
            &orgctl_manifest::LoadOptions {
                today: Some(today.to_owned()),
            },
        )
    };
    // The last day is still valid; the day after, a warning; 366 days ahead, an error.
    let ok = run("2026-12-02", "2026-12-02").expect("loads");
    assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
    let expired = run("2026-12-01", "2026-12-02").expect("loads with a warning");
    assert_eq!(expired.warnings.len(), 1);
    assert!(
        expired.warnings[0]
            .message
            .contains("expired on 2026-12-01")
    );
    assert!(run("2027-12-02", "2026-12-02").is_ok());
    let far = run("2027-12-03", "2026-12-02").expect_err("too far");
    assert!(far.to_string().contains("rule `max-grant-days`"), "{far}");
    // Switched off with a reason, it passes.
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            ("organization.yaml", ORG),
            ("world.yaml", GRANT_WORLD),
            ("grants.yaml", &grant("2029-01-01")),
            (
                "checks.yaml",
                "checks:\n  disable:\n    - rule: max-grant-days\n      reason: multi-year contract (LEGAL-9)\n",
            ),
        ],
    );
    let options = orgctl_manifest::LoadOptions {
        today: Some("2026-12-02".to_owned()),
    };
    assert!(orgctl_manifest::load_dir_with(dir.path(), &options).is_ok());
    // Not a day: refused before anything is read.
    let bad = orgctl_manifest::LoadOptions {
        today: Some("2026-02-31".to_owned()),
    };
    assert!(matches!(
        orgctl_manifest::load_dir_with(dir.path(), &bad),
        Err(LoadError::BadToday(_))
    ));
}

/// `n` tags `key-00: value`, … in YAML block form, indented for an item's `tags:`.
fn many_tags(n: usize) -> String {
    (0..n)
        .map(|i| format!("      key-{i:02}: value\n"))
        .collect()
}

#[test]
fn the_tag_limit_leaves_room_for_what_orgctl_adds() {
    // AWS allows 50 tags per resource; orgctl adds its record (`orgctl:applied`) everywhere,
    // `managed-by` on OUs and policies, and its roles record (`orgctl:roles`) on accounts.
    let fits = |ou_tags: usize, account_tags: usize| {
        let ous = format!("ous:\n  - path: /A\n    tags:\n{}", many_tags(ou_tags));
        let accounts = format!(
            "accounts:\n  - name: a\n    email: a@example.com\n    ou: /A\n    tags:\n{}",
            many_tags(account_tags)
        );
        load(&[
            ("organization.yaml", ORG),
            ("ous.yaml", &ous),
            ("accounts.yaml", &accounts),
        ])
        .1
        .is_ok()
    };
    assert!(fits(48, 48));
    assert!(!fits(49, 48), "an OU keeps two tags for orgctl");
    assert!(!fits(48, 49), "an account keeps two tags for orgctl");
}

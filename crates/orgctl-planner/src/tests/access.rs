//! Issue 6: no plan, and no prefix of one, widens access; orgctl leaves what it does not manage
//! alone.

use orgctl_model::{LivePolicy, PolicyType, Tags, TargetRef};

use super::{D, DENY, L, MGMT, assert_error_saying, dump, index_of, managed, run};
use crate::Action;

const ALLOW_S3: &str =
    r#"{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#;

fn tag_policy(id: &str, name: &str, targets: &[&str]) -> LivePolicy {
    LivePolicy {
        id: id.into(),
        name: name.into(),
        policy_type: PolicyType::TagPolicy,
        description: String::new(),
        content: r#"{"tags":{"team":{"tag_key":{"@@assign":"team"}}}}"#.into(),
        aws_managed: false,
        tags: Tags::new(),
        targets: targets.iter().map(|t| (*t).to_owned()).collect(),
    }
}

/// `/Old/Team` (pinned by id) moves under `/New`, with `guard` (an SCP orgctl does not manage)
/// and `team-tags` (a tag policy orgctl does not manage) attached to it.
fn replaced_team_with_unmanaged_policies() -> (D, L) {
    let d = D::new()
        .ou("/New", None)
        .ou("/New/Team", Some("ou-team"))
        .account("a", "a@x.example", "/New/Team", Tags::new());
    let mut l = L::new()
        .ou("ou-old", "Old", "r-root", managed())
        .ou("ou-team", "Team", "ou-old", managed())
        .account("222222222222", "a", "a@x.example", "ou-team", Tags::new())
        .scp("p-guard", "guard", DENY, Tags::new(), &["ou-team"]);
    l.0.organization
        .enabled_policy_types
        .insert(PolicyType::TagPolicy);
    l.0.policies
        .push(tag_policy("p-tags", "team-tags", &["ou-team"]));
    (d, l)
}

/// Issue 6, case 1.
#[test]
fn a_replaced_ou_carries_the_policies_orgctl_does_not_manage_before_accounts_move() {
    let (d, l) = replaced_team_with_unmanaged_policies();
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    let moved = index_of(&p, "account a", Action::Move);
    for address in [
        "attachment scp/guard -> /New/Team",
        "attachment tag/team-tags -> /New/Team",
    ] {
        assert!(
            index_of(&p, address, Action::Attach) < moved,
            "{}",
            dump(&p)
        );
    }
    let replace = &p.changes[index_of(&p, "ou /New/Team", Action::Replace)];
    assert!(replace.is_access_change());
    let note = p
        .notes
        .iter()
        .find(|n| n.address == "policy scp/guard")
        .expect("a note on guard");
    assert!(
        !note.message.contains("with its") && note.message.contains("/New/Team"),
        "{}",
        note.message
    );
}

/// Issue 6, case 1: the carried policies must fit under the per-target limit.
#[test]
fn a_replacement_that_cannot_carry_every_policy_is_an_error() {
    let (mut d, mut l) = replaced_team_with_unmanaged_policies();
    for i in 1..=3 {
        l = l.scp(
            &format!("p-u{i}"),
            &format!("u{i}"),
            DENY,
            Tags::new(),
            &["ou-team"],
        );
    }
    // FullAWSAccess + guard + u1..u3 = 5, and the YAML adds one more.
    d = d.scp("mine", DENY, &[TargetRef::Ou("/New/Team".into())]);
    let p = run(&d, &l);
    assert_error_saying(&p, &["more than 5", "replaces"]);
}

/// `/A` at the per-target limit: FullAWSAccess and the denies s1..s4.
fn ou_at_the_limit() -> L {
    let mut l = L::new().ou("ou-a", "A", "r-root", managed());
    for i in 1..=4 {
        l = l.scp(
            &format!("p-{i}"),
            &format!("s{i}"),
            DENY,
            managed(),
            &["ou-a"],
        );
    }
    l
}

/// Issue 6, case 3: no deny leaves a target while the target still grants anything; room comes
/// from FullAWSAccess, set aside until the swap is done (the OU grants nothing meanwhile).
#[test]
fn at_the_per_target_limit_full_aws_access_makes_room_and_no_deny_goes_first() {
    let mut d = D::new().ou("/A", None);
    for i in [1, 2, 3, 5] {
        d = d.scp(&format!("s{i}"), DENY, &[TargetRef::Ou("/A".into())]);
    }
    let p = run(&d, &ou_at_the_limit());
    assert_eq!(
        dump(&p),
        "create policy scp/s5\n\
         detach attachment scp/FullAWSAccess -> /A\n\
         attach attachment scp/s5 -> /A\n\
         detach attachment scp/s4 -> /A\n\
         attach attachment scp/FullAWSAccess -> /A\n\
         delete policy scp/s4"
    );
}

/// Issue 6, case 3: a policy that only grants is the first to make room.
#[test]
fn at_the_per_target_limit_a_policy_that_only_grants_makes_room_first() {
    let mut d = D::new()
        .ou("/A", None)
        .scp("allow-s3", ALLOW_S3, &[TargetRef::Ou("/A".into())]);
    for i in [1, 2, 3, 5] {
        d = d.scp(&format!("s{i}"), DENY, &[TargetRef::Ou("/A".into())]);
    }
    if let Some(ou) = d.0.ous.get_mut("/A") {
        ou.full_aws_access = false;
    }
    let p = run(&d, &ou_at_the_limit());
    let detach_full = index_of(&p, "attachment scp/FullAWSAccess -> /A", Action::Detach);
    let detach_s4 = index_of(&p, "attachment scp/s4 -> /A", Action::Detach);
    let attach_s5 = index_of(&p, "attachment scp/s5 -> /A", Action::Attach);
    let attach_allow = index_of(&p, "attachment scp/allow-s3 -> /A", Action::Attach);
    assert!(detach_full < attach_s5, "{}", dump(&p));
    // s4 goes only once nothing on /A grants, and the new grant comes after the new deny.
    assert!(
        detach_full < detach_s4 && attach_s5 < attach_allow && detach_s4 < attach_allow,
        "{}",
        dump(&p)
    );
}

/// `a` sits in `/Strict`; the YAML moves it to `/Loose`, gives it an SCP of its own and takes
/// another one away.
fn account_moving_to_a_looser_ou() -> (D, L) {
    let d = D::new()
        .ou("/Strict", None)
        .ou("/Loose", None)
        .account("a", "a@x.example", "/Loose", Tags::new())
        .scp("own", DENY, &[TargetRef::Account("a".into())])
        .scp("strict", DENY, &[TargetRef::Ou("/Strict".into())])
        .scp("old-own", DENY, &[]);
    let l = L::new()
        .ou("ou-s", "Strict", "r-root", managed())
        .ou("ou-l", "Loose", "r-root", managed())
        .account("222222222222", "a", "a@x.example", "ou-s", Tags::new())
        .scp("p-own", "own", DENY, managed(), &[])
        .scp("p-strict", "strict", DENY, managed(), &["ou-s"])
        .scp("p-old", "old-own", DENY, managed(), &["222222222222"]);
    (d, l)
}

/// Issue 6, case 4.
#[test]
fn an_existing_account_gets_its_scps_before_it_moves_and_loses_them_after() {
    let (d, l) = account_moving_to_a_looser_ou();
    let p = run(&d, &l);
    let moved = index_of(&p, "account a", Action::Move);
    assert!(
        index_of(&p, "attachment scp/own -> account a", Action::Attach) < moved,
        "{}",
        dump(&p)
    );
    assert!(
        index_of(&p, "attachment scp/old-own -> account a", Action::Detach) > moved,
        "{}",
        dump(&p)
    );
}

/// Issue 6, case 5: orgctl never touches what it does not manage.
#[test]
fn an_account_dropped_from_the_yaml_keeps_its_policies_and_the_plan_says_so() {
    let d = D::new().scp("guard", DENY, &[]);
    let l = L::new()
        .account("222222222222", "a", "a@x.example", "r-root", Tags::new())
        .scp("p-guard", "guard", DENY, managed(), &["222222222222"])
        .scp("p-gone", "gone", DENY, managed(), &["222222222222"]);
    let p = run(&d, &l);
    assert!(p.changes.is_empty(), "{}", dump(&p));
    let note = p
        .notes
        .iter()
        .find(|n| n.address == "account a")
        .expect("a note on a");
    assert!(
        note.message.contains("scp/guard") && note.message.contains("scp/gone"),
        "{}",
        note.message
    );
    // `gone` left the YAML but stays attached to `a`: it is not deleted, and a warning says why.
    assert!(
        p.warnings
            .iter()
            .any(|w| w.address == "policy scp/gone" && w.message.contains("account a")),
        "{:?}",
        p.warnings
    );
}

/// Issue 6, case 9: enabling SCPs attaches FullAWSAccess to the root and every OU and account.
#[test]
fn enabling_scps_is_planned_with_full_aws_access_everywhere() {
    let mut l = L::new().ou("ou-a", "A", "r-root", managed());
    l.0.organization.enabled_policy_types.clear();
    l.0.policies[0].targets = vec!["r-root".into(), MGMT.into()];
    let mut d = D::new().ou("/A", None);
    for i in 1..=5 {
        d = d.scp(&format!("s{i}"), DENY, &[TargetRef::Ou("/A".into())]);
    }
    if let Some(ou) = d.0.ous.get_mut("/A") {
        ou.full_aws_access = false;
    }
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    let detach_full = index_of(&p, "attachment scp/FullAWSAccess -> /A", Action::Detach);
    assert!(
        detach_full < index_of(&p, "attachment scp/s5 -> /A", Action::Attach),
        "{}",
        dump(&p)
    );
}

/// Issue 6, case 16: FullAWSAccess on the root is part of the desired state.
#[test]
fn full_aws_access_detached_from_the_root_out_of_band_is_a_change() {
    let mut l = L::new().scp("p-x", "x", DENY, Tags::new(), &["r-root"]);
    l.0.policies[0].targets.clear();
    let p = run(&D::new(), &l);
    assert_eq!(
        dump(&p),
        "attach attachment scp/FullAWSAccess -> root",
        "{}",
        dump(&p)
    );
}

/// Issue 6, section 3: a detachment says whether the SCP still applies through an ancestor.
#[test]
fn a_detached_scp_that_still_applies_through_the_ou_says_so() {
    let d = D::new()
        .ou("/A", None)
        .account("a", "a@x.example", "/A", Tags::new())
        .scp("guard", DENY, &[TargetRef::Ou("/A".into())]);
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .account("222222222222", "a", "a@x.example", "ou-a", Tags::new())
        .scp(
            "p-guard",
            "guard",
            DENY,
            managed(),
            &["ou-a", "222222222222"],
        );
    let p = run(&d, &l);
    let detach = &p.changes[index_of(&p, "attachment scp/guard -> account a", Action::Detach)];
    assert!(
        detach.reason.contains("still applies") && detach.reason.contains("/A"),
        "{}",
        detach.reason
    );
    assert_eq!(
        detach.after,
        Some(serde_json::json!({"applies_through": "/A"}))
    );
}

/// Issue 6, case 3: a policy whose YAML document only grants but whose live one denies counts as
/// a deny when it makes room (its update may run after the attachments).
#[test]
fn at_the_per_target_limit_a_policy_denying_in_aws_is_not_taken_for_one_that_only_grants() {
    let l = ou_at_the_limit();
    // s4 denies in AWS; the YAML keeps it as an allow-list but takes it off /A.
    let mut d = D::new().ou("/A", None).scp("s4", ALLOW_S3, &[]);
    for i in [1, 2, 3, 5] {
        d = d.scp(&format!("s{i}"), DENY, &[TargetRef::Ou("/A".into())]);
    }
    let p = run(&d, &l);
    assert!(
        index_of(&p, "attachment scp/s4 -> /A", Action::Detach)
            > index_of(&p, "attachment scp/s5 -> /A", Action::Attach),
        "{}",
        dump(&p)
    );
}

/// Issue 6, case 16: `root_full_aws_access: false` keeps an allow-list at the root (orgctl then
/// detaches FullAWSAccess there, after the allow-list is attached).
#[test]
fn an_allow_list_at_the_root_replaces_full_aws_access_when_the_yaml_says_so() {
    let mut d = D::new().scp("allow-s3", ALLOW_S3, &[TargetRef::Root]);
    d.0.organization.root_full_aws_access = false;
    let p = run(&d, &L::new());
    assert_eq!(
        dump(&p),
        "create policy scp/allow-s3\n\
         attach attachment scp/allow-s3 -> root\n\
         detach attachment scp/FullAWSAccess -> root"
    );
}

/// Issue 6, case 5, for OUs: an OU outside the YAML keeps orgctl's policies, and the note says so.
#[test]
fn an_ou_outside_the_yaml_keeps_orgctls_policies_and_the_note_says_so() {
    let d = D::new().scp("guard", DENY, &[]);
    let l = L::new().ou("ou-x", "X", "r-root", Tags::new()).scp(
        "p-guard",
        "guard",
        DENY,
        managed(),
        &["ou-x"],
    );
    let p = run(&d, &l);
    assert!(p.changes.is_empty(), "{}", dump(&p));
    let note = p
        .notes
        .iter()
        .find(|n| n.address == "ou /X")
        .expect("a note");
    assert!(note.message.contains("scp/guard"), "{}", note.message);
}

/// Issue 6, case 3: a policy that grants and denies is not set aside while another one grants
/// (its denies would go); with no safe way to make room, the plan says so.
#[test]
fn at_the_per_target_limit_no_safe_room_is_a_plan_error() {
    let mixed = r#"{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"},{"Action":"ec2:*","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"}"#;
    let mut l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .scp("p-m1", "m1", mixed, managed(), &["ou-a"])
        .scp("p-m2", "m2", mixed, managed(), &["ou-a"]);
    for i in 1..=3 {
        l = l.scp(
            &format!("p-{i}"),
            &format!("s{i}"),
            DENY,
            managed(),
            &["ou-a"],
        );
    }
    // No FullAWSAccess on /A: m1, m2 and s1..s3 fill it.
    l.0.policies[0].targets.retain(|t| t != "ou-a");
    let mut d = D::new()
        .ou("/A", None)
        .scp("m1", mixed, &[TargetRef::Ou("/A".into())])
        .scp("m2", mixed, &[TargetRef::Ou("/A".into())]);
    for i in [1, 2, 4] {
        d = d.scp(&format!("s{i}"), DENY, &[TargetRef::Ou("/A".into())]);
    }
    if let Some(ou) = d.0.ous.get_mut("/A") {
        ou.full_aws_access = false;
    }
    let p = run(&d, &l);
    assert_error_saying(&p, &["per-target limit", "scp/s3"]);
}

/// What a generated policy's statements do.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Deny,
    Allow,
    Mixed,
}

const MIXED: &str = r#"{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"},{"Action":"ec2:*","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"}"#;

impl Kind {
    fn document(self) -> &'static str {
        match self {
            Kind::Deny => DENY,
            Kind::Allow => ALLOW_S3,
            Kind::Mixed => MIXED,
        }
    }
    fn grants(self) -> bool {
        !matches!(self, Kind::Deny)
    }
    fn denies(self) -> bool {
        !matches!(self, Kind::Allow)
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Issue 6, case 3, as a property over one OU: whatever is attached and wanted, every step
    /// of the plan stays within the limit and keeps an SCP; no policy that denies leaves the OU
    /// while the OU still grants and a new policy is still to come; the plan ends at what the
    /// YAML wants, or has an error that says why it cannot.
    #[test]
    fn swaps_on_one_target_never_widen_access(
        policies in proptest::collection::vec(
            (
                proptest::prop_oneof![
                    proptest::strategy::Just(Kind::Deny),
                    proptest::strategy::Just(Kind::Allow),
                    proptest::strategy::Just(Kind::Mixed),
                ],
                proptest::bool::ANY,
                proptest::bool::ANY,
            ),
            0..7,
        ),
        full_attached in proptest::bool::ANY,
        full_wanted in proptest::bool::ANY,
    ) {
        const LIMIT: usize = 5;
        let full = "FullAWSAccess";
        let mut kinds: std::collections::BTreeMap<String, Kind> = Default::default();
        kinds.insert(full.to_owned(), Kind::Allow);
        let mut l = L::new().ou("ou-a", "A", "r-root", managed());
        if !full_attached {
            l.0.policies[0].targets.retain(|t| t != "ou-a");
        }
        let mut d = D::new().ou("/A", None);
        if let Some(ou) = d.0.ous.get_mut("/A") {
            ou.full_aws_access = full_wanted;
        }
        let mut have = std::collections::BTreeSet::new();
        let mut want = std::collections::BTreeSet::new();
        if full_attached {
            have.insert(full.to_owned());
        }
        if full_wanted {
            want.insert(full.to_owned());
        }
        for (i, (kind, attached, wanted)) in policies.iter().enumerate() {
            let name = format!("p{i}");
            kinds.insert(name.clone(), *kind);
            let live_targets: &[&str] = if *attached { &["ou-a"] } else { &[] };
            l = l.scp(&format!("p-{i}"), &name, kind.document(), managed(), live_targets);
            let targets = if *wanted { vec![TargetRef::Ou("/A".into())] } else { vec![] };
            d = d.scp(&name, kind.document(), &targets);
            if *attached {
                have.insert(name.clone());
            }
            if *wanted {
                want.insert(name);
            }
        }
        // AWS holds 1 to LIMIT SCPs on a target.
        proptest::prop_assume!(!have.is_empty() && have.len() <= LIMIT);
        let p = run(&d, &l);
        if !p.errors.is_empty() {
            for e in &p.errors {
                proptest::prop_assert!(
                    e.message.contains("limit") || e.message.contains("without any service control policy"),
                    "{}", dump(&p)
                );
            }
            return Ok(());
        }
        let name_of = |address: &str| -> Option<String> {
            address
                .strip_prefix("attachment scp/")?
                .strip_suffix(" -> /A")
                .map(str::to_owned)
        };
        let mut state = have.clone();
        let mut to_come: std::collections::BTreeSet<String> =
            want.difference(&have).cloned().collect();
        for c in &p.changes {
            let Some(name) = name_of(&c.address) else { continue };
            let kind = kinds[&name];
            match c.action {
                Action::Attach => {
                    state.insert(name.clone());
                    to_come.remove(&name);
                }
                Action::Detach => {
                    state.remove(&name);
                    if kind.denies() && !to_come.is_empty() {
                        proptest::prop_assert!(
                            !state.iter().any(|p| kinds[p].grants()),
                            "{name} (a deny) left /A while it still grants: {}", dump(&p)
                        );
                    }
                }
                _ => {}
            }
            proptest::prop_assert!(
                !state.is_empty() && state.len() <= LIMIT,
                "{} SCPs on /A after {}: {}", state.len(), c.address, dump(&p)
            );
        }
        proptest::prop_assert_eq!(state, want, "{}", dump(&p));
    }
}

/// An SCP's allow does not reach down the tree (each level must allow), only its denies do: a
/// detached policy that grants is not said to "still apply" through an ancestor that keeps it.
#[test]
fn a_detached_scp_that_grants_is_not_said_to_apply_through_an_ancestor() {
    let mut d = D::new()
        .ou("/A", None)
        .account("a", "a@x.example", "/A", Tags::new())
        .scp("allow-s3", ALLOW_S3, &[TargetRef::Account("a".into())]);
    if let Some(a) = d.0.accounts.get_mut("a") {
        a.full_aws_access = false;
    }
    let l = L::new().ou("ou-a", "A", "r-root", managed()).account(
        "222222222222",
        "a",
        "a@x.example",
        "ou-a",
        Tags::new(),
    );
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    let detach = &p.changes[index_of(
        &p,
        "attachment scp/FullAWSAccess -> account a",
        Action::Detach,
    )];
    assert!(
        !detach.reason.contains("still applies"),
        "{}",
        detach.reason
    );
    assert_eq!(detach.after, None, "{}", dump(&p));
}

/// A tag policy renamed in the YAML (delete + create) on a target at the per-target limit of tag
/// policies: making room by detaching the old one first would leave its rule, which stays in
/// effect after the apply, absent until the new one is attached (for good if that fails). There
/// is nothing that grants to set aside, so the plan refuses it and says why.
#[test]
fn a_tag_policy_renamed_at_the_per_target_limit_never_leaves_its_rule_absent() {
    let rule =
        |key: &str| format!(r#"{{"tags":{{"{key}":{{"tag_key":{{"@@assign":"{key}"}}}}}}}}"#);
    let mut l = L::new().ou("ou-a", "A", "r-root", managed());
    l.0.organization
        .enabled_policy_types
        .insert(PolicyType::TagPolicy);
    for i in 1..=5 {
        let mut p = tag_policy(&format!("p-t{i}"), &format!("t{i}"), &["ou-a"]);
        p.content = rule(&format!("k{i}"));
        p.tags = managed();
        l.0.policies.push(p);
    }
    let mut d = D::new().ou("/A", None);
    d.0.organization
        .enabled_policy_types
        .insert(PolicyType::TagPolicy);
    // t5 is renamed t6 (same rule); a fresh key on t7 swaps in for nothing: t1..t4 stay.
    for (name, key) in [
        ("t1", "k1"),
        ("t2", "k2"),
        ("t3", "k3"),
        ("t4", "k4"),
        ("t6", "k5"),
    ] {
        d.0.policies.insert(
            name.into(),
            orgctl_model::PolicySpec {
                name: name.into(),
                policy_type: PolicyType::TagPolicy,
                description: String::new(),
                content: rule(key),
                targets: [TargetRef::Ou("/A".into())].into(),
                tags: Tags::new(),
                source: super::loc(30),
            },
        );
    }
    let p = run(&d, &l);
    let detached = p
        .changes
        .iter()
        .position(|c| c.address == "attachment tag/t5 -> /A" && c.action == Action::Detach);
    let attached = p
        .changes
        .iter()
        .position(|c| c.address == "attachment tag/t6 -> /A" && c.action == Action::Attach);
    assert!(
        !p.errors.is_empty() || detached > attached,
        "t5 leaves /A before t6 carries its rule on: {}",
        dump(&p)
    );
    assert_error_saying(&p, &["tag/t5", "tag/t6", "/A"]);
}

/// FullAWSAccess set aside on the root for a swap at the limit denies every action to every
/// account of the organization until it comes back after the account moves: the plan says so
/// as a warning, not only in one change's reason.
#[test]
fn full_aws_access_set_aside_on_the_root_is_a_warning_that_everything_is_denied_meanwhile() {
    let mut l = L::new();
    for i in 1..=4 {
        l = l.scp(
            &format!("p-{i}"),
            &format!("s{i}"),
            DENY,
            managed(),
            &["r-root"],
        );
    }
    let mut d = D::new();
    for i in [1, 2, 3, 5] {
        d = d.scp(&format!("s{i}"), DENY, &[TargetRef::Root]);
    }
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    index_of(&p, "attachment scp/FullAWSAccess -> root", Action::Detach);
    let warning = p
        .warnings
        .iter()
        .find(|w| w.address == "attachment scp/FullAWSAccess -> root")
        .unwrap_or_else(|| panic!("no warning: {:?}", p.warnings));
    assert!(
        warning
            .message
            .contains("every account in the organization")
            && warning.message.contains("denied"),
        "{}",
        warning.message
    );
}

/// `/A` grants nothing (no FullAWSAccess, five denies: at the limit); the YAML gives it an
/// allow-list `g`, and moves deny `x` to `/B` along with account `a`. Making room by detaching `x`
/// is safe only while `/A` grants nothing: `g` must not be attached before `a` has left for `/B`
/// (which carries `x`), or `a` would be allowed `g` without `x` in between.
#[test]
fn a_grant_attached_where_a_deny_made_room_waits_for_the_accounts_to_move() {
    let mut l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-b", "B", "r-root", managed())
        .account("222222222222", "a", "a@x.example", "ou-a", Tags::new())
        .scp("p-x", "x", DENY, managed(), &["ou-a"]);
    l.0.policies[0].targets.retain(|t| t != "ou-a");
    for i in 1..=4 {
        l = l.scp(
            &format!("p-{i}"),
            &format!("d{i}"),
            DENY,
            managed(),
            &["ou-a"],
        );
    }
    let mut d = D::new()
        .ou("/A", None)
        .ou("/B", None)
        .account("a", "a@x.example", "/B", Tags::new())
        .scp("g", ALLOW_S3, &[TargetRef::Ou("/A".into())])
        .scp("x", DENY, &[TargetRef::Ou("/B".into())]);
    for i in 1..=4 {
        d = d.scp(&format!("d{i}"), DENY, &[TargetRef::Ou("/A".into())]);
    }
    if let Some(a) = d.0.ous.get_mut("/A") {
        a.full_aws_access = false;
    }
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    let moved = index_of(&p, "account a", Action::Move);
    assert!(
        index_of(&p, "attachment scp/g -> /A", Action::Attach) > moved,
        "{}",
        dump(&p)
    );
    assert!(
        index_of(&p, "attachment scp/x -> /B", Action::Attach) < moved,
        "{}",
        dump(&p)
    );
}

/// `/A` allows only `s3` (an allow-list, no FullAWSAccess); the YAML gives it FullAWSAccess back
/// and puts a new deny on the root. Across targets, the deny comes first: otherwise the accounts
/// in `/A` would be allowed what the deny is there to refuse between the two attachments.
#[test]
fn new_denies_are_attached_before_new_grants_across_targets() {
    let mut l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .account("222222222222", "a", "a@x.example", "ou-a", Tags::new())
        .scp("p-al", "allow-list", ALLOW_S3, managed(), &["ou-a"]);
    l.0.policies[0].targets.retain(|t| t != "ou-a");
    let d = D::new()
        .ou("/A", None)
        .account("a", "a@x.example", "/A", Tags::new())
        .scp("allow-list", ALLOW_S3, &[])
        .scp("guard", DENY, &[TargetRef::Root]);
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    assert!(
        index_of(&p, "attachment scp/guard -> root", Action::Attach)
            < index_of(&p, "attachment scp/FullAWSAccess -> /A", Action::Attach),
        "{}",
        dump(&p)
    );
}

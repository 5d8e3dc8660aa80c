//! Protected accounts (the management account always; never moved as followers of a replaced
//! OU) and what a blocked OU deletion tells the user.

use orgctl_model::Tags;

use super::{D, L, assert_error_saying, dump, managed, run};
use crate::Action;

/// The YAML gives /Old/Team (`ou-team`) the parent /New: a replacement.
fn team_replaced() -> (D, L) {
    let d = D::new().ou("/New", None).ou("/New/Team", Some("ou-team"));
    let l = L::new().ou("ou-old", "Old", "r-root", managed()).ou(
        "ou-team",
        "Team",
        "ou-old",
        managed(),
    );
    (d, l)
}

/// [`team_replaced`] with the protected account `security` (333333333333) in /Old/Team.
fn protected_security_in_the_replaced_team() -> (D, L) {
    let (mut d, l) = team_replaced();
    d.0.organization
        .protected_accounts
        .insert("333333333333".into());
    let l = l.account(
        "333333333333",
        "security",
        "sec@x.example",
        "ou-team",
        Tags::new(),
    );
    (d, l)
}

#[test]
fn a_protected_account_in_a_replaced_ou_stops_the_replacement() {
    let (d, l) = protected_security_in_the_replaced_team();
    let p = run(&d, &l);
    assert!(
        !p.changes
            .iter()
            .any(|c| c.address == "account security" && c.action == Action::Move),
        "{}",
        dump(&p)
    );
    // One error: the old OU's deletion, refused with the replacement, adds none about the
    // same account.
    assert_eq!(p.errors.len(), 1, "{}", dump(&p));
    let e = &p.errors[0];
    assert!(
        e.message.contains("333333333333")
            && e.message.contains("security")
            && e.message.contains("protected")
            && e.message.contains("/New/Team")
            && e.message.contains("replace"),
        "{}",
        e.message
    );
}

#[test]
fn the_management_account_follows_no_replaced_ou() {
    let (d, l) = team_replaced();
    let l = l.account(
        super::MGMT,
        "mgmt",
        "mgmt@x.example",
        "ou-team",
        Tags::new(),
    );
    let p = run(&d, &l);
    assert!(
        !p.changes.iter().any(|c| c.action == Action::Move),
        "{}",
        dump(&p)
    );
    assert_error_saying(&p, &[super::MGMT, "management account"]);
    assert_eq!(p.errors.len(), 1, "{}", dump(&p));
}

#[test]
fn the_management_account_is_always_protected() {
    // Not in protected_accounts, and the YAML puts it in /A.
    let d = D::new()
        .ou("/A", None)
        .account("mgmt", "mgmt@x.example", "/A", Tags::new());
    let l = L::new().account(super::MGMT, "mgmt", "mgmt@x.example", "r-root", Tags::new());
    let p = run(&d, &l);
    assert!(
        !p.changes.iter().any(|c| c.action == Action::Move),
        "{}",
        dump(&p)
    );
    let e = p
        .errors
        .iter()
        .find(|e| e.address == "account mgmt")
        .unwrap_or_else(|| panic!("{}", dump(&p)));
    assert!(
        e.message.contains("management account") && e.message.contains("never moved"),
        "{}",
        e.message
    );
}

#[test]
fn a_child_ou_left_in_a_deleted_ou_gets_advice_that_fits_an_ou() {
    let d = D::new();
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-ct", "CT", "ou-a", Tags::new());
    let p = run(&d, &l);
    let msg = &p.errors[0].message;
    assert!(msg.contains("OU CT (ou-ct)"), "{msg}");
    assert!(
        !msg.contains("move it into an OU"),
        "AWS cannot move OUs: {msg}"
    );
    assert!(msg.contains("AWS cannot move an OU"), "{msg}");
}

#[test]
fn a_child_ou_left_in_a_replaced_ou_is_told_where_to_declare_it() {
    let (d, l) = team_replaced();
    let l = l.ou("ou-ct", "CT", "ou-team", Tags::new());
    let p = run(&d, &l);
    let e = p
        .errors
        .iter()
        .find(|e| e.message.contains("ou-ct"))
        .unwrap_or_else(|| panic!("{}", dump(&p)));
    assert!(
        e.message.contains("/New/Team/CT") && !e.message.contains("move it into an OU"),
        "{}",
        e.message
    );
}

#[test]
fn a_protected_account_of_the_yaml_in_a_replaced_ou_is_told_why_it_cannot_follow() {
    let (d, l) = protected_security_in_the_replaced_team();
    let d = d.account("security", "sec@x.example", "/New/Team", Tags::new());
    let p = run(&d, &l);
    assert!(
        !p.changes.iter().any(|c| c.action == Action::Move),
        "{}",
        dump(&p)
    );
    assert_eq!(p.errors.len(), 1, "{}", dump(&p));
    let e = &p.errors[0];
    assert!(
        e.address == "account security"
            && e.message.contains("never moved")
            && e.message.contains("/Old/Team is replaced by /New/Team"),
        "{}",
        e.message
    );
}

/// A protected account in a replaced OU that also holds an account the plan cannot move: the
/// deletion error names only that other account (the protected one has its own error).
#[test]
fn a_replaced_ou_still_reports_what_else_it_would_hold() {
    let (d, l) = protected_security_in_the_replaced_team();
    let l = l.ou("ou-ct", "CT", "ou-team", Tags::new());
    let p = run(&d, &l);
    assert_eq!(p.errors.len(), 2, "{}", dump(&p));
    let held = p
        .errors
        .iter()
        .find(|e| e.message.contains("would still hold"))
        .unwrap_or_else(|| panic!("{}", dump(&p)));
    assert!(
        held.message.contains("ou-ct") && !held.message.contains("333333333333"),
        "{}",
        held.message
    );
}

//! Sibling OU names: renames before creates, swaps through a temporary name, names held by OUs
//! that stay.

use orgctl_model::{Op, Ref, Tags};

use super::{D, L, dump, managed, run};
use crate::Action;

#[test]
fn a_rename_frees_the_name_before_a_new_ou_takes_it() {
    // Live /X is pinned as /Y; a new /X takes its name.
    let d = D::new().ou("/Y", Some("ou-x")).ou("/X", None);
    let l = L::new().ou("ou-x", "X", "r-root", managed());
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    assert_eq!(dump(&p), "rename ou /Y\ncreate ou /X");
}

#[test]
fn renames_free_names_in_dependency_order() {
    // A chain: C→D must run before B→C, which must run before A→B.
    let d = D::new()
        .ou("/B", Some("ou-a"))
        .ou("/C", Some("ou-b"))
        .ou("/D", Some("ou-c"));
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-b", "B", "r-root", managed())
        .ou("ou-c", "C", "r-root", managed());
    let p = run(&d, &l);
    let renamed: Vec<&Op> = p.changes.iter().flat_map(|c| &c.ops).collect();
    assert_eq!(
        renamed,
        [
            &Op::RenameOu {
                ou: Ref::Id("ou-c".into()),
                name: "D".into()
            },
            &Op::RenameOu {
                ou: Ref::Id("ou-b".into()),
                name: "C".into()
            },
            &Op::RenameOu {
                ou: Ref::Id("ou-a".into()),
                name: "B".into()
            },
        ]
    );
}

#[test]
fn swapping_two_sibling_names_goes_through_a_temporary_name_stated_in_the_plan() {
    let d = D::new().ou("/A", Some("ou-b")).ou("/B", Some("ou-a"));
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-b", "B", "r-root", managed());
    let p = run(&d, &l);
    assert!(p.errors.is_empty(), "{}", dump(&p));
    // The first in path order (/A, now ou-b) steps aside.
    assert_eq!(dump(&p), "rename ou /A\nrename ou /B\nrename ou /A");
    let ops: Vec<&Op> = p.changes.iter().flat_map(|c| &c.ops).collect();
    let Op::RenameOu {
        name: temporary, ..
    } = ops[0]
    else {
        panic!("{ops:?}");
    };
    assert_eq!(
        ops,
        [
            &Op::RenameOu {
                ou: Ref::Id("ou-b".into()),
                name: temporary.clone()
            },
            &Op::RenameOu {
                ou: Ref::Id("ou-a".into()),
                name: "B".into()
            },
            &Op::RenameOu {
                ou: Ref::Id("ou-b".into()),
                name: "A".into()
            },
        ]
    );
    assert!(temporary != "A" && temporary != "B");
    assert!(
        p.changes[0].reason.contains(temporary.as_str())
            && p.changes[0].reason.contains("temporary"),
        "{}",
        p.changes[0].reason
    );
    assert!(
        p.changes[2].reason.contains(temporary.as_str()),
        "{}",
        p.changes[2].reason
    );
}

#[test]
fn a_name_held_by_an_ou_left_in_place_is_a_plan_error_that_says_how() {
    // /B is pinned to ou-a, but an unmanaged OU named B stays under the root.
    let d = D::new().ou("/B", Some("ou-a"));
    let l =
        L::new()
            .ou("ou-a", "A", "r-root", managed())
            .ou("ou-other", "B", "r-root", Tags::new());
    let p = run(&d, &l);
    assert!(
        !p.changes.iter().any(|c| c.action == Action::Rename),
        "{}",
        dump(&p)
    );
    let e = p
        .errors
        .iter()
        .find(|e| e.address == "ou /B")
        .unwrap_or_else(|| panic!("{}", dump(&p)));
    assert!(
        e.message.contains("ou-other") && e.message.contains("not managed by orgctl"),
        "{}",
        e.message
    );
}

#[test]
fn a_new_ou_cannot_take_the_name_of_an_ou_deleted_only_at_the_end() {
    // ou-x moves from /A/X to /B/X (a replacement: deleted at the end of the apply) and a new
    // /A/X is wanted: the old OU holds the name until then.
    let d = D::new()
        .ou("/A", Some("ou-a"))
        .ou("/B", Some("ou-b"))
        .ou("/B/X", Some("ou-x"))
        .ou("/A/X", None);
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-b", "B", "r-root", managed())
        .ou("ou-x", "X", "ou-a", managed());
    let p = run(&d, &l);
    let e = p
        .errors
        .iter()
        .find(|e| e.address == "ou /A/X")
        .unwrap_or_else(|| panic!("{}", dump(&p)));
    assert!(
        e.message.contains("ou-x") && e.message.contains("another name"),
        "{}",
        e.message
    );
}

#[test]
fn an_account_moving_between_swapped_ous_is_told_which_ou_it_is_in() {
    let d = D::new()
        .ou("/A", Some("ou-b"))
        .ou("/B", Some("ou-a"))
        .account("x", "x@x.example", "/A", Tags::new());
    let l = L::new()
        .ou("ou-a", "A", "r-root", managed())
        .ou("ou-b", "B", "r-root", managed())
        .account("222222222222", "x", "x@x.example", "ou-a", Tags::new());
    let p = run(&d, &l);
    let c = p
        .changes
        .iter()
        .find(|c| c.address == "account x" && c.action == Action::Move)
        .unwrap_or_else(|| panic!("{}", dump(&p)));
    assert!(
        c.reason
            .contains("it is in /A, ou-a, which this plan renames to /B"),
        "{}",
        c.reason
    );
}

//! Issue 8: the records of what apply last applied, and the classification of each change as
//! out-of-band or pending (`crate::records`).

use orgctl_model::{IamRead, LiveState, RECORD_TAG, ROLES_RECORD_TAG, Ref, Tags, TargetRef};

use super::grants::{PARTNER_A, acct, grant};
use super::{D, DENY, L, dump, managed, run, tags};
use crate::planner::grants::RoleSpec;
use crate::records::{PendingWhy, Provenance, RecordWrite, Records, parse_record, provenance};
use crate::{Plan, PlanOptions};

const A: &str = "222222222222";
const B: &str = "333333333333";
const TODAY: &str = "2026-11-27";

fn options() -> PlanOptions {
    PlanOptions {
        today: TODAY.into(),
    }
}

/// `/A` (tag team=a) holding accounts a and b, the SCP `deny` on `/A`, and the grant `g`
/// giving partner A a role in account a; live exactly as the YAML says, nothing recorded.
fn org() -> (D, L) {
    let d = D::new()
        .ou_tagged("/A", tags(&[("team", "a")]))
        .account("a", "a@x.example", "/A", Tags::new())
        .account("b", "b@x.example", "/A", Tags::new())
        .scp("deny", DENY, &[TargetRef::Ou("/A".into())])
        .grant(grant("g", PARTNER_A, &[acct("a")]));
    let mut ou_tags = managed();
    ou_tags.insert("team".into(), "a".into());
    let spec = RoleSpec::for_grant(&d.0.grants["g"]);
    let l = L::new()
        .ou("ou-a", "A", "r-root", ou_tags)
        .account(A, "a", "a@x.example", "ou-a", Tags::new())
        .account(B, "b", "b@x.example", "ou-a", Tags::new())
        .scp("p-deny", "deny", DENY, managed(), &["ou-a"])
        .read(A, IamRead::ReadRole)
        .read(B, IamRead::ReadRole)
        .role(A, &spec);
    (d, l)
}

impl D {
    fn ou_tagged(self, path: &str, t: Tags) -> Self {
        let mut d = self.ou(path, None);
        if let Some(ou) = d.0.ous.get_mut(path) {
            ou.tags = t;
        }
        d
    }
}

/// Writes a plan's records into the live state, as apply's TagResource would.
fn write(live: &mut LiveState, records: &[RecordWrite]) {
    for r in records {
        let value = r.value.clone();
        if r.key == ROLES_RECORD_TAG {
            let a = live.accounts.iter_mut().find(|a| a.id == r.resource_id);
            let a = a.unwrap_or_else(|| panic!("no account {}", r.resource_id));
            if r.remove {
                a.tags.remove(ROLES_RECORD_TAG);
            } else {
                a.tags.insert(ROLES_RECORD_TAG.into(), value);
            }
        } else if r.resource_id == live.organization.root_id {
            live.organization.root_record = Some(value);
        } else if let Some(ou) = live.ous.iter_mut().find(|o| o.id == r.resource_id) {
            ou.tags.insert(RECORD_TAG.into(), value);
        } else if let Some(a) = live.accounts.iter_mut().find(|a| a.id == r.resource_id) {
            a.tags.insert(RECORD_TAG.into(), value);
        } else if let Some(p) = live.policies.iter_mut().find(|p| p.id == r.resource_id) {
            p.tags.insert(RECORD_TAG.into(), value);
        } else {
            panic!("no resource {}", r.resource_id);
        }
    }
}

/// The organization in sync and recorded, as a finished apply leaves it.
fn recorded() -> (D, L) {
    let (d, mut l) = org();
    let p = run(&d, &l);
    assert!(p.is_empty(), "{}", dump(&p));
    write(&mut l.0, &p.records);
    let p = run(&d, &l);
    assert!(p.is_empty(), "{}", dump(&p));
    assert_eq!(p.records, vec![], "written records are current");
    (d, l)
}

/// `(address, provenance)` per change.
fn classes(d: &D, l: &L, p: &Plan) -> Vec<(String, Provenance)> {
    let classes = provenance(&d.0, &l.0, &options(), p);
    assert_eq!(classes.len(), p.changes.len());
    p.changes
        .iter()
        .map(|c| c.address.clone())
        .zip(classes)
        .collect()
}

const OUT_OF_BAND: Provenance = Provenance::OutOfBand;
const YAML_CHANGED: Provenance = Provenance::Pending(PendingWhy::YamlChanged);
const NOT_RECORDED: Provenance = Provenance::Pending(PendingWhy::NotRecorded);

#[test]
fn an_organization_in_sync_gets_a_record_on_every_managed_resource() {
    let (d, l) = org();
    let p = run(&d, &l);
    assert!(p.is_empty(), "records are not changes: {}", dump(&p));
    let ids: Vec<&str> = p
        .records
        .iter()
        .filter(|r| r.key == RECORD_TAG)
        .map(|r| r.resource_id.as_str())
        .collect();
    // The root, the OU, the customer policy and both accounts; not FullAWSAccess (AWS-managed)
    // and not the management account (the YAML does not list it and it holds no role).
    assert_eq!(
        ids,
        ["222222222222", "333333333333", "ou-a", "p-deny", "r-root"]
    );
    // And the roles record on account a, whose role was made before roles records were kept.
    let roles: Vec<&RecordWrite> = p.records.iter().filter(|r| r.key != RECORD_TAG).collect();
    assert_eq!(roles, [&RecordWrite::roles(A, false)]);
    for r in p.records.iter().filter(|r| r.key == RECORD_TAG) {
        let rec = parse_record(&r.value).expect("a record of this version");
        assert_eq!(rec.date, TODAY);
        assert_eq!(rec.hash.len(), 16);
    }
    // Written, the records are current, and no tag diff shows them.
    recorded();
    // A closed account is never written to again: it gets no record.
    let (mut d, mut l) = org();
    d.0.accounts.get_mut("b").expect("b").lifecycle = orgctl_model::Lifecycle::Closed;
    l.0.accounts
        .iter_mut()
        .filter(|a| a.id == B)
        .for_each(|a| a.status = orgctl_model::AccountStatus::Suspended);
    let p = run(&d, &l);
    assert!(p.is_empty(), "{}", dump(&p));
    assert!(
        p.records.iter().all(|r| r.resource_id != B),
        "{:?}",
        p.records
    );
}

#[test]
fn an_account_holding_only_a_look_alike_role_gets_no_record() {
    // A role under /orgctl/ without orgctl's tag, in an account the YAML does not list: not
    // orgctl's, so the account is not recorded (and a plan that does not read its IAM, as
    // `plan` does not, says the same as one that does).
    const C: &str = "444444444444";
    let (d, l) = org();
    let mut spec = RoleSpec::for_grant(&d.0.grants["g"]);
    spec.tags = Tags::new();
    let l = l
        .account(C, "c", "c@x.example", "r-root", Tags::new())
        .read(C, IamRead::ReadRole)
        .role(C, &spec);
    let p = run(&d, &l);
    assert!(p.is_empty(), "{}", dump(&p));
    assert!(
        p.records.iter().all(|r| r.resource_id != C),
        "{:?}",
        p.records
    );
    // Its IAM unread, the plan changes and records the same (only the note on the role goes).
    let mut unread = l;
    unread.0.access_roles.retain(|r| r.account_id != C);
    unread.0.iam_accounts.retain(|a| a.account_id != C);
    let q = run(&d, &unread);
    assert_eq!((&q.changes, &q.records), (&p.changes, &p.records));
}

#[test]
fn a_tag_edited_by_hand_is_out_of_band() {
    let (d, mut l) = recorded();
    let ou = l.0.ous.iter_mut().find(|o| o.id == "ou-a").expect("ou");
    ou.tags.insert("team".into(), "b".into());
    let p = run(&d, &l);
    assert_eq!(dump(&p), "update ou /A");
    assert_eq!(classes(&d, &l, &p), [("ou /A".into(), OUT_OF_BAND)]);
    assert_eq!(
        p.records,
        vec![],
        "a resource a change depends on is not re-recorded"
    );
    let records = Records::new(&d.0, &l.0, &options());
    assert_eq!(records.recorded_on(&p.changes[0]), Some(TODAY));
}

#[test]
fn a_yaml_edit_is_pending() {
    let (d, l) = recorded();
    let d = {
        let mut d = d;
        d.0.ous.get_mut("/A").expect("ou").tags = tags(&[("team", "c")]);
        d
    };
    let p = run(&d, &l);
    assert_eq!(dump(&p), "update ou /A");
    assert_eq!(classes(&d, &l, &p), [("ou /A".into(), YAML_CHANGED)]);
}

#[test]
fn a_change_to_what_was_never_recorded_is_pending() {
    let (d, mut l) = org();
    let ou = l.0.ous.iter_mut().find(|o| o.id == "ou-a").expect("ou");
    ou.tags.insert("team".into(), "b".into());
    let p = run(&d, &l);
    assert_eq!(classes(&d, &l, &p), [("ou /A".into(), NOT_RECORDED)]);
    // A record of another format version counts as none.
    let (d, mut l) = recorded();
    for ou in &mut l.0.ous {
        ou.tags.insert("team".into(), "b".into());
        let old = ou.tags.get(RECORD_TAG).cloned().unwrap_or_default();
        ou.tags
            .insert(RECORD_TAG.into(), old.replacen("1:", "2:", 1));
    }
    let p = run(&d, &l);
    assert_eq!(classes(&d, &l, &p), [("ou /A".into(), NOT_RECORDED)]);
    // A creation depends on no record (an OU created in an existing parent depends on the
    // parent's, whose view names its children).
    let (d, l) = recorded();
    let d = d
        .ou("/New", None)
        .ou("/New/Sub", None)
        .account("c", "c@x.example", "/A", Tags::new());
    let p = run(&d, &l);
    assert_eq!(
        classes(&d, &l, &p),
        [
            ("ou /New".into(), YAML_CHANGED),
            ("ou /New/Sub".into(), NOT_RECORDED),
            ("account c".into(), NOT_RECORDED),
        ]
    );
}

#[test]
fn a_managed_scp_attached_by_hand_to_a_yaml_target_is_out_of_band() {
    let (d, mut l) = recorded();
    let deny =
        l.0.policies
            .iter_mut()
            .find(|p| p.id == "p-deny")
            .expect("p");
    deny.targets.push(B.into());
    l.0.normalize();
    let p = run(&d, &l);
    assert_eq!(dump(&p), "detach attachment scp/deny -> account b");
    assert_eq!(
        classes(&d, &l, &p),
        [("attachment scp/deny -> account b".into(), OUT_OF_BAND)]
    );
    // FullAWSAccess detached by hand: the AWS-managed policy has no record, the target does.
    let (d, mut l) = recorded();
    l.0.policies
        .iter_mut()
        .filter(|p| p.aws_managed)
        .for_each(|p| p.targets.retain(|t| t != A));
    let p = run(&d, &l);
    assert_eq!(
        classes(&d, &l, &p),
        [(
            "attachment scp/FullAWSAccess -> account a".into(),
            OUT_OF_BAND
        )]
    );
}

#[test]
fn a_grant_role_edited_by_hand_is_out_of_band_and_a_grant_changed_in_the_yaml_is_pending() {
    let (d, mut l) = recorded();
    let role =
        l.0.access_roles
            .iter_mut()
            .find(|r| r.account_id == A)
            .expect("role");
    role.max_session_secs = 7200;
    let p = run(&d, &l);
    assert_eq!(dump(&p), "update grant/g -> account a");
    assert_eq!(
        classes(&d, &l, &p),
        [("grant/g -> account a".into(), OUT_OF_BAND)]
    );

    let (mut d, l) = recorded();
    d.0.grants.get_mut("g").expect("grant").max_session_secs = 7200;
    let p = run(&d, &l);
    assert_eq!(dump(&p), "update grant/g -> account a");
    assert_eq!(
        classes(&d, &l, &p),
        [("grant/g -> account a".into(), YAML_CHANGED)]
    );
    // A new target of the grant: the account's record covers the roles wanted in it.
    let (mut d, l) = recorded();
    d.0.grants
        .get_mut("g")
        .expect("grant")
        .targets
        .insert(acct("b"));
    let p = run(&d, &l);
    assert_eq!(
        classes(&d, &l, &p),
        [("grant/g -> account b".into(), YAML_CHANGED)]
    );
}

#[test]
fn records_are_written_where_aws_is_as_the_yaml_says_and_never_where_a_change_depends() {
    let (d, mut l) = recorded();
    // The YAML changes the OU's tags and account b's tags; AWS is edited on the policy.
    let mut d = d;
    d.0.ous.get_mut("/A").expect("ou").tags = tags(&[("team", "c")]);
    d.0.accounts.get_mut("b").expect("b").tags = tags(&[("env", "dev")]);
    let mut t = managed();
    t.insert("by-hand".into(), "1".into());
    l.0.policies
        .iter_mut()
        .filter(|p| p.id == "p-deny")
        .for_each(|p| p.tags.extend(t.clone()));
    let p = run(&d, &l);
    assert_eq!(
        dump(&p),
        "update ou /A\nupdate policy scp/deny\nupdate account b"
    );
    // The root's view names the YAML's policies and top-level OUs: unchanged, so no record.
    assert_eq!(p.records, vec![]);
    // After the changes are applied, the re-plan records exactly the changed resources.
    let ou = l.0.ous.iter_mut().find(|o| o.id == "ou-a").expect("ou");
    ou.tags.insert("team".into(), "c".into());
    l.0.policies
        .iter_mut()
        .filter(|p| p.id == "p-deny")
        .for_each(|p| {
            p.tags.remove("by-hand");
        });
    let b = l.0.accounts.iter_mut().find(|a| a.id == B).expect("b");
    b.tags.insert("env".into(), "dev".into());
    let p = run(&d, &l);
    assert!(p.is_empty(), "{}", dump(&p));
    let ids: Vec<&str> = p.records.iter().map(|r| r.resource_id.as_str()).collect();
    assert_eq!(ids, [B, "ou-a"], "the policy's record was already current");
    write(&mut l.0, &p.records);
    assert_eq!(run(&d, &l).records, vec![]);
}

#[test]
fn bookkeeping_tags_are_never_compared_added_or_removed() {
    let (d, mut l) = recorded();
    for ou in &mut l.0.ous {
        ou.tags.insert("orgctl:something-else".into(), "x".into());
    }
    for a in &mut l.0.accounts {
        a.tags.insert(RECORD_TAG.into(), "garbage".into());
    }
    let p = run(&d, &l);
    assert!(p.is_empty(), "{}", dump(&p));
    // An unparsable record is rewritten (it is not a change).
    let ids: Vec<&str> = p.records.iter().map(|r| r.resource_id.as_str()).collect();
    assert_eq!(ids, [A, B]);
    // A tag change leaves the bookkeeping keys out of its operations.
    let mut d = d;
    d.0.ous.get_mut("/A").expect("ou").tags = Tags::new();
    let p = run(&d, &l);
    for op in p.changes.iter().flat_map(|c| &c.ops) {
        let keys: Vec<String> = match op {
            orgctl_model::Op::TagResource { tags, .. } => tags.keys().cloned().collect(),
            orgctl_model::Op::UntagResource { keys, .. } => keys.iter().cloned().collect(),
            _ => continue,
        };
        assert!(
            keys.iter().all(|k| !orgctl_model::is_bookkeeping_tag(k)),
            "{op:?}"
        );
    }
}

#[test]
fn what_a_change_depends_on() {
    let (d, l) = recorded();
    let records = Records::new(&d.0, &l.0, &options());
    let change = |ops: Vec<orgctl_model::Op>| {
        let mut c = run(&d, &l).changes.pop().unwrap_or_else(|| crate::Change {
            address: String::new(),
            kind: crate::ResourceKind::Ou,
            action: crate::Action::Update,
            before: None,
            after: None,
            diff: None,
            reason: String::new(),
            source: None,
            ops: Vec::new(),
        });
        c.ops = ops;
        c
    };
    let id = |s: &str| Ref::Id(s.into());
    let deps = |ops| {
        records
            .depends_on(&change(ops))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    use orgctl_model::Op;
    assert_eq!(
        deps(vec![Op::CreateOu {
            parent: Ref::NewOu("/X".into()),
            name: "Y".into(),
            path: "/X/Y".into(),
            tags: Tags::new(),
        }]),
        Vec::<String>::new()
    );
    assert_eq!(
        deps(vec![Op::CreatePolicy {
            name: "n".into(),
            policy_type: orgctl_model::PolicyType::ServiceControlPolicy,
            description: String::new(),
            content: "{}".into(),
            tags: Tags::new(),
        }]),
        ["r-root"]
    );
    assert_eq!(
        deps(vec![Op::MoveAccount {
            account: id(A),
            from: id("ou-a"),
            to: id("r-root"),
        }]),
        [A]
    );
    assert_eq!(
        deps(vec![Op::AttachPolicy {
            policy: id("p-FullAWSAccess"),
            target: id("ou-a"),
        }]),
        ["ou-a"]
    );
    assert_eq!(
        deps(vec![Op::DetachPolicy {
            policy: id("p-deny"),
            target: id(B),
        }]),
        [B, "p-deny"]
    );
    assert_eq!(
        deps(vec![Op::DeleteRole {
            account: Ref::NewAccount("n@x.example".into()),
            role_name: "r".into(),
        }]),
        Vec::<String>::new()
    );
    assert_eq!(
        deps(vec![Op::DeleteRole {
            account: id(B),
            role_name: "r".into(),
        }]),
        [B]
    );
}

#[test]
fn record_values_are_parsed_strictly() {
    assert!(parse_record("1:0123456789abcdef:2026-11-27").is_some());
    for bad in [
        "2:0123456789abcdef:2026-11-27",
        "1:0123456789ABCDEF:2026-11-27",
        "1:0123456789abcde:2026-11-27",
        "1:0123456789abcdef:2026-11",
        "1:0123456789abcdef",
        "",
    ] {
        assert_eq!(parse_record(bad), None, "{bad}");
    }
}

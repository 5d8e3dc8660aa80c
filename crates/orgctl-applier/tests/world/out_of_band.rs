//! Changes made out of band, by people and other tools: OUs, accounts and policies orgctl does
//! not manage, tags it ignores, and an account to protect.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_backend::{MemoryOrg, OrgApi, codes};
use orgctl_model::{LiveState, PolicyType, Tags};

use super::desired::{document, random_units};
use super::{Chooser, IGNORED_KEY, MGMT};

/// What was changed out of band, for the next desired state to refer to.
#[derive(Debug, Default)]
pub(super) struct Extras {
    /// Path of an OU orgctl does not manage.
    pub(super) unmanaged_ou: Option<String>,
    /// Email of an account not in the YAML.
    pub(super) stray_email: Option<String>,
    /// Names and types of policies orgctl does not manage.
    pub(super) unmanaged_policies: Vec<(String, PolicyType)>,
    /// An account (not the management account) to protect.
    pub(super) protected: Option<String>,
}

pub(super) async fn out_of_band(
    c: &mut Chooser<'_>,
    org: &MemoryOrg,
    types: &BTreeSet<PolicyType>,
) -> Extras {
    let mut extras = Extras::default();
    let live = org.to_live();
    let root = org.root_id();
    let containers: Vec<String> = std::iter::once(root.clone())
        .chain(live.ous.iter().map(|o| o.id.clone()))
        .collect();
    if c.chance(45) {
        let parent = c.one_of(&containers).unwrap_or_else(|| root.clone());
        // Another tool's OU; a name clash with a managed OU is left out.
        if org
            .create_ou(&parent, "Unmanaged", &Tags::new())
            .await
            .is_ok()
        {
            let live = org.to_live();
            extras.unmanaged_ou = paths_of(&live)
                .into_iter()
                .find(|(_, id)| {
                    live.ous
                        .iter()
                        .any(|o| o.id == *id && o.name == "Unmanaged")
                })
                .map(|(p, _)| p);
        }
    }
    if c.chance(60) {
        let status = org
            .create_account("stray", "stray@x.example", &Tags::new())
            .await
            .expect("stray account");
        if let Some(id) = status.account_id {
            let to = c.one_of(&containers).unwrap_or_else(|| root.clone());
            if to != root {
                org.move_account(&id, &root, &to).await.expect("move stray");
            }
            extras.stray_email = Some("stray@x.example".into());
        }
    }
    for policy_type in types {
        if !c.chance(50) {
            continue;
        }
        let name = format!("guard-{}", policy_type.short());
        let units = random_units(c, *policy_type);
        let p = org
            .create_policy(
                &name,
                *policy_type,
                "",
                &document(*policy_type, &units),
                &Tags::new(),
            )
            .await
            .expect("unmanaged policy");
        let live = org.to_live();
        let targets: Vec<String> = containers
            .iter()
            .cloned()
            .chain(live.accounts.iter().map(|a| a.id.clone()))
            .collect();
        for _ in 0..1 + c.pick(2) {
            let t = c.one_of(&targets).unwrap_or_else(|| root.clone());
            // Another tool honours the limit too.
            match org.attach_policy(&p.id, &t).await {
                Err(e)
                    if !e.is(codes::CONSTRAINT_VIOLATION)
                        && !e.is(codes::DUPLICATE_POLICY_ATTACHMENT) =>
                {
                    panic!("attach an unmanaged policy: {e}")
                }
                _ => {}
            }
        }
        extras.unmanaged_policies.push((name, *policy_type));
    }
    if c.chance(50) {
        let live = org.to_live();
        let resources: Vec<String> = live
            .ous
            .iter()
            .map(|o| o.id.clone())
            .chain(live.accounts.iter().map(|a| a.id.clone()))
            .chain(
                live.policies
                    .iter()
                    .filter(|p| !p.aws_managed)
                    .map(|p| p.id.clone()),
            )
            .collect();
        for _ in 0..1 + c.pick(2) {
            if let Some(r) = c.one_of(&resources) {
                let t: Tags = [(IGNORED_KEY.to_owned(), "enrolled".to_owned())].into();
                org.tag_resource(&r, &t).await.expect("ignored tag");
            }
        }
    }
    if c.chance(30) {
        let live = org.to_live();
        let members: Vec<String> = live
            .accounts
            .iter()
            .filter(|a| a.id != MGMT)
            .map(|a| a.id.clone())
            .collect();
        extras.protected = c.one_of(&members);
    }
    extras
}

/// OU path → id of every live OU.
pub(super) fn paths_of(live: &LiveState) -> BTreeMap<String, String> {
    let by_id: BTreeMap<&str, &orgctl_model::LiveOu> =
        live.ous.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut out = BTreeMap::new();
    for ou in &live.ous {
        let mut names = vec![ou.name.clone()];
        let mut parent = ou.parent_id.as_str();
        while let Some(p) = by_id.get(parent) {
            names.push(p.name.clone());
            parent = p.parent_id.as_str();
        }
        names.reverse();
        out.insert(format!("/{}", names.join("/")), ou.id.clone());
    }
    out
}

/// Another team's part of the organization, outside what the YAML manages: a root OU
/// `Elsewhere` with a child `Deep`, accounts in both, FullAWSAccess on them; sometimes an
/// account the YAML manages moved by hand into `Deep` (a scoped read finds it by id or email
/// and walks up to place it).
pub(super) async fn elsewhere(c: &mut Chooser<'_>, org: &MemoryOrg, desired_emails: &[String]) {
    if !c.chance(50) {
        return;
    }
    let root = org.root_id();
    let Ok(top) = org.create_ou(&root, "Elsewhere", &Tags::new()).await else {
        return;
    };
    let deep = org
        .create_ou(&top.id, "Deep", &Tags::new())
        .await
        .expect("a child of a fresh OU");
    for i in 0..1 + c.pick(3) {
        let status = org
            .create_account(
                &format!("far-{i}"),
                &format!("far-{i}@elsewhere.example"),
                &Tags::new(),
            )
            .await
            .expect("an account elsewhere");
        if let Some(id) = status.account_id {
            let to = if c.chance(50) { &top.id } else { &deep.id };
            org.move_account(&id, &root, to).await.expect("move far");
        }
    }
    if c.chance(30) {
        let live = org.to_live();
        let movable: Vec<(String, String)> = live
            .accounts
            .iter()
            .filter(|a| {
                a.id != MGMT
                    && a.status == orgctl_model::AccountStatus::Active
                    && desired_emails.contains(&a.email.to_lowercase())
            })
            .map(|a| (a.id.clone(), a.parent_id.clone()))
            .collect();
        if let Some((id, from)) = c.one_of(&movable) {
            org.move_account(&id, &from, &deep.id)
                .await
                .expect("move a managed account by hand");
        }
    }
}

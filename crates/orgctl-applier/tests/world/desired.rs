//! Desired states: a random one to start from, and the next one, derived from it the way a team
//! changes its YAML (renames, replacements, moves, policy edits, folds, swaps at the limit,
//! adoptions of what was made out of band).

use std::collections::{BTreeMap, BTreeSet};

use orgctl_model::{
    AccountSpec, DesiredState, GrantTarget, Lifecycle, LiveState, OrganizationSpec, OuSpec,
    PolicySpec, PolicyType, ROOT_PATH, SourceLoc, Tags, TargetRef, canonical_json, child_path,
    is_managed, parent_path,
};
use serde_json::json;

use super::out_of_band::{Extras, paths_of};
use super::{Chooser, IGNORED_KEY, LIMIT, MGMT};

const OU_NAMES: [&str; 6] = ["Alpha", "Beta", "Gamma", "Delta", "Eps", "Zeta"];
/// What SCPs deny, one statement each.
const SERVICES: [&str; 6] = ["s3", "ec2", "iam", "kms", "rds", "sqs"];
/// What tag policies rule, one key each.
const TAG_KEYS: [&str; 4] = ["costcenter", "owner", "project", "env"];
/// Policy names are `<short><index>` with an index below this.
const POLICY_SLOTS: usize = 10;
const ACCOUNT_SLOTS: usize = 8;

fn loc() -> SourceLoc {
    SourceLoc {
        file: "gen.yaml".into(),
        line: 1,
        column: 1,
    }
}

fn empty_desired(types: &BTreeSet<PolicyType>) -> DesiredState {
    DesiredState {
        grants: Default::default(),
        organization: OrganizationSpec {
            member_role: orgctl_model::DEFAULT_MEMBER_ROLE.to_string(),
            plan_role: None,
            email_domains: Default::default(),
            management_account_id: MGMT.into(),
            enabled_policy_types: types.clone(),
            protected_accounts: BTreeSet::new(),
            policies_per_target_limit: LIMIT,
            ignore_tag_keys: [IGNORED_KEY.to_owned()].into(),
            root_full_aws_access: true,
            source: loc(),
        },
        ous: BTreeMap::new(),
        accounts: BTreeMap::new(),
        policies: BTreeMap::new(),
    }
}

/// A random valid desired state using the policy types `types`.
pub(super) fn gen_desired(c: &mut Chooser<'_>, types: &BTreeSet<PolicyType>) -> DesiredState {
    let mut d = empty_desired(types);
    let n = 1 + c.pick(5);
    add_ous(c, &mut d, n);
    let n = c.pick(7);
    add_accounts(c, &mut d, n);
    for t in types {
        let n = c.pick(5);
        add_policies(c, &mut d, *t, n);
    }
    drop_full_aws_access(c, &mut d);
    normalize(&mut d);
    if c.chance(50) {
        crowd_a_target(c, &mut d);
    }
    d
}

fn ou_spec(path: &str, id: Option<String>, tags: Tags) -> OuSpec {
    OuSpec {
        production: false,
        path: path.into(),
        name: path.rsplit('/').next().unwrap_or_default().into(),
        id,
        tags,
        full_aws_access: true,
        source: loc(),
    }
}

fn add_ous(c: &mut Chooser<'_>, d: &mut DesiredState, n: usize) {
    for _ in 0..n {
        let paths: Vec<String> = d.ous.keys().cloned().collect();
        let parent = match c.one_of(&paths) {
            Some(p) if !c.chance(40) => p,
            _ => ROOT_PATH.to_owned(),
        };
        if parent.matches('/').count() >= 3 {
            continue;
        }
        let path = child_path(&parent, OU_NAMES[c.pick(OU_NAMES.len())]);
        if !d.ous.contains_key(&path) {
            let tags = tags(c);
            d.ous.insert(path.clone(), ou_spec(&path, None, tags));
        }
    }
}

/// A random container path of `d` (the root a quarter of the time).
fn some_container(c: &mut Chooser<'_>, d: &DesiredState) -> String {
    let paths: Vec<String> = d.ous.keys().cloned().collect();
    match c.one_of(&paths) {
        Some(p) if !c.chance(25) => p,
        _ => ROOT_PATH.to_owned(),
    }
}

fn add_accounts(c: &mut Chooser<'_>, d: &mut DesiredState, n: usize) {
    for _ in 0..n {
        let i = c.pick(ACCOUNT_SLOTS);
        let name = format!("acct{i}");
        if d.accounts.contains_key(&name) {
            continue;
        }
        let ou = some_container(c, d);
        let tags = tags(c);
        d.accounts.insert(
            name.clone(),
            AccountSpec {
                name,
                email: format!("acct{i}@x.example"),
                ou,
                id: None,
                tags,
                lifecycle: Lifecycle::Active,
                full_aws_access: true,
                source: loc(),
            },
        );
    }
}

/// A policy document of `policy_type` with these units (services or tag keys).
pub(super) fn document(policy_type: PolicyType, units: &BTreeSet<&str>) -> String {
    let doc = match policy_type {
        PolicyType::ServiceControlPolicy => json!({
            "Version": "2012-10-17",
            "Statement": units.iter().map(|s| json!({
                "Effect": "Deny", "Action": format!("{s}:*"), "Resource": "*"
            })).collect::<Vec<_>>(),
        }),
        PolicyType::TagPolicy => json!({
            "tags": units.iter().map(|k| (k.to_string(), json!({
                "tag_key": {"@@assign": k.to_uppercase()}
            }))).collect::<serde_json::Map<_, _>>(),
        }),
    };
    canonical_json(&doc)
}

/// The units a generated document was made of.
pub(super) fn units_of_document(policy_type: PolicyType, content: &str) -> BTreeSet<&'static str> {
    let pool: &[&'static str] = match policy_type {
        PolicyType::ServiceControlPolicy => &SERVICES,
        PolicyType::TagPolicy => &TAG_KEYS,
    };
    pool.iter()
        .copied()
        .filter(|u| match policy_type {
            PolicyType::ServiceControlPolicy => content.contains(&format!("\"{u}:*\"")),
            PolicyType::TagPolicy => content.contains(&format!("\"{u}\":")),
        })
        .collect()
}

pub(super) fn random_units(c: &mut Chooser<'_>, policy_type: PolicyType) -> BTreeSet<&'static str> {
    let pool: &[&'static str] = match policy_type {
        PolicyType::ServiceControlPolicy => &SERVICES,
        PolicyType::TagPolicy => &TAG_KEYS,
    };
    (0..1 + c.pick(2))
        .map(|_| pool[c.pick(pool.len())])
        .collect()
}

/// Every target of `d`: the root, its OUs and its accounts.
fn targets(d: &DesiredState) -> Vec<TargetRef> {
    std::iter::once(TargetRef::Root)
        .chain(d.ous.keys().cloned().map(TargetRef::Ou))
        .chain(d.accounts.keys().cloned().map(TargetRef::Account))
        .collect()
}

/// How many policies of `policy_type` the YAML attaches to `target` (FullAWSAccess included).
fn attached_count(d: &DesiredState, target: &TargetRef, policy_type: PolicyType) -> usize {
    let faa = policy_type == PolicyType::ServiceControlPolicy && full_aws_access(d, target);
    usize::from(faa)
        + d.policies
            .values()
            .filter(|p| p.policy_type == policy_type && p.targets.contains(target))
            .count()
}

fn full_aws_access(d: &DesiredState, target: &TargetRef) -> bool {
    match target {
        TargetRef::Root => true,
        TargetRef::Ou(p) => d.ous.get(p).is_none_or(|o| o.full_aws_access),
        TargetRef::Account(n) => d.accounts.get(n).is_none_or(|a| a.full_aws_access),
    }
}

fn unused_policy_name(c: &mut Chooser<'_>, d: &DesiredState, policy_type: PolicyType) -> String {
    let start = c.pick(POLICY_SLOTS);
    (0..POLICY_SLOTS)
        .map(|i| format!("{}{}", policy_type.short(), (start + i) % POLICY_SLOTS))
        .find(|n| !d.policies.contains_key(n))
        .unwrap_or_else(|| format!("{}x", policy_type.short()))
}

fn new_policy(c: &mut Chooser<'_>, name: String, policy_type: PolicyType) -> PolicySpec {
    let units = random_units(c, policy_type);
    PolicySpec {
        name,
        policy_type,
        description: if c.chance(30) {
            "d".into()
        } else {
            String::new()
        },
        content: document(policy_type, &units),
        targets: BTreeSet::new(),
        tags: tags(c),
        source: loc(),
    }
}

fn add_policies(c: &mut Chooser<'_>, d: &mut DesiredState, policy_type: PolicyType, n: usize) {
    for _ in 0..n {
        let name = unused_policy_name(c, d, policy_type);
        let mut p = new_policy(c, name.clone(), policy_type);
        let all = targets(d);
        for _ in 0..c.pick(3) {
            if let Some(t) = c.one_of(&all) {
                p.targets.insert(t);
            }
        }
        d.policies.insert(name, p);
    }
}

/// Fills one target up to the per-target limit with SCPs (existing ones first), so that a later
/// desired state must swap policies there.
fn crowd_a_target(c: &mut Chooser<'_>, d: &mut DesiredState) {
    if let Some(target) = c.one_of(&targets(d)) {
        fill_to_the_limit(c, d, &target);
    }
}

fn fill_to_the_limit(c: &mut Chooser<'_>, d: &mut DesiredState, target: &TargetRef) {
    let policy_type = PolicyType::ServiceControlPolicy;
    if !d.organization.enabled_policy_types.contains(&policy_type) {
        return;
    }
    let mut names: Vec<String> = d
        .policies
        .values()
        .filter(|p| p.policy_type == policy_type)
        .map(|p| p.name.clone())
        .collect();
    while attached_count(d, target, policy_type) < LIMIT as usize {
        let name = match names.pop() {
            Some(n) => n,
            None => {
                let n = unused_policy_name(c, d, policy_type);
                let p = new_policy(c, n.clone(), policy_type);
                d.policies.insert(n.clone(), p);
                n
            }
        };
        if let Some(p) = d.policies.get_mut(&name) {
            p.targets.insert(target.clone());
        }
    }
}

/// Targets of `d` that are at the per-target SCP limit in `live`.
fn full_in_live(live: &LiveState, d: &DesiredState) -> Vec<TargetRef> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &live.policies {
        if p.policy_type == PolicyType::ServiceControlPolicy {
            for t in &p.targets {
                *counts.entry(t.as_str()).or_default() += 1;
            }
        }
    }
    let paths = paths_of(live);
    counts
        .into_iter()
        .filter(|(_, n)| *n >= LIMIT as usize)
        .filter_map(|(id, _)| {
            if id == live.organization.root_id {
                return Some(TargetRef::Root);
            }
            if let Some(a) = live.accounts.iter().find(|a| a.id == id) {
                return d
                    .accounts
                    .values()
                    .find(|s| s.email.eq_ignore_ascii_case(&a.email))
                    .map(|s| TargetRef::Account(s.name.clone()));
            }
            let live_path = paths
                .iter()
                .find(|(_, i)| i.as_str() == id)
                .map(|(p, _)| p)?;
            d.ous
                .values()
                .find(|o| o.id.as_deref() == Some(id) || (o.id.is_none() && o.path == *live_path))
                .map(|o| TargetRef::Ou(o.path.clone()))
        })
        .collect()
}

/// Swaps one or two policies on a target that is at the per-target limit in `live` for others
/// (filling it up again first, if the YAML's other changes emptied it).
fn swap_at_the_limit(c: &mut Chooser<'_>, d: &mut DesiredState, live: &LiveState) {
    let policy_type = PolicyType::ServiceControlPolicy;
    let Some(target) = c.one_of(&full_in_live(live, d)) else {
        return;
    };
    fill_to_the_limit(c, d, &target);
    for _ in 0..1 + c.pick(2) {
        let on: Vec<String> = d
            .policies
            .values()
            .filter(|p| p.policy_type == policy_type && p.targets.contains(&target))
            .map(|p| p.name.clone())
            .collect();
        let off: Vec<String> = d
            .policies
            .values()
            .filter(|p| p.policy_type == policy_type && !p.targets.contains(&target))
            .map(|p| p.name.clone())
            .collect();
        let Some(out) = c.one_of(&on) else { return };
        let replacement = match c.one_of(&off) {
            Some(n) if c.chance(50) => n,
            _ => {
                let n = unused_policy_name(c, d, policy_type);
                let p = new_policy(c, n.clone(), policy_type);
                d.policies.insert(n.clone(), p);
                n
            }
        };
        for (name, attach) in [(out, false), (replacement, true)] {
            if let Some(p) = d.policies.get_mut(&name) {
                if attach {
                    p.targets.insert(target.clone());
                } else {
                    p.targets.remove(&target);
                }
            }
        }
    }
}

/// Moves the units of one policy into another of the same type; the first is then deleted or
/// loses its attachments.
fn fold(c: &mut Chooser<'_>, d: &mut DesiredState) {
    let names: Vec<(String, PolicyType)> = d
        .policies
        .values()
        .map(|p| (p.name.clone(), p.policy_type))
        .collect();
    let Some((from, policy_type)) = c.one_of(&names) else {
        return;
    };
    let into: Vec<String> = names
        .iter()
        .filter(|(n, t)| *t == policy_type && *n != from)
        .map(|(n, _)| n.clone())
        .collect();
    let Some(into) = c.one_of(&into) else { return };
    let Some(source) = d.policies.get(&from).cloned() else {
        return;
    };
    if let Some(target) = d.policies.get_mut(&into) {
        let mut units = units_of_document(policy_type, &target.content);
        units.extend(units_of_document(policy_type, &source.content));
        target.content = document(policy_type, &units);
        target.targets.extend(source.targets.iter().cloned());
    }
    if c.chance(60) {
        d.policies.remove(&from);
    } else if let Some(p) = d.policies.get_mut(&from) {
        p.targets.clear();
    }
}

/// Some targets with another SCP drop FullAWSAccess.
fn drop_full_aws_access(c: &mut Chooser<'_>, d: &mut DesiredState) {
    let with_scp: BTreeSet<TargetRef> = d
        .policies
        .values()
        .filter(|p| p.policy_type == PolicyType::ServiceControlPolicy)
        .flat_map(|p| p.targets.iter().cloned())
        .collect();
    for ou in d.ous.values_mut() {
        if with_scp.contains(&TargetRef::Ou(ou.path.clone())) && c.chance(30) {
            ou.full_aws_access = false;
        }
    }
    for a in d.accounts.values_mut() {
        if with_scp.contains(&TargetRef::Account(a.name.clone())) && c.chance(30) {
            a.full_aws_access = false;
        }
    }
}

/// Makes a mutated desired state valid again: targets exist, no target is over the limit or
/// without an SCP, policies are of enabled types.
fn normalize(d: &mut DesiredState) {
    let all: BTreeSet<TargetRef> = targets(d).into_iter().collect();
    let enabled = d.organization.enabled_policy_types.clone();
    d.policies.retain(|_, p| enabled.contains(&p.policy_type));
    for p in d.policies.values_mut() {
        p.targets.retain(|t| all.contains(t));
    }
    for t in &all {
        for policy_type in PolicyType::ALL {
            while attached_count(d, t, policy_type) > LIMIT as usize {
                let last = d
                    .policies
                    .values_mut()
                    .rev()
                    .find(|p| p.policy_type == policy_type && p.targets.contains(t));
                if let Some(p) = last {
                    p.targets.remove(t);
                }
            }
        }
    }
    let with_scp: BTreeSet<TargetRef> = d
        .policies
        .values()
        .filter(|p| p.policy_type == PolicyType::ServiceControlPolicy)
        .flat_map(|p| p.targets.iter().cloned())
        .collect();
    for ou in d.ous.values_mut() {
        ou.full_aws_access |= !with_scp.contains(&TargetRef::Ou(ou.path.clone()));
    }
    for a in d.accounts.values_mut() {
        a.full_aws_access |= !with_scp.contains(&TargetRef::Account(a.name.clone()));
    }
}

fn tags(c: &mut Chooser<'_>) -> Tags {
    let mut t = Tags::new();
    for _ in 0..c.pick(3) {
        t.insert(
            ["env", "team", "cost"][c.pick(3)].into(),
            ["a", "b"][c.pick(2)].into(),
        );
    }
    t
}

/// The next desired state: `d0` (what was applied) changed the way a team changes its YAML.
pub(super) fn evolve(
    c: &mut Chooser<'_>,
    d0: &DesiredState,
    live: &LiveState,
    extras: &Extras,
) -> DesiredState {
    let mut d = d0.clone();
    for t in PolicyType::ALL {
        if c.chance(60) {
            d.organization.enabled_policy_types.insert(t);
        }
    }
    // OUs that hold something orgctl does not manage are the interesting ones to replace.
    let ids = paths_of(live);
    let crowded: BTreeSet<String> = crowded_paths(live, &ids);
    for ou in d.ous.values_mut() {
        let pin = if crowded.contains(&ou.path) { 80 } else { 50 };
        if c.chance(pin) {
            ou.id = ids.get(&ou.path).cloned();
        }
    }
    if c.chance(45) {
        rename_one(c, &mut d, &crowded);
    }
    if c.chance(55) {
        reparent_one(c, &mut d, &crowded);
    }
    if c.chance(30) {
        let n = 1 + c.pick(2);
        add_ous(c, &mut d, n);
    }
    if c.chance(25) {
        remove_leaf_ou(c, &mut d);
    }
    evolve_accounts(c, &mut d, live, extras);
    evolve_policies(c, &mut d);
    adopt(c, &mut d, extras);
    drop_full_aws_access(c, &mut d);
    normalize(&mut d);
    // Last, so that nothing undoes it: a swap keeps the target at the limit.
    if c.chance(80) {
        swap_at_the_limit(c, &mut d, live);
    }
    d
}

/// Paths of live OUs that hold an account not in the YAML or have an unmanaged policy.
fn crowded_paths(live: &LiveState, ids: &BTreeMap<String, String>) -> BTreeSet<String> {
    let interesting: BTreeSet<&str> = live
        .accounts
        .iter()
        .filter(|a| a.name == "stray")
        .map(|a| a.parent_id.as_str())
        .chain(
            live.policies
                .iter()
                .filter(|p| !p.aws_managed && !is_managed(&p.tags))
                .flat_map(|p| p.targets.iter().map(String::as_str)),
        )
        .collect();
    ids.iter()
        .filter(|(_, id)| interesting.contains(id.as_str()))
        .map(|(p, _)| p.clone())
        .collect()
}

/// A random OU that pins its id, preferring `crowded` ones.
fn pinned_ou(c: &mut Chooser<'_>, d: &DesiredState, crowded: &BTreeSet<String>) -> Option<String> {
    let pinned: Vec<String> = d
        .ous
        .values()
        .filter(|o| o.id.is_some())
        .map(|o| o.path.clone())
        .collect();
    let preferred: Vec<String> = pinned
        .iter()
        .filter(|p| crowded.contains(*p))
        .cloned()
        .collect();
    match c.one_of(&preferred) {
        Some(p) if c.chance(70) => Some(p),
        _ => c.one_of(&pinned),
    }
}

/// Moves the OU at `from` (and everything below it) to `to`, everywhere the YAML names it.
fn move_subtree(d: &mut DesiredState, from: &str, to: &str) {
    let prefix = format!("{from}/");
    let rewrite = |p: &str| -> String {
        match p.strip_prefix(&prefix) {
            _ if p == from => to.to_owned(),
            Some(rest) => format!("{to}/{rest}"),
            None => p.to_owned(),
        }
    };
    let old: Vec<OuSpec> = std::mem::take(&mut d.ous).into_values().collect();
    for mut ou in old {
        ou.path = rewrite(&ou.path);
        ou.name = ou.path.rsplit('/').next().unwrap_or_default().into();
        d.ous.insert(ou.path.clone(), ou);
    }
    for a in d.accounts.values_mut() {
        a.ou = rewrite(&a.ou);
    }
    for p in d.policies.values_mut() {
        p.targets = p
            .targets
            .iter()
            .map(|t| match t {
                TargetRef::Ou(path) => TargetRef::Ou(rewrite(path)),
                other => other.clone(),
            })
            .collect();
    }
    for g in d.grants.values_mut() {
        g.targets = g
            .targets
            .iter()
            .map(|t| match t {
                GrantTarget::Ou(path) => GrantTarget::Ou(rewrite(path)),
                other => other.clone(),
            })
            .collect();
    }
}

/// Renames an OU that pins its id (same parent).
fn rename_one(c: &mut Chooser<'_>, d: &mut DesiredState, crowded: &BTreeSet<String>) {
    let Some(from) = pinned_ou(c, d, crowded) else {
        return;
    };
    let to = format!("{from}R");
    if !d.ous.contains_key(&to) {
        move_subtree(d, &from, &to);
    }
}

/// Moves an OU that pins its id under a new parent (a replacement).
fn reparent_one(c: &mut Chooser<'_>, d: &mut DesiredState, crowded: &BTreeSet<String>) {
    let Some(from) = pinned_ou(c, d, crowded) else {
        return;
    };
    let new_parent = format!("/Moved{}", c.pick(3));
    let to = child_path(&new_parent, from.rsplit('/').next().unwrap_or("X"));
    if d.ous.contains_key(&new_parent) || d.ous.keys().any(|k| k.starts_with(&to)) {
        return;
    }
    move_subtree(d, &from, &to);
    d.ous
        .insert(new_parent.clone(), ou_spec(&new_parent, None, Tags::new()));
}

/// Removes an OU without children from the YAML; its accounts go to its parent.
fn remove_leaf_ou(c: &mut Chooser<'_>, d: &mut DesiredState) {
    let leaves: Vec<String> = d
        .ous
        .keys()
        .filter(|p| !d.ous.keys().any(|q| parent_path(q) == p.as_str()))
        .cloned()
        .collect();
    let Some(leaf) = c.one_of(&leaves) else {
        return;
    };
    d.ous.remove(&leaf);
    for a in d.accounts.values_mut() {
        if a.ou == leaf {
            a.ou = parent_path(&leaf).to_owned();
        }
    }
}

fn evolve_accounts(c: &mut Chooser<'_>, d: &mut DesiredState, live: &LiveState, extras: &Extras) {
    let protected_email = extras.protected.as_ref().and_then(|id| {
        live.accounts
            .iter()
            .find(|a| a.id == *id)
            .map(|a| a.email.clone())
    });
    if let Some(id) = &extras.protected {
        d.organization.protected_accounts.insert(id.clone());
    }
    let names: Vec<String> = d.accounts.keys().cloned().collect();
    for name in names {
        let is_protected = d.accounts.get(&name).map(|a| &a.email) == protected_email.as_ref();
        // Moving a protected account is a plan error: rarely asked for.
        let moves = if is_protected { 5 } else { 25 };
        if c.chance(moves) {
            let to = some_container(c, d);
            if let Some(a) = d.accounts.get_mut(&name) {
                a.ou = to;
            }
        } else if c.chance(10) && !is_protected {
            // Dropped from the YAML: left in place, no longer managed.
            d.accounts.remove(&name);
        } else if c.chance(20) {
            let t = tags(c);
            if let Some(a) = d.accounts.get_mut(&name) {
                a.tags = t;
            }
        }
    }
    if c.chance(70) {
        let n = 1 + c.pick(2);
        add_accounts(c, d, n);
    }
}

fn evolve_policies(c: &mut Chooser<'_>, d: &mut DesiredState) {
    let names: Vec<String> = d.policies.keys().cloned().collect();
    for name in names {
        let all = targets(d);
        let Some(p) = d.policies.get_mut(&name) else {
            continue;
        };
        if c.chance(25) {
            p.content = document(p.policy_type, &random_units(c, p.policy_type));
        }
        if c.chance(25)
            && let Some(t) = c.one_of(&all)
            && !p.targets.remove(&t)
        {
            p.targets.insert(t);
        }
        if c.chance(10) {
            d.policies.remove(&name);
        }
    }
    if c.chance(35) {
        fold(c, d);
    }
    for t in d.organization.enabled_policy_types.clone() {
        let n = c.pick(3);
        add_policies(c, d, t, n);
    }
}

/// The YAML takes over some of what was made out of band.
fn adopt(c: &mut Chooser<'_>, d: &mut DesiredState, extras: &Extras) {
    if let Some(path) = &extras.unmanaged_ou
        && c.chance(40)
        && d.ous.contains_key(parent_path(path)) | (parent_path(path) == ROOT_PATH)
    {
        d.ous.insert(path.clone(), ou_spec(path, None, Tags::new()));
    }
    for (name, policy_type) in &extras.unmanaged_policies {
        if c.chance(40) && d.organization.enabled_policy_types.contains(policy_type) {
            let mut p = new_policy(c, name.clone(), *policy_type);
            if let Some(t) = c.one_of(&targets(d)) {
                p.targets.insert(t);
            }
            d.policies.insert(name.clone(), p);
        }
    }
    if let Some(email) = &extras.stray_email
        && c.chance(30)
    {
        let ou = some_container(c, d);
        d.accounts.insert(
            "stray".into(),
            AccountSpec {
                name: "stray".into(),
                email: email.clone(),
                ou,
                id: None,
                tags: Tags::new(),
                lifecycle: Lifecycle::Active,
                full_aws_access: true,
                source: loc(),
            },
        );
    }
}

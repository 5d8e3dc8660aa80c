//! Access grants over the generated organizations: random grant sets (principals outside and
//! inside the organization, external ids, MFA, sessions, managed and inline policies up to
//! IAM's per-role limits, boundaries, targets by account and by OU, exclusions, expiries before
//! and after the plan's day, the read role wanted or not), how a team changes them (hand-overs,
//! renames, removals, permission edits), and what people do to the roles out of band (extra
//! policies, edited trust, sessions, look-alike roles under `/orgctl/`, member roles removed,
//! accounts closed).

use std::collections::{BTreeMap, BTreeSet};

use orgctl_backend::{IamApi, MemoryOrg, NewRole, OrgApi};
use orgctl_model::{
    DesiredState, GrantSpec, GrantTarget, LiveState, ROLE_PATH, SourceLoc, Tags, canonical_json,
};
use serde_json::json;

use super::{Chooser, MGMT};

/// The managed policies grants use: AWS managed ones and customer managed ones of the
/// management account (made to exist in every generated IAM, see [`super::org_from`]), more
/// than a role may carry.
pub const MANAGED: [&str; 12] = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/SecurityAudit",
    "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
    "arn:aws:iam::aws:policy/job-function/Billing",
    "arn:aws:iam::aws:policy/job-function/SupportUser",
    "arn:aws:iam::111111111111:policy/team-a",
    "arn:aws:iam::111111111111:policy/team-b",
    "arn:aws:iam::111111111111:policy/team-c",
    "arn:aws:iam::111111111111:policy/team-d",
];
/// IAM's managed policies per role.
pub const MANAGED_MAX: usize = 10;
/// Permission boundaries grants use.
const BOUNDARIES: [&str; 2] = [
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
];
/// Principals: accounts and roles outside the organization, a role and the root of the
/// management account inside it.
const PRINCIPALS: [&str; 4] = [
    "arn:aws:iam::999999999999:root",
    "arn:aws:iam::888888888888:role/partner-deploy",
    "arn:aws:iam::111111111111:role/ops",
    "arn:aws:iam::777777777777:root",
];
const EXTERNAL_IDS: [&str; 3] = ["partner-a-7f3k", "partner-b-9x2q", "handover-4411"];
/// Expiry days (and the instant access ends): before the plan's day (expired), the plan's day
/// itself (the last day of access), later.
const EXPIRIES: [(&str, &str); 3] = [
    ("2026-11-20", "2026-11-21T00:00:00Z"),
    ("2026-11-27", "2026-11-28T00:00:00Z"),
    ("2027-03-31", "2027-04-01T00:00:00Z"),
];
/// The management account's plan role.
pub const PLAN_ROLE: &str = "arn:aws:iam::111111111111:role/orgctl-plan";
const GRANT_SLOTS: usize = 4;
/// An inline policy document padded to about a third of IAM's 10,240 characters per role, so
/// that three of them on one role come near the limit.
pub const BIG_DOC_CHARS: usize = 3_200;

fn loc() -> SourceLoc {
    SourceLoc {
        file: "grants.yaml".into(),
        line: 1,
        column: 1,
    }
}

/// The principal's account: 12 digits after `arn:aws:iam::`.
fn account_of(principal: &str) -> String {
    principal
        .trim_start_matches("arn:aws:iam::")
        .chars()
        .take(12)
        .collect()
}

/// An inline policy document: allows `service:*`, padded with resources to about `chars`.
pub fn inline_doc(service: &str, chars: usize) -> String {
    let mut resources = vec!["*".to_owned()];
    let mut i = 0;
    while resources.iter().map(|r| r.len() + 3).sum::<usize>() + 80 < chars {
        resources.push(format!(
            "arn:aws:{service}:::resource-{i:04}-padding-to-the-limit"
        ));
        i += 1;
    }
    canonical_json(&json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": format!("{service}:*"), "Resource": resources}],
    }))
}

fn random_inline(c: &mut Chooser<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let big = c.chance(20);
    for _ in 0..c.pick(4) {
        let service = ["s3", "logs", "ssm"][c.pick(3)];
        let chars = if big { BIG_DOC_CHARS } else { 0 };
        out.insert(format!("allow-{service}"), inline_doc(service, chars));
    }
    out
}

fn random_managed(c: &mut Chooser<'_>) -> BTreeSet<String> {
    if c.chance(12) {
        // At the limit.
        let start = c.pick(MANAGED.len());
        return (0..MANAGED_MAX)
            .map(|i| MANAGED[(start + i) % MANAGED.len()].to_owned())
            .collect();
    }
    (0..c.pick(3))
        .map(|_| MANAGED[c.pick(MANAGED.len())].to_owned())
        .collect()
}

fn random_targets(c: &mut Chooser<'_>, d: &DesiredState) -> BTreeSet<GrantTarget> {
    let accounts: Vec<String> = d.accounts.keys().cloned().collect();
    let ous: Vec<String> = d.ous.keys().cloned().collect();
    let mut out = BTreeSet::new();
    for _ in 0..1 + c.pick(2) {
        if c.chance(50) {
            if let Some(a) = c.one_of(&accounts) {
                out.insert(GrantTarget::Account(a));
            }
        } else if let Some(o) = c.one_of(&ous) {
            out.insert(GrantTarget::Ou(o));
        }
    }
    out
}

fn set_principal(c: &mut Chooser<'_>, g: &mut GrantSpec) {
    g.principal = PRINCIPALS[c.pick(PRINCIPALS.len())].to_owned();
    g.principal_account = account_of(&g.principal);
    g.external_id = c
        .chance(60)
        .then(|| EXTERNAL_IDS[c.pick(EXTERNAL_IDS.len())].to_owned());
}

fn set_expiry(c: &mut Chooser<'_>, g: &mut GrantSpec) {
    let (expires, ends) = match c.pick(4) {
        3 => (None, None),
        i => (
            Some(EXPIRIES[i].0.to_owned()),
            Some(EXPIRIES[i].1.to_owned()),
        ),
    };
    g.expires = expires;
    g.access_ends = ends;
}

fn new_grant(c: &mut Chooser<'_>, d: &DesiredState, slot: usize) -> GrantSpec {
    let mut g = GrantSpec {
        name: format!("g{slot}"),
        partner: ["Acme", "Globex"][c.pick(2)].into(),
        owner: "platform".into(),
        ticket: if c.chance(50) {
            "T-1".into()
        } else {
            String::new()
        },
        description: String::new(),
        principal: String::new(),
        principal_account: String::new(),
        external_id: None,
        mfa: c.chance(30),
        max_session_secs: 3600 * (1 + c.pick(12) as i32),
        managed_policies: random_managed(c),
        inline_policies: random_inline(c),
        permissions_boundary: c
            .chance(25)
            .then(|| BOUNDARIES[c.pick(BOUNDARIES.len())].to_owned()),
        targets: random_targets(c, d),
        exclude_accounts: BTreeSet::new(),
        exclude_ids: BTreeSet::new(),
        role_name: format!("partner-{slot}"),
        expires: None,
        access_ends: None,
        source: loc(),
    };
    set_principal(c, &mut g);
    set_expiry(c, &mut g);
    g
}

fn unused_slot(c: &mut Chooser<'_>, d: &DesiredState) -> Option<usize> {
    let start = c.pick(GRANT_SLOTS);
    (0..GRANT_SLOTS)
        .map(|i| (start + i) % GRANT_SLOTS)
        .find(|i| {
            let name = format!("g{i}");
            let role = format!("partner-{i}");
            !d.grants.contains_key(&name) && !d.grants.values().any(|g| g.role_name == role)
        })
}

/// Random grants (and the read role, or not) for a desired state.
pub(super) fn gen_grants(c: &mut Chooser<'_>, d: &mut DesiredState) {
    if c.chance(40) {
        d.organization.plan_role = Some(PLAN_ROLE.to_owned());
    }
    for _ in 0..c.pick(4) {
        if let Some(slot) = unused_slot(c, d) {
            let g = new_grant(c, d, slot);
            d.grants.insert(g.name.clone(), g);
        }
    }
}

/// The next grants: hand-overs, permission edits, target changes, renames, removals, new
/// grants, expiries, the read role switched on or off; exclusions of accounts the YAML does
/// not list.
pub(super) fn evolve_grants(c: &mut Chooser<'_>, d: &mut DesiredState, live: &LiveState) {
    if c.chance(20) {
        d.organization.plan_role = match d.organization.plan_role {
            Some(_) => None,
            None => Some(PLAN_ROLE.to_owned()),
        };
    }
    let unlisted: Vec<String> = live
        .accounts
        .iter()
        .filter(|a| {
            a.id != MGMT
                && !d
                    .accounts
                    .values()
                    .any(|s| s.email.eq_ignore_ascii_case(&a.email))
        })
        .map(|a| a.id.clone())
        .collect();
    let names: Vec<String> = d.grants.keys().cloned().collect();
    for name in names {
        let Some(mut g) = d.grants.remove(&name) else {
            continue;
        };
        if c.chance(12) {
            // Removed.
            continue;
        }
        if c.chance(25) {
            // Handed over to another partner (with its own external id).
            set_principal(c, &mut g);
        }
        if c.chance(15) {
            g.mfa = !g.mfa;
        }
        if c.chance(15) {
            g.max_session_secs = 3600 * (1 + c.pick(12) as i32);
        }
        if c.chance(30) {
            g.managed_policies = random_managed(c);
        }
        if c.chance(25) {
            g.inline_policies = random_inline(c);
        }
        if c.chance(20) {
            g.permissions_boundary = c
                .chance(60)
                .then(|| BOUNDARIES[c.pick(BOUNDARIES.len())].to_owned());
        }
        if c.chance(30) {
            g.targets = random_targets(c, d);
        }
        if c.chance(20) {
            // Past its expiry now.
            g.expires = Some(EXPIRIES[0].0.to_owned());
            g.access_ends = Some(EXPIRIES[0].1.to_owned());
        } else if c.chance(20) {
            set_expiry(c, &mut g);
        }
        if c.chance(20) {
            let names: Vec<String> = d.accounts.keys().cloned().collect();
            if let Some(n) = c.one_of(&names) {
                g.exclude_accounts.insert(n);
            }
        }
        if c.chance(20)
            && let Some(id) = c.one_of(&unlisted)
        {
            g.exclude_ids.insert(id);
        }
        if c.chance(10)
            && let Some(slot) = unused_slot(c, d)
            && slot.to_string() != g.name[1..]
        {
            // Renamed; the role keeps its name half of the time (it then changes hands).
            g.name = format!("g{slot}");
            if c.chance(50) {
                g.role_name = format!("partner-{slot}");
            }
        }
        d.grants.insert(g.name.clone(), g);
    }
    if c.chance(40)
        && let Some(slot) = unused_slot(c, d)
    {
        let g = new_grant(c, d, slot);
        d.grants.insert(g.name.clone(), g);
    }
    // Targets of accounts and OUs the YAML no longer has go.
    for g in d.grants.values_mut() {
        g.targets.retain(|t| match t {
            GrantTarget::Account(n) => d.accounts.contains_key(n),
            GrantTarget::Ou(p) => d.ous.contains_key(p),
        });
        g.exclude_accounts.retain(|n| d.accounts.contains_key(n));
    }
}

/// What was done to IAM out of band.
#[derive(Debug, Default)]
pub struct IamExtras {
    /// An account whose member role was removed.
    pub no_member_role: Option<String>,
    /// An account closed out of band (the stray one).
    pub closed: Option<String>,
}

/// Edits to managed roles (an extra managed or inline policy, an edited trust policy, another
/// session), a look-alike role under `/orgctl/` without orgctl's tag (sometimes named like a
/// grant's role), a member role removed, the stray account closed.
pub(super) async fn out_of_band_iam(
    c: &mut Chooser<'_>,
    org: &MemoryOrg,
    stray_email: Option<&str>,
) -> IamExtras {
    let mut extras = IamExtras::default();
    let iam = org.iam();
    let roles = iam.access_roles();
    for _ in 0..c.pick(3) {
        let Some(r) = c.one_of(&roles) else { break };
        let (a, n) = (r.account_id.as_str(), r.role_name.as_str());
        // Errors (a limit reached) leave the role as it is, as IAM would.
        let _ = match c.pick(5) {
            0 => {
                iam.attach_policy(a, n, MANAGED[c.pick(MANAGED.len())])
                    .await
            }
            1 => {
                iam.update_trust_policy(
                    a,
                    n,
                    &orgctl_model::trust_policy(
                        "arn:aws:iam::666666666666:root",
                        None,
                        false,
                        None,
                    ),
                )
                .await
            }
            2 => iam.update_role(a, n, &r.description, 43_200).await,
            3 => {
                iam.put_inline_policy(a, n, "backdoor", &inline_doc("ec2", 0))
                    .await
            }
            _ => {
                let keys: Vec<String> = r.inline_policies.keys().cloned().collect();
                match c.one_of(&keys) {
                    Some(p) => iam.delete_inline_policy(a, n, &p).await,
                    None => iam.detach_policy(a, n, MANAGED[0]).await,
                }
            }
        };
    }
    let live = org.to_live();
    let members: Vec<String> = live
        .accounts
        .iter()
        .filter(|a| a.id != MGMT)
        .map(|a| a.id.clone())
        .collect();
    if c.chance(30)
        && let Some(a) = c.one_of(&members)
    {
        let name = if c.chance(50) {
            "lookalike".to_owned()
        } else {
            // Named like a grant's role (another case of letters).
            format!("Partner-{}", c.pick(GRANT_SLOTS))
        };
        let _ = iam
            .create_role(
                &a,
                &NewRole {
                    path: ROLE_PATH.to_owned(),
                    name,
                    trust_policy: orgctl_model::trust_policy(
                        "arn:aws:iam::555555555555:root",
                        None,
                        false,
                        None,
                    ),
                    description: String::new(),
                    max_session_secs: 3600,
                    tags: Tags::new(),
                },
            )
            .await;
    }
    if c.chance(12)
        && let Some(a) = c.one_of(&members)
    {
        iam.remove_member_role(&a);
        extras.no_member_role = Some(a);
    }
    if let Some(email) = stray_email
        && c.chance(15)
        && let Some(a) = live.accounts.iter().find(|a| a.email == email)
    {
        org.close_account(&a.id)
            .await
            .expect("close the stray account");
        extras.closed = Some(a.id.clone());
    }
    extras
}

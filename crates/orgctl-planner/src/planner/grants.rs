//! Phase 7: the IAM roles orgctl keeps in member accounts — one per access grant and target
//! account, and orgctl's read role — diffed against the roles under `/orgctl/` that were read.
//!
//! Targets (DESIGN-grants §3): accounts by name, and every account below each target OU
//! (desired accounts whose desired OU is at or below the path, plus live accounts the YAML does
//! not list below the live OU the path matches, recursively), minus exclusions by name and id;
//! ACTIVE member accounts only, never the management account. An account the same apply
//! creates is referred to as `Ref::NewAccount(email)` (its role changes come after the
//! `CreateAccount`). A grant past `expires` (judged against the plan's `today`) has no targets.
//!
//! Reading: an account is known only through `LiveState.iam_accounts`. An account with no entry
//! there was not read (an old snapshot, or a reader that does not read IAM), and an account whose
//! entry is `Unreadable` could not be read: in both, nothing is planned (no role could be known
//! not to exist), and a warning names the account and the grants that cannot be verified (for an
//! account with no entry, only when a role is wanted there). An account the same apply creates
//! has no roles yet. A fallback read is a note.
//!
//! Operations per role keep access from ever widening by accident ([`role_ops`]): narrowing
//! first (phase A), then boundary, trust, description and tags (phase B), then widening
//! (phase C). Across roles: deletions, then updates, then creations.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use orgctl_model::{
    AccountSpec, AccountStatus, GrantSpec, GrantTarget, IamRead, Lifecycle, LiveAccessRole,
    MANAGED_BY_KEY, MANAGED_BY_VALUE, Op, READ_ROLE_NAME, READ_ROLE_POLICY, READ_ROLE_POLICY_NAME,
    READ_ROLE_TAG_VALUE, ROLE_PATH, ROLE_TAG_KEY, ROLES_RECORD_TAG, ROLES_RECORD_VALUE, Ref, Tags,
    canonical_json_str, has_roles_record, is_closed_trust, trust_policy,
};
use serde_json::{Value, json};

use super::matching::OuState;
use super::{Output, Planner, RefKey};
use crate::access_report::trust_conditions;
use crate::fast_hash::FastMap;
use crate::plan::{
    AccessEffect, AccessEntry, AccessPermissions, Action, Change, PrincipalAccess, ResourceKind,
};
use crate::records::RecordWrite;

/// The address prefix of the warnings and notes that say how IAM was read in an account
/// (`iam account NAME`); [`crate::planfile::difference`] leaves them out.
pub const IAM_READ_ADDRESS_PREFIX: &str = "iam account ";

/// The read role's description (DESIGN-grants §2).
pub(crate) use orgctl_model::READ_ROLE_DESCRIPTION;
/// The read role's session length.
const READ_ROLE_SESSION: i32 = orgctl_model::READ_ROLE_SESSION_SECS;
/// The grant name the access review and addresses use for orgctl's read role.
pub(crate) const READ_ROLE_GRANT: &str = "read-role";
/// A principal the trust policy does not name plainly.
const UNKNOWN_PRINCIPAL: &str = "(unknown principal)";

/// A role as orgctl compares it: everything it sets.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub(crate) struct RoleSpec {
    pub(crate) name: String,
    pub(crate) trust_policy: String,
    pub(crate) description: String,
    pub(crate) max_session_secs: i32,
    pub(crate) managed_policies: BTreeSet<String>,
    pub(crate) inline_policies: BTreeMap<String, String>,
    pub(crate) permissions_boundary: Option<String>,
    pub(crate) tags: Tags,
}

impl RoleSpec {
    /// The role a grant wants in each target account.
    pub(crate) fn for_grant(g: &GrantSpec) -> RoleSpec {
        RoleSpec {
            name: g.role_name.clone(),
            trust_policy: g.trust_policy(),
            description: g.role_description(),
            max_session_secs: g.max_session_secs,
            managed_policies: g.managed_policies.clone(),
            inline_policies: g.inline_policies.clone(),
            permissions_boundary: g.permissions_boundary.clone(),
            tags: g.role_tags(),
        }
    }

    /// orgctl's read role, trusting the plan role.
    pub(crate) fn read_role(plan_role: &str) -> RoleSpec {
        RoleSpec {
            name: READ_ROLE_NAME.to_owned(),
            trust_policy: trust_policy(plan_role, None, false, None),
            description: READ_ROLE_DESCRIPTION.to_owned(),
            max_session_secs: READ_ROLE_SESSION,
            managed_policies: BTreeSet::new(),
            inline_policies: BTreeMap::from([(
                READ_ROLE_POLICY_NAME.to_owned(),
                READ_ROLE_POLICY.to_owned(),
            )]),
            permissions_boundary: None,
            tags: Tags::from([
                (MANAGED_BY_KEY.to_owned(), MANAGED_BY_VALUE.to_owned()),
                (ROLE_TAG_KEY.to_owned(), READ_ROLE_TAG_VALUE.to_owned()),
            ]),
        }
    }

    /// A live role as read (documents canonicalised, so formatting never shows as a change;
    /// a document equal to `like`'s as it stands is taken as it is, which saves the parse).
    pub(crate) fn from_live(r: &LiveAccessRole, like: Option<&RoleSpec>) -> RoleSpec {
        let canon = |s: &str, same: Option<&String>| {
            if same.is_some_and(|d| d == s) {
                s.to_owned()
            } else {
                canonical_json_str(s).unwrap_or_else(|| s.to_owned())
            }
        };
        RoleSpec {
            name: r.role_name.clone(),
            trust_policy: canon(&r.trust_policy, like.map(|l| &l.trust_policy)),
            description: r.description.clone(),
            max_session_secs: r.max_session_secs,
            managed_policies: r.managed_policies.clone(),
            inline_policies: r
                .inline_policies
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        canon(v, like.and_then(|l| l.inline_policies.get(k))),
                    )
                })
                .collect(),
            permissions_boundary: r.permissions_boundary.clone(),
            tags: r.tags.clone(),
        }
    }

    /// Whether it requires MFA and an external id, for the review.
    fn conditions(&self) -> (bool, bool) {
        let c = trust_conditions(&self.trust_policy);
        (c.mfa, c.external_id)
    }

    /// Its permissions by name, for the review.
    fn permissions(&self) -> AccessPermissions {
        AccessPermissions {
            managed_policies: self.managed_policies.iter().map(|a| arn_name(a)).collect(),
            inline_policies: self.inline_policies.keys().cloned().collect(),
            permissions_boundary: self.permissions_boundary.as_deref().map(arn_name),
        }
    }
}

/// Whether a role operation only takes permissions away. Putting a boundary does: on a role
/// without one it only restricts, and [`role_ops`] strips every permission of a role before it
/// replaces its boundary; so does a closed trust policy (it lets no one in).
pub(crate) fn narrows(op: &Op) -> bool {
    match op {
        Op::DetachRolePolicy { .. }
        | Op::DeleteRolePolicy { .. }
        | Op::DeleteRole { .. }
        | Op::PutRolePermissionsBoundary { .. } => true,
        Op::UpdateTrustPolicy { trust_policy, .. } => is_closed_trust(trust_policy),
        _ => false,
    }
}

/// The operations that turn the role `live` into `desired` in `account` (either may be absent:
/// a creation or a deletion), ordered so that no prefix of them lets the role do more than it
/// could before and more than it may after:
///
/// - phase A (narrowing): managed policies no longer wanted are detached, inline policies no
///   longer wanted or changed are deleted; when the boundary is removed or replaced, every
///   remaining permission goes too (it comes back in phase C, under the new boundary); a trust
///   policy that changes is replaced by the new one closed ([`orgctl_model::closed_trust`]: no
///   one let in);
/// - phase B: the boundary is put or deleted, then the trust policy (opened), description and
///   session, and the tags;
/// - phase C (widening): inline policies are put and managed policies attached.
///
/// Across roles, deletions come first, then the updates that only narrow and the narrowing steps
/// (phase A) of every update that also widens, then the rest of the updates (those that give
/// nothing first, then those that also change the trust policy), then creations ([`narrows`]).
///
/// A new role is created (trust, description, session, tags) with no permissions, then gets its
/// boundary and permissions; a deleted role loses its permissions, then is deleted.
/// `keep_tags` are tag keys other tools own on the role (never removed).
pub(crate) fn role_ops(
    account: &Ref,
    live: Option<&RoleSpec>,
    desired: Option<&RoleSpec>,
    keep_tags: &BTreeSet<String>,
) -> Vec<Op> {
    let mut ops = Vec::new();
    let name = match (live, desired) {
        (_, Some(d)) => d.name.clone(),
        (Some(l), None) => l.name.clone(),
        (None, None) => return ops,
    };
    let empty = RoleSpec::default();
    let have = live.unwrap_or(&empty);
    let want_perms = desired.unwrap_or(&empty);
    // Phase A.
    let strip_all = desired.is_none()
        || (have.permissions_boundary.is_some()
            && have.permissions_boundary != want_perms.permissions_boundary);
    for arn in &have.managed_policies {
        if strip_all || !want_perms.managed_policies.contains(arn) {
            ops.push(Op::DetachRolePolicy {
                account: account.clone(),
                role_name: name.clone(),
                policy_arn: arn.clone(),
            });
        }
    }
    for (policy, doc) in &have.inline_policies {
        if strip_all || want_perms.inline_policies.get(policy) != Some(doc) {
            ops.push(Op::DeleteRolePolicy {
                account: account.clone(),
                role_name: name.clone(),
                policy_name: policy.clone(),
            });
        }
    }
    let Some(want) = desired else {
        ops.push(Op::DeleteRole {
            account: account.clone(),
            role_name: name,
        });
        return ops;
    };
    // A new trust first goes in closed (no one let in), with the narrowing: its principals
    // gain the role only in phase B, after every role's narrowing of the apply.
    let moves_trust = live.is_some() && have.trust_policy != want.trust_policy;
    if moves_trust && !is_closed_trust(&have.trust_policy) {
        ops.push(Op::UpdateTrustPolicy {
            account: account.clone(),
            role_name: name.clone(),
            trust_policy: orgctl_model::closed_trust(&want.trust_policy),
        });
    }
    // Phase B.
    if live.is_none() {
        ops.push(Op::CreateRole {
            account: account.clone(),
            role: orgctl_model::RoleDefinition {
                name: name.clone(),
                path: ROLE_PATH.to_owned(),
                trust_policy: want.trust_policy.clone(),
                description: want.description.clone(),
                max_session_secs: want.max_session_secs,
                tags: want.tags.clone(),
            },
        });
    }
    if have.permissions_boundary != want.permissions_boundary {
        match &want.permissions_boundary {
            Some(arn) => ops.push(Op::PutRolePermissionsBoundary {
                account: account.clone(),
                role_name: name.clone(),
                policy_arn: arn.clone(),
            }),
            None if live.is_some() => ops.push(Op::DeleteRolePermissionsBoundary {
                account: account.clone(),
                role_name: name.clone(),
            }),
            None => {}
        }
    }
    if live.is_some() {
        if moves_trust {
            ops.push(Op::UpdateTrustPolicy {
                account: account.clone(),
                role_name: name.clone(),
                trust_policy: want.trust_policy.clone(),
            });
        }
        if have.description != want.description || have.max_session_secs != want.max_session_secs {
            ops.push(Op::UpdateRole {
                account: account.clone(),
                role_name: name.clone(),
                description: want.description.clone(),
                max_session_secs: want.max_session_secs,
            });
        }
        let set: Tags = want
            .tags
            .iter()
            .filter(|(k, v)| have.tags.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let unset: BTreeSet<String> = have
            .tags
            .keys()
            .filter(|k| !want.tags.contains_key(*k) && !keep_tags.contains(*k))
            .cloned()
            .collect();
        if !set.is_empty() {
            ops.push(Op::TagRole {
                account: account.clone(),
                role_name: name.clone(),
                tags: set,
            });
        }
        if !unset.is_empty() {
            ops.push(Op::UntagRole {
                account: account.clone(),
                role_name: name.clone(),
                keys: unset,
            });
        }
    }
    // Phase C.
    for (policy, doc) in &want.inline_policies {
        if strip_all || have.inline_policies.get(policy) != Some(doc) {
            ops.push(Op::PutRolePolicy {
                account: account.clone(),
                role_name: name.clone(),
                policy_name: policy.clone(),
                document: doc.clone(),
            });
        }
    }
    for arn in &want.managed_policies {
        if strip_all || !have.managed_policies.contains(arn) {
            ops.push(Op::AttachRolePolicy {
                account: account.clone(),
                role_name: name.clone(),
                policy_arn: arn.clone(),
            });
        }
    }
    ops
}

/// The live accounts (ids) `grant` targets, expanded exactly as the plan expands them (accounts
/// the same apply would create are left out); none when it has expired on `today`. The access
/// review of `orgctl access` uses it.
pub(crate) fn grant_target_ids(
    desired: &orgctl_model::DesiredState,
    live: &orgctl_model::LiveState,
    grant: &GrantSpec,
    today: &str,
) -> BTreeSet<String> {
    if grant.is_expired(today) {
        return BTreeSet::new();
    }
    let mut out = Output::default();
    let index = super::LiveIndex::new(live);
    let matched = super::Matching::new(desired, live, &index, &mut out);
    let planner = Planner {
        desired,
        live,
        index,
        matched,
        today,
    };
    planner
        .grant_targets(grant, &planner.targets_by_ou())
        .into_iter()
        .filter_map(|t| t.key.id().map(str::to_owned))
        .collect()
}

/// Who a desired role is for.
#[derive(Clone, Copy)]
pub(super) enum Owner<'a> {
    Grant(&'a GrantSpec),
    Read(&'a str),
}

impl<'a> Owner<'a> {
    fn grant_name(&self) -> &'a str {
        match *self {
            Owner::Grant(g) => g.name.as_str(),
            Owner::Read(_) => READ_ROLE_GRANT,
        }
    }
    fn principal(&self) -> &'a str {
        match self {
            Owner::Grant(g) => &g.principal,
            Owner::Read(plan_role) => plan_role,
        }
    }
    fn label(&self) -> String {
        match self {
            Owner::Grant(g) => format!("partner {}", g.partner),
            Owner::Read(_) => "orgctl plan role".to_owned(),
        }
    }
    fn expires(&self) -> Option<String> {
        match self {
            Owner::Grant(g) => g.expires.clone(),
            Owner::Read(_) => None,
        }
    }
    fn spec(&self) -> RoleSpec {
        match self {
            Owner::Grant(g) => RoleSpec::for_grant(g),
            Owner::Read(plan_role) => RoleSpec::read_role(plan_role),
        }
    }
}

/// Desired roles: (account, its name, role name → owner), sorted by account, one entry each.
type Wanted<'a> = Vec<(Target<'a>, BTreeMap<&'a str, Owner<'a>>)>;

/// Adds a desired role to an account's (named `account`); two with the same name
/// (case-insensitively) in one account are a plan error.
fn want<'a>(
    roles: &mut BTreeMap<&'a str, Owner<'a>>,
    account: &str,
    owner: Owner<'a>,
    out: &mut Output,
) {
    let spec_name: &'a str = match owner {
        Owner::Grant(g) => g.role_name.as_str(),
        Owner::Read(_) => READ_ROLE_NAME,
    };
    if let Some((_, other)) = roles
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(spec_name))
    {
        out.error(
            format!("grant/{} -> account {account}", owner.grant_name()),
            format!(
                "two roles named {spec_name} in account {account}: {} and {} (IAM role names are \
                 unique per account, case-insensitively); give one grant another role_name",
                other.grant_name(),
                owner.grant_name(),
            ),
            None,
        );
        return;
    }
    roles.insert(spec_name, owner);
}

/// Desired accounts' role targets by OU path ([`Planner::targets_by_ou`]): each with its live
/// name when it exists.
type TargetsByOu<'a> = BTreeMap<&'a str, Vec<(Option<Target<'a>>, Option<&'a str>)>>;

/// `items` in account order, each account's in their order (already sorted, as the live-state
/// reader returns them, costs one pass).
pub(super) fn by_account<T>(items: &[T], account: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut out: Vec<&T> = items.iter().collect();
    if !out.is_sorted_by(|a, b| account(a) <= account(b)) {
        out.sort_by(|a, b| account(a).cmp(account(b)));
    }
    out
}

/// An account the roles phase looks at ([`Planner::role_accounts`]).
struct RoleAccount<'a> {
    key: RefKey<'a>,
    name: &'a str,
    /// The roles the plan wants there (none: only roles to delete, if any).
    wanted: Option<&'a BTreeMap<&'a str, Owner<'a>>>,
    /// How its IAM was read (none: not read).
    read: Option<&'a IamRead>,
    /// Its live roles, in the order they were read.
    roles: &'a [&'a LiveAccessRole],
    /// The live account (an account this apply creates has none).
    live: Option<&'a orgctl_model::LiveAccount>,
}

/// An account a role may be kept in, and its name.
#[derive(Clone, Copy)]
pub(super) struct Target<'a> {
    /// A live account by id, or one this apply creates by its (lower-cased) email.
    pub(super) key: RefKey<'a>,
    name: &'a str,
    /// The live account (an account this apply creates has none), and the desired account
    /// the matching says it is: what the views and the roles record read, without a lookup.
    pub(super) live: Option<&'a orgctl_model::LiveAccount>,
    pub(super) matched: Option<&'a AccountSpec>,
}

/// What one planned role change means to a reviewer (input of the access review).
struct RoleEvent<'s> {
    account: &'s str,
    role: &'s str,
    /// The live role: its principal, holder, grant and the role.
    /// (Boxed: most events create a role, and a small event moves little as the list grows.)
    before: Option<Box<(String, String, String, RoleSpec)>>,
    after: Option<After<'s>>,
    why: Cow<'s, str>,
    out_of_band: bool,
}

/// The desired side of a role change.
struct After<'s> {
    principal: &'s str,
    label: String,
    grant: &'s str,
    spec: &'s WantedSpec,
    expires: Option<String>,
}

/// An owner's role, built once, with what every change and review entry of it shows.
pub(super) struct WantedSpec {
    pub(super) spec: RoleSpec,
    /// [`role_json`] of it.
    json: Value,
    /// Whether it requires MFA and an external id.
    conditions: (bool, bool),
    permissions: AccessPermissions,
}

impl WantedSpec {
    fn new(spec: RoleSpec) -> Self {
        WantedSpec {
            json: role_json(&spec),
            conditions: spec.conditions(),
            permissions: spec.permissions(),
            spec,
        }
    }
}

/// The roles the plan wants, computed once: what [`Planner::role_changes`] plans towards, and
/// what the records of an account cover ([`WantedRoles::account_roles`]).
pub(super) struct WantedRoles<'a> {
    /// Per account, role name → owner.
    wanted: Wanted<'a>,
    /// Grants past `expires`: name → the last day.
    expired: HashMap<&'a str, &'a str>,
    /// Each owner's role (by grant name, `read-role` for the read role), built once.
    specs: FastMap<&'a str, WantedSpec>,
}

impl<'a> WantedRoles<'a> {
    /// The live accounts where a role is wanted (accounts this apply creates left out).
    pub(super) fn account_ids(&self) -> impl Iterator<Item = &str> {
        self.wanted.iter().filter_map(|(t, _)| t.key.id())
    }

    /// Each owner's role's SHA-256 (of its canonical JSON, so it does not depend on field
    /// order), by grant name; each role is hashed once.
    pub(super) fn role_hashes(&self) -> HashMap<&'a str, String> {
        self.specs
            .iter()
            .map(|(grant, spec)| {
                let value = serde_json::to_value(&spec.spec).unwrap_or_default();
                (*grant, orgctl_model::fingerprint(&value))
            })
            .collect()
    }

    /// Per live account (its id, the live account and the desired one matched to it), the
    /// roles wanted there (role name → owner, sorted by name).
    pub(super) fn account_roles(
        &self,
    ) -> impl Iterator<Item = (&'a str, &Target<'a>, &BTreeMap<&'a str, Owner<'a>>)> {
        self.wanted
            .iter()
            .filter_map(|(t, roles)| t.key.id().map(|id| (id, t, roles)))
    }

    /// An account's roles from [`WantedRoles::account_roles`] as (role name, the role's hash
    /// from [`WantedRoles::role_hashes`]), sorted by name, into `into`.
    pub(super) fn role_hashes_of<'s>(
        roles: &BTreeMap<&'s str, Owner<'_>>,
        hashes: &'s HashMap<&str, String>,
        into: &mut Vec<(&'s str, &'s str)>,
    ) {
        into.clear();
        into.extend(roles.iter().filter_map(|(name, owner)| {
            hashes.get(owner.grant_name()).map(|h| (*name, h.as_str()))
        }));
    }
}

impl<'a> Planner<'a> {
    /// The roles the plan wants in each account (grant targets, and the read role where it is
    /// kept); two roles of one name in one account are a plan error.
    pub(super) fn wanted_roles(&self, out: &mut Output) -> WantedRoles<'_> {
        let desired: &'a orgctl_model::DesiredState = self.desired;
        let today = self.today;
        // Usually about one entry per desired account: sized once, not grown.
        let mut wanted: Wanted<'_> = Vec::with_capacity(desired.accounts.len());
        // Each account's entry in `wanted` (sorted once, at the end).
        let mut entries: FastMap<RefKey, usize> = FastMap::default();
        entries.reserve(desired.accounts.len());
        fn entry<'t>(
            entries: &mut FastMap<RefKey<'t>, usize>,
            wanted: &mut Wanted<'t>,
            t: Target<'t>,
        ) -> usize {
            *entries.entry(t.key).or_insert_with(|| {
                wanted.push((t, BTreeMap::new()));
                wanted.len() - 1
            })
        }
        let mut expired: HashMap<&str, &str> = HashMap::new();
        let by_ou = self.targets_by_ou();
        for g in desired.grants.values() {
            if g.is_expired(today) {
                expired.insert(g.name.as_str(), g.expires.as_deref().unwrap_or_default());
                continue;
            }
            for t in self.grant_targets(g, &by_ou) {
                let i = entry(&mut entries, &mut wanted, t);
                let (t, roles) = &mut wanted[i];
                want(roles, t.name, Owner::Grant(g), out);
            }
        }
        if desired.organization.plan_role.is_some() {
            for t in by_ou.values().flatten().filter_map(|(t, _)| *t) {
                entry(&mut entries, &mut wanted, t);
            }
        }
        wanted.sort_unstable_by_key(|(t, _)| t.key);
        // The read role: in every grant target and every ACTIVE member account the YAML lists,
        // in account order. (An account's name is the same whichever way it was reached.)
        if let Some(plan_role) = &desired.organization.plan_role {
            for (t, roles) in &mut wanted {
                want(roles, t.name, Owner::Read(plan_role), out);
            }
        }

        // Each owner's role, built once (a trust policy is rendered JSON).
        let mut specs: FastMap<&str, WantedSpec> = FastMap::default();
        for (_, owners) in &wanted {
            for owner in owners.values() {
                if !specs.contains_key(owner.grant_name()) {
                    specs.insert(owner.grant_name(), WantedSpec::new(owner.spec()));
                }
            }
        }
        WantedRoles {
            wanted,
            expired,
            specs,
        }
    }

    /// The role changes, their warnings, notes and errors, and the access review.
    pub(super) fn role_changes(
        &self,
        roles: &WantedRoles<'_>,
        out: &mut Output,
    ) -> Vec<PrincipalAccess> {
        let desired = self.desired;
        let WantedRoles {
            wanted,
            expired,
            specs,
        } = roles;
        // Each account's live roles, in the order they were read (a later role of a name
        // replaces an earlier one).
        let live_roles = by_account(&self.live.access_roles, |r| &r.account_id);
        let accounts = self.role_accounts(wanted, &live_roles);
        // Per grant, which aspects some live role of it already has as the YAML says: an
        // update that only brings such aspects back is an edit made outside orgctl. Only the
        // accounts the YAML names count: a scoped read (plan, apply) reads no other, and the
        // plan must not depend on how much was read.
        let mut as_desired: HashMap<&str, [bool; ASPECTS]> = HashMap::new();
        // Grants whose every aspect was seen as desired: when all are, no other role can
        // change the outcome.
        let mut complete = 0;
        for r in &self.live.access_roles {
            if complete == specs.len() {
                break;
            }
            if !r.is_managed()
                || !self
                    .matched
                    .matched_accounts
                    .contains_key(r.account_id.as_str())
            {
                continue;
            }
            let grant = if r.is_read_role() {
                READ_ROLE_GRANT
            } else {
                match r.grant() {
                    Some(g) => g,
                    None => continue,
                }
            };
            let Some(want) = specs.get(grant) else {
                continue;
            };
            let want = &want.spec;
            if r.role_name != want.name {
                continue;
            }
            let seen = as_desired.entry(grant).or_insert([false; ASPECTS]);
            if seen.iter().all(|f| *f) {
                continue;
            }
            if same_as(r, want) {
                *seen = [true; ASPECTS];
            } else {
                let have = RoleSpec::from_live(r, Some(want));
                for (flag, same) in seen.iter_mut().zip(aspects()) {
                    *flag |= same(&have, want);
                }
            }
            if seen.iter().all(|f| *f) {
                complete += 1;
            }
        }

        let keep = &desired.organization.ignore_tag_keys;
        let (mut deletes, mut updates, mut creates) = (Vec::new(), Vec::new(), Vec::new());
        // The narrowing first steps of updates that also widen: every role's narrowing comes
        // before any role's widening, so no principal ever holds the old permissions of one
        // role together with the new ones of another.
        let mut narrowing = Vec::new();
        let mut events: Vec<RoleEvent> = Vec::new();
        let mut unverified: Vec<(String, Owner, String)> = Vec::new();
        let no_roles = BTreeMap::new();
        // An account's managed roles by name, and the others (reused from account to account).
        let mut managed: Vec<(&str, &LiveAccessRole)> = Vec::new();
        let mut unmanaged: Vec<&LiveAccessRole> = Vec::new();
        for RoleAccount {
            key,
            name: account_name,
            wanted: wanted_here,
            read: state,
            roles: here,
            live: live_account,
        } in accounts
        {
            let (deletes_before, creates_before) = (deletes.len(), creates.len());
            let wanted_here = wanted_here.unwrap_or(&no_roles);
            // How IAM was read is said under its own address: `apply --plan` does not compare
            // it (a plan reads through the read role, an apply through the member role).
            // Written only for a warning or a note.
            let account_address = || format!("{IAM_READ_ADDRESS_PREFIX}{account_name}");
            let id = key.id();
            match state {
                Some(IamRead::Unreadable { reason }) => {
                    let names: Vec<&str> = wanted_here.values().map(Owner::grant_name).collect();
                    let what = if names.is_empty() {
                        "roles orgctl keeps there are not checked".to_owned()
                    } else {
                        format!(
                            "{} cannot be verified there",
                            list("grant", "grants", &names)
                        )
                    };
                    out.warnings.push(crate::plan::Warning {
                        address: account_address(),
                        message: format!(
                            "IAM in account {account_name} ({}) could not be read ({reason}): \
                             {what}; no role changes are planned in it",
                            id.unwrap_or_default()
                        ),
                        source: None,
                    });
                    unverified.extend(wanted_here.values().map(|o| {
                        (
                            account_name.to_owned(),
                            *o,
                            "IAM could not be read".to_owned(),
                        )
                    }));
                    continue;
                }
                None => {
                    if !wanted_here.is_empty() {
                        let names: Vec<&str> =
                            wanted_here.values().map(Owner::grant_name).collect();
                        out.warnings.push(crate::plan::Warning {
                            address: account_address(),
                            message: format!(
                                "IAM in account {account_name} ({}) was not read: {} cannot be \
                                 verified there; no role changes are planned in it",
                                id.unwrap_or_default(),
                                list("grant", "grants", &names)
                            ),
                            source: None,
                        });
                        unverified.extend(
                            wanted_here.values().map(|o| {
                                (account_name.to_owned(), *o, "IAM was not read".to_owned())
                            }),
                        );
                    }
                    continue;
                }
                Some(IamRead::Fallback { reason }) => out.note(
                    account_address(),
                    format!(
                        "IAM in account {account_name} was read through the member role \
                         ({}): orgctl's read role could not be used ({reason})",
                        desired.organization.member_role
                    ),
                ),
                Some(IamRead::ReadRole | IamRead::MemberRole) => {}
            }
            // The managed roles by name (a later one of the same name replaces an earlier).
            managed.clear();
            unmanaged.clear();
            for r in here {
                if r.is_managed() {
                    managed.push((r.role_name.as_str(), r));
                    continue;
                }
                unmanaged.push(r);
                let collides = wanted_here
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&r.role_name));
                match collides {
                    Some((n, owner)) => out.error(
                        format!("grant/{} -> account {account_name}", owner.grant_name()),
                        format!(
                            "account {account_name} already has a role {}{} that orgctl does not \
                             manage (no managed-by tag); IAM role names are unique per account \
                             case-insensitively, so role {n} cannot be created: rename or remove \
                             that role, or give the grant another role_name",
                            r.path, r.role_name
                        ),
                        match owner {
                            Owner::Grant(g) => Some(&g.source),
                            Owner::Read(_) => Some(&desired.organization.source),
                        },
                    ),
                    None => out.note(
                        format!("role {}{} in account {account_name}", r.path, r.role_name),
                        format!(
                            "role {} under {ROLE_PATH} is not managed by orgctl (no managed-by \
                             tag) — left in place",
                            r.role_name
                        ),
                    ),
                }
            }
            managed.reverse();
            managed.sort_by_key(|(n, _)| *n);
            managed.dedup_by_key(|(n, _)| *n);
            let managed_role = |name: &str| {
                managed
                    .binary_search_by_key(&name, |(n, _)| *n)
                    .ok()
                    .map(|i| managed[i].1)
            };
            // Deletions: managed roles no desired role claims.
            for (name, r) in &managed {
                if wanted_here.contains_key(*name) {
                    continue;
                }
                let have = RoleSpec::from_live(r, None);
                let (grant, why) = self.removal_reason(r, expired);
                let address = format!("grant/{grant} -> account {account_name}");
                let ops = role_ops(&key.to_ref(), Some(&have), None, keep);
                deletes.push(
                    Change::new(ResourceKind::Access, Action::Delete, address, why.clone())
                        .before(role_json(&have))
                        .ops(ops),
                );
                events.push(RoleEvent {
                    account: account_name,
                    role: &r.role_name,
                    before: Some(Box::new((
                        trust_principal(&have.trust_policy),
                        live_label(r),
                        grant,
                        have,
                    ))),
                    after: None,
                    why: Cow::Owned(why),
                    out_of_band: false,
                });
            }
            for (name, owner) in wanted_here {
                if unmanaged
                    .iter()
                    .any(|r| r.role_name.eq_ignore_ascii_case(name))
                {
                    continue;
                }
                let Some(wanted_spec) = specs.get(owner.grant_name()) else {
                    continue;
                };
                let want = &wanted_spec.spec;
                let live = managed_role(name);
                // The common case, a role as the YAML says, costs no allocation.
                if live.is_some_and(|r| same_as(r, want)) {
                    continue;
                }
                let address = format!("grant/{} -> account {account_name}", owner.grant_name());
                let source = match owner {
                    Owner::Grant(g) => Some(&g.source),
                    Owner::Read(_) => Some(&desired.organization.source),
                };
                let after = Some(After {
                    principal: owner.principal(),
                    label: owner.label(),
                    grant: owner.grant_name(),
                    spec: wanted_spec,
                    expires: owner.expires(),
                });
                match live {
                    None => {
                        let why = match owner {
                            Owner::Grant(g) => format!(
                                "grant {} targets account {account_name}: role {name} is created",
                                g.name
                            ),
                            Owner::Read(_) => format!(
                                "orgctl's read role is kept in account {account_name} \
                                 (organization.plan_role is set)"
                            ),
                        };
                        creates.push(
                            Change::new(ResourceKind::Access, Action::Create, address, why.clone())
                                .after(wanted_spec.json.clone())
                                .source(source)
                                .ops(role_ops(&key.to_ref(), None, Some(want), keep)),
                        );
                        events.push(RoleEvent {
                            account: account_name,
                            role: name,
                            before: None,
                            after,
                            why: Cow::Borrowed("new"),
                            out_of_band: false,
                        });
                    }
                    Some(r) => {
                        let have = RoleSpec::from_live(r, Some(want));
                        let ops = role_ops(&key.to_ref(), Some(&have), Some(want), keep);
                        if ops.is_empty() {
                            continue;
                        }
                        let out_of_band = as_desired
                            .get(owner.grant_name())
                            .is_some_and(|seen| drifted(&have, want, seen));
                        let why = if out_of_band {
                            format!(
                                "role {name} was edited outside orgctl: the edit is reverted to \
                                 what grant {} says",
                                owner.grant_name()
                            )
                        } else {
                            format!(
                                "role {name} differs from what grant {} says: it is updated in \
                                 place",
                                owner.grant_name()
                            )
                        };
                        let narrow = ops.iter().take_while(|op| narrows(op)).count();
                        let only_narrows = narrow == ops.len();
                        let mut ops = ops;
                        if narrow > 0 && narrow < ops.len() {
                            let rest = ops.split_off(narrow);
                            // A trust that changes is put closed first: no one can assume the
                            // role until it opens, after every role's narrowing.
                            let closes = ops.iter().any(|op| {
                                matches!(op, Op::UpdateTrustPolicy { trust_policy, .. }
                                    if is_closed_trust(trust_policy))
                            });
                            let loses = ops.len() > usize::from(closes);
                            let first = match (loses, closes) {
                                (true, true) => format!(
                                    "first loses what grant {} no longer gives and takes its new \
                                     trust policy closed (no one can assume it)",
                                    owner.grant_name()
                                ),
                                (false, true) => "first takes its new trust policy closed (no \
                                                  one can assume it)"
                                    .to_owned(),
                                _ => format!(
                                    "first loses what grant {} no longer gives",
                                    owner.grant_name()
                                ),
                            };
                            narrowing.push(
                                Change::new(
                                    ResourceKind::Access,
                                    Action::Update,
                                    address.clone(),
                                    format!("{first}, before any role gains anything"),
                                )
                                .source(source)
                                .ops(ops),
                            );
                            ops = rest;
                        }
                        let change =
                            Change::new(ResourceKind::Access, Action::Update, address, why.clone())
                                .before(role_json(&have))
                                .after(wanted_spec.json.clone())
                                .diff(role_diff(&have, want))
                                .source(source)
                                .ops(ops);
                        // An update that only narrows runs with the narrowing steps, before any
                        // role gains anything.
                        if only_narrows {
                            narrowing.push(change);
                        } else {
                            updates.push(change);
                        }
                        events.push(RoleEvent {
                            account: account_name,
                            role: name,
                            before: Some(Box::new((
                                trust_principal(&have.trust_policy),
                                live_label(r),
                                owner.grant_name().to_owned(),
                                have,
                            ))),
                            after,
                            // Without state, an edit outside orgctl is recognised only by the
                            // grant's other roles still having what it changed; otherwise say
                            // what is known, not where the difference came from.
                            why: if out_of_band {
                                Cow::Borrowed("edited outside orgctl: reverted")
                            } else {
                                Cow::Borrowed("differs from the YAML")
                            },
                            out_of_band,
                        });
                    }
                }
            }
            // The roles record (`orgctl:roles`): on the account before its first role is
            // created, off it after its last role is deleted; where roles are kept without it
            // (applied before records were kept) or it is kept with no role, a record write.
            let recorded = id
                .and_then(|id| self.index_account(id, live_account))
                .is_some_and(|a| has_roles_record(&a.tags));
            let keeps = !wanted_here.is_empty();
            if keeps && !recorded {
                if let Some(first) = creates.get_mut(creates_before) {
                    first.ops.insert(
                        0,
                        Op::TagResource {
                            resource: key.to_ref(),
                            tags: [(ROLES_RECORD_TAG.to_owned(), ROLES_RECORD_VALUE.to_owned())]
                                .into(),
                        },
                    );
                } else if let Some(id) = id
                    && !managed.is_empty()
                {
                    out.roles_records.push(RecordWrite::roles(id, false));
                }
            } else if !keeps && recorded {
                if deletes.len() > deletes_before {
                    if let Some(last) = deletes.last_mut() {
                        last.ops.push(Op::UntagResource {
                            resource: key.to_ref(),
                            keys: [ROLES_RECORD_TAG.to_owned()].into(),
                        });
                    }
                } else if let Some(id) = id {
                    out.roles_records.push(RecordWrite::roles(id, true));
                }
            }
        }
        out.changes.extend(deletes);
        out.changes.extend(narrowing);
        // Updates that give nothing (a trust policy moved to another principal, a session)
        // before those that give: a principal a role no longer trusts loses it before another
        // role gains anything for that principal; then, of those that give, the ones that also
        // change whom they trust.
        updates.sort_by_key(|c| {
            let gives = c
                .ops
                .iter()
                .any(|op| matches!(op, Op::PutRolePolicy { .. } | Op::AttachRolePolicy { .. }));
            let trust = c
                .ops
                .iter()
                .any(|op| matches!(op, Op::UpdateTrustPolicy { .. }));
            (gives, !trust)
        });
        out.changes.extend(updates);
        out.changes.extend(creates);
        review(events, unverified)
    }

    /// Every account the roles phase looks at, in account order: those with wanted roles, and
    /// those whose IAM was read or that hold roles where no role is wanted (live member
    /// accounts only). One merge of the wanted accounts with the IAM reads and the live roles,
    /// each sorted by account (already so as the reader returns them): no map per account.
    /// `live_roles` is [`by_account`] of the live roles.
    fn role_accounts<'s>(
        &'s self,
        wanted: &'s Wanted<'s>,
        live_roles: &'s [&'s LiveAccessRole],
    ) -> Vec<RoleAccount<'s>> {
        let reads = by_account(&self.live.iam_accounts, |a| &a.account_id);
        let (mut reads, mut roles) = (reads.as_slice(), live_roles);
        // The run of `list` for account `id` at its front, taken off it.
        fn take<'l, T>(list: &mut &'l [T], id: &str, of: impl Fn(&T) -> &str) -> &'l [T] {
            let n = list.iter().take_while(|x| of(x) == id).count();
            let (run, rest) = list.split_at(n);
            *list = rest;
            run
        }
        let mut out = Vec::with_capacity(wanted.len());
        let mut wanted = wanted.iter().peekable();
        loop {
            let next_live = match (reads.first(), roles.first()) {
                (Some(a), Some(r)) => Some(a.account_id.as_str().min(r.account_id.as_str())),
                (Some(a), None) => Some(a.account_id.as_str()),
                (None, Some(r)) => Some(r.account_id.as_str()),
                (None, None) => None,
            };
            // A wanted account comes first when it is no later than the next one read.
            let first = wanted.next_if(|(t, _)| match (t.key, next_live) {
                (_, None) => true,
                (RefKey::Id(w), Some(id)) => w <= id,
                (_, Some(_)) => false,
            });
            if let Some((t, wanted_here)) = first {
                let (read, here) = match t.key {
                    RefKey::Id(w) if next_live == Some(w) => (
                        take(&mut reads, w, |a| &a.account_id)
                            .last()
                            .map(|a| &a.read),
                        take(&mut roles, w, |r| &r.account_id),
                    ),
                    RefKey::Id(_) => (None, &[][..]),
                    // An account this apply creates: its IAM is written through the member role.
                    _ => (Some(&IamRead::MemberRole), &[][..]),
                };
                out.push(RoleAccount {
                    key: t.key,
                    name: t.name,
                    wanted: Some(wanted_here),
                    read,
                    roles: here,
                    live: t.live,
                });
                continue;
            }
            let Some(id) = next_live else { break };
            // Read, or holding roles, where no role is wanted (a later read of an account
            // counts).
            let read = take(&mut reads, id, |a| &a.account_id)
                .last()
                .map(|a| &a.read);
            let here = take(&mut roles, id, |r| &r.account_id);
            if let Some(t) = self.member_target(id) {
                out.push(RoleAccount {
                    key: t.key,
                    name: t.name,
                    wanted: None,
                    read,
                    roles: here,
                    live: t.live,
                });
            }
        }
        out
    }

    /// Every desired account as a role target ([`Self::desired_target`], computed once) by OU
    /// path, in name order within one OU: what [`Self::grant_targets`] expands OUs with, and
    /// where the read role is kept.
    fn targets_by_ou(&self) -> TargetsByOu<'_> {
        // Gathered by hash (a short lookup per account), ordered once per OU.
        let mut by_ou: FastMap<&str, Vec<_>> = FastMap::default();
        for (spec, live) in self.desired_accounts() {
            by_ou
                .entry(spec.ou.as_str())
                .or_default()
                .push(self.desired_target(spec, live));
        }
        by_ou.into_iter().collect()
    }

    /// The accounts a grant targets (it is not expired), in account order; `by_ou` is
    /// [`Self::targets_by_ou`].
    fn grant_targets<'s>(&'s self, g: &GrantSpec, by_ou: &TargetsByOu<'s>) -> Vec<Target<'s>> {
        let mut found: Vec<Target<'s>> = Vec::new();
        let mut consider = |t: Option<Target<'s>>, live_name: Option<&str>| {
            let Some(t) = t else { return };
            let excluded = g.exclude_accounts.contains(t.name)
                || live_name.is_some_and(|n| g.exclude_accounts.contains(n))
                || matches!(t.key, RefKey::Id(id) if g.exclude_ids.contains(id));
            if !excluded {
                found.push(t);
            }
        };
        for target in &g.targets {
            match target {
                GrantTarget::Account(name) => {
                    if let Some(spec) = self.desired.accounts.get(name) {
                        let live = match self.matched.account_refs.get(name.as_str()) {
                            Some(Ref::Id(id)) => self.index.accounts.get(id.as_str()).copied(),
                            _ => None,
                        };
                        let (t, live) = self.desired_target(spec, live);
                        consider(t, live);
                    }
                }
                GrantTarget::Ou(path) => {
                    let below = format!("{}/", path.trim_end_matches('/'));
                    // The desired accounts at or below the path: the OU paths starting with it
                    // are one range of the ordered index (all of it for the root).
                    let start = if path == "/" { "" } else { path.as_str() };
                    let range = (std::ops::Bound::Included(start), std::ops::Bound::Unbounded);
                    for (ou, targets) in by_ou.range::<str, _>(range) {
                        if !ou.starts_with(start) {
                            break;
                        }
                        if *ou == path || ou.starts_with(&below) || path == "/" {
                            for (t, live) in targets {
                                consider(*t, *live);
                            }
                        }
                    }
                    // Live accounts the YAML does not list, below the live OU(s) the path is,
                    // where the plan leaves them: a live OU the plan replaces takes its
                    // accounts to its replacement, in or out of the target.
                    let at_or_below = |p: &str| path == "/" || p == path || p.starts_with(&below);
                    let replaced_by: HashMap<&str, &str> = self
                        .matched
                        .ou_state
                        .iter()
                        .filter_map(|(p, state)| match state {
                            OuState::Existing {
                                replaces: Some(old),
                                ..
                            }
                            | OuState::New {
                                replaces: Some(old),
                            } => Some((old.as_str(), *p)),
                            _ => None,
                        })
                        .collect();
                    let mut stack: Vec<String> = replaced_by
                        .iter()
                        .filter(|(_, p)| at_or_below(p))
                        .map(|(old, _)| (*old).to_owned())
                        .collect();
                    if path == "/" {
                        stack.push(self.index.root.clone());
                    } else if let Some(OuState::Existing { id, .. }) =
                        self.matched.ou_state.get(path.as_str())
                    {
                        stack.push(id.clone());
                    }
                    let mut seen: BTreeSet<String> = BTreeSet::new();
                    while let Some(ou) = stack.pop() {
                        if !seen.insert(ou.clone()) {
                            continue;
                        }
                        for child in self.index.children(&ou) {
                            if replaced_by
                                .get(child.id.as_str())
                                .is_some_and(|p| !at_or_below(p))
                            {
                                continue;
                            }
                            stack.push(child.id.clone());
                        }
                        for a in self.index.accounts_in(&ou) {
                            if self.matched.matched_accounts.contains_key(a.id.as_str()) {
                                continue;
                            }
                            consider(self.live_target(a), Some(a.name.as_str()));
                        }
                    }
                }
            }
        }
        // Reached twice (two targets of the grant), an account counts once, named as it was
        // last reached (a stable sort of the reversed list keeps that one first).
        found.reverse();
        found.sort_by_key(|t| t.key);
        found.dedup_by_key(|t| t.key);
        found
    }

    /// A desired account as a role target (and its live name), when it is an ACTIVE member
    /// account or one this apply creates; `live` is the live account the matching found for
    /// it ([`super::matching::Matching::live_accounts`]).
    fn desired_target(
        &self,
        spec: &'a AccountSpec,
        live: Option<&'a orgctl_model::LiveAccount>,
    ) -> (Option<Target<'_>>, Option<&'a str>) {
        if spec.lifecycle != Lifecycle::Active {
            return (None, None);
        }
        if let Some(live) = live {
            // Matched one to one, the live account is this desired one's (no lookup).
            let matched = if self.matched.one_to_one {
                Some(spec)
            } else {
                self.matched.matched_accounts.get(live.id.as_str()).copied()
            };
            return (self.target_of(live, matched), Some(live.name.as_str()));
        }
        match self.matched.account_refs.get(spec.name.as_str()) {
            Some(Ref::NewAccount(email)) => (
                Some(Target {
                    key: RefKey::NewAccount(email),
                    name: &spec.name,
                    live: None,
                    matched: None,
                }),
                None,
            ),
            _ => (None, None),
        }
    }

    /// A live account as a role target: ACTIVE, not the management account, and not closed by
    /// this plan. Named as the YAML names it.
    fn member_target(&self, id: &str) -> Option<Target<'a>> {
        self.live_target(self.index.accounts.get(id)?)
    }

    /// [`Self::member_target`] of a live account.
    fn live_target(&self, live: &'a orgctl_model::LiveAccount) -> Option<Target<'a>> {
        self.target_of(
            live,
            self.matched.matched_accounts.get(live.id.as_str()).copied(),
        )
    }

    /// [`Self::live_target`] of a live account and the desired account matched to it.
    fn target_of(
        &self,
        live: &'a orgctl_model::LiveAccount,
        matched: Option<&'a AccountSpec>,
    ) -> Option<Target<'a>> {
        if live.status != AccountStatus::Active
            || live.id == self.live.organization.management_account_id
        {
            return None;
        }
        let name = match matched {
            Some(spec) => {
                if spec.lifecycle != Lifecycle::Active {
                    return None;
                }
                spec.name.as_str()
            }
            None => live.name.as_str(),
        };
        Some(Target {
            key: RefKey::Id(&live.id),
            name,
            live: Some(live),
            matched,
        })
    }

    /// Why a managed role no desired role claims is deleted: its grant (for the address and
    /// the review) and the reason.
    fn removal_reason(
        &self,
        r: &LiveAccessRole,
        expired: &HashMap<&str, &str>,
    ) -> (String, String) {
        if r.is_read_role() {
            let why = if self.desired.organization.plan_role.is_none() {
                "organization.plan_role is not set: orgctl's read role is removed".to_owned()
            } else {
                "the account is neither listed in the YAML nor a grant target: orgctl's read \
                 role is removed"
                    .to_owned()
            };
            return (READ_ROLE_GRANT.to_owned(), why);
        }
        let Some(grant) = r.grant() else {
            return (
                format!("role/{}", r.role_name),
                "an orgctl role without a grant tag: it is removed".to_owned(),
            );
        };
        let why = if let Some(day) = expired.get(grant) {
            format!("grant {grant} expired on {day}: its role is removed")
        } else if let Some(g) = self.desired.grants.get(grant) {
            if g.role_name != r.role_name {
                format!(
                    "grant {grant} now names its role {}: role {} is removed",
                    g.role_name, r.role_name
                )
            } else {
                format!("the account is no longer a target of grant {grant}: its role is removed")
            }
        } else {
            format!("grant {grant} is no longer in the YAML: its role is removed")
        };
        (grant.to_owned(), why)
    }
}

/// Whether a live role is exactly the desired one as it stands (documents byte for byte): then
/// nothing is planned for it. A role that differs only in formatting goes the long way.
fn same_as(r: &LiveAccessRole, want: &RoleSpec) -> bool {
    r.role_name == want.name
        && r.trust_policy == want.trust_policy
        && r.description == want.description
        && r.max_session_secs == want.max_session_secs
        && r.managed_policies == want.managed_policies
        && r.inline_policies == want.inline_policies
        && r.permissions_boundary == want.permissions_boundary
        && r.tags == want.tags
}

/// How many aspects [`aspects`] compares.
const ASPECTS: usize = 5;

/// The aspects of a role an edit outside orgctl is told apart by: whether two roles agree on
/// each.
fn aspects() -> [fn(&RoleSpec, &RoleSpec) -> bool; ASPECTS] {
    [
        |a, b| a.trust_policy == b.trust_policy,
        |a, b| a.managed_policies == b.managed_policies,
        |a, b| a.inline_policies == b.inline_policies,
        |a, b| a.permissions_boundary == b.permissions_boundary,
        |a, b| a.max_session_secs == b.max_session_secs && a.description == b.description,
    ]
}

/// Whether the differences between a live role and the desired one are edits made outside
/// orgctl rather than a change of the YAML: for every aspect this role differs in, some live
/// role of the same grant already has what the YAML asks for (`seen`), so the YAML did not
/// change it (else that role would differ too). Judged per aspect, so it stays linear.
fn drifted(have: &RoleSpec, want: &RoleSpec, seen: &[bool; ASPECTS]) -> bool {
    let mut differs = false;
    for (same, seen) in aspects().iter().zip(seen) {
        if !same(have, want) {
            differs = true;
            if !seen {
                return false;
            }
        }
    }
    differs
}

/// The part of a role a reviewer compares, as plan attributes.
fn role_json(r: &RoleSpec) -> Value {
    json!({
        "role": r.name,
        "principal": trust_principal(&r.trust_policy),
        "managed_policies": r.managed_policies,
        "inline_policies": r.inline_policies.keys().collect::<Vec<_>>(),
        "permissions_boundary": r.permissions_boundary,
        "max_session_secs": r.max_session_secs,
        "description": r.description,
        "tags": r.tags,
    })
}

/// Unified diffs of the trust policy and each changed inline policy document.
fn role_diff(have: &RoleSpec, want: &RoleSpec) -> Option<String> {
    let mut out = String::new();
    if have.trust_policy != want.trust_policy {
        out.push_str(&labelled_diff(
            "trust policy",
            &have.trust_policy,
            &want.trust_policy,
        ));
    }
    let names: BTreeSet<&String> = have
        .inline_policies
        .keys()
        .chain(want.inline_policies.keys())
        .collect();
    for n in names {
        let (b, a) = (
            have.inline_policies
                .get(n)
                .map(String::as_str)
                .unwrap_or(""),
            want.inline_policies
                .get(n)
                .map(String::as_str)
                .unwrap_or(""),
        );
        if b != a && !b.is_empty() && !a.is_empty() {
            out.push_str(&labelled_diff(&format!("inline policy {n}"), b, a));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A unified diff of two JSON documents, pretty-printed, headed `live <what>` / `desired <what>`.
fn labelled_diff(what: &str, before: &str, after: &str) -> String {
    let pretty = |s: &str| -> String {
        serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .map(|mut t| {
                t.push('\n');
                t
            })
            .unwrap_or_else(|| format!("{s}\n"))
    };
    let (b, a) = (pretty(before), pretty(after));
    similar::TextDiff::from_lines(&b, &a)
        .unified_diff()
        .context_radius(2)
        .header(&format!("live {what}"), &format!("desired {what}"))
        .to_string()
}

/// The principal a trust policy names (the first `Principal.AWS` of an Allow statement).
pub(crate) fn trust_principal(doc: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(doc) else {
        return UNKNOWN_PRINCIPAL.to_owned();
    };
    let statements = match &v["Statement"] {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    for s in statements {
        if s["Effect"] != "Allow" {
            continue;
        }
        match &s["Principal"]["AWS"] {
            Value::String(p) => return p.clone(),
            Value::Array(ps) if ps.len() == 1 => {
                if let Some(p) = ps[0].as_str() {
                    return p.to_owned();
                }
            }
            _ => {}
        }
    }
    UNKNOWN_PRINCIPAL.to_owned()
}

/// How the review names the holder of a live role: its grant's partner as its description
/// says (`orgctl grant NAME for PARTNER, owner …`), or the plan role for the read role.
fn live_label(r: &LiveAccessRole) -> String {
    if r.is_read_role() {
        return "orgctl plan role".to_owned();
    }
    r.description
        .split_once(" for ")
        .and_then(|(_, rest)| rest.split_once(", owner"))
        .map(|(partner, _)| format!("partner {partner}"))
        .unwrap_or_else(|| match r.grant() {
            Some(g) => format!("grant {g}"),
            None => format!("role {}", r.role_name),
        })
}

/// The name of a policy ARN (its last segment).
fn arn_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// `grant a`, `grants a, b`.
fn list(one: &str, many: &str, names: &[&str]) -> String {
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    if names.len() == 1 {
        format!("{one} {}", names[0])
    } else {
        format!("{many} {}", names.join(", "))
    }
}

/// The differences a change makes, one line each.
fn details(have: &RoleSpec, want: &RoleSpec) -> Vec<String> {
    let mut out = Vec::new();
    if trust_principal(&have.trust_policy) == trust_principal(&want.trust_policy)
        && have.trust_policy != want.trust_policy
    {
        let (h, w) = (
            trust_conditions(&have.trust_policy),
            trust_conditions(&want.trust_policy),
        );
        let before = out.len();
        match (h.mfa, w.mfa) {
            (true, false) => out.push("- MFA required".to_owned()),
            (false, true) => out.push("+ MFA required".to_owned()),
            _ => {}
        }
        match (h.external_id, w.external_id) {
            (true, false) => out.push("- external id required".to_owned()),
            (false, true) => out.push("+ external id required".to_owned()),
            (true, true) if h.external_ids != w.external_ids => {
                out.push("~ external id (another value)".to_owned())
            }
            _ => {}
        }
        if h.access_ends != w.access_ends {
            let show = |e: &Option<String>| e.clone().unwrap_or_else(|| "none".to_owned());
            out.push(format!(
                "~ end of access {} → {}",
                show(&h.access_ends),
                show(&w.access_ends)
            ));
        }
        if out.len() == before {
            out.push("~ trust policy conditions".to_owned());
        }
    }
    for arn in have.managed_policies.difference(&want.managed_policies) {
        out.push(format!("- managed policy {}", arn_name(arn)));
    }
    for arn in want.managed_policies.difference(&have.managed_policies) {
        out.push(format!("+ managed policy {}", arn_name(arn)));
    }
    for (n, doc) in &have.inline_policies {
        match want.inline_policies.get(n) {
            None => out.push(format!("- inline policy {n}")),
            Some(d) if d != doc => out.push(format!("~ inline policy {n}")),
            Some(_) => {}
        }
    }
    for n in want.inline_policies.keys() {
        if !have.inline_policies.contains_key(n) {
            out.push(format!("+ inline policy {n}"));
        }
    }
    if have.permissions_boundary != want.permissions_boundary {
        let show = |b: &Option<String>| b.as_deref().map(arn_name).unwrap_or("none".to_owned());
        out.push(format!(
            "~ permissions boundary {} → {}",
            show(&have.permissions_boundary),
            show(&want.permissions_boundary)
        ));
    }
    if have.max_session_secs != want.max_session_secs {
        out.push(format!(
            "~ session {} → {}",
            hours(have.max_session_secs),
            hours(want.max_session_secs)
        ));
    }
    if have.description != want.description {
        out.push("~ description".to_owned());
    }
    if have.tags != want.tags {
        out.push("~ tags".to_owned());
    }
    out
}

/// `1h`, `90m`.
fn hours(secs: i32) -> String {
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else {
        format!("{}m", secs / 60)
    }
}

/// An access review entry but for its accounts, borrowed: built into an [`AccessEntry`] only
/// for the first account of its kind, as most entries are equal to one already seen.
struct EntryKey<'e> {
    effect: AccessEffect,
    grant: &'e str,
    role_name: &'e str,
    permissions: &'e AccessPermissions,
    expires: Option<&'e str>,
    /// MFA, external id, the longest session.
    conditions: (bool, bool, i32),
    why: &'e str,
    details: &'e [String],
    diff: Option<&'e str>,
}

impl<'e> EntryKey<'e> {
    /// An entry about the role `role_name` as the YAML wants it (`after`), without details.
    fn desired(
        effect: AccessEffect,
        after: &'e After<'e>,
        role_name: &'e str,
        why: &'e str,
    ) -> Self {
        EntryKey {
            effect,
            grant: after.grant,
            role_name,
            permissions: &after.spec.permissions,
            expires: after.expires.as_deref(),
            conditions: (
                after.spec.conditions.0,
                after.spec.conditions.1,
                after.spec.spec.max_session_secs,
            ),
            why,
            details: &[],
            diff: None,
        }
    }

    /// The JSON that tells equal entries apart (in that order), into `buf`.
    fn write(&self, buf: &mut Vec<u8>) {
        buf.clear();
        // Serialising plain data into a vector cannot fail.
        let _ = serde_json::to_writer(
            &mut *buf,
            &(
                self.effect,
                self.grant,
                self.role_name,
                self.permissions,
                self.expires,
                self.conditions,
                self.why,
                self.details,
                self.diff,
            ),
        );
    }

    fn entry(&self, out_of_band: bool) -> AccessEntry {
        AccessEntry {
            effect: self.effect,
            grant: self.grant.to_owned(),
            role_name: self.role_name.to_owned(),
            accounts: vec![],
            permissions: self.permissions.clone(),
            expires: self.expires.map(str::to_owned),
            mfa: self.conditions.0,
            external_id_required: self.conditions.1,
            max_session_secs: self.conditions.2,
            why: self.why.to_owned(),
            out_of_band,
            details: self.details.to_vec(),
            diff: self.diff.map(str::to_owned),
        }
    }
}

/// The access review being built: principal → (labels, entry key → entry).
#[derive(Default)]
struct Review {
    by_principal: BTreeMap<String, (BTreeSet<String>, BTreeMap<String, AccessEntry>)>,
    /// The key being looked up (reused).
    buf: Vec<u8>,
}

impl Review {
    /// Adds `account` to the principal's entry like `key` (the first such entry is kept).
    fn add(
        &mut self,
        principal: &str,
        label: &str,
        key: &EntryKey<'_>,
        out_of_band: bool,
        account: &str,
    ) {
        if !self.by_principal.contains_key(principal) {
            self.by_principal
                .insert(principal.to_owned(), (BTreeSet::new(), BTreeMap::new()));
        }
        let Some(slot) = self.by_principal.get_mut(principal) else {
            return;
        };
        if !slot.0.contains(label) {
            slot.0.insert(label.to_owned());
        }
        key.write(&mut self.buf);
        // serde_json writes UTF-8.
        let text = std::str::from_utf8(&self.buf).unwrap_or_default();
        match slot.1.get_mut(text) {
            Some(e) => e.accounts.push(account.to_owned()),
            None => {
                let mut e = key.entry(out_of_band);
                e.accounts.push(account.to_owned());
                slot.1.insert(text.to_owned(), e);
            }
        }
    }
}

/// Builds the access review from the planned role changes: per principal, what it gains, loses
/// or has changed, with the accounts of equal entries grouped.
fn review(
    events: Vec<RoleEvent<'_>>,
    unverified: Vec<(String, Owner<'_>, String)>,
) -> Vec<PrincipalAccess> {
    // Accounts where a principal gains and accounts where one loses: a loss in an account
    // where another principal gains is a transfer.
    let mut gaining: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    let mut losing: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for e in &events {
        let before = e.before.as_ref().map(|b| (b.0.as_str(), b.1.as_str()));
        let after = e.after.as_ref().map(|a| (a.principal, a.label.as_str()));
        if before.map(|b| b.0) != after.map(|a| a.0) {
            if let Some(a) = after {
                gaining.entry(e.account).or_default().push(a);
            }
            if let Some(b) = before {
                losing.entry(e.account).or_default().push(b);
            }
        }
    }
    let counterpart = |map: &HashMap<&str, Vec<(&str, &str)>>, account: &str, me: &str| {
        map.get(account).and_then(|ps| {
            ps.iter()
                .find(|(p, _)| *p != me)
                .map(|(p, l)| format!("{l} ({p})"))
        })
    };
    let mut review = Review::default();
    for e in &events {
        match (&e.before, &e.after) {
            (Some(b), Some(a)) if b.0 == a.principal => {
                let details = details(&b.3, &a.spec.spec);
                let diff = role_diff(&b.3, &a.spec.spec);
                let key = EntryKey {
                    details: &details,
                    diff: diff.as_deref(),
                    ..EntryKey::desired(AccessEffect::Changes, a, e.role, &e.why)
                };
                review.add(a.principal, &a.label, &key, e.out_of_band, e.account);
            }
            _ => {
                if let Some(b) = &e.before {
                    let why = match counterpart(&gaining, e.account, &b.0) {
                        Some(to) => format!("transferred to {to}"),
                        None => short_why(&e.why),
                    };
                    let permissions = b.3.permissions();
                    let (mfa, external_id) = b.3.conditions();
                    let key = EntryKey {
                        effect: AccessEffect::Loses,
                        grant: &b.2,
                        role_name: e.role,
                        permissions: &permissions,
                        expires: None,
                        conditions: (mfa, external_id, b.3.max_session_secs),
                        why: &why,
                        details: &[],
                        diff: None,
                    };
                    review.add(&b.0, &b.1, &key, false, e.account);
                }
                if let Some(a) = &e.after {
                    let transferred;
                    let why = match counterpart(&losing, e.account, a.principal) {
                        Some(from) => {
                            transferred = format!("transferred from {from}");
                            transferred.as_str()
                        }
                        None if a.grant == READ_ROLE_GRANT => "orgctl's read role",
                        None => "new grant or target",
                    };
                    let key = EntryKey::desired(AccessEffect::Gains, a, e.role, why);
                    review.add(a.principal, &a.label, &key, false, e.account);
                }
            }
        }
    }
    let mut specs: HashMap<&str, RoleSpec> = HashMap::new();
    for (account, owner, reason) in &unverified {
        let spec = specs
            .entry(owner.grant_name())
            .or_insert_with(|| owner.spec());
        let permissions = spec.permissions();
        let (mfa, external_id) = spec.conditions();
        let expires = owner.expires();
        let key = EntryKey {
            effect: AccessEffect::Unverified,
            grant: owner.grant_name(),
            role_name: &spec.name,
            permissions: &permissions,
            expires: expires.as_deref(),
            conditions: (mfa, external_id, spec.max_session_secs),
            why: reason,
            details: &[],
            diff: None,
        };
        review.add(owner.principal(), &owner.label(), &key, false, account);
    }
    let by_principal = review.by_principal;
    by_principal
        .into_iter()
        .map(|(principal, (labels, entries))| {
            let mut entries: Vec<AccessEntry> = entries.into_values().collect();
            for e in &mut entries {
                e.accounts.sort();
                e.accounts.dedup();
            }
            entries.sort_by(|a, b| {
                (a.effect, &a.grant, &a.accounts).cmp(&(b.effect, &b.grant, &b.accounts))
            });
            PrincipalAccess {
                principal,
                label: labels.into_iter().collect::<Vec<_>>().join(", "),
                entries,
            }
        })
        .collect()
}

/// The review's few words for a removal reason (`grant x expired on D: its role is removed` →
/// `expired on D`).
fn short_why(why: &str) -> String {
    if let Some((_, rest)) = why.split_once(" expired on ") {
        let day = rest.split(':').next().unwrap_or(rest);
        return format!("expired on {day}");
    }
    if why.contains("no longer in the YAML") {
        return "grant removed".to_owned();
    }
    if why.contains("no longer a target") {
        return "account no longer a target".to_owned();
    }
    if why.contains("plan_role is not set") {
        return "organization.plan_role is not set".to_owned();
    }
    why.split(':').next().unwrap_or(why).to_owned()
}

/// The fingerprint of the live state a plan is made against: [`LiveState::fingerprint`] (an
/// [`orgctl_model::digest`], not a hash of JSON), with how each account's IAM was read reduced
/// to whether it could be read (a plan reads through the read role, an apply through the member
/// role; the reasons carry request details). Equal to [`LiveState::fingerprint`] when no IAM
/// read is recorded.
pub(crate) fn live_fingerprint(live: &orgctl_model::LiveState) -> String {
    if live.iam_accounts.is_empty() {
        return live.fingerprint();
    }
    #[derive(serde::Serialize)]
    struct View<'a> {
        organization: &'a orgctl_model::LiveOrganization,
        ous: &'a [orgctl_model::LiveOu],
        accounts: &'a [orgctl_model::LiveAccount],
        policies: &'a [orgctl_model::LivePolicy],
        access_roles: &'a [LiveAccessRole],
        iam_accounts: Readable<'a>,
        scope: &'a Option<orgctl_model::LiveScope>,
    }
    /// Each account id and whether its IAM could be read, without a vector of pairs.
    struct Readable<'a>(&'a [orgctl_model::LiveIamAccount]);
    impl serde::Serialize for Readable<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(
                self.0
                    .iter()
                    .map(|a| (a.account_id.as_str(), a.read.is_readable())),
            )
        }
    }
    let normalized;
    let live = if live.is_normalized() {
        live
    } else {
        let mut copy = live.clone();
        copy.normalize();
        normalized = copy;
        &normalized
    };
    orgctl_model::digest::digest(&View {
        organization: &live.organization,
        ous: &live.ous,
        accounts: &live.accounts,
        policies: &live.policies,
        access_roles: &live.access_roles,
        iam_accounts: Readable(&live.iam_accounts),
        scope: &live.scope,
    })
}

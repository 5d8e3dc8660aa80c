//! The desired view of every live resource the YAML manages: what `apply` records there
//! ([`crate::records`]). Computed from the planner's own matching ([`super::matching`]) and the
//! roles the grants phase wants ([`super::grants::WantedRoles`]); each resource is hashed once.
//!
//! Every view's fields are declared in alphabetical order and every map in it is ordered, so
//! the JSON serde streams into the hash is the canonical JSON of the view (checked by
//! `views_hash_as_their_canonical_json`).

use std::collections::{BTreeSet, HashMap};

use orgctl_model::{
    AccountSpec, AccountStatus, Lifecycle, OuSpec, PolicySpec, PolicyType, ROOT_PATH, Ref, Tags,
    TargetRef, parent_path,
};
use serde::Serialize;

use super::Planner;
use super::grants::{Target, WantedRoles, by_account};
use super::matching::OuState;
use crate::fast_hash::FastMap;

/// Live resource id → the hash of its desired view (the first 16 hex characters of the
/// SHA-256 of its canonical JSON).
pub(crate) type Views = FastMap<String, String>;

/// How many hex characters of the SHA-256 a record keeps.
pub(crate) const HASH_CHARS: usize = 16;

/// The root: what the YAML says about the organization as a whole.
#[derive(Serialize)]
struct RootView<'a> {
    enabled_policy_types: &'a BTreeSet<PolicyType>,
    /// The top-level OUs' names, sorted.
    ous: Vec<&'a str>,
    /// The YAML's policies' names, sorted.
    policies: Vec<&'a str>,
    root_full_aws_access: bool,
}

/// One OU.
#[derive(Serialize)]
struct OuView<'a> {
    /// Its child OUs' names in the YAML, sorted.
    children: Vec<&'a str>,
    full_aws_access: bool,
    path: &'a str,
    production: bool,
    tags: &'a Tags,
}

/// One customer policy.
#[derive(Serialize)]
struct PolicyView<'a> {
    content: &'a str,
    description: &'a str,
    name: &'a str,
    tags: &'a Tags,
    targets: &'a BTreeSet<TargetRef>,
    #[serde(rename = "type")]
    policy_type: PolicyType,
}

/// One ACTIVE account: its spec when the YAML lists it, and the roles the plan wants in it.
#[derive(Serialize)]
struct AccountView<'a> {
    account: Option<AccountSpecView<'a>>,
    /// (role name, SHA-256 of the role), sorted by name.
    roles: &'a [(&'a str, &'a str)],
}

#[derive(Serialize)]
struct AccountSpecView<'a> {
    email: &'a str,
    full_aws_access: bool,
    lifecycle: Lifecycle,
    name: &'a str,
    ou: &'a str,
    tags: &'a Tags,
}

impl<'a> From<&'a AccountSpec> for AccountSpecView<'a> {
    fn from(s: &'a AccountSpec) -> Self {
        AccountSpecView {
            email: &s.email,
            full_aws_access: s.full_aws_access,
            lifecycle: s.lifecycle,
            name: &s.name,
            ou: &s.ou,
            tags: &s.tags,
        }
    }
}

/// The first [`HASH_CHARS`] hex characters of the SHA-256 of a view's JSON (streamed into the
/// hash; once per resource).
fn hash<T: Serialize>(view: &T) -> String {
    orgctl_model::fingerprint_prefix(view, HASH_CHARS)
}

impl Planner<'_> {
    /// The desired view's hash of every live resource the YAML manages: the root, the OUs it
    /// matches, its customer policies that exist, and the accounts it lists or where a role of
    /// orgctl is wanted or kept.
    pub(super) fn views(&self, roles: &WantedRoles<'_>) -> Views {
        let desired = self.desired;
        let mut out = Views::default();
        // About one view per desired account, OU and policy: sized once, not grown.
        out.reserve(desired.accounts.len() + desired.ous.len() + desired.policies.len() + 1);

        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for ou in desired.ous.values() {
            children
                .entry(parent_path(&ou.path))
                .or_default()
                .push(ou.name.as_str());
        }
        for names in children.values_mut() {
            names.sort_unstable();
        }
        let no_children: Vec<&str> = Vec::new();

        let mut policies: Vec<&str> = desired.policies.keys().map(String::as_str).collect();
        policies.sort_unstable();
        out.insert(
            self.index.root.clone(),
            hash(&RootView {
                enabled_policy_types: &desired.organization.enabled_policy_types,
                ous: children.get(ROOT_PATH).cloned().unwrap_or_default(),
                policies,
                root_full_aws_access: desired.organization.root_full_aws_access,
            }),
        );

        for (path, state) in &self.matched.ou_state {
            let (OuState::Existing { id, .. }, Some(spec)) = (state, desired.ous.get(*path)) else {
                continue;
            };
            let spec: &OuSpec = spec;
            out.insert(
                id.clone(),
                hash(&OuView {
                    children: children.get(*path).unwrap_or(&no_children).clone(),
                    full_aws_access: spec.full_aws_access,
                    path: &spec.path,
                    production: spec.production,
                    tags: &spec.tags,
                }),
            );
        }

        for (name, r) in &self.matched.policy_refs {
            let (Ref::Id(id), Some(spec)) = (r, desired.policies.get(*name)) else {
                continue;
            };
            let spec: &PolicySpec = spec;
            out.insert(
                id.clone(),
                hash(&PolicyView {
                    content: &spec.content,
                    description: &spec.description,
                    name: &spec.name,
                    tags: &spec.tags,
                    targets: &spec.targets,
                    policy_type: spec.policy_type,
                }),
            );
        }

        let role_hashes = roles.role_hashes();
        // Each account's view is hashed on its own into the map, which also tells the accounts
        // already done: those where roles are wanted, then the other accounts the YAML lists,
        // then accounts holding orgctl's roles (look-alikes under its path are not orgctl's: an
        // account holding only those is not recorded, and `plan` need not read its IAM).
        let mut account_roles = Vec::new();
        // `target`: the account's live account and matched desired account, as the wanted
        // roles carry them (no lookup).
        let mut view = |id: &str, roles: Option<&_>, target: Option<&Target>, out: &mut Views| {
            // A closed (or closing) account is never written to again: it carries no record.
            if !self
                .index_account(id, target.and_then(|t| t.live))
                .is_some_and(|a| a.status == AccountStatus::Active)
            {
                return;
            }
            let spec = match target {
                Some(t) => t.matched,
                None => self.matched.matched_accounts.get(id).copied(),
            };
            match roles {
                Some(roles) => WantedRoles::role_hashes_of(roles, &role_hashes, &mut account_roles),
                None => account_roles.clear(),
            }
            out.insert(
                id.to_owned(),
                hash(&AccountView {
                    account: spec.map(AccountSpecView::from),
                    roles: &account_roles,
                }),
            );
        };
        // The wanted accounts' ids, sorted (as the wanted roles are), and how many of them are
        // matched to a desired account.
        let mut wanted_ids: Vec<&str> = Vec::new();
        let mut matched_wanted = 0;
        for (id, target, roles) in roles.account_roles() {
            wanted_ids.push(id);
            matched_wanted += usize::from(target.matched.is_some());
            view(id, Some(roles), Some(target), &mut out);
        }
        // When every matched account is a wanted one (they are distinct), none is left.
        if matched_wanted != self.matched.matched_accounts.len() {
            for id in self.matched.matched_accounts.keys() {
                if !out.contains_key(*id) {
                    view(id, None, None, &mut out);
                }
            }
        }
        // The live roles in account order, merged with the wanted accounts (done: skipped
        // without a lookup); an account's roles are side by side, so it is looked up once.
        let mut wanted_ids = wanted_ids.into_iter().peekable();
        let mut last: Option<&str> = None;
        for r in by_account(&self.live.access_roles, |r| &r.account_id) {
            let id = r.account_id.as_str();
            if last == Some(id) {
                continue;
            }
            while wanted_ids.next_if(|w| *w < id).is_some() {}
            if wanted_ids.peek() == Some(&id) {
                last = Some(id);
                continue;
            }
            if !r.is_managed() {
                continue;
            }
            last = Some(id);
            if !out.contains_key(id) {
                view(id, None, None, &mut out);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgctl_model::{canonical_json, fingerprint};

    fn canonical<T: Serialize>(view: &T) -> String {
        let value = serde_json::to_value(view).expect("a view serialises");
        let streamed = serde_json::to_string(view).expect("a view serialises");
        assert_eq!(streamed, canonical_json(&value), "fields out of order");
        fingerprint(&value)
    }

    #[test]
    fn views_hash_as_their_canonical_json() {
        let tags = Tags::from([
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "1".to_owned()),
        ]);
        let types = BTreeSet::from([PolicyType::ServiceControlPolicy, PolicyType::TagPolicy]);
        let root = RootView {
            enabled_policy_types: &types,
            ous: vec!["A", "B"],
            policies: vec!["deny"],
            root_full_aws_access: true,
        };
        assert_eq!(fingerprint(&root), canonical(&root));
        let ou = OuView {
            children: vec!["C"],
            full_aws_access: false,
            path: "/A",
            production: true,
            tags: &tags,
        };
        assert_eq!(fingerprint(&ou), canonical(&ou));
        let targets = BTreeSet::from([
            TargetRef::Root,
            TargetRef::Ou("/A".into()),
            TargetRef::Account("x".into()),
        ]);
        let policy = PolicyView {
            content: "{}",
            description: "d",
            name: "deny",
            tags: &tags,
            targets: &targets,
            policy_type: PolicyType::TagPolicy,
        };
        assert_eq!(fingerprint(&policy), canonical(&policy));
        let role_hash = "ab".repeat(32);
        let roles = vec![("partner", role_hash.as_str())];
        let account = AccountView {
            account: Some(AccountSpecView {
                email: "a@example.com",
                full_aws_access: true,
                lifecycle: Lifecycle::Active,
                name: "a",
                ou: "/A",
                tags: &tags,
            }),
            roles: &roles,
        };
        assert_eq!(fingerprint(&account), canonical(&account));
        assert_eq!(hash(&account), fingerprint(&account)[..HASH_CHARS]);
    }
}

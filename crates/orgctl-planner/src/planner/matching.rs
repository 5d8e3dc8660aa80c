//! Phase 0: matching desired OUs, accounts and policies to live ones. The result is immutable;
//! every later phase reads it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use orgctl_model::{
    AccountSpec, DesiredState, Lifecycle, LiveAccount, LivePolicy, LiveState, OuSpec, ROOT_PATH,
    Ref, parent_path,
};

use super::{LiveIndex, Output, depth};
use crate::fast_hash::FastMap;

/// Where a desired OU is in AWS.
#[derive(Debug, Clone)]
pub(super) enum OuState {
    /// It exists with this id (and, when it replaces a live OU, that OU's id: an interrupted
    /// apply may already have created the replacement).
    Existing {
        id: String,
        replaces: Option<String>,
    },
    /// It will be created (and, when it replaces a live OU, that OU's id).
    New { replaces: Option<String> },
}

/// Which live resource each desired one is.
pub(super) struct Matching<'a> {
    /// Desired OU path → where it is in AWS.
    pub(super) ou_state: BTreeMap<&'a str, OuState>,
    /// Live OU ids a desired OU is (the OU itself, or its replacement already created).
    pub(super) existing_ous: HashSet<String>,
    /// Live OU ids some desired OU claims (matched or replaced).
    pub(super) claimed_ous: HashSet<String>,
    /// Live OU id → the desired path that replaces it.
    pub(super) replaced_by: HashMap<String, &'a str>,
    /// Live account id → the desired account it is.
    pub(super) matched_accounts: FastMap<&'a str, &'a AccountSpec>,
    /// Desired account name → its reference.
    pub(super) account_refs: FastMap<&'a str, Ref>,
    /// The live account each desired account is, in the order of `desired.accounts` (`None`
    /// for one to create): what `account_refs` and the live index give, without their lookups.
    pub(super) live_accounts: Vec<Option<&'a LiveAccount>>,
    /// Whether no two desired accounts match one live account: then `matched_accounts` gives
    /// each live account in `live_accounts` the desired account it is listed beside.
    pub(super) one_to_one: bool,
    /// Desired policy name → its reference (absent when a policy of another type has the name).
    pub(super) policy_refs: HashMap<&'a str, Ref>,
}

impl<'a> Matching<'a> {
    /// Matches everything; problems the matching reveals go to `out`.
    pub(super) fn new(
        desired: &'a DesiredState,
        live: &'a LiveState,
        index: &LiveIndex<'a>,
        out: &mut Output,
    ) -> Self {
        let mut matching = Matching {
            ou_state: BTreeMap::new(),
            existing_ous: HashSet::new(),
            claimed_ous: HashSet::new(),
            replaced_by: HashMap::new(),
            matched_accounts: FastMap::default(),
            account_refs: FastMap::default(),
            live_accounts: Vec::with_capacity(desired.accounts.len()),
            one_to_one: true,
            policy_refs: HashMap::new(),
        };
        matching.match_ous(desired, index, out);
        matching.existing_ous = matching
            .ou_state
            .values()
            .filter_map(|state| match state {
                OuState::Existing { id, .. } => Some(id.clone()),
                OuState::New { .. } => None,
            })
            .collect();
        matching.match_accounts(desired, live, index, out);
        matching.match_policies(desired, live, out);
        matching
    }

    fn match_ous(&mut self, desired: &'a DesiredState, index: &LiveIndex<'a>, out: &mut Output) {
        for spec in desired.ous.values() {
            if let Some(id) = &spec.id
                && index.ous.contains_key(id.as_str())
            {
                self.claimed_ous.insert(id.clone());
            }
        }
        let mut specs: Vec<&OuSpec> = desired.ous.values().collect();
        specs.sort_by_key(|s| (depth(&s.path), s.path.as_str()));
        for spec in specs {
            let parent = parent_path(&spec.path);
            let (parent_id, parent_replaces) = if parent == ROOT_PATH {
                (Some(index.root.clone()), None)
            } else {
                match self.ou_state.get(parent) {
                    Some(OuState::Existing { id, replaces }) => {
                        (Some(id.clone()), replaces.clone())
                    }
                    Some(OuState::New { replaces }) => (None, replaces.clone()),
                    None => (None, None),
                }
            };
            // An id that no longer exists (the OU was replaced, or deleted out of band) falls
            // back to matching by path, with a warning to update it.
            let pinned = spec
                .id
                .as_ref()
                .filter(|id| index.ous.contains_key(id.as_str()));
            let (existing, replaces) = match pinned {
                Some(id)
                    if index.ous.get(id.as_str()).map(|o| &o.parent_id) == parent_id.as_ref() =>
                {
                    (Some(id.clone()), None)
                }
                // Under another parent: a replacement (which an interrupted apply may already
                // have created).
                Some(id) => (
                    self.unclaimed_child(index, parent_id.as_deref(), &spec.name),
                    Some(id.clone()),
                ),
                None => {
                    let existing = self.unclaimed_child(index, parent_id.as_deref(), &spec.name);
                    if let Some(e) = &existing {
                        self.claimed_ous.insert(e.clone());
                    }
                    // The parent replaces a live OU: that OU's child of the same name is
                    // replaced by this one (its accounts follow it).
                    let replaces =
                        self.unclaimed_child(index, parent_replaces.as_deref(), &spec.name);
                    (existing, replaces)
                }
            };
            for id in existing.iter().chain(replaces.iter()) {
                self.claimed_ous.insert(id.clone());
            }
            let state = match existing {
                Some(id) => OuState::Existing { id, replaces },
                None => OuState::New { replaces },
            };
            if let Some(stale) = spec
                .id
                .as_ref()
                .filter(|i| !index.ous.contains_key(i.as_str()))
            {
                let address = format!("ou {}", spec.path);
                match &state {
                    OuState::Existing { id: found, .. } => out.warn(
                        address,
                        format!(
                            "OU id {stale} does not exist any more (replacing an OU changes its \
                             id); the OU at this path is {found}: update its `id` in the YAML"
                        ),
                        &spec.source,
                    ),
                    OuState::New { .. } => out.error(
                        address,
                        format!(
                            "OU id {stale} does not exist in the organization and no OU is at \
                             {}; correct the id, or remove it to create the OU",
                            spec.path
                        ),
                        Some(&spec.source),
                    ),
                }
            }
            if let OuState::New {
                replaces: Some(old),
            }
            | OuState::Existing {
                replaces: Some(old),
                ..
            } = &state
            {
                self.replaced_by.insert(old.clone(), spec.path.as_str());
            }
            self.ou_state.insert(spec.path.as_str(), state);
        }
    }

    /// A live child of `parent` with this name that no desired OU has claimed yet.
    fn unclaimed_child(
        &self,
        index: &LiveIndex<'a>,
        parent: Option<&str>,
        name: &str,
    ) -> Option<String> {
        index
            .children(parent?)
            .find(|o| o.name == name && !self.claimed_ous.contains(&o.id))
            .map(|o| o.id.clone())
    }

    fn match_accounts(
        &mut self,
        desired: &'a DesiredState,
        live: &'a LiveState,
        index: &LiveIndex<'a>,
        out: &mut Output,
    ) {
        let by_email: FastMap<Cow<'_, str>, &LiveAccount> = live
            .accounts
            .iter()
            .map(|a| (lowercase(&a.email), a))
            .collect();
        self.matched_accounts.reserve(desired.accounts.len());
        self.account_refs.reserve(desired.accounts.len());
        for spec in desired.accounts.values() {
            let live = match &spec.id {
                Some(id) => index.accounts.get(id.as_str()).copied(),
                None => by_email.get(&*lowercase(&spec.email)).copied(),
            };
            match live {
                Some(live) => {
                    if let Some(other) = self.matched_accounts.insert(live.id.as_str(), spec) {
                        let other = &other.name;
                        out.error(
                            format!("account {}", spec.name),
                            format!(
                                "accounts {other} and {} both match AWS account {} (by id or root \
                                 email); each account must match one AWS account",
                                spec.name, live.id
                            ),
                            Some(&spec.source),
                        );
                    }
                    self.account_refs
                        .insert(spec.name.as_str(), Ref::Id(live.id.clone()));
                    self.live_accounts.push(if index.distinct_ids {
                        Some(live)
                    } else {
                        index.accounts.get(live.id.as_str()).copied()
                    });
                }
                None => {
                    if let Some(id) = &spec.id
                        && spec.lifecycle == Lifecycle::Active
                    {
                        out.error(
                            format!("account {}", spec.name),
                            format!(
                                "account id {id} is not in the organization; remove the id to \
                                 create a new account, or correct it"
                            ),
                            Some(&spec.source),
                        );
                    }
                    self.account_refs.insert(
                        spec.name.as_str(),
                        Ref::NewAccount(spec.email.to_lowercase()),
                    );
                    self.live_accounts.push(None);
                }
            }
        }
        // Each match inserted one entry unless two desired accounts share a live one.
        self.one_to_one =
            self.matched_accounts.len() == self.live_accounts.iter().flatten().count();
    }

    /// Policies by name; a live policy of another type with the name is an error.
    fn match_policies(&mut self, desired: &'a DesiredState, live: &'a LiveState, out: &mut Output) {
        let by_name = live_policies_by_name(&live.policies);
        for spec in desired.policies.values() {
            match by_name.get(spec.name.as_str()).copied() {
                Some(live) if live.policy_type != spec.policy_type => out.error(
                    format!("policy {}/{}", spec.policy_type.short(), spec.name),
                    format!(
                        "a {} named {} already exists; policy names are unique across types",
                        live.policy_type, spec.name
                    ),
                    Some(&spec.source),
                ),
                Some(live) => {
                    self.policy_refs
                        .insert(spec.name.as_str(), Ref::Id(live.id.clone()));
                }
                None => {
                    self.policy_refs
                        .insert(spec.name.as_str(), Ref::NewPolicy(spec.name.clone()));
                }
            }
        }
    }
}

/// `text.to_lowercase()`, copied only when that changes it: an ASCII text without upper-case
/// letters (most emails) is borrowed.
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// Customer-managed live policies by name (the names desired policies match).
pub(super) fn live_policies_by_name(policies: &[LivePolicy]) -> HashMap<&str, &LivePolicy> {
    policies
        .iter()
        .filter(|p| !p.aws_managed)
        .map(|p| (p.name.as_str(), p))
        .collect()
}

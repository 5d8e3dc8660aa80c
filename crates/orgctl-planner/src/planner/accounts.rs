//! Phase 5: accounts are created, moved and retagged; accounts orgctl does not manage follow an
//! OU that is replaced.

use std::collections::{HashMap, HashSet};

use orgctl_model::{Lifecycle, Op, ROOT_PATH, Ref};
use serde_json::json;

use super::matching::OuState;
use super::{Output, Planner, tag_change};
use crate::plan::{Action, Change, ResourceKind};

/// What [`Planner::account_changes`] decided about live accounts, for the OU deletions.
#[derive(Default)]
pub(super) struct AccountMoves {
    /// Live accounts the plan moves.
    pub(super) moving: HashSet<String>,
    /// Protected accounts in a replaced OU: each has an error saying the replacement cannot
    /// proceed, so the old OU's deletion adds no second error about them.
    pub(super) refused: HashSet<String>,
}

impl Planner<'_> {
    /// Account changes, and which live accounts move or stop an OU replacement.
    pub(super) fn account_changes(&self, out: &mut Output) -> AccountMoves {
        let mut moves = AccountMoves::default();
        // Live OU id → the desired path it keeps its id under.
        let renamed_to: HashMap<&str, &str> = self
            .matched
            .ou_state
            .iter()
            .filter_map(|(path, state)| match state {
                OuState::Existing { id, .. } => Some((id.as_str(), *path)),
                OuState::New { .. } => None,
            })
            .collect();
        for (spec, live) in self.desired_accounts() {
            // Most accounts need neither their address nor their OU's reference.
            let address = || format!("account {}", spec.name);
            let Some(live) = live else {
                if spec.lifecycle == Lifecycle::Active {
                    out.changes.push(
                        Change::new(
                            ResourceKind::Account,
                            Action::Create,
                            address(),
                            "no account with this root email in the organization",
                        )
                        .after(json!({
                            "name": spec.name, "email": spec.email, "ou": spec.ou, "tags": spec.tags
                        }))
                        .source(&spec.source)
                        .op(Op::CreateAccount {
                            name: spec.name.clone(),
                            email: spec.email.clone(),
                            parent: self.ou_ref(&spec.ou),
                            tags: spec.tags.clone(),
                            ignore_tag_keys: self.desired.organization.ignore_tag_keys.clone(),
                        }),
                    );
                }
                continue;
            };
            if live.status.is_closed() {
                if spec.lifecycle == Lifecycle::Active {
                    out.warn(
                        address(),
                        format!(
                            "account {} is closed in AWS ({:?}) but active in the YAML; a closed \
                             account can only be reopened through AWS Support within 90 days",
                            live.id, live.status
                        ),
                        &spec.source,
                    );
                }
                continue;
            }
            if spec.lifecycle == Lifecycle::Closed {
                // Closing happens last (phase 9); nothing else is changed on a closing account.
                continue;
            }
            if live.name != spec.name {
                out.warn(
                    address(),
                    format!(
                        "the YAML names account {} `{}` but AWS names it `{}`; orgctl cannot \
                         rename accounts yet and leaves the name as it is",
                        live.id, spec.name, live.name
                    ),
                    &spec.source,
                );
            }
            if !live.email.eq_ignore_ascii_case(&spec.email) {
                out.warn(
                    address(),
                    format!(
                        "the YAML gives account {} the root email {} but AWS has {}; orgctl does \
                         not change root emails",
                        live.id, spec.email, live.email
                    ),
                    &spec.source,
                );
            }
            if self.existing_ou_id(&spec.ou) != Some(live.parent_id.as_str()) {
                let from = self.index.path(&live.parent_id);
                if let Some(why) = self.protection(&live.id) {
                    let replaced = match self.matched.replaced_by.get(&live.parent_id) {
                        Some(new_path) => {
                            moves.refused.insert(live.id.clone());
                            format!(
                                "; its OU {from} is replaced by {new_path} (AWS cannot move an OU), \
                             which would move it: keep the OU under its parent in the YAML"
                            )
                        }
                        None => String::new(),
                    };
                    out.error(
                        address(),
                        format!(
                            "account {} is {why} and is never moved, but the YAML puts it in {} \
                             (it is in {from}){replaced}",
                            live.id, spec.ou
                        ),
                        Some(&spec.source),
                    );
                } else {
                    moves.moving.insert(live.id.clone());
                    // Its OU may itself be renamed or swapped by this plan: say which OU it is.
                    let from_now = match renamed_to.get(live.parent_id.as_str()) {
                        Some(path) if *path != from => {
                            format!(
                                "{from}, {}, which this plan renames to {path}",
                                live.parent_id
                            )
                        }
                        _ => from.clone(),
                    };
                    out.changes.push(
                        Change::new(
                            ResourceKind::Account,
                            Action::Move,
                            address(),
                            format!("the YAML puts it in {} (it is in {from_now})", spec.ou),
                        )
                        .before(json!({"ou": from}))
                        .after(json!({"ou": spec.ou}))
                        .source(&spec.source)
                        .op(Op::MoveAccount {
                            account: Ref::Id(live.id.clone()),
                            from: Ref::Id(live.parent_id.clone()),
                            to: self.ou_ref(&spec.ou),
                        }),
                    );
                }
            }
            // Most accounts' tags are as the YAML says: compared without building the
            // comparable copy.
            if !self.comparable_equals(&live.tags, &spec.tags, false) {
                let have = self.comparable(&live.tags, false);
                out.changes.extend(tag_change(
                    &address(),
                    ResourceKind::Account,
                    &live.id,
                    &have,
                    &spec.tags,
                    &spec.source,
                ));
            }
        }
        // Accounts orgctl does not manage that sit in an OU being replaced follow it.
        let mut followers = Vec::new();
        for (old, new_path) in &self.matched.replaced_by {
            for account in self.index.accounts_in(old) {
                if !self
                    .matched
                    .matched_accounts
                    .contains_key(account.id.as_str())
                {
                    followers.push((&account.name, &account.id, old, *new_path));
                }
            }
        }
        followers.sort();
        for (name, id, old, new_path) in followers {
            let from = self.index.path(old);
            if let Some(why) = self.protection(id) {
                let remedy = if why == MANAGEMENT {
                    "move the management account out of it yourself first"
                } else {
                    "move the account out of it yourself first, or remove it from \
                     organization.protected_accounts"
                };
                out.error(
                    format!("account {name}"),
                    format!(
                        "account {name} ({id}) is {why} and is never moved, but it is in OU \
                         {from}, which the YAML replaces by {new_path} (its `id` is now under \
                         another parent, and AWS cannot move an OU: a new OU is created, the \
                         accounts move over and the old OU is deleted); the replacement cannot \
                         proceed while the OU holds it: keep the OU under its parent in the \
                         YAML, or {remedy}"
                    ),
                    None,
                );
                moves.refused.insert(id.clone());
                continue;
            }
            moves.moving.insert(id.clone());
            out.changes.push(
                Change::new(
                    ResourceKind::Account,
                    Action::Move,
                    format!("account {name}"),
                    format!(
                        "not managed by orgctl, but its OU {from} is replaced by {new_path}, so it \
                         moves with it"
                    ),
                )
                .before(json!({"ou": from}))
                .after(json!({"ou": new_path}))
                .op(Op::MoveAccount {
                    account: Ref::Id(id.clone()),
                    from: Ref::Id(old.clone()),
                    to: self.ou_ref(new_path),
                }),
            );
        }
        moves
    }

    /// The id of the live OU (or root) a desired OU path is, if it exists: the `Ref::Id` of
    /// [`Planner::ou_ref`], borrowed.
    fn existing_ou_id(&self, path: &str) -> Option<&str> {
        if path == ROOT_PATH {
            return Some(&self.index.root);
        }
        match self.matched.ou_state.get(path) {
            Some(OuState::Existing { id, .. }) => Some(id),
            _ => None,
        }
    }

    /// Why a live account must never be moved or closed, if it must not: the management
    /// account always is, whatever `protected_accounts` says.
    pub(super) fn protection(&self, id: &str) -> Option<&'static str> {
        if id == self.live.organization.management_account_id {
            Some(MANAGEMENT)
        } else if self.desired.organization.protected_accounts.contains(id) {
            Some("protected (organization.protected_accounts)")
        } else {
            None
        }
    }
}

/// How [`Planner::protection`] names the management account.
const MANAGEMENT: &str = "the management account";

//! Phases 8 to 10: OUs no longer wanted are deleted (children first), then managed policies no
//! longer in the YAML, then accounts are closed.

use std::collections::HashSet;

use orgctl_model::{Lifecycle, LiveOu, Op, Ref, canonical_json_str, is_managed};
use serde_json::json;

use super::accounts::AccountMoves;
use super::{Output, Planner, depth, document_diff};
use crate::plan::{Action, Change, ResourceKind, Warning};

impl Planner<'_> {
    /// OU deletions, given the live accounts the plan moves; returns the ids of the live OUs the
    /// plan deletes (or tried to: one that would still hold something is an error instead, and
    /// one whose replacement a protected account already refuses is neither deleted nor
    /// reported again).
    pub(super) fn ou_deletions(&self, moves: &AccountMoves, out: &mut Output) -> HashSet<String> {
        // Live OUs to delete: managed ones no desired OU matches, and replaced ones.
        let mut doomed: Vec<&LiveOu> = self
            .live
            .ous
            .iter()
            .filter(|o| self.deleted_or_replaced(&o.id))
            .collect();
        let deleted: HashSet<String> = doomed.iter().map(|o| o.id.clone()).collect();
        // Children first: deepest live path first.
        doomed.sort_by(|a, b| {
            let (pa, pb) = (self.index.path(&a.id), self.index.path(&b.id));
            depth(&pb).cmp(&depth(&pa)).then(pa.cmp(&pb))
        });
        for ou in doomed {
            let path = self.index.path(&ou.id);
            let address = format!("ou {path}");
            let replaced_by = self.matched.replaced_by.get(&ou.id);
            // What is still inside after the plan? Protected accounts that refuse the
            // replacement have their own error.
            let mut refused = false;
            let accounts: Vec<String> = self
                .index
                .accounts_in(&ou.id)
                .filter(|a| !moves.moving.contains(&a.id))
                .filter(|a| {
                    let own_error = moves.refused.contains(&a.id);
                    refused |= own_error;
                    !own_error
                })
                .map(|a| format!("account {} ({})", a.name, a.id))
                .collect();
            let children: Vec<&LiveOu> = self
                .index
                .children(&ou.id)
                .filter(|c| !deleted.contains(&c.id))
                .collect();
            if !accounts.is_empty() || !children.is_empty() {
                let what = if replaced_by.is_some() {
                    "replaced"
                } else {
                    "deleted"
                };
                let mut held: Vec<String> = accounts.clone();
                held.extend(children.iter().map(|c| format!("OU {} ({})", c.name, c.id)));
                let mut remedies = Vec::new();
                if !accounts.is_empty() {
                    let them = if accounts.len() == 1 { "it" } else { "them" };
                    remedies.push(format!(
                        "move the account{} into an OU of the YAML, or add {them} to the YAML",
                        if accounts.len() == 1 { "" } else { "s" }
                    ));
                }
                if !children.is_empty() {
                    let (it, is) = if children.len() == 1 {
                        ("it", "is")
                    } else {
                        ("them", "are")
                    };
                    let at = |parent: &str| -> String {
                        children
                            .iter()
                            .map(|c| orgctl_model::child_path(parent, &c.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let keep = match replaced_by {
                        Some(new_path) => format!(
                            "declare {} in the YAML so {it} {is} replaced along with {path}",
                            at(new_path)
                        ),
                        None => format!("keep {path} in the YAML with {} under it", at(&path)),
                    };
                    remedies.push(format!(
                        "AWS cannot move an OU: {keep}, or delete {it} in AWS first"
                    ));
                }
                out.error(
                    address,
                    format!(
                        "OU {path} ({}) is to be {what} but would still hold {}; {}",
                        ou.id,
                        held.join(", "),
                        remedies.join("; "),
                    ),
                    None,
                );
                continue;
            }
            if refused {
                continue;
            }
            let reason = match replaced_by {
                Some(new_path) => format!("replaced by the new OU {new_path}"),
                None => "managed by orgctl and no longer in the YAML".to_owned(),
            };
            out.changes.push(
                Change::new(ResourceKind::Ou, Action::Delete, address, reason)
                    .before(json!({"path": path, "id": ou.id, "tags": ou.tags}))
                    .op(Op::DeleteOu {
                        ou: Ref::Id(ou.id.clone()),
                    }),
            );
        }
        deleted
    }

    pub(super) fn policy_deletions(&self, out: &mut Output) {
        for p in &self.live.policies {
            if p.aws_managed || self.desired.policies.contains_key(&p.name) || !is_managed(&p.tags)
            {
                continue;
            }
            let address = format!("policy {}/{}", p.policy_type.short(), p.name);
            let stays_on = self.undeclared_targets(p);
            if !stays_on.is_empty() {
                let (it, them) = if stays_on.len() == 1 {
                    ("it", "it")
                } else {
                    ("they", "them")
                };
                out.warnings.push(Warning {
                    address,
                    message: format!(
                        "policy {} is managed by orgctl and no longer in the YAML, but it stays                          attached to {}, which the YAML does not declare (orgctl leaves {them}                          as {it} is); it is not deleted: detach it there by hand, or add {them}                          to the YAML",
                        p.id,
                        stays_on.join(", ")
                    ),
                    source: None,
                });
                continue;
            }
            let content = canonical_json_str(&p.content).unwrap_or_else(|| p.content.clone());
            out.changes.push(
                Change::new(
                    ResourceKind::Policy,
                    Action::Delete,
                    address,
                    "managed by orgctl and no longer in the YAML (detached everywhere first)",
                )
                .before(json!({
                    "name": p.name, "type": p.policy_type, "description": p.description, "tags": p.tags
                }))
                .diff(document_diff(&content, ""))
                .op(Op::DeletePolicy {
                    policy: Ref::Id(p.id.clone()),
                }),
            );
        }
    }

    pub(super) fn closures(&self, out: &mut Output) {
        for spec in self.desired.accounts.values() {
            if spec.lifecycle != Lifecycle::Closed {
                continue;
            }
            let Some(Ref::Id(id)) = self.matched.account_refs.get(spec.name.as_str()) else {
                continue;
            };
            let Some(live) = self.index.accounts.get(id.as_str()).copied() else {
                continue;
            };
            if live.status.is_closed() {
                continue;
            }
            let address = format!("account {}", spec.name);
            if let Some(why) = self.protection(id) {
                out.error(
                    address,
                    format!("account {id} is {why} and is never closed"),
                    Some(&spec.source),
                );
                continue;
            }
            out.changes.push(
                Change::new(
                    ResourceKind::Account,
                    Action::Close,
                    address,
                    format!(
                        "lifecycle: closed in the YAML; account {id} will be closed (needs \
                         --allow-close; reversible through AWS Support for 90 days)"
                    ),
                )
                .before(json!({"status": live.status}))
                .after(json!({"status": "SUSPENDED"}))
                .source(&spec.source)
                .op(Op::CloseAccount {
                    account: Ref::Id(id.clone()),
                }),
            );
        }
    }
}

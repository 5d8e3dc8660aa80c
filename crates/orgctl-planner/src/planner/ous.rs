//! Phase 2: OUs are created (parents first), replaced, renamed and retagged.
//!
//! AWS keeps the names of sibling OUs unique at every moment, so level by level (siblings share
//! a depth) the renames come first, each after the rename that frees its name (a chain
//! `C→D, B→C, A→B`); a cycle of renames (two siblings swapping names) goes through a temporary
//! name, stated in the plan. Creations come after the renames, so a new OU can take the name of
//! one renamed away. A name held through the apply by an OU that stays (one orgctl does not
//! manage) or that is deleted only at the end is a plan error that says how to proceed.

use std::collections::{HashMap, HashSet};

use orgctl_model::{
    LiveOu, MANAGED_BY_KEY, MANAGED_BY_VALUE, Op, OuSpec, Ref, is_managed, parent_path,
};
use serde_json::json;

use super::matching::OuState;
use super::{Output, Planner, depth, tag_change};
use crate::plan::{Action, Change, ResourceKind};

/// An existing OU the plan renames.
struct Rename<'s> {
    spec: &'s OuSpec,
    id: &'s str,
    /// Its live name.
    from: &'s str,
    /// Its live parent.
    parent: &'s str,
}

/// The temporary name an OU takes to break a cycle of renames among siblings.
fn temporary_name(id: &str) -> String {
    format!("orgctl-rename-{id}")
}

impl Planner<'_> {
    pub(super) fn ou_changes(&self, out: &mut Output) {
        let mut specs: Vec<&OuSpec> = self.desired.ous.values().collect();
        specs.sort_by_key(|s| (depth(&s.path), s.path.as_str()));
        for level in specs.chunk_by(|a, b| depth(&a.path) == depth(&b.path)) {
            let renamed = self.renames(level, out);
            for spec in level {
                self.create_or_retag(spec, &renamed, out);
            }
        }
    }

    /// The renames of one level, each after the one that frees its name; returns the ids of
    /// the OUs renamed.
    fn renames<'s>(&'s self, level: &[&'s OuSpec], out: &mut Output) -> HashSet<&'s str> {
        let mut renames: Vec<Rename<'s>> = Vec::new();
        for spec in level {
            if let Some(OuState::Existing { id, .. }) =
                self.matched.ou_state.get(spec.path.as_str())
                && let Some(live) = self.index.ous.get(id.as_str()).copied()
                && live.name != spec.name
            {
                renames.push(Rename {
                    spec,
                    id: live.id.as_str(),
                    from: live.name.as_str(),
                    parent: live.parent_id.as_str(),
                });
            }
        }
        let renamed: HashSet<&str> = renames.iter().map(|r| r.id).collect();
        // (parent, live name) → the rename of the OU that has it.
        let by_name: HashMap<(&str, &str), usize> = renames
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.parent, r.from), i))
            .collect();
        let mut order = RenameOrder {
            renames: &renames,
            by_name: &by_name,
            visiting: vec![false; renames.len()],
            done: vec![false; renames.len()],
            through_temporary: vec![false; renames.len()],
        };
        for (i, r) in renames.iter().enumerate() {
            // An OU that keeps the wanted name through the apply blocks the rename.
            if let Some(holder) = self.holder(r.parent, &r.spec.name, &renamed) {
                out.error(
                    format!("ou {}", r.spec.path),
                    format!(
                        "OU {} cannot be renamed from {} to {}: OU {} under the same parent has \
                         that name, and {}",
                        r.id,
                        r.from,
                        r.spec.name,
                        holder.id,
                        self.why_it_keeps_its_name(holder, "this rename")
                    ),
                    Some(&r.spec.source),
                );
                order.done[i] = true;
            }
        }
        for i in 0..renames.len() {
            order.visit(self, i, out);
        }
        renamed
    }

    /// The live path an OU has while it carries its temporary name.
    fn temporary_path(&self, r: &Rename<'_>) -> String {
        orgctl_model::child_path(&self.index.path(r.parent), &temporary_name(r.id))
    }

    /// A live child of `parent` named `name` that keeps the name through this level's renames.
    fn holder<'s>(
        &'s self,
        parent: &str,
        name: &str,
        renamed: &HashSet<&str>,
    ) -> Option<&'s LiveOu> {
        self.index
            .children(parent)
            .find(|c| c.name == name && !renamed.contains(c.id.as_str()))
    }

    /// Why `holder` keeps its name during the apply, and what to do about it.
    fn why_it_keeps_its_name(&self, holder: &LiveOu, what: &str) -> String {
        if let Some(new_path) = self.matched.replaced_by.get(&holder.id) {
            format!(
                "it is replaced by {new_path} and deleted only at the end of the apply; give \
                 {what} another name first, apply, then rename it in a second apply"
            )
        } else if self.deleted_or_replaced(&holder.id) {
            format!(
                "it is managed by orgctl, no longer in the YAML and deleted only at the end of \
                 the apply; give {what} another name first, apply, then rename it in a second \
                 apply"
            )
        } else if !is_managed(&holder.tags) && !self.matched.claimed_ous.contains(&holder.id) {
            "it is not managed by orgctl and stays: rename or delete it in AWS, or declare it \
             in the YAML (with its `id`) under another name"
                .to_owned()
        } else {
            "it keeps that name in the YAML".to_owned()
        }
    }

    fn create_or_retag(&self, spec: &OuSpec, renamed: &HashSet<&str>, out: &mut Output) {
        let address = format!("ou {}", spec.path);
        let mut want_tags = spec.tags.clone();
        want_tags.insert(MANAGED_BY_KEY.into(), MANAGED_BY_VALUE.into());
        match self.matched.ou_state.get(spec.path.as_str()) {
            Some(OuState::New { replaces }) => {
                let parent = self.ou_ref(parent_path(&spec.path));
                if let Ref::Id(parent_id) = &parent
                    && let Some(holder) = self.holder(parent_id, &spec.name, renamed)
                {
                    out.error(
                        address,
                        format!(
                            "a new OU {} cannot be created: OU {} under the same parent has that \
                             name, and {}",
                            spec.path,
                            holder.id,
                            self.why_it_keeps_its_name(holder, "the new OU")
                        ),
                        Some(&spec.source),
                    );
                    return;
                }
                let create = Op::CreateOu {
                    parent,
                    name: spec.name.clone(),
                    path: spec.path.clone(),
                    tags: want_tags.clone(),
                };
                let change = match replaces {
                    Some(old) => {
                        let old_path = self.index.path(old);
                        Change::new(
                            ResourceKind::Ou,
                            Action::Replace,
                            address,
                            format!(
                                "OU moves from {old_path} to {}: AWS cannot move an OU, so a new \
                                 OU replaces {old} (OU id will change); its accounts move over, \
                                 its policies and tags are set on the new OU, and the old OU is \
                                 deleted",
                                spec.path
                            ),
                        )
                        .before(json!({"path": old_path, "id": old}))
                    }
                    None => Change::new(
                        ResourceKind::Ou,
                        Action::Create,
                        address,
                        "no OU at this path in the organization (to rename or move an existing \
                         OU instead, give it its `id`)",
                    ),
                };
                out.changes.push(
                    change
                        .after(json!({"path": spec.path, "tags": want_tags}))
                        .source(&spec.source)
                        .op(create),
                );
            }
            Some(OuState::Existing { id, .. }) => {
                let Some(live) = self.index.ous.get(id.as_str()).copied() else {
                    return;
                };
                let have = self.comparable(&live.tags, true);
                out.changes.extend(tag_change(
                    &address,
                    ResourceKind::Ou,
                    id,
                    &have,
                    &want_tags,
                    &spec.source,
                ));
            }
            None => {}
        }
    }
}

/// A depth-first walk over one level's renames: a rename runs after the rename of the sibling
/// that has its new name; meeting a rename again while it waits closes a cycle, which that
/// rename breaks by taking a temporary name first.
struct RenameOrder<'r, 's> {
    renames: &'r [Rename<'s>],
    by_name: &'r HashMap<(&'s str, &'s str), usize>,
    visiting: Vec<bool>,
    done: Vec<bool>,
    through_temporary: Vec<bool>,
}

impl RenameOrder<'_, '_> {
    fn visit(&mut self, planner: &Planner<'_>, i: usize, out: &mut Output) {
        if self.done[i] {
            return;
        }
        let r = &self.renames[i];
        if self.visiting[i] {
            // A cycle: free this OU's name now through a temporary name.
            self.through_temporary[i] = true;
            let temporary = temporary_name(r.id);
            let next = self.by_name.get(&(r.parent, r.spec.name.as_str())).copied();
            let blocker = next.map(|j| self.renames[j].id).unwrap_or_default();
            out.changes.push(
                Change::new(
                    ResourceKind::Ou,
                    Action::Rename,
                    format!("ou {}", r.spec.path),
                    format!(
                        "OU {} is renamed from {} to {} through the temporary name {temporary} \
                         (step 1 of 2): sibling OU names are unique and {} now has the name {}, \
                         while the renames of this plan pass the names around in a cycle",
                        r.id, r.from, r.spec.name, blocker, r.spec.name
                    ),
                )
                .before(json!({"name": r.from, "path": planner.index.path(r.id)}))
                .after(json!({"name": temporary, "path": planner.temporary_path(r)}))
                .source(&r.spec.source)
                .op(Op::RenameOu {
                    ou: Ref::Id(r.id.to_owned()),
                    name: temporary,
                }),
            );
            return;
        }
        self.visiting[i] = true;
        if let Some(&j) = self.by_name.get(&(r.parent, r.spec.name.as_str()))
            && j != i
        {
            self.visit(planner, j, out);
        }
        self.visiting[i] = false;
        self.done[i] = true;
        let (from, from_path, reason) = if self.through_temporary[i] {
            let temporary = temporary_name(r.id);
            let reason = format!(
                "OU {} is renamed from the temporary name {temporary} to {} (step 2 of 2; its id \
                 stays)",
                r.id, r.spec.name
            );
            (temporary, planner.temporary_path(r), reason)
        } else {
            let reason = format!(
                "OU {} is renamed from {} to {} (its id stays)",
                r.id, r.from, r.spec.name
            );
            (r.from.to_owned(), planner.index.path(r.id), reason)
        };
        out.changes.push(
            Change::new(
                ResourceKind::Ou,
                Action::Rename,
                format!("ou {}", r.spec.path),
                reason,
            )
            .before(json!({"name": from, "path": from_path}))
            .after(json!({"name": r.spec.name, "path": r.spec.path}))
            .source(&r.spec.source)
            .op(Op::RenameOu {
                ou: Ref::Id(r.id.to_owned()),
                name: r.spec.name.clone(),
            }),
        );
    }
}

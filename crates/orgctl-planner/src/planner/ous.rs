//! Phase 2: OUs are created (parents first), replaced, renamed and retagged.

use orgctl_model::{MANAGED_BY_KEY, MANAGED_BY_VALUE, Op, OuSpec, Ref, parent_path};
use serde_json::json;

use super::matching::OuState;
use super::{Output, Planner, depth, tag_change};
use crate::plan::{Action, Change, ResourceKind};

impl Planner<'_> {
    pub(super) fn ou_changes(&self, out: &mut Output) {
        let mut specs: Vec<&OuSpec> = self.desired.ous.values().collect();
        specs.sort_by_key(|s| (depth(&s.path), s.path.as_str()));
        for spec in specs {
            let address = format!("ou {}", spec.path);
            let mut want_tags = spec.tags.clone();
            want_tags.insert(MANAGED_BY_KEY.into(), MANAGED_BY_VALUE.into());
            match self.matched.ou_state.get(spec.path.as_str()) {
                Some(OuState::New { replaces }) => {
                    let create = Op::CreateOu {
                        parent: self.ou_ref(parent_path(&spec.path)),
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
                                    "OU moves from {old_path} to {}: AWS cannot move an OU, so a \
                                     new OU replaces {old} (OU id will change); its accounts move \
                                     over, its policies and tags are set on the new OU, and the \
                                     old OU is deleted",
                                    spec.path
                                ),
                            )
                            .before(json!({"path": old_path, "id": old}))
                        }
                        None => Change::new(
                            ResourceKind::Ou,
                            Action::Create,
                            address,
                            "no OU at this path in the organization (to rename or move an \
                             existing OU instead, give it its `id`)",
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
                        continue;
                    };
                    if live.name != spec.name {
                        out.changes.push(
                            Change::new(
                                ResourceKind::Ou,
                                Action::Rename,
                                address.clone(),
                                format!(
                                    "OU {id} is renamed from {} to {} (its id stays)",
                                    live.name, spec.name
                                ),
                            )
                            .before(json!({"name": live.name, "path": self.index.path(id)}))
                            .after(json!({"name": spec.name, "path": spec.path}))
                            .source(&spec.source)
                            .op(Op::RenameOu {
                                ou: Ref::Id(id.clone()),
                                name: spec.name.clone(),
                            }),
                        );
                    }
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
}

//! Phases 1 and 3: policy types are enabled; policies are created and updated.

use orgctl_model::{MANAGED_BY_KEY, MANAGED_BY_VALUE, Op, Ref, canonical_json_str};
use serde_json::{Value, json};

use super::matching::live_policies_by_name;
use super::{Output, Planner, document_diff, tag_change};
use crate::plan::{Action, Change, ResourceKind};

impl Planner<'_> {
    pub(super) fn policy_types(&self, out: &mut Output) {
        for policy_type in &self.desired.organization.enabled_policy_types {
            if !self
                .live
                .organization
                .enabled_policy_types
                .contains(policy_type)
            {
                out.changes.push(
                    Change::new(
                        ResourceKind::Organization,
                        Action::Enable,
                        format!("organization policy-type {policy_type}"),
                        format!("{policy_type} is listed in enabled_policy_types but not enabled"),
                    )
                    .source(&self.desired.organization.source)
                    .op(Op::EnablePolicyType {
                        root: Ref::Id(self.index.root.clone()),
                        policy_type: *policy_type,
                    }),
                );
            }
        }
    }

    pub(super) fn policy_changes(&self, out: &mut Output) {
        let by_name = live_policies_by_name(&self.live.policies);
        for spec in self.desired.policies.values() {
            let address = format!("policy {}/{}", spec.policy_type.short(), spec.name);
            let mut want_tags = spec.tags.clone();
            want_tags.insert(MANAGED_BY_KEY.into(), MANAGED_BY_VALUE.into());
            match by_name.get(spec.name.as_str()).copied() {
                // A policy of another type has the name: an error of the matching.
                Some(live) if live.policy_type != spec.policy_type => {}
                None => out.changes.push(
                    Change::new(
                        ResourceKind::Policy,
                        Action::Create,
                        address,
                        "no policy with this name in the organization",
                    )
                    .after(json!({
                        "name": spec.name,
                        "type": spec.policy_type,
                        "description": spec.description,
                        "tags": want_tags,
                    }))
                    .diff(document_diff("", &spec.content))
                    .source(&spec.source)
                    .op(Op::CreatePolicy {
                        name: spec.name.clone(),
                        policy_type: spec.policy_type,
                        description: spec.description.clone(),
                        content: spec.content.clone(),
                        tags: want_tags,
                    }),
                ),
                Some(live) => {
                    let live_content = canonical_json_str(&live.content);
                    let content_differs = live_content.as_deref() != Some(spec.content.as_str());
                    let description_differs = live.description != spec.description;
                    if content_differs || description_differs {
                        let mut before = serde_json::Map::new();
                        let mut after = serde_json::Map::new();
                        if description_differs {
                            before.insert("description".into(), json!(live.description));
                            after.insert("description".into(), json!(spec.description));
                        }
                        let diff = content_differs.then(|| {
                            document_diff(
                                live_content.as_deref().unwrap_or(&live.content),
                                &spec.content,
                            )
                        });
                        let reason = match (content_differs, description_differs) {
                            (true, true) => "document and description differ from the YAML",
                            (true, false) => "document differs from the YAML",
                            _ => "description differs from the YAML",
                        };
                        out.changes.push(
                            Change::new(ResourceKind::Policy, Action::Update, &address, reason)
                                .before(Value::Object(before))
                                .after(Value::Object(after))
                                .diff(diff)
                                .source(&spec.source)
                                .op(Op::UpdatePolicy {
                                    policy: Ref::Id(live.id.clone()),
                                    description: description_differs
                                        .then(|| spec.description.clone()),
                                    content: content_differs.then(|| spec.content.clone()),
                                }),
                        );
                    }
                    let have = self.comparable(&live.tags, true);
                    out.changes.extend(tag_change(
                        &address,
                        ResourceKind::Policy,
                        &live.id,
                        &have,
                        &want_tags,
                        &spec.source,
                    ));
                }
            }
        }
    }
}

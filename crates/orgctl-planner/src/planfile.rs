//! The saved plan (`plan --out FILE`, `--format json`): a versioned JSON document that the
//! applier reads back. It carries fingerprints of the live and desired state it was computed
//! from, so a stale plan is refused.

use serde::{Deserialize, Serialize};

use crate::plan::{Plan, Summary};
pub use crate::planner::grants::IAM_READ_ADDRESS_PREFIX;

/// The version of the JSON plan format; bumped for any change a consumer must know about.
/// Version 2: `live_fingerprint` and `desired_fingerprint` are [`orgctl_model::digest`]s (version
/// 1 had the SHA-256 of the states' JSON), so a version-1 plan could never match a fresh one.
pub const FORMAT_VERSION: u32 = 2;

/// The JSON plan document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "orgctl JSON plan (format_version 2)")]
pub struct PlanFile {
    /// The version of this format: 2. A reader refuses any other.
    #[schemars(extend("const" = FORMAT_VERSION))]
    pub format_version: u32,
    /// The orgctl version that wrote it.
    pub orgctl_version: String,
    /// The counts of the closing summary (derived; ignored when read back).
    pub summary: Summary,
    /// The plan.
    #[serde(flatten)]
    pub plan: Plan,
}

/// Why a plan file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// Not JSON, or not a plan.
    #[error("not an orgctl plan: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Written by a format this orgctl does not read (an older orgctl's, or a newer one's).
    #[error(
        "plan format_version {found} is not supported (this orgctl reads version \
         {FORMAT_VERSION}): it was written by {}; make the plan again with this orgctl \
         (`orgctl plan --out FILE`)",
        if *found < u64::from(FORMAT_VERSION) { "an older orgctl" } else { "another orgctl" }
    )]
    Version {
        /// The version in the file.
        found: u64,
    },
}

/// The plan as pretty-printed JSON.
pub fn to_json(plan: &Plan) -> String {
    let file = PlanFile {
        format_version: FORMAT_VERSION,
        orgctl_version: env!("CARGO_PKG_VERSION").to_owned(),
        summary: plan.summary(),
        plan: plan.clone(),
    };
    // Plain data with string keys: serialisation cannot fail.
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// The JSON Schema (draft 2020-12) of the plan document, as committed in
/// `docs/plan.schema.json`; generated from the types [`from_json`] reads, so it cannot drift.
pub fn json_schema() -> String {
    orgctl_model::schema::to_text(schemars::schema_for!(PlanFile))
}

/// Reads a plan written by [`to_json`].
pub fn from_json(text: &str) -> Result<Plan, PlanFileError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let found = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if found != u64::from(FORMAT_VERSION) {
        return Err(PlanFileError::Version { found });
    }
    let file: PlanFile = serde_json::from_value(value)?;
    Ok(file.plan)
}

/// How a saved plan differs from the plan made now from the same desired state and the live
/// state read now, in one phrase (`None` when they are the same plan). `apply --plan` applies a
/// saved plan only when there is no difference: every change (its operations and everything the
/// reviewer saw: address, action, attributes, document diff, reason, source), every note,
/// warning and error, and the organization and fingerprints must be equal — except the notes and
/// warnings that say how IAM was read in an account (address [`IAM_READ_ADDRESS_PREFIX`]): a
/// plan reads through orgctl's read role, an apply through the member role, so they differ by
/// design (an account unreadable at one time and readable at the other changes the role
/// changes, which are compared). `today` is not
/// compared here: `apply --plan` refuses a saved plan whose `today` is not the current date
/// before it reads anything (a plan saved before a grant expired must not be applied after).
pub fn difference(saved: &Plan, fresh: &Plan) -> Option<String> {
    let fields: [(&str, &String, &String); 4] = [
        (
            "organization_id",
            &saved.organization_id,
            &fresh.organization_id,
        ),
        (
            "management_account_id",
            &saved.management_account_id,
            &fresh.management_account_id,
        ),
        (
            "live_fingerprint",
            &saved.live_fingerprint,
            &fresh.live_fingerprint,
        ),
        (
            "desired_fingerprint",
            &saved.desired_fingerprint,
            &fresh.desired_fingerprint,
        ),
    ];
    if let Some((name, _, _)) = fields.iter().find(|(_, s, f)| s != f) {
        return Some(format!("its {name} differs"));
    }
    for (i, (s, f)) in saved.changes.iter().zip(&fresh.changes).enumerate() {
        if s == f {
            continue;
        }
        let parts: Vec<&str> = [
            ("address", s.address == f.address),
            ("kind", s.kind == f.kind),
            ("action", s.action == f.action),
            ("before", s.before == f.before),
            ("after", s.after == f.after),
            ("diff", s.diff == f.diff),
            ("reason", s.reason == f.reason),
            ("source", s.source == f.source),
            ("ops", s.ops == f.ops),
        ]
        .into_iter()
        .filter_map(|(part, same)| (!same).then_some(part))
        .collect();
        return Some(format!(
            "change {} (`{}`) differs in {}",
            i + 1,
            s.address,
            parts.join(", ")
        ));
    }
    if saved.changes.len() != fresh.changes.len() {
        return Some(format!(
            "it has {} changes where a fresh plan has {}",
            saved.changes.len(),
            fresh.changes.len()
        ));
    }
    let read = |address: &str| address.starts_with(IAM_READ_ADDRESS_PREFIX);
    let (saved_notes, fresh_notes) = (
        saved.notes.iter().filter(|n| !read(&n.address)),
        fresh.notes.iter().filter(|n| !read(&n.address)),
    );
    if !saved_notes.eq(fresh_notes) {
        return Some("its notes differ".to_owned());
    }
    let (saved_warnings, fresh_warnings) = (
        saved.warnings.iter().filter(|w| !read(&w.address)),
        fresh.warnings.iter().filter(|w| !read(&w.address)),
    );
    if !saved_warnings.eq(fresh_warnings) {
        return Some("its warnings differ".to_owned());
    }
    if saved.errors != fresh.errors {
        return Some("its errors differ".to_owned());
    }
    if saved.access != fresh.access {
        return Some("its access review differs".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use orgctl_model::{Op, Ref};

    use super::*;
    use crate::plan::{Action, Change, Note, ResourceKind};

    fn plan() -> Plan {
        Plan {
            changes: vec![Change {
                address: "attachment scp/guard -> /Workloads".to_owned(),
                kind: ResourceKind::Attachment,
                action: Action::Attach,
                before: None,
                after: None,
                diff: None,
                reason: "The YAML attaches scp/guard to /Workloads.".to_owned(),
                source: None,
                ops: vec![Op::AttachPolicy {
                    policy: Ref::Id("p-1".to_owned()),
                    target: Ref::Id("ou-1".to_owned()),
                }],
            }],
            notes: vec![],
            warnings: vec![],
            errors: vec![],
            access: vec![],
            organization_id: "o-1".to_owned(),
            management_account_id: "111111111111".to_owned(),
            today: "2026-11-27".to_owned(),
            live_fingerprint: "live".to_owned(),
            desired_fingerprint: "desired".to_owned(),
            records: vec![],
        }
    }

    /// A plan written before the fingerprints became digests (format_version 1) is refused
    /// with a message saying so, not compared (its fingerprints would only look stale).
    #[test]
    fn a_version_1_plan_is_refused_as_written_by_an_older_orgctl() {
        assert_eq!(FORMAT_VERSION, 2);
        let mut old: serde_json::Value =
            serde_json::from_str(&to_json(&plan())).expect("JSON plan");
        old["format_version"] = serde_json::json!(1);
        let err = from_json(&old.to_string()).expect_err("version 1 refused");
        assert!(matches!(err, PlanFileError::Version { found: 1 }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("format_version 1 is not supported")
                && message.contains("reads version 2")
                && message.contains("an older orgctl")
                && message.contains("orgctl plan --out FILE"),
            "{message}"
        );
        old["format_version"] = serde_json::json!(3);
        let err = from_json(&old.to_string()).expect_err("version 3 refused");
        assert!(err.to_string().contains("another orgctl"), "{err}");
        old["format_version"] = serde_json::json!(2);
        assert_eq!(from_json(&old.to_string()).expect("reads"), plan());
    }

    #[test]
    fn a_saved_plan_equal_but_for_the_day_is_the_same_plan() {
        let fresh = plan();
        let mut saved = from_json(&to_json(&fresh)).expect("reads back");
        assert_eq!(difference(&saved, &fresh), None);
        saved.today = "2026-11-26".to_owned();
        assert_eq!(difference(&saved, &fresh), None);
    }

    #[test]
    fn how_iam_was_read_is_not_a_difference_but_other_notes_are() {
        let fresh = plan();
        let mut saved = fresh.clone();
        saved.notes.push(Note {
            address: format!("{IAM_READ_ADDRESS_PREFIX}staging"),
            message: "read through the member role".to_owned(),
        });
        saved.warnings.push(crate::plan::Warning {
            address: format!("{IAM_READ_ADDRESS_PREFIX}legacy"),
            message: "could not be read (request id 1234)".to_owned(),
            source: None,
        });
        assert_eq!(difference(&saved, &fresh), None);
        saved.notes.push(Note {
            address: "account staging".to_owned(),
            message: "left alone".to_owned(),
        });
        assert_eq!(
            difference(&saved, &fresh).as_deref(),
            Some("its notes differ")
        );
    }

    #[test]
    fn every_edit_of_a_saved_plan_is_a_difference() {
        let fresh = plan();
        type Edit = fn(&mut Plan);
        let edits: [(Edit, &str); 7] = [
            (
                |p| {
                    p.changes[0].ops[0] = Op::DetachPolicy {
                        policy: Ref::Id("p-1".to_owned()),
                        target: Ref::Id("ou-1".to_owned()),
                    }
                },
                "change 1 (`attachment scp/guard -> /Workloads`) differs in ops",
            ),
            (|p| p.changes[0].ops.clear(), "differs in ops"),
            (|p| p.changes[0].reason.push('!'), "differs in reason"),
            (
                |p| {
                    p.changes[0].action = Action::Detach;
                    p.changes[0].address.push('x');
                },
                "differs in address, action",
            ),
            (
                |p| p.changes.clear(),
                "it has 0 changes where a fresh plan has 1",
            ),
            (
                |p| {
                    p.notes.push(Note {
                        address: "ou /X".to_owned(),
                        message: "left alone".to_owned(),
                    })
                },
                "its notes differ",
            ),
            (
                |p| p.organization_id = "o-2".to_owned(),
                "its organization_id differs",
            ),
        ];
        for (edit, expected) in edits {
            let mut saved = fresh.clone();
            edit(&mut saved);
            let found = difference(&saved, &fresh).unwrap_or_default();
            assert!(found.contains(expected), "{found:?} vs {expected:?}");
        }
    }
}

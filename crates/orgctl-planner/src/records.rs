//! What `apply` last applied, recorded in AWS itself (no state file), and whether a plan change
//! is **out-of-band** (AWS changed after orgctl applied the YAML there) or **pending** (the YAML
//! changed and has not been applied yet).
//!
//! Each live resource the YAML manages (the root, its OUs, its customer policies, its accounts
//! and the accounts holding or wanting an orgctl role) carries one tag, [`RECORD_TAG`], whose
//! value is `1:<h>:<YYYY-MM-DD>`: the record format version, the first 16 hex characters of
//! the SHA-256 of the canonical JSON of the resource's **desired view**, and the day the apply
//! wrote it. The desired view (`planner/views.rs`) is what the YAML says about that resource,
//! found by the planner's own matching: the root's policy types, `root_full_aws_access`,
//! policy names and top-level OU names; an OU's path, tags, `full_aws_access`, `production` and
//! child OU names; a policy's name, type, description, content, tags and targets; an account's
//! spec and the roles the plan wants in it (name and SHA-256 of the whole role). Roles carry no
//! record: their account does.
//!
//! A change depends on the records of the live resources its operations touch
//! ([`Records::depends_on`]). When every one of them records exactly what the YAML says now,
//! the YAML is what orgctl last applied there, so the difference is out-of-band; otherwise the
//! YAML changed since (or was never applied by a recording orgctl): pending. A creation
//! depends on nothing and is pending.
//!
//! Limits: a resource whose YAML also changed since the last apply is pending even if it was
//! edited by hand as well; a resource deleted by hand whose container's record is missing is
//! pending; an account's record covers its roles, so a YAML change to a grant makes every role
//! change in its target accounts pending; records of another format version count as absent.
//!
//! Pure: no IO, no clock (the record's date is the plan's `today`).

use std::collections::{BTreeSet, HashSet};

use orgctl_model::{
    DesiredState, LiveState, Op, RECORD_TAG, ROLES_RECORD_TAG, ROLES_RECORD_VALUE, Ref,
};
use serde::{Deserialize, Serialize};

use crate::fast_hash::{FastMap, FastSet};
use crate::plan::{Change, Plan};
use crate::planner::PlanOptions;
use crate::planner::views::{HASH_CHARS, Views};

/// The record format version this orgctl writes and reads.
pub const RECORD_VERSION: &str = "1";

/// A record to write: the tag `orgctl:applied` with `value` on `resource_id` (the root, an OU,
/// an account or a customer policy), for a resource whose record is missing or out of date
/// while AWS already is as the YAML says (no change of the plan depends on it); or the roles
/// record `orgctl:roles` (`key`) on an account where orgctl's roles are read without it (it is
/// written) or where it is kept with no orgctl role left (`remove`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RecordWrite {
    /// The live id of the resource.
    pub resource_id: String,
    /// The tag's key: `orgctl:applied` when absent, or `orgctl:roles`.
    #[serde(default = "applied_key", skip_serializing_if = "is_applied_key")]
    pub key: String,
    /// The tag's value: `1:<16 hex>:<YYYY-MM-DD>` for `orgctl:applied`, `1` for
    /// `orgctl:roles`.
    pub value: String,
    /// Whether the tag is removed instead (only the roles record of an account where orgctl
    /// keeps no role).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
}

fn applied_key() -> String {
    RECORD_TAG.to_owned()
}

fn is_applied_key(key: &String) -> bool {
    key == RECORD_TAG
}

impl RecordWrite {
    /// A record of what was applied (`orgctl:applied`).
    pub fn applied(resource_id: impl Into<String>, value: impl Into<String>) -> Self {
        RecordWrite {
            resource_id: resource_id.into(),
            key: applied_key(),
            value: value.into(),
            remove: false,
        }
    }

    /// The roles record (`orgctl:roles`) of an account: written, or removed.
    pub fn roles(account_id: impl Into<String>, remove: bool) -> Self {
        RecordWrite {
            resource_id: account_id.into(),
            key: ROLES_RECORD_TAG.to_owned(),
            value: ROLES_RECORD_VALUE.to_owned(),
            remove,
        }
    }

    /// The operation that writes it.
    pub fn op(&self) -> Op {
        let resource = Ref::Id(self.resource_id.clone());
        if self.remove {
            Op::UntagResource {
                resource,
                keys: [self.key.clone()].into(),
            }
        } else {
            Op::TagResource {
                resource,
                tags: [(self.key.clone(), self.value.clone())].into(),
            }
        }
    }
}

/// Where a plan change comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// AWS was changed after orgctl last applied the YAML there: every record the change
    /// depends on says the YAML is what was applied.
    OutOfBand,
    /// The YAML has not been applied yet.
    Pending(PendingWhy),
}

/// Why a change is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PendingWhy {
    /// A record it depends on was written for another YAML: the YAML changed since that apply.
    YamlChanged,
    /// A record it depends on is missing (never applied with records, or another format
    /// version), or it depends on none (a creation).
    NotRecorded,
}

/// A record as read: its hash and the day it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The desired view's hash (16 hex characters).
    pub hash: &'a str,
    /// The day the apply wrote it (`YYYY-MM-DD`).
    pub date: &'a str,
}

/// Parses a record value; `None` when it is not one of this format version.
pub fn parse_record(value: &str) -> Option<Record<'_>> {
    let mut parts = value.splitn(3, ':');
    let (version, hash, date) = (parts.next()?, parts.next()?, parts.next()?);
    let hex = hash.len() == HASH_CHARS
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let day = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    (version == RECORD_VERSION && hex && day).then_some(Record { hash, date })
}

/// The value of a record of `hash` written on `today`.
pub fn record_value(hash: &str, today: &str) -> String {
    format!("{RECORD_VERSION}:{hash}:{today}")
}

/// The records of a live state next to the desired views of a desired state: what each change
/// depends on and where it comes from.
pub struct Records<'a> {
    root_id: &'a str,
    aws_managed: HashSet<&'a str>,
    /// Live id → its record (parsed), for every resource that has one of this version.
    recorded: FastMap<&'a str, Record<'a>>,
    /// Live id → the hash of its desired view.
    views: Views,
}

impl<'a> Records<'a> {
    /// Computes the desired views (the planner's matching and wanted roles, no changes planned)
    /// and reads the records of `live`.
    pub fn new(desired: &DesiredState, live: &'a LiveState, options: &PlanOptions) -> Self {
        Self::from_views(live, crate::planner::desired_views(desired, live, options))
    }

    pub(crate) fn from_views(live: &'a LiveState, views: Views) -> Self {
        let mut recorded = FastMap::default();
        let mut add = |id: &'a str, value: Option<&'a String>| {
            if let Some(r) = value.and_then(|v| parse_record(v)) {
                recorded.insert(id, r);
            }
        };
        add(
            &live.organization.root_id,
            live.organization.root_record.as_ref(),
        );
        for ou in &live.ous {
            add(&ou.id, ou.tags.get(RECORD_TAG));
        }
        for a in &live.accounts {
            add(&a.id, a.tags.get(RECORD_TAG));
        }
        for p in live.policies.iter().filter(|p| !p.aws_managed) {
            add(&p.id, p.tags.get(RECORD_TAG));
        }
        Records {
            root_id: &live.organization.root_id,
            aws_managed: live
                .policies
                .iter()
                .filter(|p| p.aws_managed)
                .map(|p| p.id.as_str())
                .collect(),
            recorded,
            views,
        }
    }

    /// The live ids whose records a change depends on (`K(change)`): the resources its
    /// operations touch that exist (a new parent or account gives nothing), an AWS-managed
    /// policy excepted (it cannot be tagged); creating a policy depends on the root.
    pub fn depends_on<'c>(&self, change: &'c Change) -> BTreeSet<&'c str>
    where
        'a: 'c,
    {
        let mut out = BTreeSet::new();
        self.each_dependency(change, |id| {
            out.insert(id);
        });
        out
    }

    /// Calls `found` with each id of [`Records::depends_on`] (some more than once).
    fn each_dependency<'c>(&self, change: &'c Change, mut found: impl FnMut(&'c str))
    where
        'a: 'c,
    {
        let mut id = |r: &'c Ref| {
            if let Ref::Id(id) = r {
                found(id.as_str());
            }
        };
        let mut creates_policy = false;
        for op in &change.ops {
            match op {
                Op::EnablePolicyType { root, .. } => id(root),
                Op::CreateOu { parent, .. } => id(parent),
                Op::RenameOu { ou, .. } | Op::DeleteOu { ou } => id(ou),
                Op::CreateAccount { .. } => {}
                Op::MoveAccount { account, .. } | Op::CloseAccount { account } => id(account),
                Op::TagResource { resource, .. } | Op::UntagResource { resource, .. } => {
                    id(resource)
                }
                Op::CreatePolicy { .. } => creates_policy = true,
                Op::UpdatePolicy { policy, .. } | Op::DeletePolicy { policy } => id(policy),
                Op::AttachPolicy { policy, target } | Op::DetachPolicy { policy, target } => {
                    if !matches!(policy, Ref::Id(p) if self.aws_managed.contains(p.as_str())) {
                        id(policy);
                    }
                    id(target);
                }
                other => {
                    if let Some((account, _)) = other.role() {
                        id(account);
                    }
                }
            }
        }
        if creates_policy {
            found(self.root_id);
        }
    }

    /// The hash of a resource's record, when it has one of this version.
    pub fn recorded(&self, id: &str) -> Option<Record<'a>> {
        self.recorded.get(id).copied()
    }

    /// The hash of a resource's desired view, when the YAML manages it.
    pub fn desired(&self, id: &str) -> Option<&str> {
        self.views.get(id).map(String::as_str)
    }

    /// Where one change comes from.
    pub fn provenance(&self, change: &Change) -> Provenance {
        let depends = self.depends_on(change);
        if depends.is_empty() {
            return Provenance::Pending(PendingWhy::NotRecorded);
        }
        let mut not_recorded = false;
        let mut changed = false;
        for k in depends {
            let rec = self.recorded(k).map(|r| r.hash);
            if rec != self.desired(k) {
                if rec.is_some() {
                    changed = true;
                } else {
                    not_recorded = true;
                }
            }
        }
        match (changed, not_recorded) {
            (true, _) => Provenance::Pending(PendingWhy::YamlChanged),
            (false, true) => Provenance::Pending(PendingWhy::NotRecorded),
            (false, false) => Provenance::OutOfBand,
        }
    }

    /// The oldest day an apply recorded one of the resources a change depends on (for "orgctl
    /// applied this on D").
    pub fn recorded_on(&self, change: &Change) -> Option<&'a str> {
        self.depends_on(change)
            .into_iter()
            .filter_map(|k| self.recorded(k).map(|r| r.date))
            .min()
    }

    /// The records to write: every resource the YAML manages whose record does not hold its
    /// desired view's hash, unless a change depends on it (it is recorded once AWS is as the
    /// YAML says). Sorted by resource id.
    /// The views' ids move into the writes.
    pub(crate) fn stale(self, changes: &[Change], today: &str) -> Vec<RecordWrite> {
        let mut touched: FastSet<&str> = FastSet::default();
        touched.reserve(changes.len());
        for c in changes {
            self.each_dependency(c, |id| {
                touched.insert(id);
            });
        }
        let Records {
            recorded, views, ..
        } = self;
        let mut writes: Vec<(String, String)> = Vec::with_capacity(views.len());
        writes.extend(views.into_iter().filter(|(id, hash)| {
            recorded.get(id.as_str()).map(|r| r.hash) != Some(hash.as_str())
                && !touched.contains(id.as_str())
        }));
        // Ids are unique (map keys).
        writes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        writes
            .into_iter()
            .map(|(id, hash)| RecordWrite::applied(id, record_value(&hash, today)))
            .collect()
    }
}

/// Where each change of `plan` comes from: one per `plan.changes`, in the same order.
pub fn provenance(
    desired: &DesiredState,
    live: &LiveState,
    options: &PlanOptions,
    plan: &Plan,
) -> Vec<Provenance> {
    let records = Records::new(desired, live, options);
    plan.changes.iter().map(|c| records.provenance(c)).collect()
}

//! The drift report of `orgctl drift`: every difference between the desired state (git) and the
//! live organization (AWS), each put in one class and told what to do about it. Pure: [`report`]
//! does no IO and reads no clock (the date is the plan's).
//!
//! The classes, most important first (the order of [`DriftClass`] and of the report's items):
//! - **out-of-band**: AWS was changed after orgctl last applied the YAML there (a plan change
//!   whose resources carry a record of the last apply that still matches the YAML; see
//!   [`crate::records`]);
//! - **expired**: a grant of the YAML is past `expires` and its role still exists (the plan
//!   deletes it); this takes precedence over the two classes around it;
//! - **unverifiable**: what orgctl could not read: an account the YAML lists or a grant targets
//!   whose IAM could not be read, an account the YAML lists as active that AWS has closed
//!   (SUSPENDED or PENDING_CLOSURE), and the plan's "cannot be verified" warnings;
//! - **pending**: the YAML changed and has not been applied (or orgctl has no record of applying
//!   it: a creation, or a resource recorded by no apply);
//! - **unmanaged**: resources orgctl leaves alone (the plan's notes) and roles outside
//!   `/orgctl/` trusting a principal outside the organization (the access review's findings).
//!   Information: they do not count as drift.
//!
//! The plan's other warnings (a root email or an account name that differs, and orgctl does not
//! change) are kept as warnings and count as drift; its errors are kept as errors.

use std::collections::{BTreeMap, BTreeSet};

use orgctl_model::{AccountStatus, DesiredState, Lifecycle, LiveAccount, LiveState};
use serde::{Deserialize, Serialize};

use crate::access_report::{AccessReport, FindingKind};
use crate::plan::{Action, Change, Plan, PlanError, ResourceKind, Warning};
use crate::planner::grants::IAM_READ_ADDRESS_PREFIX;
pub use crate::records::{PendingWhy, Provenance};

/// The version of the JSON document `orgctl drift --format json` prints.
pub const DRIFT_FORMAT_VERSION: u32 = 1;

/// The class of one difference, in order of importance.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DriftClass {
    /// AWS was changed after orgctl last applied (a hand edit).
    OutOfBand,
    /// A grant past `expires` whose role still exists.
    Expired,
    /// Something orgctl could not read or verify.
    Unverifiable,
    /// A YAML change not applied yet.
    Pending,
    /// A resource orgctl does not manage (information, not drift).
    Unmanaged,
}

impl DriftClass {
    /// Every class, in order of importance.
    pub const ALL: [DriftClass; 5] = [
        DriftClass::OutOfBand,
        DriftClass::Expired,
        DriftClass::Unverifiable,
        DriftClass::Pending,
        DriftClass::Unmanaged,
    ];

    /// `out-of-band`, `expired`, …
    pub fn as_str(self) -> &'static str {
        match self {
            DriftClass::OutOfBand => "out-of-band",
            DriftClass::Expired => "expired",
            DriftClass::Unverifiable => "unverifiable",
            DriftClass::Pending => "pending",
            DriftClass::Unmanaged => "unmanaged",
        }
    }

    /// Whether items of this class are drift (`--detailed-exitcode` exits 2).
    pub fn is_drift(self) -> bool {
        self != DriftClass::Unmanaged
    }
}

/// One difference between git and AWS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DriftItem {
    /// Its class.
    pub class: DriftClass,
    /// The resource (`account companyx-staging`, `attachment scp/x -> /Sandbox`, …).
    pub address: String,
    /// What differs, in a sentence (for a plan change: its reason).
    pub message: String,
    /// The plan change that would remove the difference (absent for unverifiable and unmanaged
    /// items): `before` is what AWS has, `after` what the YAML says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// For a pending item: why it counts as pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingWhy>,
    /// The day orgctl last applied the YAML to the resource (`YYYY-MM-DD`), when it is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_on: Option<String>,
    /// Why it is in its class.
    pub why: String,
    /// What to do about it.
    pub what_to_do: String,
}

/// Counts per class.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct DriftSummary {
    /// Out-of-band items.
    pub out_of_band: usize,
    /// Expired items.
    pub expired: usize,
    /// Unverifiable items.
    pub unverifiable: usize,
    /// Pending items.
    pub pending: usize,
    /// Unmanaged items (information: not drift).
    pub unmanaged: usize,
    /// The plan's warnings that are not about what could not be verified.
    pub warnings: usize,
    /// The plan's errors.
    pub errors: usize,
}

impl DriftSummary {
    /// The count of one class.
    pub fn count(&self, class: DriftClass) -> usize {
        match class {
            DriftClass::OutOfBand => self.out_of_band,
            DriftClass::Expired => self.expired,
            DriftClass::Unverifiable => self.unverifiable,
            DriftClass::Pending => self.pending,
            DriftClass::Unmanaged => self.unmanaged,
        }
    }

    /// Whether there is drift: anything out-of-band, expired, unverifiable or pending, or a
    /// warning (unmanaged items are information).
    pub fn is_drift(&self) -> bool {
        self.out_of_band + self.expired + self.unverifiable + self.pending + self.warnings > 0
    }
}

/// The drift report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "orgctl drift report (format_version 1)")]
pub struct DriftReport {
    /// The version of this format: 1.
    #[schemars(extend("const" = DRIFT_FORMAT_VERSION))]
    pub format_version: u32,
    /// The date the report was made for (`YYYY-MM-DD`, UTC); grant expiry is judged against it.
    pub today: String,
    /// The organization (`o-…`).
    pub organization_id: String,
    /// The management account's id.
    pub management_account_id: String,
    /// Counts per class.
    pub summary: DriftSummary,
    /// The items, most important class first (out-of-band, expired, unverifiable, pending,
    /// unmanaged), in plan order within a class.
    pub items: Vec<DriftItem>,
    /// The plan's warnings that are not about what could not be verified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// The plan's errors: the YAML cannot be applied as it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<PlanError>,
    /// Fingerprint of the live state.
    pub live_fingerprint: String,
    /// Fingerprint of the desired state.
    pub desired_fingerprint: String,
}

impl DriftReport {
    /// Whether there is drift (see [`DriftSummary::is_drift`]).
    pub fn is_drift(&self) -> bool {
        self.summary.is_drift()
    }
}

/// What `report` needs beyond the plan.
pub struct DriftInput<'a> {
    /// The desired state.
    pub desired: &'a DesiredState,
    /// The live state the plan was made against.
    pub live: &'a LiveState,
    /// The plan.
    pub plan: &'a Plan,
    /// The provenance of each of the plan's changes, in the same order
    /// ([`crate::records::Records::provenance`]).
    pub provenance: &'a [Provenance],
    /// The date orgctl last applied the YAML to each change's resources, when recorded (same
    /// order; `None` when unknown; [`crate::records::Records::recorded_on`]).
    pub applied_on: &'a [Option<String>],
    /// The access review of the same organization (its external-trust findings).
    pub access: &'a AccessReport,
}

const REVERT_OR_ADOPT: &str = "revert it with `orgctl apply`, or adopt the change: edit the YAML \
     to say what AWS has (then `orgctl plan` shows nothing for it)";
const APPLY_OR_DROP: &str = "review and apply it with `orgctl apply`, or revert the YAML change";
const EXPIRED_TODO: &str = "AWS already refuses new sessions; delete the role with `orgctl \
     apply`, or extend the grant's `expires` (a new approval) if access must go on";
const UNMANAGED_TODO: &str = "nothing, if it is meant to be outside orgctl; to manage it, add it \
     to the YAML (`orgctl import` writes what AWS has)";
const UNRECORDED_TODO: &str = "if the role is left over, delete it in IAM; if it should stay, \
     target the account with its grant (the next apply records it and manages the role)";
const TRUST_TODO: &str = "check that the outside principal should reach the account; if not, \
     remove the role or its trust in IAM, or make it an access grant in the YAML";

/// Builds the report: classifies every change of `input.plan`, then adds what could not be
/// verified and what orgctl does not manage.
pub fn report(input: &DriftInput<'_>) -> DriftReport {
    let DriftInput {
        desired,
        live,
        plan,
        provenance,
        applied_on,
        access,
    } = *input;
    let mut items: Vec<DriftItem> = Vec::new();

    // Plan changes: expired, out-of-band or pending.
    for (i, change) in plan.changes.iter().enumerate() {
        let recorded = applied_on.get(i).cloned().flatten();
        let item = if let Some(ended) = expired_grant(desired, change, &plan.today) {
            DriftItem {
                class: DriftClass::Expired,
                address: change.address.clone(),
                message: change.reason.clone(),
                change: Some(change.clone()),
                pending: None,
                applied_on: recorded,
                why: format!(
                    "the grant's access ended on {ended} (its `expires`), and its role still \
                     exists"
                ),
                what_to_do: EXPIRED_TODO.to_owned(),
            }
        } else {
            match provenance
                .get(i)
                .copied()
                .unwrap_or(Provenance::Pending(PendingWhy::NotRecorded))
            {
                Provenance::OutOfBand => DriftItem {
                    class: DriftClass::OutOfBand,
                    address: change.address.clone(),
                    message: change.reason.clone(),
                    change: Some(change.clone()),
                    pending: None,
                    why: match &recorded {
                        Some(day) => format!(
                            "orgctl applied the YAML here on {day}; AWS differs since, and the \
                             YAML did not change"
                        ),
                        None => "orgctl's record of the last apply matches the YAML; AWS differs \
                                 since"
                            .to_owned(),
                    },
                    applied_on: recorded,
                    what_to_do: REVERT_OR_ADOPT.to_owned(),
                },
                Provenance::Pending(why) => DriftItem {
                    class: DriftClass::Pending,
                    address: change.address.clone(),
                    message: change.reason.clone(),
                    change: Some(change.clone()),
                    pending: Some(why),
                    why: match (why, &recorded) {
                        (PendingWhy::YamlChanged, Some(day)) => {
                            format!("the YAML changed since orgctl last applied it here on {day}")
                        }
                        (PendingWhy::YamlChanged, None) => {
                            "the YAML changed since orgctl last applied it here".to_owned()
                        }
                        (PendingWhy::NotRecorded, _) if change.action == Action::Create => {
                            "new in the YAML: not created yet".to_owned()
                        }
                        (PendingWhy::NotRecorded, _) => "orgctl has no record of applying the \
                                                         YAML here (never applied, or applied \
                                                         before records were kept)"
                            .to_owned(),
                    },
                    applied_on: recorded,
                    what_to_do: APPLY_OR_DROP.to_owned(),
                },
            }
        };
        items.push(item);
    }

    // What could not be verified.
    let (unverifiable, consumed) = unverifiable(desired, live, plan);
    items.extend(unverifiable);
    let warnings: Vec<Warning> = plan
        .warnings
        .iter()
        .enumerate()
        .filter(|(i, _)| !consumed.contains(i))
        .map(|(_, w)| w.clone())
        .collect();

    // What orgctl does not manage.
    for note in &plan.notes {
        if note.address.starts_with(IAM_READ_ADDRESS_PREFIX) {
            continue;
        }
        items.push(DriftItem {
            class: DriftClass::Unmanaged,
            address: note.address.clone(),
            message: note.message.clone(),
            change: None,
            pending: None,
            applied_on: None,
            why: "not in the YAML (nor, for an OU or a policy, tagged `managed-by: orgctl`): \
                  orgctl leaves it alone"
                .to_owned(),
            what_to_do: UNMANAGED_TODO.to_owned(),
        });
    }
    for account in &access.accounts {
        for finding in account
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ExternalTrust)
        {
            let role = account.external_trust.iter().find(|e| {
                finding
                    .message
                    .contains(&format!("{}{} ", e.path, e.role_name))
            });
            let address = match role {
                Some(e) => format!("role {}{} in account {}", e.path, e.role_name, account.name),
                None => format!("account {}", account.name),
            };
            items.push(DriftItem {
                class: DriftClass::Unmanaged,
                address,
                message: finding.message.clone(),
                change: None,
                pending: None,
                applied_on: None,
                why: "a role orgctl does not manage lets a principal outside the organization \
                      into the account"
                    .to_owned(),
                what_to_do: TRUST_TODO.to_owned(),
            });
        }
    }

    // orgctl's roles where no record points to them: `plan` and `apply` do not read there.
    let read = crate::iam_accounts(
        desired,
        live,
        &crate::PlanOptions {
            today: plan.today.clone(),
        },
    );
    let names: BTreeMap<&str, &str> = live
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    for r in live
        .access_roles
        .iter()
        .filter(|r| r.is_managed() && !read.contains(&r.account_id))
    {
        let account = names
            .get(r.account_id.as_str())
            .copied()
            .unwrap_or(r.account_id.as_str());
        items.push(DriftItem {
            class: DriftClass::Unmanaged,
            address: format!("role {}{} in account {account}", r.path, r.role_name),
            message: format!(
                "orgctl's role {} ({}) is in account {account} ({}), where no record points to                  it: the account carries no `{}` and no grant targets it",
                r.role_name,
                match r.grant() {
                    Some(g) => format!("grant {g}"),
                    None if r.is_read_role() => "orgctl's read role".to_owned(),
                    None => "no grant".to_owned(),
                },
                r.account_id,
                orgctl_model::ROLES_RECORD_TAG,
            ),
            change: None,
            pending: None,
            applied_on: None,
            why: "no record points to it: `orgctl plan` and `apply` do not read IAM in this \
                  account, so they will not see it (made before orgctl kept roles records, or \
                  its record was removed by hand)"
                .to_owned(),
            what_to_do: UNRECORDED_TODO.to_owned(),
        });
    }

    // Most important first; plan order within a class (the sort is stable).
    items.sort_by_key(|i| i.class);
    let mut summary = DriftSummary {
        warnings: warnings.len(),
        errors: plan.errors.len(),
        ..DriftSummary::default()
    };
    for item in &items {
        match item.class {
            DriftClass::OutOfBand => summary.out_of_band += 1,
            DriftClass::Expired => summary.expired += 1,
            DriftClass::Unverifiable => summary.unverifiable += 1,
            DriftClass::Pending => summary.pending += 1,
            DriftClass::Unmanaged => summary.unmanaged += 1,
        }
    }
    DriftReport {
        format_version: DRIFT_FORMAT_VERSION,
        today: plan.today.clone(),
        organization_id: plan.organization_id.clone(),
        management_account_id: plan.management_account_id.clone(),
        summary,
        items,
        warnings,
        errors: plan.errors.clone(),
        live_fingerprint: plan.live_fingerprint.clone(),
        desired_fingerprint: plan.desired_fingerprint.clone(),
    }
}

/// For a change deleting the role of a grant the YAML has and that expired on `today`: the
/// grant's `expires`.
fn expired_grant(desired: &DesiredState, change: &Change, today: &str) -> Option<String> {
    if change.kind != ResourceKind::Access || change.action != Action::Delete {
        return None;
    }
    let (grant, _) = change
        .address
        .strip_prefix("grant/")?
        .split_once(" -> account ")?;
    let spec = desired.grants.get(grant)?;
    spec.is_expired(today)
        .then(|| spec.expires.clone())
        .flatten()
}

/// The live account a desired account stands for: by id when the YAML gives one, else by root
/// email.
fn live_account<'a>(live: &'a LiveState, id: Option<&str>, email: &str) -> Option<&'a LiveAccount> {
    match id {
        Some(id) => live.accounts.iter().find(|a| a.id == id),
        None => live
            .accounts
            .iter()
            .find(|a| a.email.eq_ignore_ascii_case(email)),
    }
}

fn status_word(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Active => "ACTIVE",
        AccountStatus::PendingClosure => "PENDING_CLOSURE",
        AccountStatus::Suspended => "SUSPENDED",
    }
}

/// The unverifiable items, and the indices of the plan warnings they stand for.
fn unverifiable(
    desired: &DesiredState,
    live: &LiveState,
    plan: &Plan,
) -> (Vec<DriftItem>, BTreeSet<usize>) {
    let mut items = Vec::new();
    let mut consumed = BTreeSet::new();
    let name_of: BTreeMap<&str, &str> = live
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    // Accounts the YAML lists (id → YAML name) and accounts a grant targets.
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    for spec in desired.accounts.values() {
        let Some(acct) = live_account(live, spec.id.as_deref(), &spec.email) else {
            continue;
        };
        listed.insert(acct.id.clone(), spec.name.clone());
        if spec.lifecycle == Lifecycle::Active && acct.status.is_closed() {
            let address = format!("account {}", spec.name);
            for (i, w) in plan.warnings.iter().enumerate() {
                if w.address == address && w.message.contains("closed in AWS") {
                    consumed.insert(i);
                }
            }
            items.push(DriftItem {
                class: DriftClass::Unverifiable,
                address,
                message: format!(
                    "account {} is {} in AWS but active in the YAML",
                    acct.id,
                    status_word(acct.status)
                ),
                change: None,
                pending: None,
                applied_on: None,
                why: "a closed account cannot be read or changed: nothing in it can be verified"
                    .to_owned(),
                what_to_do: "if it was closed on purpose, mark it `lifecycle: closed` in the \
                             YAML; if not, reopen it through AWS Support (within 90 days of \
                             closing)"
                    .to_owned(),
            });
        }
    }
    let mut targeted: BTreeSet<String> = BTreeSet::new();
    for grant in desired.grants.values() {
        targeted.extend(crate::planner::grants::grant_target_ids(
            desired,
            live,
            grant,
            &plan.today,
        ));
    }
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for a in &live.iam_accounts {
        let orgctl_model::IamRead::Unreadable { reason } = &a.read else {
            continue;
        };
        if !listed.contains_key(&a.account_id) && !targeted.contains(&a.account_id) {
            continue;
        }
        let name = name_of
            .get(a.account_id.as_str())
            .copied()
            .unwrap_or(a.account_id.as_str());
        covered.insert(name.to_owned());
        let iam_address = format!("{IAM_READ_ADDRESS_PREFIX}{name}");
        let mut message = format!(
            "IAM in account {name} ({}) could not be read: {reason}",
            a.account_id
        );
        for (i, w) in plan.warnings.iter().enumerate() {
            if w.address == iam_address {
                consumed.insert(i);
                message = w.message.clone();
            }
        }
        items.push(DriftItem {
            class: DriftClass::Unverifiable,
            address: format!("account {name}"),
            message,
            change: None,
            pending: None,
            applied_on: None,
            why: "orgctl could not assume a role in the account: the roles it keeps there (and \
                  any made by hand) are unknown"
                .to_owned(),
            what_to_do: format!(
                "restore the member role {} in the account (or orgctl's read role, with \
                 `orgctl apply`), or check the credentials' sts:AssumeRole permission",
                desired.organization.member_role
            ),
        });
    }
    // The plan's other "cannot be verified" warnings (IAM not read at all).
    for (i, w) in plan.warnings.iter().enumerate() {
        let Some(name) = w.address.strip_prefix(IAM_READ_ADDRESS_PREFIX) else {
            continue;
        };
        if consumed.contains(&i) || covered.contains(name) {
            consumed.insert(i);
            continue;
        }
        consumed.insert(i);
        items.push(DriftItem {
            class: DriftClass::Unverifiable,
            address: format!("account {name}"),
            message: w.message.clone(),
            change: None,
            pending: None,
            applied_on: None,
            why: "orgctl did not read IAM in the account: what it keeps there is unknown"
                .to_owned(),
            what_to_do: "run `orgctl drift` again; if it persists, check the account's status \
                         and the member role"
                .to_owned(),
        });
    }
    (items, consumed)
}

/// The JSON Schema of `orgctl drift --format json`, as committed in `docs/drift.schema.json`.
pub fn json_schema() -> String {
    orgctl_model::schema::to_text(schemars::schema_for!(DriftReport))
}

#[cfg(test)]
#[path = "drift_tests.rs"]
mod tests;

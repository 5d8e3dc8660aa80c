//! Renders a [`Plan`] for the people who review it: a terminal [`text`] view, a [`markdown`]
//! pull-request comment and the [`json`] plan file.
//!
//! The renderers decide nothing about the plan; they only format it. Every rendering leads with
//! the access changes (the access review of grant roles: who gains or loses what, where, until
//! when; then service control policies and account moves), because those are what a security
//! reviewer must see first, then the other changes grouped by resource kind in
//! plan (apply) order, warnings, errors, resources orgctl leaves alone, and the summary line.
//! Rendering is linear in the size of the plan.

mod access;
mod describe;
mod drift;
mod markdown;
mod text;

#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use orgctl_planner::Plan;

use orgctl_model::text::is_invisible;

/// The most characters [`markdown`] ever returns (a GitHub comment holds 65,536).
pub const MARKDOWN_LIMIT: usize = 60_000;

/// How to render text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Whether to use ANSI colours (the CLI decides: a terminal, and `NO_COLOR` unset).
    pub color: bool,
}

/// The plan for a terminal: access changes first, attribute diffs in Terraform style, and the
/// closing `Plan: 3 to create, 2 to change, 1 to move, 0 to delete.` line.
pub fn text(plan: &Plan, opts: &RenderOptions) -> String {
    text::render(plan, opts)
}

/// The plan as a pull-request comment, never longer than [`MARKDOWN_LIMIT`] characters: when
/// the full rendering is longer, details are cut and a closing note says how many changes are
/// not shown and where to see the full plan.
pub fn markdown(plan: &Plan) -> String {
    markdown::render(plan, MARKDOWN_LIMIT)
}

/// The plan as the versioned JSON plan file ([`orgctl_planner::planfile::to_json`], made
/// [`safe_json`]): what `plan --format json` prints and `plan --out` saves.
pub fn json(plan: &Plan) -> String {
    safe_json(&orgctl_planner::planfile::to_json(plan))
}

/// The access review of `orgctl access` for a terminal: per account, its root email, how IAM
/// was read, the member role, orgctl's roles (principal, permissions, expiry and days left),
/// roles trusting principals outside the organization, and what is flagged.
pub fn access_text(report: &orgctl_planner::access_report::AccessReport) -> String {
    access::text(report)
}

/// The access review as Markdown, never longer than [`MARKDOWN_LIMIT`] characters.
pub fn access_markdown(report: &orgctl_planner::access_report::AccessReport) -> String {
    access::markdown(report)
}

/// The access review as JSON (`docs/access.schema.json`), made [`safe_json`].
pub fn access_json(report: &orgctl_planner::access_report::AccessReport) -> String {
    access::json(report)
}

/// The drift report of `orgctl drift` for a terminal: the counts per class, then each item
/// (out-of-band, expired, unverifiable, pending, unmanaged) with what differs, why and what to
/// do.
pub fn drift_text(report: &orgctl_planner::drift::DriftReport) -> String {
    drift::text(report)
}

/// The drift report as Markdown (an issue body), never longer than [`MARKDOWN_LIMIT`]
/// characters: most important first, whole items cut from the end with a closing note.
pub fn drift_markdown(report: &orgctl_planner::drift::DriftReport) -> String {
    drift::markdown(report, MARKDOWN_LIMIT)
}

/// The drift report's one-line summary (`Drift found: …` or `No drift: …`).
pub fn drift_summary(report: &orgctl_planner::drift::DriftReport) -> String {
    drift::summary_line(report)
}

/// The drift report as JSON (`docs/drift.schema.json`), made [`safe_json`].
pub fn drift_json(report: &orgctl_planner::drift::DriftReport) -> String {
    drift::json(report)
}

/// JSON text with every [`is_invisible`] character written as a `\uXXXX` escape, so that no
/// control, bidirectional or invisible character from the input reaches a terminal or an editor
/// raw; the document reads back exactly the same. `json` must be JSON as `serde_json` writes
/// it: outside strings it holds only ASCII, and its one control character there is the newline
/// of pretty printing (inside strings serde_json already escapes the ASCII controls).
pub fn safe_json(json: &str) -> String {
    if !json.chars().any(|c| c != '\n' && is_invisible(c)) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len() + 16);
    let mut units = [0u16; 2];
    for c in json.chars() {
        if c != '\n' && is_invisible(c) {
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

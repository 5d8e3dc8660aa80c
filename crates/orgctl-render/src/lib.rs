//! Renders a [`Plan`] for the people who review it: a terminal [`text`] view, a [`markdown`]
//! pull-request comment and the [`json`] plan file.
//!
//! The renderers decide nothing about the plan; they only format it. Every rendering leads with
//! the access changes (service control policies and, later, access grants), because those are
//! what a security reviewer must see first, then the other changes grouped by resource kind in
//! plan (apply) order, warnings, errors, resources orgctl leaves alone, and the summary line.
//! Rendering is linear in the size of the plan.

mod describe;
mod markdown;
mod text;

#[cfg(test)]
mod tests;

use orgctl_planner::Plan;

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

/// The plan as the versioned JSON plan file (exactly [`orgctl_planner::planfile::to_json`]).
pub fn json(plan: &Plan) -> String {
    orgctl_planner::planfile::to_json(plan)
}

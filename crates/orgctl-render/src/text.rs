//! The terminal rendering of a plan, for `orgctl plan` run by a person.
//!
//! Access changes come first, then the other changes grouped by resource kind (plan order within
//! each group), then warnings, errors, unmanaged resources and the closing summary line. Colour
//! is plain ANSI SGR and only used when the caller asks for it (the CLI decides from the
//! terminal and `NO_COLOR`).

use std::fmt::Write as _;

use orgctl_model::text::escape_invisible;
use orgctl_planner::{Change, Plan};

use crate::RenderOptions;
use crate::describe::{self, ChangeView, Detail, EntryView, KIND_SECTIONS, Seg, Tone, count};

/// Writes text with or without ANSI colours.
struct Style {
    color: bool,
}

impl Style {
    /// Writes `s` in the colour of `tone`.
    fn paint(&self, out: &mut String, tone: Tone, s: &str) {
        let code = match tone {
            Tone::Plain => None,
            Tone::Add => Some("32"),
            Tone::Change | Tone::Move => Some("33"),
            Tone::Replace => Some("35"),
            Tone::Remove => Some("31"),
            Tone::Alert => Some("1;31"),
            Tone::Hunk => Some("36"),
        };
        self.sgr(out, code, s);
    }

    /// Writes `s` in bold.
    fn bold(&self, out: &mut String, s: &str) {
        self.sgr(out, Some("1"), s);
    }

    fn sgr(&self, out: &mut String, code: Option<&str>, s: &str) {
        match code {
            Some(code) if self.color => {
                let _ = write!(out, "\x1b[{code}m{s}\x1b[0m");
            }
            _ => out.push_str(s),
        }
    }
}

/// Renders the plan for a terminal.
pub(crate) fn render(plan: &Plan, opts: &RenderOptions) -> String {
    let st = Style { color: opts.color };
    let mut out = String::with_capacity(512 + plan.changes.len() * 160);

    st.bold(&mut out, "orgctl plan");
    let _ = writeln!(
        out,
        " for organization {} (management account {})",
        escape_invisible(&plan.organization_id),
        escape_invisible(&plan.management_account_id)
    );
    out.push('\n');

    let access: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| describe::in_access_section(c))
        .collect();
    let access_items = describe::access_count(plan);
    if access_items == 0 {
        st.bold(&mut out, "No access changes.");
        out.push_str("\n\n");
    } else {
        st.bold(&mut out, &format!("Access changes ({access_items})"));
        out.push_str("\n\n");
        for principal in describe::review(plan) {
            out.push_str("  ");
            st.bold(&mut out, &title_text(&principal.heading));
            out.push('\n');
            for entry in &principal.entries {
                write_entry(&mut out, &st, entry);
            }
            out.push('\n');
        }
        for change in access {
            write_change(&mut out, &st, &describe::view(change));
        }
    }

    let others = plan.changes.len()
        - plan
            .changes
            .iter()
            .filter(|c| describe::in_access_section(c))
            .count();
    if others > 0 {
        st.bold(&mut out, &format!("Other changes ({others})"));
        out.push_str("\n\n");
        for (kind, heading) in KIND_SECTIONS {
            let group: Vec<&Change> = plan
                .changes
                .iter()
                .filter(|c| c.kind == kind && !describe::in_access_section(c))
                .collect();
            if group.is_empty() {
                continue;
            }
            out.push_str("  ");
            st.bold(&mut out, &format!("{heading} ({})", group.len()));
            out.push_str("\n\n");
            for change in group {
                write_change(&mut out, &st, &describe::view(change));
            }
        }
    }

    if !plan.warnings.is_empty() {
        st.paint(
            &mut out,
            Tone::Change,
            &format!("Warnings ({}):", plan.warnings.len()),
        );
        out.push('\n');
        for w in &plan.warnings {
            out.push_str("  ");
            st.paint(&mut out, Tone::Change, "!");
            write_problem(
                &mut out,
                &w.address,
                &w.message,
                describe::source_text(w.source.as_ref()),
            );
        }
        out.push('\n');
    }

    if !plan.errors.is_empty() {
        st.paint(&mut out, Tone::Alert, "This plan cannot be applied:");
        let _ = writeln!(
            out,
            " {} must be fixed first.",
            count(plan.errors.len(), "error", "errors")
        );
        for e in &plan.errors {
            out.push_str("  ");
            st.paint(&mut out, Tone::Alert, "✗");
            write_problem(
                &mut out,
                &e.address,
                &e.message,
                describe::source_text(e.source.as_ref()),
            );
        }
        out.push('\n');
    }

    if !plan.notes.is_empty() {
        st.bold(&mut out, "Not managed by orgctl — left in place:");
        out.push('\n');
        for n in &plan.notes {
            out.push_str("  •");
            write_problem(&mut out, &n.address, &n.message, None);
        }
        out.push('\n');
    }

    if plan.is_empty() && plan.errors.is_empty() {
        st.bold(
            &mut out,
            "No changes. The organization matches the desired state.",
        );
    } else {
        st.bold(&mut out, &summary_line(plan));
    }
    out.push('\n');
    if let Some(line) = records_line(plan) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The one line saying how many records of what was applied (`orgctl:applied`) the next apply
/// rewrites, when any: they are not changes.
pub(crate) fn records_line(plan: &Plan) -> Option<String> {
    match plan.records.len() {
        0 => None,
        1 => Some(
            "1 record of what was applied is out of date; the next apply rewrites it.".to_owned(),
        ),
        n => Some(format!(
            "{n} records of what was applied are out of date; the next apply rewrites them."
        )),
    }
}

/// `Plan: 3 to create, 2 to change, 1 to move, 0 to delete.`
pub(crate) fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    format!(
        "Plan: {} to create, {} to change, {} to move, {} to delete.",
        s.create, s.change, s.moves, s.delete
    )
}

/// ` address: message (file:line)` and a newline (the caller wrote the marker).
fn write_problem(out: &mut String, address: &str, message: &str, source: Option<String>) {
    let _ = write!(
        out,
        " {}: {}",
        escape_invisible(address),
        escape_invisible(message.trim())
    );
    if let Some(source) = source {
        let _ = write!(out, " ({source})");
    }
    out.push('\n');
}

/// The heading sentence with names as they are.
pub(crate) fn title_text(title: &[Seg]) -> String {
    let mut s = String::new();
    for seg in title {
        match seg {
            Seg::Text(t) => s.push_str(t),
            Seg::Name(n) => s.push_str(n),
        }
    }
    s
}

/// `reason (file:line)`, or whichever of the two exists.
pub(crate) fn reason_text(view: &ChangeView) -> String {
    match (&view.source, view.reason.is_empty()) {
        (Some(src), false) => format!("{} ({src})", view.reason),
        (Some(src), true) => format!("({src})"),
        (None, _) => view.reason.clone(),
    }
}

/// One entry of the access review: symbol, sentence, then its differences and diffs.
fn write_entry(out: &mut String, st: &Style, entry: &EntryView) {
    out.push_str("    ");
    st.paint(out, entry.tone, entry.symbol);
    out.push(' ');
    out.push_str(&title_text(&entry.sentence));
    out.push('\n');
    write_details(out, st, &entry.details, "        ");
}

/// One change block followed by a blank line.
fn write_change(out: &mut String, st: &Style, view: &ChangeView) {
    out.push_str("  ");
    st.paint(out, view.tone, view.symbol);
    out.push(' ');
    out.push_str(&title_text(&view.title));
    out.push('\n');
    let reason = reason_text(view);
    if !reason.is_empty() {
        let _ = writeln!(out, "      {reason}");
    }
    write_details(out, st, &view.details, "      ");
    out.push('\n');
}

/// [`write_details`] without colour.
pub(crate) fn plain_details(out: &mut String, details: &[Detail], indent: &str) {
    write_details(out, &Style { color: false }, details, indent);
}

/// Detail lines: prose and attributes at `indent`, diff lines two columns further.
fn write_details(out: &mut String, st: &Style, details: &[Detail], indent: &str) {
    for detail in details {
        match detail {
            Detail::Prose(text, tone) => {
                out.push_str(indent);
                st.paint(out, *tone, text);
                out.push('\n');
            }
            Detail::Attr(mark, text) => {
                let tone = match mark {
                    '+' => Tone::Add,
                    '-' => Tone::Remove,
                    _ => Tone::Change,
                };
                out.push_str(indent);
                st.paint(out, tone, &format!("{mark} {text}"));
                out.push('\n');
            }
            Detail::DiffLine(mark, text, tone) => {
                out.push_str(indent);
                out.push_str("  ");
                st.paint(out, *tone, &format!("{mark}{text}"));
                out.push('\n');
            }
            Detail::DiffHeader(text, tone) => {
                out.push_str(indent);
                out.push_str("  ");
                st.paint(out, *tone, text);
                out.push('\n');
            }
        }
    }
}

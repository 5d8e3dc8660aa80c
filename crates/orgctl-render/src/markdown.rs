//! The Markdown rendering of a plan, for a pull-request comment.
//!
//! Layout: a title, the summary line, a summary table, the access changes (never collapsed),
//! the other changes in collapsible sections per resource kind (each a ```` ```diff ```` block so
//! the forge colours additions and removals), warnings, errors, and the unmanaged resources in a
//! collapsed section. A forge comment has a size limit, so the output never exceeds the limit
//! passed in: when the full rendering is longer, whole items are dropped from the end of the
//! change sections (never half an item, so tags and fences stay balanced) and a closing note
//! says how many are missing and where to see the full plan.
//!
//! Names from the plan appear as code spans (never read as markup, never mention anyone); other
//! plan text is escaped. Inside a diff block every line starts with a marker or at least four
//! spaces, so no content can close the fence early.

use std::fmt::Write as _;

use orgctl_model::text::escape_invisible;
use orgctl_planner::{Bucket, Change, Plan, PlanError, Warning};

use crate::describe::{self, Detail, KIND_SECTIONS, Seg, count};
use crate::text::{reason_text, summary_line, title_text};

/// The longest organization or account id shown in the title (ids are short; this only bounds
/// the part of the comment that is never truncated).
const MAX_ID_CHARS: usize = 64;

/// One unit that is either shown whole or not at all.
pub(crate) struct Piece {
    pub(crate) text: String,
    pub(crate) chars: usize,
    pub(crate) changes: usize,
    pub(crate) warnings: usize,
    pub(crate) notes: usize,
    /// Entries of the access review (not changes: one may sum up several, or none).
    pub(crate) review: usize,
}

impl Piece {
    pub(crate) fn new(text: String) -> Self {
        let chars = text.chars().count();
        Piece {
            text,
            chars,
            changes: 0,
            warnings: 0,
            notes: 0,
            review: 0,
        }
    }
}

/// A section: an opening, items, and a closing that balances the opening.
pub(crate) struct Block {
    pub(crate) open: String,
    pub(crate) items: Vec<Piece>,
    pub(crate) close: String,
    /// Errors are kept even when other sections are cut.
    pub(crate) is_errors: bool,
    /// Whether the items are lines of a diff block (else list items).
    pub(crate) in_fence: bool,
}

impl Block {
    fn frame_chars(&self) -> usize {
        self.open.chars().count() + self.close.chars().count()
    }

    fn full_chars(&self) -> usize {
        self.frame_chars() + self.items.iter().map(|i| i.chars).sum::<usize>()
    }

    fn has_changes(&self) -> bool {
        self.items.iter().any(|i| i.changes > 0 || i.review > 0)
    }

    fn push_to(&self, out: &mut String, items: &[Piece], marker: Option<&str>) {
        out.push_str(&self.open);
        for item in items {
            out.push_str(&item.text);
        }
        if let Some(marker) = marker {
            out.push_str(marker);
        }
        out.push_str(&self.close);
    }

    /// The last item of a cut section: how many of its items are not shown.
    fn cut_marker(&self, hidden: usize) -> String {
        if self.in_fence {
            format!("\n… {hidden} more not shown here (see the end of this comment)\n")
        } else {
            format!("- **… {hidden} more not shown here** (see the end of this comment)\n")
        }
    }
}

/// What a truncated rendering leaves out.
#[derive(Default)]
pub(crate) struct Omitted {
    pub(crate) changes: usize,
    pub(crate) warnings: usize,
    pub(crate) notes: usize,
    pub(crate) review: usize,
}

impl Omitted {
    fn add(&mut self, items: &[Piece]) {
        for i in items {
            self.changes += i.changes;
            self.warnings += i.warnings;
            self.notes += i.notes;
            self.review += i.review;
        }
    }
}

/// Renders the plan as Markdown of at most `limit` characters.
pub(crate) fn render(plan: &Plan, limit: usize) -> String {
    fit(
        &head(plan),
        &blocks(plan),
        &footer(plan),
        limit,
        &|shown, total| banner(shown, total),
        &|omitted| note(omitted, limit),
    )
}

/// Lays out `head`, the blocks and `footer` within `limit` characters. When the whole does not
/// fit, whole items are dropped from the end of the sections that carry changes (never half an
/// item, so tags and fences stay balanced; errors are kept when they fit), a cut section ends
/// with a marker saying how many of its items are missing, `banner(shown, total)` (changes
/// shown, of all) goes below the head and `note(omitted)` at the end. The plan's Markdown and
/// the drift report's share it.
pub(crate) fn fit(
    head: &str,
    blocks: &[Block],
    footer: &str,
    limit: usize,
    banner: &dyn Fn(usize, usize) -> String,
    note: &dyn Fn(&Omitted) -> String,
) -> String {
    let mut full = String::with_capacity(head.len() + footer.len() + 4096);
    full.push_str(head);
    for block in blocks {
        block.push_to(&mut full, &block.items, None);
    }
    full.push_str(footer);
    if full.chars().count() <= limit {
        return full;
    }
    drop(full);

    let mut all = Omitted::default();
    for block in blocks {
        all.add(&block.items);
    }
    let total_changes = all.changes;
    let longest_note = note(&all);
    let longest_banner = banner(total_changes, total_changes);
    let mut reserved = head.chars().count()
        + footer.chars().count()
        + longest_note.chars().count()
        + longest_banner.chars().count();
    let errors_chars: usize = blocks
        .iter()
        .filter(|b| b.is_errors)
        .map(Block::full_chars)
        .sum();
    let keep_errors = reserved + errors_chars <= limit;
    if keep_errors {
        reserved += errors_chars;
    }
    let mut budget = limit.saturating_sub(reserved);

    let mut body = String::with_capacity(limit);
    let mut omitted = Omitted::default();
    let mut changes_cut = false;
    for block in blocks {
        if block.is_errors && keep_errors {
            block.push_to(&mut body, &block.items, None);
            continue;
        }
        let has_changes = block.has_changes();
        if changes_cut && has_changes {
            omitted.add(&block.items);
            continue;
        }
        let full_chars = block.full_chars();
        if full_chars <= budget {
            block.push_to(&mut body, &block.items, None);
            budget -= full_chars;
            continue;
        }
        // Cut: as many items as fit with room for the marker that says how many are missing.
        let mut used = block.frame_chars() + block.cut_marker(block.items.len()).chars().count();
        let mut shown = 0;
        for item in &block.items {
            if used + item.chars > budget {
                break;
            }
            used += item.chars;
            shown += 1;
        }
        omitted.add(&block.items[shown..]);
        changes_cut |= has_changes;
        if shown == 0 {
            continue;
        }
        let marker = block.cut_marker(block.items.len() - shown);
        block.push_to(&mut body, &block.items[..shown], Some(&marker));
        budget -= used;
    }

    let mut out = String::with_capacity(limit);
    out.push_str(head);
    out.push_str(&banner(total_changes - omitted.changes, total_changes));
    out.push_str(&body);
    out.push_str(footer);
    out.push_str(&note(&omitted));
    debug_assert!(out.chars().count() <= limit);
    out
}

/// Title, summary line, error alert, summary table and (when there are none) "No access
/// changes." — the part that is always shown.
fn head(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### orgctl plan for {} (management account {})\n",
        code(&short(&plan.organization_id, MAX_ID_CHARS)),
        code(&short(&plan.management_account_id, MAX_ID_CHARS)),
    );
    if plan.is_empty() && plan.errors.is_empty() {
        out.push_str("**No changes. The organization matches the desired state.**\n\n");
    } else {
        let _ = writeln!(out, "**{}**\n", summary_line(plan));
    }
    if let Some(line) = crate::text::records_line(plan) {
        let _ = writeln!(out, "{line}\n");
    }
    if !plan.errors.is_empty() {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> **This plan cannot be applied:** it has {} (listed below). Fix \
             {} and plan again.\n",
            count(plan.errors.len(), "error", "errors"),
            if plan.errors.len() == 1 { "it" } else { "them" }
        );
    }
    if !plan.is_empty() {
        summary_table(plan, &mut out);
    }
    if describe::access_count(plan) == 0 {
        out.push_str("#### Access changes\n\nNo access changes.\n\n");
    }
    out
}

/// Resource kinds × the four summary buckets, with a total row that matches the summary line.
fn summary_table(plan: &Plan, out: &mut String) {
    let mut counts = [[0usize; 4]; KIND_SECTIONS.len()];
    for change in &plan.changes {
        let bucket = match change.action.bucket() {
            Bucket::Create => 0,
            Bucket::Change => 1,
            Bucket::Move => 2,
            Bucket::Delete => 3,
        };
        if let Some(k) = KIND_SECTIONS
            .iter()
            .position(|(kind, _)| *kind == change.kind)
        {
            counts[k][bucket] += 1;
        }
    }
    out.push_str(
        "| Resource | to create | to change | to move | to delete |\n| :-- | --: | --: | --: | --: |\n",
    );
    for (row, (_, heading)) in counts.iter().zip(KIND_SECTIONS) {
        if row.iter().all(|&n| n == 0) {
            continue;
        }
        let _ = write!(out, "| {heading} |");
        for &n in row {
            if n == 0 {
                out.push_str(" |");
            } else {
                let _ = write!(out, " {n} |");
            }
        }
        out.push('\n');
    }
    let s = plan.summary();
    let _ = write!(
        out,
        "| **Total** | **{}** | **{}** | **{}** | **{}** |\n\n",
        s.create, s.change, s.moves, s.delete
    );
}

/// Access changes, other changes per kind, warnings, errors, unmanaged resources.
fn blocks(plan: &Plan) -> Vec<Block> {
    let mut blocks = Vec::new();

    let mut access: Vec<Piece> = Vec::new();
    for principal in describe::review(plan) {
        for (i, entry) in principal.entries.iter().enumerate() {
            let mut text = String::new();
            if i == 0 {
                let _ = writeln!(text, "- **{}**", title_md(&principal.heading));
            }
            let _ = writeln!(text, "  - `{}` {}", entry.symbol, title_md(&entry.sentence));
            if !entry.details.is_empty() {
                text.push_str("\n    ```diff\n");
                for detail in &entry.details {
                    text.push_str("    ");
                    detail_line(&mut text, detail);
                }
                text.push_str("    ```\n\n");
            }
            let mut p = Piece::new(text);
            p.review = 1;
            access.push(p);
        }
    }
    access.extend(
        plan.changes
            .iter()
            .filter(|c| describe::in_access_section(c))
            .map(access_item),
    );
    if !access.is_empty() {
        blocks.push(Block {
            open: format!("#### Access changes ({})\n\n", access.len()),
            items: access,
            close: "\n".to_owned(),
            is_errors: false,
            in_fence: false,
        });
    }

    let others = plan
        .changes
        .iter()
        .filter(|c| !describe::in_access_section(c))
        .count();
    let mut first = true;
    for (kind, heading) in KIND_SECTIONS {
        let items: Vec<Piece> = plan
            .changes
            .iter()
            .filter(|c| c.kind == kind && !describe::in_access_section(c))
            .enumerate()
            .map(|(i, c)| detail_item(c, i == 0))
            .collect();
        if items.is_empty() {
            continue;
        }
        let mut open = String::new();
        if first {
            let _ = write!(open, "#### Other changes ({others})\n\n");
            first = false;
        }
        let _ = write!(
            open,
            "<details><summary>{heading} ({})</summary>\n\n```diff\n",
            count(items.len(), "change", "changes")
        );
        blocks.push(Block {
            open,
            items,
            close: "```\n\n</details>\n\n".to_owned(),
            is_errors: false,
            in_fence: true,
        });
    }

    blocks.extend(warnings_block(&plan.warnings));
    blocks.extend(errors_block(
        &plan.errors,
        format!(
            "#### ⛔ This plan cannot be applied:\n\n{} must be fixed first.\n\n",
            count(plan.errors.len(), "error", "errors")
        ),
    ));

    if !plan.notes.is_empty() {
        blocks.push(Block {
            open: format!(
                "<details><summary>Not managed by orgctl — left in place ({})</summary>\n\n",
                plan.notes.len()
            ),
            items: plan
                .notes
                .iter()
                .map(|n| {
                    let mut p = Piece::new(problem("", &n.address, &n.message, None));
                    p.notes = 1;
                    p
                })
                .collect(),
            close: "\n</details>\n\n".to_owned(),
            is_errors: false,
            in_fence: false,
        });
    }
    blocks
}

/// An access change as a list item: the sentence in bold, the reason and source, and the
/// attribute and document diffs in an indented diff block.
fn access_item(change: &Change) -> Piece {
    let view = describe::view(change);
    let mut out = String::new();
    let _ = write!(out, "- `{}` **{}**", view.symbol, title_md(&view.title));
    if !view.reason.is_empty() {
        let _ = write!(out, " — {}", escape(&view.reason));
    }
    if let Some(src) = &view.source {
        let _ = write!(out, " ({})", code(src));
    }
    out.push('\n');
    if !view.details.is_empty() {
        out.push_str("\n  ```diff\n");
        for detail in &view.details {
            out.push_str("  ");
            detail_line(&mut out, detail);
        }
        out.push_str("  ```\n\n");
    }
    let mut p = Piece::new(out);
    p.changes = 1;
    p
}

/// A change inside a diff block: a blank line (unless it is the first), heading, reason,
/// details.
fn detail_item(change: &Change, first: bool) -> Piece {
    let view = describe::view(change);
    let mut out = String::new();
    if !first {
        out.push('\n');
    }
    let _ = writeln!(out, "{} {}", view.symbol, title_text(&view.title));
    let reason = reason_text(&view);
    if !reason.is_empty() {
        let _ = writeln!(out, "      {reason}");
    }
    for detail in &view.details {
        detail_line(&mut out, detail);
    }
    let mut p = Piece::new(out);
    p.changes = 1;
    p
}

/// One detail line inside a diff block: the marker in column 0 (so the forge colours it), the
/// text from column 6; unmarked lines start with at least six spaces.
pub(crate) fn detail_line(out: &mut String, detail: &Detail) {
    let _ = match detail {
        Detail::Prose(text, describe::Tone::Alert) => writeln!(out, "!     {text}"),
        Detail::Prose(text, _) => writeln!(out, "      {text}"),
        Detail::Attr(mark, text) => writeln!(out, "{mark}     {text}"),
        Detail::DiffLine(mark, text, _) => writeln!(out, "{mark}       {text}"),
        Detail::DiffHeader(text, _) => writeln!(out, "        {text}"),
    };
}

/// The plan's warnings as one block (none when there are none), each counted as a warning.
pub(crate) fn warnings_block(warnings: &[Warning]) -> Option<Block> {
    (!warnings.is_empty()).then(|| Block {
        open: format!("#### Warnings ({})\n\n", warnings.len()),
        items: warnings
            .iter()
            .map(|w| {
                let mut p = Piece::new(problem(
                    "⚠️ ",
                    &w.address,
                    &w.message,
                    describe::source_text(w.source.as_ref()),
                ));
                p.warnings = 1;
                p
            })
            .collect(),
        close: "\n".to_owned(),
        is_errors: false,
        in_fence: false,
    })
}

/// The plan's errors as one block under `open` (none when there are none).
pub(crate) fn errors_block(errors: &[PlanError], open: String) -> Option<Block> {
    (!errors.is_empty()).then(|| Block {
        open,
        items: errors
            .iter()
            .map(|e| {
                Piece::new(problem(
                    "",
                    &e.address,
                    &e.message,
                    describe::source_text(e.source.as_ref()),
                ))
            })
            .collect(),
        close: "\n".to_owned(),
        is_errors: true,
        in_fence: false,
    })
}

/// `- ⚠️ `address` — message (`file:line`)` and a newline.
pub(crate) fn problem(
    marker: &str,
    address: &str,
    message: &str,
    source: Option<String>,
) -> String {
    let mut out = format!(
        "- {marker}{} — {}",
        code(&escape_invisible(address)),
        escape(&escape_invisible(message.trim()))
    );
    if let Some(src) = source {
        let _ = write!(out, " ({})", code(&src));
    }
    out.push('\n');
    out
}

/// Where the plan came from, for matching the comment with a plan artifact.
fn footer(plan: &Plan) -> String {
    format!(
        "<sub>Planned for {} against live state {} and desired state {}.</sub>\n",
        code(&short(&plan.today, 16)),
        code(&short(&plan.live_fingerprint, 13)),
        code(&short(&plan.desired_fingerprint, 13)),
    )
}

/// The top-of-comment warning of a truncated rendering.
fn banner(shown: usize, total: usize) -> String {
    format!(
        "> [!WARNING]\n> This comment is truncated: {shown} of {} shown. The note at the end \
         says where to see the full plan.\n\n",
        count(total, "change", "changes")
    )
}

/// The closing note of a truncated rendering.
fn note(omitted: &Omitted, limit: usize) -> String {
    let mut parts = Vec::new();
    if omitted.review > 0 {
        parts.push(count(
            omitted.review,
            "access review entry",
            "access review entries",
        ));
    }
    if omitted.changes > 0 {
        parts.push(count(omitted.changes, "more change", "more changes"));
    }
    if omitted.warnings > 0 {
        parts.push(count(omitted.warnings, "warning", "warnings"));
    }
    if omitted.notes > 0 {
        parts.push(count(
            omitted.notes,
            "unmanaged resource",
            "unmanaged resources",
        ));
    }
    let what = match parts.len() {
        0 => "Some details".to_owned(),
        _ => parts.join(" and "),
    };
    format!(
        "\n---\n\n**… {what} not shown** (output truncated at {} characters). Run `orgctl plan \
         --format text` or see the JSON plan artifact for the full plan.\n",
        thousands(limit)
    )
}

/// `60000` as `60,000`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The heading sentence with names as code spans.
pub(crate) fn title_md(title: &[Seg]) -> String {
    let mut s = String::new();
    for seg in title {
        match seg {
            Seg::Text(t) => s.push_str(&escape(t)),
            Seg::Name(n) => s.push_str(&code(n)),
        }
    }
    s
}

/// At most `max` characters of a clean `s`, with `…` when cut.
pub(crate) fn short(s: &str, max: usize) -> String {
    let s = escape_invisible(s);
    if s.chars().count() <= max {
        s.into_owned()
    } else {
        let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Escapes the characters Markdown (and the HTML it allows) would interpret in running text,
/// and those a forge reads as a mention (`@team`), math (`$x$`) or an image (`![`).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '['
                | ']'
                | '<'
                | '>'
                | '|'
                | '~'
                | '&'
                | '#'
                | '@'
                | '$'
                | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` as a code span, with a fence longer than any run of backticks inside it.
pub(crate) fn code(s: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = s.is_empty()
        || s.starts_with('`')
        || s.ends_with('`')
        || (s.starts_with(' ') && s.ends_with(' '));
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

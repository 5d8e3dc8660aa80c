//! Renders the drift report of `orgctl drift` ([`DriftReport`]): terminal text, Markdown (an
//! issue body of at most [`crate::MARKDOWN_LIMIT`] characters, most important first, cut by the
//! plan Markdown's own truncation) and JSON.
//!
//! Each item that is a plan change is shown as the plan shows it ([`describe::view`]: heading,
//! reason, attribute diffs, document diff), then why it is in its class and what to do.

use std::fmt::Write as _;

use orgctl_model::text::escape_invisible;
use orgctl_planner::drift::{DriftClass, DriftItem, DriftReport};

use crate::describe::{self, count};
use crate::markdown::{
    Block, Omitted, Piece, code, detail_line, errors_block, escape, fit, short, thousands,
    title_md, warnings_block,
};
use crate::text::{plain_details, reason_text, title_text};

/// The heading of a class's section.
fn heading(class: DriftClass) -> &'static str {
    match class {
        DriftClass::OutOfBand => "Out-of-band",
        DriftClass::Expired => "Expired",
        DriftClass::Unverifiable => "Unverifiable",
        DriftClass::Pending => "Pending",
        DriftClass::Unmanaged => "Unmanaged",
    }
}

/// What a class means, in a few words.
fn meaning(class: DriftClass) -> &'static str {
    match class {
        DriftClass::OutOfBand => {
            "AWS was changed after orgctl last applied the YAML; `orgctl apply` would revert it"
        }
        DriftClass::Expired => "grants past their `expires` whose roles still exist",
        DriftClass::Unverifiable => "what orgctl could not read, so cannot compare",
        DriftClass::Pending => "YAML changes not applied yet",
        DriftClass::Unmanaged => "resources orgctl leaves alone (information, not drift)",
    }
}

/// `Drift found: 1 out-of-band, 0 expired, 0 unverifiable, 2 pending (3 unmanaged listed for
/// information).` or `No drift: …`.
pub(crate) fn summary_line(r: &DriftReport) -> String {
    let s = &r.summary;
    let unmanaged = match s.unmanaged {
        0 => String::new(),
        n => format!(
            " ({} listed for information)",
            count(n, "unmanaged resource", "unmanaged resources")
        ),
    };
    if !r.is_drift() {
        return format!("No drift: AWS matches the desired state{unmanaged}.");
    }
    let mut parts = vec![
        format!("{} out-of-band", s.out_of_band),
        format!("{} expired", s.expired),
        format!("{} unverifiable", s.unverifiable),
        format!("{} pending", s.pending),
    ];
    if s.warnings > 0 {
        parts.push(count(s.warnings, "warning", "warnings"));
    }
    format!("Drift found: {}{unmanaged}.", parts.join(", "))
}

fn title(r: &DriftReport) -> String {
    format!(
        "orgctl drift for organization {} (management account {}) on {}",
        escape_invisible(&r.organization_id),
        escape_invisible(&r.management_account_id),
        escape_invisible(&r.today)
    )
}

fn items(r: &DriftReport, class: DriftClass) -> Vec<&DriftItem> {
    r.items.iter().filter(|i| i.class == class).collect()
}

/// The report for a terminal.
pub(crate) fn text(r: &DriftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", title(r));
    let _ = writeln!(out, "{}\n", summary_line(r));
    for class in DRIFT_CLASSES {
        text_section(&mut out, r, class);
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "Warnings ({}):", r.warnings.len());
        for w in &r.warnings {
            let _ = write!(
                out,
                "  ! {}: {}",
                escape_invisible(&w.address),
                escape_invisible(w.message.trim())
            );
            if let Some(src) = describe::source_text(w.source.as_ref()) {
                let _ = write!(out, " ({src})");
            }
            out.push('\n');
        }
        out.push('\n');
    }
    if !r.errors.is_empty() {
        let _ = writeln!(
            out,
            "The desired state cannot be applied as it is: {}.",
            count(r.errors.len(), "plan error", "plan errors")
        );
        for e in &r.errors {
            let _ = write!(
                out,
                "  ✗ {}: {}",
                escape_invisible(&e.address),
                escape_invisible(e.message.trim())
            );
            if let Some(src) = describe::source_text(e.source.as_ref()) {
                let _ = write!(out, " ({src})");
            }
            out.push('\n');
        }
        out.push('\n');
    }
    text_section(&mut out, r, DriftClass::Unmanaged);
    let _ = writeln!(out, "{}", summary_line(r));
    out
}

/// The classes that are drift, in order; warnings and errors follow them, then the unmanaged
/// resources (information).
const DRIFT_CLASSES: [DriftClass; 4] = [
    DriftClass::OutOfBand,
    DriftClass::Expired,
    DriftClass::Unverifiable,
    DriftClass::Pending,
];

fn text_section(out: &mut String, r: &DriftReport, class: DriftClass) {
    let items = items(r, class);
    if items.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{} ({}): {}\n",
        heading(class),
        items.len(),
        meaning(class)
    );
    for item in items {
        text_item(out, item);
    }
}

fn text_item(out: &mut String, item: &DriftItem) {
    match &item.change {
        Some(change) => {
            let view = describe::view(change);
            let _ = writeln!(out, "  {} {}", view.symbol, title_text(&view.title));
            let reason = reason_text(&view);
            if !reason.is_empty() {
                let _ = writeln!(out, "      {reason}");
            }
            plain_details(out, &view.details, "      ");
        }
        None => {
            let marker = if item.class == DriftClass::Unmanaged {
                "•"
            } else {
                "!"
            };
            let _ = writeln!(out, "  {marker} {}", escape_invisible(&item.address));
            let _ = writeln!(out, "      {}", escape_invisible(item.message.trim()));
        }
    }
    let _ = writeln!(out, "      why: {}", escape_invisible(&item.why));
    let _ = writeln!(out, "      to do: {}\n", escape_invisible(&item.what_to_do));
}

/// The report as Markdown (an issue body), never longer than `limit` characters: whole items
/// are dropped from the end, least important class first.
pub(crate) fn markdown(r: &DriftReport, limit: usize) -> String {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### orgctl drift for {} (management account {}) on {}\n",
        code(&short(&r.organization_id, 64)),
        code(&short(&r.management_account_id, 64)),
        code(&short(&r.today, 16)),
    );
    let _ = writeln!(head, "**{}**\n", escape(&summary_line(r)));
    head.push_str("| Class | Items | Meaning |\n| :-- | --: | :-- |\n");
    for class in DriftClass::ALL {
        let _ = writeln!(
            head,
            "| {} | {} | {} |",
            heading(class),
            r.summary.count(class),
            with_code(meaning(class))
        );
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(
            head,
            "| Warnings | {} | differences orgctl does not change |",
            r.warnings.len()
        );
    }
    head.push('\n');

    let mut blocks: Vec<Block> = DRIFT_CLASSES
        .iter()
        .filter_map(|&class| markdown_section(r, class))
        .collect();
    blocks.extend(warnings_block(&r.warnings));
    blocks.extend(errors_block(
        &r.errors,
        format!(
            "#### ⛔ The desired state cannot be applied as it is\n\n{}:\n\n",
            count(r.errors.len(), "plan error", "plan errors")
        ),
    ));
    blocks.extend(markdown_section(r, DriftClass::Unmanaged));
    let footer = format!(
        "<sub>Checked on {} against live state {} and desired state {}.</sub>\n",
        code(&short(&r.today, 16)),
        code(&short(&r.live_fingerprint, 13)),
        code(&short(&r.desired_fingerprint, 13)),
    );
    fit(
        &head,
        &blocks,
        &footer,
        limit,
        &|shown, total| {
            format!(
                "> [!WARNING]\n> This report is truncated: {shown} of {} shown, most important \
                 first. The note at the end says where to see the full report.\n\n",
                count(total, "item", "items")
            )
        },
        &|omitted: &Omitted| {
            let mut parts = Vec::new();
            if omitted.changes > 0 {
                parts.push(count(omitted.changes, "more item", "more items"));
            }
            if omitted.warnings > 0 {
                parts.push(count(omitted.warnings, "warning", "warnings"));
            }
            let what = match parts.len() {
                0 => "Some details".to_owned(),
                _ => parts.join(" and "),
            };
            format!(
                "\n---\n\n**… {what} not shown** (output truncated at {} characters). Run \
                 `orgctl drift --format text` or `--format json` for the full report.\n",
                thousands(limit)
            )
        },
    )
}

fn markdown_section(r: &DriftReport, class: DriftClass) -> Option<Block> {
    let items = items(r, class);
    if items.is_empty() {
        return None;
    }
    let (open, close) = if class == DriftClass::Unmanaged {
        (
            format!(
                "<details><summary>{} ({}): {}</summary>\n\n",
                heading(class),
                items.len(),
                escape(meaning(class))
            ),
            "\n</details>\n\n".to_owned(),
        )
    } else {
        (
            format!(
                "#### {} ({})\n\n{}\n\n",
                heading(class),
                items.len(),
                with_code(meaning(class))
            ),
            "\n".to_owned(),
        )
    };
    Some(Block {
        open,
        items: items.into_iter().map(markdown_item).collect(),
        close,
        is_errors: false,
        in_fence: false,
    })
}

/// Renderer-authored text whose backtick spans become code spans; the rest is escaped.
fn with_code(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                code(&escape_invisible(part))
            } else {
                escape(&escape_invisible(part))
            }
        })
        .collect()
}

fn markdown_item(item: &DriftItem) -> Piece {
    let mut out = String::new();
    match &item.change {
        Some(change) => {
            let view = describe::view(change);
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
        }
        None => {
            let _ = writeln!(
                out,
                "- {} — {}",
                code(&escape_invisible(&item.address)),
                escape(&escape_invisible(item.message.trim()))
            );
        }
    }
    let _ = writeln!(out, "  - **Why:** {}", with_code(&item.why));
    let _ = writeln!(out, "  - **To do:** {}", with_code(&item.what_to_do));
    let mut p = Piece::new(out);
    p.changes = 1;
    p
}

/// The report as JSON (`docs/drift.schema.json`).
pub(crate) fn json(r: &DriftReport) -> String {
    let mut text = serde_json::to_string_pretty(r).unwrap_or_default();
    text.push('\n');
    crate::safe_json(&text)
}

#[cfg(test)]
mod tests {
    use orgctl_planner::drift::{DriftSummary, PendingWhy};
    use orgctl_planner::{Action, Change, ResourceKind};
    use serde_json::json;

    use super::*;

    fn item(class: DriftClass, name: &str) -> DriftItem {
        let change = (class != DriftClass::Unmanaged).then(|| Change {
            address: format!("account {name}"),
            kind: ResourceKind::Account,
            action: Action::Update,
            before: Some(json!({"tags": {"owner": "hand"}})),
            after: Some(json!({"tags": {"owner": "partner"}})),
            diff: None,
            reason: "Tags differ from the YAML.".to_owned(),
            source: None,
            ops: vec![],
        });
        DriftItem {
            class,
            address: format!("account {name}"),
            message: format!("about {name} <b>"),
            change,
            pending: (class == DriftClass::Pending).then_some(PendingWhy::YamlChanged),
            applied_on: Some("2026-11-27".into()),
            why: "orgctl applied the YAML here on 2026-11-27".into(),
            what_to_do: "revert it with `orgctl apply`".into(),
        }
    }

    fn report(items: Vec<DriftItem>) -> DriftReport {
        let mut summary = DriftSummary::default();
        for i in &items {
            match i.class {
                DriftClass::OutOfBand => summary.out_of_band += 1,
                DriftClass::Expired => summary.expired += 1,
                DriftClass::Unverifiable => summary.unverifiable += 1,
                DriftClass::Pending => summary.pending += 1,
                DriftClass::Unmanaged => summary.unmanaged += 1,
            }
        }
        DriftReport {
            format_version: 1,
            today: "2026-11-28".into(),
            organization_id: "o-1".into(),
            management_account_id: "111111111111".into(),
            summary,
            items,
            warnings: vec![],
            errors: vec![],
            live_fingerprint: "l".into(),
            desired_fingerprint: "d".into(),
        }
    }

    #[test]
    fn names_from_aws_are_escaped_in_every_format() {
        let r = report(vec![
            item(DriftClass::OutOfBand, "evil\u{1b}[31m\u{202e}name"),
            item(DriftClass::Unmanaged, "u\u{202e}x"),
        ]);
        let text = text(&r);
        assert!(text.contains("evil\\u{1b}[31m\\u{202e}name"), "{text}");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        let md = markdown(&r, crate::MARKDOWN_LIMIT);
        assert!(!md.contains('\u{202e}') && !md.contains("<b>"), "{md}");
        assert!(md.contains("\\<b\\>"), "{md}");
        let json = json(&r);
        assert!(
            json.contains("\\u001b") && json.contains("\\u202e"),
            "{json}"
        );
    }

    #[test]
    fn warnings_come_after_the_drift_classes_and_before_unmanaged_resources() {
        let mut r = report(vec![
            item(DriftClass::Pending, "p"),
            item(DriftClass::Unmanaged, "u"),
        ]);
        r.warnings.push(orgctl_planner::Warning {
            address: "account w".into(),
            message: "the root email differs".into(),
            source: None,
        });
        r.summary.warnings = 1;
        for out in [text(&r), markdown(&r, crate::MARKDOWN_LIMIT)] {
            let at = |needle: &str| {
                out.find(needle)
                    .unwrap_or_else(|| panic!("{needle}: {out}"))
            };
            assert!(at("account p") < at("account w"), "{out}");
            assert!(at("account w") < at("account u"), "{out}");
        }
        assert!(summary_line(&r).contains("1 pending, 1 warning"));
    }

    #[test]
    fn markdown_stays_within_the_limit_most_important_first() {
        let mut items: Vec<DriftItem> = (0..400)
            .map(|i| item(DriftClass::OutOfBand, &format!("oob-{i}")))
            .collect();
        items.extend((0..400).map(|i| item(DriftClass::Pending, &format!("pending-{i}"))));
        items.extend((0..400).map(|i| item(DriftClass::Unmanaged, &format!("u-{i}"))));
        let r = report(items);
        let limit = 20_000;
        let md = markdown(&r, limit);
        assert!(md.chars().count() <= limit, "{}", md.chars().count());
        assert!(md.contains("This report is truncated"), "{md}");
        assert!(md.contains("more items not shown"), "{md}");
        assert!(md.contains("oob-0"), "the most important items come first");
        assert!(!md.contains("pending-399") && !md.contains("u-0`"), "{md}");
        // Fences stay balanced: whole items only.
        assert_eq!(md.matches("```").count() % 2, 0);
        // The whole report fits under the real limit when small.
        let small = report(vec![item(DriftClass::Pending, "a")]);
        assert!(!markdown(&small, crate::MARKDOWN_LIMIT).contains("truncated"));
        assert!(
            text(&small)
                .contains("Drift found: 0 out-of-band, 0 expired, 0 unverifiable, 1 pending.")
        );
    }
}

//! Format-independent wording of a plan: the sentence that heads each change, its attribute
//! diffs, its policy document diff and the section a change belongs to.
//!
//! The text and Markdown renderers only lay these pieces out (colours, fences, escaping), so the
//! two outputs always say the same thing. Every string taken from the plan passes through
//! [`escape_invisible`] here, so no renderer can emit a control character (an ANSI escape sequence hidden
//! in a tag value, say) or a bidirectional override that would make a line read differently
//! from what it says.

use std::borrow::Cow;
use std::collections::BTreeSet;

use orgctl_model::text::escape_invisible;
use orgctl_planner::{AccessEffect, AccessEntry, Action, Change, Plan, ResourceKind};
use serde_json::Value;

/// A piece of a sentence: fixed wording, or a name taken from the plan (which Markdown quotes as
/// code so that it can never be read as markup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// Wording chosen by the renderer (already clean).
    Text(Cow<'static, str>),
    /// A name, path or address from the plan (already clean).
    Name(String),
}

/// How a line is coloured in the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// No colour.
    Plain,
    /// Something is added (green).
    Add,
    /// Something is changed in place (yellow).
    Change,
    /// Something moves (yellow).
    Move,
    /// Something is replaced (magenta).
    Replace,
    /// Something is removed (red).
    Remove,
    /// Something the reviewer must not miss (bold red).
    Alert,
    /// A hunk header of a unified diff (cyan).
    Hunk,
}

/// One line below a change's heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detail {
    /// A sentence (no marker column).
    Prose(String, Tone),
    /// An attribute difference: marker (`+`, `-`, `~`) and `path: value` text.
    Attr(char, String),
    /// A line of a unified diff: its marker (`+`, `-` or a space) and the rest, verbatim.
    DiffLine(char, String, Tone),
    /// A file (`---`, `+++`) or hunk (`@@`) header of a unified diff, verbatim.
    DiffHeader(String, Tone),
}

/// Everything a renderer shows about one change.
#[derive(Debug, Clone)]
pub(crate) struct ChangeView {
    /// `Action::symbol()`.
    pub symbol: &'static str,
    /// The colour of the symbol.
    pub tone: Tone,
    /// The heading sentence.
    pub title: Vec<Seg>,
    /// The reason (clean; may be empty).
    pub reason: String,
    /// `file:line` of the YAML that caused the change (clean).
    pub source: Option<String>,
    /// Alerts, attribute diffs and the document diff, in display order.
    pub details: Vec<Detail>,
}

/// The sections of "other changes", in display order, with their headings.
pub(crate) const KIND_SECTIONS: [(ResourceKind, &str); 6] = [
    (ResourceKind::Organization, "Organization"),
    (ResourceKind::Ou, "OUs"),
    (ResourceKind::Account, "Accounts"),
    (ResourceKind::Policy, "Policies"),
    (ResourceKind::Attachment, "Attachments"),
    (ResourceKind::Access, "IAM roles"),
];

/// The colour of an action's symbol.
pub(crate) fn action_tone(action: Action) -> Tone {
    match action {
        Action::Create | Action::Attach | Action::Enable => Tone::Add,
        Action::Update | Action::Rename => Tone::Change,
        Action::Move => Tone::Move,
        Action::Replace => Tone::Replace,
        Action::Delete | Action::Close | Action::Detach => Tone::Remove,
    }
}

/// `1 change`, `2 changes`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `file:line` of an optional source location.
pub(crate) fn source_text(source: Option<&orgctl_model::SourceLoc>) -> Option<String> {
    source.map(|s| format!("{}:{}", escape_invisible(&s.file), s.line))
}

/// Builds the view of one change.
pub(crate) fn view(change: &Change) -> ChangeView {
    let (title, skip) = title(change);
    let mut details = Vec::new();
    alerts(change, &mut details);
    attr_diff(
        change.before.as_ref(),
        change.after.as_ref(),
        skip,
        &mut details,
    );
    if let Some(diff) = change.diff.as_deref().filter(|d| !d.trim().is_empty()) {
        let label = if change.kind == ResourceKind::Access {
            "trust and inline policy documents:"
        } else {
            "policy document:"
        };
        details.push(Detail::Prose(label.to_owned(), Tone::Plain));
        doc_diff(diff, &mut details);
    }
    ChangeView {
        symbol: change.action.symbol(),
        tone: action_tone(change.action),
        title,
        reason: escape_invisible(change.reason.trim()).into_owned(),
        source: source_text(change.source.as_ref()),
        details,
    }
}

/// The attribute that says where a resource sits, shown in the heading of moves, renames and
/// replacements (`/Workloads/Staging → /Workloads/Production`) instead of as an attribute line.
const LOCATION_KEYS: [&str; 3] = ["ou", "path", "parent"];

/// The location attribute that differs between before and after, with both values.
fn relocation(change: &Change) -> Option<(&'static str, &str, &str)> {
    let before = change.before.as_ref()?.as_object()?;
    let after = change.after.as_ref()?.as_object()?;
    LOCATION_KEYS.into_iter().find_map(|key| {
        let b = before.get(key)?.as_str()?;
        let a = after.get(key)?.as_str()?;
        (a != b).then_some((key, b, a))
    })
}

fn text(s: &'static str) -> Seg {
    Seg::Text(Cow::Borrowed(s))
}

fn name(s: &str) -> Seg {
    Seg::Name(escape_invisible(s).into_owned())
}

/// The heading sentence of a change, and the attribute it already shows (if any).
fn title(change: &Change) -> (Vec<Seg>, Option<&'static str>) {
    if change.kind == ResourceKind::Attachment
        && let Some(sentence) = attachment_sentence(change)
    {
        return (sentence, Some(APPLIES_THROUGH));
    }
    let mut segs = vec![name(&change.address)];
    let reloc = relocation(change);
    let verb = match change.action {
        Action::Create => " will be created",
        Action::Update => " will be updated",
        Action::Rename => " will be renamed",
        Action::Move => " will move",
        Action::Replace => " will be replaced",
        Action::Delete => " will be deleted",
        Action::Close => " will be closed",
        Action::Attach => " will be attached",
        Action::Detach => " will be detached",
        Action::Enable => " will be enabled",
    };
    segs.push(text(verb));
    let shows_location = matches!(
        change.action,
        Action::Move | Action::Rename | Action::Replace
    );
    match reloc {
        Some((key, from, to)) if shows_location => {
            segs.push(text(": "));
            segs.push(name(from));
            segs.push(text(" → "));
            segs.push(name(to));
            (segs, Some(key))
        }
        _ => (segs, None),
    }
}

/// The attribute of a detachment that names the ancestor through which the policy still
/// applies to the target (the planner sets it; the title says it).
const APPLIES_THROUGH: &str = "applies_through";

/// "SCP restrict-regions will apply to /Workloads (and everything below it)", from an address
/// `attachment scp/restrict-regions -> /Workloads`; `None` when the address has another shape
/// or the action is not an attachment or detachment. A detachment of a policy that still
/// applies through an ancestor says so instead of "will no longer apply".
fn attachment_sentence(change: &Change) -> Option<Vec<Seg>> {
    let rest = change.address.strip_prefix("attachment ")?;
    let (policy, target) = rest.split_once(" -> ")?;
    let applies_through = change
        .after
        .as_ref()
        .and_then(|a| a.get(APPLIES_THROUGH))
        .and_then(Value::as_str);
    let verb = match (change.action, applies_through) {
        (Action::Attach | Action::Create, _) => " will apply to ",
        (Action::Detach | Action::Delete, None) => " will no longer apply to ",
        (Action::Detach | Action::Delete, Some(_)) => " will be detached from ",
        _ => return None,
    };
    let mut segs = Vec::with_capacity(6);
    match policy.split_once('/') {
        Some(("scp", policy_name)) => {
            segs.push(text("SCP "));
            segs.push(name(policy_name));
        }
        Some(("tag", policy_name)) => {
            segs.push(text("Tag policy "));
            segs.push(name(policy_name));
        }
        // A policy named by id or of another type: name it as the address does.
        _ => {
            segs.push(text("Policy "));
            segs.push(name(policy));
        }
    }
    segs.push(text(verb));
    if target == "root" || target == "/" {
        segs.push(text("the organization root (every OU and account)"));
    } else if target.starts_with('/') {
        segs.push(name(target));
        if applies_through.is_none() {
            segs.push(text(" (and everything below it)"));
        }
    } else if let Some(account) = target.strip_prefix("account ") {
        segs.push(text("account "));
        segs.push(name(account));
    } else {
        segs.push(name(target));
    }
    if let Some(ancestor) = applies_through {
        segs.push(text(", but still applies to it through "));
        if ancestor == "root" || ancestor == "/" {
            segs.push(text("the organization root"));
        } else {
            segs.push(name(ancestor));
        }
    }
    Some(segs)
}

/// Lines the reviewer must not miss: an OU replacement changes the OU id; a closure is final.
fn alerts(change: &Change, out: &mut Vec<Detail>) {
    match change.action {
        Action::Replace => {
            let what = if change.kind == ResourceKind::Ou {
                "OU id"
            } else {
                "Resource id"
            };
            let old_id = change
                .before
                .as_ref()
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str);
            let line = match old_id {
                Some(id) => format!(
                    "{what} will change: {} is deleted and a new one (id known after apply) \
                     takes its place. Anything outside orgctl that refers to the old id must be \
                     updated.",
                    escape_invisible(id)
                ),
                None => format!(
                    "{what} will change: a new one (id known after apply) takes its place and \
                     the old one is deleted. Anything outside orgctl that refers to the old id \
                     must be updated."
                ),
            };
            out.push(Detail::Prose(line, Tone::Alert));
        }
        Action::Close => out.push(Detail::Prose(
            "Closing an account cannot be undone by orgctl; apply requires --allow-close."
                .to_owned(),
            Tone::Alert,
        )),
        _ => {}
    }
}

/// Appends `key` to an attribute path: `tags.environment`, or `tags["cost center"]` when the key
/// is not a plain word.
fn join_path(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if plain {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(escape_invisible(&json_text(&Value::String(key.to_owned()))).into_owned())
    };
    match (path.is_empty(), plain) {
        (true, true) => key.into_owned(),
        (true, false) => format!("[{key}]"),
        (false, true) => format!("{path}.{key}"),
        (false, false) => format!("{path}[{key}]"),
    }
}

/// A value as compact JSON (`"staging"`, `3`, `["a","b"]`), made safe to print.
fn json_text(v: &Value) -> String {
    // Serialising a `Value` cannot fail.
    let s = serde_json::to_string(v).unwrap_or_default();
    escape_invisible(&s).into_owned()
}

/// A null attribute is the same as an absent one.
fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// Diffs two attribute values key by key (nested objects such as tags recursively), in key
/// order, skipping `skip` at the top level.
pub(crate) fn attr_diff(
    before: Option<&Value>,
    after: Option<&Value>,
    skip: Option<&str>,
    out: &mut Vec<Detail>,
) {
    walk("", present(before), present(after), skip, out);
}

fn walk(
    path: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    skip: Option<&str>,
    out: &mut Vec<Detail>,
) {
    let label = |p: &str| {
        if p.is_empty() {
            "value".to_owned()
        } else {
            p.to_owned()
        }
    };
    match (before, after) {
        (None, None) => {}
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                if path.is_empty() && skip == Some(key.as_str()) {
                    continue;
                }
                walk(
                    &join_path(path, key),
                    present(b.get(key)),
                    present(a.get(key)),
                    None,
                    out,
                );
            }
        }
        (Some(Value::Object(b)), None) => {
            let keys: BTreeSet<&String> = b.keys().collect();
            for key in keys {
                if path.is_empty() && skip == Some(key.as_str()) {
                    continue;
                }
                walk(&join_path(path, key), present(b.get(key)), None, None, out);
            }
        }
        (None, Some(Value::Object(a))) => {
            let keys: BTreeSet<&String> = a.keys().collect();
            for key in keys {
                if path.is_empty() && skip == Some(key.as_str()) {
                    continue;
                }
                walk(&join_path(path, key), None, present(a.get(key)), None, out);
            }
        }
        (Some(b), Some(a)) => {
            if a != b {
                out.push(Detail::Attr(
                    '~',
                    format!("{}: {} → {}", label(path), json_text(b), json_text(a)),
                ));
            }
        }
        (Some(b), None) => out.push(Detail::Attr(
            '-',
            format!("{}: {}", label(path), json_text(b)),
        )),
        (None, Some(a)) => out.push(Detail::Attr(
            '+',
            format!("{}: {}", label(path), json_text(a)),
        )),
    }
}

/// Splits a unified diff into marked lines (file headers and hunk headers unmarked).
fn doc_diff(diff: &str, out: &mut Vec<Detail>) {
    for line in diff.lines() {
        let line = escape_invisible(line);
        if line.starts_with("+++ ") || line.starts_with("--- ") {
            out.push(Detail::DiffHeader(line.into_owned(), Tone::Plain));
        } else if line.starts_with("@@") {
            out.push(Detail::DiffHeader(line.into_owned(), Tone::Hunk));
        } else if let Some(rest) = line.strip_prefix('+') {
            out.push(Detail::DiffLine('+', rest.to_owned(), Tone::Add));
        } else if let Some(rest) = line.strip_prefix('-') {
            out.push(Detail::DiffLine('-', rest.to_owned(), Tone::Remove));
        } else {
            let rest = line.strip_prefix(' ').unwrap_or(&line);
            out.push(Detail::DiffLine(' ', rest.to_owned(), Tone::Plain));
        }
    }
}

/// Whether a change is listed in the access section: SCP documents and attachments, account
/// moves and OU replacements. Role changes are summed up there by the access review
/// ([`review`]); their operations are listed with the other changes, under "IAM roles".
pub(crate) fn in_access_section(change: &Change) -> bool {
    change.is_access_change() && change.kind != ResourceKind::Access
}

/// How many items the access section has: review entries and access changes.
pub(crate) fn access_count(plan: &Plan) -> usize {
    plan.access.iter().map(|p| p.entries.len()).sum::<usize>()
        + plan.changes.iter().filter(|c| in_access_section(c)).count()
}

/// One principal of the access review.
#[derive(Debug, Clone)]
pub(crate) struct PrincipalView {
    /// `arn:aws:iam::999999999999:root (partner A)`.
    pub heading: Vec<Seg>,
    /// Its entries.
    pub entries: Vec<EntryView>,
}

/// One entry of the access review.
#[derive(Debug, Clone)]
pub(crate) struct EntryView {
    /// `+`, `-`, `~` or `!`.
    pub symbol: &'static str,
    /// The symbol's colour.
    pub tone: Tone,
    /// `gains staging, production: AdministratorAccess; MFA, external id, sessions ≤ 4h; until
    /// 2027-06-30 — new grant or target (grant partner-admin, role partner-admin)`.
    pub sentence: Vec<Seg>,
    /// For a change: its differences and document diffs.
    pub details: Vec<Detail>,
}

/// The access review, worded: per principal, what it gains, loses or has changed.
pub(crate) fn review(plan: &Plan) -> Vec<PrincipalView> {
    plan.access
        .iter()
        .map(|p| PrincipalView {
            heading: vec![name(&p.principal), text(" ("), name(&p.label), text(")")],
            entries: p.entries.iter().map(entry_view).collect(),
        })
        .collect()
}

fn entry_view(e: &AccessEntry) -> EntryView {
    let (symbol, tone, verb) = match e.effect {
        AccessEffect::Gains => ("+", Tone::Add, "gains "),
        AccessEffect::Loses => ("-", Tone::Remove, "loses "),
        AccessEffect::Changes => ("~", Tone::Change, "changes in "),
        AccessEffect::Unverified => ("!", Tone::Alert, "cannot be verified in "),
    };
    let mut s = vec![text(verb)];
    for (i, a) in e.accounts.iter().enumerate() {
        if i > 0 {
            s.push(text(", "));
        }
        s.push(name(a));
    }
    s.push(text(": "));
    let mut perms: Vec<Seg> = Vec::new();
    let sep = |segs: &mut Vec<Seg>| {
        if !segs.is_empty() {
            segs.push(text(", "));
        }
    };
    for m in &e.permissions.managed_policies {
        sep(&mut perms);
        perms.push(name(m));
    }
    for i in &e.permissions.inline_policies {
        sep(&mut perms);
        perms.push(text("inline "));
        perms.push(name(i));
    }
    if let Some(b) = &e.permissions.permissions_boundary {
        sep(&mut perms);
        perms.push(text("boundary "));
        perms.push(name(b));
    }
    if perms.is_empty() {
        perms.push(text("no permissions"));
    }
    if e.effect == AccessEffect::Changes {
        s.push(text("now "));
    }
    s.extend(perms);
    if e.effect != AccessEffect::Loses {
        // The conditions under which the principal gets in: MFA, external id, session length.
        let mut conds: Vec<&str> = Vec::new();
        if e.mfa {
            conds.push("MFA");
        }
        if e.external_id_required {
            conds.push("external id");
        }
        let session = (e.max_session_secs > 0).then(|| {
            let secs = e.max_session_secs;
            if secs % 3600 == 0 {
                format!("sessions ≤ {}h", secs / 3600)
            } else {
                format!("sessions ≤ {}m", secs / 60)
            }
        });
        if !conds.is_empty() || session.is_some() {
            s.push(text("; "));
            let mut all: Vec<String> = conds.into_iter().map(str::to_owned).collect();
            all.extend(session);
            s.push(Seg::Text(Cow::Owned(all.join(", "))));
        }
        match &e.expires {
            Some(day) => {
                s.push(text("; until "));
                s.push(name(day));
            }
            None if e.grant != "read-role" => s.push(text("; no expiry")),
            None => {}
        }
    }
    s.push(text(" — "));
    s.push(Seg::Text(Cow::Owned(escape_invisible(&e.why).into_owned())));
    s.push(text(" (grant "));
    s.push(name(&e.grant));
    s.push(text(", role "));
    s.push(name(&e.role_name));
    s.push(text(")"));
    let mut details = Vec::new();
    for d in &e.details {
        let d = escape_invisible(d);
        let mut chars = d.chars();
        match (chars.next(), chars.as_str().strip_prefix(' ')) {
            (Some(mark @ ('+' | '-' | '~')), Some(rest)) => {
                details.push(Detail::Attr(mark, rest.to_owned()))
            }
            _ => details.push(Detail::Prose(d.into_owned(), Tone::Plain)),
        }
    }
    if let Some(diff) = e.diff.as_deref().filter(|d| !d.trim().is_empty()) {
        doc_diff(diff, &mut details);
    }
    EntryView {
        symbol,
        tone,
        sentence: s,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(before: Option<Value>, after: Option<Value>) -> Vec<String> {
        let mut out = Vec::new();
        attr_diff(before.as_ref(), after.as_ref(), None, &mut out);
        out.into_iter()
            .map(|d| match d {
                Detail::Attr(m, t) => format!("{m} {t}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn diffs_nested_objects_key_by_key() {
        let lines = attrs(
            Some(json!({"name": "a", "tags": {"environment": "stg", "old": "y", "same": "s"}})),
            Some(
                json!({"name": "a", "tags": {"environment": "staging", "owner": "x", "same": "s"}}),
            ),
        );
        assert_eq!(
            lines,
            [
                "~ tags.environment: \"stg\" → \"staging\"",
                "- tags.old: \"y\"",
                "+ tags.owner: \"x\"",
            ]
        );
    }

    #[test]
    fn creation_and_deletion_list_every_attribute() {
        assert_eq!(
            attrs(
                None,
                Some(json!({"path": "/A", "tags": {"k": "v"}, "id": null}))
            ),
            ["+ path: \"/A\"", "+ tags.k: \"v\""]
        );
        assert_eq!(
            attrs(Some(json!({"name": "p", "n": 3})), None),
            ["- n: 3", "- name: \"p\""]
        );
    }

    #[test]
    fn odd_keys_are_quoted_and_type_changes_shown_whole() {
        assert_eq!(
            attrs(
                Some(json!({"tags": {"cost center": "1"}, "x": {"a": 1}})),
                Some(json!({"tags": {"cost center": "2"}, "x": [1]}))
            ),
            [
                "~ tags[\"cost center\"]: \"1\" → \"2\"",
                "~ x: {\"a\":1} → [1]"
            ]
        );
    }

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(
            escape_invisible("a\u{1b}[31mb\u{202e}c\n"),
            "a\\u{1b}[31mb\\u{202e}c\\u{a}"
        );
        assert!(matches!(escape_invisible("plain → text"), Cow::Borrowed(_)));
        let lines = attrs(None, Some(json!({"tags": {"k": "\u{1b}[2J\u{202e}"}})));
        assert_eq!(lines, ["+ tags.k: \"\\u001b[2J\\u{202e}\""]);
    }

    fn title_of(address: &str, action: Action) -> String {
        title_after(address, action, None)
    }

    fn title_after(address: &str, action: Action, after: Option<Value>) -> String {
        let change = Change {
            address: address.to_owned(),
            kind: ResourceKind::Attachment,
            action,
            before: None,
            after,
            diff: None,
            reason: String::new(),
            source: None,
            ops: vec![],
        };
        title(&change)
            .0
            .iter()
            .map(|s| match s {
                Seg::Text(t) => t.to_string(),
                Seg::Name(n) => n.clone(),
            })
            .collect()
    }

    #[test]
    fn attachments_are_told_in_words() {
        assert_eq!(
            title_of("attachment scp/a -> /W/X", Action::Attach),
            "SCP a will apply to /W/X (and everything below it)"
        );
        assert_eq!(
            title_of("attachment tag/t -> root", Action::Detach),
            "Tag policy t will no longer apply to the organization root (every OU and account)"
        );
        assert_eq!(
            title_of("attachment scp/a -> account dev", Action::Detach),
            "SCP a will no longer apply to account dev"
        );
        assert_eq!(
            title_of("attachment p-1234 -> /W", Action::Attach),
            "Policy p-1234 will apply to /W (and everything below it)"
        );
        assert_eq!(
            title_of("attachment scp/a -> 123456789012", Action::Attach),
            "SCP a will apply to 123456789012"
        );
        assert_eq!(
            title_of("something else", Action::Attach),
            "something else will be attached"
        );
    }

    /// Issue 6, section 3: a detachment does not claim the policy stops applying when the
    /// target still inherits it.
    #[test]
    fn a_detachment_says_when_the_policy_still_applies_through_an_ancestor() {
        assert_eq!(
            title_after(
                "attachment scp/a -> account dev",
                Action::Detach,
                Some(serde_json::json!({"applies_through": "/Workloads"}))
            ),
            "SCP a will be detached from account dev, but still applies to it through /Workloads"
        );
        assert_eq!(
            title_after(
                "attachment scp/a -> /W",
                Action::Detach,
                Some(serde_json::json!({"applies_through": "root"}))
            ),
            "SCP a will be detached from /W, but still applies to it through the organization root"
        );
    }

    #[test]
    fn unified_diff_lines_keep_their_markers() {
        let mut out = Vec::new();
        doc_diff(
            "--- before\n+++ after\n@@ -1,2 +1,2 @@\n {\n-  \"a\": 1\n+  \"a\": 2\n",
            &mut out,
        );
        assert_eq!(
            out,
            [
                Detail::DiffHeader("--- before".into(), Tone::Plain),
                Detail::DiffHeader("+++ after".into(), Tone::Plain),
                Detail::DiffHeader("@@ -1,2 +1,2 @@".into(), Tone::Hunk),
                Detail::DiffLine(' ', "{".into(), Tone::Plain),
                Detail::DiffLine('-', "  \"a\": 1".into(), Tone::Remove),
                Detail::DiffLine('+', "  \"a\": 2".into(), Tone::Add),
            ]
        );
    }
}

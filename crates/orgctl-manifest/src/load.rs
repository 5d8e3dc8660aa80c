//! Finding, reading and parsing the YAML files of a desired-state directory.
//!
//! Each file is parsed once into a located [`Node`] tree; its top-level keys are checked and
//! every list item is deserialized on its own, so the report names every broken item instead of
//! stopping at the first one.

use std::borrow::Cow;
use std::path::{Path as FsPath, PathBuf};

use orgctl_model::SourceLoc;
use serde_saphyr::{DuplicateKeyPolicy, MessageFormatter, UserMessageFormatter};

use crate::LoadError;
use crate::diag::Diagnostic;
use crate::node::{DeError, Kind, Located, Node, Path, Pos, from_node, key_text};
use crate::raw::{RawAccount, RawChecks, RawGrant, RawOrganization, RawOu, RawPolicy};

/// One YAML file that was read.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// `dir.join(relative)`, displayed: what diagnostics call the file.
    pub display: String,
    /// The directory holding the file, for `document_file` paths.
    pub parent: PathBuf,
}

/// One list item of one file.
#[derive(Debug)]
pub(crate) struct Item<T> {
    /// Index into [`Parsed::files`].
    pub file: usize,
    /// Its index in its file's list (for field paths).
    pub index: usize,
    /// The item as written.
    pub raw: Located<T>,
}

/// Everything the files say, merged in file order, plus the problems found so far.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// The desired-state directory, canonical (symbolic links resolved): `document_file`s must
    /// be inside it.
    pub root: PathBuf,
    /// The files, sorted by path.
    pub files: Vec<SourceFile>,
    /// Every `organization` block (the position is that of its key).
    pub organizations: Vec<Item<RawOrganization>>,
    /// Every OU.
    pub ous: Vec<Item<RawOu>>,
    /// Every account.
    pub accounts: Vec<Item<RawAccount>>,
    /// Every policy.
    pub policies: Vec<Item<RawPolicy>>,
    /// Every grant.
    pub grants: Vec<Item<RawGrant>>,
    /// Every `checks` block (the position is that of its key).
    pub checks: Vec<Item<RawChecks>>,
    /// Syntax and type errors.
    pub diagnostics: Vec<Diagnostic>,
    /// Which parts had items that could not be read.
    pub broken: Broken,
}

/// Which parts of the desired state had items that could not be read. A reference into such a
/// part is not reported as dangling: the unreadable item may be the one it names.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Broken {
    /// An `organization` block could not be read.
    pub organization: bool,
    /// An OU could not be read.
    pub ous: bool,
    /// An account could not be read.
    pub accounts: bool,
    /// A policy could not be read.
    pub policies: bool,
    /// A grant could not be read.
    pub grants: bool,
    /// A `checks` block could not be read.
    pub checks: bool,
}

impl Broken {
    fn all() -> Broken {
        Broken {
            organization: true,
            ous: true,
            accounts: true,
            policies: true,
            grants: true,
            checks: true,
        }
    }
}

impl Parsed {
    /// A place in file `file`.
    pub(crate) fn loc(&self, file: usize, line: u32, column: u32) -> SourceLoc {
        SourceLoc {
            file: self
                .files
                .get(file)
                .map(|f| f.display.clone())
                .unwrap_or_default(),
            line,
            column,
        }
    }

    /// An error that leaves file `file` unread (at `line`:`column`): every part of the desired
    /// state counts as broken, since the file may have held what another file refers to.
    fn unreadable(&mut self, file: usize, line: u32, column: u32, message: impl Into<String>) {
        self.broken = Broken::all();
        let at = self.loc(file, line, column);
        self.diagnostics.push(Diagnostic::error(&at, "", message));
    }

    /// The place of a located value in file `file`.
    pub(crate) fn at<T>(&self, file: usize, value: &Located<T>) -> SourceLoc {
        self.loc(file, value.line, value.column)
    }
}

/// Whether a file name is a YAML file: `.yaml` or `.yml`, in any case (`.YAML` too).
fn is_yaml(path: &FsPath) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// A YAML file below the directory that is not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// The file, relative to the directory.
    pub path: PathBuf,
    /// Why it is not read, as a sentence.
    pub why: &'static str,
}

/// The YAML files below a directory: those read, and those skipped.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Relative paths, sorted.
    pub files: Vec<PathBuf>,
    /// Files with a YAML extension that are not read (sorted).
    pub skipped: Vec<Skipped>,
}

/// Every YAML file below `dir` (relative paths, sorted). Hidden entries (names starting with
/// `.`) are not read: hidden directories (`.git`, `.github`) are not entered, and a hidden YAML
/// file is listed as skipped. Symbolic links to directories are not followed; a YAML name that
/// is not a regular file (a FIFO, a link to a directory) is listed as skipped.
pub(crate) fn find_yaml_files(dir: &FsPath) -> Result<Found, LoadError> {
    let mut found = Found::default();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        // `dir.join("")` would add a trailing `/` to the path errors name.
        let here = if rel.as_os_str().is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(&rel)
        };
        let entries = std::fs::read_dir(&here).map_err(|source| LoadError::Io {
            path: here.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| LoadError::Io {
                path: here.clone(),
                source,
            })?;
            let name = entry.file_name();
            let child = rel.join(&name);
            let file_type = entry.file_type().map_err(|source| LoadError::Io {
                path: dir.join(&child),
                source,
            })?;
            let hidden = name.to_string_lossy().starts_with('.');
            if file_type.is_dir() {
                if !hidden {
                    pending.push(child);
                }
            } else if is_yaml(&child) {
                let full = dir.join(&child);
                if hidden {
                    found.skipped.push(Skipped {
                        path: child,
                        why: "hidden file not read: names starting with `.` are skipped; rename \
                              it to load it",
                    });
                } else if std::fs::metadata(&full).is_ok_and(|m| m.is_file()) {
                    // Regular files and links to files.
                    found.files.push(child);
                } else {
                    found.skipped.push(Skipped {
                        path: child,
                        why: "not read: not a regular file (a directory, FIFO, device or \
                              broken link)",
                    });
                }
            }
        }
    }
    found.files.sort();
    found.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// How deeply lists and mappings may nest in a desired-state file.
const MAX_YAML_DEPTH: usize = 32;

/// The parser options: YAML 1.2 booleans only (`yes` stays text), duplicate keys refused, and
/// budgets large enough for organizations with a hundred thousand accounts.
pub(crate) fn parse_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.with_snippet = false;
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    // `!custom` would otherwise be dropped silently; the standard `!!str` and friends stay.
    options.reject_unsupported_tags = true;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 200_000_000;
    budget.max_nodes = 100_000_000;
    budget.max_total_scalar_bytes = 1 << 30;
    // A desired-state file nests about ten levels (an inline tag policy); deep recursion would
    // only risk the stack of a small thread.
    budget.max_depth = MAX_YAML_DEPTH;
    // Anchored nodes are recorded to be replayed; a desired state has few and small ones.
    budget.max_recorded_anchor_events = 100_000;
    options.budget = Some(budget);
    options
}

/// Reads and parses every file, in order.
pub(crate) fn parse_dir(dir: &FsPath) -> Result<Parsed, LoadError> {
    let Found { files, skipped } = find_yaml_files(dir)?;
    if files.is_empty() {
        return Err(LoadError::NoFiles {
            dir: dir.to_path_buf(),
            skipped: skipped.into_iter().map(|s| s.path).collect(),
        });
    }
    let root = crate::document::canonical_root(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut parsed = Parsed {
        root,
        ..Parsed::default()
    };
    for Skipped { path, why } in skipped {
        let at = SourceLoc {
            file: dir.join(path).display().to_string(),
            line: 1,
            column: 1,
        };
        parsed.diagnostics.push(Diagnostic::warning(&at, "", why));
    }
    for rel in files {
        let full = dir.join(&rel);
        let parent = full
            .parent()
            .map(FsPath::to_path_buf)
            .unwrap_or_else(|| dir.to_path_buf());
        let index = parsed.files.len();
        parsed.files.push(SourceFile {
            display: full.display().to_string(),
            parent,
        });
        // Like a `document_file`, a YAML file is read only from inside the directory: a link
        // out of it would make the desired state depend on a file nobody reviews with it.
        let resolved = std::fs::canonicalize(&full).map_err(|source| LoadError::Io {
            path: full.clone(),
            source,
        })?;
        if !resolved.starts_with(&parsed.root) {
            let message = format!(
                "this file is a symbolic link to {}, outside the desired-state directory {}: \
                 orgctl reads only files inside it; copy the file in instead",
                resolved.display(),
                parsed.root.display()
            );
            parsed.unreadable(index, 1, 1, message);
            continue;
        }
        let bytes = std::fs::read(&full).map_err(|source| LoadError::Io {
            path: full.clone(),
            source,
        })?;
        match String::from_utf8(bytes) {
            Ok(text) => parse_file(&mut parsed, index, &text),
            Err(e) => parsed.unreadable(
                index,
                1,
                1,
                format!(
                    "the file is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            ),
        }
    }
    Ok(parsed)
}

/// The message of a YAML syntax error, without its location (the diagnostic has that).
fn syntax_message(err: &serde_saphyr::Error) -> String {
    let err = innermost(err);
    if let serde_saphyr::Error::DuplicateMappingKey { key, .. } = err {
        return match key {
            Some(k) => format!("duplicate key `{k}`: a key may appear only once in a mapping"),
            None => "duplicate key: a key may appear only once in a mapping".to_owned(),
        };
    }
    if let serde_saphyr::Error::MultipleDocuments { .. } = err {
        return "a desired-state file holds one YAML document: put each `---` document in a \
                file of its own"
            .to_owned();
    }
    if let serde_saphyr::Error::UnsupportedTag { tag, .. } = err {
        return format!(
            "unknown YAML tag `{tag}`: orgctl reads plain YAML values; remove the tag (quote \
             the value if it must stay text)"
        );
    }
    if let serde_saphyr::Error::Budget { breach, .. } = err {
        return budget_message(breach);
    }
    if let serde_saphyr::Error::AliasReplayCounterOverflow { .. }
    | serde_saphyr::Error::AliasReplayLimitExceeded { .. }
    | serde_saphyr::Error::AliasReplayStackDepthExceeded { .. } = err
    {
        return ALIAS_LIMIT.to_owned();
    }
    let text = UserMessageFormatter.format_message(err);
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The error itself, without the parser's wrappers that add a snippet or an alias's place.
fn innermost(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = err
    {
        err = error;
    }
    err
}

/// Why a file that expands anchors and aliases too much is refused.
const ALIAS_LIMIT: &str = "the file uses YAML anchors and aliases (`&name`, `*name`, `<<`) \
    more than orgctl allows, which guards against alias bombs; write the values out instead";

/// A parser limit that was reached, in words (the parser's own text is a Rust `Debug` dump).
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { depth } => format!(
            "lists and mappings are nested {depth} levels deep, more than the \
             {MAX_YAML_DEPTH} orgctl allows; a desired-state file needs only a few levels"
        ),
        B::Aliases { .. }
        | B::Anchors { .. }
        | B::AliasAnchorRatio { .. }
        | B::RecordedAnchorEvents { .. }
        | B::RecordedAnchorBytes { .. }
        | B::MergeKeys { .. } => ALIAS_LIMIT.to_owned(),
        B::SequenceUnbalanced => {
            "the YAML structure is unbalanced (is the file truncated?)".to_owned()
        }
        _ => "the file is larger or more complex than the parser allows; split it into several \
              files"
            .to_owned(),
    }
}

fn parse_file(parsed: &mut Parsed, file: usize, text: &str) {
    // The plain subset is read directly; anything else, every error included, by serde-saphyr.
    let read = match crate::fast::parse(text) {
        Some(root) => Ok(Some(root)),
        None => serde_saphyr::from_str_with_options::<Option<Node>>(text, parse_options()),
    };
    let root = match read {
        Ok(Some(root)) => root,
        Ok(None) => return,
        Err(err) => {
            let (line, column) = err
                .location()
                .map(|l| {
                    (
                        u32::try_from(l.line()).unwrap_or(u32::MAX).max(1),
                        u32::try_from(l.column()).unwrap_or(u32::MAX).max(1),
                    )
                })
                .unwrap_or((1, 1));
            parsed.unreadable(file, line, column, syntax_message(&err));
            return;
        }
    };
    let entries = match &root.kind {
        Kind::Map(entries) => entries,
        Kind::Null => return,
        _ => {
            parsed.unreadable(
                file,
                root.pos.line,
                root.pos.column,
                "a desired-state file is a mapping with the keys organization, checks, ous, \
                 accounts, policies and grants",
            );
            return;
        }
    };
    for (key, value) in entries {
        let name = key_text(key, text);
        let path = Path::Key(&Path::Root, &name);
        match (&key.kind, name.as_ref()) {
            (Kind::Str(_), "organization") => {
                match every_error::<RawOrganization>(value, &path, text) {
                    Ok(org) => parsed.organizations.push(Item {
                        file,
                        index: 0,
                        raw: Located {
                            value: org,
                            line: key.pos.line,
                            column: key.pos.column,
                        },
                    }),
                    Err(errors) => {
                        parsed.broken.organization = true;
                        for e in errors {
                            push_de_error(parsed, file, e, key.pos, &path);
                        }
                    }
                }
            }
            (Kind::Str(_), "ous") => {
                let (items, ok) = items::<RawOu>(parsed, file, value, &path, text);
                parsed.broken.ous |= !ok;
                for (index, raw) in items {
                    parsed.ous.push(Item { file, index, raw });
                }
            }
            (Kind::Str(_), "accounts") => {
                let (items, ok) = items::<RawAccount>(parsed, file, value, &path, text);
                parsed.broken.accounts |= !ok;
                for (index, raw) in items {
                    parsed.accounts.push(Item { file, index, raw });
                }
            }
            (Kind::Str(_), "policies") => {
                let (items, ok) = items::<RawPolicy>(parsed, file, value, &path, text);
                parsed.broken.policies |= !ok;
                for (index, raw) in items {
                    parsed.policies.push(Item { file, index, raw });
                }
            }
            (Kind::Str(_), "grants") => {
                let (items, ok) = items::<RawGrant>(parsed, file, value, &path, text);
                parsed.broken.grants |= !ok;
                for (index, raw) in items {
                    parsed.grants.push(Item { file, index, raw });
                }
            }
            (Kind::Str(_), "checks") => match every_error::<RawChecks>(value, &path, text) {
                Ok(checks) => parsed.checks.push(Item {
                    file,
                    index: 0,
                    raw: Located {
                        value: checks,
                        line: key.pos.line,
                        column: key.pos.column,
                    },
                }),
                Err(errors) => {
                    parsed.broken.checks = true;
                    for e in errors {
                        push_de_error(parsed, file, e, key.pos, &path);
                    }
                }
            },
            _ => {
                let at = parsed.loc(file, key.pos.line, key.pos.column);
                parsed.diagnostics.push(Diagnostic::error(
                    &at,
                    name.as_ref(),
                    format!(
                        "unknown key `{name}`; allowed keys here: organization, checks, ous, \
                         accounts, policies, grants"
                    ),
                ));
            }
        }
    }
}

/// The readable items of a list, and whether every item was readable.
type Items<T> = (Vec<(usize, Located<T>)>, bool);

/// Deserializes each item of a top-level list on its own, recording the failures.
fn items<T>(parsed: &mut Parsed, file: usize, list: &Node, path: &Path<'_>, text: &str) -> Items<T>
where
    T: for<'de> serde::Deserialize<'de>,
{
    let nodes = match &list.kind {
        Kind::Seq(nodes) => nodes,
        Kind::Null => return (Vec::new(), true),
        _ => {
            let at = parsed.loc(file, list.pos.line, list.pos.column);
            parsed.diagnostics.push(Diagnostic::error(
                &at,
                path.render(),
                "expected a list (each item starting with `- `)",
            ));
            return (Vec::new(), false);
        }
    };
    let mut out = Vec::with_capacity(nodes.len());
    let mut ok = true;
    for (index, node) in nodes.iter().enumerate() {
        let item_path = Path::Index(path, index);
        let column = entry_column(node.pos, text);
        match every_error::<Located<T>>(node, &item_path, text) {
            Ok(mut raw) => {
                raw.column = column;
                out.push((index, raw));
            }
            Err(errors) => {
                ok = false;
                for mut e in errors {
                    // An error about the item as a whole points at its `- ` too.
                    if let Some((pos, _)) = &mut e.at
                        && *pos == node.pos
                    {
                        pos.column = column;
                    }
                    push_de_error(parsed, file, e, node.pos, &item_path);
                }
            }
        }
    }
    (out, ok)
}

/// Deserializes `node` as `T`, reporting every broken entry of the mapping, not only the first:
/// after an error about one entry, that entry is left out and the mapping is read again. A
/// missing key is reported and stood in for by an empty text, so the next missing key is found
/// too; an error caused only by leaving an entry out or by a stand-in is not reported.
pub(crate) fn every_error<T>(node: &Node, path: &Path<'_>, text: &str) -> Result<T, Vec<DeError>>
where
    T: for<'de> serde::Deserialize<'de>,
{
    let prefix = path.render();
    let mut node = Cow::Borrowed(node);
    let mut errors = Vec::new();
    // Keys of entries left out, and keys given a stand-in value.
    let mut left_out: Vec<String> = Vec::new();
    let mut stand_ins: Vec<String> = Vec::new();
    loop {
        let err = match from_node::<T>(&node, path, text) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(errors),
            Err(err) => err,
        };
        let Kind::Map(entries) = &node.kind else {
            errors.push(err);
            return Err(errors);
        };
        let mut entries = entries.clone();
        if let Some(missing) = err.missing_key() {
            if left_out.iter().chain(&stand_ins).any(|k| k == missing) {
                return Err(errors);
            }
            errors.push(err);
            stand_ins.push(missing.to_owned());
            let stand_in = |kind| Node {
                pos: node.pos,
                kind,
            };
            entries.push((
                stand_in(Kind::Str(missing.to_owned())),
                stand_in(Kind::Str(String::new())),
            ));
        } else {
            let field = err.at.as_ref().map(|(_, f)| f.as_str()).unwrap_or_default();
            let inside = field
                .strip_prefix(prefix.as_str())
                .map(|rest| rest.strip_prefix('.').unwrap_or(rest))
                .unwrap_or_default();
            // The entry the error is about: the longest key that starts the field path.
            let entry = entries
                .iter()
                .enumerate()
                .filter(|(_, (k, _))| {
                    let key = key_text(k, text);
                    inside == key
                        || inside
                            .strip_prefix(key.as_ref())
                            .is_some_and(|rest| rest.starts_with(['.', '[']))
                })
                .max_by_key(|(_, (k, _))| key_text(k, text).len())
                .map(|(i, _)| i);
            let Some(i) = entry else {
                errors.push(err);
                return Err(errors);
            };
            let (key, _) = entries.remove(i);
            let key = key_text(&key, text).into_owned();
            if stand_ins.contains(&key) {
                // The stand-in does not fit the key's type; its missing key was reported.
                return Err(errors);
            }
            errors.push(err);
            left_out.push(key);
        }
        node = Cow::Owned(Node {
            pos: node.pos,
            kind: Kind::Map(entries),
        });
    }
}

/// The column of the `- ` that introduces a block list item at `pos` (where its content
/// starts), or the content's own column for a flow list item.
fn entry_column(pos: Pos, text: &str) -> u32 {
    let Some(start) = pos.byte_offset() else {
        return pos.column;
    };
    let before = text.get(..start).unwrap_or_default();
    let content = before.trim_end_matches(' ');
    let spaces = before.len() - content.len();
    let Some(dash_line) = content.strip_suffix('-') else {
        return pos.column;
    };
    // The dash must start the entry: preceded by indentation or the start of the line.
    if !(dash_line.is_empty() || dash_line.ends_with([' ', '\n'])) || spaces == 0 {
        return pos.column;
    }
    let back = u32::try_from(spaces + 1).unwrap_or(0);
    pos.column
        .checked_sub(back)
        .filter(|c| *c >= 1)
        .unwrap_or(pos.column)
}

fn push_de_error(parsed: &mut Parsed, file: usize, err: DeError, pos: Pos, path: &Path<'_>) {
    let (pos, field) = err.at.clone().unwrap_or_else(|| (pos, path.render()));
    let at = parsed.loc(file, pos.line.max(1), pos.column.max(1));
    parsed
        .diagnostics
        .push(Diagnostic::error(&at, field, err.message));
}

//! A fast reader for the plain subset of YAML that desired-state files are written in.
//!
//! serde-saphyr builds the located [`Node`] tree of a file through serde, an event queue kept
//! for comments and duplicate-key fingerprints: about 130,000 instructions per account, three
//! quarters of loading a large desired state. This reader builds the same tree directly from
//! the text for the subset that `orgctl import` writes and people usually write by hand: block
//! mappings and lists, single-line plain and quoted scalars without escapes, single-line flow
//! mappings and lists, comments, ASCII text.
//!
//! It never reports an error: whenever the text steps outside that subset (anchors, aliases,
//! tags, block scalars, multi-line scalars, escapes, empty values, duplicate keys, several
//! documents, anything it does not recognise, including every syntax error) it returns `None`,
//! and the caller parses the file with serde-saphyr, which also words every error. For any text
//! it accepts, the tree is the one serde-saphyr builds, positions and byte ranges included
//! (`tests` compares both on every file the tests load and on generated documents).

use crate::node::{Kind, Node, Pos};

/// Deeper nesting is left to serde-saphyr (its own limit is 32 levels).
const MAX_DEPTH: usize = 16;
/// Larger files are left to serde-saphyr and its budgets.
const MAX_LEN: usize = 64 << 20;
/// Longer implicit keys are left to serde-saphyr (YAML limits them to 1,024 characters).
const MAX_KEY: usize = 1000;

/// The tree of `text`, or `None` when the text is outside the subset this reader handles.
pub(crate) fn parse(text: &str) -> Option<Node> {
    if text.len() > MAX_LEN || !text.is_ascii() {
        return None;
    }
    // Control characters (tabs and carriage returns included) and document markers or
    // directives at the start of a line.
    if text.bytes().any(|b| (b < 0x20 && b != b'\n') || b == 0x7f)
        || ["---", "...", "%"]
            .iter()
            .any(|m| text.starts_with(m) || text.contains(&format!("\n{m}")))
    {
        return None;
    }
    let mut r = Reader {
        s: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        line_start: 0,
        depth: 0,
        cur: None,
    };
    r.cur = r.next_content();
    if r.cur != Some(0) || r.peek() == Some(b'-') {
        return None;
    }
    let node = r.block_map(0)?;
    if r.cur.is_some() || r.i < r.s.len() {
        return None;
    }
    Some(node)
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    /// The byte the reader is at.
    i: usize,
    /// 1-based line of `i`.
    line: u32,
    /// Byte offset of the start of that line.
    line_start: usize,
    /// Collections open around `i`.
    depth: usize,
    /// The indentation of the content line `i` is at (after `next_content`); `None` at the end.
    cur: Option<usize>,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    /// The position of a node of `len` bytes starting at `start` (on the current line).
    fn pos(&self, start: usize, len: usize) -> Option<Pos> {
        let line = self.line;
        let column = u32::try_from(start - self.line_start + 1).ok()?;
        Some(Pos::at_bytes(line, column, start, len))
    }

    /// Moves to the first character of the next line with content (not blank, not only a
    /// comment), from the start of a line; its indentation, or `None` at the end of the text.
    fn next_content(&mut self) -> Option<usize> {
        loop {
            let mut j = self.i;
            while self.at(j) == Some(b' ') {
                j += 1;
            }
            match self.at(j) {
                None => {
                    self.i = j;
                    return None;
                }
                Some(b'\n') => self.newline_at(j),
                Some(b'#') => match memchr(b'\n', &self.s[j..]) {
                    Some(k) => self.newline_at(j + k),
                    None => {
                        self.i = self.s.len();
                        return None;
                    }
                },
                Some(_) => {
                    self.i = j;
                    return Some(j - self.line_start);
                }
            }
        }
    }

    /// Steps past the line break at `j`.
    fn newline_at(&mut self, j: usize) {
        self.i = j + 1;
        self.line += 1;
        self.line_start = self.i;
    }

    /// Finishes a line after its content: spaces, an optional comment (after a space), the
    /// line break or the end of the text. `None` when something else follows.
    fn end_line(&mut self) -> Option<()> {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        match self.peek() {
            None => Some(()),
            Some(b'\n') => {
                self.newline_at(self.i);
                Some(())
            }
            Some(b'#') if self.i > start || self.s.get(self.i.wrapping_sub(1)) == Some(&b' ') => {
                match memchr(b'\n', &self.s[self.i..]) {
                    Some(k) => self.newline_at(self.i + k),
                    None => self.i = self.s.len(),
                }
                Some(())
            }
            _ => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A block mapping whose keys are at indentation `n`; the reader is at its first key.
    fn block_map(&mut self, n: usize) -> Option<Node> {
        self.enter()?;
        // A block collection is placed at its first token, with an empty byte range.
        let first_pos = self.pos(self.i, 0)?;
        let mut entries: Vec<(Node, Node)> = Vec::new();
        loop {
            let key = self.key()?;
            if self.peek() != Some(b':') {
                return None;
            }
            self.i += 1;
            let value = match self.peek() {
                None | Some(b'\n') => self.nested_value(n)?,
                Some(b' ') => {
                    while self.peek() == Some(b' ') {
                        self.i += 1;
                    }
                    match self.peek() {
                        None | Some(b'\n' | b'#') => self.nested_value(n)?,
                        Some(_) => {
                            let v = self.inline_value()?;
                            self.end_line()?;
                            self.cur = self.next_content();
                            v
                        }
                    }
                }
                Some(_) => return None,
            };
            if is_duplicate(&entries, &key) {
                return None;
            }
            entries.push((key, value));
            match self.cur {
                None => break,
                Some(m) if m < n => break,
                Some(m) if m == n && self.peek() != Some(b'-') => {}
                Some(_) => return None,
            }
        }
        self.depth -= 1;
        Some(Node {
            pos: first_pos,
            kind: Kind::Map(entries),
        })
    }

    /// The value of `key:` followed by the end of its line: a block mapping indented more than
    /// `n`, or a block list indented at least `n`. An empty value is left to serde-saphyr.
    fn nested_value(&mut self, n: usize) -> Option<Node> {
        self.end_line()?;
        self.cur = self.next_content();
        match self.cur {
            Some(m) if m >= n && self.is_dash() => self.block_seq(m, m == n),
            Some(m) if m > n && self.peek() != Some(b'-') => self.block_map(m),
            _ => None,
        }
    }

    /// Whether the reader is at a `- ` (or a `-` ending its line) that starts a list item.
    fn is_dash(&self) -> bool {
        self.peek() == Some(b'-') && matches!(self.at(self.i + 1), None | Some(b' ' | b'\n'))
    }

    /// A block list whose `- ` are at indentation `m`; the reader is at its first `-`. An
    /// indentless list (its `- ` at the indentation of the key it is the value of) is placed at
    /// its first item's content, like serde-saphyr does.
    fn block_seq(&mut self, m: usize, indentless: bool) -> Option<Node> {
        self.enter()?;
        // A block collection is placed at its first token, with an empty byte range.
        let mut first_pos = self.pos(self.i, 0)?;
        let mut items = Vec::new();
        loop {
            if !self.is_dash() {
                return None;
            }
            self.i += 1;
            if self.peek() != Some(b' ') {
                return None;
            }
            while self.peek() == Some(b' ') {
                self.i += 1;
            }
            match self.peek() {
                None | Some(b'\n' | b'#' | b'-') => return None,
                Some(_) => {}
            }
            if indentless && items.is_empty() {
                first_pos = self.pos(self.i, 0)?;
            }
            let item = if self.line_has_key() {
                let indent = self.i - self.line_start;
                self.cur = Some(indent);
                self.block_map(indent)?
            } else {
                let v = self.inline_value()?;
                self.end_line()?;
                self.cur = self.next_content();
                v
            };
            items.push(item);
            match self.cur {
                None => break,
                Some(k) if k < m => break,
                Some(k) if k == m && self.is_dash() => {}
                Some(k) if k == m => break,
                Some(_) => return None,
            }
        }
        self.depth -= 1;
        Some(Node {
            pos: first_pos,
            kind: Kind::Seq(items),
        })
    }

    /// Whether the rest of the line starts with an implicit key (`key:` then a space or the
    /// line's end).
    fn line_has_key(&self) -> bool {
        let rest = &self.s[self.i..];
        let line = match memchr(b'\n', rest) {
            Some(k) => &rest[..k],
            None => rest,
        };
        let after = match line.first() {
            Some(&q @ (b'"' | b'\'')) => match memchr(q, &line[1..]) {
                Some(k) => &line[k + 2..],
                None => return false,
            },
            Some(b'{' | b'[') => return false,
            _ => {
                let mut k = 0;
                loop {
                    match line.get(k) {
                        None => return false,
                        Some(b':') if matches!(line.get(k + 1), None | Some(b' ')) => break,
                        Some(b'#') if k > 0 && line[k - 1] == b' ' => return false,
                        _ => k += 1,
                    }
                }
                &line[k..]
            }
        };
        after.first() == Some(&b':') && matches!(after.get(1), None | Some(b' '))
    }

    /// A block mapping key (plain or quoted, text only); the reader stops at its `:`.
    fn key(&mut self) -> Option<Node> {
        let node = match self.peek()? {
            b'"' => self.double_quoted()?,
            b'\'' => self.single_quoted()?,
            _ => {
                let start = self.i;
                loop {
                    match self.peek() {
                        None | Some(b'\n') => return None,
                        Some(b':') if matches!(self.at(self.i + 1), None | Some(b' ' | b'\n')) => {
                            break;
                        }
                        Some(b'#') if self.s[self.i - 1] == b' ' => return None,
                        _ => self.i += 1,
                    }
                }
                // `key  :` (spaces before the colon) is left to serde-saphyr.
                if self.i == start || self.s[self.i - 1] == b' ' {
                    return None;
                }
                self.plain(start, self.i)?
            }
        };
        match &node.kind {
            Kind::Str(s) if s.len() <= MAX_KEY => Some(node),
            _ => None,
        }
    }

    /// A value on the rest of the line: a flow collection, a quoted or a plain scalar.
    fn inline_value(&mut self) -> Option<Node> {
        match self.peek()? {
            b'{' => self.flow_map(),
            b'[' => self.flow_seq(),
            b'"' => self.double_quoted(),
            b'\'' => self.single_quoted(),
            _ => {
                let start = self.i;
                loop {
                    match self.peek() {
                        None | Some(b'\n') => break,
                        Some(b'#') if self.s[self.i - 1] == b' ' => break,
                        Some(b':') if matches!(self.at(self.i + 1), None | Some(b' ' | b'\n')) => {
                            return None;
                        }
                        _ => self.i += 1,
                    }
                }
                let mut end = self.i;
                while end > start && self.s[end - 1] == b' ' {
                    end -= 1;
                }
                self.plain(start, end)
            }
        }
    }

    /// The plain scalar `start..end` of the current line.
    fn plain(&self, start: usize, end: usize) -> Option<Node> {
        let text = self.text.get(start..end)?;
        let pos = self.pos(start, end - start)?;
        Some(Node {
            pos,
            kind: plain_kind(text)?,
        })
    }

    fn double_quoted(&mut self) -> Option<Node> {
        let start = self.i;
        let k = memchr(b'"', &self.s[start + 1..])?;
        let end = start + 1 + k;
        let inner = self.text.get(start + 1..end)?;
        if inner.bytes().any(|b| b == b'\\' || b == b'\n') {
            return None;
        }
        self.i = end + 1;
        Some(Node {
            pos: self.pos(start, end + 1 - start)?,
            kind: Kind::Str(inner.to_owned()),
        })
    }

    fn single_quoted(&mut self) -> Option<Node> {
        let start = self.i;
        let mut value = String::new();
        let mut j = start + 1;
        loop {
            match self.at(j)? {
                b'\n' => return None,
                b'\'' if self.at(j + 1) == Some(b'\'') => {
                    value.push('\'');
                    j += 2;
                }
                b'\'' => break,
                b => {
                    value.push(char::from(b));
                    j += 1;
                }
            }
        }
        self.i = j + 1;
        Some(Node {
            pos: self.pos(start, j + 1 - start)?,
            kind: Kind::Str(value),
        })
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// A flow mapping on one line: `{key: value, ...}`.
    fn flow_map(&mut self) -> Option<Node> {
        self.enter()?;
        let start = self.i;
        self.i += 1;
        self.skip_spaces();
        let mut entries: Vec<(Node, Node)> = Vec::new();
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                let key = self.flow_scalar()?;
                if !matches!(&key.kind, Kind::Str(s) if s.len() <= MAX_KEY) {
                    return None;
                }
                if self.peek() != Some(b':') || self.at(self.i + 1) != Some(b' ') {
                    return None;
                }
                self.i += 1;
                self.skip_spaces();
                let value = self.flow_value()?;
                if is_duplicate(&entries, &key) {
                    return None;
                }
                entries.push((key, value));
                if self.flow_separator(b'}')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Some(Node {
            pos: self.pos(start, 1)?,
            kind: Kind::Map(entries),
        })
    }

    /// A flow list on one line: `[value, ...]`.
    fn flow_seq(&mut self) -> Option<Node> {
        self.enter()?;
        let start = self.i;
        self.i += 1;
        self.skip_spaces();
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                items.push(self.flow_value()?);
                if self.flow_separator(b']')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Some(Node {
            pos: self.pos(start, 1)?,
            kind: Kind::Seq(items),
        })
    }

    /// After an item of a flow mapping or list: a comma (another item follows: `false`) or
    /// the closing bracket (`true`). Anything else, and a trailing or doubled comma, is outside
    /// the subset.
    fn flow_separator(&mut self, close: u8) -> Option<bool> {
        self.skip_spaces();
        match self.peek()? {
            b',' => {
                self.i += 1;
                self.skip_spaces();
                if matches!(self.peek(), Some(c) if c == close || c == b',') {
                    return None;
                }
                Some(false)
            }
            c if c == close => {
                self.i += 1;
                Some(true)
            }
            _ => None,
        }
    }

    fn flow_value(&mut self) -> Option<Node> {
        match self.peek()? {
            b'{' => self.flow_map(),
            b'[' => self.flow_seq(),
            _ => self.flow_scalar(),
        }
    }

    /// A quoted or plain scalar inside a flow collection. A plain one ends at `,`, `]`, `}`, a
    /// `:` or a comment; one holding `[` or `{` is left to serde-saphyr.
    fn flow_scalar(&mut self) -> Option<Node> {
        match self.peek()? {
            b'"' => self.double_quoted(),
            b'\'' => self.single_quoted(),
            _ => {
                let start = self.i;
                loop {
                    match self.peek()? {
                        b'\n' | b'[' | b'{' => return None,
                        b',' | b']' | b'}' | b':' => break,
                        b'#' if self.s[self.i - 1] == b' ' => return None,
                        _ => self.i += 1,
                    }
                }
                let mut end = self.i;
                while end > start && self.s[end - 1] == b' ' {
                    end -= 1;
                }
                if end == start {
                    return None;
                }
                self.plain(start, end)
            }
        }
    }
}

/// Whether `key` (text) is already a key of `entries`.
fn is_duplicate(entries: &[(Node, Node)], key: &Node) -> bool {
    let Kind::Str(k) = &key.kind else {
        return true;
    };
    entries
        .iter()
        .any(|(e, _)| matches!(&e.kind, Kind::Str(s) if s == k))
}

/// What a plain scalar resolves to. Text starting with a letter, `/` or `_` is text unless it
/// spells a null, a boolean or a special float in some case; those and everything that may be
/// a number are resolved by serde-saphyr itself, on the scalar alone. Other first characters
/// (YAML indicators among them) are left to serde-saphyr with the whole file.
fn plain_kind(text: &str) -> Option<Kind> {
    let first = *text.as_bytes().first()?;
    // Alone, `...` reads as the end of a document (null), not as this scalar.
    if text.starts_with("...") {
        return None;
    }
    if first.is_ascii_alphabetic() || first == b'/' || first == b'_' {
        let special = ["null", "true", "false", "nan", "inf", "infinity"]
            .iter()
            .any(|w| text.eq_ignore_ascii_case(w));
        if !special {
            return Some(Kind::Str(text.to_owned()));
        }
    } else if !(first.is_ascii_digit() || matches!(first, b'.' | b'+' | b'~')) {
        return None;
    }
    match serde_saphyr::from_str_with_options::<Option<Node>>(text, crate::load::parse_options()) {
        Ok(None) => Some(Kind::Null),
        Ok(Some(Node {
            kind: kind @ (Kind::Null | Kind::Bool(_) | Kind::Int(_) | Kind::UInt(_)),
            ..
        })) => Some(kind),
        Ok(Some(Node {
            kind: kind @ (Kind::Float(_) | Kind::Str(_)),
            ..
        })) => Some(kind),
        _ => None,
    }
}

fn memchr(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b)
}

#[cfg(test)]
mod tests;

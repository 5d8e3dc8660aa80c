//! A located YAML tree and a serde deserializer over it.
//!
//! serde-saphyr parses each file once into a [`Node`] tree that remembers where every node came
//! from. The raw types are then deserialized from that tree one list item at a time, so one bad
//! account does not hide the problems of the next, and every error carries the position and the
//! field path (`accounts[2].email`) of the node it is about. [`Located<T>`] lets a raw type keep
//! the position of a value for the semantic checks that run later.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{
    self, DeserializeSeed, Deserializer, Expected, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_saphyr::Spanned;

/// A 1-based position in a YAML file, plus the byte range of the node when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Byte offset of the node's text, when the parser reported it.
    byte: Option<(usize, usize)>,
}

impl Pos {
    fn from_location(loc: &serde_saphyr::Location) -> Self {
        let span = loc.span();
        let byte = match (span.byte_offset(), span.byte_len()) {
            (Some(o), Some(l)) => usize::try_from(o).ok().zip(usize::try_from(l).ok()),
            _ => None,
        };
        Pos {
            line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
            column: u32::try_from(loc.column()).unwrap_or(u32::MAX),
            byte,
        }
    }

    /// A position with a known byte range (the fast reader's nodes).
    pub(crate) fn at_bytes(line: u32, column: u32, start: usize, len: usize) -> Self {
        Pos {
            line,
            column,
            byte: Some((start, len)),
        }
    }

    /// The byte offset of the node in its file, when the parser reported it.
    pub(crate) fn byte_offset(&self) -> Option<usize> {
        self.byte.map(|(start, _)| start)
    }

    /// The node's text in `src`, when its byte range is known.
    pub(crate) fn text<'s>(&self, src: &'s str) -> Option<&'s str> {
        let (start, len) = self.byte?;
        src.get(start..start.checked_add(len)?)
    }
}

/// One YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Where the node starts (for a block mapping: its first key).
    pub pos: Pos,
    /// What it is.
    pub kind: Kind,
}

/// The shape of a node after YAML's type resolution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false` (YAML 1.2 spellings only).
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A float (also integers too large for 64 bits, and `012`-style spellings).
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Kind>::deserialize(d)?;
        Ok(Node {
            pos: Pos::from_location(&spanned.referenced),
            kind: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl<'de> Visitor<'de> for KindVisitor {
            type Value = Kind;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Kind, E> {
                Ok(Kind::Null)
            }
            fn visit_none<E>(self) -> Result<Kind, E> {
                Ok(Kind::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
                Kind::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Kind, E> {
                Ok(Kind::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Kind, E> {
                Ok(if v >= 0 {
                    Kind::UInt(v.unsigned_abs())
                } else {
                    Kind::Int(v)
                })
            }
            fn visit_u64<E>(self, v: u64) -> Result<Kind, E> {
                Ok(Kind::UInt(v))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Kind, E> {
                Ok(match (u64::try_from(v), i64::try_from(v)) {
                    (Ok(u), _) => Kind::UInt(u),
                    (_, Ok(i)) => Kind::Int(i),
                    #[allow(clippy::cast_precision_loss)]
                    _ => Kind::Float(v as f64),
                })
            }
            fn visit_u128<E>(self, v: u128) -> Result<Kind, E> {
                Ok(match u64::try_from(v) {
                    Ok(u) => Kind::UInt(u),
                    #[allow(clippy::cast_precision_loss)]
                    Err(_) => Kind::Float(v as f64),
                })
            }
            fn visit_f64<E>(self, v: f64) -> Result<Kind, E> {
                Ok(Kind::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Kind, E> {
                Ok(Kind::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Kind, E> {
                Ok(Kind::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Kind, A::Error> {
                let mut items = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some(item) = a.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Kind::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Kind, A::Error> {
                let mut entries = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some(key) = a.next_key::<Node>()? {
                    let value = a.next_value::<Node>()?;
                    entries.push((key, value));
                }
                Ok(Kind::Map(entries))
            }
        }
        d.deserialize_any(KindVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// Field paths
// ---------------------------------------------------------------------------------------------

/// A field path built on the stack while descending (`accounts[2].tags.owner`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'p> {
    /// The top of a file.
    Root,
    /// A mapping key below a parent.
    Key(&'p Path<'p>, &'p str),
    /// A list index below a parent.
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    /// The path as text; the file's top is the empty string.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, i) => {
                parent.write(out);
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
}

/// Joins a rendered path and a key.
pub(crate) fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A deserialization error, located at the innermost node it is about.
#[derive(Debug, Clone)]
pub(crate) struct DeError {
    /// What is wrong.
    pub message: String,
    /// Where, and the field path; set by the node that first sees the error.
    pub at: Option<(Pos, String)>,
    /// For a missing key: its name, appended to the path of the mapping it is missing from.
    missing: Option<&'static str>,
}

impl DeError {
    fn new(message: String) -> Self {
        DeError {
            message,
            at: None,
            missing: None,
        }
    }

    /// For a missing key: its name.
    pub(crate) fn missing_key(&self) -> Option<&'static str> {
        self.missing
    }

    fn locate(mut self, pos: Pos, path: &Path<'_>) -> Self {
        if self.at.is_none() {
            let mut p = path.render();
            if let Some(field) = self.missing {
                p = join_path(&p, field);
            }
            self.at = Some((pos, p));
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// Describes an unexpected value in plain words.
fn describe(unexp: &Unexpected<'_>) -> String {
    match unexp {
        Unexpected::Bool(b) => format!("the boolean {b}"),
        Unexpected::Unsigned(n) => format!("the number {n}"),
        Unexpected::Signed(n) => format!("the number {n}"),
        Unexpected::Float(n) => format!("the number {n}"),
        Unexpected::Char(c) => format!("the text {c:?}"),
        Unexpected::Str(s) => format!("the text {s:?}"),
        Unexpected::Unit | Unexpected::Option => "nothing (null)".to_owned(),
        Unexpected::Seq => "a list".to_owned(),
        Unexpected::Map => "a mapping".to_owned(),
        other => other.to_string(),
    }
}

/// Rewords serde's names for primitive types.
fn expected_words(exp: &dyn Expected) -> String {
    let text = exp.to_string();
    match text.as_str() {
        "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "usize" => {
            "a whole number".to_owned()
        }
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "a mapping".to_owned(),
        _ => text,
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        DeError::new(format!(
            "expected {}, found {}",
            expected_words(exp),
            describe(&unexp)
        ))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        DeError::new(format!(
            "invalid value {}: expected {}",
            describe(&unexp),
            expected_words(exp)
        ))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(format!(
            "unknown value `{variant}`; expected one of: {}",
            expected.join(", ")
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(format!(
            "unknown key `{field}`; allowed keys here: {}",
            expected.join(", ")
        ))
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            message: format!("missing required key `{field}`"),
            at: None,
            missing: Some(field),
        }
    }

    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(format!("key `{field}` appears twice"))
    }
}

// ---------------------------------------------------------------------------------------------
// Located<T>
// ---------------------------------------------------------------------------------------------

/// The newtype name [`NodeDe`] recognises to hand out a node's position.
const LOCATED_MARKER: &str = "__orgctl_manifest_located";

/// A value together with the 1-based position of the YAML node it came from.
///
/// Transparent in the JSON Schema: it describes exactly the wrapped value.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line of the node.
    pub line: u32,
    /// 1-based column of the node.
    pub column: u32,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LocatedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for LocatedVisitor<T> {
            type Value = Located<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a located value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Located<T>, A::Error> {
                let line = a
                    .next_element::<u32>()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let column = a
                    .next_element::<u32>()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let value = a
                    .next_element::<T>()?
                    .ok_or_else(|| de::Error::invalid_length(2, &self))?;
                Ok(Located {
                    value,
                    line,
                    column,
                })
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Located<T>, D::Error> {
                // Another deserializer: no position to be had.
                Ok(Located {
                    value: T::deserialize(d)?,
                    line: 0,
                    column: 0,
                })
            }
        }
        d.deserialize_newtype_struct(LOCATED_MARKER, LocatedVisitor(std::marker::PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

// ---------------------------------------------------------------------------------------------
// The deserializer
// ---------------------------------------------------------------------------------------------

/// Deserializes a raw type from one node.
pub(crate) fn from_node<'de, T: Deserialize<'de>>(
    node: &Node,
    path: &Path<'_>,
    src: &str,
) -> Result<T, DeError> {
    T::deserialize(NodeDe { node, path, src })
}

/// A serde deserializer reading one [`Node`].
struct NodeDe<'a, 'p> {
    node: &'a Node,
    path: &'p Path<'p>,
    /// The file's text, to quote a scalar as it was written.
    src: &'a str,
}

impl NodeDe<'_, '_> {
    fn fail(&self, err: DeError) -> DeError {
        err.locate(self.node.pos, self.path)
    }

    /// The error for a scalar where text was expected: YAML resolved it to a number or a
    /// boolean because it was not quoted.
    fn quote_error(&self) -> Option<DeError> {
        let (what, shown) = match &self.node.kind {
            Kind::Bool(b) => ("boolean", b.to_string()),
            Kind::Int(n) => ("number", n.to_string()),
            Kind::UInt(n) => ("number", n.to_string()),
            Kind::Float(n) => ("number", n.to_string()),
            _ => return None,
        };
        let written = self.node.pos.text(self.src).unwrap_or(&shown).trim();
        let why = if what == "number" {
            "unquoted, YAML reads it as a number (and drops leading zeros)"
        } else {
            "unquoted, YAML reads it as a boolean"
        };
        Some(DeError::new(format!(
            "expected text, found the {what} {written}: quote it (\"{written}\"); {why}"
        )))
    }

    fn map_access<'x>(&'x self, entries: &'x [(Node, Node)]) -> NodeMap<'x, 'x> {
        NodeMap {
            entries: entries.iter(),
            value: None,
            path: self.path,
            src: self.src,
        }
    }
}

impl<'de> Deserializer<'de> for NodeDe<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(*b),
            Kind::Int(n) => visitor.visit_i64(*n),
            Kind::UInt(n) => visitor.visit_u64(*n),
            Kind::Float(n) => visitor.visit_f64(*n),
            Kind::Str(s) => visitor.visit_str(s),
            Kind::Seq(items) => visitor.visit_seq(NodeSeq {
                items: items.iter().enumerate(),
                path: self.path,
                src: self.src,
            }),
            Kind::Map(entries) => visitor.visit_map(self.map_access(entries)),
        };
        result.map_err(|e| self.fail(e))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some(err) = self.quote_error() {
            return Err(self.fail(err));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            Kind::Null => visitor.visit_none().map_err(|e| self.fail(e)),
            _ => {
                let (pos, path) = (self.node.pos, self.path);
                visitor.visit_some(self).map_err(|e| e.locate(pos, path))
            }
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (pos, path) = (self.node.pos, self.path);
        if name == LOCATED_MARKER {
            visitor
                .visit_seq(LocatedSeq {
                    de: Some(self),
                    at: 0,
                })
                .map_err(|e| e.locate(pos, path))
        } else {
            visitor
                .visit_newtype_struct(self)
                .map_err(|e| e.locate(pos, path))
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Str(s) => {
                let access: de::value::StrDeserializer<'_, DeError> =
                    s.as_str().into_deserializer();
                visitor.visit_enum(access).map_err(|e| self.fail(e))
            }
            _ => {
                if let Some(err) = self.quote_error() {
                    return Err(self.fail(err));
                }
                self.deserialize_any(visitor)
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Str(s) => visitor.visit_str(s).map_err(|e| self.fail(e)),
            _ => {
                let written = self.node.pos.text(self.src).unwrap_or("?").to_owned();
                Err(self.fail(DeError::new(format!(
                    "unknown key `{written}`: keys here are names, not numbers or lists"
                ))))
            }
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 bytes byte_buf unit unit_struct
        seq tuple tuple_struct map struct
    }
}

/// The three elements (line, column, value) a [`Located`] reads.
struct LocatedSeq<'a, 'p> {
    de: Option<NodeDe<'a, 'p>>,
    at: u8,
}

impl<'de> SeqAccess<'de> for LocatedSeq<'_, '_> {
    type Error = DeError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DeError> {
        let pos = match &self.de {
            Some(de) => de.node.pos,
            None => return Ok(None),
        };
        self.at += 1;
        match self.at {
            1 => seed.deserialize(pos.line.into_deserializer()).map(Some),
            2 => seed.deserialize(pos.column.into_deserializer()).map(Some),
            _ => match self.de.take() {
                Some(de) => seed.deserialize(de).map(Some),
                None => Ok(None),
            },
        }
    }
}

struct NodeSeq<'a, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    path: &'p Path<'p>,
    src: &'a str,
}

impl<'de> SeqAccess<'de> for NodeSeq<'_, '_> {
    type Error = DeError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => {
                let path = Path::Index(self.path, i);
                seed.deserialize(NodeDe {
                    node,
                    path: &path,
                    src: self.src,
                })
                .map(Some)
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct NodeMap<'a, 'p> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<(&'a Node, &'a Node)>,
    path: &'p Path<'p>,
    src: &'a str,
}

/// The text of a key, for field paths.
pub(crate) fn key_text<'a>(key: &'a Node, src: &'a str) -> Cow<'a, str> {
    match &key.kind {
        Kind::Str(s) => Cow::Borrowed(s),
        _ => Cow::Borrowed(key.pos.text(src).unwrap_or("?")),
    }
}

impl<'de> MapAccess<'de> for NodeMap<'_, '_> {
    type Error = DeError;

    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DeError> {
        match self.entries.next() {
            None => Ok(None),
            Some((key, value)) => {
                self.value = Some((key, value));
                let text = key_text(key, self.src);
                let path = Path::Key(self.path, &text);
                seed.deserialize(NodeDe {
                    node: key,
                    path: &path,
                    src: self.src,
                })
                .map(Some)
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        match self.value.take() {
            Some((key, node)) => {
                let text = key_text(key, self.src);
                let path = Path::Key(self.path, &text);
                seed.deserialize(NodeDe {
                    node,
                    path: &path,
                    src: self.src,
                })
            }
            None => Err(DeError::new("a value was read before its key".to_owned())),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::{RawAccount, RawTags};

    fn parse(text: &str) -> Node {
        serde_saphyr::from_str_with_options::<Node>(text, crate::load::parse_options())
            .expect("valid YAML")
    }

    fn item<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, DeError> {
        let node = parse(text);
        let list = Path::Key(&Path::Root, "accounts");
        from_node::<T>(&node, &Path::Index(&list, 3), text)
    }

    #[test]
    fn located_values_carry_their_positions() {
        let text = "name: a\nemail: a@example.com\nou: /\ntags:\n  team: core\n";
        let a: Located<RawAccount> = item(text).expect("an account");
        assert_eq!((a.line, a.column), (1, 1));
        assert_eq!((a.value.email.line, a.value.email.column), (2, 8));
        let RawTags(tags) = &a.value.tags;
        assert_eq!((tags[0].0.line, tags[0].0.column), (5, 3));
        assert_eq!((tags[0].1.line, tags[0].1.column), (5, 9));
    }

    #[test]
    fn errors_name_the_field_path_and_position() {
        let err = item::<RawAccount>("name: a\nemail: a@example.com\nou: /\ntags:\n  team: [x]\n")
            .expect_err("a list is no tag value");
        let (pos, path) = err.at.clone().expect("located");
        assert_eq!(path, "accounts[3].tags.team");
        assert_eq!((pos.line, pos.column), (5, 9));
        assert_eq!(err.message, "expected a string, found a list");

        let err = item::<RawAccount>("name: a\nou: /\n").expect_err("email is required");
        let (pos, path) = err.at.clone().expect("located");
        assert_eq!(path, "accounts[3].email");
        assert_eq!((pos.line, pos.column), (1, 1));

        let err = item::<RawAccount>("name: a\nemail: a@b.co\nou: /\nnmae: b\n")
            .expect_err("unknown key");
        let (pos, path) = err.at.clone().expect("located");
        assert_eq!(path, "accounts[3].nmae");
        assert_eq!((pos.line, pos.column), (4, 1));
    }

    #[test]
    fn unquoted_numbers_and_booleans_are_refused_as_text_with_their_spelling() {
        let err = item::<RawAccount>("name: a\nemail: a@b.co\nou: /\nid: 000123456789\n")
            .expect_err("unquoted id");
        assert!(
            err.message
                .contains("found the number 000123456789: quote it (\"000123456789\")"),
            "{}",
            err.message
        );
        let err = item::<RawAccount>("name: true\nemail: a@b.co\nou: /\n").expect_err("bool");
        assert!(
            err.message.contains("found the boolean true"),
            "{}",
            err.message
        );
        // YAML 1.1 spellings stay text.
        let a: RawAccount = item("name: no\nemail: a@b.co\nou: /\n").expect("`no` is text");
        assert_eq!(a.name.value, "no");
    }

    #[test]
    fn paths_render_like_field_accessors() {
        let root = Path::Root;
        let list = Path::Key(&root, "policies");
        let item = Path::Index(&list, 2);
        let field = Path::Key(&item, "targets");
        assert_eq!(Path::Index(&field, 0).render(), "policies[2].targets[0]");
        assert_eq!(root.render(), "");
        assert_eq!(join_path("", "a"), "a");
        assert_eq!(join_path("a", "b"), "a.b");
    }
}

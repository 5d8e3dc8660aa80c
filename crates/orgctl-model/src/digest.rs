//! The digest of a value for staleness checks: SHA-256 of an unambiguous binary encoding of its
//! serde data, streamed into the hash. **Not JSON**, and not the hash of any JSON: what apply
//! writes into AWS tags (records, views) stays [`crate::fingerprint`], the SHA-256 of canonical
//! JSON. This digest is only ever compared with another made by the same orgctl (the live and
//! desired state fingerprints of a plan, the lease's before/after check), so its encoding is free
//! to be cheap: strings go in as their raw bytes (no escaping), gathered in 64 KiB pieces, long
//! ones hashed in place.
//!
//! What it guarantees, for values of one type whose `Serialize` is derived (or, if written by
//! hand, calls `skip_field` for a struct field it leaves out) and deterministic (ordered maps,
//! sorted lists):
//! - equal serde data gives equal digests;
//! - different serde data gives different encodings (the encoding is injective: knowing the type,
//!   it can be decoded back), so different digests up to a SHA-256 collision. `["ab", "c"]` and
//!   `["a", "bc"]`, `None` and `Some("")`, a struct field skipped and the next one present all
//!   differ.
//!
//! The encoding starts with [`DOMAIN`]; then each value is one tag byte and:
//! - `bool`: nothing more (two tags); unsigned / signed integers: 8 (or 16 for 128-bit) bytes
//!   little-endian; floats: their bits; `char`, strings and bytes: a LEB128 length and the raw
//!   bytes;
//! - `None`, unit: nothing; `Some`: the value; newtype structs: the inner value alone (no tag);
//! - sequences and tuples: the elements, then [`END`]; maps: key, value, key, value…, then `END`;
//! - structs: their fields in declaration order, each its value or, when
//!   `skip_serializing_if` left it out, the one-byte `SKIPPED`; then `END` (field names are not
//!   written: the type fixes them and their order);
//! - enum variants: the variant's name (as a string), then as above for its content.
//!
//! Every value's encoding is self-delimiting and no value starts with `END`, so a sequence of
//! values reads back unambiguously.

use serde::ser::{self, Serialize};
use sha2::{Digest as _, Sha256};

/// The first bytes of every encoding: names the scheme and its version.
pub const DOMAIN: &[u8] = b"orgctl-digest-v1\0";

const FALSE: u8 = 0x01;
const TRUE: u8 = 0x02;
const UNSIGNED: u8 = 0x03;
const SIGNED: u8 = 0x04;
const UNSIGNED_128: u8 = 0x05;
const SIGNED_128: u8 = 0x06;
const F32: u8 = 0x07;
const F64: u8 = 0x08;
const CHAR: u8 = 0x09;
const STR: u8 = 0x0a;
const BYTES: u8 = 0x0b;
const NONE: u8 = 0x0c;
const SOME: u8 = 0x0d;
const UNIT: u8 = 0x0e;
const UNIT_VARIANT: u8 = 0x0f;
const NEWTYPE_VARIANT: u8 = 0x10;
const SEQ: u8 = 0x11;
const TUPLE_VARIANT: u8 = 0x12;
const MAP: u8 = 0x13;
const STRUCT: u8 = 0x14;
const STRUCT_VARIANT: u8 = 0x15;
/// A struct field `skip_serializing_if` left out.
const SKIPPED: u8 = 0x16;
/// Closes a sequence, map, struct or variant's fields; no value starts with it.
pub const END: u8 = 0x00;
/// Follows the data when a `Serialize` implementation failed (with its message): the digest of
/// a value that cannot be serialised differs from any value's.
const FAILED: u8 = 0xff;

/// The bytes gathered before they are hashed: the encoding writes a tag byte and a short
/// length at a time.
const BUFFER: usize = 64 * 1024;
/// Strings and bytes at least this long are hashed where they are instead of copied.
const IN_PLACE: usize = 4096;
/// The most a tag and a LEB128 length take.
const HEADER: usize = 1 + 10;

/// The digest (64 lower-case hex characters) of `value`, as described in the module docs.
pub fn digest<T: Serialize + ?Sized>(value: &T) -> String {
    let mut d = Digester::new();
    if let Err(e) = value.serialize(&mut d) {
        d.tag(FAILED);
        d.string(STR, e.0.as_bytes());
    }
    let sum = d.finish();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in sum {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// The encoding of `value` (without [`DOMAIN`]), for tests that check it is injective.
#[cfg(test)]
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut d = Digester::new();
    d.capture = Some(Vec::new());
    let _ = value.serialize(&mut d);
    d.flush();
    let bytes = d.capture.take().unwrap_or_default();
    bytes[DOMAIN.len()..].to_vec()
}

/// A serde serializer that hashes the encoding as it goes.
struct Digester {
    sha: Sha256,
    buf: Box<[u8; BUFFER]>,
    len: usize,
    /// Everything hashed, kept by [`encode`].
    #[cfg(test)]
    capture: Option<Vec<u8>>,
}

/// A `Serialize` implementation's own error (the digester itself never fails).
#[derive(Debug)]
struct DigestError(String);

impl std::fmt::Display for DigestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DigestError {}

impl ser::Error for DigestError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DigestError(msg.to_string())
    }
}

impl Digester {
    fn new() -> Self {
        let mut d = Digester {
            sha: Sha256::new(),
            buf: Box::new([0; BUFFER]),
            len: 0,
            #[cfg(test)]
            capture: None,
        };
        d.buf[..DOMAIN.len()].copy_from_slice(DOMAIN);
        d.len = DOMAIN.len();
        d
    }

    /// Hashes what is gathered.
    fn flush(&mut self) {
        self.sha.update(&self.buf[..self.len]);
        #[cfg(test)]
        if let Some(c) = &mut self.capture {
            c.extend_from_slice(&self.buf[..self.len]);
        }
        self.len = 0;
    }

    /// Hashes `bytes` where they are (after [`Digester::flush`]).
    fn hash(&mut self, bytes: &[u8]) {
        self.sha.update(bytes);
        #[cfg(test)]
        if let Some(c) = &mut self.capture {
            c.extend_from_slice(bytes);
        }
    }

    fn finish(mut self) -> [u8; 32] {
        self.flush();
        self.sha.finalize().into()
    }

    /// Makes room for `n` more bytes (at most [`BUFFER`]).
    #[inline]
    fn reserve(&mut self, n: usize) {
        if self.len + n > BUFFER {
            self.flush();
        }
    }

    #[inline]
    fn tag(&mut self, tag: u8) {
        self.reserve(1);
        self.buf[self.len] = tag;
        self.len += 1;
    }

    /// A tag and a fixed number of bytes (constant-size copies: no call to `memcpy`).
    #[inline]
    fn fixed<const N: usize>(&mut self, tag: u8, bytes: [u8; N]) {
        self.reserve(1 + N);
        self.buf[self.len] = tag;
        self.buf[self.len + 1..self.len + 1 + N].copy_from_slice(&bytes);
        self.len += 1 + N;
    }

    /// A tag, a LEB128 length and the bytes.
    #[inline]
    fn string(&mut self, tag: u8, bytes: &[u8]) {
        self.reserve(HEADER);
        self.buf[self.len] = tag;
        self.len += 1;
        let mut n = bytes.len();
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.buf[self.len] = low;
                self.len += 1;
                break;
            }
            self.buf[self.len] = low | 0x80;
            self.len += 1;
        }
        let n = bytes.len();
        if n >= IN_PLACE {
            self.flush();
            self.hash(bytes);
        } else {
            self.reserve(n);
            self.buf[self.len..self.len + n].copy_from_slice(bytes);
            self.len += n;
        }
    }
}

impl ser::Serializer for &mut Digester {
    type Ok = ();
    type Error = DigestError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result<(), DigestError> {
        self.tag(if v { TRUE } else { FALSE });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), DigestError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), DigestError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), DigestError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), DigestError> {
        self.fixed(SIGNED, v.to_le_bytes());
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), DigestError> {
        self.fixed(SIGNED_128, v.to_le_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), DigestError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), DigestError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), DigestError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), DigestError> {
        self.fixed(UNSIGNED, v.to_le_bytes());
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), DigestError> {
        self.fixed(UNSIGNED_128, v.to_le_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), DigestError> {
        self.fixed(F32, v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), DigestError> {
        self.fixed(F64, v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), DigestError> {
        let mut b = [0u8; 4];
        self.string(CHAR, v.encode_utf8(&mut b).as_bytes());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), DigestError> {
        self.string(STR, v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), DigestError> {
        self.string(BYTES, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), DigestError> {
        self.tag(NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), DigestError> {
        self.tag(SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), DigestError> {
        self.tag(UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), DigestError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), DigestError> {
        self.string(UNIT_VARIANT, variant.as_bytes());
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), DigestError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), DigestError> {
        self.string(NEWTYPE_VARIANT, variant.as_bytes());
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, DigestError> {
        self.tag(SEQ);
        Ok(self)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self, DigestError> {
        self.tag(SEQ);
        Ok(self)
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self, DigestError> {
        self.tag(SEQ);
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, DigestError> {
        self.string(TUPLE_VARIANT, variant.as_bytes());
        Ok(self)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self, DigestError> {
        self.tag(MAP);
        Ok(self)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, DigestError> {
        self.tag(STRUCT);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, DigestError> {
        self.string(STRUCT_VARIANT, variant.as_bytes());
        Ok(self)
    }
}

/// The compound serializers: each element or field is written as it comes (a struct's fields
/// in declaration order, their names aside; a field left out writes [`SKIPPED`]), and the
/// whole ends with [`END`].
macro_rules! compound {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for &mut Digester {
            type Ok = ();
            type Error = DigestError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DigestError> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), DigestError> {
                self.tag(END);
                Ok(())
            }
        }
    )*};
}

compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for &mut Digester {
    type Ok = ();
    type Error = DigestError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), DigestError> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DigestError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), DigestError> {
        self.tag(END);
        Ok(())
    }
}

/// A struct's (or struct variant's) fields: [`compound!`]'s, and a field left out writes
/// [`SKIPPED`] (so two structs that skip different fields differ).
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {$(
        impl ser::$trait for &mut Digester {
            type Ok = ();
            type Error = DigestError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _key: &'static str,
                value: &T,
            ) -> Result<(), DigestError> {
                value.serialize(&mut **self)
            }
            fn skip_field(&mut self, _key: &'static str) -> Result<(), DigestError> {
                self.tag(SKIPPED);
                Ok(())
            }
            fn end(self) -> Result<(), DigestError> {
                self.tag(END);
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

    /// A value with every shape the encoding distinguishes, struct fields that may be skipped
    /// among them.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    enum Tree {
        Text(String),
        Number(u64),
        Signed(i32),
        Flag(bool),
        Maybe(Option<String>),
        List(Vec<Tree>),
        Map(BTreeMap<String, Tree>),
        Record(Record),
        Pair(String, String),
        Nothing,
        Named { a: String, b: Vec<String> },
    }

    #[derive(Debug, Clone, PartialEq, Serialize)]
    struct Record {
        #[serde(skip_serializing_if = "Option::is_none")]
        first: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        second: Option<String>,
        #[serde(skip_serializing_if = "String::is_empty")]
        third: String,
        items: Vec<String>,
    }

    /// Strings from a tiny alphabet (so that concatenations and splits collide), with quotes,
    /// escapes, control and non-ASCII characters and the empty string; or anything.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => proptest::collection::vec(
                prop_oneof![
                    4 => Just("a"), 4 => Just("b"), 1 => Just("\""), 1 => Just("\\"),
                    1 => Just(","), 1 => Just("\u{0}"), 1 => Just("é"), 1 => Just("\u{16}"),
                    1 => Just("\n"), 1 => Just("\u{1}")
                ],
                0..3
            )
            .prop_map(|parts| parts.concat()),
            1 => any::<String>(),
        ]
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            text().prop_map(Tree::Text),
            (0u64..3).prop_map(Tree::Number),
            (-2i32..2).prop_map(Tree::Signed),
            any::<bool>().prop_map(Tree::Flag),
            proptest::option::of(text()).prop_map(Tree::Maybe),
            (text(), text()).prop_map(|(a, b)| Tree::Pair(a, b)),
            Just(Tree::Nothing),
            // From a tiny domain, so that a field skipped next to one present comes up.
            (
                proptest::option::of(Just("a".to_owned())),
                proptest::option::of(Just("a".to_owned())),
                prop_oneof![Just(String::new()), Just("a".to_owned())],
                proptest::collection::vec(Just("a".to_owned()), 0..2)
            )
                .prop_map(|(first, second, third, items)| Tree::Record(Record {
                    first,
                    second,
                    third,
                    items
                })),
            (text(), proptest::collection::vec(text(), 0..3))
                .prop_map(|(a, b)| Tree::Named { a, b }),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Tree::List),
                proptest::collection::btree_map(text(), inner, 0..4).prop_map(Tree::Map),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Different values never encode alike (so never digest alike), equal ones always do:
        /// among many small values, pairs and triples, no two different ones share an encoding.
        #[test]
        fn different_values_get_different_digests(
            values in proptest::collection::vec(tree(), 1..40)
        ) {
            let mut seen: BTreeMap<Vec<u8>, &Tree> = BTreeMap::new();
            for v in &values {
                prop_assert_eq!(digest(v), digest(&v.clone()));
                if let Some(other) = seen.insert(encode(v), v) {
                    prop_assert_eq!(other, v);
                }
            }
            let digests: BTreeMap<String, &Tree> =
                values.iter().map(|v| (digest(v), v)).collect();
            let distinct: Vec<&Tree> = seen.values().copied().collect();
            prop_assert_eq!(digests.len(), distinct.len());
        }

        /// Values side by side never read as other values: the encoding is self-delimiting.
        #[test]
        fn a_sequence_of_values_is_unambiguous(
            values in proptest::collection::vec(tree(), 1..12)
        ) {
            let mut seen: BTreeMap<Vec<u8>, Vec<&Tree>> = BTreeMap::new();
            for i in 0..values.len() {
                for j in 0..values.len() {
                    let pair = vec![&values[i], &values[j]];
                    let triple = (&values[i], &values[j], &values[(i + j) % values.len()]);
                    if let Some(other) = seen.insert(encode(&(pair[0], pair[1])), pair.clone()) {
                        prop_assert_eq!(other, pair);
                    }
                    let flat = encode(&triple);
                    prop_assert!(!seen.contains_key(&flat) || values.is_empty());
                }
            }
        }

        /// A long string (hashed in place) digests as it would if it were gathered.
        #[test]
        fn long_strings_hash_the_same_wherever_they_fall(
            prefix in 0usize..70_000, long in 0usize..10_000
        ) {
            let value = ("x".repeat(prefix), "y".repeat(long));
            let mut bytes = DOMAIN.to_vec();
            bytes.extend(encode(&value));
            let expected: [u8; 32] = Sha256::digest(&bytes).into();
            let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
            prop_assert_eq!(digest(&value), hex);
        }
    }

    #[test]
    fn concatenations_skipped_fields_and_empty_values_differ() {
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
        assert_ne!(digest(&vec!["a\",\"b"]), digest(&vec!["a", "b"]));
        assert_ne!(digest(&None::<String>), digest(&Some(String::new())));
        assert_ne!(digest(&Vec::<String>::new()), digest(&vec![String::new()]));
        assert_ne!(
            digest(&Vec::<String>::new()),
            digest(&BTreeMap::<String, String>::new())
        );
        let first = Record {
            first: Some("x".into()),
            second: None,
            third: String::new(),
            items: vec![],
        };
        let second = Record {
            first: None,
            second: Some("x".into()),
            ..first.clone()
        };
        assert_ne!(digest(&first), digest(&second));
        assert_eq!(digest(&first), digest(&first.clone()));
        assert_eq!(digest(&first).len(), 64);
    }

    /// A string whose content is the encoding of a split stays one string.
    #[test]
    fn a_string_holding_an_encoding_is_not_read_as_that_encoding() {
        for (a, b) in [("a", "b"), ("", ""), ("ab", "c"), ("\"", ",")] {
            let tail = String::from_utf8(encode(b)).expect("a string's encoding of UTF-8");
            let joined = format!("{a}{tail}");
            assert_ne!(
                digest(&vec![joined.as_str()]),
                digest(&vec![a, b]),
                "{a:?} {b:?}"
            );
            assert_ne!(digest(&(joined.as_str(),)), digest(&(a, b)), "{a:?} {b:?}");
        }
    }

    #[test]
    fn a_digest_is_not_the_hash_of_the_json() {
        let value = serde_json::json!({"a": [1, "x\"y"], "b": null});
        assert_ne!(digest(&value), crate::fingerprint(&value));
        assert!(encode(&value).starts_with(&[MAP]));
    }
}

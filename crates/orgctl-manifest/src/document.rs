//! Policy documents: reading a `document_file` safely, parsing JSON strictly and checking the
//! grammar AWS checks only when the policy is created.
//!
//! - A `document_file` is read only when it is a regular file inside the desired-state
//!   directory after resolving symbolic links, and at most [`MAX_DOCUMENT_FILE_BYTES`] long; its
//!   metadata is checked before it is opened (a FIFO or a device is never opened) and it is read
//!   through a bounded reader.
//! - JSON is parsed strictly: a key twice in one object is an error (serde_json keeps the last
//!   one, which would silently turn `"Effect": "Deny", "Effect": "Allow"` into Allow); a leading
//!   UTF-8 byte order mark is accepted.
//! - An SCP is an object with `Version` and `Statement`; each statement has `Effect`
//!   (`Allow`/`Deny`), exactly one of `Action`/`NotAction`, at most one of
//!   `Resource`/`NotResource` and optionally `Sid` and `Condition`. A tag policy is an object
//!   with `tags` (and the inheritance operator `@@operators_allowed_for_child_policies`).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use orgctl_model::PolicyType;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The largest `document_file` orgctl reads. AWS's largest policy document (a tag policy) has
/// 10,000 characters minified; this leaves room for any formatting.
pub const MAX_DOCUMENT_FILE_BYTES: u64 = 1 << 20;

/// Reads the `document_file` `written` (as written in the YAML file in `yaml_dir`), which must
/// be a regular file inside `root` (the canonical desired-state directory).
pub(crate) fn read_document_file(
    root: &Path,
    yaml_dir: &Path,
    written: &str,
) -> Result<String, String> {
    if written.trim().is_empty() {
        return Err(
            "document_file is empty: give the path of a JSON file, relative to the directory \
             of this YAML file"
                .to_owned(),
        );
    }
    let relative = Path::new(written);
    if relative.is_absolute() {
        return Err(format!(
            "document_file `{written}` is an absolute path: give a path relative to the \
             directory of this YAML file, inside the desired-state directory"
        ));
    }
    let joined = yaml_dir.join(relative);
    let resolved = match std::fs::canonicalize(&joined) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "document_file `{written}` does not exist (looked for {})",
                joined.display()
            ));
        }
        Err(e) => {
            return Err(format!(
                "cannot read document_file `{written}` ({}): {}",
                joined.display(),
                io_words(&e)
            ));
        }
    };
    if !resolved.starts_with(root) {
        return Err(format!(
            "document_file `{written}` resolves to {}, outside the desired-state directory {}: \
             orgctl reads policy documents only from inside it",
            resolved.display(),
            root.display()
        ));
    }
    let kind = |meta: &std::fs::Metadata| -> Result<(), String> {
        if meta.is_dir() {
            Err(format!(
                "document_file `{written}` is a directory: give the path of a JSON file"
            ))
        } else if !meta.is_file() {
            Err(format!(
                "document_file `{written}` is not a regular file (a FIFO, socket or device): \
                 orgctl reads policy documents only from regular files"
            ))
        } else if meta.len() > MAX_DOCUMENT_FILE_BYTES {
            Err(format!(
                "document_file `{written}` has {} bytes; a policy document file may have at \
                 most {MAX_DOCUMENT_FILE_BYTES}",
                meta.len()
            ))
        } else {
            Ok(())
        }
    };
    // Metadata first: opening a FIFO would block until a writer comes.
    let meta = std::fs::metadata(&resolved)
        .map_err(|e| format!("cannot read document_file `{written}`: {}", io_words(&e)))?;
    kind(&meta)?;
    let file = std::fs::File::open(&resolved)
        .map_err(|e| format!("cannot read document_file `{written}`: {}", io_words(&e)))?;
    // The same checks on what was opened, in case the file changed in between.
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read document_file `{written}`: {}", io_words(&e)))?;
    kind(&meta)?;
    let mut bytes = Vec::new();
    file.take(MAX_DOCUMENT_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read document_file `{written}`: {}", io_words(&e)))?;
    if bytes.len() as u64 > MAX_DOCUMENT_FILE_BYTES {
        return Err(format!(
            "document_file `{written}` has more than {MAX_DOCUMENT_FILE_BYTES} bytes; a policy \
             document file may have at most that"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "document_file `{written}` is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// An I/O error in words, without Rust's `(os error N)` suffix.
fn io_words(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Why a JSON text is not a JSON document: the 1-based line and column and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonProblem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, without the place.
    pub message: String,
}

impl fmt::Display for JsonProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Parses JSON strictly: a key twice in one object is an error; a leading UTF-8 byte order
/// mark is skipped; an empty text is called empty (not serde's "EOF while parsing a value").
pub(crate) fn parse_json(text: &str) -> Result<Value, JsonProblem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(JsonProblem {
            line: 1,
            column: 1,
            message: "it is empty".to_owned(),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Strict::deserialize(&mut de).and_then(|Strict(v)| de.end().map(|()| v));
    parsed.map_err(|e| {
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_owned(),
            None => full,
        };
        JsonProblem {
            line: e.line().max(1),
            column: e.column().max(1),
            message,
        }
    })
}

/// A JSON value whose objects have no key twice.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = a.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = a.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "key `{key}` appears twice in one object; JSON readers keep only one of \
                     them, so remove the other"
                )));
            }
            let Strict(value) = a.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// What is wrong with a document's grammar for its policy type (each problem names the place
/// in the document, such as `Statement[1].Effect`).
pub(crate) fn grammar_problems(doc: &Map<String, Value>, policy_type: PolicyType) -> Vec<String> {
    match policy_type {
        PolicyType::ServiceControlPolicy => scp_problems(doc),
        PolicyType::TagPolicy => tag_policy_problems(doc),
    }
}

/// The SCP versions of the policy language.
const SCP_VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];
/// The keys of an SCP statement.
const SCP_STATEMENT_KEYS: [&str; 7] = [
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn scp_problems(doc: &Map<String, Value>) -> Vec<String> {
    statement_policy_problems(doc, "an SCP", "SCPs", &["Version", "Statement"])
}

/// What is wrong with the grammar of an IAM identity policy (an inline policy of a role):
/// `Version`, `Statement` and optionally `Id`; statements as in an SCP, `Resource` required.
pub(crate) fn identity_problems(doc: &Map<String, Value>) -> Vec<String> {
    let mut problems = statement_policy_problems(
        doc,
        "an IAM policy",
        "identity policies",
        &["Version", "Id", "Statement"],
    );
    let statements: Vec<(String, &Map<String, Value>)> = match doc.get("Statement") {
        Some(Value::Object(s)) => vec![("Statement".to_owned(), s)],
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((format!("Statement[{i}]"), s.as_object()?)))
            .collect(),
        _ => Vec::new(),
    };
    for (at, s) in statements {
        if !s.contains_key("Resource") && !s.contains_key("NotResource") {
            problems.push(format!(
                "`{at}` has neither `Resource` nor `NotResource` (an identity policy needs one)"
            ));
        }
    }
    problems
}

fn statement_policy_problems(
    doc: &Map<String, Value>,
    one: &str,
    many: &str,
    top: &[&str],
) -> Vec<String> {
    let mut problems = Vec::new();
    for key in doc.keys() {
        if !top.contains(&key.as_str()) {
            problems.push(format!(
                "unknown top-level key `{key}`: {one} has only {}",
                top.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ));
        }
    }
    match doc.get("Version") {
        None => problems.push("missing `Version` (\"2012-10-17\")".to_owned()),
        Some(Value::String(v)) if SCP_VERSIONS.contains(&v.as_str()) => {}
        Some(other) => problems.push(format!("`Version` is {other}: expected \"2012-10-17\"")),
    }
    match doc.get("Statement") {
        None => problems.push("missing `Statement` (a statement or a list of them)".to_owned()),
        Some(Value::Object(statement)) => {
            statement_problems(statement, "Statement", many, &mut problems)
        }
        Some(Value::Array(statements)) => {
            for (i, s) in statements.iter().enumerate() {
                let at = format!("Statement[{i}]");
                match s {
                    Value::Object(statement) => {
                        statement_problems(statement, &at, many, &mut problems)
                    }
                    _ => problems.push(format!("`{at}` is not an object")),
                }
            }
        }
        Some(_) => problems.push("`Statement` is neither an object nor a list".to_owned()),
    }
    problems
}

fn statement_problems(s: &Map<String, Value>, at: &str, many: &str, problems: &mut Vec<String>) {
    for key in s.keys() {
        if key == "Principal" || key == "NotPrincipal" {
            problems.push(format!("`{at}.{key}`: {many} do not support `{key}`"));
        } else if !SCP_STATEMENT_KEYS.contains(&key.as_str()) {
            problems.push(format!(
                "unknown key `{at}.{key}`; a statement has {}",
                SCP_STATEMENT_KEYS.join(", ")
            ));
        }
    }
    match s.get("Effect") {
        None => problems.push(format!("`{at}` has no `Effect` (`Allow` or `Deny`)")),
        Some(Value::String(e)) if e == "Allow" || e == "Deny" => {}
        Some(other) => problems.push(format!(
            "`{at}.Effect` is {other}: expected \"Allow\" or \"Deny\""
        )),
    }
    match (s.get("Action"), s.get("NotAction")) {
        (None, None) => problems.push(format!("`{at}` has neither `Action` nor `NotAction`")),
        (Some(_), Some(_)) => problems.push(format!(
            "`{at}` has both `Action` and `NotAction`; give one"
        )),
        _ => {}
    }
    if s.contains_key("Resource") && s.contains_key("NotResource") {
        problems.push(format!(
            "`{at}` has both `Resource` and `NotResource`; give one"
        ));
    }
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = s.get(key)
            && !is_string_or_strings(v)
        {
            problems.push(format!(
                "`{at}.{key}` must be a string or a non-empty list of strings"
            ));
        }
    }
    if let Some(sid) = s.get("Sid")
        && !sid.is_string()
    {
        problems.push(format!("`{at}.Sid` is not a string"));
    }
    if let Some(condition) = s.get("Condition") {
        match condition {
            Value::Object(operators) => {
                for (op, keys) in operators {
                    if !keys.is_object() {
                        problems.push(format!(
                            "`{at}.Condition.{op}` is not an object of condition keys"
                        ));
                    }
                }
            }
            _ => problems.push(format!("`{at}.Condition` is not an object")),
        }
    }
}

fn is_string_or_strings(v: &Value) -> bool {
    match v {
        Value::String(_) => true,
        Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_string),
        _ => false,
    }
}

/// The top-level inheritance operator a management policy may have besides its content.
const CHILD_OPERATORS: &str = "@@operators_allowed_for_child_policies";

fn tag_policy_problems(doc: &Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    for key in doc.keys() {
        if key != "tags" && key != CHILD_OPERATORS {
            problems.push(format!(
                "unknown top-level key `{key}`: a tag policy has `tags` (and optionally \
                 `{CHILD_OPERATORS}`)"
            ));
        }
    }
    match doc.get("tags") {
        None => problems.push("missing `tags`: a tag policy starts with `tags`".to_owned()),
        Some(Value::Object(_)) => {}
        Some(_) => problems.push("`tags` is not an object".to_owned()),
    }
    problems
}

/// The canonical desired-state directory, for [`read_document_file`].
pub(crate) fn canonical_root(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_line() {
        let text =
            "{\n  \"Statement\": [{\n    \"Effect\": \"Deny\",\n    \"Effect\": \"Allow\"\n  }]\n}";
        let p = parse_json(text).expect_err("a duplicate key");
        assert_eq!(p.line, 4, "{p}");
        assert!(p.message.contains("key `Effect` appears twice"), "{p}");
        assert!(parse_json("{\"a\": {\"b\": 1}, \"c\": {\"b\": 2}}").is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let v = parse_json("\u{feff}{\"tags\": {}}").expect("BOM accepted");
        assert!(v.is_object());
        let p = parse_json("{} x").expect_err("trailing text");
        assert_eq!((p.line, p.column), (1, 4));
    }

    fn scp(text: &str) -> Vec<String> {
        let v = parse_json(text).expect("JSON");
        grammar_problems(
            v.as_object().expect("object"),
            PolicyType::ServiceControlPolicy,
        )
    }

    #[test]
    fn scp_grammar() {
        assert!(
            scp(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}"#)
                .is_empty()
        );
        assert!(
            scp(r#"{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","NotAction":["s3:*"],"NotResource":"arn:x","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#)
                .is_empty()
        );
        let hello = scp(r#"{"hello":"world"}"#);
        assert_eq!(hello.len(), 3, "{hello:?}");
        let bad = scp(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Alow","Principal":"*","Action":"a","NotAction":"b","Resource":[1]},"x"]}"#,
        );
        for want in [
            "Statement[0].Principal",
            "Statement[0].Effect",
            "both `Action` and `NotAction`",
            "Statement[0].Resource",
            "`Statement[1]` is not an object",
        ] {
            assert!(bad.iter().any(|p| p.contains(want)), "{want}: {bad:?}");
        }
    }

    #[test]
    fn tag_policy_grammar() {
        let tag = |text: &str| {
            let v = parse_json(text).expect("JSON");
            grammar_problems(v.as_object().expect("object"), PolicyType::TagPolicy)
        };
        assert!(tag(r#"{"tags":{"a":{"tag_key":{"@@assign":"A"}}}}"#).is_empty());
        assert_eq!(tag(r#"{"hello":"world"}"#).len(), 2);
        assert_eq!(tag(r#"{"tags":[]}"#).len(), 1);
    }
}

//! Reading a policy document given inline (`document`) or in a JSON file (`document_file`),
//! for organization policies and the inline policies of grants alike.
//!
//! Problems with a `document_file`'s content (not JSON, not an object, too large) are reported
//! at the JSON file itself (its path and, where it applies, line and column), naming the YAML
//! line that refers to it as the other place.

use orgctl_model::SourceLoc;
use serde_json::Value;

use super::checker::Checker;
use crate::document::{parse_json, read_document_file};
use crate::node::Located;

/// A document that was read and is a JSON object.
pub(super) struct Doc {
    /// The document.
    pub(super) value: Value,
    /// Where problems with it are reported: the `document` key's value, or the JSON file.
    pub(super) at: SourceLoc,
    /// For a JSON file: the YAML line naming it.
    pub(super) related: Option<SourceLoc>,
    /// The field path (`...document` or `...document_file`).
    pub(super) field: String,
    /// How messages name it (`the document` or `` `file.json` ``).
    pub(super) what: String,
}

impl Doc {
    /// Reports a problem with the document.
    pub(super) fn error(&self, checker: &mut Checker<'_>, message: impl Into<String>) {
        match &self.related {
            Some(r) => checker.error_related(self.at.clone(), &self.field, message, r.clone()),
            None => checker.error(self.at.clone(), &self.field, message),
        }
    }
}

/// The 1-based line and column of the first character of `text` that is not blank.
fn first_content(text: &str) -> (u32, u32) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut line, mut column) = (1u32, 1u32);
    for c in text.chars() {
        match c {
            '\n' => {
                line += 1;
                column = 1;
            }
            c if c.is_whitespace() => column += 1,
            _ => break,
        }
    }
    (line, column)
}

/// Reads the document of an item with `document` and `document_file` (exactly one given);
/// `prefix` is the item's field path, `item_at` its place, `missing` the message when neither
/// is given, `shape` what an object of the kind looks like.
#[allow(clippy::too_many_arguments)]
pub(super) fn read(
    checker: &mut Checker<'_>,
    file: usize,
    document: Option<&Located<Value>>,
    document_file: Option<&Located<String>>,
    prefix: &str,
    item_at: SourceLoc,
    missing: String,
    shape: &str,
) -> Option<Doc> {
    let field = |f: &str| format!("{prefix}.{f}");
    let not_object = format!("a policy document is a JSON object ({shape})");
    match (document, document_file) {
        (Some(_), Some(df)) => {
            checker.error(
                checker.at(file, df),
                field("document_file"),
                "give either `document` or `document_file`, not both",
            );
            None
        }
        (None, None) => {
            checker.error(item_at, field("document"), missing);
            None
        }
        (Some(doc), None) => {
            let at = checker.at(file, doc);
            let value = match &doc.value {
                Value::String(text) => match parse_json(text) {
                    Ok(v) => v,
                    Err(problem) => {
                        checker.error(
                            at,
                            field("document"),
                            format!("the document string is not valid JSON: {problem}"),
                        );
                        return None;
                    }
                },
                other => other.clone(),
            };
            if !value.is_object() {
                checker.error(at, field("document"), not_object);
                return None;
            }
            Some(Doc {
                value,
                at,
                related: None,
                field: field("document"),
                what: "the document".to_owned(),
            })
        }
        (None, Some(df)) => {
            let yaml_at = checker.at(file, df);
            let yaml_dir = checker.parsed.files.get(file)?.parent.clone();
            let text = match read_document_file(&checker.parsed.root, &yaml_dir, &df.value) {
                Ok(text) => text,
                Err(message) => {
                    checker.error(yaml_at, field("document_file"), message);
                    return None;
                }
            };
            let json_file = yaml_dir.join(&df.value).display().to_string();
            let json_at = |line: u32, column: u32| SourceLoc {
                file: json_file.clone(),
                line,
                column,
            };
            match parse_json(&text) {
                Ok(value) => {
                    let (line, column) = first_content(&text);
                    let doc = Doc {
                        value,
                        at: json_at(line, column),
                        related: Some(yaml_at),
                        field: field("document_file"),
                        what: format!("`{}`", df.value),
                    };
                    if !doc.value.is_object() {
                        doc.error(
                            checker,
                            format!(
                                "`{}` is valid JSON but not an object: {not_object}",
                                df.value
                            ),
                        );
                        return None;
                    }
                    Some(doc)
                }
                Err(problem) => {
                    let at = json_at(
                        u32::try_from(problem.line).unwrap_or(u32::MAX),
                        u32::try_from(problem.column).unwrap_or(u32::MAX),
                    );
                    checker.error_related(
                        at,
                        field("document_file"),
                        format!("`{}` is not valid JSON: {problem}", df.value),
                        yaml_at,
                    );
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::first_content;

    #[test]
    fn the_first_content_is_found_past_blanks_and_a_byte_order_mark() {
        assert_eq!(first_content("[]"), (1, 1));
        assert_eq!(first_content("\u{feff}\n\n  \"x\""), (3, 3));
    }
}

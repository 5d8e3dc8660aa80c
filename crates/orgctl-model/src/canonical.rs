//! Canonical JSON: keys sorted, no insignificant whitespace. Policy documents are compared and
//! uploaded in this form, so whitespace and key order never show up as changes.

use serde_json::Value;

/// The canonical (minified, key-sorted) text of a JSON value.
pub fn canonical_json(value: &Value) -> String {
    // serde_json's `Map` is a BTreeMap (the `preserve_order` feature is off in this workspace),
    // so plain serialisation already sorts keys at every depth.
    value.to_string()
}

/// The canonical text of a JSON document, or `None` when it is not valid JSON.
pub fn canonical_json_str(text: &str) -> Option<String> {
    serde_json::from_str::<Value>(text)
        .ok()
        .map(|v| canonical_json(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_keys_and_strips_whitespace() {
        let a = canonical_json_str("{ \"b\": 1,\n \"a\": {\"d\": [1, 2], \"c\": null} }");
        assert_eq!(a.as_deref(), Some(r#"{"a":{"c":null,"d":[1,2]},"b":1}"#));
        assert_eq!(canonical_json_str("{nope"), None);
    }
}

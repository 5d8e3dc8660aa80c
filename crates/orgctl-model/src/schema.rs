//! How orgctl writes the JSON Schemas of its file formats (the desired state, the JSON plan, the
//! live-state snapshot): one layout for all, so the committed files under `docs/` look alike.

/// A generated schema as pretty-printed JSON with a final newline, every `description` unwrapped
/// (doc comments are wrapped at 100 columns; editors wrap descriptions themselves).
pub fn to_text(mut schema: schemars::Schema) -> String {
    if let Some(map) = schema.as_object_mut() {
        for (key, value) in map.iter_mut() {
            unwrap_descriptions(key, value);
        }
    }
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Joins the lines of each paragraph of every `description`.
fn unwrap_descriptions(key: &str, value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if key == "description" => {
            *text = text
                .split("\n\n")
                .map(|para| {
                    para.split('\n')
                        .map(str::trim)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join("\n\n");
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                unwrap_descriptions(k, v);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                unwrap_descriptions("", v);
            }
        }
        _ => {}
    }
}

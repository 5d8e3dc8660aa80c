//! The fast reader against serde-saphyr.

use super::*;
use crate::load::parse_options;

/// serde-saphyr's tree of `text`.
fn slow(text: &str) -> Option<Node> {
    serde_saphyr::from_str_with_options::<Option<Node>>(text, parse_options())
        .ok()
        .flatten()
}

/// Whether the fast reader accepted `text`; when it did, its tree must be serde-saphyr's.
fn agrees(text: &str) -> bool {
    match parse(text) {
        None => false,
        Some(fast) => {
            let slow = slow(text);
            assert_eq!(Some(&fast), slow.as_ref(), "for:\n{text}");
            true
        }
    }
}

/// Every YAML file of the repository (tests, examples, documentation).
fn corpus() -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    let mut pending: Vec<std::path::PathBuf> = ["tests", "desired-state", "docs", "crates"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_repositorys_yaml_files_read_the_same_and_most_take_the_fast_way() {
    let files = corpus();
    assert!(files.len() > 100, "{} files", files.len());
    let fast = files.iter().filter(|(_, text)| agrees(text)).count();
    // Most files are plain; the invalid-input cases and the YAML-feature tests are not.
    assert!(fast * 2 > files.len(), "{fast} of {} files", files.len());
}

#[test]
fn what_import_and_the_benchmark_write_takes_the_fast_way() {
    let text = "# comment\naccounts:\n  - name: account-000001\n    email: account-000001@example.com\n    ou: /Unit0001\n    id: \"100000000001\"\n    tags: {cost-center: cc1, owner: team-1}\n\n  - name: b   # trailing\n    email: b@example.com\n    ou: /\n    lifecycle: active\n    tags:\n      team: 'it''s'\n      \"quoted key\": x y z\n    full_aws_access: false\nous:\n- path: /A\n  tags: {}\n- path: /B\n  policies: []\npolicies:\n  - name: p\n    targets: [root, /A, b]\n    document:\n      Version: \"2012-10-17\"\n      Statement:\n        - Effect: Deny\n          Action: [\"s3:*\"]\n          Resource: \"*\"\norganization:\n  management_account_id: \"123456789012\"\n  policies_per_target_limit: 5\n  root_full_aws_access: true\n  x: null\n  y: ~\n  z: 1.5\n  w: 0x1F\n  v: 012\n";
    assert!(agrees(text));
}

/// Texts the fast reader must leave to serde-saphyr (which reads them, or reports an error).
#[test]
fn everything_outside_the_subset_is_left_to_serde_saphyr() {
    for text in [
        "",
        "# only a comment\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  text\n",
        "a: >\n  text\n",
        "a: b\n  c\n",
        "a:\nb: c\n",
        "a: b\na: c\n",
        "a: {b: 1, b: 2}\n",
        "---\na: b\n",
        "a: b\n---\nc: d\n",
        "a: \"x\\ty\"\n",
        "a: \"x\n  y\"\n",
        "a: [b,\n  c]\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: caf\u{e9}\n",
        "- a\n- b\n",
        "  a: b\n",
        "a: b: c\n",
        "a: b:\n",
        "a: {b: c,}\n",
        "a: [b, c,]\n",
        "a: {b}\n",
        "a: {b:c}\n",
        "? a\n: b\n",
        "a: @b\n",
        "a: `b\n",
        "a: %b\n",
        "a:\n- - b\n",
        "a:\n-\n  b: c\n",
        "a: -1\n",
        "<<: {a: b}\n",
        "a: \"b\"c\n",
        "a: \"b\"#c\n",
        "a:\n    b: c\n  d: e\n",
        "a:\n  - b\n   - c\n",
        "a: [b, {c: d]\n",
    ] {
        assert!(parse(text).is_none(), "{text:?}");
    }
}

mod generated {
    use proptest::prelude::*;

    use super::agrees;

    /// A scalar as it may be written: plain words, paths, emails, numbers, special words,
    /// quoted text, with odd characters now and then.
    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9_./@-]{0,12}",
            "/[A-Z][a-z0-9]{0,5}(/[A-Z][a-z]{0,4}){0,2}",
            "[0-9]{1,14}",
            "[+.~0-9][0-9a-fxoe.+-]{0,6}",
            Just("null".to_owned()),
            Just("True".to_owned()),
            Just("false".to_owned()),
            Just("NaN".to_owned()),
            Just("inf".to_owned()),
            Just(".inf".to_owned()),
            Just("yes".to_owned()),
            "\"[ -~&&[^\"\\\\]]{0,10}\"",
            "'[ -~&&[^']]{0,6}('')?[ -~&&[^']]{0,4}'",
            "[a-z]{1,4}[ :#,\\[\\]{}]{1,2}[a-z]{0,4}",
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-z][a-z_-]{0,10}",
            1 => scalar(),
        ]
    }

    fn flow() -> impl Strategy<Value = String> {
        let leaf = scalar();
        leaf.prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
                prop::collection::vec((key(), inner), 0..4).prop_map(|entries| {
                    let body: Vec<String> =
                        entries.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    format!("{{{}}}", body.join(", "))
                }),
            ]
        })
    }

    /// A block value at indentation `indent`: the text after `key:` (starting with a space or a
    /// line break).
    fn block(depth: u32) -> BoxedStrategy<Vec<(String, String)>> {
        let value: BoxedStrategy<String> = if depth == 0 {
            flow().prop_map(|v| format!(" {v}")).boxed()
        } else {
            prop_oneof![
                3 => flow().prop_map(|v| format!(" {v}")),
                1 => block(depth - 1).prop_map(|entries| render_map(&entries, 2, "")),
                1 => (prop::collection::vec(block(depth - 1), 1..3), 0..2usize).prop_map(
                    |(items, extra)| {
                        let mut out = String::from("\n");
                        for item in items {
                            let map = render_map(&item, 2 + extra, "");
                            let pad = " ".repeat(extra);
                            // `- ` then the first key on the dash's line.
                            let body = map.trim_start_matches('\n');
                            let body = body.get(2 + extra..).unwrap_or(body);
                            out.push_str(&format!("{pad}- {body}"));
                        }
                        out
                    }
                ),
                1 => prop::collection::vec(flow(), 1..3).prop_map(|items| {
                    items.iter().map(|i| format!("\n- {i}")).collect::<String>() + "\n"
                }),
            ]
            .boxed()
        };
        prop::collection::vec((key(), value), 1..4).boxed()
    }

    /// A block mapping indented by `indent`, each line prefixed.
    fn render_map(entries: &[(String, String)], indent: usize, comment: &str) -> String {
        let pad = " ".repeat(indent);
        let mut out = String::from("\n");
        for (k, v) in entries {
            let v = v.replace('\n', &format!("\n{pad}"));
            let v = v.trim_end_matches(' ');
            out.push_str(&format!("{pad}{k}:{v}{comment}"));
            if !v.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn generated_documents_read_the_same(
            entries in block(2),
            comment in prop_oneof![Just(""), Just(" # c"), Just("  #")],
        ) {
            let text = render_map(&entries, 0, comment);
            let text = text.trim_start_matches('\n');
            agrees(text);
        }

        #[test]
        fn mutated_documents_read_the_same(
            entries in block(2),
            at in any::<prop::sample::Index>(),
            edit in prop_oneof![
                Just(""), Just(" "), Just(":"), Just("-"), Just("#"), Just("\""), Just("'"),
                Just("{"), Just("}"), Just("["), Just(","), Just("\n"), Just("\n "), Just(": "),
                Just("- "), Just("  "), Just("*"), Just("&"),
            ],
            delete in 0..3usize,
        ) {
            let text = render_map(&entries, 0, "");
            let text = text.trim_start_matches('\n');
            let i = at.index(text.len() + 1);
            let end = (i + delete).min(text.len());
            let mutated = format!("{}{edit}{}", &text[..i], &text[end..]);
            agrees(&mutated);
        }
    }
}

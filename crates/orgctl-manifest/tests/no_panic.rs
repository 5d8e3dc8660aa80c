//! Whatever bytes a desired-state file holds, loading returns a value or located errors: it never
//! panics, and no diagnostic prints a character that does not show. Inputs are mutations of the example's files (so they get deep into the loader) and
//! arbitrary text.

use std::path::PathBuf;

use proptest::prelude::*;

fn example(file: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../desired-state");
    std::fs::read_to_string(root.join(file)).expect("example file")
}

fn load(files: &[(&str, &str)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
    match orgctl_manifest::load_dir(dir.path()) {
        Ok(loaded) => loaded.warnings.iter().for_each(shows_only_visible_text),
        Err(orgctl_manifest::LoadError::Invalid(diags)) => {
            assert!(!diags.is_empty());
            for d in diags {
                assert!(d.line >= 1 && d.column >= 1, "{d}");
                assert!(d.file.ends_with(".yaml"), "{d}");
                shows_only_visible_text(&d);
            }
        }
        Err(other) => panic!("unexpected load error: {other}"),
    }
}

/// A rendered diagnostic shows every character it quotes from the input: none is invisible
/// or a control character (such as a terminal escape).
fn shows_only_visible_text(d: &orgctl_manifest::Diagnostic) {
    let text = d.to_string();
    assert!(
        !text.chars().any(orgctl_manifest::is_invisible),
        "raw invisible character in {text:?}"
    );
}

/// Applies byte-level edits (delete, duplicate, replace) to a text at chosen places.
fn mutate(text: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(at, kind, c) in edits {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let i = at % chars.len();
        match kind % 4 {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(i, c),
            2 => chars[i] = c,
            _ => {
                let end = (i + 1 + at % 40).min(chars.len());
                let copy: Vec<char> = chars[i..end].to_vec();
                chars.splice(i..i, copy);
            }
        }
    }
    chars.into_iter().collect()
}

fn edit() -> impl Strategy<Value = (usize, u8, char)> {
    (
        any::<usize>(),
        any::<u8>(),
        prop_oneof![
            Just(':'),
            Just('-'),
            Just(' '),
            Just('\n'),
            Just('"'),
            Just('\''),
            Just('['),
            Just('{'),
            Just('&'),
            Just('*'),
            Just('!'),
            Just('#'),
            Just('/'),
            any::<char>()
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_example_files_never_panic(
        accounts in proptest::collection::vec(edit(), 1..8),
        ous in proptest::collection::vec(edit(), 0..4),
        policies in proptest::collection::vec(edit(), 0..4),
    ) {
        load(&[
            ("organization.yaml", &example("organization.yaml")),
            ("accounts.yaml", &mutate(&example("accounts.yaml"), &accounts)),
            ("ous.yaml", &mutate(&example("ous.yaml"), &ous)),
            ("policies.yaml", &mutate(&example("policies.yaml"), &policies)),
            ("policies/deny-leave-organization.json", &example("policies/deny-leave-organization.json")),
            ("policies/restrict-regions.json", &example("policies/restrict-regions.json")),
        ]);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        load(&[("x.yaml", &text)]);
    }
}

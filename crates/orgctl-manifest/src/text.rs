//! Characters that do not show: names with them are refused (they make look-alikes, such as
//! `/Work\u{200b}loads` for `/Workloads`), and diagnostics print them escaped (a YAML file
//! must not be able to send escape sequences to the terminal). The predicate and the escaping
//! are the model's, shared with every renderer.

pub use orgctl_model::text::{escape_invisible, first_invisible, is_invisible};

/// Why a name (`what`, such as "OU name") may not be `s`, if it has an invisible character.
pub(crate) fn invisible_problem(what: &str, s: &str) -> Option<String> {
    let c = first_invisible(s)?;
    Some(format!(
        "{what} `{}` contains U+{:04X}, a character that does not show (control, zero-width, \
         bidirectional or blank), so it could pass for another name; use only visible \
         characters",
        escape_invisible(s),
        u32::from(c)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_an_invisible_character_is_a_problem() {
        let p = invisible_problem("OU name", "Work\u{200b}loads").expect("refused");
        assert!(p.contains("`Work\\u{200b}loads` contains U+200B"), "{p}");
        assert_eq!(invisible_problem("OU name", "Workloads"), None);
    }
}

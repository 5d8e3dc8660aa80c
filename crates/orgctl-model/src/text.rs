//! Characters that do not show. Names with them are refused by the loader (they make
//! look-alikes, such as `/Work\u{200b}loads` for `/Workloads`), and everything orgctl prints
//! from its input (the YAML, names read from AWS, files) shows them escaped, so that no input
//! can send escape sequences to a terminal or read differently from what it holds.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is invisible or acts on the text around it instead of showing: control
/// characters, format characters (zero-width, bidirectional controls, tags), whitespace other
/// than the ASCII space, fillers that render blank, variation selectors and the replacement
/// of an object.
pub fn is_invisible(c: char) -> bool {
    if c == ' ' {
        return false;
    }
    c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            // Format characters (Unicode category Cf).
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
                // Blank-looking letters and marks, variation selectors, the object replacement.
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{FFFC}'
                | '\u{E0100}'..='\u{E01EF}'
        )
}

/// The first invisible character of `s`, if any.
pub fn first_invisible(s: &str) -> Option<char> {
    // ASCII text (nearly all of it) has only control characters to look for.
    if s.is_ascii() {
        return s.bytes().find(|b| b.is_ascii_control()).map(char::from);
    }
    s.chars().find(|c| is_invisible(*c))
}

/// `s` with every invisible character written as `\u{..}` (lower-case hex), so that what is
/// printed shows exactly what the input holds.
pub fn escape_invisible(s: &str) -> Cow<'_, str> {
    if first_invisible(s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_invisible(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_shortcut_finds_what_the_predicate_finds() {
        for b in 0..=127u8 {
            let c = char::from(b);
            let text = format!("a{c}b");
            let expected = is_invisible(c).then_some(c);
            assert_eq!(first_invisible(&text), expected, "{b:#x}");
        }
    }

    #[test]
    fn invisible_characters_are_found_and_escaped() {
        for c in [
            '\u{200B}',
            '\u{202E}',
            '\u{2066}',
            '\u{1B}',
            '\n',
            '\u{A0}',
            '\u{3000}',
            '\u{FEFF}',
            '\u{E0041}',
            '\u{FE0F}',
            '\u{7F}',
            '\u{85}',
        ] {
            assert!(is_invisible(c), "{:x}", u32::from(c));
        }
        for c in [' ', 'a', 'é', 'ß', '/', '-', '漢', '😀'] {
            assert!(!is_invisible(c), "{c}");
        }
        assert_eq!(
            escape_invisible("/Work\u{200b}loads"),
            "/Work\\u{200b}loads"
        );
        assert_eq!(escape_invisible("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert!(matches!(escape_invisible("plain"), Cow::Borrowed(_)));
    }
}

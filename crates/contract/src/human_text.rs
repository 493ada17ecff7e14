//! Human text: what free text a person types for other people to read may
//! hold — the customer's name and email, a webhook endpoint's description,
//! an API key's label. One rule for all of them, [`check`]: no character
//! that is not there to be seen.
//!
//! Refused ([`HIDDEN`], by [`Hidden`] kind): control characters, format
//! characters (Unicode category Cf: zero-width spaces and joiners, the
//! bidirectional overrides and isolates that make a name display as
//! something else than it is — "Trojan Source" —, the byte order mark,
//! tag characters), line and paragraph separators, private-use characters
//! (they mean whatever a font says), noncharacters, and the Hangul filler
//! letters that draw nothing. Letters of every script, combining marks,
//! punctuation, symbols and emoji stay.
//!
//! The price: an emoji written as a ZWJ sequence (`👩‍💻`, a woman and a
//! laptop joined by U+200D) and the three subdivision flags (spelled with
//! tag characters) are refused — the joiner and the tags are exactly the
//! invisible characters used to make two names look alike or to smuggle
//! text past a reader, and telling a joiner inside an emoji from one
//! between two letters takes emoji tables and context no schema pattern
//! can state. The single emoji (`👩`, `💻`, `🇯🇵`) are fine. The road not
//! taken: Unicode's own profile for identifiers that must not be confused
//! (UTS #39), which a real shop would apply; it needs those tables, and a
//! pattern in the OpenAPI documents could no longer say what is accepted.
//!
//! The table is the one source: the check reads it, and so do the
//! documents' patterns ([`crate::schema`]), so the schema and the check
//! cannot disagree.

/// Why a character has no place in human text (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Category Cc: C0 and C1 controls (tab and newline included).
    Control,
    /// Category Cf: invisible characters that change how the text around
    /// them is shown, joined or read.
    Format,
    /// Categories Zl and Zp: U+2028, U+2029.
    Separator,
    /// Category Co: no agreed meaning or look.
    PrivateUse,
    /// The 66 code points Unicode promises never to assign.
    Noncharacter,
    /// Hangul fillers: letters (category Lo) that draw nothing, the usual
    /// way to a name that looks blank.
    Filler,
}

impl Hidden {
    fn describe(self) -> &'static str {
        match self {
            Hidden::Control => "a control character",
            Hidden::Format => "an invisible formatting character",
            Hidden::Separator => "a line or paragraph separator",
            Hidden::PrivateUse => "a private-use character",
            Hidden::Noncharacter => "a noncharacter",
            Hidden::Filler => "a filler that shows nothing",
        }
    }
}

/// Every character human text refuses: inclusive ranges, in order. Cf is
/// listed whole as of Unicode 18 (a test compares this table with the
/// `unicode-properties` crate's, so a newer Unicode that adds to it is
/// noticed); the OpenAPI documents' patterns are written from it too.
pub const HIDDEN: &[(char, char, Hidden)] = {
    use Hidden::*;
    &[
        ('\u{0000}', '\u{001F}', Control),
        ('\u{007F}', '\u{009F}', Control),
        ('\u{00AD}', '\u{00AD}', Format), // soft hyphen
        ('\u{0600}', '\u{0605}', Format), // Arabic number signs
        ('\u{061C}', '\u{061C}', Format), // Arabic letter mark (bidi)
        ('\u{06DD}', '\u{06DD}', Format),
        ('\u{070F}', '\u{070F}', Format),
        ('\u{0890}', '\u{0891}', Format),
        ('\u{08E2}', '\u{08E2}', Format),
        ('\u{115F}', '\u{1160}', Filler), // Hangul choseong/jungseong fillers
        ('\u{180E}', '\u{180E}', Format), // Mongolian vowel separator
        ('\u{200B}', '\u{200F}', Format), // zero-width space, (non-)joiner, LRM, RLM
        ('\u{2028}', '\u{2029}', Separator),
        ('\u{202A}', '\u{202E}', Format), // bidi embeddings and overrides
        ('\u{2060}', '\u{2064}', Format), // word joiner, invisible operators
        ('\u{2066}', '\u{206F}', Format), // bidi isolates, deprecated formats
        ('\u{3164}', '\u{3164}', Filler), // Hangul filler
        ('\u{E000}', '\u{F8FF}', PrivateUse),
        ('\u{FDD0}', '\u{FDEF}', Noncharacter),
        ('\u{FEFF}', '\u{FEFF}', Format), // byte order mark, zero-width no-break space
        ('\u{FFA0}', '\u{FFA0}', Filler), // halfwidth Hangul filler
        ('\u{FFF9}', '\u{FFFB}', Format), // interlinear annotation
        ('\u{FFFE}', '\u{FFFF}', Noncharacter),
        ('\u{110BD}', '\u{110BD}', Format),
        ('\u{110CD}', '\u{110CD}', Format),
        ('\u{13430}', '\u{1343F}', Format), // Egyptian hieroglyph format controls
        ('\u{1BCA0}', '\u{1BCA3}', Format), // shorthand format controls
        ('\u{1D173}', '\u{1D17A}', Format), // musical symbol formats
        ('\u{1FFFE}', '\u{1FFFF}', Noncharacter),
        ('\u{2FFFE}', '\u{2FFFF}', Noncharacter),
        ('\u{3FFFE}', '\u{3FFFF}', Noncharacter),
        ('\u{4FFFE}', '\u{4FFFF}', Noncharacter),
        ('\u{5FFFE}', '\u{5FFFF}', Noncharacter),
        ('\u{6FFFE}', '\u{6FFFF}', Noncharacter),
        ('\u{7FFFE}', '\u{7FFFF}', Noncharacter),
        ('\u{8FFFE}', '\u{8FFFF}', Noncharacter),
        ('\u{9FFFE}', '\u{9FFFF}', Noncharacter),
        ('\u{AFFFE}', '\u{AFFFF}', Noncharacter),
        ('\u{BFFFE}', '\u{BFFFF}', Noncharacter),
        ('\u{CFFFE}', '\u{CFFFF}', Noncharacter),
        ('\u{DFFFE}', '\u{DFFFF}', Noncharacter),
        ('\u{E0001}', '\u{E0001}', Format), // language tag
        ('\u{E0020}', '\u{E007F}', Format), // tag characters
        ('\u{EFFFE}', '\u{EFFFF}', Noncharacter),
        ('\u{F0000}', '\u{FFFFD}', PrivateUse),
        ('\u{FFFFE}', '\u{FFFFF}', Noncharacter),
        ('\u{100000}', '\u{10FFFD}', PrivateUse),
        ('\u{10FFFE}', '\u{10FFFF}', Noncharacter),
    ]
};

/// Why `c` may not appear in human text, if it may not.
fn hidden(c: char) -> Option<Hidden> {
    if c.is_ascii_graphic() || c == ' ' {
        return None;
    }
    HIDDEN
        .binary_search_by(|&(first, last, _)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .ok()
        .map(|i| HIDDEN[i].2)
}

/// Whether `c` may appear in human text.
pub fn is_plain(c: char) -> bool {
    hidden(c).is_none()
}

/// The one rule for every human text field: `text` holds no [`HIDDEN`]
/// character, or the error says which and what it is, about `what` (`"a
/// name"`, `"a label"`), for the field it belongs to. The whole text is
/// checked, ends included: trimming takes spaces off, not these.
pub fn check(what: &str, text: &str) -> Result<(), String> {
    match text.chars().find_map(|c| Some((c, hidden(c)?))) {
        None => Ok(()),
        Some((c, why)) => Err(format!(
            "{what} cannot contain U+{:04X}, {}: type it as it should read",
            u32::from(c),
            why.describe()
        )),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_error_names_the_first_hidden_character_and_what_it_is() {
        assert_eq!(
            check("a label", "ci\u{202E}\u{200B}").unwrap_err(),
            "a label cannot contain U+202E, an invisible formatting character: type it as it should read"
        );
        assert!(
            check("a label", "\t")
                .unwrap_err()
                .contains("U+0009, a control character")
        );
        assert!(
            check("a label", "\u{2029}")
                .unwrap_err()
                .contains("line or paragraph separator")
        );
        assert!(
            check("a label", "\u{F8FF}")
                .unwrap_err()
                .contains("private-use")
        );
        assert!(
            check("a label", "\u{10FFFF}")
                .unwrap_err()
                .contains("noncharacter")
        );
    }

    #[test]
    fn the_table_of_hidden_characters_is_in_order_and_agrees_with_unicode() {
        use unicode_properties::{GeneralCategory as Gc, UnicodeGeneralCategory};
        for pair in HIDDEN.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:?}");
        }
        // Every code point, against the general category of an independent
        // table (the crate's is generated from Unicode's own data files).
        let noncharacter =
            |c: char| matches!(u32::from(c), 0xFDD0..=0xFDEF) || u32::from(c) & 0xFFFE == 0xFFFE;
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let expected = match c.general_category() {
                _ if noncharacter(c) => Some(Hidden::Noncharacter),
                Gc::Control => Some(Hidden::Control),
                Gc::Format => Some(Hidden::Format),
                Gc::LineSeparator | Gc::ParagraphSeparator => Some(Hidden::Separator),
                Gc::PrivateUse => Some(Hidden::PrivateUse),
                _ if matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}') => {
                    Some(Hidden::Filler)
                }
                _ => None,
            };
            assert_eq!(
                hidden(c),
                expected,
                "U+{:04X} ({:?})",
                u32::from(c),
                c.general_category()
            );
        }
    }

    proptest! {
        /// Any text: accepted exactly when no character of it is hidden,
        /// and refused naming the first that is.
        #[test]
        fn any_text_is_human_or_the_first_hidden_character_is_named(text in "\\PC{0,20}|.{0,20}|[\u{0}-\u{3000}\u{E0000}-\u{E0080}]{0,8}") {
            match text.chars().find(|&c| !is_plain(c)) {
                None => prop_assert_eq!(check("x", &text), Ok(())),
                Some(c) => {
                    let e = check("x", &text).unwrap_err();
                    let expected = format!("x cannot contain U+{:04X}, ", u32::from(c));
                    prop_assert!(e.starts_with(&expected), "{}", e);
                }
            }
        }
    }
}

//! Text from the document as the page sets it: [`Prose`] (a description,
//! its `code spans` apart), and the small readers every part of the page
//! shares — a string member, an anchor for a heading.

use serde_json::Value;

/// Text from the document, with its `code spans` kept apart so the page
/// can set them as code (the descriptions are written in Markdown's
/// backticks; nothing else of Markdown is read).
#[derive(Debug, Clone, Default)]
pub struct Prose {
    pub parts: Vec<Span>,
}

#[derive(Debug, Clone)]
pub struct Span {
    pub code: bool,
    pub text: String,
}

impl Prose {
    fn new(text: &str) -> Prose {
        Prose {
            parts: text
                .split('`')
                .enumerate()
                .filter(|(_, t)| !t.is_empty())
                .map(|(i, t)| Span {
                    code: i % 2 == 1,
                    text: t.to_owned(),
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// A member of the document as prose (empty when it is missing).
pub(super) fn prose(value: &Value) -> Prose {
    Prose::new(value.as_str().unwrap_or_default())
}

/// A member of the document as text (empty when it is missing).
pub(super) fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// An `id` for a heading: `op-post-api-orders`, `schema-Order`.
pub(super) fn anchor(kind: &str, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{kind}-{}", slug.trim_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_are_kept_apart() {
        let p = Prose::new("pass `after` back, or `x`");
        let parts: Vec<(bool, &str)> = p.parts.iter().map(|s| (s.code, s.text.as_str())).collect();
        assert_eq!(
            parts,
            [
                (false, "pass "),
                (true, "after"),
                (false, " back, or "),
                (true, "x")
            ]
        );
        assert!(Prose::new("").is_empty());
    }
}

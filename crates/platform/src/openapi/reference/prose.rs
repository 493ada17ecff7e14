//! The small readers every part of the page shares: a description as
//! [`Prose`] (its markup read by [`super::markup`]), a string member, an
//! object schema's required fields, an anchor for a heading.

use serde_json::Value;

pub use super::markup::Prose;

/// A member of the document as prose (empty when it is missing).
pub(super) fn prose(value: &Value) -> Prose {
    Prose::parse(value.as_str().unwrap_or_default())
}

/// A member of the document as text (empty when it is missing).
pub(super) fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// The names an object schema lists as `required` (none when it lists none).
pub(super) fn required_fields(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
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
    use serde_json::json;

    #[test]
    fn members_read_as_prose_text_and_anchors() {
        assert!(prose(&Value::Null).is_empty());
        assert_eq!(prose(&json!("a `b`")).plain_text(), "a b");
        assert_eq!(text(&json!(3)), "");
        assert_eq!(anchor("op", "/api/orders/{id}"), "op-api-orders--id");
    }
}

//! The JSON Schema of the wire types, for the services' OpenAPI documents.
//!
//! Most types get theirs from `#[derive(utoipa::ToSchema)]` next to their
//! serde derive, so a renamed or added field changes the document in the
//! same commit that changes the bytes. The types whose text form is written
//! by hand in serde get a hand-written schema instead, built from the same
//! constants and word lists their parsers use, so the document says exactly
//! what a parser accepts and nothing else: here, the value types — a
//! [`Timestamp`] (RFC 3339 text, unix ms inside), a [`Sku`], a
//! [`Quantity`] — and human text as a pattern ([`human_text`], from the
//! table the check itself reads). The typed ids (`ord_…`) and the
//! vocabulary's words carry theirs beside their parsers, in [`crate::ids`]
//! and [`crate::vocabulary`], and so do the customer's name and email in
//! [`crate::order`]:
//! this module knows the value types and the rules, never the messages.
//!
//! The trade-off: a schema is a *description*. Some rules no schema can
//! hold (one line per SKU in an order, a SKU the catalog sells); those are
//! written in the `description`, and answered with a problem when broken.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{Quantity, Sku, Timestamp};
use crate::human_text::HIDDEN;

/// The characters human text may not contain ([`HIDDEN`], the table the
/// check itself uses), as the body of a regular-expression class:
/// `\uXXXX` escapes in the Basic Multilingual Plane, the characters
/// themselves above it (ECMA-262 with the `u` flag, which JSON Schema asks
/// for, and Python's `re`, which schemathesis uses, both read a literal
/// code point as one character).
pub(crate) fn hidden_class() -> String {
    let one = |c: char| {
        if u32::from(c) <= 0xFFFF {
            format!("\\u{:04X}", u32::from(c))
        } else {
            c.to_string()
        }
    };
    HIDDEN
        .iter()
        .map(|&(first, last, _)| {
            if first == last {
                one(first)
            } else {
                format!("{}-{}", one(first), one(last))
            }
        })
        .collect()
}

/// A pattern for human text: no hidden character, and (`non_blank`) at
/// least one character that is not a space.
pub(crate) fn human_pattern(non_blank: bool) -> String {
    let h = hidden_class();
    if non_blank {
        format!(r"^[^{h}]*[^\s{h}][^{h}]*$")
    } else {
        format!(r"^[^{h}]*$")
    }
}

/// Text a person types and others read ([`crate::human_text::check`]):
/// up to `max_chars`, none of them hidden; `non_blank`: required, and not
/// only spaces; otherwise it may be empty, or `null` (left out).
pub fn human_text(what: &str, max_chars: usize, non_blank: bool) -> Object {
    let builder = ObjectBuilder::new()
        .max_length(Some(max_chars))
        .pattern(Some(human_pattern(non_blank)))
        .description(Some(format!(
            "{what} No control, invisible formatting (zero-width, text-direction, \
             byte order mark), line-separator or private-use characters."
        )));
    if non_blank {
        builder
            .schema_type(Type::String)
            .min_length(Some(1))
            .build()
    } else {
        builder
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .build()
    }
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(
                "RFC 3339 in UTC, always with milliseconds (`2026-11-14T22:13:20.123Z`).",
            ))
            .examples(["2026-11-14T22:13:20.123Z"])
            .into()
    }
}

impl ToSchema for Timestamp {
    fn name() -> Cow<'static, str> {
        "Timestamp".into()
    }
}

impl PartialSchema for Sku {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!("^[A-Za-z0-9-]{{2,{}}}$", Sku::MAX_LEN)))
            .description(Some(
                "A stock-keeping unit: letters, digits and `-` (read in upper case).",
            ))
            .examples(["TEA-SENCHA"])
            .into()
    }
}

impl ToSchema for Sku {
    fn name() -> Cow<'static, str> {
        "Sku".into()
    }
}

impl PartialSchema for Quantity {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(Quantity::MAX))
            .description(Some("Units of one SKU on one order line."))
            .examples([2])
            .into()
    }
}

impl ToSchema for Quantity {
    fn name() -> Cow<'static, str> {
        "Quantity".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{Customer, Order};

    fn json<T: PartialSchema>() -> serde_json::Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    #[test]
    fn hand_written_schemas_say_what_the_parsers_accept() {
        assert_eq!(json::<Timestamp>()["format"], "date-time");
        assert_eq!(json::<Quantity>()["maximum"], Quantity::MAX);
        assert_eq!(json::<crate::OrderId>()["pattern"], "^ord_[A-Za-z0-9]+$");
        assert_eq!(
            json::<crate::OrderStatus>()["enum"],
            serde_json::json!(["pending", "confirmed", "rejected", "backordered"])
        );
        assert_eq!(
            json::<crate::EventType>()["enum"],
            serde_json::json!(["order.created", "order.notice", "ping"])
        );
    }

    #[test]
    fn the_human_text_pattern_is_the_check_s_own_table() {
        use proptest::strategy::{Strategy, ValueTree};
        use proptest::test_runner::TestRunner;
        let class = hidden_class();
        let mut runner = TestRunner::deterministic();
        // Whatever the class admits passes the check; whatever it names
        // fails it (the regex engine reads the class, not this crate).
        let plain = proptest::string::string_regex(&format!("[^{class}]{{1,40}}")).unwrap();
        let hidden = proptest::string::string_regex(&format!("[{class}]")).unwrap();
        for _ in 0..2000 {
            let text = plain.new_tree(&mut runner).unwrap().current();
            assert!(crate::human_text::check("x", &text).is_ok(), "{text:?}");
            let c = hidden.new_tree(&mut runner).unwrap().current();
            assert!(crate::human_text::check("x", &c).is_err(), "{c:?}");
        }
        let name = json::<Customer>()["properties"]["name"].clone();
        assert!(
            name["pattern"].as_str().unwrap().contains("\\u200B"),
            "{name}"
        );
        let label = json_of(human_text("What the key is for.", 60, true));
        assert_eq!(
            (label["minLength"].clone(), label["maxLength"].clone()),
            (1.into(), 60.into())
        );
        let description = json_of(human_text("A note.", 200, false));
        assert_eq!(description["type"], serde_json::json!(["string", "null"]));
    }

    fn json_of(object: Object) -> serde_json::Value {
        serde_json::to_value(object).unwrap()
    }

    #[test]
    fn derived_schemas_reference_the_hand_written_ones() {
        let order = json::<Order>();
        assert_eq!(
            order["properties"]["id"]["$ref"],
            "#/components/schemas/OrderId"
        );
        assert_eq!(
            order["properties"]["created_at"]["$ref"],
            "#/components/schemas/Timestamp"
        );
        let required = order["required"].as_array().unwrap();
        assert!(!required.contains(&"status_reason".into()), "{order}");
    }
}

//! The JSON Schema of the wire types, for the services' OpenAPI documents.
//!
//! Most types get theirs from `#[derive(utoipa::ToSchema)]` next to their
//! serde derive, so a renamed or added field changes the document in the
//! same commit that changes the bytes. The types whose text form is written
//! by hand in serde — a [`Timestamp`] (RFC 3339 text, unix ms inside), a
//! [`Sku`], a [`Quantity`], the typed ids (`ord_…`), the vocabulary's words
//! — get a hand-written schema here, built from the same constants and
//! word lists their parsers use, so the document says exactly what a parser
//! accepts and nothing else.
//!
//! The trade-off: a schema is a *description*. Some rules no schema can
//! hold (one line per SKU in an order, a SKU the catalog sells); those are
//! written in the `description`, and answered with a problem when broken.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{Quantity, Sku, Timestamp};
use crate::ids::MAX_ID_LEN;
use crate::validation::{MAX_EMAIL_CHARS, MAX_NAME_CHARS};
use crate::vocabulary::Word;

/// Characters a person's name or address may not contain (the same set as
/// [`crate::validation::is_plain`] refuses): control characters and the
/// invisible marks that reorder text. As a regular-expression class body.
const NOT_PLAIN: &str = r"\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069";

/// A customer's name: 1 to [`MAX_NAME_CHARS`] plain characters, at least
/// one of them not a space.
pub fn customer_name() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        .pattern(Some(format!(r"^[^{NOT_PLAIN}]*\S[^{NOT_PLAIN}]*$")))
        .description(Some(
            "The customer's name: no control or text-direction characters.",
        ))
        .examples(["Ada Lovelace"])
        .build()
}

/// An email address as the shop checks it: `name@domain.tld`, no spaces.
pub fn customer_email() -> Object {
    let c = format!(r"[^@\s{NOT_PLAIN}]");
    let c_no_dot = format!(r"[^@.\s{NOT_PLAIN}]");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(MAX_EMAIL_CHARS))
        .pattern(Some(format!(r"^{c}+@{c_no_dot}{c}*\.{c}*{c_no_dot}$")))
        .description(Some(
            "Where the shop would write: something@something.tld, no spaces.",
        ))
        .examples(["ada@example.com"])
        .build()
}

/// A string, one of `W`'s words: what a vocabulary enum serialises as.
pub fn words<W: Word>() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(W::ALL.iter().map(|w| w.as_str())))
        .into()
}

/// A typed id: its prefix, `_`, then letters and digits.
pub fn prefixed_id(prefix: &str, what: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{prefix}_[A-Za-z0-9]+$")))
        .max_length(Some(MAX_ID_LEN))
        .description(Some(what.trim()))
        .examples([format!("{prefix}_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b")])
        .into()
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
    use crate::order::Order;

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
            serde_json::json!(["order.created", "ping"])
        );
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

//! The order as the store publishes it — in API responses, in webhook
//! events and in the pull feed — and the request a client sends to place one.
//!
//! One shape everywhere is a deliberate simplification: a consumer that has
//! parsed an order from a webhook can parse it from the feed too. Prices are
//! integer cents (`i64`), never floats: 0.1 + 0.2 is not 0.3 in binary
//! floating point, and money must add up exactly.
//!
//! The customer's name and email are plain strings on the wire, so their
//! limits ([`Customer::MAX_NAME_CHARS`], [`Customer::MAX_EMAIL_CHARS`]) and
//! their schemas are written here, beside the type: the schemas take human
//! text's pattern from [`crate::schema`], and the validation takes the
//! limits from here, so the document and the check state the same bounds.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::domain::{Quantity, Sku, Timestamp};
use crate::ids::OrderId;
use crate::vocabulary::{IntegrationMode, OrderStatus};

/// Who placed the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[schema(schema_with = email_schema)]
    pub email: String,
}

impl Customer {
    /// The longest name, in characters.
    pub const MAX_NAME_CHARS: usize = 100;
    /// The longest email address: what fits in an SMTP path (RFC 5321).
    pub const MAX_EMAIL_CHARS: usize = 254;
}

/// A customer's name, as the validation takes it: 1 to
/// [`Customer::MAX_NAME_CHARS`] characters of human text, at least one of
/// them not a space.
fn name_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(Customer::MAX_NAME_CHARS))
        .pattern(Some(crate::schema::human_pattern(true)))
        .description(Some(
            "The customer's name: no control, invisible formatting or text-direction characters.",
        ))
        .examples(["Ada Lovelace"])
        .build()
}

/// An email address as the shop checks it: `name@domain.tld`, no spaces,
/// none of human text's hidden characters.
fn email_schema() -> Object {
    let h = crate::schema::hidden_class();
    let c = format!(r"[^@\s{h}]");
    let c_no_dot = format!(r"[^@.\s{h}]");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(Customer::MAX_EMAIL_CHARS))
        .pattern(Some(format!(r"^{c}+@{c_no_dot}{c}*\.{c}*{c_no_dot}$")))
        .description(Some(
            "Where the shop would write: something@something.tld, no spaces.",
        ))
        .examples(["ada@example.com"])
        .build()
}

/// One line of a placed order, priced when it was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    pub sku: Sku,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price_cents: i64,
    pub line_total_cents: i64,
}

/// A placed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: OrderId,
    pub status: OrderStatus,
    /// The integration mode the order was placed under; it finishes through
    /// that channel even if the store's mode is switched later.
    pub mode: IntegrationMode,
    pub customer: Customer,
    #[serde(default)]
    pub items: Vec<OrderLine>,
    pub total_cents: i64,
    pub created_at: Timestamp,
    /// Why the order is `rejected` or `backordered`, in words a customer can
    /// read. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
}

/// A line of a new order or of an `/update_inventory` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineItem {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// `POST /api/orders` as a well-behaved client writes it. (Request bodies
/// are read more leniently than this, so every problem can be reported
/// field by field; see [`crate::validation`].)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewOrder {
    pub customer: Customer,
    /// One line per SKU (a SKU twice is refused: put the total on one line).
    #[schema(min_items = 1, max_items = 20)]
    pub items: Vec<LineItem>,
}

/// A catalog entry: `GET /api/products`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub price_cents: i64,
}

/// One page of the pull feed, `GET /api/orders?after=CURSOR&limit=N`.
///
/// `iterator` is opaque to the client: pass it back as `after` to continue.
/// `done` says there was nothing after this page *when it was read*; a
/// poller stops there and comes back on its next tick with the same cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeedPage {
    pub data: Vec<Order>,
    pub iterator: String,
    pub done: bool,
}

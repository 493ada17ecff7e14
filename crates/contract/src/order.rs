//! The order as the store publishes it — in API responses, in webhook
//! events and in the pull feed — and the request a client sends to place one.
//!
//! One shape everywhere is a deliberate simplification: a consumer that has
//! parsed an order from a webhook can parse it from the feed too. Prices are
//! integer cents (`i64`), never floats: 0.1 + 0.2 is not 0.3 in binary
//! floating point, and money must add up exactly.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Quantity, Sku, Timestamp};
use crate::ids::OrderId;
use crate::vocabulary::{IntegrationMode, OrderStatus};

/// Who placed the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    #[schema(schema_with = crate::schema::customer_name)]
    pub name: String,
    #[schema(schema_with = crate::schema::customer_email)]
    pub email: String,
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

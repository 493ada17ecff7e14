//! Messages of the inventory's side of the contract: the `/update_inventory`
//! request and its answer, stock levels, what the webhook receiver answers,
//! and the acknowledgement a poller sends back to the store.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Sku, Timestamp};
use crate::ids::OrderId;
use crate::order::LineItem;
use crate::vocabulary::{ApplyOutcome, IntegrationMode};

/// Where the inventory receives the store's webhooks, under its own URL
/// (`INVENTORY_URL`). The inventory registers `{INVENTORY_URL}` followed by
/// this path; the store gives the role of *resolver* — the endpoint whose
/// answers decide webhook orders — to that URL and no other.
pub const WEBHOOK_RECEIVER_PATH: &str = "/webhooks/store";

/// `POST /update_inventory`, sent by the store in api mode with
/// `Idempotency-Key: <order_id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateInventoryRequest {
    pub order_id: OrderId,
    /// One line per SKU, as in an order.
    #[serde(default)]
    #[schema(required, min_items = 1, max_items = 20)]
    pub items: Vec<LineItem>,
}

/// The stock of one SKU after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StockLevel {
    pub sku: Sku,
    pub on_hand: i64,
}

/// `200` answer of `/update_inventory`: the order's lines were reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateInventoryResponse {
    pub order_id: OrderId,
    pub applied: bool,
    #[serde(default)]
    pub stock: Vec<StockLevel>,
}

/// A line that could not be reserved: listed in the `409` problem so the
/// store can tell the customer exactly what ran out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Shortage {
    pub sku: String,
    pub requested: i64,
    pub available: i64,
}

/// The body of the webhook receiver's `2xx` answer. Standard Webhooks does
/// not require one — any 2xx means "received" — but the inventory says what
/// it did, so the store can show a pushed order as confirmed or backordered
/// without a second channel back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookAck {
    pub webhook_id: String,
    /// True when this `webhook-id` had been received before: nothing was
    /// done again, and `outcome` is the first delivery's.
    pub duplicate: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ApplyOutcome>,
}

/// `POST /api/orders/{id}/acknowledgement` on the store: in poll mode the
/// inventory took the order (nobody pushed it), so it reports back what it
/// did — the pattern marketplaces use for pulled orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Acknowledgement {
    pub outcome: ApplyOutcome,
    pub channel: IntegrationMode,
    pub applied_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

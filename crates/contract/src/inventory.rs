//! Messages of the inventory's side of the contract: the `/update_inventory`
//! request and its answer, stock levels, what the webhook receiver answers,
//! and the acknowledgement a poller (or hybrid's reconciliation) sends back
//! to the store, with the store's answer.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Sku, Timestamp};
use crate::ids::OrderId;
use crate::order::LineItem;
use crate::vocabulary::{ApplyOutcome, IntegrationMode, OrderStatus};

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

/// `POST /api/acknowledgements` on the store: a whole page of pulled
/// orders acknowledged in one request, so a poll cycle costs a read and an
/// acknowledgement whatever its size (one request per order capped a
/// poller near a few hundred orders a second). At most the feed's page
/// size ([`MAX_ACKNOWLEDGEMENTS`]) items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PageAcknowledgement {
    #[schema(min_items = 1, max_items = 200)]
    pub acknowledgements: Vec<OrderAcknowledgement>,
}

/// The most items one [`PageAcknowledgement`] may carry: the feed's
/// largest page.
pub const MAX_ACKNOWLEDGEMENTS: usize = 200;

/// One order of a [`PageAcknowledgement`]: what was done with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderAcknowledgement {
    pub order_id: OrderId,
    pub outcome: ApplyOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The store's answer to a [`PageAcknowledgement`]: one result per item,
/// in the order they were sent. A wrong item does not fail the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PageAcknowledged {
    pub results: Vec<AcknowledgementResult>,
}

/// What became of one item of a [`PageAcknowledgement`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AcknowledgementResult {
    pub order_id: OrderId,
    pub result: AckResult,
    /// The order's status now (absent when there is no such order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    /// Why a `conflict` or `not_found`, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

crate::words! {
    /// One item's result in a page acknowledgement: `resolved` (this
    /// acknowledgement decided the order), `duplicate` (something decided it
    /// before; nothing changed), `conflict` (a webhook or api order: its own
    /// channel resolves it) or `not_found`.
    pub enum AckResult {
        Resolved,
        Duplicate,
        Conflict,
        NotFound,
    }
}

impl AckResult {
    /// True when the store holds the order as decided: the poller may move
    /// its cursor past it.
    pub fn settled(self) -> bool {
        matches!(self, AckResult::Resolved | AckResult::Duplicate)
    }
}

/// The store's answer to an [`Acknowledgement`]: the order as it stands
/// now, and whether something had decided it before this acknowledgement
/// came (an earlier one, or — for a hybrid order, which two channels may
/// land — the inventory's answer to its notice). The first answer decides;
/// a `duplicate` changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Acknowledged {
    #[serde(flatten)]
    pub order: crate::order::Order,
    #[serde(default)]
    pub duplicate: bool,
}

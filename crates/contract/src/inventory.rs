//! Messages of the inventory's side of the contract: the `/update_inventory`
//! request and its answer, stock levels, what the webhook receiver answers,
//! and the acknowledgement a poller sends back to the store.

use serde::{Deserialize, Serialize};

use crate::domain::{IntegrationMode, OrderId, Sku, Timestamp};
use crate::order::LineItem;

/// `POST /update_inventory`, sent by the store in api mode with
/// `Idempotency-Key: <order_id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateInventoryRequest {
    pub order_id: OrderId,
    #[serde(default)]
    pub items: Vec<LineItem>,
}

/// The stock of one SKU after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub sku: Sku,
    pub on_hand: i64,
}

/// `200` answer of `/update_inventory`: the order's lines were reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateInventoryResponse {
    pub order_id: OrderId,
    pub applied: bool,
    #[serde(default)]
    pub stock: Vec<StockLevel>,
}

/// A line that could not be reserved: listed in the `409` problem so the
/// store can tell the customer exactly what ran out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    pub sku: String,
    pub requested: i64,
    pub available: i64,
}

/// What applying an order did, whichever channel carried it. Recorded once
/// per order id in the inventory; every later delivery of the same order
/// (retry, replay, another channel) gets this first outcome back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyOutcome {
    /// Stock was decremented for every line.
    Applied,
    /// Pushed or polled, stock was short: nothing was applied and the order
    /// waits for stock (the oversell push and pull allow).
    Backordered,
    /// Asked synchronously (api mode), stock was short: nothing was applied
    /// and the store refuses the order.
    Rejected,
    /// The store withdrew the order (it could not get an answer in time);
    /// any stock it had taken was put back, and a late copy of the request
    /// will not take it again.
    Voided,
}

impl ApplyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyOutcome::Applied => "applied",
            ApplyOutcome::Backordered => "backordered",
            ApplyOutcome::Rejected => "rejected",
            ApplyOutcome::Voided => "voided",
        }
    }

    pub fn parse(raw: &str) -> Option<ApplyOutcome> {
        match raw {
            "applied" => Some(ApplyOutcome::Applied),
            "backordered" => Some(ApplyOutcome::Backordered),
            "rejected" => Some(ApplyOutcome::Rejected),
            "voided" => Some(ApplyOutcome::Voided),
            _ => None,
        }
    }
}

/// The body of the webhook receiver's `2xx` answer. Standard Webhooks does
/// not require one — any 2xx means "received" — but the inventory says what
/// it did, so the store can show a pushed order as confirmed or backordered
/// without a second channel back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub outcome: ApplyOutcome,
    pub channel: IntegrationMode,
    pub applied_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

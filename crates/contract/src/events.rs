//! The webhook event envelope: `{"type", "timestamp", "data"}`, as in the
//! Standard Webhooks payload recommendation.
//!
//! `type` lets one endpoint receive several kinds of event and route on it;
//! `timestamp` is when the *event* happened (the `webhook-timestamp` header,
//! by contrast, is when this *attempt* was sent and changes on every retry).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Timestamp;
use crate::ids::{EndpointId, OrderId};
use crate::order::Order;
use crate::vocabulary::EventType;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEvent<T> {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub timestamp: Timestamp,
    pub data: T,
}

/// Just the envelope's type, for routing before the data is parsed. (A
/// type this build does not know is kept as text, so a receiver can answer
/// "not interested" instead of "malformed".)
#[derive(Debug, Clone, Deserialize)]
pub struct EventTypeOnly {
    #[serde(rename = "type")]
    pub event_type: String,
}

pub type OrderCreated = WebhookEvent<Order>;

/// A thin event (hybrid mode): `order.notice` says *that* an order was
/// placed and which one — the receiver fetches the order itself
/// (`GET /api/orders/{id}`). No customer, no items, no prices: nothing in
/// it goes stale, arrives out of order with the truth, or is personal
/// data sitting in someone's webhook logs. What it costs: one more
/// request, and the receiver must be able to reach the sender.
pub type OrderNotice = WebhookEvent<NoticeData>;

/// The data of an `order.notice`: the order's id, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoticeData {
    pub order_id: OrderId,
}

/// The data of a `ping`: sent when an endpoint is registered (or on demand)
/// so its owner sees a signed message arrive before any order is placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PingData {
    pub endpoint_id: EndpointId,
    pub message: String,
}

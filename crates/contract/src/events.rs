//! The webhook event envelope: `{"type", "timestamp", "data"}`, as in the
//! Standard Webhooks payload recommendation.
//!
//! `type` lets one endpoint receive several kinds of event and route on it;
//! `timestamp` is when the *event* happened (the `webhook-timestamp` header,
//! by contrast, is when this *attempt* was sent and changes on every retry).

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;
use crate::order::Order;

pub const ORDER_CREATED: &str = "order.created";
pub const PING: &str = "ping";

/// Every event type the store can send; endpoints filter on these.
pub const EVENT_TYPES: &[&str] = &[ORDER_CREATED, PING];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvent<T> {
    #[serde(rename = "type")]
    pub event_type: String,
    pub timestamp: Timestamp,
    pub data: T,
}

/// Just the envelope's type, for routing before the data is parsed.
#[derive(Debug, Clone, Deserialize)]
pub struct EventTypeOnly {
    #[serde(rename = "type")]
    pub event_type: String,
}

pub type OrderCreated = WebhookEvent<Order>;

/// The data of a `ping`: sent when an endpoint is registered (or on demand)
/// so its owner sees a signed message arrive before any order is placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingData {
    pub endpoint_id: String,
    pub message: String,
}

pub type Ping = WebhookEvent<PingData>;

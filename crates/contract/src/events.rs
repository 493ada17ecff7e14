//! The webhook event envelope: `{"type", "timestamp", "data"}`, as in the
//! Standard Webhooks payload recommendation.
//!
//! `type` lets one endpoint receive several kinds of event and route on it;
//! `timestamp` is when the *event* happened (the `webhook-timestamp` header,
//! by contrast, is when this *attempt* was sent and changes on every retry).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Timestamp;
use crate::ids::EndpointId;
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

/// The data of a `ping`: sent when an endpoint is registered (or on demand)
/// so its owner sees a signed message arrive before any order is placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PingData {
    pub endpoint_id: EndpointId,
    pub message: String,
}

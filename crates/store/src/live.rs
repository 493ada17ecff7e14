//! What the store's `GET /events` stream sends: the data of each event, as
//! types the publishers fill in and the OpenAPI document describes.
//!
//! One type per event, in one place, so the document cannot say one thing
//! while the code sends another: the publishers build these, never loose
//! JSON, and [`EVENTS`] names them for the document. The price is a small
//! struct per event where a `json!` literal would do; the data stays
//! small — an id to re-fetch by and what a live view draws at once.

use contract::{
    Channel, DeliveryId, DeliveryState, EndpointId, ExchangeId, IntegrationMode, LiveEventKind,
    OrderId, OrderStatus, Party, Timestamp, order::LineItem,
};
use platform::live::EventDoc;
use serde::Serialize;
use utoipa::{PartialSchema, ToSchema};

/// `order.created`: what the live views need to draw a new order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderCreatedData {
    pub id: OrderId,
    pub status: OrderStatus,
    pub mode: IntegrationMode,
    /// The customer's name (not their email: the stream is open to read).
    pub customer: String,
    pub total_cents: i64,
    pub created_at: Timestamp,
    pub items: Vec<LineItem>,
}

/// `order.updated`: an order left `pending`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderUpdatedData {
    pub id: OrderId,
    pub status: OrderStatus,
    pub mode: IntegrationMode,
    /// Why, for `rejected` and `backordered`; `null` otherwise.
    pub status_reason: Option<String>,
}

/// `exchange`: a message crossed, as the store's timeline records it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeData {
    pub id: ExchangeId,
    pub channel: Channel,
    /// Who opened the connection.
    pub initiator: Party,
    pub method: String,
    pub url: String,
    /// The answer's status; `null` when there was none.
    pub status: Option<i64>,
    /// Why there was no answer (a refused connection, a timeout).
    pub error: Option<String>,
    pub latency_ms: i64,
    pub started_at: Timestamp,
    /// The orders the message carried.
    pub order_ids: Vec<OrderId>,
    /// For a webhook attempt: its delivery, and which attempt it was.
    pub delivery_id: Option<DeliveryId>,
    pub attempt_no: Option<i64>,
}

/// `delivery.updated`: a webhook delivery moved on.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryUpdatedData {
    pub id: DeliveryId,
    pub state: DeliveryState,
    /// Attempts so far; absent when a redelivery was only queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i64>,
    /// The order it carries; absent for a ping or a queued redelivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
}

/// `endpoint.changed`: a webhook endpoint was added, changed, rotated or
/// removed — re-read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChangedData {
    pub id: EndpointId,
}

/// `mode.changed`: the integration mode new orders take.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModeChangedData {
    pub mode: IntegrationMode,
}

/// The store's events, for the document (`resync` is added by
/// [`platform::live::document`]).
pub const EVENTS: &[EventDoc] = &[
    EventDoc {
        kind: LiveEventKind::OrderCreated,
        meaning: "an order was placed",
        schema: "OrderCreatedData",
    },
    EventDoc {
        kind: LiveEventKind::OrderUpdated,
        meaning: "an order left `pending`",
        schema: "OrderUpdatedData",
    },
    EventDoc {
        kind: LiveEventKind::Exchange,
        meaning: "a message crossed between the services, as the store's timeline records it",
        schema: "ExchangeData",
    },
    EventDoc {
        kind: LiveEventKind::DeliveryUpdated,
        meaning: "a webhook delivery moved on: an attempt, a redelivery",
        schema: "DeliveryUpdatedData",
    },
    EventDoc {
        kind: LiveEventKind::EndpointChanged,
        meaning: "a webhook endpoint was added, changed, rotated or removed",
        schema: "EndpointChangedData",
    },
    EventDoc {
        kind: LiveEventKind::ModeChanged,
        meaning: "the integration mode was switched",
        schema: "ModeChangedData",
    },
    EventDoc {
        kind: LiveEventKind::BurstProgress,
        meaning: "the compare page's burst placed more orders",
        schema: "Burst",
    },
];

/// Adds the events' schemas to the document and lists them on
/// `GET /events`.
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use crate::instruments::burst::Burst;
    let components = api.components.get_or_insert_with(Default::default);
    let mut schemas = vec![
        (OrderCreatedData::name().into(), OrderCreatedData::schema()),
        (OrderUpdatedData::name().into(), OrderUpdatedData::schema()),
        (ExchangeData::name().into(), ExchangeData::schema()),
        (
            DeliveryUpdatedData::name().into(),
            DeliveryUpdatedData::schema(),
        ),
        (
            EndpointChangedData::name().into(),
            EndpointChangedData::schema(),
        ),
        (ModeChangedData::name().into(), ModeChangedData::schema()),
        (Burst::name().into(), Burst::schema()),
    ];
    OrderCreatedData::schemas(&mut schemas);
    ExchangeData::schemas(&mut schemas);
    DeliveryUpdatedData::schemas(&mut schemas);
    Burst::schemas(&mut schemas);
    components.schemas.extend(schemas);
    platform::live::document(api, EVENTS);
}

//! What the inventory's `GET /events` stream sends: the data of each
//! event, as types the publishers fill in and the OpenAPI document
//! describes.
//!
//! One type per event, in one place, so the document cannot say one thing
//! while the code sends another: the publishers build these (or, for the
//! poller and the chaos switch, send the type the API already answers
//! with), never loose JSON, and [`EVENTS`] names them for the document.
//! The price is a small struct per event where a `json!` literal would do.

use contract::VerdictKind;
use contract::inventory::StockLevel;
use contract::{
    CaptureId, Channel, EndpointId, LiveEventKind, LogEntryId, OrderId, Party, Timestamp,
};
use platform::live::EventDoc;
use serde::Serialize;
use utoipa::{PartialSchema, ToSchema};

/// `message`: a message crossed, as the inventory's log records it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageData {
    pub id: LogEntryId,
    /// Who opened the connection.
    pub initiator: Party,
    pub channel: Channel,
    pub method: String,
    pub url: String,
    /// The answer's status; `null` when there was none.
    pub status: Option<u16>,
    /// Why there was no answer (a refused connection, a timeout).
    pub error: Option<String>,
    /// What the inventory made of it, in words (`applied`, `rejected: …`).
    pub verdict: String,
    pub verdict_kind: VerdictKind,
    pub order_id: Option<OrderId>,
    pub latency_ms: i64,
    pub at: Timestamp,
}

/// `stock.changed`: stock moved. After an order, its id; after an order or
/// a restock, the new levels of the SKUs it touched. A void says only
/// which order it undid.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockChangedData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<Vec<StockLevel>>,
}

/// `poller.backoff`: the poller cannot reach the store and waits.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PollerBackoffData {
    pub error: String,
    /// Failed polls in a row.
    pub failures: u32,
    /// How long it waits before the next try.
    pub backoff_ms: u64,
}

/// `subscription.changed`: the inventory (re)subscribed to the store's
/// webhooks.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionChangedData {
    /// Its endpoint at the store.
    pub endpoint_id: EndpointId,
}

/// `inbox.captured`: a capture inbox kept a request. Only which inbox and
/// which capture: the page re-fetches the list, which is the truth.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxCapturedData {
    /// The inbox's name, as in `/inbox/{name}`.
    pub inbox: String,
    pub capture_id: CaptureId,
}

/// The inventory's events, for the document (`resync` is added by
/// [`platform::live::document`]).
pub const EVENTS: &[EventDoc] = &[
    EventDoc {
        kind: LiveEventKind::Message,
        meaning: "a message crossed between the services, as the inventory's log records it",
        schema: "MessageData",
    },
    EventDoc {
        kind: LiveEventKind::StockChanged,
        meaning: "stock moved: an order applied or voided, a restock",
        schema: "StockChangedData",
    },
    EventDoc {
        kind: LiveEventKind::ChaosChanged,
        meaning: "a chaos switch was flipped; data is the switches as `GET /api/chaos` shows them",
        schema: "ChaosSettings",
    },
    EventDoc {
        kind: LiveEventKind::PollerChanged,
        meaning: "the poller was paused, resumed or given another interval",
        schema: "PollerState",
    },
    EventDoc {
        kind: LiveEventKind::PollCompleted,
        meaning: "a poll of the store's feed finished",
        schema: "CycleReport",
    },
    EventDoc {
        kind: LiveEventKind::PollerBackoff,
        meaning: "the poller backs off from a store it cannot reach",
        schema: "PollerBackoffData",
    },
    EventDoc {
        kind: LiveEventKind::SubscriptionChanged,
        meaning: "the inventory subscribed (again) to the store's webhooks",
        schema: "SubscriptionChangedData",
    },
    EventDoc {
        kind: LiveEventKind::InboxCaptured,
        meaning: "a capture inbox (`/inbox/{name}`) kept a request",
        schema: "InboxCapturedData",
    },
];

/// Adds the events' schemas to the document and lists them on
/// `GET /events`.
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use crate::instruments::chaos::ChaosSettings;
    use crate::integration::poller::CycleReport;
    use crate::integration::poller::cursor::PollerState;
    let components = api.components.get_or_insert_with(Default::default);
    let mut schemas = vec![
        (MessageData::name().into(), MessageData::schema()),
        (StockChangedData::name().into(), StockChangedData::schema()),
        (
            PollerBackoffData::name().into(),
            PollerBackoffData::schema(),
        ),
        (
            SubscriptionChangedData::name().into(),
            SubscriptionChangedData::schema(),
        ),
        (
            InboxCapturedData::name().into(),
            InboxCapturedData::schema(),
        ),
        (ChaosSettings::name().into(), ChaosSettings::schema()),
        (PollerState::name().into(), PollerState::schema()),
        (CycleReport::name().into(), CycleReport::schema()),
    ];
    MessageData::schemas(&mut schemas);
    StockChangedData::schemas(&mut schemas);
    SubscriptionChangedData::schemas(&mut schemas);
    InboxCapturedData::schemas(&mut schemas);
    for (name, schema) in schemas {
        // The API's own types may be there already, as the same schema.
        components.schemas.entry(name).or_insert(schema);
    }
    platform::live::document(api, EVENTS);
}

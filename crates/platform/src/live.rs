//! Live events for the web UI: an in-process broadcast hub and the
//! `GET /events` Server-Sent Events stream that relays it.
//!
//! Whenever something a learner should *see* happens — an order placed, a
//! webhook attempt, a poll, a stock change — the code publishes a small
//! [`LiveEvent`]. Every open browser tab receives it and refreshes the part
//! of the page it concerns.
//!
//! Why SSE and not WebSockets: the traffic is one-way (server → browser),
//! SSE is plain HTTP that `curl -N` can watch, and `EventSource` reconnects
//! by itself. Why a lossy broadcast channel: a live view is a convenience,
//! not a record — the database is the record. A tab that falls behind is
//! told to `resync` (re-fetch what it shows) rather than slowing down the
//! code that publishes.
//!
//! What is sent is part of the documented contract: each service lists its
//! events — name and the type of its `data` — for [`document`], which
//! writes them into the `GET /events` operation of the OpenAPI document,
//! and publishes values of those same types. The stream can be bounded
//! ([`EventsQuery`]: a number of events, a number of seconds) so that a
//! tool that reads every answer to its end can read this one too; the
//! browser asks for the endless form.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::header;
use bytes::Bytes;
use contract::LiveEventKind;
use futures_util::{FutureExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};
use utoipa::openapi::{OpenApi, RefOr, Schema};

/// One thing that happened, as the browser receives it: the SSE `event:`
/// name and a JSON `data:` payload.
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    pub kind: LiveEventKind,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<LiveEvent>,
}

impl Default for LiveHub {
    fn default() -> Self {
        LiveHub::new()
    }
}

impl LiveHub {
    pub fn new() -> LiveHub {
        // Enough to absorb a burst of orders between two reads of a tab.
        let (tx, _) = broadcast::channel(1024);
        LiveHub { tx }
    }

    /// Publishes to whoever listens; nobody listening is fine, and costs
    /// nothing: the event is not even serialised.
    pub fn publish(&self, kind: LiveEventKind, data: impl Serialize) {
        if !self.is_watched() {
            return;
        }
        let _ = self.tx.send(LiveEvent::new(kind, data));
    }

    /// Like [`LiveHub::publish`], with the event built only if a page is
    /// open: for the hot paths (an order placed, a webhook attempt), where
    /// building the JSON for nobody would be most of the cost.
    pub fn publish_with<T: Serialize>(&self, kind: LiveEventKind, data: impl FnOnce() -> T) {
        if self.is_watched() {
            self.publish(kind, data());
        }
    }

    /// Whether any browser tab (or test) is listening right now.
    fn is_watched(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// The `GET /events` response: a `text/event-stream` that relays every
    /// published event, with a comment line every 15 s so proxies and the
    /// browser keep the connection open. It ends after `bounds.limit`
    /// events or `bounds.seconds` seconds, whichever comes first; without
    /// either, never.
    pub fn sse_response(&self, bounds: &EventsQuery) -> HttpResponse {
        let limit = bounds.limit.map_or(usize::MAX, |n| n as usize);
        // The end is a frame of its own, after the last event, so the
        // stream closes as soon as that event is sent — not at the next
        // keep-alive.
        let events = BroadcastStream::new(self.subscribe())
            .map(|item| match item {
                Ok(event) => Frame::Bytes(format_event(&event)),
                Err(BroadcastStreamRecvError::Lagged(missed)) => Frame::Bytes(format_event(
                    &LiveEvent::new(LiveEventKind::Resync, ResyncData { missed }),
                )),
            })
            .take(limit)
            .chain(futures_util::stream::once(async { Frame::End }));
        let keepalive = IntervalStream::new(tokio::time::interval(Duration::from_secs(15)))
            .map(|_| Frame::Bytes(Bytes::from_static(b": keep-alive\n\n")));
        let hello = futures_util::stream::once(async {
            // `retry` tells EventSource how soon to reconnect after a drop.
            Frame::Bytes(Bytes::from_static(b"retry: 2000\n: connected\n\n"))
        });
        let deadline = match bounds.seconds {
            Some(s) => tokio::time::sleep(Duration::from_secs(s.into())).boxed(),
            None => futures_util::future::pending().boxed(),
        };
        let stream = hello
            .chain(futures_util::stream::select(events, keepalive).take_until(deadline))
            .take_while(|frame| std::future::ready(matches!(frame, Frame::Bytes(_))))
            .map(|frame| match frame {
                Frame::Bytes(bytes) => Ok::<Bytes, Infallible>(bytes),
                Frame::End => unreachable!("the stream ends before its end frame"),
            });
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/event-stream"))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            // Both UIs show both services' streams side by side (the flow
            // page), so another origin may read this one. It is read-only
            // and carries nothing secret.
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header(("X-Accel-Buffering", "no"))
            .streaming(stream)
    }
}

/// What the stream sends next, or that it is over.
enum Frame {
    Bytes(Bytes),
    End,
}

/// How long `GET /events` lasts: by default, as long as the client stays.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Close the stream after this many events (1 to 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Close the stream after this many seconds (0 to 300), even if fewer
    /// than `limit` events came: `seconds=0` answers at once, with no event.
    #[param(minimum = 0, maximum = 300)]
    pub seconds: Option<u32>,
}

impl EventsQuery {
    /// The bounds as the document states them, or why not.
    pub fn check(&self) -> Result<(), String> {
        if self.limit.is_some_and(|n| !(1..=1000).contains(&n)) {
            return Err("`limit` must be 1 to 1000".into());
        }
        if self.seconds.is_some_and(|s| s > 300) {
            return Err("`seconds` must be 0 to 300".into());
        }
        Ok(())
    }
}

/// `resync`'s data: the page fell behind by this many events.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResyncData {
    /// Events this stream dropped because its reader was too slow.
    pub missed: u64,
}

/// One event a service sends on `GET /events`, for the document: its name,
/// what it means, and the schema of its `data` (a component of the
/// document, by name).
pub struct EventDoc {
    pub kind: LiveEventKind,
    pub meaning: &'static str,
    pub schema: &'static str,
}

/// `resync`, which every service's stream may send.
pub const RESYNC: EventDoc = EventDoc {
    kind: LiveEventKind::Resync,
    meaning: "this stream fell behind and dropped events: re-fetch what the page shows",
    schema: "ResyncData",
};

/// Writes `events` (and `resync`) into the description of `GET /events`
/// and adds `resync`'s schema; the service adds the other schemas under
/// the names listed. The list in the description is generated from the
/// schemas themselves (their fields), so it says what the types say.
pub fn document(api: &mut OpenApi, events: &[EventDoc]) {
    use utoipa::{PartialSchema, ToSchema};
    let components = api.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(ResyncData::name().into(), ResyncData::schema());
    let mut text = String::from(
        "\n\nEach event is an SSE `event:` line (its name) and one `data:` line (a JSON \
         object); between events come comment lines (`: keep-alive`, every 15 s) and, \
         first, `retry:`. The events, and the schema of each one's data:\n",
    );
    for event in events.iter().chain([&RESYNC]) {
        let fields = match components.schemas.get(event.schema) {
            Some(RefOr::T(Schema::Object(object))) => object
                .properties
                .keys()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", "),
            _ => panic!(
                "the schema {} of `{}` is not documented",
                event.schema, event.kind
            ),
        };
        text.push_str(&format!(
            "\n- `{}` — {}. Data: `{}` ({fields}).",
            event.kind, event.meaning, event.schema
        ));
    }
    let operation = api
        .paths
        .paths
        .get_mut("/events")
        .and_then(|item| item.get.as_mut())
        .expect("GET /events is documented");
    operation
        .description
        .get_or_insert_with(String::new)
        .push_str(&text);
}

impl LiveEvent {
    /// An event whose data is `data` serialised.
    pub fn new(kind: LiveEventKind, data: impl Serialize) -> LiveEvent {
        LiveEvent {
            kind,
            data: serde_json::to_value(data).unwrap_or(serde_json::Value::Null),
        }
    }
}

fn format_event(event: &LiveEvent) -> Bytes {
    // JSON never contains a raw newline, so one `data:` line suffices.
    Bytes::from(format!("event: {}\ndata: {}\n\n", event.kind, event.data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_framed_for_event_source() {
        let bytes = format_event(&LiveEvent {
            kind: LiveEventKind::OrderCreated,
            data: serde_json::json!({"id": "ord_1", "note": "a\nb"}),
        });
        assert_eq!(
            &bytes[..],
            b"event: order.created\ndata: {\"id\":\"ord_1\",\"note\":\"a\\nb\"}\n\n"
        );
    }

    #[test]
    fn events_for_nobody_are_not_built() {
        let hub = LiveHub::new();
        hub.publish_with(LiveEventKind::OrderCreated, || -> serde_json::Value {
            panic!("built although nobody listens")
        });
        let mut rx = hub.subscribe();
        hub.publish_with(
            LiveEventKind::OrderCreated,
            || serde_json::json!({"id": "ord_1"}),
        );
        assert_eq!(rx.try_recv().unwrap().data["id"], "ord_1");
    }

    #[tokio::test]
    async fn subscribers_receive_what_is_published() {
        let hub = LiveHub::new();
        let mut rx = hub.subscribe();
        hub.publish(
            LiveEventKind::StockChanged,
            serde_json::json!({"sku": "TEA"}),
        );
        let got = rx.recv().await.unwrap();
        assert_eq!(got.kind, LiveEventKind::StockChanged);
        assert_eq!(got.data["sku"], "TEA");
    }
}

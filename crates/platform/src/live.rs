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

use std::convert::Infallible;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::header;
use bytes::Bytes;
use contract::LiveEventKind;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};

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
        let data = serde_json::to_value(data).unwrap_or(serde_json::Value::Null);
        let _ = self.tx.send(LiveEvent { kind, data });
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
    /// browser keep the connection open.
    pub fn sse_response(&self) -> HttpResponse {
        let events = BroadcastStream::new(self.subscribe()).map(|item| match item {
            Ok(event) => Ok::<Bytes, Infallible>(format_event(&event)),
            Err(BroadcastStreamRecvError::Lagged(n)) => Ok(format_event(&LiveEvent {
                kind: LiveEventKind::Resync,
                data: serde_json::json!({ "missed": n }),
            })),
        });
        let keepalive = IntervalStream::new(tokio::time::interval(Duration::from_secs(15)))
            .map(|_| Ok::<Bytes, Infallible>(Bytes::from_static(b": keep-alive\n\n")));
        let hello = futures_util::stream::once(async {
            // `retry` tells EventSource how soon to reconnect after a drop.
            Ok::<Bytes, Infallible>(Bytes::from_static(b"retry: 2000\n: connected\n\n"))
        });
        let stream = hello.chain(futures_util::stream::select(events, keepalive));
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

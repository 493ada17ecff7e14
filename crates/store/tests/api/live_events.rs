//! `GET /events`: what the stream sends is what the OpenAPI document says
//! it sends — each event's name is listed, and its data fits the schema
//! listed for it — and the bounded form (`limit`, `seconds`) ends.

use std::collections::BTreeSet;
use std::time::Duration;

use platform::testing::TestBackend;
use platform::testing::live::{EventStream, assert_documented};

use crate::helpers::{Receiver, place, register_endpoint, spawn_store};

/// Time allowed for the next event; generous, since nothing here waits on
/// a clock: every event follows a request the test made.
const WITHIN: Duration = Duration::from_secs(20);

#[tokio::test]
async fn every_event_sent_is_documented_and_fits_its_schema() {
    let (store, _clock) = spawn_store(TestBackend::Sqlite).await;
    let document = store.get_json("/openapi.json").await;
    let mut stream = EventStream::open(&store.client, &store.url("/events")).await;

    // mode.changed
    let r = store
        .client
        .put(store.url("/api/integration"))
        .json(&serde_json::json!({"mode": "webhook"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // endpoint.changed; then, for the order: order.created, and its
    // delivery's attempt — exchange and delivery.updated.
    let receiver = Receiver::start(vec![]).await;
    register_endpoint(&store, &receiver.url, serde_json::json!({})).await;
    place(&store, "TEA-SENCHA", 2).await;

    let wanted: BTreeSet<&str> = [
        "mode.changed",
        "endpoint.changed",
        "order.created",
        "exchange",
        "delivery.updated",
    ]
    .into();
    let mut seen = BTreeSet::new();
    while !wanted.iter().all(|w| seen.contains(*w)) {
        let (name, data) = stream.next(WITHIN).await.expect("the stream goes on");
        assert_documented(&document, store::live::EVENTS, &name, &data);
        seen.insert(name);
    }
    store.stop().await;
}

#[tokio::test]
async fn the_bounded_stream_ends_and_bad_bounds_are_problems() {
    let (store, _clock) = spawn_store(TestBackend::Sqlite).await;

    // `seconds=0`: the stream opens and closes with no event.
    let mut stream = EventStream::open(&store.client, &store.url("/events?seconds=0")).await;
    assert_eq!(stream.next(WITHIN).await, None);

    // `limit=1`: it ends after the first event.
    let mut stream = EventStream::open(&store.client, &store.url("/events?limit=1")).await;
    place(&store, "TEA-SENCHA", 1).await;
    let (name, _) = stream.next(WITHIN).await.expect("one event");
    assert_eq!(name, "order.created");
    assert_eq!(stream.next(WITHIN).await, None);

    for bad in [
        "limit=0",
        "limit=1001",
        "seconds=301",
        "seconds=-1",
        "limit=x",
    ] {
        let r = store
            .client
            .get(store.url(&format!("/events?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{bad}"
        );
    }
    store.stop().await;
}

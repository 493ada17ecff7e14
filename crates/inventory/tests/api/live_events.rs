//! `GET /events`: what the inventory's stream sends is what its OpenAPI
//! document says it sends — each event's name is listed, and its data
//! fits the schema listed for it.

use std::collections::BTreeSet;
use std::time::Duration;

use platform::testing::TestBackend;
use platform::testing::live::{EventStream, assert_documented};

use crate::helpers::{KEY, request, spawn_inventory, update_inventory};

/// Time allowed for the next event; every event follows a request the test
/// made.
const WITHIN: Duration = Duration::from_secs(20);

#[tokio::test]
async fn every_event_sent_is_documented_and_fits_its_schema() {
    let inv = spawn_inventory(TestBackend::Sqlite).await;
    let document = inv.get_json("/openapi.json").await;
    let mut stream = EventStream::open(&inv.client, &inv.url("/events")).await;

    // An order applied: stock.changed (its id and the new levels), message.
    let body = request("ord_live1", &[("TEA-SENCHA", 1)]);
    let r = update_inventory(&inv, Some(KEY), Some("ord_live1"), &body).await;
    assert_eq!(r.status(), 200);
    // A restock (stock.changed with a level, no order).
    let r = inv
        .client
        .post(inv.url("/api/stock/TEA-SENCHA/restock"))
        .json(&serde_json::json!({"quantity": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // chaos.changed and poller.changed.
    let r = inv
        .client
        .put(inv.url("/api/chaos"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = inv
        .client
        .put(inv.url("/api/poller"))
        .json(&serde_json::json!({"paused": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // inbox.captured.
    let r = inv
        .client
        .post(inv.url("/inbox/live-test"))
        .json(&serde_json::json!({"hello": "inbox"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let wanted: BTreeSet<&str> = [
        "message",
        "stock.changed",
        "chaos.changed",
        "poller.changed",
        "inbox.captured",
    ]
    .into();
    let mut seen = BTreeSet::new();
    let mut restocked = false;
    while !(wanted.iter().all(|w| seen.contains(*w)) && restocked) {
        let (name, data) = stream.next(WITHIN).await.expect("the stream goes on");
        assert_documented(&document, inventory::live::EVENTS, &name, &data);
        restocked |= name == "stock.changed" && data.get("order_id").is_none();
        seen.insert(name);
    }
    inv.stop().await;
}

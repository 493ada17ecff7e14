//! Hybrid mode's thin `order.notice`: verified like any webhook, then the
//! order it names fetched from the store (here a scripted one) and applied.

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

/// The thin notice for `order_id`, as the store sends it.
fn notice(order_id: &str) -> String {
    serde_json::json!({
        "type": "order.notice",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "data": {"order_id": order_id}
    })
    .to_string()
}

/// The order as the store's `GET /api/orders/{id}` shows it (with its
/// timeline, which the fetch reads past).
fn stored_order(order_id: &str, status: &str) -> serde_json::Value {
    let mut order = order_event(order_id, "TEA-SENCHA", 2)["data"].clone();
    order["mode"] = "hybrid".into();
    order["status"] = status.into();
    order["timeline"] = serde_json::json!([]);
    order
}

async fn inventory_reading(
    store: &MockServer,
    backend: platform::testing::TestBackend,
) -> inventory::testing::TestInventory {
    let url = store.uri();
    inventory::testing::TestInventory::spawn(
        platform::testing::TestDatabase::create(backend).await,
        move |c| {
            c.store_url = url;
        },
    )
    .await
}

platform::db_test!(async fn a_notice_is_verified_then_its_order_fetched_with_the_key_and_applied(backend) {
    let store = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/orders/ord_n1"))
        .and(header("authorization", format!("Bearer {}", contract::demo::DEMO_STORE_API_KEY).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(stored_order("ord_n1", "pending")))
        .expect(1)
        .mount(&store)
        .await;
    let inv = inventory_reading(&store, backend).await;
    let secret = install_secret(&inv).await;
    let r = send_webhook(&inv, &secret, "msg_n1", now_s(), notice("ord_n1").as_bytes(), "application/json").await;
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer, serde_json::json!({"webhook_id": "msg_n1", "duplicate": false, "order_id": "ord_n1", "outcome": "applied"}));
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 38);
    assert_eq!(inv.outcome_of("ord_n1").await.as_deref(), Some("applied"));
    // The log files the notice and the fetch under hybrid's words.
    let fetches = inv.get_json("/api/messages?channel=fetch").await;
    assert_eq!(fetches[0]["order_id"], "ord_n1");
    assert_eq!(fetches[0]["initiator"], "inventory");
    let notices = inv.get_json("/api/messages?channel=notify").await;
    assert_eq!(notices[0]["verdict"], "applied");

    // The same notice again is a duplicate: nothing moves twice.
    let again = send_webhook(&inv, &secret, "msg_n1", now_s(), notice("ord_n1").as_bytes(), "application/json").await;
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["duplicate"], true);
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 38);
});

platform::db_test!(async fn a_notice_whose_order_cannot_be_fetched_is_a_502_and_changes_nothing(backend) {
    let store = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/orders/ord_n2"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&store)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/orders/ord_n2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(stored_order("ord_n2", "pending")))
        .with_priority(2)
        .mount(&store)
        .await;
    let inv = inventory_reading(&store, backend).await;
    let secret = install_secret(&inv).await;
    let r = send_webhook(&inv, &secret, "msg_n2", now_s(), notice("ord_n2").as_bytes(), "application/json").await;
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    assert_eq!(inv.outcome_of("ord_n2").await, None);
    let fetches = inv.get_json("/api/messages?channel=fetch").await;
    assert!(fetches[0]["verdict"].as_str().unwrap().starts_with("failed"), "{fetches}");

    // The store retries the notice (the same webhook-id): now it lands.
    let r = send_webhook(&inv, &secret, "msg_n2", now_s(), notice("ord_n2").as_bytes(), "application/json").await;
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!((answer["duplicate"].clone(), answer["outcome"].clone()), (false.into(), "applied".into()));
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 38);
});

platform::db_test!(async fn dropping_webhooks_answers_200_and_applies_nothing(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = install_secret(&inv).await;
    inv.set_chaos(serde_json::json!({"drop_webhooks": true})).await;
    let body = order_event("ord_n3", "TEA-SENCHA", 1).to_string();
    let r = send_webhook(&inv, &secret, "msg_n3", now_s(), body.as_bytes(), "application/json").await;
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert!(answer["outcome"].is_null(), "{answer}");
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    assert_eq!(inv.outcome_of("ord_n3").await, None);
    let logged = inv.get_json("/api/messages?channel=webhook").await;
    assert!(logged[0]["verdict"].as_str().unwrap().contains("dropped"), "{logged}");
});

//! `POST /webhooks/store`: verify, deduplicate, apply once.

use crate::helpers::*;

async fn ack(r: reqwest::Response) -> serde_json::Value {
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

platform::db_test!(async fn a_signed_order_is_applied_and_acknowledged(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = install_secret(&inv).await;
    let body = order_event("ord_w1", "TEA-SENCHA", 3).to_string();
    let a = ack(send_webhook(&inv, &secret, "msg_1", now_s(), body.as_bytes(), "application/json").await).await;
    assert_eq!(a, serde_json::json!({"webhook_id": "msg_1", "duplicate": false, "order_id": "ord_w1", "outcome": "applied"}));
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 37);
});

platform::db_test!(async fn the_same_message_twice_moves_stock_once(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = install_secret(&inv).await;
    let body = order_event("ord_w2", "MUG-BLUE", 2).to_string();
    ack(send_webhook(&inv, &secret, "msg_2", now_s(), body.as_bytes(), "application/json").await).await;
    // A retry: same id, fresh timestamp and signature.
    let again = ack(send_webhook(&inv, &secret, "msg_2", now_s() + 1, body.as_bytes(), "application/json").await).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["outcome"], "applied");
    // Another message about the same order (a replay, another endpoint).
    let other = ack(send_webhook(&inv, &secret, "msg_3", now_s(), body.as_bytes(), "application/json").await).await;
    assert_eq!(other["duplicate"], false);
    assert_eq!(other["outcome"], "applied");
    assert_eq!(inv.on_hand("MUG-BLUE").await, 23);
});

platform::db_test!(async fn bad_signatures_and_stale_timestamps_are_refused_and_change_nothing(backend) {
    let clock = platform::ManualClock::new();
    let inv = spawn_inventory_with_clock(backend, &clock).await;
    let secret = install_secret(&inv).await;
    let body = order_event("ord_bad", "TEA-SENCHA", 1).to_string();
    let now = platform::Clock::now(&clock).unix_seconds();

    // Wrong secret.
    let r = send_webhook(&inv, &contract::signing::WebhookSecret::generate(), "msg_a", now, body.as_bytes(), "application/json").await;
    assert_eq!(r.status(), 401);
    // Tampered body: signed one thing, sent another.
    let r = inv
        .client
        .post(inv.url("/webhooks/store"))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_b")
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", secret.sign("msg_b", now, body.as_bytes()))
        .body(body.replace("\"quantity\":1", "\"quantity\":9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Stale and future timestamps (beyond ±5 minutes).
    assert_eq!(send_webhook(&inv, &secret, "msg_c", now - 301, body.as_bytes(), "application/json").await.status(), 400);
    assert_eq!(send_webhook(&inv, &secret, "msg_d", now + 301, body.as_bytes(), "application/json").await.status(), 400);
    // Missing headers.
    let r = inv.client.post(inv.url("/webhooks/store")).header("content-type", "application/json").body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("webhook-id"), "{p}");
    // Chaos "reject signatures" refuses even a good one.
    inv.set_chaos(serde_json::json!({"reject_signatures": true})).await;
    assert_eq!(send_webhook(&inv, &secret, "msg_e", now, body.as_bytes(), "application/json").await.status(), 401);
    inv.set_chaos(serde_json::json!({})).await;

    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    assert_eq!(applied_count(&inv).await, 0);
    // None of the refused ids was remembered: the real message still counts.
    let a = ack(send_webhook(&inv, &secret, "msg_a", now, body.as_bytes(), "application/json").await).await;
    assert_eq!(a["duplicate"], false);
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 39);
    // And the log says why each was refused.
    let log: serde_json::Value = inv.client.get(inv.url("/api/messages?channel=webhook")).send().await.unwrap().json().await.unwrap();
    let verdicts: Vec<String> = log.as_array().unwrap().iter().map(|m| m["verdict"].as_str().unwrap().to_owned()).collect();
    assert!(verdicts.contains(&"refused: bad signature".to_owned()), "{verdicts:?}");
    assert!(verdicts.contains(&"refused: stale timestamp".to_owned()), "{verdicts:?}");
    assert!(verdicts.contains(&"refused: missing webhook-id".to_owned()), "{verdicts:?}");
});

platform::db_test!(async fn a_short_push_is_backordered_not_refused(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = install_secret(&inv).await;
    let body = order_event("ord_short", "TEA-MATCHA", 6).to_string();
    let a = ack(send_webhook(&inv, &secret, "msg_s", now_s(), body.as_bytes(), "application/json").await).await;
    assert_eq!(a["outcome"], "backordered");
    assert_eq!(inv.on_hand("TEA-MATCHA").await, 5);
});

platform::db_test!(async fn xml_webhooks_are_verified_over_their_bytes(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = install_secret(&inv).await;
    let event: contract::events::OrderCreated = serde_json::from_value(order_event("ord_xmlw", "KETTLE-GOOSE", 2)).unwrap();
    let xml = contract::xml::to_string("event", &event).unwrap();
    let a = ack(send_webhook(&inv, &secret, "msg_x", now_s(), xml.as_bytes(), "application/xml").await).await;
    assert_eq!(a["outcome"], "applied");
    assert_eq!(inv.on_hand("KETTLE-GOOSE").await, 6);
    // Signed garbage is still garbage: a clear 400 after verification.
    let r = send_webhook(&inv, &secret, "msg_y", now_s(), b"<event><type>", "application/xml").await;
    assert_eq!(r.status(), 400);
});

platform::db_test!(async fn pings_and_unknown_types_are_acknowledged(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = install_secret(&inv).await;
    let ping = serde_json::json!({"type": "ping", "timestamp": "2026-01-01T00:00:00.000Z", "data": {"endpoint_id": "whe_1", "message": "hi"}}).to_string();
    let a = ack(send_webhook(&inv, &secret, "msg_p", now_s(), ping.as_bytes(), "application/json").await).await;
    assert_eq!(a["duplicate"], false);
    assert!(a.get("outcome").is_none());
    let other = serde_json::json!({"type": "order.shipped", "timestamp": "2026-01-01T00:00:00.000Z", "data": {}}).to_string();
    ack(send_webhook(&inv, &secret, "msg_o", now_s(), other.as_bytes(), "application/json").await).await;
});

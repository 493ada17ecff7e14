//! Issue #17 ("small ones"), the inventory's side: a JSON body that names
//! a member twice is refused at every door and changes nothing (F-6).

use crate::helpers::*;

const TOKEN: &str = "operator-t0ken-for-tests";

/// Sends `body` exactly as written (a JSON library would never write a
/// member twice).
async fn send_raw(
    inv: &TestInventory,
    method: reqwest::Method,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut r = inv
        .client
        .request(method, inv.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        r = r.header(*name, *value);
    }
    r.send().await.unwrap()
}

/// A `400` problem that names the repeated member.
async fn assert_repeat_refused(r: reqwest::Response, member: &str, door: &str) {
    assert_eq!(r.status(), 400, "{door}");
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "{door}"
    );
    let problem: serde_json::Value = r.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("\"{member}\" appears twice")),
        "{door}: {problem}"
    );
}

async fn key_count(inv: &TestInventory) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(inv.state.db.pool())
        .await
        .unwrap()
}

async fn inbox_count(inv: &TestInventory) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_inbox")
        .fetch_one(inv.state.db.pool())
        .await
        .unwrap()
}

// F-6: the store's two ways in. `"quantity": 1, "quantity": 3` took 3.
platform::db_test!(async fn an_order_that_names_a_member_twice_is_refused_and_takes_no_stock(backend) {
    let inv = spawn_inventory(backend).await;
    use reqwest::Method;
    let bearer = format!("Bearer {KEY}");
    for (order, body, member) in [
        ("ord_d1", r#"{"order_id": "ord_d1", "items": [{"sku": "TEA-SENCHA", "quantity": 1, "quantity": 3}]}"#, "quantity"),
        ("ord_d2", r#"{"order_id": "ord_d2", "items": [{"sku": "TEA-SENCHA", "quantity": 1}], "order_id": "ord_d2"}"#, "order_id"),
        ("ord_d3", r#"{"order_id": "ord_d3", "items": [{"sku": "TEA-SENCHA", "\u0071uantity": 1, "quantity": 3}]}"#, "quantity"),
    ] {
        let r = send_raw(&inv, Method::POST, "/update_inventory", body, &[("authorization", &bearer), ("idempotency-key", order)]).await;
        assert_repeat_refused(r, member, body).await;
        assert_eq!(inv.outcome_of(order).await, None, "{order}: nothing stored");
    }
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    assert_eq!(applied_count(&inv).await, 0);

    // A signed webhook: verified, then refused unread, and not noted as
    // received (so the store's retry of a corrected body is not a "duplicate").
    let secret = install_secret(&inv).await;
    let event = order_event("ord_w1", "TEA-SENCHA", 1).to_string();
    let doubled = event.replacen("\"quantity\":1", "\"quantity\":1,\"quantity\":3", 1);
    assert_ne!(doubled, event);
    let r = send_webhook(&inv, &secret, "msg_d1", now_s(), doubled.as_bytes(), "application/json").await;
    assert_repeat_refused(r, "quantity", "POST /webhooks/store").await;
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    assert_eq!(inbox_count(&inv).await, 0);
    assert_eq!(applied_count(&inv).await, 0);
});

// F-6: the operator's doors. A restock of `5, 5000` added 5000.
platform::db_test!(async fn every_management_door_refuses_a_repeated_member_and_changes_nothing(backend) {
    let inv = spawn_inventory(backend).await;
    use reqwest::Method;
    let r = send_raw(&inv, Method::POST, "/api/stock/TEA-SENCHA/restock", r#"{"quantity": 5, "quantity": 5000}"#, &[]).await;
    assert_repeat_refused(r, "quantity", "restock").await;
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);

    let keys = key_count(&inv).await;
    let r = send_raw(&inv, Method::POST, "/api/keys", r#"{"label": "ci", "label": "prod"}"#, &[]).await;
    assert_repeat_refused(r, "label", "POST /api/keys").await;
    assert_eq!(key_count(&inv).await, keys);

    let before = inv.get_json("/api/poller").await;
    let r = send_raw(&inv, Method::PUT, "/api/poller", r#"{"paused": false, "interval_ms": 1000, "paused": true}"#, &[]).await;
    assert_repeat_refused(r, "paused", "PUT /api/poller").await;
    assert_eq!(inv.get_json("/api/poller").await, before);

    let r = send_raw(&inv, Method::PUT, "/api/chaos", r#"{"down": false, "down": true}"#, &[]).await;
    assert_repeat_refused(r, "down", "PUT /api/chaos").await;
    assert_eq!(inv.get_json("/api/chaos").await["down"], false);
});

// F-6, with an operator token: the repeat is found only once the caller
// is known (`401` first, as for any other broken body).
platform::db_test!(async fn a_repeated_member_is_read_only_after_the_caller_is_known(backend) {
    let inv = TestInventory::spawn(platform::testing::TestDatabase::create(backend).await, |c| {
        c.admin_token = Some(TOKEN.to_owned().into());
    })
    .await;
    use reqwest::Method;
    let body = r#"{"quantity": 5, "quantity": 5000}"#;
    let r = send_raw(&inv, Method::POST, "/api/stock/TEA-SENCHA/restock", body, &[]).await;
    assert_eq!(r.status(), 401);
    let bearer = format!("Bearer {TOKEN}");
    let r = send_raw(&inv, Method::POST, "/api/stock/TEA-SENCHA/restock", body, &[("authorization", &bearer)]).await;
    assert_repeat_refused(r, "quantity", "restock").await;
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
});

//! Inputs every door reads the same way, the inventory's side: a JSON body
//! that names a member twice is refused at every door and changes nothing
//! (an ambiguous body must not mean one thing here and another there); an
//! XML document type declaration is refused, not ignored (it is how XML
//! reads files and expands entities); the one rule for text a person types
//! and others read holds for key labels.

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
        .fetch_one(inv.state.ctx.db.pool())
        .await
        .unwrap()
}

async fn inbox_count(inv: &TestInventory) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_inbox")
        .fetch_one(inv.state.ctx.db.pool())
        .await
        .unwrap()
}

// A member named twice, at the store's two ways in: `"quantity": 1,
// "quantity": 3` used to take 3.
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

// A member named twice, at the operator's doors: a restock of `5, 5000`
// used to add 5000.
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

// A member named twice, with an operator token: the repeat is found only
// once the caller is known (`401` first, as for any other broken body).
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

async fn send_xml(inv: &TestInventory, order_id: &str, xml: &str) -> reqwest::Response {
    inv.client
        .post(inv.url("/update_inventory"))
        .bearer_auth(KEY)
        .header("Idempotency-Key", order_id)
        .header("content-type", "application/xml")
        .body(xml.to_owned())
        .send()
        .await
        .unwrap()
}

/// A `400` problem that says what was refused.
async fn assert_markup_refused(r: reqwest::Response, what: &str, door: &str) {
    assert_eq!(r.status(), 400, "{door}");
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "{door}"
    );
    let problem: serde_json::Value = r.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(what), "{door}: {problem}");
}

// A DOCTYPE (here declaring an external entity) used to be skipped and the
// order applied as if it were not there.
platform::db_test!(async fn an_xml_document_type_declaration_is_refused_and_takes_no_stock(backend) {
    let inv = spawn_inventory(backend).await;
    let request = |id: &str| format!(
        "<update_inventory><order_id>{id}</order_id><items><sku>TEA-SENCHA</sku><quantity>2</quantity></items></update_inventory>"
    );
    let doctype = r#"<?xml version="1.0"?><!DOCTYPE update_inventory [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>"#;
    let r = send_xml(&inv, "ord_x1", &format!("{doctype}{}", request("ord_x1"))).await;
    assert_markup_refused(r, "<!DOCTYPE", "/update_inventory").await;
    let stylesheet = r#"<?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?>"#;
    let r = send_xml(&inv, "ord_x2", &format!("{stylesheet}{}", request("ord_x2"))).await;
    assert_markup_refused(r, "processing instruction", "/update_inventory").await;
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    assert_eq!(applied_count(&inv).await, 0);

    // The webhook receiver (an endpoint that chose XML), after the
    // signature verified.
    let secret = install_secret(&inv).await;
    let event = "<event><type>order.created</type><timestamp>2026-01-01T00:00:00.000Z</timestamp><data>\
        <id>ord_x3</id><status>pending</status><mode>webhook</mode><customer><name>Ada</name><email>ada@example.com</email></customer>\
        <items><sku>TEA-SENCHA</sku><name>x</name><quantity>2</quantity><unit_price_cents>100</unit_price_cents><line_total_cents>200</line_total_cents></items>\
        <total_cents>200</total_cents><created_at>2026-01-01T00:00:00.000Z</created_at></data></event>";
    let doctyped = format!("<!DOCTYPE event SYSTEM \"http://127.0.0.1:9/e.dtd\">{event}");
    let r = send_webhook(&inv, &secret, "msg_x3", now_s(), doctyped.as_bytes(), "application/xml").await;
    assert_markup_refused(r, "<!DOCTYPE", "/webhooks/store").await;
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    assert_eq!(inbox_count(&inv).await, 0);
    // Without it, the same documents are taken.
    assert_eq!(send_xml(&inv, "ord_x1", &request("ord_x1")).await.status(), 200);
    let r = send_webhook(&inv, &secret, "msg_x3", now_s(), event.as_bytes(), "application/xml").await;
    assert_eq!(r.status(), 200);
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 36);
});

// Bidi overrides and isolates used to pass in an API key's label.
platform::db_test!(async fn an_api_key_s_label_refuses_invisible_characters(backend) {
    let inv = spawn_inventory(backend).await;
    let keys = key_count(&inv).await;
    for (label, code) in [
        ("ci \u{202E}dorp", "U+202E"),
        ("ci \u{2067}x\u{2069}", "U+2067"),
        ("ci\u{200B}", "U+200B"),
        ("\u{FEFF}ci", "U+FEFF"),
    ] {
        let r = inv.client.post(inv.url("/api/keys")).json(&serde_json::json!({"label": label})).send().await.unwrap();
        assert_eq!(r.status(), 422, "{label:?}");
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "label", "{problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("a label cannot contain {code}, ")), "{message}");
    }
    assert_eq!(key_count(&inv).await, keys, "no key was created");
    let r = inv.client.post(inv.url("/api/keys")).json(&serde_json::json!({"label": "staging — 東京"})).send().await.unwrap();
    assert_eq!(r.status(), 201);
});

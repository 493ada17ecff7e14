//! The inventory's doors hold: one validation of an order at every
//! door (and nothing stored, no order id burnt, when it fails), bounded
//! `webhook-id`s and requests, the caller authenticated before the body is
//! read, and with `ADMIN_TOKEN` management needs the operator.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

const TOKEN: &str = "operator-t0ken-for-tests";

async fn problem(r: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(r.status(), status);
    r.json().await.unwrap()
}

fn fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

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

// Regression: `/update_inventory` summed duplicate SKU lines (the store
// refused them), and took the store's rules for quantities differently.
platform::db_test!(async fn update_inventory_holds_an_order_to_the_contract_s_rules(backend) {
    let inv = spawn_inventory(backend).await;
    let twice = request("ord_dup", &[("TEA-SENCHA", 1), ("tea-sencha", 2)]);
    let p = problem(update_inventory(&inv, Some(KEY), Some("ord_dup"), &twice).await, 422).await;
    assert_eq!(fields(&p), vec!["items[1].sku"], "{p}");
    let text = serde_json::json!({"order_id": "ord_txt", "items": [{"sku": "TEA-SENCHA", "quantity": "2"}]});
    let p = problem(update_inventory(&inv, Some(KEY), Some("ord_txt"), &text).await, 422).await;
    assert_eq!(fields(&p), vec!["items[0].quantity"], "{p}");
    let many: Vec<(&str, i64)> = vec![("TEA-SENCHA", 1); 21];
    let many = serde_json::json!({"order_id": "ord_many", "items": many.iter().enumerate().map(|(i, _)| serde_json::json!({"sku": format!("SKU-{i}"), "quantity": 1})).collect::<Vec<_>>()});
    let p = problem(update_inventory(&inv, Some(KEY), Some("ord_many"), &many).await, 422).await;
    assert_eq!(fields(&p), vec!["items"], "{p}");
    // XML says the same (its quantities are text, and that is fine there).
    let xml = "<update_inventory><order_id>ord_x1</order_id><items><sku>TEA-SENCHA</sku><quantity>1</quantity></items><items><sku>TEA-SENCHA</sku><quantity>2</quantity></items></update_inventory>";
    let p = problem(send_xml(&inv, "ord_x1", xml).await, 422).await;
    assert_eq!(fields(&p), vec!["items[1].sku"], "{p}");
    let xml = "<update_inventory><order_id>ord_x2</order_id><items><sku>TEA-SENCHA</sku><quantity>2</quantity></items></update_inventory>";
    assert_eq!(send_xml(&inv, "ord_x2", xml).await.status(), 200);
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 38);
    assert_eq!(applied_count(&inv).await, 1, "nothing but the valid one was stored");
});

// Regression: an unknown SKU answered 409 and stored a `rejected` result,
// so that order id could never succeed.
platform::db_test!(async fn a_refused_request_burns_no_order_id(backend) {
    let inv = spawn_inventory(backend).await;
    let unknown = request("ord_u1", &[("TEA-NOSUCH", 1)]);
    let p = problem(update_inventory(&inv, Some(KEY), Some("ord_u1"), &unknown).await, 422).await;
    assert_eq!(fields(&p), vec!["items[0].sku"], "{p}");
    assert_eq!(inv.outcome_of("ord_u1").await, None);
    assert_eq!(applied_count(&inv).await, 0);
    // The same order id, corrected, goes through.
    let fixed = request("ord_u1", &[("TEA-SENCHA", 1)]);
    let r = update_inventory(&inv, Some(KEY), Some("ord_u1"), &fixed).await;
    assert_eq!(r.status(), 200);
    assert_eq!(inv.outcome_of("ord_u1").await.as_deref(), Some("applied"));
});

// Regression: a pushed order is held to the same rules.
platform::db_test!(async fn a_signed_order_that_breaks_the_rules_is_refused_and_changes_nothing(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = install_secret(&inv).await;
    let mut event = order_event("ord_wdup", "TEA-SENCHA", 1);
    let line = event["data"]["items"][0].clone();
    event["data"]["items"].as_array_mut().unwrap().push(line);
    let body = event.to_string();
    let r = send_webhook(&inv, &secret, "msg_dup", now_s(), body.as_bytes(), "application/json").await;
    let p = problem(r, 422).await;
    assert_eq!(fields(&p), vec!["items[1].sku"], "{p}");
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_inbox").fetch_one(inv.state.ctx.db.pool()).await.unwrap();
    assert_eq!(inbox, 0, "a refused message is not remembered");
});

// Regression: an 8 KB `webhook-id` was stored.
platform::db_test!(async fn an_over_long_webhook_id_is_refused_and_never_stored(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = install_secret(&inv).await;
    let body = order_event("ord_long", "TEA-SENCHA", 1).to_string();
    for id in ["m".repeat(8 * 1024), "m".repeat(256), "msg x".to_owned()] {
        let r = send_webhook(&inv, &secret, &id, now_s(), body.as_bytes(), "application/json").await;
        let p = problem(r, 400).await;
        assert!(p["detail"].as_str().unwrap().contains("webhook-id"), "{p}");
    }
    let longest: Option<i64> = sqlx::query_scalar("SELECT MAX(LENGTH(webhook_id)) FROM webhook_inbox")
        .fetch_one(inv.state.ctx.db.pool())
        .await
        .unwrap();
    assert_eq!(longest, None, "nothing was noted");
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
    // 255 visible characters are fine.
    let r = send_webhook(&inv, &secret, &"m".repeat(255), now_s(), body.as_bytes(), "application/json").await;
    assert_eq!(r.status(), 200);
    // And the message log keeps no header longer than it needs to show.
    let log: Vec<String> = sqlx::query_scalar("SELECT request_headers FROM messages")
        .fetch_all(inv.state.ctx.db.pool())
        .await
        .unwrap();
    assert!(log.iter().all(|h| h.len() < 4 * 1024), "{:?}", log.iter().map(String::len).collect::<Vec<_>>());
});

// Regression: a body that never finishes arriving, and a 100 KB header.
platform::db_test!(async fn stalled_bodies_and_huge_headers_get_an_answer(backend) {
    let inv = spawn_inventory(backend).await;
    let r = inv
        .client
        .post(inv.url("/update_inventory"))
        .header("x-padding", "p".repeat(100 * 1024))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);

    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", inv.port)).await.unwrap();
    socket
        .write_all(b"POST /update_inventory HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"order_id\":")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection was left open with no answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
});

// Regression: authenticate before reading the body.
platform::db_test!(async fn the_store_s_calls_are_authenticated_before_they_are_read(backend) {
    let inv = spawn_inventory(backend).await;
    for (path, body) in [("/update_inventory", "{broken"), ("/update_inventory/not-an-id/void", "")] {
        let r = inv.client.post(inv.url(path)).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let r = inv.client.post(inv.url("/update_inventory")).header("content-type", "text/csv").body("a,b").send().await.unwrap();
    assert_eq!(r.status(), 401);
});

fn with_token(c: &mut inventory::InventoryConfig) {
    c.admin_token = Some(TOKEN.to_owned().into());
}

// Regression: chaos, keys, the poller and restocking accepted any caller.
platform::db_test!(async fn with_an_admin_token_management_calls_need_the_operator(backend) {
    let inv = TestInventory::spawn(platform::testing::TestDatabase::create(backend).await, |c| {
        with_token(c);
        // A store that is not there: poll-now fails, but only after the token.
        c.store_url = format!("http://127.0.0.1:{}", platform::testing::free_port());
    })
    .await;
    let created = inv
        .client
        .post(inv.url("/api/keys"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"label": "for a test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let key: serde_json::Value = created.json().await.unwrap();
    let key_id = key["id"].as_str().unwrap();
    use platform::testing::{ManagementCall as Call, assert_operator_only};
    use reqwest::Method;
    let calls = [
        Call::new(Method::PUT, "/api/chaos").with(serde_json::json!({"latency_ms": 1})),
        Call::new(Method::GET, "/api/keys"),
        Call::new(Method::POST, "/api/keys").with(serde_json::json!({"label": "another"})),
        Call::new(Method::PUT, "/api/poller").with(serde_json::json!({"paused": true})),
        Call::new(Method::POST, "/api/stock/TEA-SENCHA/restock").with(serde_json::json!({"quantity": 5})),
        Call::new(Method::DELETE, format!("/api/keys/{key_id}")),
    ];
    for call in &calls {
        // The store's key is for /update_inventory, not for management.
        assert_operator_only(&inv.client, &inv.url(""), call, TOKEN, &[KEY]).await;
    }
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 45);
    let r = inv.client.post(inv.url("/api/poller/poll-now")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = inv.client.post(inv.url("/api/poller/poll-now")).bearer_auth(TOKEN).send().await.unwrap();
    assert_ne!(r.status(), 401);
    // The store's api calls need its key, not the operator.
    let r = update_inventory(&inv, Some(KEY), Some("ord_op"), &request("ord_op", &[("TEA-SENCHA", 1)])).await;
    assert_eq!(r.status(), 200);
});

// Regression: a cross-site form post switched chaos on.
platform::db_test!(async fn a_cross_site_form_post_is_refused_and_changes_nothing(backend) {
    let inv = spawn_inventory(backend).await;
    let r = inv
        .client
        .post(inv.url("/chaos"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("down=on")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let chaos: serde_json::Value = inv.client.get(inv.url("/api/chaos")).send().await.unwrap().json().await.unwrap();
    assert_eq!(chaos["down"], false);
    let r = inv
        .client
        .post(inv.url("/api/stock/TEA-SENCHA/restock"))
        .header("origin", "null")
        .json(&serde_json::json!({"quantity": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
});

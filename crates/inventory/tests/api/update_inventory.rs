//! `POST /update_inventory` and its void.

use crate::helpers::*;

platform::db_test!(async fn without_or_with_a_wrong_key_it_is_401_and_nothing_changes(backend) {
    let inv = spawn_inventory(backend).await;
    let body = request("ord_1", &[("TEA-SENCHA", 2)]);
    for key in [None, Some("wrong-key"), Some("")] {
        let r = update_inventory(&inv, key, Some("ord_1"), &body).await;
        assert_eq!(r.status(), 401, "{key:?}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    // A revoked key stops working.
    let created: serde_json::Value = inv
        .client
        .post(inv.url("/api/keys"))
        .json(&serde_json::json!({"label": "temporary"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let temp = created["key"].as_str().unwrap().to_owned();
    // Accepted at once, and — once the keys are in memory — refused at once.
    let other = request("ord_k", &[("TEA-SENCHA", 1)]);
    assert_eq!(update_inventory(&inv, Some(&temp), Some("ord_k"), &other).await.status(), 200);
    inv.client.delete(inv.url(&format!("/api/keys/{}", created["id"].as_str().unwrap()))).send().await.unwrap();
    assert_eq!(update_inventory(&inv, Some(&temp), Some("ord_1"), &body).await.status(), 401);
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 39);
    assert_eq!(applied_count(&inv).await, 1);
});

// A key revoked by another inventory on the same database stops working
// once this one's copy of the keys is older than KEYS_FRESH_FOR.
platform::db_test!(async fn a_key_revoked_elsewhere_is_refused_once_the_copy_is_stale(backend) {
    let inv = spawn_inventory(backend).await;
    let db = &inv.state.ctx.db;
    let cache = inventory::keys::KeyCache::default();
    let t0 = contract::Timestamp::from_millis(1_000_000);
    assert!(cache.is_valid(db, t0, KEY).await.unwrap());
    sqlx::query("UPDATE api_keys SET revoked_at = 1").execute(db.writer()).await.unwrap();
    let fresh = t0 + std::time::Duration::from_millis(1_999);
    assert!(cache.is_valid(db, fresh, KEY).await.unwrap(), "the copy is still fresh");
    let stale = t0 + inventory::keys::KEYS_FRESH_FOR;
    assert!(!cache.is_valid(db, stale, KEY).await.unwrap());
});

platform::db_test!(async fn a_reservation_is_all_or_nothing_and_answers_with_stock(backend) {
    let inv = spawn_inventory(backend).await;
    let r = update_inventory(&inv, Some(KEY), Some("ord_a"), &request("ord_a", &[("TEA-SENCHA", 3), ("MUG-BLUE", 2)])).await;
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["order_id"], "ord_a");
    assert_eq!(answer["applied"], true);
    assert_eq!(answer["stock"], serde_json::json!([{"sku": "MUG-BLUE", "on_hand": 23}, {"sku": "TEA-SENCHA", "on_hand": 37}]));

    // One line short: 409 with the shortage, and the other line untouched.
    let r = update_inventory(&inv, Some(KEY), Some("ord_b"), &request("ord_b", &[("MUG-BLUE", 1), ("POT-KYUSU", 4)])).await;
    assert_eq!(r.status(), 409);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/out-of-stock");
    assert_eq!(problem["shortages"], serde_json::json!([{"sku": "POT-KYUSU", "requested": 4, "available": 3}]));
    assert_eq!(inv.on_hand("MUG-BLUE").await, 23);
    assert_eq!(inv.on_hand("POT-KYUSU").await, 3);
});

platform::db_test!(async fn a_repeated_key_gets_the_first_answer_and_applies_once(backend) {
    let inv = spawn_inventory(backend).await;
    let body = request("ord_r", &[("TEA-OOLONG", 5)]);
    let first = update_inventory(&inv, Some(KEY), Some("ord_r"), &body).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    let again = update_inventory(&inv, Some(KEY), Some("ord_r"), &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), first);
    assert_eq!(inv.on_hand("TEA-OOLONG").await, 7);

    // A refusal is a first answer too: restocking does not turn a repeat
    // into a reservation the store never heard of.
    let short = request("ord_s", &[("TEA-OOLONG", 10)]);
    assert_eq!(update_inventory(&inv, Some(KEY), Some("ord_s"), &short).await.status(), 409);
    inv.client.post(inv.url("/api/stock/TEA-OOLONG/restock")).json(&serde_json::json!({"quantity": 50})).send().await.unwrap();
    let repeat = update_inventory(&inv, Some(KEY), Some("ord_s"), &short).await;
    assert_eq!(repeat.status(), 409);
    assert_eq!(repeat.headers()["idempotent-replayed"], "true");
    assert_eq!(inv.on_hand("TEA-OOLONG").await, 57);

    // The same order id with different items is a client bug: refused.
    let r = update_inventory(&inv, Some(KEY), Some("ord_r"), &request("ord_r", &[("TEA-OOLONG", 6)])).await;
    assert_eq!(r.status(), 422);
    assert_eq!(inv.on_hand("TEA-OOLONG").await, 57);
});

platform::db_test!(async fn concurrent_repeats_apply_once(backend) {
    let inv = spawn_inventory(backend).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let client = inv.client.clone();
        let url = inv.url("/update_inventory");
        tasks.spawn(async move {
            client
                .post(url)
                .bearer_auth(KEY)
                .header("Idempotency-Key", "ord_c")
                .json(&request("ord_c", &[("TEA-ROOIBOS", 3)]))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(inv.on_hand("TEA-ROOIBOS").await, 27);
});

platform::db_test!(async fn the_idempotency_key_is_required_and_must_be_the_order_id(backend) {
    let inv = spawn_inventory(backend).await;
    let body = request("ord_k", &[("TEA-SENCHA", 1)]);
    let r = update_inventory(&inv, Some(KEY), None, &body).await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<serde_json::Value>().await.unwrap()["detail"].as_str().unwrap().contains("Idempotency-Key"));
    assert_eq!(update_inventory(&inv, Some(KEY), Some("something-else"), &body).await.status(), 400);
    assert_eq!(applied_count(&inv).await, 0);
});

platform::db_test!(async fn bad_bodies_are_clear_4xx_and_change_nothing(backend) {
    let inv = spawn_inventory(backend).await;
    let send = |content_type: &'static str, body: String| {
        let inv = &inv;
        async move {
            inv.client
                .post(inv.url("/update_inventory"))
                .bearer_auth(KEY)
                .header("Idempotency-Key", "ord_x")
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let cases: Vec<(&str, &'static str, String, u16)> = vec![
        ("malformed JSON", "application/json", "{\"order_id\":".into(), 400),
        // Readable but against the rules every door shares: 422, field by field.
        ("zero quantity", "application/json", request("ord_x", &[("TEA-SENCHA", 0)]).to_string(), 422),
        ("negative quantity", "application/json", request("ord_x", &[("TEA-SENCHA", -1)]).to_string(), 422),
        ("bad SKU", "application/json", request("ord_x", &[("<b>", 1)]).to_string(), 422),
        ("empty items", "application/json", request("ord_x", &[]).to_string(), 422),
        ("malformed XML", "application/xml", "<update_inventory><order_id>ord_x".into(), 400),
        ("unsupported type", "text/plain", "order please".into(), 415),
        ("oversized", "application/json", format!("{{\"pad\":\"{}\"}}", "x".repeat(70_000)), 413),
    ];
    for (what, content_type, body, status) in cases {
        let r = send(content_type, body).await;
        assert_eq!(r.status().as_u16(), status, "{what}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(ct, "application/problem+json", "{what}");
        let p: serde_json::Value = r.json().await.unwrap();
        assert!(!p["detail"].as_str().unwrap_or("").is_empty(), "{what}: {p}");
    }
    // An unknown SKU is a mistake in the request, not a shortage: 422, and
    // the order id stays free (see security.rs).
    let r = update_inventory(&inv, Some(KEY), Some("ord_u"), &request("ord_u", &[("NOT-A-SKU", 1)])).await;
    assert_eq!(r.status(), 422);
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 40);
});

platform::db_test!(async fn xml_in_and_xml_out(backend) {
    let inv = spawn_inventory(backend).await;
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<update_inventory><order_id>ord_xml</order_id><items><sku>TEA-SENCHA</sku><quantity>2</quantity></items><items><sku>MUG-WHITE</sku><quantity>1</quantity></items></update_inventory>"#;
    let r = inv
        .client
        .post(inv.url("/update_inventory"))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "ord_xml")
        .header("content-type", "application/xml")
        .header("accept", "application/xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/xml");
    let answer: contract::inventory::UpdateInventoryResponse = contract::xml::from_str(&r.text().await.unwrap()).unwrap();
    assert!(answer.applied);
    assert_eq!(answer.order_id.as_str(), "ord_xml");
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 38);
    assert_eq!(inv.on_hand("MUG-WHITE").await, 24);

    // A JSON repeat of the XML request gets the same answer, in JSON.
    let r = update_inventory(&inv, Some(KEY), Some("ord_xml"), &request("ord_xml", &[("TEA-SENCHA", 2), ("MUG-WHITE", 1)])).await;
    assert_eq!(r.status(), 200);
    let json: contract::inventory::UpdateInventoryResponse = r.json().await.unwrap();
    assert_eq!(json, answer);

    // Errors follow the asked-for format too.
    let r = inv
        .client
        .post(inv.url("/update_inventory"))
        .header("accept", "application/xml")
        .header("content-type", "application/xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+xml");
    assert!(r.text().await.unwrap().contains("<status>401</status>"));
});

platform::db_test!(async fn a_void_puts_stock_back_and_refuses_late_copies(backend) {
    let inv = spawn_inventory(backend).await;
    let void = |id: &'static str| {
        let inv = &inv;
        async move {
            inv.client
                .post(inv.url(&format!("/update_inventory/{id}/void")))
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap()
        }
    };
    // Applied, then voided: the stock comes back, once.
    update_inventory(&inv, Some(KEY), Some("ord_v"), &request("ord_v", &[("TIN-CADDY", 4)])).await;
    assert_eq!(inv.on_hand("TIN-CADDY").await, 16);
    let r = void("ord_v").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["restored"], true);
    assert_eq!(inv.on_hand("TIN-CADDY").await, 20);
    assert_eq!(void("ord_v").await.json::<serde_json::Value>().await.unwrap()["restored"], false);
    assert_eq!(inv.on_hand("TIN-CADDY").await, 20);

    // Voided before it arrived: the late request is refused.
    let r = void("ord_late").await;
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["tombstone"], true);
    let r = update_inventory(&inv, Some(KEY), Some("ord_late"), &request("ord_late", &[("TIN-CADDY", 1)])).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["type"], "/problems/order-voided");
    assert_eq!(inv.on_hand("TIN-CADDY").await, 20);

    // Voids need the key too.
    let r = inv.client.post(inv.url("/update_inventory/ord_v/void")).send().await.unwrap();
    assert_eq!(r.status(), 401);
});

platform::db_test!(async fn chaos_makes_the_endpoint_fail_on_demand(backend) {
    let inv = spawn_inventory(backend).await;
    inv.set_chaos(serde_json::json!({"down": true})).await;
    let r = update_inventory(&inv, Some(KEY), Some("ord_1"), &request("ord_1", &[("TEA-SENCHA", 1)])).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    inv.set_chaos(serde_json::json!({"fail_next": 2})).await;
    for _ in 0..2 {
        let r = update_inventory(&inv, Some(KEY), Some("ord_1"), &request("ord_1", &[("TEA-SENCHA", 1)])).await;
        assert_eq!(r.status(), 500);
    }
    let r = update_inventory(&inv, Some(KEY), Some("ord_1"), &request("ord_1", &[("TEA-SENCHA", 1)])).await;
    assert_eq!(r.status(), 200);
    assert_eq!(inv.on_hand("TEA-SENCHA").await, 39);
    // Each call is in the message log with its verdict.
    let log: serde_json::Value = inv.client.get(inv.url("/api/messages?channel=api")).send().await.unwrap().json().await.unwrap();
    let verdicts: Vec<&str> = log.as_array().unwrap().iter().map(|m| m["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts[0], "applied");
    assert!(verdicts[1].starts_with("refused"));
    assert_eq!(verdicts.len(), 4);
});

// Regression: the stock page's "Taken (24 h)" counted an order the store
// voided, although the void had put its units back.
platform::db_test!(async fn a_voided_order_is_not_counted_as_taken(backend) {
    let inv = spawn_inventory(backend).await;
    let taken = |sku: &'static str| {
        let inv = &inv;
        async move {
            let stock: serde_json::Value = inv.client.get(inv.url("/api/stock")).send().await.unwrap().json().await.unwrap();
            stock.as_array().unwrap().iter().find(|s| s["sku"] == sku).unwrap()["taken_24h"].as_i64().unwrap()
        }
    };
    update_inventory(&inv, Some(KEY), Some("ord_kept"), &request("ord_kept", &[("TIN-CADDY", 1)])).await;
    update_inventory(&inv, Some(KEY), Some("ord_gone"), &request("ord_gone", &[("TIN-CADDY", 4)])).await;
    assert_eq!(taken("TIN-CADDY").await, 5);
    let r = inv
        .client
        .post(inv.url("/update_inventory/ord_gone/void"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(taken("TIN-CADDY").await, 1);
});

//! api mode end to end: the store calls `/update_inventory` while the
//! customer waits.

use std::time::Duration;

use sqlx::Row;

use crate::helpers::*;

platform::db_test!(async fn an_api_order_moves_stock_and_is_confirmed(backend) {
    let sys = spawn_system(backend, Options::default()).await;
    sys.inventory().set_on_hand("TEA-SENCHA", 10).await;

    let response = sys.store.post_order(&order_body("TEA-SENCHA", 3)).await;
    assert_eq!(response.status(), 201);
    let order: serde_json::Value = response.json().await.unwrap();
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(order["mode"], "api");
    assert_eq!(order["total_cents"], 3 * 1250);
    assert_eq!(sys.inventory().on_hand("TEA-SENCHA").await, 7);

    // The timeline shows the call, made with the order id as the key.
    let detail = sys.store.get_json(&format!("/api/orders/{}", order_id(&order))).await;
    let timeline = detail["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 1, "{detail}");
    assert_eq!(timeline[0]["channel"], "api");
    assert_eq!(timeline[0]["initiator"], "store");
    assert_eq!(timeline[0]["response_status"], 200);
    assert_eq!(timeline[0]["request_headers"]["idempotency-key"], order["id"]);
    assert!(timeline[0]["request_headers"]["authorization"].as_str().unwrap().starts_with("Bearer pp_d…"));
});

platform::db_test!(async fn a_short_order_is_rejected_with_the_reason_and_moves_nothing(backend) {
    let sys = spawn_system(backend, Options::default()).await;
    sys.inventory().set_on_hand("TEA-MATCHA", 2).await;
    sys.inventory().set_on_hand("MUG-BLUE", 5).await;

    let response = sys.store.post_order(&order_body("TEA-MATCHA", 3)).await;
    assert_eq!(response.status(), 201);
    let order: serde_json::Value = response.json().await.unwrap();
    assert_eq!(order["status"], "rejected");
    assert_eq!(order["status_reason"], "Not enough stock: TEA-MATCHA (asked 3, 2 left)");
    assert_eq!(sys.inventory().on_hand("TEA-MATCHA").await, 2);

    // All or nothing across lines: the mug that was available is not taken.
    let both = serde_json::json!({
        "customer": {"name": "A", "email": "a@example.com"},
        "items": [{"sku": "MUG-BLUE", "quantity": 1}, {"sku": "TEA-MATCHA", "quantity": 3}]
    });
    let order: serde_json::Value = sys.store.post_order(&both).await.json().await.unwrap();
    assert_eq!(order["status"], "rejected");
    assert_eq!(sys.inventory().on_hand("MUG-BLUE").await, 5);
    assert_eq!(sys.inventory().on_hand("TEA-MATCHA").await, 2);
});

platform::db_test!(async fn a_repeated_idempotency_key_gives_the_first_answer_and_applies_once(backend) {
    let sys = spawn_system(backend, Options::default()).await;
    sys.inventory().set_on_hand("TEA-ASSAM", 10).await;
    let send = || async {
        sys.store
            .client
            .post(sys.store.url("/api/orders"))
            .header("Idempotency-Key", "checkout-7f3a")
            .json(&order_body("TEA-ASSAM", 4))
            .send()
            .await
            .unwrap()
    };
    let first = send().await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    let second = send().await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: serde_json::Value = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, 6);
    let orders: i64 = sqlx::query("SELECT COUNT(*) AS n FROM orders")
        .fetch_one(sys.store.state.ctx.db.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(orders, 1);

    // The same key for a different order is refused, and changes nothing.
    let other = sys
        .store
        .client
        .post(sys.store.url("/api/orders"))
        .header("Idempotency-Key", "checkout-7f3a")
        .json(&order_body("TEA-ASSAM", 5))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 422);
    assert_eq!(other.headers()["content-type"], "application/problem+json");
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, 6);
});

platform::db_test!(async fn fifty_concurrent_orders_for_the_last_ten_units_confirm_exactly_ten(backend) {
    let sys = spawn_system(backend, Options::default()).await;
    sys.inventory().set_on_hand("KETTLE-GOOSE", 10).await;

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let client = sys.store.client.clone();
        let url = sys.store.url("/api/orders");
        tasks.spawn(async move {
            let body = serde_json::json!({
                "customer": {"name": format!("Customer {i}"), "email": format!("c{i}@example.com")},
                "items": [{"sku": "KETTLE-GOOSE", "quantity": 1}]
            });
            let r = client.post(url).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 201);
            r.json::<serde_json::Value>().await.unwrap()["status"].as_str().unwrap().to_owned()
        });
    }
    let mut confirmed = 0;
    let mut rejected = 0;
    while let Some(status) = tasks.join_next().await {
        match status.unwrap().as_str() {
            "confirmed" => confirmed += 1,
            "rejected" => rejected += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((confirmed, rejected), (10, 40));
    assert_eq!(sys.inventory().on_hand("KETTLE-GOOSE").await, 0);
    // Never negative on the way: every movement left a level >= 0.
    let lowest: i64 = sqlx::query("SELECT MIN(on_hand_after) AS low FROM stock_movements WHERE sku = 'KETTLE-GOOSE'")
        .fetch_one(sys.inventory().state.ctx.db.pool())
        .await
        .unwrap()
        .get("low");
    assert_eq!(lowest, 0);
    let taken: i64 = sqlx::query("SELECT COUNT(*) AS n FROM stock_movements WHERE sku = 'KETTLE-GOOSE' AND reason = 'order'")
        .fetch_one(sys.inventory().state.ctx.db.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(taken, 10);
});

async fn void_state(store: &store::testing::TestStore, order_id: &str) -> Option<String> {
    sqlx::query("SELECT state FROM pending_voids WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(store.state.ctx.db.pool())
        .await
        .unwrap()
        .map(|r| r.get("state"))
}

platform::db_test!(async fn with_the_inventory_down_the_order_is_rejected_and_leaves_no_trace(backend) {
    let mut partial = spawn_store_only(backend, Options::default()).await;

    let response = partial.store.post_order(&order_body("TIN-CADDY", 2)).await;
    assert_eq!(response.status(), 201);
    let order: serde_json::Value = response.json().await.unwrap();
    let id = order_id(&order);
    assert_eq!(order["status"], "rejected");
    let reason = order["status_reason"].as_str().unwrap();
    assert!(reason.contains("did not answer") && reason.contains("could not connect"), "{reason}");
    // Three attempts (the first and two retries), all under the same key.
    let detail = partial.store.get_json(&format!("/api/orders/{id}")).await;
    let calls: Vec<_> = detail["timeline"].as_array().unwrap().iter().filter(|e| e["channel"] == "api").collect();
    assert_eq!(calls.len(), 3, "{detail}");
    assert!(calls.iter().all(|c| c["request_headers"]["idempotency-key"] == id.as_str()));
    assert_eq!(void_state(&partial.store, &id).await.as_deref(), Some("pending"));

    // The inventory comes back; the owed void reaches it on the next try.
    partial.start_inventory().await;
    let inventory = partial.inventory();
    let before = inventory.on_hand("TIN-CADDY").await;
    advance_until(&partial.store_clock, Duration::from_secs(60), "the void is delivered", || async {
        (void_state(&partial.store, &id).await.as_deref() == Some("done")).then_some(())
    })
    .await;
    assert_eq!(inventory.outcome_of(&id).await.as_deref(), Some("voided"));
    assert_eq!(inventory.on_hand("TIN-CADDY").await, before);

    // A late copy of the original request is refused, not applied.
    let late = inventory
        .client
        .post(inventory.url("/update_inventory"))
        .bearer_auth(store::config::DEMO_INVENTORY_API_KEY)
        .header("Idempotency-Key", &id)
        .json(&serde_json::json!({"order_id": id, "items": [{"sku": "TIN-CADDY", "quantity": 2}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 409);
    assert_eq!(inventory.on_hand("TIN-CADDY").await, before);
    assert_eq!(partial.store.order_status(&id).await, "rejected");
});

platform::db_test!(async fn a_lost_answer_is_compensated_so_a_rejected_order_keeps_no_stock(backend) {
    // The inventory is slower than the store's timeout: it applies the
    // order, but the store never hears so and rejects it.
    let sys = spawn_system(
        backend,
        Options {
            store: |c| {
                c.api.timeout = Duration::from_millis(300);
                c.api.backoff = c.api.backoff.clone().limited_to(1);
            },
            ..Options::default()
        },
    )
    .await;
    sys.inventory().set_on_hand("POT-GLASS", 15).await;
    sys.inventory().set_chaos(serde_json::json!({"latency_ms": 800})).await;

    let order: serde_json::Value = sys.store.post_order(&order_body("POT-GLASS", 4)).await.json().await.unwrap();
    let id = order_id(&order);
    assert_eq!(order["status"], "rejected");
    assert!(order["status_reason"].as_str().unwrap().contains("timed out"), "{order}");

    // Behind the store's back the slow call did land...
    eventually(Duration::from_secs(10), "the slow call reaches the inventory", || async {
        sys.inventory().outcome_of(&id).await
    })
    .await;

    // ...and once the inventory is healthy again the void undoes it.
    sys.inventory().set_chaos(serde_json::json!({})).await;
    advance_until(&sys.store_clock, Duration::from_secs(60), "the void is delivered", || async {
        (void_state(&sys.store, &id).await.as_deref() == Some("done")).then_some(())
    })
    .await;
    assert_eq!(sys.inventory().outcome_of(&id).await.as_deref(), Some("voided"));
    assert_eq!(sys.inventory().on_hand("POT-GLASS").await, 15);
    assert_eq!(sys.store.order_status(&id).await, "rejected");
});

//! Placing orders: validation, idempotency, reading them back.

use sqlx::Row;

use crate::helpers::*;

async fn count(store: &TestStore, table: &str) -> i64 {
    let sql = match table {
        "orders" => "SELECT COUNT(*) AS n FROM orders",
        "order_lines" => "SELECT COUNT(*) AS n FROM order_lines",
        "webhook_messages" => "SELECT COUNT(*) AS n FROM webhook_messages",
        _ => unreachable!(),
    };
    sqlx::query(sql)
        .fetch_one(store.state.ctx.db.pool())
        .await
        .unwrap()
        .get("n")
}

platform::db_test!(async fn the_catalog_lists_a_dozen_products_in_cents(backend) {
    let (store, _) = spawn_store(backend).await;
    let products = store.get_json("/api/products").await;
    let products = products.as_array().unwrap();
    assert_eq!(products.len(), 12);
    assert_eq!(products[0]["sku"], "TEA-SENCHA");
    assert_eq!(products[0]["price_cents"], 1250);
    assert!(products.iter().all(|p| p["price_cents"].is_i64()));
});

platform::db_test!(async fn an_order_is_priced_in_integer_cents_and_can_be_read_back(backend) {
    let (store, _) = spawn_store(backend).await;
    let body = serde_json::json!({
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "items": [{"sku": "TEA-SENCHA", "quantity": 3}, {"sku": "mug-blue", "quantity": 2}]
    });
    let r = store.post_order(&body).await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let order: serde_json::Value = r.json().await.unwrap();
    assert_eq!(order["total_cents"], 3 * 1250 + 2 * 1800);
    assert_eq!(order["items"][1]["sku"], "MUG-BLUE");
    assert_eq!(order["items"][1]["line_total_cents"], 3600);
    assert_eq!(order["status"], "pending"); // webhook mode, nobody subscribed
    assert_eq!(order["mode"], "webhook");
    assert!(order["id"].as_str().unwrap().starts_with("ord_"));
    let again = store.get_json(&location).await;
    assert_eq!(again["id"], order["id"]);
    assert_eq!(again["total_cents"], order["total_cents"]);
    assert!(again["timeline"].as_array().unwrap().is_empty());
});

platform::db_test!(async fn bad_bodies_get_a_clear_problem_and_store_nothing(backend) {
    let (store, _) = spawn_store(backend).await;
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("malformed JSON", "{\"customer\": ".into(), 400, "/problems/malformed-body"),
        ("not an object", "[1,2,3]".into(), 400, "/problems/malformed-body"),
        ("unknown SKU", order_body("NO-SUCH-THING", 1).to_string(), 422, "/problems/validation"),
        ("zero quantity", order_body("TEA-SENCHA", 0).to_string(), 422, "/problems/validation"),
        ("negative quantity", order_body("TEA-SENCHA", -2).to_string(), 422, "/problems/validation"),
        ("huge quantity", order_body("TEA-SENCHA", 1_000_000_000_000).to_string(), 422, "/problems/validation"),
        ("quantity 100", order_body("TEA-SENCHA", 100).to_string(), 422, "/problems/validation"),
        (
            "empty items",
            r#"{"customer":{"name":"A","email":"a@example.com"},"items":[]}"#.into(),
            422,
            "/problems/validation",
        ),
        (
            "no customer",
            r#"{"items":[{"sku":"TEA-SENCHA","quantity":1}]}"#.into(),
            422,
            "/problems/validation",
        ),
        (
            "oversized body",
            format!(
                r#"{{"customer":{{"name":"{}","email":"a@example.com"}},"items":[]}}"#,
                "x".repeat(100_000)
            ),
            413,
            "/problems/body-too-large",
        ),
    ];
    for (what, body, status, problem_type) in cases {
        let r = store
            .client
            .post(store.url("/api/orders"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{what}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{what}");
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["type"], problem_type, "{what}: {problem}");
        assert_eq!(problem["status"], status, "{what}");
        assert!(!problem["detail"].as_str().unwrap_or("").is_empty(), "{what}: {problem}");
    }
    // A wrong content type is refused too.
    let r = store
        .client
        .post(store.url("/api/orders"))
        .header("content-type", "text/plain")
        .body(order_body("TEA-SENCHA", 1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(count(&store, "orders").await, 0);
    assert_eq!(count(&store, "order_lines").await, 0);
    assert_eq!(count(&store, "webhook_messages").await, 0);
});

platform::db_test!(async fn validation_names_every_bad_field(backend) {
    let (store, _) = spawn_store(backend).await;
    let body = serde_json::json!({
        "customer": {"name": "", "email": "not-an-email"},
        "items": [{"sku": "TEA-SENCHA", "quantity": 0}, {"sku": "NOPE-NOPE", "quantity": 1}]
    });
    let problem: serde_json::Value = store.post_order(&body).await.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["customer.name", "customer.email", "items[0].quantity"]);
    // With the form fixed, the unknown SKU is reported by the catalog check.
    let body = serde_json::json!({
        "customer": {"name": "A", "email": "a@example.com"},
        "items": [{"sku": "TEA-SENCHA", "quantity": 1}, {"sku": "NOPE-NOPE", "quantity": 1}]
    });
    let problem: serde_json::Value = store.post_order(&body).await.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "items[1].sku");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("NOPE-NOPE"));
    assert_eq!(count(&store, "orders").await, 0);
});

platform::db_test!(async fn an_idempotency_key_replays_the_first_order(backend) {
    let (store, _) = spawn_store(backend).await;
    let send = |key: &'static str, quantity: i64| {
        let store = &store;
        async move {
            store
                .client
                .post(store.url("/api/orders"))
                .header("Idempotency-Key", key)
                .json(&order_body("TEA-ROOIBOS", quantity))
                .send()
                .await
                .unwrap()
        }
    };
    let first: serde_json::Value = send("key-1", 2).await.json().await.unwrap();
    let again = send("key-1", 2).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(count(&store, "orders").await, 1);
    assert_eq!(count(&store, "webhook_messages").await, 1);

    let reused = send("key-1", 3).await;
    assert_eq!(reused.status(), 422);
    let problem: serde_json::Value = reused.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/idempotency-key-reused");

    let other: serde_json::Value = send("key-2", 2).await.json().await.unwrap();
    assert_ne!(other["id"], first["id"]);
    assert_eq!(count(&store, "orders").await, 2);

    let bad = store
        .client
        .post(store.url("/api/orders"))
        .header("Idempotency-Key", "x".repeat(300))
        .json(&order_body("TEA-ROOIBOS", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(count(&store, "orders").await, 2);
});

platform::db_test!(async fn concurrent_requests_with_one_key_make_one_order(backend) {
    let (store, _) = spawn_store(backend).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let client = store.client.clone();
        let url = store.url("/api/orders");
        tasks.spawn(async move {
            let r = client
                .post(url)
                .header("Idempotency-Key", "double-click")
                .json(&order_body("TEA-OOLONG", 1))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(id) = tasks.join_next().await {
        ids.insert(id.unwrap());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(count(&store, "orders").await, 1);
});

platform::db_test!(async fn unknown_orders_and_routes_are_problem_json_404s(backend) {
    let (store, _) = spawn_store(backend).await;
    for path in ["/api/orders/ord_doesnotexist", "/api/orders/not-an-id", "/api/nothing-here", "/api/deliveries/dlv_x"] {
        let r = store.client.get(store.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
    }
});

platform::db_test!(async fn the_mode_switch_validates_and_persists(backend) {
    let (store, _) = spawn_store(backend).await;
    assert_eq!(store.get_json("/api/integration").await["mode"], "webhook");
    let r = store
        .client
        .put(store.url("/api/integration"))
        .json(&serde_json::json!({"mode": "carrier-pigeon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    store.set_mode("poll").await;
    assert_eq!(store.get_json("/api/integration").await["mode"], "poll");
    let order = place(&store, "TEA-ASSAM", 1).await;
    assert_eq!(order["mode"], "poll");
    // The stored mode survives a restart when the config does not set one.
    let db = store.stop().await;
    let (store, _) = restart_store(db, |_| {}).await;
    assert_eq!(store.get_json("/api/integration").await["mode"], "poll");
});

platform::db_test!(async fn a_known_path_with_the_wrong_method_is_405(backend) {
    let (store, _) = spawn_store(backend).await;
    let r = store.client.delete(store.url("/api/products")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = store.client.patch(store.url("/api/orders")).send().await.unwrap();
    assert_eq!(r.status(), 405);
});

platform::db_test!(async fn health_and_metrics_answer(backend) {
    let (store, _) = spawn_store(backend).await;
    let health = store.get_json("/healthz").await;
    assert_eq!(health["status"], "ok");
    place(&store, "TEA-ASSAM", 1).await;
    let metrics = store.client.get(store.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("pushpull_store_orders_placed_total{mode=\"webhook\"} 1"), "{metrics}");
    assert!(metrics.contains("pushpull_http_requests_total"), "{metrics}");
});

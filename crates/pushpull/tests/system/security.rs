//! Security end to end: the webhook secret the store hands the inventory
//! never appears in a recorded message, a list or a page — after the
//! subscription or after a rotation — and the inventory's own subscription
//! is the one that resolves webhook orders.

use contract::signing::WebhookSecret;

use crate::helpers::*;

fn push() -> Options {
    Options {
        mode: "webhook",
        inventory: subscribing,
        ..Options::default()
    }
}

/// The base64 part of each secret the inventory holds.
async fn secrets_held(sys: &System) -> Vec<String> {
    let held: Vec<WebhookSecret> =
        inventory::integration::webhook_secrets::stored(&sys.inventory().state.ctx.db)
            .await
            .unwrap();
    assert!(!held.is_empty(), "the inventory holds a secret");
    held.iter()
        .map(|s| s.expose().trim_start_matches("whsec_").to_owned())
        .collect()
}

async fn text(sys: &System, url: String) -> String {
    let r = sys.inventory().client.get(url).send().await.unwrap();
    assert!(r.status().is_success());
    r.text().await.unwrap()
}

/// Everything a person or a program can read about the messages, on both
/// sides.
async fn everything_shown(sys: &System) -> String {
    let inv = sys.inventory();
    let mut shown = String::new();
    for path in [
        "/api/messages?channel=subscribe",
        "/api/messages",
        "/messages",
        "/messages?channel=subscribe",
    ] {
        shown.push_str(&text(sys, inv.url(path)).await);
    }
    for path in [
        "/api/webhook-endpoints",
        "/settings",
        "/flow",
        "/api/deliveries",
    ] {
        shown.push_str(&text(sys, sys.store.url(path)).await);
    }
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT request_headers, request_body, response_body FROM messages")
            .fetch_all(inv.state.ctx.db.pool())
            .await
            .unwrap();
    for (headers, request, response) in rows {
        shown.push_str(&headers);
        shown.push_str(&request);
        shown.push_str(&response.unwrap_or_default());
    }
    shown
}

// Regression: `GET /api/messages?channel=subscribe` (and the /messages
// page) showed the store's answer to the subscription, secret included.
platform::db_test!(async fn the_webhook_secret_is_never_recorded_or_shown(backend) {
    let mut sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    let first = secrets_held(&sys).await;
    let shown = everything_shown(&sys).await;
    assert!(shown.contains("subscribe"), "the subscription is in the log");
    for secret in &first {
        assert!(!shown.contains(secret.as_str()), "the secret was shown");
    }

    // A wiped inventory subscribes again and gets a rotated secret: that
    // answer is not recorded either.
    sqlx::query("DELETE FROM webhook_secrets")
        .execute(sys.inventory().state.ctx.db.writer())
        .await
        .unwrap();
    sys.stop_inventory().await;
    sys.start_inventory().await;
    sys.wait_subscribed().await;
    let rotated = secrets_held(&sys).await;
    assert_ne!(rotated, first, "the secret was rotated");
    let log = text(&sys, sys.inventory().url("/api/messages?channel=subscribe")).await;
    assert!(log.contains("secret rotated"), "{log}");
    let shown = everything_shown(&sys).await;
    for secret in rotated.iter().chain(&first) {
        assert!(!shown.contains(secret.as_str()), "a secret was shown");
    }
    // The keys are not in the log either (only their hints).
    assert!(!shown.contains(contract::demo::DEMO_STORE_API_KEY));
    assert!(!shown.contains(contract::demo::DEMO_INVENTORY_API_KEY));
});

// Regression: the inventory's subscription is the resolver.
platform::db_test!(async fn the_inventory_subscribes_as_the_resolver(backend) {
    let sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    let endpoints = sys.store.get_json("/api/webhook-endpoints").await;
    let endpoints = endpoints.as_array().unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0]["role"], "resolver");
    let order = place(&sys.store, "TEA-OOLONG", 1).await;
    assert_eq!(settled(&sys.store, &order_id(&order)).await, "confirmed");
});

/// The checks of its secret the inventory has asked for, from its metrics.
async fn secret_checks(sys: &System) -> u64 {
    let metrics = text(sys, sys.inventory().url("/metrics")).await;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("pushpull_inventory_webhook_secret_checks_total "))
        .unwrap_or_else(|| panic!("no secret check counter: {metrics}"))
        .trim()
        .parse()
        .unwrap()
}

/// `n` webhooks signed with a secret nobody gave the inventory: each one
/// refused.
async fn forge(sys: &System, n: usize) {
    use platform::Clock;
    let forger = WebhookSecret::generate();
    let body = br#"{"type":"ping","timestamp":"2026-01-01T00:00:00Z","data":{}}"#;
    for i in 0..n {
        let id = format!("msg_forged{i}");
        let ts = sys.inventory_clock.now_ms() / 1000;
        let r = sys
            .inventory()
            .client
            .post(sys.inventory().url("/webhooks/store"))
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header(
                "webhook-signature",
                contract::signing::signature_header(std::slice::from_ref(&forger), &id, ts, body),
            )
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
}

// Regression: a signature that matches none of the inventory's secrets
// makes it check its secret against the store's — so a forger could try to
// make it hammer the store, or rotate. A flood asks for one check per
// interval (15 s of the inventory's clock), each check is one registration
// call, and none rotates: the fingerprints say the secret is current.
platform::db_test!(async fn forged_signatures_ask_for_one_check_per_interval_and_rotate_nothing(backend) {
    let sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    let signing = sys.signing_fingerprints().await;
    let held = secrets_held(&sys).await;
    assert_eq!(sys.subscription_log().await.len(), 1, "subscribed once");

    forge(&sys, 25).await;
    assert_eq!(secret_checks(&sys).await, 1, "the first forgery asked; the rest waited");
    let log = eventually(std::time::Duration::from_secs(10), "the check", || async {
        let log = sys.subscription_log().await;
        (log.len() == 2).then_some(log)
    })
    .await;
    assert!(log[1].contains("our secret is current"), "{log:?}");

    let interval = inventory::integration::webhook_secrets::CHECK_INTERVAL;
    sys.inventory_clock.advance(interval - std::time::Duration::from_millis(1));
    forge(&sys, 25).await;
    assert_eq!(secret_checks(&sys).await, 1, "not before the interval has passed");
    sys.inventory_clock.advance(std::time::Duration::from_millis(1));
    forge(&sys, 25).await;
    assert_eq!(secret_checks(&sys).await, 2);
    let log = eventually(std::time::Duration::from_secs(10), "the second check", || async {
        let log = sys.subscription_log().await;
        (log.len() == 3).then_some(log)
    })
    .await;
    assert!(log[2].contains("our secret is current"), "{log:?}");

    // Nothing was rotated, on either side.
    assert_eq!(sys.signing_fingerprints().await, signing);
    assert_eq!(secrets_held(&sys).await, held);
    assert!(!log.iter().any(|l| l.contains("rotat")), "{log:?}");
    // And push still works.
    let order = place(&sys.store, "TEA-OOLONG", 1).await;
    assert_eq!(settled(&sys.store, &order_id(&order)).await, "confirmed");
});

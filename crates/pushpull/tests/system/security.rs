//! Issue #10 end to end: the webhook secret the store hands the inventory
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
        inventory::integration::subscription::secrets(&sys.inventory().state.db)
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
            .fetch_all(inv.state.db.pool())
            .await
            .unwrap();
    for (headers, request, response) in rows {
        shown.push_str(&headers);
        shown.push_str(&request);
        shown.push_str(&response.unwrap_or_default());
    }
    shown
}

// Finding 1: `GET /api/messages?channel=subscribe` (and the /messages
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
        .execute(sys.inventory().state.db.writer())
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

// Finding 2, end to end: the inventory's subscription is the resolver.
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

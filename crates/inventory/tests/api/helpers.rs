use sqlx::Row;

use contract::signing::{WebhookSecret, signature_header};
pub use inventory::testing::TestInventory;
use platform::ManualClock;
use platform::testing::{TestBackend, TestDatabase};

pub const KEY: &str = contract::demo::DEMO_INVENTORY_API_KEY;

pub async fn spawn_inventory(backend: TestBackend) -> TestInventory {
    TestInventory::spawn(TestDatabase::create(backend).await, |_| {}).await
}

/// An inventory whose clock stands still (at the real time it was started),
/// so "301 seconds from now" means the same to the test and the receiver
/// however long the test takes.
pub async fn spawn_inventory_with_clock(
    backend: TestBackend,
    clock: &ManualClock,
) -> TestInventory {
    let clock = clock.shared();
    TestInventory::spawn(TestDatabase::create(backend).await, move |c| {
        c.clock = clock
    })
    .await
}

/// Gives the receiver a secret, as a subscription would, and returns it.
pub async fn install_secret(inv: &TestInventory) -> WebhookSecret {
    let secret = WebhookSecret::generate();
    sqlx::query("INSERT INTO webhook_secrets (secret, endpoint_id, store_url, added_at) VALUES ($1, 'whe_test', 'http://store', 0)")
        .bind(secret.expose())
        .execute(inv.state.ctx.db.pool())
        .await
        .unwrap();
    secret
}

pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// POSTs a webhook signed with `secret` at `timestamp`.
pub async fn send_webhook(
    inv: &TestInventory,
    secret: &WebhookSecret,
    id: &str,
    timestamp: i64,
    body: &[u8],
    content_type: &str,
) -> reqwest::Response {
    inv.client
        .post(inv.url("/webhooks/store"))
        .header("content-type", content_type)
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature_header(std::slice::from_ref(secret), id, timestamp, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

/// An `order.created` event for `order_id` as the store would send it.
pub fn order_event(order_id: &str, sku: &str, quantity: i64) -> serde_json::Value {
    serde_json::json!({
        "type": "order.created",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "data": {
            "id": order_id,
            "status": "pending",
            "mode": "webhook",
            "customer": {"name": "Ada", "email": "ada@example.com"},
            "items": [{"sku": sku, "name": "x", "quantity": quantity, "unit_price_cents": 100, "line_total_cents": 100 * quantity}],
            "total_cents": 100 * quantity,
            "created_at": "2026-01-01T00:00:00.000Z"
        }
    })
}

pub async fn update_inventory(
    inv: &TestInventory,
    key: Option<&str>,
    idem: Option<&str>,
    body: &serde_json::Value,
) -> reqwest::Response {
    let mut r = inv.client.post(inv.url("/update_inventory")).json(body);
    if let Some(key) = key {
        r = r.bearer_auth(key);
    }
    if let Some(idem) = idem {
        r = r.header("Idempotency-Key", idem);
    }
    r.send().await.unwrap()
}

pub fn request(order_id: &str, items: &[(&str, i64)]) -> serde_json::Value {
    serde_json::json!({
        "order_id": order_id,
        "items": items.iter().map(|(sku, q)| serde_json::json!({"sku": sku, "quantity": q})).collect::<Vec<_>>(),
    })
}

pub async fn applied_count(inv: &TestInventory) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM applied_orders")
        .fetch_one(inv.state.ctx.db.pool())
        .await
        .unwrap()
        .get("n")
}

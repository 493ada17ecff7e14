//! Starting a store for page tests, and speaking HTML forms to it.

use platform::testing::{TestBackend, TestDatabase};
use store::testing::TestStore;

pub use platform::testing::eventually;

/// A store alone. Its inventory address points at a port nobody listens
/// on, so api-mode calls fail fast and webhooks have nowhere to go.
pub async fn spawn_store(
    backend: TestBackend,
    configure: impl FnOnce(&mut store::StoreConfig),
) -> TestStore {
    let dead = platform::testing::free_port();
    TestStore::spawn(TestDatabase::create(backend).await, move |c| {
        c.inventory_url = format!("http://127.0.0.1:{dead}");
        c.inventory_public_url = "http://127.0.0.1:9".into();
        configure(c);
    })
    .await
}

pub use platform::testing::Page;

pub async fn get(store: &TestStore, path: &str) -> Page {
    store.get_page(path).await
}

/// Posts a form as a browser does; redirects are not followed, so the test
/// sees the 303 and its target.
pub async fn post_form(store: &TestStore, path: &str, fields: &[(&str, &str)]) -> Page {
    store.post_form(path, fields).await
}

/// The order id a form post redirected to.
pub fn order_id_from(location: &str) -> String {
    location
        .strip_prefix("/orders/")
        .unwrap_or_else(|| panic!("not an order page: {location}"))
        .to_owned()
}

/// An order form: one product and the customer.
pub fn order_form<'a>(
    name: &'a str,
    email: &'a str,
    sku_field: &'a str,
    quantity: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![("name", name), ("email", email), (sku_field, quantity)]
}

/// Reads the feed as the inventory's poller does, with the demo's feed
/// key; returns the next cursor.
pub async fn poll(store: &TestStore, after: Option<&str>) -> String {
    let query = after.map(|c| format!("&after={c}")).unwrap_or_default();
    let page: serde_json::Value = store
        .client
        .get(store.url(&format!("/api/orders?limit=50{query}")))
        .bearer_auth(contract::demo::DEMO_STORE_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["iterator"].as_str().unwrap().to_owned()
}

/// Acknowledges a polled order as the inventory does: applied, now.
pub async fn acknowledge(store: &TestStore, order_id: &str) {
    let r = store
        .client
        .post(store.url(&format!("/api/orders/{order_id}/acknowledgement")))
        .bearer_auth(contract::demo::DEMO_STORE_API_KEY)
        .json(&serde_json::json!({
            "outcome": "applied",
            "channel": "poll",
            "applied_at": store.state.ctx.clock.now(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "acknowledging {order_id}");
}

/// A store whose clock moves only when the test moves it.
pub async fn spawn_store_with_clock(backend: TestBackend) -> (TestStore, platform::ManualClock) {
    let clock = platform::ManualClock::new();
    let shared = clock.shared();
    let store = spawn_store(backend, move |c| c.clock = shared).await;
    (store, clock)
}

/// Posts a form as a page of another web site would make a browser post it.
pub async fn post_form_cross_site(store: &TestStore, path: &str) -> reqwest::Response {
    store
        .client
        .post(store.url(path))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap()
}

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

/// A page's status, content type and body.
pub struct Page {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn assert_contains(&self, needle: &str) {
        assert!(
            self.body.contains(needle),
            "expected {needle:?} in the page:\n{}",
            self.body
        );
    }

    pub fn assert_lacks(&self, needle: &str) {
        assert!(
            !self.body.contains(needle),
            "did not expect {needle:?} in the page:\n{}",
            self.body
        );
    }
}

async fn page(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Page {
        status,
        content_type: header("content-type").unwrap_or_default(),
        location: header("location"),
        body: response.text().await.expect("a body"),
        headers,
    }
}

pub async fn get(store: &TestStore, path: &str) -> Page {
    page(store.client.get(store.url(path)).send().await.expect("GET")).await
}

/// Posts a form as a browser does (`application/x-www-form-urlencoded`).
/// Redirects are not followed, so the test sees the 303 and its target.
pub async fn post_form(store: &TestStore, path: &str, fields: &[(&str, &str)]) -> Page {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let response = store
        .client
        .post(store.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST");
    page(response).await
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

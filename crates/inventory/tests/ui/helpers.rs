//! Starting an inventory for page tests, and speaking HTML forms to it.

use inventory::testing::TestInventory;
use platform::testing::{TestBackend, TestDatabase, free_port};

/// Where the pages say the store is (nobody listens there).
pub const STORE: &str = "http://127.0.0.1:9";

/// An inventory alone, on a known port so its pages can name themselves.
pub async fn spawn_inventory(backend: TestBackend) -> TestInventory {
    let port = free_port();
    TestInventory::spawn(TestDatabase::create(backend).await, move |c| {
        c.port = port;
        c.public_url = format!("http://127.0.0.1:{port}");
        c.store_public_url = STORE.into();
        c.store_url = format!("http://127.0.0.1:{}", free_port());
    })
    .await
}

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

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
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

pub async fn get(inventory: &TestInventory, path: &str) -> Page {
    page(client().get(inventory.url(path)).send().await.expect("GET")).await
}

pub async fn post_form(inventory: &TestInventory, path: &str, fields: &[(&str, &str)]) -> Page {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let response = client()
        .post(inventory.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST");
    page(response).await
}

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

pub use platform::testing::Page;

pub async fn get(inventory: &TestInventory, path: &str) -> Page {
    inventory.get_page(path).await
}

/// Posts a form as a browser does; redirects are not followed, so the test
/// sees the 303 and its target.
pub async fn post_form(inventory: &TestInventory, path: &str, fields: &[(&str, &str)]) -> Page {
    inventory.post_form(path, fields).await
}

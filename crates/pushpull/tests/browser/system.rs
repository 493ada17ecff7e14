//! The store and the inventory, wired to each other as `cargo run` wires
//! them — each on its own port with its own fresh SQLite database, the
//! store's webhook retries quick enough to watch, the inventory subscribed
//! to the store's webhooks and polling its feed.

use std::time::Duration;

use inventory::testing::TestInventory;
use platform::testing::{TestBackend, TestDatabase, eventually, free_port};
use store::testing::TestStore;

pub struct System {
    pub store: TestStore,
    pub inventory: TestInventory,
}

impl System {
    /// A page of the store, as a full URL.
    pub fn store(&self, path: &str) -> String {
        self.store.url(path)
    }

    /// A page of the inventory, as a full URL.
    pub fn inventory(&self, path: &str) -> String {
        self.inventory.url(path)
    }
}

/// Starts both services in `mode`, and returns once the inventory has
/// subscribed to the store's webhooks.
pub async fn spawn_system(mode: &str) -> System {
    let store_port = free_port();
    let inventory_port = free_port();
    let store_url = format!("http://127.0.0.1:{store_port}");
    let inventory_url = format!("http://127.0.0.1:{inventory_port}");

    let (s, i) = (store_url.clone(), inventory_url.clone());
    let store = TestStore::spawn(TestDatabase::create(TestBackend::Sqlite).await, move |c| {
        c.port = store_port;
        c.public_url = s;
        c.inventory_url = i.clone();
        c.inventory_public_url = i;
        // Quick retries, no jitter: a failed webhook is retried soon and
        // predictably (the inventory's "down" also says Retry-After: 5).
        c.webhook.retry_schedule = "200ms,500ms,1s,1s,2s,2s,5s,5s,5s,5s"
            .parse()
            .expect("a schedule");
        c.webhook.jitter = 0.0;
        c.webhook.sweep_interval = Duration::from_millis(500);
    })
    .await;
    store.set_mode(mode).await;

    let (s, i) = (store_url.clone(), inventory_url.clone());
    let inventory =
        TestInventory::spawn(TestDatabase::create(TestBackend::Sqlite).await, move |c| {
            c.port = inventory_port;
            c.url = i.clone();
            c.public_url = i;
            c.store_url = s.clone();
            c.store_public_url = s;
            c.subscribe = true;
            c.poll.paused = false;
            c.poll.interval = Duration::from_millis(400);
        })
        .await;

    eventually(
        Duration::from_secs(20),
        "the inventory to subscribe to the store's webhooks",
        || async {
            inventory::integration::subscription::current(&inventory.state.db)
                .await
                .ok()
                .flatten()
                .map(|_| ())
        },
    )
    .await;
    System { store, inventory }
}

//! `spawn_system`: both services, wired to each other, each with its own
//! fresh database and its own manual clock.

use std::time::Duration;

use inventory::testing::TestInventory;
use platform::ManualClock;
use platform::testing::{TestBackend, TestDatabase, free_port};
use store::testing::TestStore;

pub use platform::testing::eventually;
pub use store::testing::order_body;

pub struct Options {
    pub mode: &'static str,
    pub store: fn(&mut store::StoreConfig),
    pub inventory: fn(&mut inventory::InventoryConfig),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: "api",
            store: |_| {},
            inventory: |_| {},
        }
    }
}

/// Inventory settings for push: subscribe to the store's webhooks on start.
pub fn subscribing(c: &mut inventory::InventoryConfig) {
    c.subscribe = true;
}

/// Inventory settings for pull: poll every second (of its manual clock).
pub fn polling(c: &mut inventory::InventoryConfig) {
    c.poll.paused = false;
    c.poll.interval = Duration::from_secs(1);
}

/// The store, and an inventory that may be stopped and started again on
/// the port the store expects.
pub struct System {
    pub store: TestStore,
    pub store_clock: ManualClock,
    inventory: Option<TestInventory>,
    inventory_db: Option<TestDatabase>,
    pub inventory_clock: ManualClock,
    pub inventory_port: u16,
    configure_inventory: fn(&mut inventory::InventoryConfig),
}

impl System {
    pub fn inventory(&self) -> &TestInventory {
        self.inventory.as_ref().expect("the inventory is running")
    }

    pub async fn start_inventory(&mut self) -> &TestInventory {
        let db = self.inventory_db.take().expect("the inventory is stopped");
        let (port, store_url, configure) = (
            self.inventory_port,
            self.store.address.clone(),
            self.configure_inventory,
        );
        let clock = self.inventory_clock.shared();
        let inventory = TestInventory::spawn(db, move |c| {
            c.port = port;
            c.url = format!("http://127.0.0.1:{port}");
            c.public_url = c.url.clone();
            c.store_url = store_url.clone();
            c.store_public_url = store_url;
            c.clock = clock;
            configure(c);
        })
        .await;
        self.inventory = Some(inventory);
        self.inventory()
    }

    pub async fn stop_inventory(&mut self) {
        let inventory = self.inventory.take().expect("the inventory is running");
        self.inventory_db = Some(inventory.stop().await);
    }

    /// Stops the store and starts a new one on the same database (the
    /// mode is kept: it is stored, and the restart does not set one).
    pub async fn restart_store(self, configure: fn(&mut store::StoreConfig)) -> System {
        let System {
            store,
            inventory,
            inventory_db,
            inventory_clock,
            inventory_port,
            configure_inventory,
            ..
        } = self;
        let db = store.stop().await;
        let (store, store_clock) = start_store(db, inventory_port, configure).await;
        System {
            store,
            store_clock,
            inventory,
            inventory_db,
            inventory_clock,
            inventory_port,
            configure_inventory,
        }
    }

    /// Waits until the inventory is subscribed to the store's webhooks.
    pub async fn wait_subscribed(&self) {
        eventually(
            Duration::from_secs(10),
            "the inventory subscribes",
            || async {
                let endpoints = self.store.get_json("/api/webhook-endpoints").await;
                let registered = !endpoints.as_array().unwrap().is_empty();
                let keeps_secret =
                    inventory::integration::subscription::current(&self.inventory().state.ctx.db)
                        .await
                        .unwrap()
                        .is_some();
                (registered && keeps_secret).then_some(())
            },
        )
        .await;
    }

    /// The inventory's endpoint at the store (the only one), as the API
    /// shows it.
    pub async fn the_endpoint(&self) -> serde_json::Value {
        let endpoints = self.store.get_json("/api/webhook-endpoints").await;
        assert_eq!(endpoints.as_array().unwrap().len(), 1, "{endpoints}");
        endpoints[0].clone()
    }

    /// The fingerprints of the secrets the store signs with now.
    pub async fn signing_fingerprints(&self) -> Vec<String> {
        let endpoint = self.the_endpoint().await;
        endpoint["secret_fingerprints"]
            .as_array()
            .unwrap_or_else(|| panic!("no fingerprints: {endpoint}"))
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect()
    }

    /// Rotates the inventory's secret at the store as a person may, with
    /// no grace period: the secret the inventory holds stops signing at
    /// once. Returns the new secret (which only the caller has).
    pub async fn rotate_without_grace(&self) -> String {
        let id = self.the_endpoint().await["id"].as_str().unwrap().to_owned();
        let r = self
            .store
            .client
            .post(
                self.store
                    .url(&format!("/api/webhook-endpoints/{id}/rotate-secret")),
            )
            .json(&serde_json::json!({"grace_seconds": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let rotated: serde_json::Value = r.json().await.unwrap();
        rotated["secret"].as_str().unwrap().to_owned()
    }

    /// Whether the inventory holds one of the secrets the store signs with
    /// now.
    pub async fn holds_a_current_secret(&self) -> bool {
        let current = self.signing_fingerprints().await;
        inventory::integration::webhook_secrets::stored(&self.inventory().state.ctx.db)
            .await
            .unwrap()
            .iter()
            .any(|held| current.contains(&held.fingerprint()))
    }

    /// What the inventory's log says of each of its calls to the store
    /// about its subscription (registrations and rotations), oldest first.
    pub async fn subscription_log(&self) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT verdict || ': ' || COALESCE(verdict_detail, '') FROM messages \
             WHERE channel = 'subscribe' ORDER BY at, id",
        )
        .fetch_all(self.inventory().state.ctx.db.pool())
        .await
        .unwrap()
    }

    /// Waits until the welcome ping (sent a second after registration, on
    /// the store's clock) has been delivered, so it does not take part in
    /// what a test does next.
    pub async fn wait_pinged(&self) {
        advance_until(
            &self.store_clock,
            Duration::from_millis(500),
            "the welcome ping is delivered",
            || async {
                let pings = self.store.get_json("/api/deliveries?state=succeeded").await;
                pings
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d["event_type"] == "ping")
                    .then_some(())
            },
        )
        .await;
    }
}

async fn start_store(
    db: TestDatabase,
    inventory_port: u16,
    configure: fn(&mut store::StoreConfig),
) -> (TestStore, ManualClock) {
    let clock = ManualClock::new();
    let shared = clock.shared();
    let store = TestStore::spawn(db, move |c| {
        c.inventory_url = format!("http://127.0.0.1:{inventory_port}");
        c.inventory_public_url = c.inventory_url.clone();
        c.clock = shared;
        c.webhook.jitter = 0.0;
        configure(c);
    })
    .await;
    (store, clock)
}

/// The store in `options.mode`, and nothing listening on the inventory's
/// port yet.
pub async fn spawn_store_only(backend: TestBackend, options: Options) -> System {
    let store_db = TestDatabase::create(backend).await;
    let inventory_db = TestDatabase::create(backend).await;
    let inventory_port = free_port();
    let (store, store_clock) = start_store(store_db, inventory_port, options.store).await;
    store.set_mode(options.mode).await;
    System {
        store,
        store_clock,
        inventory: None,
        inventory_db: Some(inventory_db),
        inventory_clock: ManualClock::new(),
        inventory_port,
        configure_inventory: options.inventory,
    }
}

/// Both services, running.
pub async fn spawn_system(backend: TestBackend, options: Options) -> System {
    let mut system = spawn_store_only(backend, options).await;
    system.start_inventory().await;
    system
}

/// Moves `clock` forward by `step` until `check` holds: the background
/// workers sleep on that clock, so each step releases whatever they
/// scheduled (a retry, a void, a poll) — without the test waiting for real
/// time to pass.
pub async fn advance_until<T, F, Fut>(
    clock: &ManualClock,
    step: Duration,
    what: &str,
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually(Duration::from_secs(20), what, || {
        clock.advance(step);
        check()
    })
    .await
}

pub fn order_id(order: &serde_json::Value) -> String {
    order["id"].as_str().expect("order id").to_owned()
}

pub async fn place(store: &TestStore, sku: &str, quantity: i64) -> serde_json::Value {
    let r = store.post_order(&order_body(sku, quantity)).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// Waits until the order has left `pending`, and returns its status.
pub async fn settled(store: &TestStore, id: &str) -> String {
    eventually(
        Duration::from_secs(10),
        &format!("{id} settles"),
        || async {
            let status = store.order_status(id).await;
            (status != "pending").then_some(status)
        },
    )
    .await
}
